"""Metrics over stored values: roll-ups, analysis, and formula (derived) KPIs.

Formula KPIs are computed when read, from their inputs' current values, so a
derived number is never stale after an input changes; nothing is stored for
them. Formulas are checked at save time (:meth:`MetricsService.check_formula`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from kpidesk.domain.enums import Aggregation, Frequency, Unit
from kpidesk.errors import ValidationError
from kpidesk.services.changes import Changes
from kpidesk.services.kpi_service import KpiService
from kpidesk.storage.measurements import read_series
from kpidesk.storage.models import Kpi

if TYPE_CHECKING:
    import pandas as pd

    from kpidesk.domain.analytics import ForecastResult, TrendResult
    from kpidesk.domain.catalog import Catalog
    from kpidesk.storage.db import Database


@dataclass
class KpiAnalysis:
    """Everything the trend views show for one KPI at one period length."""

    kpi_id: int
    frequency: str
    series: pd.Series
    partial: pd.Series
    vs_previous: pd.DataFrame
    vs_last_year: pd.DataFrame
    trend: TrendResult
    anomalies: pd.DataFrame
    forecast: ForecastResult | None = None
    notes: list[str] = field(default_factory=list)


def roll_up_kpi(kpi: Kpi, frame: pd.DataFrame, target: Frequency | str, catalog: Catalog, *,
                fiscal_year_start: int = 1, notes: list[str] | None = None) -> pd.Series:
    """A stored KPI's values (``frame`` indexed by period start) rolled up to ``target`` by its aggregation.

    Ratio KPIs are recomputed from numerator / denominator (×100 for percent
    units; churn-type ratios divide by the opening balance, see
    :func:`kpidesk.domain.analytics.rollup`); where those parts are missing the
    values are averaged and, given ``notes``, a note says so. The KPI chart and
    :meth:`MetricsService.series` both roll up through here.
    """
    from kpidesk.domain.analytics import rollup

    aggregation = Aggregation(kpi.aggregation)
    if aggregation is Aggregation.RATIO:
        parts = frame[["numerator", "denominator"]]
        if len(frame) and parts.notna().all(axis=None):
            scale = 100.0 if kpi.unit == Unit.PERCENT else 1.0
            result = rollup(parts, target, aggregation, scale=scale, fiscal_year_start=fiscal_year_start,
                            opening_denominator=catalog.opening_denominator(kpi.catalog_key))
            return result.rename(kpi.key)
        if notes is not None and len(frame):
            notes.append(f"{kpi.name}: values without numerator/denominator were averaged, not recomputed.")
        aggregation = Aggregation.MEAN
    return rollup(frame["value"], target, aggregation, fiscal_year_start=fiscal_year_start).rename(kpi.key)


class MetricsService:
    def __init__(self, db: Database, catalog: Catalog) -> None:
        self._db = db
        self._catalog = catalog
        self._kpis = KpiService(db, catalog)

    # ------------------------------------------------------------ series

    def _product_kpis(self, product_id: int) -> list[Kpi]:
        with self._db.session() as session:
            return list(session.exec(select(Kpi).where(Kpi.product_id == product_id)).all())

    def series(
        self,
        kpi_id: int,
        frequency: Frequency | str | None = None,
        *,
        segment: str = "",
        fiscal_year_start: int = 1,
        notes: list[str] | None = None,
    ) -> pd.Series:
        """A KPI's values rolled up to ``frequency`` (default: the KPI's own) by its aggregation.

        ``frequency`` may also be ``"fiscal_year"`` (starting in ``fiscal_year_start``).
        Ratio KPIs are recomputed from stored numerator / denominator (×100 for
        percent units); where those parts are missing the values are averaged
        and a note says so. Formula KPIs are evaluated from their inputs.
        """
        kpi = self._kpis.get(kpi_id)
        target = frequency or kpi.frequency
        if kpi.formula:
            return self.formula_series(kpi_id, target, segment=segment)[0]
        frame = read_series(self._db, kpi_id, segments=(segment,)).set_index("period_start")
        return roll_up_kpi(kpi, frame, target, self._catalog, fiscal_year_start=fiscal_year_start, notes=notes)

    def to_date(self, kpi_id: int, period: Frequency | str, *, fiscal_year_start: int = 1) -> pd.Series:
        """Value to date within each ``period`` (MTD / QTD / YTD) at the KPI's own frequency.

        Uses the KPI's aggregation: running sum, running mean, running min / max,
        or for ratio KPIs the running Σ numerator / Σ denominator (×100 for percent).
        """
        from kpidesk.domain.analytics import cumulative_to_date

        kpi = self._kpis.get(kpi_id)
        if kpi.formula:
            raise ValidationError(
                f"{kpi.name} is computed by a formula; to-date values are for measured KPIs."
            )
        frame = read_series(self._db, kpi_id).set_index("period_start")
        aggregation = Aggregation(kpi.aggregation)
        if (
            aggregation is Aggregation.RATIO
            and len(frame)
            and frame[["numerator", "denominator"]].notna().all(axis=None)
        ):
            scale = 100.0 if kpi.unit == Unit.PERCENT else 1.0
            return cumulative_to_date(
                frame[["numerator", "denominator"]],
                period,
                aggregation,
                scale=scale,
                fiscal_year_start=fiscal_year_start,
            ).rename(kpi.key)
        if aggregation is Aggregation.RATIO:
            aggregation = Aggregation.MEAN
        return cumulative_to_date(
            frame["value"], period, aggregation, fiscal_year_start=fiscal_year_start
        ).rename(kpi.key)

    # ------------------------------------------------------------ formulas

    def check_formula(self, product_id: int, key: str, text: str) -> Changes:
        """Save-time check of a formula for KPI ``key`` of a product (syntax, names, cycles).

        Raises :class:`kpidesk.domain.formula.FormulaError` (a ValidationError) pointing at the problem.
        """
        from kpidesk.domain.formula import validate_formula

        kpis = self._product_kpis(product_id)
        others = {k.key: k.formula for k in kpis if k.formula and k.key != key}
        validate_formula(key, text, {k.key for k in kpis}, others)
        return Changes()

    def set_formula(self, kpi_id: int, text: str) -> Changes:
        """Check then store a KPI's formula (empty text removes it)."""
        kpi = self._kpis.get(kpi_id)
        if text.strip():
            self.check_formula(kpi.product_id, kpi.key, text)
        _kpi, changes = self._kpis.update(kpi_id, formula=text.strip() or None)
        return changes

    def formula_series(
        self, kpi_id: int, frequency: Frequency | str | None = None, *, segment: str = ""
    ) -> tuple[pd.Series, pd.Series]:
        """Evaluate a formula KPI at ``frequency``: (values, division-by-zero flags).

        Each input is first rolled up to the same frequency with its own
        aggregation, so ``dau / mau`` over months divides monthly figures.
        """
        import pandas as pd

        from kpidesk.domain.formula import evaluate_formula, parse_formula, resolve_order

        kpi = self._kpis.get(kpi_id)
        if not kpi.formula:
            raise ValidationError(f"{kpi.name} has no formula.")
        target = frequency or kpi.frequency
        by_key = {k.key: k for k in self._product_kpis(kpi.product_id)}
        formulas = {k.key: k.formula for k in by_key.values() if k.formula}
        order = resolve_order(formulas, by_key.keys())
        needed = {kpi.key}
        for key in reversed(order):  # every formula KPI this one reads, directly or not
            if key in needed:
                needed |= parse_formula(formulas[key]).names
        values: dict[str, pd.Series] = {}
        for key in order:
            if key not in needed:
                continue
            for name in parse_formula(formulas[key]).names:
                if name not in values and name not in formulas:
                    values[name] = self.series(by_key[name].id, target, segment=segment)  # type: ignore[arg-type]
        # lag(x, n) and rolling_mean(x, n) count positions: every period between the first and
        # the last value gets a row, so "lag(revenue, 1)" after a missing month is missing, not
        # the month before the gap
        measured = pd.DatetimeIndex([])
        for series in values.values():
            measured = measured.union(pd.DatetimeIndex(series.index))
        grid = _period_grid(measured, target)
        values = {name: series.reindex(grid) for name, series in values.items()}
        flags = None
        for key in order:
            if key not in needed:
                continue
            result = evaluate_formula(formulas[key], values)
            values[key] = result.values
            if key == kpi.key:
                flags = result.division_by_zero
        assert flags is not None
        keep = values[kpi.key].index.isin(measured)
        return values[kpi.key][keep].rename(kpi.key), flags[keep]

    # ------------------------------------------------------------ analysis

    def _so_far_periods(self, kpi_id: int, frequency: Frequency) -> pd.DatetimeIndex:
        """Starts (at ``frequency``) of the periods holding a value noted "so far: …"."""
        import pandas as pd

        from kpidesk.domain.analytics import period_keys
        from kpidesk.storage.measurements import param_style

        with self._db.raw() as dbapi:
            p = param_style(dbapi)
            cursor = dbapi.cursor()
            cursor.execute(
                f"SELECT period_start FROM measurement WHERE kpi_id = {p} AND note LIKE {p}",
                (kpi_id, "so far:%"),
            )
            days = [str(row[0]) for row in cursor.fetchall()]
            cursor.close()
        if not days:
            return pd.DatetimeIndex([])
        return period_keys(pd.DatetimeIndex(pd.to_datetime(days)), frequency)

    def _recorded_frequency(self, kpi_id: int) -> str | None:
        """The finest frequency the KPI's stored values have (None when it has none)."""
        from kpidesk.storage.measurements import param_style

        with self._db.raw() as dbapi:
            cursor = dbapi.cursor()
            cursor.execute(
                f"SELECT DISTINCT frequency FROM measurement WHERE kpi_id = {param_style(dbapi)}", (kpi_id,)
            )
            found = {str(row[0]) for row in cursor.fetchall()}
            cursor.close()
        for name in ("day", "week", "month", "quarter", "year"):
            if name in found:
                return name
        return None

    def analyse(
        self,
        kpi_id: int,
        frequency: Frequency | str | None = None,
        *,
        as_of: dt.date | None = None,
        horizon: int = 0,
        fiscal_year_start: int = 1,
    ) -> KpiAnalysis:
        """Roll-up, partial periods, changes, trend, anomalies and (optionally) a forecast.

        The period containing ``as_of`` (default today) is marked partial: it is
        excluded from the trend, the anomaly scan and the forecast fit.
        ``frequency="fiscal_year"`` rolls up to fiscal years starting in month
        ``fiscal_year_start``.
        """
        import pandas as pd

        from kpidesk.domain.analytics import (
            FISCAL_YEAR,
            change_vs_last_year,
            change_vs_previous,
            detect_anomalies,
            forecast,
            partial_mask,
            trend,
        )

        kpi = self._kpis.get(kpi_id)
        notes: list[str] = []
        rank = {"day": 0, "week": 1, "month": 2, "quarter": 3, "year": 4, FISCAL_YEAR: 4}
        wanted = str(getattr(frequency, "value", frequency or kpi.frequency))
        recorded = self._recorded_frequency(kpi_id) if not kpi.formula else None
        if recorded is not None and rank[wanted] < rank[recorded]:
            # a monthly value cannot be split into weeks or days: it would land, whole, on the
            # week of the 1st and read as that week's figure
            raise ValidationError(
                f"{kpi.name} is recorded by {recorded}; it can be shown by {recorded} "
                f"or a longer period, not by {wanted.replace('_', ' ')}."
            )
        if frequency == FISCAL_YEAR:
            # a fiscal year is a 12-month period with another first month: every
            # later step (partial, last year, trend, forecast) treats it as a year
            values = self.series(kpi_id, FISCAL_YEAR, notes=notes, fiscal_year_start=fiscal_year_start)
            target = Frequency.YEAR
        else:
            target = Frequency(frequency or kpi.frequency)
            values = self.series(kpi_id, target, notes=notes)
        today = as_of or dt.date.today()
        partial = partial_mask(values.index, target, today)
        # a data source whose export ended inside a period marked it "so far"
        incomplete = self._so_far_periods(kpi_id, target)
        if len(incomplete):
            partial = partial | pd.Series(values.index.isin(incomplete), index=values.index)
        complete = values[~partial.to_numpy()]
        band = (
            (kpi.band_low, kpi.band_high) if kpi.band_low is not None and kpi.band_high is not None else None
        )
        fitted: Any = None
        if horizon > 0:
            try:
                fitted = forecast(complete, target, horizon)
            except ValidationError as exc:
                notes.append(exc.message)
        return KpiAnalysis(
            kpi_id=kpi_id,
            frequency=str(frequency) if frequency == FISCAL_YEAR else target.value,
            series=values,
            partial=partial,
            vs_previous=change_vs_previous(values, kpi.direction, band=band, partial=partial, frequency=target),
            vs_last_year=change_vs_last_year(values, target, kpi.direction, band=band, partial=partial),
            trend=trend(complete, frequency=target.value),
            anomalies=detect_anomalies(complete, frequency=target, window=min(28, max(3, len(complete) // 2)))
            if len(complete) >= 6
            else detect_anomalies(complete.iloc[:0], frequency=target),
            forecast=fitted,
            notes=notes,
        )


def _period_grid(index: pd.DatetimeIndex, frequency: Frequency | str) -> pd.DatetimeIndex:
    """Every period start from the first to the last of ``index`` at ``frequency``
    (a fiscal year steps by one year from its own first month)."""
    import pandas as pd

    if len(index) < 2:
        return index.sort_values()
    step = {
        "day": pd.DateOffset(days=1),
        "week": pd.DateOffset(weeks=1),
        "month": pd.DateOffset(months=1),
        "quarter": pd.DateOffset(months=3),
        "year": pd.DateOffset(years=1),
        "fiscal_year": pd.DateOffset(years=1),
    }[str(getattr(frequency, "value", frequency))]
    grid = pd.date_range(index.min(), index.max(), freq=step)
    return grid.union(index)

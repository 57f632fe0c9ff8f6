"""Explain the movement of KPIs: read the workspace, run the explain domain.

``ExplainService(db).explain("revenue", "2026-Q3")`` returns an
:class:`~kpidesk.domain.explain.Explanation` (headline, breakdowns by
segment kind with ranked drivers, formula inputs for derived KPIs, and the
annotations and anomalies dated in either period). ``explain_many`` does a
list of KPIs in one read and one vectorised pass, which is what the review
pack calls; ``biggest_movers`` picks the KPIs that moved most and explains
them. Nothing here writes to the database.
"""

from __future__ import annotations

import ast
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from kpidesk.domain.enums import Frequency
from kpidesk.domain.explain import (
    Compare,
    ContextNote,
    Explanation,
    KpiSpec,
    Window,
    explain_frame,
    parse_period,
)
from kpidesk.domain.explain.wording import currency_symbol, format_amount
from kpidesk.domain.periods import period_label
from kpidesk.errors import ValidationError
from kpidesk.storage.db import Database
from kpidesk.storage.measurements import param_style
from kpidesk.storage.models import Annotation, Kpi

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# Shorter first: a period can only be explained at the KPI's frequency or longer.
FREQUENCY_ORDER = [Frequency.DAY, Frequency.WEEK, Frequency.MONTH, Frequency.QUARTER, Frequency.YEAR]
# Formula functions that look at other periods: their inputs are not one value per period.
HISTORY_FUNCTIONS = frozenset({"lag", "rolling_mean"})


def formula_callables(text: str) -> tuple[Any, Any, tuple[str, ...]]:
    """A derived KPI's formula as (scalar callable, array callable, input names).

    Both evaluate through the formula module's safe evaluator, so a division
    by zero gives NaN and the attribution reports it. Raises ValidationError
    for a formula using ``lag`` / ``rolling_mean`` (its inputs span several
    periods, so one value per input and period cannot explain it).
    """
    import numpy as np
    import pandas as pd

    from kpidesk.domain.formula import evaluate_formula, parse_formula

    parsed = parse_formula(text)
    for node in ast.walk(parsed.tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in HISTORY_FUNCTIONS:
            raise ValidationError(
                f"The formula '{text}' looks at other periods ({node.func.id}), so its change "  # type: ignore[attr-defined]
                "cannot be split between its inputs."
            )
    names = tuple(sorted(parsed.names))

    def on_arrays(points: dict[str, np.ndarray]) -> np.ndarray:
        size = len(next(iter(points.values()))) if points else 1
        index = pd.RangeIndex(size)
        series = {k: pd.Series(points[k], index=index) for k in names}
        if not names:
            series = {"_": pd.Series(np.zeros(size), index=index)}
        return evaluate_formula(parsed, series).values.to_numpy(dtype=float)

    def on_scalars(point: dict[str, float]) -> float:
        return float(on_arrays({k: np.array([point[k]]) for k in names})[0])

    return on_scalars, on_arrays, names


def resolve_period(period: str | dt.date, frequency: Frequency | str | None) -> tuple[dt.date, Frequency]:
    """``"2026-Q3"`` → (2026-07-01, quarter); a date needs ``frequency``."""
    if isinstance(period, str):
        return parse_period(period)
    if frequency is None:
        raise ValidationError("Say which period to explain, e.g. 2026-Q3 or 2026-03.")
    from kpidesk.domain.periods import period_start

    try:
        freq = Frequency(frequency)
    except ValueError:
        raise ValidationError(
            f"Moves are explained per day, week, month, quarter or year, not per {frequency!r}."
        ) from None
    return period_start(period, freq), freq


class ExplainService:
    """Read-only use cases: why did a KPI move between two periods."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- public ---------------------------------------------------------------
    def explain(self, kpi: str | int | Kpi, period: str | dt.date, *, compare: Compare | str = "previous",
                by: str | None = None, product: str | int | None = None,
                frequency: Frequency | str | None = None, anomalies: bool = True) -> Explanation:
        """Why ``kpi`` moved in ``period`` against the previous period or last year.

        ``kpi`` is an id, key, name or alias (``product`` disambiguates);
        ``by`` keeps one segment kind. Raises NotFoundError / ValidationError
        with a sentence the user can act on.
        """
        target = kpi if isinstance(kpi, Kpi) else self._resolve(kpi, product)
        return self.explain_many([target], period, compare=compare, by=by, frequency=frequency,
                                 anomalies=anomalies)[0]

    def explain_many(self, kpis: Sequence[Kpi | int], period: str | dt.date, *,
                     compare: Compare | str = "previous", by: str | None = None,
                     frequency: Frequency | str | None = None, anomalies: bool = True,
                     ) -> list[Explanation]:
        """Explanations for many KPIs (one read, one vectorised pass per product), in order."""
        start, freq = resolve_period(period, frequency)
        window = Window.of(start, freq, Compare(compare))
        wanted = [k if isinstance(k, Kpi) else self._get(k) for k in kpis]
        for kpi in wanted:
            self._check_frequency(kpi, freq)
        by_product: dict[int, list[Kpi]] = defaultdict(list)
        for kpi in wanted:
            by_product[kpi.product_id].append(kpi)
        results: dict[int, Explanation] = {}
        for product_id, product_kpis in by_product.items():
            for kpi, explanation in zip(product_kpis, self._explain_product(
                    product_id, product_kpis, window, by=by, anomalies=anomalies), strict=True):
                results[kpi.id] = explanation  # type: ignore[index]
        return [results[k.id] for k in wanted]  # type: ignore[index]

    def biggest_movers(self, product: str | int | None, period: str | dt.date, *,
                       compare: Compare | str = "previous", top: int = 5,
                       frequency: Frequency | str | None = None) -> list[Explanation]:
        """The ``top`` KPIs with the largest |relative change|, each explained, largest first."""
        with self._db.session() as session:
            query = select(Kpi).where(Kpi.archived == False)  # noqa: E712
            if product is not None:
                query = query.where(Kpi.product_id == self._product_id(product))
            kpis = list(session.exec(query))
        # A KPI recorded less often than the period (quarterly, asked per month) has no move to rank.
        _, freq = resolve_period(period, frequency)
        kpis = [k for k in kpis if FREQUENCY_ORDER.index(Frequency(k.frequency)) <= FREQUENCY_ORDER.index(freq)]
        explanations = self.explain_many(kpis, period, compare=compare, frequency=frequency)

        def size(e: Explanation) -> float:
            # A move away from 0 has no relative size; it counts as the biggest.
            if e.relative_change is not None and math.isfinite(e.relative_change):
                return abs(e.relative_change)
            return math.inf

        moved = [e for e in explanations if math.isfinite(e.change) and e.change != 0]
        return sorted(moved, key=lambda e: (-size(e), e.kpi_key))[:top]

    # -- reading ----------------------------------------------------------------
    def _resolve(self, ref: str | int, product: str | int | None) -> Kpi:
        from kpidesk.domain.catalog import load_catalog
        from kpidesk.services.kpi_service import KpiService

        return KpiService(self._db, load_catalog()).resolve(ref, product)

    def _product_id(self, product: str | int) -> int:
        from kpidesk.services.product_service import ProductService

        return int(ProductService(self._db).get(product).id)  # type: ignore[arg-type]

    def _get(self, kpi_id: int) -> Kpi:
        from kpidesk.errors import NotFoundError

        with self._db.session() as session:
            kpi = session.get(Kpi, kpi_id)
        if kpi is None:
            raise NotFoundError(f"KPI #{kpi_id} does not exist.")
        return kpi

    @staticmethod
    def _check_frequency(kpi: Kpi, freq: Frequency) -> None:
        recorded = Frequency(kpi.frequency)
        if FREQUENCY_ORDER.index(freq) < FREQUENCY_ORDER.index(recorded):
            raise ValidationError(
                f"{kpi.name} is recorded per {recorded.value}, so it cannot be explained for a "
                f"{freq.value}; ask for a {recorded.value} or a longer period."
            )

    def _explain_product(self, product_id: int, kpis: list[Kpi], window: Window, *, by: str | None,
                         anomalies: bool) -> list[Explanation]:
        with self._db.session() as session:
            siblings = {k.key: k for k in session.exec(select(Kpi).where(Kpi.product_id == product_id))}
        specs: list[KpiSpec] = []
        extra_notes: dict[str, str] = {}
        inputs_needed: set[str] = set()
        for kpi in kpis:
            spec, note = self._spec(kpi, siblings)
            specs.append(spec)
            inputs_needed.update(spec.inputs)
            if note:
                extra_notes[kpi.key] = note
        wanted_keys = {s.key for s in specs}
        input_specs = [self._spec(siblings[k], siblings)[0] for k in sorted(inputs_needed - wanted_keys)
                       if k in siblings]
        all_specs = specs + input_specs
        ids = {siblings[s.key].id: s.key for s in all_specs}
        frame = self._read(ids, window)
        context = self._context(kpis, window, anomalies=anomalies)
        currency = currency_symbol(kpis[0].currency if kpis else "")
        explanations = explain_frame(frame, all_specs, window, by=by, context=context, currency=currency)
        out = []
        # explain_frame answers for the inputs too; keep the KPIs asked for.
        for spec, explanation in zip(specs, explanations[:len(specs)], strict=True):
            if spec.key in extra_notes:
                from dataclasses import replace

                explanation = replace(explanation, notes=(*explanation.notes, extra_notes[spec.key]))
            out.append(explanation)
        return out

    @staticmethod
    def _spec(kpi: Kpi, siblings: dict[str, Kpi]) -> tuple[KpiSpec, str]:
        formula = vector = None
        inputs: tuple[str, ...] = ()
        note = ""
        if kpi.formula:
            try:
                formula, vector, inputs = formula_callables(kpi.formula)
                missing = [n for n in inputs if n not in siblings]
                if missing:
                    note = f"The formula input {missing[0]!r} is not a KPI of this product."
                    formula, inputs = None, ()
            except ValidationError as err:
                note, formula, inputs = str(err), None, ()
        labels = {k: siblings[k].name for k in inputs if k in siblings}
        spec = KpiSpec(key=kpi.key, name=kpi.name, unit=kpi.unit, aggregation=kpi.aggregation,
                       formula=formula, inputs=inputs, input_labels=labels, vectorised=vector)
        return spec, note

    def _read(self, ids: dict[int | None, str], window: Window) -> pd.DataFrame:
        import pandas as pd

        first = min(window.comparison[0], window.current[0]).isoformat()
        last = max(window.comparison[1], window.current[1]).isoformat()
        key_ids = [i for i in ids if i is not None]
        with self._db.raw() as dbapi:
            p = param_style(dbapi)
            cur = dbapi.cursor()
            cur.execute(
                "SELECT kpi_id, period_start, segment, value, numerator, denominator FROM measurement"
                f" WHERE kpi_id IN ({', '.join([p] * len(key_ids))})"
                f" AND period_start >= {p} AND period_start < {p}",
                [*key_ids, first, last],
            )
            rows = cur.fetchall()
            cur.close()
        frame = pd.DataFrame.from_records(
            rows, columns=["kpi_id", "period_start", "segment", "value", "numerator", "denominator"],
            coerce_float=True)
        frame["kpi"] = frame["kpi_id"].map(ids)
        frame["period_start"] = pd.to_datetime(frame["period_start"].astype(str), format="ISO8601")
        for column in ("value", "numerator", "denominator"):
            frame[column] = frame[column].astype("float64")
        frame["segment"] = frame["segment"].fillna("").astype(str)
        return frame

    def _context(self, kpis: list[Kpi], window: Window, *, anomalies: bool
                 ) -> dict[str, list[ContextNote]]:
        """Annotations (of each KPI and of its product) and anomalies, one query each."""
        first = min(window.comparison[0], window.current[0])
        last = max(window.comparison[1], window.current[1]) - dt.timedelta(days=1)
        notes: dict[str, list[ContextNote]] = defaultdict(list)
        by_id = {kpi.id: kpi for kpi in kpis}
        products = {kpi.product_id for kpi in kpis}
        with self._db.session() as session:
            query = select(Annotation).where(
                (Annotation.kpi_id.in_(list(by_id))  # type: ignore[union-attr]
                 | (Annotation.product_id.in_(list(products)) & Annotation.kpi_id.is_(None)))  # type: ignore[union-attr]
                & (Annotation.date >= first) & (Annotation.date <= last)).order_by(Annotation.date)
            for note in session.exec(query):
                targets = ([by_id[note.kpi_id]] if note.kpi_id in by_id
                           else [k for k in kpis if k.product_id == note.product_id])
                for kpi in targets:
                    notes[kpi.key].append(ContextNote(note.date, note.text, "annotation"))
        if anomalies:
            for kpi_id, values in self._total_histories(kpis, last).items():
                kpi = by_id[kpi_id]
                notes[kpi.key].extend(self._anomalies(kpi, values))
        return notes

    def _total_histories(self, kpis: list[Kpi], last: dt.date) -> dict[int, pd.Series]:
        """Each KPI's stored totals up to ``last`` (the anomaly check needs their history)."""
        import pandas as pd

        by_id = {kpi.id: kpi for kpi in kpis}
        with self._db.raw() as dbapi:
            p = param_style(dbapi)
            cur = dbapi.cursor()
            cur.execute(
                "SELECT kpi_id, period_start, value FROM measurement"
                f" WHERE kpi_id IN ({', '.join([p] * len(by_id))}) AND segment = '' AND value IS NOT NULL"
                f" AND period_start <= {p} ORDER BY kpi_id, period_start",
                [*by_id, last.isoformat()],
            )
            rows = cur.fetchall()
            cur.close()
        frame = pd.DataFrame.from_records(rows, columns=["kpi_id", "period_start", "value"], coerce_float=True)
        frame["period_start"] = pd.to_datetime(frame["period_start"].astype(str), format="ISO8601")
        return {int(kpi_id): part.set_index("period_start")["value"].astype("float64")
                for kpi_id, part in frame.groupby("kpi_id")}

    @staticmethod
    def _anomalies(kpi: Kpi, values: pd.Series) -> list[ContextNote]:
        """Anomalies of the KPI's total series (the analytics detector, trailing window)."""
        from kpidesk.domain.analytics.anomalies import detect_anomalies

        if len(values) < 6:
            return []
        found = detect_anomalies(values, frequency=kpi.frequency, window=min(28, max(3, len(values) // 2)))
        symbol = currency_symbol(kpi.currency)
        out = []
        for row in found.itertuples(index=False):
            day = row.period_start.date()
            label = period_label(day, kpi.frequency)
            text = (f"Anomaly in {label}: {format_amount(row.value, kpi.unit, currency=symbol)} "
                    f"{row.side} the expected {format_amount(row.expected, kpi.unit, currency=symbol)}.")
            out.append(ContextNote(day, text, "anomaly"))
        return out

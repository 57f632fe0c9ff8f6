"""Change vs previous period / same period last year, rolling mean, to-date totals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpidesk.domain.analytics.rollup import period_keys
from kpidesk.domain.enums import Aggregation, Direction, Frequency
from kpidesk.errors import ValidationError

GOOD = "good"
BAD = "bad"
NEUTRAL = "neutral"
PARTIAL = "partial"


def _verdict(current: float, change: float, direction: Direction, band: tuple[float, float] | None) -> str:
    if direction is Direction.BAND:
        # a band KPI is judged by where it is, not by where it moved
        if band is None or np.isnan(current):
            return NEUTRAL
        low, high = band
        return GOOD if low <= current <= high else BAD
    if np.isnan(change) or np.isnan(current):
        return NEUTRAL
    if change == 0:
        return NEUTRAL
    rising = change > 0
    return GOOD if rising == (direction is Direction.UP) else BAD


def _compare(
    series: pd.Series,
    reference: pd.Series,
    direction: Direction | str,
    band: tuple[float, float] | None,
    partial: pd.Series | None,
) -> pd.DataFrame:
    direction = Direction(direction)
    value = series.astype(np.float64)
    ref = reference.astype(np.float64)
    abs_change = value - ref
    # % change is undefined from a zero base; a negative base uses |base| so a
    # move from -10 to -5 reads as +50 % (an improvement in the number)
    base = ref.abs().where(ref != 0)
    pct_change = 100.0 * abs_change / base
    out = pd.DataFrame({"value": value, "reference": ref, "abs_change": abs_change, "pct_change": pct_change})
    verdicts = [
        _verdict(v, c, direction, band) for v, c in zip(value.to_numpy(), abs_change.to_numpy(), strict=False)
    ]
    out["verdict"] = verdicts
    if partial is not None:
        # a partial period is never compared as if it were complete
        mask = partial.reindex(out.index, fill_value=False).to_numpy(dtype=bool)
        out.loc[mask, ["abs_change", "pct_change"]] = np.nan
        out.loc[mask, "verdict"] = PARTIAL
    return out


def change_vs_previous(
    series: pd.Series,
    direction: Direction | str = Direction.UP,
    *,
    band: tuple[float, float] | None = None,
    partial: pd.Series | None = None,
    frequency: Frequency | str | None = None,
) -> pd.DataFrame:
    """Change of each period against the period before it.

    abs_change_t = x_t − x_{t−1}; pct_change_t = 100 × (x_t − x_{t−1}) / |x_{t−1}|
    (missing when x_{t−1} = 0). The verdict is "good" when the change moves in
    the KPI's direction (up: rising, down: falling), "bad" when against it,
    "neutral" for no change; for a band KPI it is "good" inside ``band``.
    Periods flagged in ``partial`` get no change and the verdict "partial".
    With ``frequency`` the reference is the calendar period just before (no
    change after a gap: March is not compared with January when February has
    no value); without it, the previous row of ``series``.
    Columns: value, reference, abs_change, pct_change, verdict.
    """
    series = series.sort_index()
    if frequency is None:
        return _compare(series, series.shift(1), direction, band, partial)
    step = {
        Frequency.DAY: pd.DateOffset(days=1),
        Frequency.WEEK: pd.DateOffset(weeks=1),
        Frequency.MONTH: pd.DateOffset(months=1),
        Frequency.QUARTER: pd.DateOffset(months=3),
        Frequency.YEAR: pd.DateOffset(years=1),
    }[Frequency(frequency)]
    earlier = pd.DatetimeIndex(series.index) - step
    reference = pd.Series(series.reindex(earlier).to_numpy(), index=series.index, dtype=np.float64)
    return _compare(series, reference, direction, band, partial)


def change_vs_last_year(
    series: pd.Series,
    frequency: Frequency | str,
    direction: Direction | str = Direction.UP,
    *,
    band: tuple[float, float] | None = None,
    partial: pd.Series | None = None,
) -> pd.DataFrame:
    """Change of each period against the same period one year earlier.

    The reference for a period starting at s is the value at s − 1 year for
    day, month, quarter and year periods, and the same ISO week number of the
    previous ISO year for weeks (s − 52 weeks, or − 53 weeks after a 53-week
    year). Same columns and verdicts as :func:`change_vs_previous`.
    """
    series = series.sort_index()
    freq = Frequency(frequency)
    idx = pd.DatetimeIndex(series.index)
    if freq is Frequency.WEEK:
        iso = idx.isocalendar()
        keys = list(zip(iso["year"].to_numpy(), iso["week"].to_numpy(), strict=False))
        lookup = dict(zip(keys, series.to_numpy(), strict=False))
        ref_values = [lookup.get((year - 1, week), np.nan) for year, week in keys]
    else:
        earlier = idx - pd.DateOffset(years=1)
        ref_values = series.reindex(earlier).to_numpy()
    reference = pd.Series(ref_values, index=series.index, dtype=np.float64)
    return _compare(series, reference, direction, band, partial)


def rolling_mean(series: pd.Series, window: int, *, min_periods: int | None = None) -> pd.Series:
    """Trailing mean over the last ``window`` periods (the period itself included).

    mean_t = (x_{t−w+1} + … + x_t) / w; missing until ``min_periods`` (default
    ``window``) values are available.
    """
    if window < 1:
        raise ValidationError(f"A rolling window must be at least 1 period, not {window}.")
    return series.sort_index().rolling(window, min_periods=min_periods or window).mean()


def cumulative_to_date(
    data: pd.Series | pd.DataFrame,
    to: Frequency | str,
    aggregation: Aggregation | str = Aggregation.SUM,
    *,
    scale: float = 1.0,
    fiscal_year_start: int = 1,
) -> pd.Series:
    """Value to date within each ``to`` period (MTD with month, QTD, YTD).

    - sum: running Σ x since the period start;
    - mean: running mean; min / max: running extremes; last: the value itself;
    - ratio: scale × running Σ numerator / running Σ denominator.
    e.g. daily revenue 5, 7 on 1-2 March and 4 on 1 April → MTD 5, 12, 4.
    """
    agg = Aggregation(aggregation)
    if agg is Aggregation.RATIO:
        if not isinstance(data, pd.DataFrame):
            raise ValidationError("A ratio KPI needs numerator and denominator columns.")
        frame = data[["numerator", "denominator"]].sort_index()
        keys = period_keys(frame.index, to, fiscal_year_start)
        running = frame.groupby(keys).cumsum()
        den = running["denominator"].where(running["denominator"] != 0)
        return scale * running["numerator"] / den
    series = data.dropna().sort_index().astype(np.float64)
    keys = period_keys(series.index, to, fiscal_year_start)
    grouped = series.groupby(keys)
    if agg is Aggregation.SUM:
        return grouped.cumsum()
    if agg is Aggregation.MEAN:
        return grouped.cumsum() / grouped.cumcount().add(1).to_numpy()
    if agg is Aggregation.MIN:
        return grouped.cummin()
    if agg is Aggregation.MAX:
        return grouped.cummax()
    return series

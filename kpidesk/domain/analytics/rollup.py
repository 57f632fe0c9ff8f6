"""Roll a KPI series up to a longer period using the KPI's aggregation.

Target periods: ``day``, ``week`` (ISO, Monday start), ``month``, ``quarter``,
``year`` and ``fiscal_year`` (a year starting on the first day of a
configurable month; labelled by its start date).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpidesk.domain.enums import Aggregation, Frequency
from kpidesk.errors import ValidationError

FISCAL_YEAR = "fiscal_year"


def period_keys(index: pd.DatetimeIndex, to: Frequency | str, fiscal_year_start: int = 1) -> pd.DatetimeIndex:
    """The start of the ``to`` period containing each timestamp of ``index``.

    Weeks start on Monday (ISO). A fiscal year starting in month ``m`` contains
    a date d in calendar year y when d.month >= m; otherwise it belongs to the
    fiscal year that started in y - 1 (e.g. with m = 4, 2024-02-10 → 2023-04-01).
    """
    idx = pd.DatetimeIndex(index).normalize()
    if to == FISCAL_YEAR:
        if not 1 <= fiscal_year_start <= 12:
            raise ValidationError(
                f"The fiscal year must start in a month from 1 to 12, not {fiscal_year_start}."
            )
        years = np.asarray(idx.year) - (np.asarray(idx.month) < fiscal_year_start)
        months = (years - 1970) * 12 + (fiscal_year_start - 1)
        return pd.DatetimeIndex(months.astype("datetime64[M]").astype(f"datetime64[{idx.unit}]"))
    freq = Frequency(to)
    if freq is Frequency.DAY:
        return idx
    if freq is Frequency.WEEK:
        return idx - pd.to_timedelta(idx.day_of_week, unit="D")
    code = {Frequency.MONTH: "M", Frequency.QUARTER: "Q", Frequency.YEAR: "Y"}[freq]
    return idx.to_period(code).to_timestamp().as_unit(idx.unit)


def rollup(
    data: pd.Series | pd.DataFrame,
    to: Frequency | str,
    aggregation: Aggregation | str,
    *,
    fiscal_year_start: int = 1,
    scale: float = 1.0,
    opening_denominator: bool = False,
) -> pd.Series:
    """Aggregate a KPI series into ``to`` periods.

    - sum: Σ values; mean: Σ values / n; min / max; last: the latest non-missing
      value of the period (a balance at period end).
    - ratio: ``data`` must be a DataFrame with ``numerator`` and ``denominator``
      columns; the period value is scale × Σ numerator / Σ denominator (a rate
      is recomputed, never averaged); a zero denominator gives a missing value.
      With ``opening_denominator`` the denominator is a balance at the start of
      each period (customers, MRR), so the longer period divides by its first
      sub-period's denominator: churn over Q1 with Jan 50 lost of 1,000, Feb 40
      of 960, Mar 30 of 930 is (50 + 40 + 30) / 1,000 = 12 %, not
      120 / 2,890 = 4.2 % (which is about the monthly rate).

    Missing values are skipped; a period with no value at all is absent.
    The result is indexed by period start and sorted.
    """
    agg = Aggregation(aggregation)
    if agg is Aggregation.RATIO:
        if not isinstance(data, pd.DataFrame) or not {"numerator", "denominator"} <= set(data.columns):
            raise ValidationError("A ratio KPI needs numerator and denominator columns to be rolled up.")
        frame = data[["numerator", "denominator"]].dropna(how="all").sort_index()
        keys = period_keys(frame.index, to, fiscal_year_start)
        grouped = frame.groupby(keys)
        sums = grouped.sum(min_count=1)
        if opening_denominator:  # the frame is sorted: first() is the period's opening balance
            sums["denominator"] = grouped["denominator"].first()
        den = sums["denominator"].where(sums["denominator"] != 0)
        result = scale * sums["numerator"] / den
        result.index.name = "period_start"
        return result
    if isinstance(data, pd.DataFrame):
        raise ValidationError("Only a ratio KPI may be rolled up from a numerator/denominator table.")
    series = data.dropna().sort_index()
    keys = period_keys(series.index, to, fiscal_year_start)
    grouped = series.groupby(keys)
    if agg is Aggregation.SUM:
        result = grouped.sum()
    elif agg is Aggregation.MEAN:
        result = grouped.mean()
    elif agg is Aggregation.MIN:
        result = grouped.min()
    elif agg is Aggregation.MAX:
        result = grouped.max()
    else:  # LAST: the series is sorted, so the group's last row is the latest value
        result = grouped.last()
    result = result.astype(np.float64)
    result.index.name = "period_start"
    result.name = data.name
    return result

"""Series analytics over KPI series (pure pandas, no Qt, no database).

A KPI series is a ``pandas.Series`` indexed by the period-start ``Timestamp``
of each period, sorted ascending. A "ratio" KPI is carried as a DataFrame with
``numerator`` and ``denominator`` columns so that longer periods are
recomputed from the parts, never averaged.

Submodules (this package imports pandas; the GUI imports it only when needed):

- :mod:`.rollup` — roll-up to day / ISO week / month / quarter / year / fiscal year
- :mod:`.change` — change vs previous period / last year, rolling mean, to-date totals
- :mod:`.trend` — least-squares slope with a confidence interval and a verdict
- :mod:`.anomalies` — robust z-score and IQR fences with weekday seasonality
- :mod:`.forecast` — Holt / damped / seasonal exponential smoothing with 80 % interval
- :mod:`.partial` — partial ("so far") periods
"""

from __future__ import annotations

from kpidesk.domain.analytics.anomalies import detect_anomalies, weekday_effect
from kpidesk.domain.analytics.change import (
    change_vs_last_year,
    change_vs_previous,
    cumulative_to_date,
    rolling_mean,
)
from kpidesk.domain.analytics.forecast import ForecastResult, forecast
from kpidesk.domain.analytics.partial import is_partial, partial_mask, so_far_label
from kpidesk.domain.analytics.rollup import FISCAL_YEAR, period_keys, rollup
from kpidesk.domain.analytics.trend import TrendResult, trend

__all__ = [
    "FISCAL_YEAR",
    "ForecastResult",
    "TrendResult",
    "change_vs_last_year",
    "change_vs_previous",
    "cumulative_to_date",
    "detect_anomalies",
    "forecast",
    "is_partial",
    "partial_mask",
    "period_keys",
    "rolling_mean",
    "rollup",
    "so_far_label",
    "trend",
    "weekday_effect",
]

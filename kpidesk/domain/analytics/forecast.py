"""Forecast a KPI series with exponential smoothing, chosen by a holdout check.

Candidates: Holt's linear trend, Holt's damped trend, and (when at least two
full seasons exist) additive Holt-Winters with a damped trend. Each candidate
is fitted on the series minus its last ``h`` values and scored by the mean
absolute error on those ``h`` values; the best is refitted on the whole series.
The 80 % interval comes from the state-space (ETS, additive error) form of the
chosen model (statsmodels).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kpidesk.domain.enums import Frequency
from kpidesk.errors import ValidationError

HOLT = "holt"
DAMPED = "damped"
SEASONAL = "seasonal"

SEASON_LENGTH = {
    Frequency.DAY: 7,
    Frequency.WEEK: 52,
    Frequency.MONTH: 12,
    Frequency.QUARTER: 4,
}


@dataclass
class ForecastResult:
    """Forecast table (period_start → mean, lower, upper) and how it was chosen."""

    method: str
    table: pd.DataFrame
    holdout_mae: dict[str, float] = field(default_factory=dict)
    interval: float = 0.8
    filled: int = 0  # missing periods interpolated before fitting


def _period_grid(first: pd.Timestamp, last: pd.Timestamp, frequency: Frequency) -> pd.DatetimeIndex:
    code = {
        Frequency.DAY: "D",
        Frequency.WEEK: "7D",
        Frequency.MONTH: "MS",
        Frequency.QUARTER: "3MS",
        Frequency.YEAR: "12MS",
    }[frequency]
    return pd.date_range(first, last, freq=code)


#: the longest forecast offered, in periods (10 years of months)
MAX_HORIZON = 120


def _future_index(last: pd.Timestamp, frequency: Frequency, horizon: int) -> pd.DatetimeIndex:
    offset = {
        Frequency.DAY: pd.DateOffset(days=1),
        Frequency.WEEK: pd.DateOffset(weeks=1),
        Frequency.MONTH: pd.DateOffset(months=1),
        Frequency.QUARTER: pd.DateOffset(months=3),
        Frequency.YEAR: pd.DateOffset(years=1),
    }[frequency]
    return pd.DatetimeIndex([last + offset * (i + 1) for i in range(horizon)])


def _fit(values: np.ndarray, method: str, season: int | None):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    kwargs: dict[str, object] = {"error": "add", "trend": "add", "damped_trend": method != HOLT}
    if method == SEASONAL:
        kwargs.update(seasonal="add", seasonal_periods=season)
    # a RangeIndex Series: statsmodels' prediction tables need an index
    model = ETSModel(pd.Series(values), **kwargs)
    with warnings.catch_warnings():
        # convergence chatter on short series is expected and harmless here
        warnings.simplefilter("ignore")
        return model.fit(disp=False)


def forecast(
    series: pd.Series,
    frequency: Frequency | str,
    horizon: int,
    *,
    interval: float = 0.8,
) -> ForecastResult:
    """Forecast the next ``horizon`` periods of ``series``.

    Level/trend recursions (Holt): ℓ_t = α·x_t + (1−α)(ℓ_{t−1} + φ·b_{t−1}),
    b_t = β(ℓ_t − ℓ_{t−1}) + (1−β)·φ·b_{t−1}, forecast ℓ_T + (φ + … + φ^h)·b_T
    (φ = 1 for the linear trend, < 1 when damped). The seasonal candidate adds
    an additive seasonal term of length m = 7 (days), 52 (weeks), 12 (months)
    or 4 (quarters); it competes when the series minus the holdout still holds
    two full seasons (n − holdout ≥ 2m; holdout = min(horizon, n // 5), at
    least 1). Needs at least 6 values; missing periods inside the range are
    interpolated.
    """
    freq = Frequency(frequency)
    if horizon < 1:
        raise ValidationError(f"A forecast horizon must be at least 1 period, not {horizon}.")
    if horizon > MAX_HORIZON:
        # a far horizon says nothing (the interval explodes) and its dates overflow the calendar
        raise ValidationError(f"A forecast horizon can be at most {MAX_HORIZON} periods, not {horizon}.")
    values_series = series.dropna().sort_index().astype(np.float64)
    filled = 0
    if len(values_series) >= 2:
        # the models need evenly spaced periods: a missing period inside the
        # range is filled by linear interpolation (and counted in ``filled``)
        grid = _period_grid(values_series.index[0], values_series.index[-1], freq)
        if len(grid) > len(values_series):
            regular = values_series.reindex(grid)
            filled = int(regular.isna().sum())
            values_series = regular.interpolate(method="linear")
    n = len(values_series)
    if n < 6:
        raise ValidationError(f"A forecast needs at least 6 values; this series has {n}.")
    values = values_series.to_numpy()
    season = SEASON_LENGTH.get(freq)
    holdout = max(1, min(horizon, n // 5))
    train, test = values[:-holdout], values[-holdout:]
    candidates = [HOLT, DAMPED]
    # the seasonal model must be fitted on two full seasons *before* the holdout
    # (statsmodels' seasonal start-up needs them), so that it can be judged too
    if season is not None and len(train) >= 2 * season:
        candidates.append(SEASONAL)
    scores: dict[str, float] = {}
    for method in candidates:
        try:
            fitted = _fit(train, method, season)
            predicted = np.asarray(fitted.forecast(holdout))
        except (ValueError, np.linalg.LinAlgError):
            continue
        if np.all(np.isfinite(predicted)):
            scores[method] = float(np.mean(np.abs(predicted - test)))
    best = min(scores, key=lambda m: (scores[m], candidates.index(m))) if scores else HOLT
    final = _fit(values, best, season)
    prediction = final.get_prediction(start=n, end=n + horizon - 1)
    frame = prediction.summary_frame(alpha=1 - interval)
    table = pd.DataFrame(
        {
            "mean": np.asarray(frame["mean"], dtype=np.float64),
            "lower": np.asarray(frame["pi_lower"], dtype=np.float64),
            "upper": np.asarray(frame["pi_upper"], dtype=np.float64),
        },
        index=_future_index(values_series.index[-1], freq, horizon),
    )
    table.index.name = "period_start"
    return ForecastResult(best, table, scores, interval, filled)

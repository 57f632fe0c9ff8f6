"""Least-squares trend of a KPI series with a confidence interval and a verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

RISING = "rising"
FALLING = "falling"
FLAT = "flat"
UNKNOWN = "not enough data"


@dataclass(frozen=True)
class TrendResult:
    """Slope per period of an ordinary least-squares line through the series."""

    slope: float
    intercept: float
    ci_low: float
    ci_high: float
    n: int
    confidence: float
    verdict: str


def _positions(index: pd.Index, frequency: str | None) -> np.ndarray:
    """Period numbers of a period-start index, so a missing period still counts as elapsed."""
    days = np.asarray(
        pd.DatetimeIndex(index).values.astype("datetime64[D]").astype(np.int64), dtype=np.float64
    )
    if frequency == "day":
        return days
    if frequency == "week":
        return np.floor(days / 7)
    stamps = pd.DatetimeIndex(index)
    months = np.asarray(stamps.year, dtype=np.float64) * 12 + np.asarray(stamps.month, dtype=np.float64)
    return {"month": months, "quarter": np.floor(months / 3), "year": np.asarray(stamps.year, np.float64)}[
        frequency  # type: ignore[index]
    ]


def trend(series: pd.Series, confidence: float = 0.95, *, frequency: str | None = None) -> TrendResult:
    """Fit x_t = a + b·t by least squares, t = 0, 1, … the period position.

    b = Σ(t − t̄)(x − x̄) / Σ(t − t̄)²;  a = x̄ − b·t̄;
    se(b) = sqrt( Σ residual² / (n − 2) / Σ(t − t̄)² );
    interval b ± q·se(b) with q the Student-t quantile at (1 + confidence)/2
    and n − 2 degrees of freedom. Verdict: "rising" when the whole interval is
    above 0, "falling" when below 0, otherwise "flat". With ``frequency``
    (day / week / month / quarter / year) t is the period number of each
    period start, so a missing period still counts as elapsed; without it t is
    the row position (missing values keep theirs). Fewer than 3 values give
    the verdict "not enough data".
    """
    from scipy import stats  # scipy comes with statsmodels; loaded only when used

    ordered = series.sort_index()
    if frequency is None:
        ordered = ordered.reset_index(drop=True)
    present = ordered.dropna()
    n = len(present)
    if n < 3:
        nan = math.nan
        return TrendResult(nan, nan, nan, nan, n, confidence, UNKNOWN)
    if frequency is None:
        t = present.index.to_numpy(dtype=np.float64)
    else:
        t = _positions(present.index, str(frequency))
        t = t - t[0]  # the intercept is the fitted value at the first period
    x = present.to_numpy(dtype=np.float64)
    t_mean, x_mean = t.mean(), x.mean()
    sxx = float(((t - t_mean) ** 2).sum())
    slope = float(((t - t_mean) * (x - x_mean)).sum() / sxx)
    intercept = float(x_mean - slope * t_mean)
    residuals = x - (intercept + slope * t)
    se = math.sqrt(float((residuals**2).sum()) / (n - 2) / sxx)
    q = float(stats.t.ppf((1 + confidence) / 2, n - 2))
    low, high = slope - q * se, slope + q * se
    verdict = RISING if low > 0 else FALLING if high < 0 else FLAT
    return TrendResult(slope, intercept, low, high, n, confidence, verdict)

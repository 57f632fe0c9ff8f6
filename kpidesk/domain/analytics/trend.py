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


def trend(series: pd.Series, confidence: float = 0.95) -> TrendResult:
    """Fit x_t = a + b·t by least squares, t = 0, 1, … the period position.

    b = Σ(t − t̄)(x − x̄) / Σ(t − t̄)²;  a = x̄ − b·t̄;
    se(b) = sqrt( Σ residual² / (n − 2) / Σ(t − t̄)² );
    interval b ± q·se(b) with q the Student-t quantile at (1 + confidence)/2
    and n − 2 degrees of freedom. Verdict: "rising" when the whole interval is
    above 0, "falling" when below 0, otherwise "flat". Missing values are
    dropped but keep their position (a gap still counts as elapsed periods).
    Fewer than 3 values give the verdict "not enough data".
    """
    from scipy import stats  # scipy comes with statsmodels; loaded only when used

    ordered = series.sort_index().reset_index(drop=True)
    present = ordered.dropna()
    n = len(present)
    if n < 3:
        nan = math.nan
        return TrendResult(nan, nan, nan, nan, n, confidence, UNKNOWN)
    t = present.index.to_numpy(dtype=np.float64)
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

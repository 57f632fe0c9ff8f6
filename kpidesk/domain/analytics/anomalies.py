"""Anomalies: robust z-score (median / MAD) and IQR fences on a trailing window.

Each period is judged against the ``window`` periods before it (never itself,
so a spike cannot hide by inflating its own spread). For daily data the
weekday effect is removed first, so a quiet Sunday is not an anomaly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpidesk.domain.enums import Frequency
from kpidesk.errors import ValidationError

ROBUST_Z = "robust_z"
IQR = "iqr"

# 0.6745 = Φ⁻¹(0.75): scales the MAD to a standard deviation for normal data
_MAD_TO_Z = 0.6745


def weekday_effect(series: pd.Series) -> pd.Series:
    """Additive weekday effect of a daily series.

    effect[w] = median(x on weekday w) − median(all x), weekday 0 = Monday.
    A weekday with no value has effect 0.
    """
    values = series.dropna()
    overall = float(values.median())
    by_day = values.groupby(pd.DatetimeIndex(values.index).day_of_week).median() - overall
    return by_day.reindex(range(7), fill_value=0.0)


def detect_anomalies(
    series: pd.Series,
    *,
    method: str = ROBUST_Z,
    window: int = 28,
    threshold: float | None = None,
    frequency: Frequency | str | None = None,
    seasonal: bool | None = None,
    min_periods: int | None = None,
) -> pd.DataFrame:
    """Flag values far from what the trailing window leads one to expect.

    With seasonality (default for daily data): y_t = x_t − effect[weekday(t)],
    expected_t = rolling-median + effect[weekday(t)], otherwise y_t = x_t.

    - robust_z: med = median(y over the ``window`` previous periods),
      MAD = median(|y − med|) over the same window,
      score = 0.6745 × (y_t − med) / MAD; anomaly when |score| > threshold
      (default 3.5, Iglewicz–Hoaglin). expected = med (+ effect).
    - iqr: Q1, Q3 of the window, IQR = Q3 − Q1; fences Q1 − k·IQR and
      Q3 + k·IQR with k = threshold (default 1.5); score = distance beyond the
      nearer fence in IQRs (signed); expected = median of the window (+ effect).

    A zero spread (MAD or IQR = 0) flags any value that differs from the median
    with an infinite score. Returns one row per anomaly: period_start, value,
    expected, score, side ("above" / "below"), method.
    """
    if window < 3:
        raise ValidationError(f"The anomaly window must be at least 3 periods, not {window}.")
    if method not in (ROBUST_Z, IQR):
        raise ValidationError(f"Unknown anomaly method {method!r}: use robust_z or iqr.")
    values = series.dropna().sort_index().astype(np.float64)
    freq = Frequency(frequency) if frequency is not None else None
    if seasonal is None:
        seasonal = freq is Frequency.DAY
    if seasonal and len(values) >= 14:
        effect = weekday_effect(values)
        offsets = effect.to_numpy()[pd.DatetimeIndex(values.index).day_of_week]
    else:
        offsets = np.zeros(len(values))
    adjusted = values - offsets
    past = adjusted.shift(1).rolling(window, min_periods=min_periods or max(3, window // 2))
    med = past.median()
    if method == ROBUST_Z:
        threshold = 3.5 if threshold is None else threshold
        # MAD of each trailing window, around that window's own median
        mad = (
            adjusted.shift(1)
            .rolling(window, min_periods=min_periods or max(3, window // 2))
            .apply(lambda w: np.median(np.abs(w - np.median(w))), raw=True)
        )
        deviation = adjusted - med
        # a deviation below one part in a million (float noise of roll-ups) is none: with a zero MAD it
        # would score infinity and be reported as an anomaly "5.00 vs expected 5.00"
        deviation = deviation.where(deviation.abs() > 1e-6 * np.maximum(1.0, med.abs()), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = _MAD_TO_Z * deviation / mad
        score = score.where(mad != 0, np.where(deviation == 0, 0.0, np.sign(deviation) * np.inf))
        flagged = score.abs() > threshold
    else:
        threshold = 1.5 if threshold is None else threshold
        q1 = past.quantile(0.25)
        q3 = past.quantile(0.75)
        iqr = q3 - q1
        low, high = q1 - threshold * iqr, q3 + threshold * iqr
        with np.errstate(divide="ignore", invalid="ignore"):
            above = (adjusted - high) / iqr
            below = (adjusted - low) / iqr
        score = pd.Series(0.0, index=adjusted.index)
        score = score.where(~(adjusted > high), above).where(~(adjusted < low), below)
        zero = iqr == 0
        score = score.where(~(zero & (adjusted > high)), np.inf)
        score = score.where(~(zero & (adjusted < low)), -np.inf)
        flagged = (adjusted > high) | (adjusted < low)
    flagged = flagged & med.notna()
    expected = med + offsets
    out = pd.DataFrame(
        {
            "period_start": values.index[flagged.to_numpy()],
            "value": values[flagged].to_numpy(),
            "expected": expected[flagged].to_numpy(),
            "score": score[flagged].to_numpy(),
        }
    )
    out["side"] = np.where(out["value"] > out["expected"], "above", "below")
    out["method"] = method
    return out

"""Series analytics on tiny hand-computed inputs (arithmetic in each docstring)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from kpidesk.domain.analytics import (
    change_vs_last_year,
    change_vs_previous,
    cumulative_to_date,
    detect_anomalies,
    forecast,
    is_partial,
    partial_mask,
    period_keys,
    rolling_mean,
    rollup,
    so_far_label,
    trend,
    weekday_effect,
)
from kpidesk.errors import KpideskError, ValidationError


def daily(values: list[float], start: str = "2024-01-29") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="D"), dtype=float)


def monthly(values: list[float], start: str = "2024-01-01") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="MS"), dtype=float)


# ---------------------------------------------------------------- roll-up


def test_rollup_month_sum_mean_last_min_max() -> None:
    """29 Jan–3 Feb 2024 = 1..6: January holds 1,2,3 and February 4,5,6.

    sum: 6 / 15; mean: 2 / 5; last: 3 / 6; min: 1 / 4; max: 3 / 6.
    """
    s = daily([1, 2, 3, 4, 5, 6])
    jan, feb = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")
    assert rollup(s, "month", "sum").to_dict() == {jan: 6.0, feb: 15.0}
    assert rollup(s, "month", "mean").to_dict() == {jan: 2.0, feb: 5.0}
    assert rollup(s, "month", "last").to_dict() == {jan: 3.0, feb: 6.0}
    assert rollup(s, "month", "min").to_dict() == {jan: 1.0, feb: 4.0}
    assert rollup(s, "month", "max").to_dict() == {jan: 3.0, feb: 6.0}


def test_rollup_iso_week_starts_monday_and_last_skips_missing() -> None:
    """2024-01-29 is a Monday: days 29 Jan–4 Feb are one ISO week; 5 Feb starts the next.

    values 1..7 then 10: week sums 28 and 10. 'last' of a week whose last
    value is missing takes the latest present value.
    """
    s = daily([1, 2, 3, 4, 5, 6, 7, 10])
    weeks = rollup(s, "week", "sum")
    assert weeks.to_dict() == {pd.Timestamp("2024-01-29"): 28.0, pd.Timestamp("2024-02-05"): 10.0}
    s2 = daily([1, 2, np.nan])
    assert rollup(s2, "week", "last").iloc[0] == 2.0


def test_rollup_ratio_recomputes_from_parts() -> None:
    """Two days: 1/10 converted and 9/10 converted → month 10/20 = 50 %.

    Averaging the daily rates would give (10 % + 90 %)/2 = 50 % here too, so a
    third day 0/80 shows the difference: recomputed 10/100 = 10 %, averaged 33 %.
    """
    idx = pd.date_range("2024-03-01", periods=3, freq="D")
    frame = pd.DataFrame({"numerator": [1, 9, 0], "denominator": [10, 10, 80]}, index=idx)
    result = rollup(frame, "month", "ratio", scale=100)
    assert result.iloc[0] == pytest.approx(10.0)


def test_rollup_ratio_zero_denominator_is_missing_and_bad_input_refused() -> None:
    idx = pd.date_range("2024-03-01", periods=2, freq="D")
    frame = pd.DataFrame({"numerator": [0, 0], "denominator": [0, 0]}, index=idx)
    assert math.isnan(rollup(frame, "month", "ratio").iloc[0])
    with pytest.raises(ValidationError, match="numerator and denominator"):
        rollup(frame["numerator"], "month", "ratio")


def test_rollup_quarter_year_and_fiscal_year() -> None:
    """Monthly 1..12 in 2024: Q1 = 1+2+3 = 6, Q4 = 10+11+12 = 33, year = 78.

    Fiscal year starting in April: Jan–Mar 2024 belong to FY 2023-04-01
    (1+2+3 = 6) and Apr–Dec to FY 2024-04-01 (4+…+12 = 72).
    """
    s = monthly(list(range(1, 13)))
    q = rollup(s, "quarter", "sum")
    assert q.iloc[0] == 6
    assert q.iloc[3] == 33
    assert rollup(s, "year", "sum").iloc[0] == 78
    fy = rollup(s, "fiscal_year", "sum", fiscal_year_start=4)
    assert fy.to_dict() == {pd.Timestamp("2023-04-01"): 6.0, pd.Timestamp("2024-04-01"): 72.0}
    with pytest.raises(KpideskError, match="month from 1 to 12"):
        period_keys(s.index, "fiscal_year", 13)


# ---------------------------------------------------------------- change


def test_change_vs_previous_with_direction() -> None:
    """100 → 120 → 90: +20 (+20 %) then −30 (−25 %).

    For an 'up' KPI the rise is good and the fall bad; for 'down', the reverse.
    """
    s = monthly([100, 120, 90])
    up = change_vs_previous(s, "up")
    assert up["abs_change"].iloc[1:].tolist() == [20.0, -30.0]
    assert up["pct_change"].iloc[1:].tolist() == [20.0, -25.0]
    assert up["verdict"].tolist() == ["neutral", "good", "bad"]
    assert change_vs_previous(s, "down")["verdict"].tolist() == ["neutral", "bad", "good"]


def test_change_band_zero_base_and_partial() -> None:
    """Band 95..110: 100 inside (good), 120 outside (bad). From 0 the % is undefined.

    A partial last period gets no change and the verdict 'partial'.
    """
    s = monthly([100, 120])
    band = change_vs_previous(s, "band", band=(95, 110))
    assert band["verdict"].tolist() == ["good", "bad"]
    zero = change_vs_previous(monthly([0, 5]))
    assert zero["abs_change"].iloc[1] == 5
    assert math.isnan(zero["pct_change"].iloc[1])
    flags = partial_mask(s.index, "month", dt.date(2024, 2, 10))
    partial = change_vs_previous(s, partial=flags)
    assert partial["verdict"].iloc[1] == "partial"
    assert math.isnan(partial["abs_change"].iloc[1])


def test_change_vs_last_year_month_and_iso_week() -> None:
    """Mar 2023 = 50, Mar 2024 = 60 → +10, +20 %.

    ISO week 2024-W01 starts 2024-01-01; 2023-W01 starts 2023-01-02 (not
    2023-01-01): 40 → 30 is −10, −25 %.
    """
    s = pd.Series([50.0, 60.0], index=pd.to_datetime(["2023-03-01", "2024-03-01"]))
    yoy = change_vs_last_year(s, "month")
    assert yoy["abs_change"].iloc[1] == 10
    assert yoy["pct_change"].iloc[1] == 20
    w = pd.Series([40.0, 30.0], index=pd.to_datetime(["2023-01-02", "2024-01-01"]))
    wy = change_vs_last_year(w, "week")
    assert wy["abs_change"].iloc[1] == -10
    assert wy["pct_change"].iloc[1] == -25


def test_rolling_mean_and_cumulative_to_date() -> None:
    """Rolling 2 over 1, 3, 5: NaN, 2, 4.

    Daily 5, 7 on 30-31 Jan and 4 on 1 Feb: MTD 5, 12, 4; YTD 5, 12, 16; running
    mean within month 5, 6, 4. Ratio MTD: (1/2, 1/2) → 1/2 then 2/4.
    """
    r = rolling_mean(daily([1, 3, 5]), 2)
    assert math.isnan(r.iloc[0])
    assert r.iloc[1:].tolist() == [2.0, 4.0]
    s = daily([5, 7, 4], start="2024-01-30")
    assert cumulative_to_date(s, "month").tolist() == [5, 12, 4]
    assert cumulative_to_date(s, "year").tolist() == [5, 12, 16]
    assert cumulative_to_date(s, "month", "mean").tolist() == [5, 6, 4]
    assert cumulative_to_date(s, "month", "max").tolist() == [5, 7, 4]
    frame = pd.DataFrame(
        {"numerator": [1, 1], "denominator": [2, 2]}, index=pd.date_range("2024-01-01", periods=2)
    )
    assert cumulative_to_date(frame, "month", "ratio").tolist() == [0.5, 0.5]
    with pytest.raises(ValidationError):
        rolling_mean(r, 0)


# ---------------------------------------------------------------- trend


def test_trend_exact_line_and_flat_noise() -> None:
    """x = 2 + 3t exactly: slope 3, intercept 2, zero residual → interval [3, 3], rising.

    Alternating 10, 12, 10, 12, …: slope ≈ 0 and the interval straddles 0 → flat.
    """
    line = monthly([2 + 3 * t for t in range(6)])
    result = trend(line)
    assert result.slope == pytest.approx(3)
    assert result.intercept == pytest.approx(2)
    assert result.ci_low == pytest.approx(3)
    assert result.verdict == "rising"
    noisy = monthly([10, 12] * 6)
    assert trend(noisy).verdict == "flat"
    assert trend(monthly([5, 4, 3, 2.5])).verdict == "falling"
    assert trend(monthly([1, 2])).verdict == "not enough data"


def test_trend_counts_missing_periods_when_frequency_is_given() -> None:
    """Jan 10, Feb 20, (Mar missing), Apr 40, May 50: by period number the line is
    exactly 10 + 10·t (slope 10); by row position t = 0..3: Sxy = 30 + 5 + 5 + 30 = 70, Sxx = 5 → slope 14.
    """
    s = pd.Series(
        [10.0, 20.0, 40.0, 50.0],
        index=pd.to_datetime(["2024-01-01", "2024-02-01", "2024-04-01", "2024-05-01"]),
    )
    assert trend(s, frequency="month").slope == pytest.approx(10)
    assert trend(s, frequency="month").intercept == pytest.approx(10)
    assert trend(s).slope == pytest.approx(14)
    weeks = pd.Series([1.0, 2.0, 4.0], index=pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-22"]))
    assert trend(weeks, frequency="week").slope == pytest.approx(1.0)


def test_trend_confidence_interval_by_hand() -> None:
    """x = 1, 3, 2, 5 at t = 0..3.

    t̄ = 1.5, x̄ = 2.75, Sxx = 5, Sxy = (−1.5)(−1.75)+(−0.5)(0.25)+(0.5)(−0.75)+(1.5)(2.25) = 5.5
    b = 1.1, a = 2.75 − 1.65 = 1.1; residuals −0.1, 0.8, −1.3, 0.6 → SSE = 2.7
    se = sqrt(2.7 / 2 / 5) = 0.519615; t(0.975, 2) = 4.302653 → 1.1 ± 2.235724.
    """
    result = trend(monthly([1, 3, 2, 5]))
    assert result.slope == pytest.approx(1.1)
    assert result.intercept == pytest.approx(1.1)
    assert result.ci_low == pytest.approx(1.1 - 4.302653 * 0.27**0.5, abs=1e-6)
    assert result.ci_high == pytest.approx(1.1 + 4.302653 * 0.27**0.5, abs=1e-6)
    assert result.verdict == "flat"


# ---------------------------------------------------------------- anomalies


def test_robust_z_by_hand() -> None:
    """Window 5 over 10, 12, 11, 13, 12 then 30.

    median = 12, |dev| = 2, 0, 1, 1, 0 → MAD = 1; score = 0.6745 × (30 − 12) / 1
    = 12.141 > 3.5 → anomaly with expected 12. The first five values have too
    short a history (min 3 previous values) or fit in.
    """
    s = monthly([10, 12, 11, 13, 12, 30])
    found = detect_anomalies(s, window=5, min_periods=5)
    assert len(found) == 1
    row = found.iloc[0]
    assert row["period_start"] == pd.Timestamp("2024-06-01")
    assert row["expected"] == 12
    assert row["score"] == pytest.approx(0.6745 * 18)
    assert row["side"] == "above"


def test_iqr_fences_by_hand() -> None:
    """Window 4 over 1, 2, 3, 4 then 9 and then 0.

    Q1 = 1.75, Q3 = 3.25 (linear interpolation), IQR = 1.5; fences 1.75 − 2.25 =
    −0.5 and 3.25 + 2.25 = 5.5. 9 is above: score (9 − 5.5)/1.5 = 2.333.
    Next window 2,3,4,9: Q1 = 2.75, Q3 = 5.25, IQR = 2.5, low fence −1 → 0 is fine.
    """
    s = monthly([1, 2, 3, 4, 9, 0])
    found = detect_anomalies(s, method="iqr", window=4, min_periods=4)
    assert found["period_start"].tolist() == [pd.Timestamp("2024-05-01")]
    assert found["score"].iloc[0] == pytest.approx(3.5 / 1.5)
    assert found["expected"].iloc[0] == 2.5


def test_weekday_seasonality_is_removed_for_daily_data() -> None:
    """Weekdays 100, weekends 200 for 8 weeks: every weekend would look anomalous
    without the weekday effect (effect = +100 on Sat/Sun, 0 on weekdays since the
    overall median is 100). With it, only the planted 160 on a Wednesday is flagged.
    """
    idx = pd.date_range("2024-01-01", periods=56, freq="D")
    base = np.where(idx.day_of_week >= 5, 200.0, 100.0)
    base = base + np.tile([0, 1, -1, 0.5, -0.5, 1, -1], 8)  # a little spread so MAD > 0
    s = pd.Series(base, index=idx)
    s.iloc[44] = 160.0  # 2024-02-14, a Wednesday
    effect = weekday_effect(s)
    assert effect[5] == pytest.approx(100 + 1 - 0, abs=1.01)
    found = detect_anomalies(s, frequency="day", window=21)
    assert found["period_start"].tolist() == [pd.Timestamp("2024-02-14")]
    assert found["expected"].iloc[0] == pytest.approx(98.5, abs=1.0)
    plain = detect_anomalies(s, frequency="day", window=21, seasonal=False)
    assert len(plain) > 1


def test_anomaly_arguments_are_checked() -> None:
    with pytest.raises(ValidationError):
        detect_anomalies(monthly([1, 2, 3]), window=2)
    with pytest.raises(ValidationError):
        detect_anomalies(monthly([1, 2, 3]), method="magic")


# ---------------------------------------------------------------- forecast


def test_forecast_linear_series_follows_the_line() -> None:
    """x = 10 + 2t for 24 months: every candidate should continue 58, 60, 62."""
    s = monthly([10 + 2 * t for t in range(24)], start="2022-01-01")
    result = forecast(s, "month", 3)
    assert result.table.index.tolist() == list(pd.date_range("2024-01-01", periods=3, freq="MS"))
    assert result.table["mean"].to_numpy() == pytest.approx([58, 60, 62], abs=0.5)
    assert (result.table["lower"] <= result.table["mean"]).all()
    assert (result.table["upper"] >= result.table["mean"]).all()
    assert set(result.holdout_mae) >= {"holt", "damped"}


def test_forecast_fills_a_missing_month_by_interpolation() -> None:
    """x = 10 + 2t over 24 months with month 10 missing: it is filled with the
    interpolated 30 (between 28 and 32), the fit still continues 58, 60."""
    s = monthly([10 + 2 * t for t in range(24)], start="2022-01-01").drop(pd.Timestamp("2022-11-01"))
    result = forecast(s, "month", 2)
    assert result.filled == 1
    assert result.table["mean"].to_numpy() == pytest.approx([58, 60], abs=0.5)


def test_forecast_picks_seasonal_when_two_seasons_exist() -> None:
    """A strong 12-month pattern over 4 years: the seasonal candidate wins the holdout."""
    t = np.arange(48)
    s = monthly(list(100 + 20 * np.sin(2 * np.pi * t / 12) + 0.5 * t), start="2020-01-01")
    result = forecast(s, "month", 6)
    assert result.method == "seasonal"
    expected_next = 100 + 20 * np.sin(2 * np.pi * 48 / 12) + 0.5 * 48
    assert result.table["mean"].iloc[0] == pytest.approx(expected_next, abs=3)
    with pytest.raises(ValidationError, match="at least 6"):
        forecast(monthly([1, 2, 3]), "month", 2)


# ---------------------------------------------------------------- partial periods


def test_partial_period_labels() -> None:
    """March 2024 has 31 days: as of 12 March it is partial, 12 of 31 days covered.

    On 31 March it is complete. ISO week of Mon 2024-03-04 is complete on Sunday 10 March.
    """
    march = pd.Timestamp("2024-03-01")
    assert is_partial(march, "month", dt.date(2024, 3, 12))
    assert not is_partial(march, "month", dt.date(2024, 3, 31))
    assert so_far_label(march, "month", dt.date(2024, 3, 12)) == "Mar 2024 so far (12 of 31 days)"
    assert so_far_label(march, "month", dt.date(2024, 4, 2)) == "Mar 2024"
    assert not is_partial(dt.date(2024, 3, 4), "week", dt.date(2024, 3, 10))
    assert is_partial(dt.date(2024, 3, 4), "week", dt.date(2024, 3, 9))
    mask = partial_mask(pd.DatetimeIndex([march, pd.Timestamp("2024-02-01")]), "month", dt.date(2024, 3, 12))
    assert mask.tolist() == [True, False]

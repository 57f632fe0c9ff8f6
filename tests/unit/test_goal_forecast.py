"""Forecast to the deadline: exact lines by hand, probabilities on synthetic series."""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest

from kpidesk.domain.enums import Direction, Frequency, GoalKind, Unit
from kpidesk.domain.goals import Goal, KpiInfo
from kpidesk.domain.goals.forecast import (
    Z80,
    fit_trend,
    forecast_to_deadline,
    goal_probability,
    normal_cdf,
    period_from_index,
    period_index,
    t_widening,
)
from kpidesk.domain.goals.smart import Verdict, check_achievable, compare_rates

D = dt.date
SIGNUPS = KpiInfo("signups", "New sign-ups", Unit.COUNT, Direction.UP, Frequency.MONTH)


def synthetic(seed: int, *, slope: float = 2.0, noise: float = 3.0, n: int = 24) -> list[tuple[dt.date, float]]:
    """Monthly values Jul 2024 – Jun 2026: 100 + slope·i + N(0, noise²)."""
    rng = random.Random(seed)
    first = period_index(D(2024, 7, 1), Frequency.MONTH)
    return [(period_from_index(first + i, Frequency.MONTH), 100 + slope * i + rng.gauss(0, noise)) for i in range(n)]


def test_fit_trend_by_hand() -> None:
    # (0, 1), (1, 3), (2, 5): b = 2, a = 1, no residual
    line = fit_trend([0, 1, 2], [1, 3, 5])
    assert line.slope == pytest.approx(2)
    assert line.intercept == pytest.approx(1)
    assert line.residual_sd == pytest.approx(0)
    # (0, 0), (1, 2), (2, 1), (3, 3): x̄ 1.5, ȳ 1.5, Sxx 5,
    # Sxy = 2.25 − 0.25 − 0.25 + 2.25 = 4 → b 0.8, a 1.5 − 1.2 = 0.3;
    # residuals −0.3, 0.9, −0.9, 0.3 → SSE 1.8, s = √(1.8/2)
    line = fit_trend([0, 1, 2, 3], [0, 2, 1, 3])
    assert line.slope == pytest.approx(0.8)
    assert line.intercept == pytest.approx(0.3)
    assert line.residual_sd == pytest.approx(math.sqrt(0.9))
    # se at x = 4: s · √(1 + 1/4 + 2.5²/5) · t₀.₉(2)/z₀.₉ = s · √2.5 · 1.886/1.2816
    assert line.prediction_se(4) == pytest.approx(math.sqrt(0.9) * math.sqrt(2.5) * 1.886 / Z80)


@pytest.mark.parametrize("freq", list(Frequency))
def test_period_index_round_trip(freq: Frequency) -> None:
    day = D(2026, 11, 25)
    index = period_index(day, freq)
    start = period_from_index(index, freq)
    assert start <= day
    assert period_index(start, freq) == index
    assert period_index(period_from_index(index + 1, freq), freq) == index + 1


def test_exact_trend_gives_certain_answers_and_reach_dates() -> None:
    # Jan–Jun 2026: 10, 12, ..., 20 → +2 a month, exactly
    series = [(D(2026, m, 1), 8.0 + 2 * m) for m in range(1, 7)]
    fc = forecast_to_deadline(series, Frequency.MONTH, D(2026, 12, 31), GoalKind.INCREASE_TO, 26)
    assert fc is not None
    assert fc.value == pytest.approx(32)  # December = 20 + 6 × 2
    assert fc.low == pytest.approx(32)
    assert fc.high == pytest.approx(32)
    assert fc.probability == 1.0
    assert fc.reach_period == D(2026, 9, 1)  # 26 = 20 + 3 × 2 → September
    assert fc.reach_text() == "reached by Sep 2026"
    far = forecast_to_deadline(series, Frequency.MONTH, D(2026, 12, 31), GoalKind.INCREASE_TO, 40)
    assert far is not None
    assert far.probability == 0.0
    assert far.reach_period is None
    assert far.reach_text() == "not before the deadline"
    met = forecast_to_deadline(series, Frequency.MONTH, D(2026, 12, 31), GoalKind.INCREASE_TO, 15)
    assert met is not None
    assert met.already_met
    assert met.reach_text() == "already met"
    # a decrease goal on a rising KPI is never reached
    wrong = forecast_to_deadline(series, Frequency.MONTH, D(2026, 12, 31), GoalKind.DECREASE_TO, 5)
    assert wrong is not None
    assert wrong.reach_period is None
    assert wrong.probability == 0.0


def test_too_little_history_gives_no_forecast() -> None:
    assert forecast_to_deadline([(D(2026, 1, 1), 1.0), (D(2026, 2, 1), 2.0)], Frequency.MONTH,
                                D(2026, 6, 30), GoalKind.INCREASE_TO, 5) is None


def test_goal_probability_by_direction_and_band() -> None:
    # N(100, 10²): P(≥ 110) = 1 − Φ(1) = 0.1587; P(≤ 110) = Φ(1); P(90..110) = Φ(1) − Φ(−1) = 0.6827
    assert goal_probability(GoalKind.INCREASE_TO, 100, 10, 110, None) == pytest.approx(0.158655, abs=1e-5)
    assert goal_probability(GoalKind.DECREASE_TO, 100, 10, 110, None) == pytest.approx(0.841345, abs=1e-5)
    assert goal_probability(GoalKind.KEEP_IN_BAND, 100, 10, None, (90, 110)) == pytest.approx(0.682689, abs=1e-5)
    assert goal_probability(GoalKind.KEEP_IN_BAND, 100, 0, None, (90, 110)) == 1.0
    assert goal_probability(GoalKind.INCREASE_TO, 100, 10, None, None) is None
    assert normal_cdf(0) == pytest.approx(0.5)


def test_t_widening_shrinks_to_normal() -> None:
    assert t_widening(1) > t_widening(5) > t_widening(30) > 1.0
    assert t_widening(200) == 1.0


@pytest.mark.parametrize("seed", range(20))
def test_goal_met_by_the_trend_with_margin_has_high_probability(seed: int) -> None:
    # trend 100 + 2i reaches 158 in Dec 2026 (i = 29); noise σ = 3; target 148 leaves a 10-point margin
    series = synthetic(seed)
    fc = forecast_to_deadline(series, Frequency.MONTH, D(2026, 12, 31), GoalKind.INCREASE_TO, 148)
    assert fc is not None
    assert fc.probability is not None
    assert fc.probability >= 0.9
    assert fc.low < fc.value < fc.high


@pytest.mark.parametrize("seed", range(20))
def test_goal_needing_three_times_the_best_rate_has_low_probability(seed: int) -> None:
    series = synthetic(seed)
    probe = Goal("signups", GoalKind.INCREASE_TO, D(2026, 7, 1), D(2026, 12, 31), target_value=0)
    rates = compare_rates(probe, SIGNUPS, series)
    assert rates is not None
    assert rates.best is not None
    # baseline = June 2026 value; 3 × the best observed 6-month rate over the 6 months to December
    baseline = series[-1][1]
    target = baseline + 3 * rates.best * rates.horizon
    fc = forecast_to_deadline(series, Frequency.MONTH, D(2026, 12, 31), GoalKind.INCREASE_TO, target)
    assert fc is not None
    assert fc.probability is not None
    assert fc.probability <= 0.1
    goal = Goal("signups", GoalKind.INCREASE_TO, D(2026, 7, 1), D(2026, 12, 31), target_value=target)
    finding = check_achievable(goal, SIGNUPS, series)
    assert finding.verdict is Verdict.FAIL
    assert "3.0× the best" in finding.sentence


def test_lower_is_better_probability_mirrors() -> None:
    # churn falling 0.1 pt a month from 6 %, little noise; target 4.5 by Dec 2026 (trend ≈ 3.1)
    rng = random.Random(7)
    first = period_index(D(2024, 7, 1), Frequency.MONTH)
    series = [(period_from_index(first + i, Frequency.MONTH), 6.0 - 0.1 * i + rng.gauss(0, 0.1)) for i in range(24)]
    easy = forecast_to_deadline(series, Frequency.MONTH, D(2026, 12, 31), GoalKind.DECREASE_TO, 4.5)
    hard = forecast_to_deadline(series, Frequency.MONTH, D(2026, 12, 31), GoalKind.DECREASE_TO, 2.0)
    assert easy is not None
    assert hard is not None
    assert easy.probability is not None
    assert hard.probability is not None
    assert easy.probability >= 0.9
    assert hard.probability <= 0.1


def test_80_percent_interval_covers_about_80_percent() -> None:
    """On 400 series with known linear trend and normal noise, the 80 % interval for six
    periods ahead should contain the realised value about 80 % of the time."""
    hits = 0
    trials = 400
    for seed in range(trials):
        rng = random.Random(1000 + seed)
        values = [50 + 1.5 * i + rng.gauss(0, 4) for i in range(30)]
        first = period_index(D(2024, 1, 1), Frequency.MONTH)
        history = [(period_from_index(first + i, Frequency.MONTH), v) for i, v in enumerate(values[:24])]
        fc = forecast_to_deadline(history, Frequency.MONTH, period_from_index(first + 29, Frequency.MONTH),
                                  GoalKind.INCREASE_TO, 0)
        assert fc is not None
        hits += fc.low <= values[29] <= fc.high
    assert 0.72 <= hits / trials <= 0.88


def test_robust_trend_ignores_an_outlier() -> None:
    from kpidesk.domain.goals.forecast import fit_robust_trend

    # ten slopes, six of them 1 → b = 1; a = median(0, 0, 0, 0, 36) = 0; MAD of residuals 0 → s = 0
    line = fit_robust_trend([0, 1, 2, 3, 4], [0, 1, 2, 3, 40])
    assert line.slope == pytest.approx(1)
    assert line.intercept == pytest.approx(0)
    assert line.residual_sd == pytest.approx(0)
    # least squares: x̄ 2, ȳ 9.2, Sxy = 18.4 + 8.2 + 0 − 6.2 + 61.6 = 82, Sxx = 10 → b = 8.2
    assert fit_trend([0, 1, 2, 3, 4], [0, 1, 2, 3, 40]).slope == pytest.approx(8.2)


def test_one_outage_month_does_not_wreck_a_band_forecast() -> None:
    # uptime ≈ 99.9 ± 0.03 for two years, one outage month at 70 %: the goal 99.5–100 stays likely
    rng = random.Random(3)
    first = period_index(D(2024, 7, 1), Frequency.MONTH)
    values = [99.9 + rng.gauss(0, 0.03) for _ in range(24)]
    values[15] = 70.0
    series = [(period_from_index(first + i, Frequency.MONTH), v) for i, v in enumerate(values)]
    robust = forecast_to_deadline(series, Frequency.MONTH, D(2026, 12, 31), GoalKind.KEEP_IN_BAND, None,
                                  band=(99.5, 100.0))
    ols = forecast_to_deadline(series, Frequency.MONTH, D(2026, 12, 31), GoalKind.KEEP_IN_BAND, None,
                               band=(99.5, 100.0), method="ols")
    assert robust is not None
    assert ols is not None
    assert robust.probability is not None
    assert ols.probability is not None
    assert robust.probability >= 0.9
    assert ols.probability < 0.5  # least squares is dragged by the outage
    assert robust.high - robust.low < 1.0


def test_bounds_clip_the_projection() -> None:
    # uptime Mar 99.0 … Aug 100.0, +0.2 points a month: the line gives December (9 months after March)
    # 99.0 + 0.2 · 9 = 100.8, but a share of time cannot exceed 100 %
    series = [(D(2026, m, 1), 99.0 + 0.2 * (m - 3)) for m in range(3, 9)]
    free = forecast_to_deadline(series, Frequency.MONTH, D(2026, 12, 31), GoalKind.STAY_ABOVE, 99.5)
    bounded = forecast_to_deadline(series, Frequency.MONTH, D(2026, 12, 31), GoalKind.STAY_ABOVE, 99.5,
                                   bounds=(0.0, 100.0))
    assert free is not None
    assert bounded is not None
    assert free.value == pytest.approx(100.8)
    assert bounded.value == 100.0
    assert bounded.high == 100.0
    assert bounded.probability == free.probability == 1.0

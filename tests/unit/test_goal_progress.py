"""Progress, relative targets, baselines and expected progress (hand-computed)."""

from __future__ import annotations

import datetime as dt

import pytest

from kpidesk.domain.enums import Frequency, GoalKind
from kpidesk.domain.goals.model import (
    Goal,
    default_baseline,
    resolve_relative_target,
    resolve_target,
    validate_goal,
)
from kpidesk.domain.goals.progress import as_of_date, expected_progress, linear_expected, pace, progress
from kpidesk.domain.goals.targets import stepped_ramp
from kpidesk.errors import ValidationError

D = dt.date


def test_progress_increase_is_share_of_the_way() -> None:
    # (45 − 40) / (50 − 40) = 0.5
    assert progress(GoalKind.INCREASE_TO, 40, 50, 45) == pytest.approx(0.5)
    # overshoot and wrong way are not clipped: (55 − 40)/10 = 1.5, (38 − 40)/10 = −0.2
    assert progress(GoalKind.INCREASE_TO, 40, 50, 55) == pytest.approx(1.5)
    assert progress(GoalKind.INCREASE_TO, 40, 50, 38) == pytest.approx(-0.2)


def test_progress_lower_is_better_inverts_the_scale() -> None:
    # churn 10 % → 6 %: value 9 → (9 − 10)/(6 − 10) = 0.25; value 11 → (11 − 10)/(−4) = −0.25
    assert progress(GoalKind.DECREASE_TO, 10, 6, 9) == pytest.approx(0.25)
    assert progress(GoalKind.DECREASE_TO, 10, 6, 11) == pytest.approx(-0.25)
    assert progress(GoalKind.DECREASE_TO, 10, 6, 6) == pytest.approx(1.0)


def test_progress_band_and_holding_goals_are_in_or_out() -> None:
    assert progress(GoalKind.KEEP_IN_BAND, None, None, 97, band=(95, 99)) == 1.0
    assert progress(GoalKind.KEEP_IN_BAND, None, None, 94.9, band=(95, 99)) == 0.0
    assert progress(GoalKind.KEEP_IN_BAND, None, None, 99.1, band=(95, 99)) == 0.0
    assert progress(GoalKind.STAY_ABOVE, None, 99.5, 99.7) == 1.0
    assert progress(GoalKind.STAY_ABOVE, None, 99.5, 99.2) == 0.0
    assert progress(GoalKind.STAY_BELOW, None, 3.0, 3.0) == 1.0
    assert progress(GoalKind.STAY_BELOW, None, 3.0, 3.1) == 0.0


def test_progress_when_target_equals_baseline() -> None:
    assert progress(GoalKind.INCREASE_TO, 50, 50, 50) == 1.0
    assert progress(GoalKind.INCREASE_TO, 50, 50, 49) == 0.0
    assert progress(GoalKind.INCREASE_TO, None, 50, 49) is None


def test_relative_targets_resolve_against_the_baseline() -> None:
    # "Increase onboarding completion by 25 %": 40 × 1.25 = 50
    assert resolve_relative_target(GoalKind.INCREASE_TO, 40, 25, "percent") == pytest.approx(50)
    # "Reduce churn by 20 %": 5 × 0.8 = 4 (the sign of the change does not matter)
    assert resolve_relative_target(GoalKind.DECREASE_TO, 5, 20, "percent") == pytest.approx(4)
    assert resolve_relative_target(GoalKind.DECREASE_TO, 5, -20, "percent") == pytest.approx(4)
    # +5 points on 40 % = 45 %
    assert resolve_relative_target(GoalKind.INCREASE_TO, 40, 5, "absolute") == pytest.approx(45)
    assert resolve_relative_target(GoalKind.STAY_BELOW, 40, 5, "absolute") == pytest.approx(35)


def test_relative_target_errors_are_user_errors() -> None:
    with pytest.raises(ValidationError, match="non-zero baseline"):
        resolve_relative_target(GoalKind.INCREASE_TO, 0, 25, "percent")
    with pytest.raises(ValidationError, match="band"):
        resolve_relative_target(GoalKind.KEEP_IN_BAND, 10, 25, "percent")
    with pytest.raises(ValidationError, match="relative mode"):
        resolve_relative_target(GoalKind.INCREASE_TO, 10, 25, "lots")


def test_resolve_target_prefers_explicit_value_and_uses_data_baseline() -> None:
    series = [(D(2026, 5, 1), 38.0), (D(2026, 6, 1), 40.0), (D(2026, 7, 1), 41.0)]
    goal = Goal("onb", GoalKind.INCREASE_TO, D(2026, 7, 1), D(2026, 9, 30), relative_change=25,
                relative_mode="percent")
    assert resolve_target(goal) is None  # no baseline yet
    filled = goal.with_baseline(series, Frequency.MONTH)
    # a goal starting 1 July on a monthly KPI starts from June's value
    assert filled.baseline_value == 40.0
    assert filled.baseline_date == D(2026, 6, 1)
    assert resolve_target(filled) == pytest.approx(50.0)
    explicit = Goal("onb", GoalKind.INCREASE_TO, D(2026, 7, 1), D(2026, 9, 30), target_value=47,
                    relative_change=25, baseline_value=40)
    assert resolve_target(explicit) == 47.0
    band = Goal("x", GoalKind.KEEP_IN_BAND, D(2026, 7, 1), D(2026, 9, 30), band_low=1, band_high=2)
    assert resolve_target(band) is None


def test_default_baseline_rules() -> None:
    series = [(D(2026, 3, 1), 5.0), (D(2026, 4, 1), float("nan")), (D(2026, 5, 1), 7.0)]
    assert default_baseline(series, D(2026, 6, 1), Frequency.MONTH) == (D(2026, 5, 1), 7.0)
    # start mid-May: May has not ended, so March (NaN April is skipped) is the baseline
    assert default_baseline(series, D(2026, 5, 15), Frequency.MONTH) == (D(2026, 3, 1), 5.0)
    # series starts after the goal: first value
    assert default_baseline(series, D(2026, 1, 1), Frequency.MONTH) == (D(2026, 3, 1), 5.0)
    assert default_baseline([], D(2026, 1, 1), Frequency.MONTH) is None


def test_linear_expected_progress() -> None:
    # start 1 Jul, due 31 Dec: 184 days; as of 1 Nov: 123 days → 123/184
    assert linear_expected(D(2026, 7, 1), D(2026, 12, 31), D(2026, 11, 1)) == pytest.approx(123 / 184)
    assert linear_expected(D(2026, 7, 1), D(2026, 12, 31), D(2026, 6, 1)) == 0.0
    assert linear_expected(D(2026, 7, 1), D(2026, 12, 31), D(2027, 1, 1)) == 1.0
    assert as_of_date(D(2026, 10, 1), Frequency.MONTH) == D(2026, 11, 1)
    assert as_of_date(D(2026, 7, 1), Frequency.QUARTER) == D(2026, 10, 1)


def test_expected_progress_follows_per_period_targets() -> None:
    goal = Goal("signups", GoalKind.INCREASE_TO, D(2026, 1, 1), D(2026, 12, 31), target_value=160,
                baseline_value=100)
    schedule = stepped_ramp(D(2026, 1, 1), D(2026, 12, 1), Frequency.MONTH, 100, 160, steps=4)
    # May's target is 120 → (120 − 100)/(160 − 100) = 1/3
    assert expected_progress(goal, 100, 160, D(2026, 5, 1), Frequency.MONTH, schedule=schedule) == pytest.approx(1 / 3)
    # without a schedule: linear to 1 June = 151 / 365 days
    assert expected_progress(goal, 100, 160, D(2026, 5, 1), Frequency.MONTH) == pytest.approx(151 / 365)
    # a period outside the schedule falls back to linear
    assert expected_progress(goal, 100, 160, D(2025, 12, 1), Frequency.MONTH, schedule=schedule) == 0.0
    band = Goal("x", GoalKind.KEEP_IN_BAND, D(2026, 1, 1), D(2026, 12, 31), band_low=1, band_high=2)
    assert expected_progress(band, None, None, D(2026, 5, 1), Frequency.MONTH) == 1.0


def test_pace() -> None:
    assert pace(0.4, 0.5) == pytest.approx(0.8)
    assert pace(0.4, 0.0) is None
    assert pace(None, 0.5) is None


@pytest.mark.parametrize(
    ("goal", "message"),
    [
        (Goal("k", GoalKind.INCREASE_TO, D(2026, 7, 1), D(2026, 7, 1), target_value=5), "must be after"),
        (Goal("k", GoalKind.KEEP_IN_BAND, D(2026, 7, 1), D(2026, 9, 1), band_low=5), "low and a high"),
        (Goal("k", GoalKind.KEEP_IN_BAND, D(2026, 7, 1), D(2026, 9, 1), band_low=5, band_high=4), "below the band high"),
        (Goal("k", GoalKind.INCREASE_TO, D(2026, 7, 1), D(2026, 9, 1)), "target value or a relative change"),
        (Goal("k", GoalKind.INCREASE_TO, D(2026, 7, 1), D(2026, 9, 1), relative_change=5, relative_mode="x"), "relative mode"),
        (Goal("k", GoalKind.INCREASE_TO, D(2026, 7, 1), D(2026, 9, 1), target_value=5, confidence=11), "between 1 and 10"),
    ],
)
def test_validate_goal_refuses_with_a_sentence(goal: Goal, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_goal(goal)


def test_validate_goal_accepts_a_good_goal() -> None:
    validate_goal(Goal("k", GoalKind.INCREASE_TO, D(2026, 7, 1), D(2026, 9, 1), relative_change=25,
                       relative_mode="percent", confidence=7))

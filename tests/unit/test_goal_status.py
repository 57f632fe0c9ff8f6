"""Every goal status on small hand-made monthly series.

Common set-up unless stated: a 2026 goal (1 Jan – 31 Dec) on monthly sign-ups,
baseline 100 (Dec 2025), target 160. The latest value is June's, so the
expected progress is linear to 1 July: 181 / 365 = 49.6 %.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from kpidesk.domain.enums import Direction, Frequency, GoalKind, Unit
from kpidesk.domain.goals import (
    Goal,
    GoalStatus,
    KpiInfo,
    StatusBands,
    evaluate_goal,
    stepped_ramp,
)
from kpidesk.domain.goals.status import missing_periods
from kpidesk.errors import ValidationError

D = dt.date
SIGNUPS = KpiInfo("signups", "New sign-ups", Unit.COUNT, Direction.UP, Frequency.MONTH)
GOAL = Goal("signups", GoalKind.INCREASE_TO, D(2026, 1, 1), D(2026, 12, 31), target_value=160,
            statement="Increase new sign-ups to 160 a month by December")
EXPECTED_JUNE = 181 / 365


def monthly(values: list[float]) -> list[tuple[dt.date, float]]:
    """Monthly values from December 2025 on."""
    out = []
    year, month = 2025, 12
    for value in values:
        out.append((D(year, month, 1), float(value)))
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


def with_june(june: float) -> list[tuple[dt.date, float]]:
    # Dec 2025 = 100 (baseline), Jan–May rising, June as given
    return monthly([100, 105, 110, 115, 120, 125, june])


def test_on_track() -> None:
    # June 130: progress (130 − 100)/60 = 50 %; pace 0.5 / 0.496 = 1.008 ≥ 0.95
    ev = evaluate_goal(GOAL, SIGNUPS, with_june(130), D(2026, 7, 10))
    assert ev.status is GoalStatus.ON_TRACK
    assert ev.progress == pytest.approx(0.5)
    assert ev.expected == pytest.approx(EXPECTED_JUNE)
    assert ev.pace == pytest.approx(0.5 / EXPECTED_JUNE)
    assert ev.goal.baseline_value == 100  # defaulted from the data
    assert "Progress 50% vs 50% expected by Jun 2026" in ev.reason
    assert not ev.stale


def test_behind() -> None:
    # June 126: progress 26/60 = 43.3 %; pace 0.433 / 0.496 = 0.874 → behind (0.85–0.95)
    ev = evaluate_goal(GOAL, SIGNUPS, with_june(126), D(2026, 7, 10))
    assert ev.status is GoalStatus.BEHIND
    assert ev.pace == pytest.approx((26 / 60) / EXPECTED_JUNE)
    assert "pace 87%" in ev.reason


def test_at_risk() -> None:
    # June 120: progress 1/3; pace 0.333 / 0.496 = 0.672 < 0.85
    ev = evaluate_goal(GOAL, SIGNUPS, with_june(120), D(2026, 7, 10))
    assert ev.status is GoalStatus.AT_RISK
    assert "pace 67%" in ev.reason
    # what it takes: (160 − 120) over the 6 months June → December = +6.67 a month
    assert "Needs +6.67 a month from here; the trend gives +" in ev.reason
    on_track = evaluate_goal(GOAL, SIGNUPS, with_june(130), D(2026, 7, 10))
    assert "Needs" not in on_track.reason


def test_configurable_bands() -> None:
    # the same pace 0.672 is "behind" when the bands are 80 % / 60 %
    ev = evaluate_goal(GOAL, SIGNUPS, with_june(120), D(2026, 7, 10), bands=StatusBands(0.8, 0.6))
    assert ev.status is GoalStatus.BEHIND
    with pytest.raises(ValidationError):
        StatusBands(on_track=0.8, behind=0.9)


def test_achieved_before_the_due_date() -> None:
    ev = evaluate_goal(GOAL, SIGNUPS, with_june(161), D(2026, 7, 10))
    assert ev.status is GoalStatus.ACHIEVED
    assert "meets the goal (reach ≥ 160)" in ev.reason


def test_a_baseline_that_already_meets_the_target_is_not_achieved_by_the_baseline_alone() -> None:
    # the only value is the baseline (before the start): the goal is evaluated, not auto-achieved
    goal = dataclasses.replace(GOAL, target_value=90)
    ev = evaluate_goal(goal, SIGNUPS, monthly([100]), D(2026, 1, 20))
    assert ev.status is not GoalStatus.ACHIEVED


def test_achieved_and_missed_after_the_due_date() -> None:
    year = [100, 105, 110, 115, 120, 125, 130, 135, 140, 145, 150, 155]
    achieved = evaluate_goal(GOAL, SIGNUPS, monthly([*year, 165]), D(2027, 1, 15))
    assert achieved.status is GoalStatus.ACHIEVED
    assert "Dec 2026 closed at 165" in achieved.reason
    missed = evaluate_goal(GOAL, SIGNUPS, monthly([*year, 150]), D(2027, 1, 15))
    assert missed.status is GoalStatus.MISSED
    # progress (150 − 100)/60 = 83 %
    assert "short of the goal (reach ≥ 160) after 83% of the way" in missed.reason
    # a value after the due period does not rescue a missed goal
    late = evaluate_goal(GOAL, SIGNUPS, monthly([*year, 150, 170]), D(2027, 2, 15))
    assert late.status is GoalStatus.MISSED


def test_overdue_when_the_due_period_has_no_value() -> None:
    # due 31 Dec, today 15 Jan, last value November → the final result is unknown
    values = [100, 105, 110, 115, 120, 125, 130, 135, 140, 145, 150, 155]
    ev = evaluate_goal(GOAL, SIGNUPS, monthly(values), D(2027, 1, 15))
    assert ev.status is GoalStatus.OVERDUE
    assert "Dec 2026 has no value yet; the last value is 155 (Nov 2026)" in ev.reason
    assert ev.forecast is None  # no forecast for a finished goal


def test_stale_data_is_never_on_track() -> None:
    series = with_june(130)  # on track as of June
    # 10 Aug: only July is missing → one period, not stale, still on track
    fresh = evaluate_goal(GOAL, SIGNUPS, series, D(2026, 8, 10))
    assert fresh.status is GoalStatus.ON_TRACK
    assert fresh.missing == 1
    assert not fresh.stale
    # 10 Sep: July and August missing → stale, reported as behind with the reason
    stale = evaluate_goal(GOAL, SIGNUPS, series, D(2026, 9, 10))
    assert stale.stale
    assert stale.missing == 2
    assert stale.status is GoalStatus.BEHIND
    assert "No value for 2 monthly periods since Jun 2026" in stale.reason
    assert "Not reported as on track" in stale.reason


def test_stale_at_risk_goal_stays_at_risk() -> None:
    ev = evaluate_goal(GOAL, SIGNUPS, with_june(120), D(2026, 9, 10))
    assert ev.stale
    assert ev.status is GoalStatus.AT_RISK


def test_missing_periods_counts_complete_periods_only() -> None:
    assert missing_periods(D(2026, 8, 1), D(2026, 11, 25), SIGNUPS, D(2026, 1, 1)) == 2  # Sep, Oct
    assert missing_periods(D(2026, 10, 1), D(2026, 11, 25), SIGNUPS, D(2026, 1, 1)) == 0
    assert missing_periods(None, D(2026, 4, 2), SIGNUPS, D(2026, 1, 1)) == 3  # Jan–Mar, no value at all


def test_lower_is_better_goal() -> None:
    churn = KpiInfo("churn_rate", "Customer churn rate", Unit.PERCENT, Direction.DOWN, Frequency.MONTH)
    goal = Goal("churn_rate", GoalKind.DECREASE_TO, D(2026, 1, 1), D(2026, 12, 31), target_value=4.0)
    # baseline 5.0; June 4.5: progress (4.5 − 5)/(4 − 5) = 50 % → pace 1.008 → on track
    good = evaluate_goal(goal, churn, monthly([5.0, 4.9, 4.8, 4.7, 4.6, 4.55, 4.5]), D(2026, 7, 10))
    assert good.status is GoalStatus.ON_TRACK
    assert good.progress == pytest.approx(0.5)
    # June 5.2: churn went up → progress −20 % → at risk
    bad = evaluate_goal(goal, churn, monthly([5.0, 5.0, 5.1, 5.1, 5.2, 5.2, 5.2]), D(2026, 7, 10))
    assert bad.status is GoalStatus.AT_RISK
    assert bad.progress == pytest.approx(-0.2)
    done = evaluate_goal(goal, churn, monthly([5.0, 4.8, 4.6, 4.3, 3.9]), D(2026, 5, 10))
    assert done.status is GoalStatus.ACHIEVED


def test_band_goal_in_and_out() -> None:
    uptime = KpiInfo("uptime", "Uptime", Unit.PERCENT, Direction.BAND, Frequency.MONTH)
    goal = Goal("uptime", GoalKind.KEEP_IN_BAND, D(2026, 1, 1), D(2026, 6, 30), band_low=99.0, band_high=99.99)
    inside = evaluate_goal(goal, uptime, monthly([99.5, 99.6, 99.4, 99.7]), D(2026, 4, 10))
    assert inside.status is GoalStatus.ON_TRACK
    assert inside.progress == 1.0
    assert "inside the goal (within 99–99.99)" in inside.reason
    outside = evaluate_goal(goal, uptime, monthly([99.5, 99.6, 99.4, 98.2]), D(2026, 4, 10))
    assert outside.status is GoalStatus.AT_RISK
    assert outside.progress == 0.0
    six = [99.5, 99.6, 99.4, 99.7, 99.3, 99.2]
    assert evaluate_goal(goal, uptime, monthly([*six, 99.1]), D(2026, 7, 5)).status is GoalStatus.ACHIEVED
    assert evaluate_goal(goal, uptime, monthly([*six, 98.0]), D(2026, 7, 5)).status is GoalStatus.MISSED


def test_stay_above_and_stay_below() -> None:
    nps = KpiInfo("nps", "Net Promoter Score", Unit.SCORE, Direction.UP, Frequency.MONTH)
    above = Goal("nps", GoalKind.STAY_ABOVE, D(2026, 1, 1), D(2026, 12, 31), target_value=30)
    assert evaluate_goal(above, nps, monthly([32, 31, 35]), D(2026, 2, 10)).status is GoalStatus.ON_TRACK
    assert evaluate_goal(above, nps, monthly([32, 31, 28]), D(2026, 2, 10)).status is GoalStatus.AT_RISK
    below = Goal("nps", GoalKind.STAY_BELOW, D(2026, 1, 1), D(2026, 12, 31), target_value=30)
    assert evaluate_goal(below, nps, monthly([32, 31, 28]), D(2026, 2, 10)).status is GoalStatus.ON_TRACK


def test_per_period_targets_change_the_verdict() -> None:
    # stepped plan: Jan–Mar 100, Apr–Jun 120, Jul–Sep 140, Oct–Dec 160
    schedule = stepped_ramp(D(2026, 1, 1), D(2026, 12, 1), Frequency.MONTH, 100, 160, steps=4)
    series = monthly([100, 101, 103, 106, 110, 115, 121])
    # June 121: progress 21/60 = 35 %; plan for June 120 → expected 20/60 → pace 1.05 → on track
    planned = evaluate_goal(GOAL, SIGNUPS, series, D(2026, 7, 10), schedule=schedule)
    assert planned.status is GoalStatus.ON_TRACK
    assert planned.expected == pytest.approx(1 / 3)
    # against the straight line the same value is at risk: 0.35 / 0.496 = 0.71
    linear = evaluate_goal(GOAL, SIGNUPS, series, D(2026, 7, 10))
    assert linear.status is GoalStatus.AT_RISK


def test_relative_target_goal_status() -> None:
    onboarding = KpiInfo("onboarding_completion", "Onboarding completion", Unit.PERCENT, Direction.UP,
                         Frequency.MONTH)
    goal = Goal("onboarding_completion", GoalKind.INCREASE_TO, D(2026, 7, 1), D(2026, 9, 30),
                relative_change=25, relative_mode="percent",
                statement="Increase onboarding completion by 25% within the next quarter")
    series = [(D(2026, 6, 1), 40.0), (D(2026, 7, 1), 43.0), (D(2026, 8, 1), 46.0)]
    ev = evaluate_goal(goal, onboarding, series, D(2026, 9, 5))
    # baseline June 40 → target 50; August 46 → 60 %; expected to 1 Sep: 62/92 = 67.4 % → pace 0.89
    assert ev.target == pytest.approx(50)
    assert ev.progress == pytest.approx(0.6)
    assert ev.expected == pytest.approx(62 / 92)
    assert ev.status is GoalStatus.BEHIND


def test_no_data_and_not_started() -> None:
    assert evaluate_goal(GOAL, SIGNUPS, [], D(2026, 3, 10)).status is GoalStatus.AT_RISK
    later = dataclasses.replace(GOAL, start=D(2026, 6, 1))
    ev = evaluate_goal(later, SIGNUPS, [], D(2026, 5, 10))
    assert ev.status is GoalStatus.ON_TRACK
    assert "Starts on 2026-06-01" in ev.reason
    # with data before the start, the baseline is named (May = 125 for a June start)
    ev = evaluate_goal(later, SIGNUPS, monthly([100, 105, 110, 115, 120, 125]), D(2026, 5, 20))
    assert ev.status is GoalStatus.ON_TRACK
    assert ev.reason == "Starts on 2026-06-01 from a baseline of 125; goal reach ≥ 160."


def test_relative_target_on_zero_baseline_is_reported_not_raised() -> None:
    goal = Goal("signups", GoalKind.INCREASE_TO, D(2026, 1, 1), D(2026, 12, 31), relative_change=10,
                relative_mode="percent")
    ev = evaluate_goal(goal, SIGNUPS, monthly([0, 1, 2]), D(2026, 2, 10))
    assert ev.status is GoalStatus.AT_RISK
    assert "cannot be worked out" in ev.reason

"""SMART check: every pass / warn / fail branch of every letter."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from kpidesk.domain.enums import Direction, Frequency, GoalKind, Unit
from kpidesk.domain.goals import Goal, KpiInfo
from kpidesk.domain.goals.smart import (
    Verdict,
    check_achievable,
    check_measurable,
    check_relevant,
    check_smart,
    check_specific,
    check_time_bound,
    compare_rates,
)

D = dt.date
ONB = KpiInfo("onboarding_completion", "Onboarding completion", Unit.PERCENT, Direction.UP, Frequency.MONTH)
# Dec 2025 – Jun 2026: 30, 31, 33, 34, 36, 37, 38 (about +1.33 a month)
HISTORY = [(D(2025, 12, 1), 30.0), (D(2026, 1, 1), 31.0), (D(2026, 2, 1), 33.0), (D(2026, 3, 1), 34.0),
           (D(2026, 4, 1), 36.0), (D(2026, 5, 1), 37.0), (D(2026, 6, 1), 38.0)]
GOOD = Goal(
    "onboarding_completion", GoalKind.INCREASE_TO, D(2026, 7, 1), D(2026, 12, 31), target_value=45,
    statement="Increase onboarding completion from 38% to 45% by December",
    objective="Activate more of the users we acquire",
)


def test_specific_branches() -> None:
    assert check_specific(GOOD, ONB).verdict is Verdict.PASS
    # key spelled with spaces counts as naming the KPI
    by_key = dataclasses.replace(GOOD, statement="Raise onboarding completion to 45")
    assert check_specific(by_key, ONB).verdict is Verdict.PASS
    no_kpi = check_specific(dataclasses.replace(GOOD, statement="Increase it to 45% by December"), ONB)
    assert no_kpi.verdict is Verdict.WARN
    assert "does not name the KPI (Onboarding completion)" in no_kpi.sentence
    no_change = check_specific(dataclasses.replace(GOOD, statement="Onboarding completion matters"), ONB)
    assert no_change.verdict is Verdict.WARN
    assert "the change" in no_change.sentence
    neither = check_specific(dataclasses.replace(GOOD, statement="Make users happy"), ONB)
    assert neither.verdict is Verdict.FAIL
    empty = check_specific(dataclasses.replace(GOOD, statement="  "), ONB)
    assert empty.verdict is Verdict.FAIL
    assert "no statement" in empty.sentence


def test_measurable_branches() -> None:
    ok = check_measurable(GOOD, ONB, HISTORY)
    assert ok.verdict is Verdict.PASS
    assert "7 values from 2025-12-01 to 2026-06-01; target 45" in ok.sentence
    no_target = dataclasses.replace(GOOD, target_value=None)
    assert check_measurable(no_target, ONB, HISTORY).verdict is Verdict.FAIL
    relative_without_data = dataclasses.replace(GOOD, target_value=None, relative_change=10, relative_mode="percent")
    finding = check_measurable(relative_without_data, ONB, [])
    assert finding.verdict is Verdict.FAIL
    assert "no baseline" in finding.sentence
    no_unit = check_measurable(GOOD, dataclasses.replace(ONB, unit=""), HISTORY)
    assert no_unit.verdict is Verdict.WARN
    no_data = check_measurable(GOOD, ONB, [])
    assert no_data.verdict is Verdict.WARN
    assert "no values yet" in no_data.sentence


def test_compare_rates_by_hand() -> None:
    # baseline June 38 (defaulted: last month ended before 1 July); due December → h = 6 periods;
    # required (45 − 38)/6 = 1.1667 per month; history spans 6 months → window 6:
    # only pair Dec 2025 → Jun 2026: (38 − 30)/6 = 1.3333
    rates = compare_rates(GOOD, ONB, HISTORY)
    assert rates is not None
    assert rates.horizon == 6
    assert rates.window == 6
    assert rates.required == pytest.approx(7 / 6)
    assert rates.best == pytest.approx(8 / 6)
    assert rates.ratio == pytest.approx(7 / 8)


def test_achievable_pass_warn_fail_with_numbers() -> None:
    # needs 1.17/month, best 1.33/month, high probability → pass
    assert check_achievable(GOOD, ONB, HISTORY, probability=0.8).verdict is Verdict.PASS
    # target 47: needs 1.5/month = 1.125× the best → warn
    warn = check_achievable(dataclasses.replace(GOOD, target_value=47), ONB, HISTORY, probability=0.6)
    assert warn.verdict is Verdict.WARN
    assert "Needs +1.5 per month over 6 periods" in warn.sentence
    assert "best observed over 6 periods is +1.33 per month (1.1× the best)" in warn.sentence
    # a low probability alone warns
    assert check_achievable(GOOD, ONB, HISTORY, probability=0.3).verdict is Verdict.WARN
    # target 60: needs 3.67/month = 2.75× the best → fail, with the numbers
    fail = check_achievable(dataclasses.replace(GOOD, target_value=60), ONB, HISTORY)
    assert fail.verdict is Verdict.FAIL
    assert "(2.8× the best)" in fail.sentence
    assert "forecast probability 0%" in fail.sentence
    # a very low probability alone fails
    assert check_achievable(GOOD, ONB, HISTORY, probability=0.05).verdict is Verdict.FAIL


def test_one_outlier_month_does_not_set_the_best_rate() -> None:
    # the same history with March spiking to 45 (Dec..Jun: 30, 31, 33, 45, 36, 37, 38).
    # Running median of three: Feb median(31, 33, 45) = 33, Mar median(33, 45, 36) = 36,
    # Apr median(45, 36, 37) = 37 → 30, 31, 33, 36, 37, 37, 38. A goal due in September has a
    # 3-month horizon: best smoothed 3-month rate (36 − 30)/3 = 2 (Dec → Mar, or Jan 31 → Apr 37),
    # where the raw spike would have set it at (45 − 30)/3 = 5
    spiky = [(day, 45.0 if day == D(2026, 3, 1) else value) for day, value in HISTORY]
    rates = compare_rates(dataclasses.replace(GOOD, due=D(2026, 9, 30)), ONB, spiky)
    assert rates is not None
    assert rates.window == 3
    assert rates.best == pytest.approx(2.0)


def test_achievable_edge_cases() -> None:
    falling = [(D(2026, m, 1), 50.0 - m) for m in range(1, 7)]
    never = check_achievable(GOOD, ONB, falling, probability=0.5)
    assert never.verdict is Verdict.FAIL
    assert "never moved that way" in never.sentence
    no_stretch = check_achievable(dataclasses.replace(GOOD, target_value=35), ONB, HISTORY)
    assert no_stretch.verdict is Verdict.WARN
    assert "already meets the target" in no_stretch.sentence
    short = check_achievable(GOOD, ONB, [(D(2026, 6, 1), 38.0)])
    assert short.verdict is Verdict.WARN
    assert "too little history" in short.sentence
    assert check_achievable(GOOD, ONB, [(D(2026, 6, 1), 38.0)], probability=0.01).verdict is Verdict.FAIL


def test_achievable_for_holding_goals() -> None:
    goal = Goal("uptime", GoalKind.STAY_ABOVE, D(2026, 7, 1), D(2026, 12, 31), target_value=99.5)
    kpi = KpiInfo("uptime", "Uptime", Unit.PERCENT, Direction.UP, Frequency.MONTH)
    months = [D(2026, m, 1) for m in range(1, 9)]

    def held(n: int) -> list[tuple[dt.date, float]]:
        return [(day, 99.9 if i < n else 99.0) for i, day in enumerate(months)]

    passing = check_achievable(goal, kpi, held(8), probability=0.9)
    assert passing.verdict is Verdict.PASS
    assert "held in 8 of the last 8 periods" in passing.sentence
    assert check_achievable(goal, kpi, held(4), probability=0.9).verdict is Verdict.WARN  # 50 %
    assert check_achievable(goal, kpi, held(2), probability=0.9).verdict is Verdict.FAIL  # 25 %
    assert check_achievable(goal, kpi, [], probability=None).verdict is Verdict.WARN


def test_relevant_branches() -> None:
    assert check_relevant(GOOD).verdict is Verdict.PASS
    why = dataclasses.replace(GOOD, objective="", rationale="Users who finish onboarding retain twice as well")
    assert check_relevant(why).verdict is Verdict.PASS
    short = dataclasses.replace(GOOD, objective="", rationale="important")
    assert check_relevant(short).verdict is Verdict.WARN
    none = check_relevant(dataclasses.replace(GOOD, objective="", rationale=""))
    assert none.verdict is Verdict.FAIL
    assert "No objective and no rationale" in none.sentence


def test_time_bound_branches() -> None:
    ok = check_time_bound(GOOD, ONB, created=D(2026, 6, 20))
    assert ok.verdict is Verdict.PASS
    assert "6 monthly values" in ok.sentence
    backwards = dataclasses.replace(GOOD, due=D(2026, 6, 1))
    assert check_time_bound(backwards, ONB).verdict is Verdict.FAIL
    late = check_time_bound(GOOD, ONB, created=D(2027, 1, 5))
    assert late.verdict is Verdict.FAIL
    assert "already past" in late.sentence
    one_period = dataclasses.replace(GOOD, due=D(2026, 9, 30))
    quarterly = dataclasses.replace(ONB, frequency=Frequency.QUARTER)
    single = check_time_bound(one_period, quarterly, created=D(2026, 6, 1))
    assert single.verdict is Verdict.FAIL
    assert "single quarterly period" in single.sentence
    two = dataclasses.replace(GOOD, due=D(2026, 8, 31))
    assert check_time_bound(two, ONB, created=D(2026, 6, 1)).verdict is Verdict.WARN
    far = dataclasses.replace(GOOD, due=D(2030, 12, 31))
    assert check_time_bound(far, ONB, created=D(2026, 6, 1)).verdict is Verdict.WARN


def test_check_smart_returns_five_letters_in_order() -> None:
    findings = check_smart(GOOD, ONB, HISTORY, created=D(2026, 6, 20), probability=0.8)
    assert [f.letter for f in findings] == ["S", "M", "A", "R", "T"]
    assert all(f.verdict is Verdict.PASS for f in findings)
    assert findings[0].line().startswith("S Specific    pass")


def test_check_smart_turns_user_errors_into_failed_findings() -> None:
    # +25 % on a zero baseline cannot be resolved: M and A fail with the sentence, nothing raises
    goal = dataclasses.replace(GOOD, target_value=None, relative_change=25, relative_mode="percent")
    zero = [(D(2026, 5, 1), 0.0), (D(2026, 6, 1), 0.0)]
    findings = check_smart(goal, ONB, zero, created=D(2026, 6, 20))
    assert findings[1].verdict is Verdict.FAIL
    assert findings[2].verdict is Verdict.FAIL
    assert "non-zero baseline" in findings[2].sentence


def test_decrease_goal_rates_are_shown_in_the_kpis_direction() -> None:
    churn = KpiInfo("churn_rate", "Customer churn rate", Unit.PERCENT, Direction.DOWN, Frequency.MONTH)
    # 6.0 falling 0.1 a month to 5.4 in June (baseline); goal 4.5 by December:
    # needs (4.5 − 5.4)/6 = −0.15/month; best over 6 months (5.4 − 6.0)/6 = −0.1/month → 1.5×
    history = [(D(2025, 12, 1), 6.0)] + [(D(2026, m, 1), 6.0 - 0.1 * m) for m in range(1, 7)]
    goal = Goal("churn_rate", GoalKind.DECREASE_TO, D(2026, 7, 1), D(2026, 12, 31), target_value=4.5,
                statement="Reduce churn to 4.5% by December", objective="Retention")
    finding = check_achievable(goal, churn, history, probability=0.6)
    assert finding.verdict is Verdict.WARN  # above the best, below the fail ratio
    assert "Needs -0.15 per month" in finding.sentence
    assert "is -0.1 per month (1.5× the best)" in finding.sentence


def test_probability_failure_is_explained() -> None:
    finding = check_achievable(GOOD, ONB, HISTORY, probability=0.02)
    assert finding.verdict is Verdict.FAIL
    assert "the KPI's trend does not get there" in finding.sentence


def test_measurable_fails_a_target_the_kpi_cannot_take() -> None:
    """80 % completion doubled is 160 %: beyond the 0–100 % a percentage can take."""
    import datetime as dt

    from kpidesk.domain.enums import GoalKind
    from kpidesk.domain.goals.model import Goal, KpiInfo
    from kpidesk.domain.goals.smart import Verdict, check_measurable

    kpi = KpiInfo("onboarding_completion", "Onboarding completion", "percent", "up", "month", 0.0, 100.0)
    goal = Goal(kpi_key=kpi.key, kind=GoalKind.INCREASE_TO, start=dt.date(2026, 1, 1), due=dt.date(2026, 6, 30),
                statement="Double onboarding completion", target_value=160.0)
    finding = check_measurable(goal, kpi, [(dt.date(2025, 12, 1), 80.0)])
    assert finding.verdict is Verdict.FAIL
    assert "outside the values Onboarding completion can take (0–100 percent)" in finding.sentence

"""Attention list and objective roll-up on hand-made KPIs."""

from __future__ import annotations

import datetime as dt

import pytest

from kpidesk.domain.enums import Direction, Frequency, GoalKind, Unit
from kpidesk.domain.goals import (
    Anomaly,
    AttentionKind,
    Goal,
    GoalStatus,
    KpiInfo,
    KpiSnapshot,
    RagThresholds,
    attention_list,
    evaluate_goal,
    summarize_objective,
)
from kpidesk.domain.goals.attention import kpi_items

D = dt.date
TODAY = D(2026, 11, 25)
CHURN = KpiInfo("churn_rate", "Customer churn rate", Unit.PERCENT, Direction.DOWN, Frequency.MONTH)
SIGNUPS = KpiInfo("signups", "New sign-ups", Unit.COUNT, Direction.UP, Frequency.MONTH)


OCTOBER = D(2026, 10, 1)


def months(values: list[float], last: dt.date = OCTOBER) -> list[tuple[dt.date, float]]:
    """Monthly values ending at ``last``."""
    out = []
    year, month = last.year, last.month
    for value in reversed(values):
        out.append((D(year, month, 1), float(value)))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return sorted(out)


def test_threshold_crossed_names_the_previous_colour() -> None:
    snap = KpiSnapshot(CHURN, months([2.8, 2.9, 5.4]), RagThresholds(Direction.DOWN, green=3, amber=5))
    items = kpi_items(snap, TODAY)
    threshold = next(i for i in items if i.kind is AttentionKind.THRESHOLD)
    assert threshold.severity == 3
    assert threshold.reason == "red at 5.4 in Oct 2026 (green ≤ 3, amber ≤ 5, was green in Sep 2026)."
    amber = kpi_items(KpiSnapshot(CHURN, months([4.0, 4.2]), RagThresholds(Direction.DOWN, 3, 5)), TODAY)
    assert [(i.kind, i.severity) for i in amber] == [(AttentionKind.THRESHOLD, 2)]
    green = kpi_items(KpiSnapshot(CHURN, months([2.0, 2.1]), RagThresholds(Direction.DOWN, 3, 5)), TODAY)
    assert green == []


def test_large_moves_good_and_bad() -> None:
    # 2.9 → 5.4 is +86 %; churn is lower-is-better → bad
    bad = [i for i in kpi_items(KpiSnapshot(CHURN, months([2.9, 5.4])), TODAY) if i.kind is AttentionKind.MOVE]
    assert bad[0].reason == "up 86% vs Sep 2026 (2.9 → 5.4) (bad)."
    assert bad[0].severity == 2
    # sign-ups 100 → 125 (+25 %) → good, severity 1; 100 → 115 (+15 %) is below the 20 % line
    good = kpi_items(KpiSnapshot(SIGNUPS, months([100, 125])), TODAY)
    assert [(i.kind, i.severity) for i in good] == [(AttentionKind.MOVE, 1)]
    assert "(good)" in good[0].reason
    assert kpi_items(KpiSnapshot(SIGNUPS, months([100, 115])), TODAY) == []
    assert len(kpi_items(KpiSnapshot(SIGNUPS, months([100, 115])), TODAY, move_threshold=0.1)) == 1


def test_stale_kpi() -> None:
    items = kpi_items(KpiSnapshot(SIGNUPS, months([100, 101], last=D(2026, 8, 1))), TODAY)
    assert [(i.kind, i.reason) for i in items] == [
        (AttentionKind.STALE, "no value since Aug 2026 (2 monthly periods missing).")
    ]
    assert kpi_items(KpiSnapshot(SIGNUPS, months([100, 101], last=D(2026, 9, 1))), TODAY) == []


def test_anomalies_only_in_the_latest_period() -> None:
    snaps = [KpiSnapshot(SIGNUPS, months([100, 101, 99]), product="Mobile")]
    anomalies = [
        Anomaly("signups", D(2026, 10, 1), 99, expected=130, note="Tracking outage?"),
        Anomaly("signups", D(2026, 8, 1), 100),  # old news
        Anomaly("unknown", D(2026, 10, 1), 1),  # KPI not in view
    ]
    items = attention_list([], snaps, TODAY, anomalies=anomalies)
    assert len(items) == 1
    assert items[0].kind is AttentionKind.ANOMALY
    assert items[0].reason == "unusual value 99 in Oct 2026, expected about 130. Tracking outage?"
    assert items[0].product == "Mobile"
    # with two products sharing a key, the anomaly's product picks the KPI
    two = [KpiSnapshot(SIGNUPS, months([5, 6, 7], last=D(2026, 9, 1)), product="Web"), *snaps]
    matched = attention_list([], two, TODAY, anomalies=[Anomaly("signups", D(2026, 10, 1), 99, product="Mobile")])
    assert [(i.kind, i.product) for i in matched] == [(AttentionKind.ANOMALY, "Mobile")]


def test_attention_list_collects_and_sorts() -> None:
    goal = Goal("signups", GoalKind.INCREASE_TO, D(2026, 1, 1), D(2026, 12, 31), target_value=200, id=7,
                statement="Double new sign-ups")
    series = months([100, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109], last=D(2026, 10, 1))
    ev = evaluate_goal(goal, SIGNUPS, series, TODAY)
    assert ev.status is GoalStatus.AT_RISK
    on_track = evaluate_goal(
        Goal("signups", GoalKind.INCREASE_TO, D(2026, 1, 1), D(2026, 12, 31), target_value=109.5),
        SIGNUPS, series, TODAY,
    )
    snaps = [
        KpiSnapshot(SIGNUPS, series, product="Web"),
        KpiSnapshot(CHURN, months([2.9, 4.2]), RagThresholds(Direction.DOWN, 3, 5), product="Web"),
    ]
    items = attention_list([ev, on_track], snaps, TODAY, product_of_goal={7: "Web"})
    kinds = [(i.kind, i.severity) for i in items]
    # at-risk goal (3) first; then amber threshold (2) before the bad move (2)
    assert kinds == [(AttentionKind.GOAL, 3), (AttentionKind.THRESHOLD, 2), (AttentionKind.MOVE, 2)]
    assert items[0].goal_id == 7
    assert items[0].subject == "Double new sign-ups"
    assert items[0].reason.startswith("at risk. Progress")
    assert items[0].product == "Web"
    assert items[0].line().startswith("[goal] Double new sign-ups: at risk.")


def test_objective_takes_the_worst_status_and_average_progress() -> None:
    series = months([100, 150, 165], last=D(2026, 3, 1))
    achieved = evaluate_goal(
        Goal("signups", GoalKind.INCREASE_TO, D(2026, 2, 1), D(2026, 12, 31), target_value=140), SIGNUPS,
        series, D(2026, 4, 5),
    )
    # baseline Jan 100 → target 200; March 165 → 65 %, expected to 1 Apr: 59/334 → on track
    on_track = evaluate_goal(
        Goal("signups", GoalKind.INCREASE_TO, D(2026, 2, 1), D(2026, 12, 31), target_value=200), SIGNUPS,
        series, D(2026, 4, 5),
    )
    assert achieved.status is GoalStatus.ACHIEVED
    assert on_track.status is GoalStatus.ON_TRACK
    summary = summarize_objective("Grow the top of the funnel", [achieved, on_track])
    assert summary.status is GoalStatus.ON_TRACK
    # achieved progress (165 − 100)/40 = 1.625 clipped to 1; on track 0.65 → mean 0.825
    assert summary.average_progress == pytest.approx((1 + 0.65) / 2)
    assert summary.line() == "Grow the top of the funnel: on track (2 goals, average progress 82%)"
    empty = summarize_objective("Nothing yet", [])
    assert empty.status is None
    assert empty.line() == "Nothing yet: no goals (0 goals)"

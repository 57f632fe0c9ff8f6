"""GoalService on a real SQLite workspace: add, baseline from data, evaluate, check-ins, objectives."""

from __future__ import annotations

import datetime as dt

import pytest

from kpidesk.domain.goals import GoalStatus, Verdict
from kpidesk.errors import NotFoundError, ReadOnlyError, ValidationError
from kpidesk.services.goal_service import GoalService

D = dt.date


@pytest.fixture
def signups(workspace, product_with_kpis):  # type: ignore[no-untyped-def]
    """Acme sign-ups, Dec 2025 – Jun 2026: 100, 105, ..., 130."""
    _, kpis = product_with_kpis
    kpi = kpis["signups"]
    for i, day in enumerate([D(2025, 12, 1)] + [D(2026, m, 1) for m in range(1, 7)]):
        workspace.measurements.record(kpi.id, day, 100 + 5 * i)
    return kpi


def test_add_takes_the_baseline_from_the_data_and_resolves_relative_targets(workspace, signups) -> None:  # type: ignore[no-untyped-def]
    goals = GoalService(workspace.db)
    row, changes = goals.add(signups.id, kind="increase_to", relative_change=60, relative_mode="percent",
                             start_date=D(2026, 1, 1), due_date=D(2026, 12, 31),
                             statement="Increase new sign-ups by 60% this year")
    assert changes.touches("goal")
    # baseline: December 2025 (the last month that ended before 1 January) = 100 → target 160
    assert row.baseline_value == 100
    assert row.baseline_date == D(2025, 12, 1)
    ev = goals.evaluate(row.id, today=D(2026, 7, 10))
    assert ev.target == pytest.approx(160)
    # June 130: progress 50 %, expected 181/365 → pace 1.008 → on track
    assert ev.status is GoalStatus.ON_TRACK
    assert ev.progress == pytest.approx(0.5)


def test_add_refuses_bad_goals_with_a_sentence(workspace, signups, product_with_kpis) -> None:  # type: ignore[no-untyped-def]
    goals = GoalService(workspace.db)
    with pytest.raises(ValidationError, match="must be after the start"):
        goals.add(signups.id, kind="increase_to", target_value=10, start_date=D(2026, 5, 1), due_date=D(2026, 4, 1))
    with pytest.raises(ValidationError, match="not a goal kind"):
        goals.add(signups.id, kind="grow", target_value=10, due_date=D(2027, 4, 1))
    with pytest.raises(ValidationError, match="needs a due date"):
        goals.add(signups.id, kind="increase_to", target_value=10)
    with pytest.raises(ValidationError, match="not a date"):
        goals.add(signups.id, kind="increase_to", target_value=10, due_date="next tuesday")
    # a relative target on a KPI with no data cannot be resolved
    nps = product_with_kpis[1]["nps"]
    with pytest.raises(ValidationError, match="no value before 2025-01-01 to apply the relative change"):
        goals.add(nps.id, kind="increase_to", relative_change=10, start_date=D(2025, 1, 1),
                  due_date=D(2025, 6, 30))
    with pytest.raises(NotFoundError):
        goals.add(9999, kind="increase_to", target_value=1, due_date=D(2027, 1, 1))
    assert goals.list() == []


def test_update_archive_and_list(workspace, signups) -> None:  # type: ignore[no-untyped-def]
    goals = GoalService(workspace.db)
    row, _ = goals.add(signups.id, kind="increase_to", target_value=160, start_date=D(2026, 1, 1),
                       due_date=D(2026, 12, 31))
    updated, _ = goals.update(row.id, target_value=200, owner="Sam")
    assert updated.target_value == 200
    assert updated.version == row.version + 1
    with pytest.raises(ValidationError, match="must be after"):
        goals.update(row.id, due_date=D(2025, 1, 1))
    assert goals.get(row.id).due_date == D(2026, 12, 31)  # the refused edit wrote nothing
    goals.archive(row.id)
    assert goals.list() == []
    assert [g.id for g in goals.list(include_archived=True)] == [row.id]
    goals.archive(row.id, archived=False)
    assert [g.id for g in goals.list("Acme")] == [row.id]


def test_checkins_keep_history_and_fill_missing_periods(workspace, signups) -> None:  # type: ignore[no-untyped-def]
    goals = GoalService(workspace.db)
    row, _ = goals.add(signups.id, kind="increase_to", target_value=160, start_date=D(2026, 1, 1),
                       due_date=D(2026, 12, 31), confidence=5)
    goals.checkin(row.id, D(2026, 7, 5), confidence=6, note="Campaign live")
    goals.checkin(row.id, D(2026, 8, 3), value=142, confidence=8, note="Read from the ads dashboard")
    history = goals.checkins(row.id)
    assert [(c.date, c.value, c.confidence) for c in history] == [
        (D(2026, 7, 5), None, 6), (D(2026, 8, 3), 142, 8)]
    assert goals.get(row.id).confidence == 8  # follows the latest check-in
    # the August check-in value stands in for the missing August measurement:
    # progress (142 − 100)/60 = 70 %; expected to 1 Sep: 243/365 = 66.6 % → on track
    ev = goals.evaluate(row.id, today=D(2026, 9, 10))
    assert ev.latest == (D(2026, 8, 1), 142)
    assert ev.status is GoalStatus.ON_TRACK
    # a measurement wins over a check-in value for the same period
    workspace.measurements.record(signups.id, D(2026, 8, 1), 120)
    assert goals.evaluate(row.id, today=D(2026, 9, 10)).latest == (D(2026, 8, 1), 120)
    with pytest.raises(ValidationError, match="needs a value, a confidence or a note"):
        goals.checkin(row.id, D(2026, 9, 1))
    with pytest.raises(ValidationError, match="between 1 and 10"):
        goals.checkin(row.id, D(2026, 9, 1), confidence=11)
    with pytest.raises(ValidationError, match="Check-in value for New sign-ups: -5 is below 0"):
        goals.checkin(row.id, D(2026, 9, 1), value=-5)


def test_objectives_and_smart_check(workspace, signups) -> None:  # type: ignore[no-untyped-def]
    goals = GoalService(workspace.db)
    objective = goals.find_or_add_objective("Grow the funnel", product="Acme")
    assert goals.find_or_add_objective("grow the FUNNEL", product="Acme").id == objective.id
    row, _ = goals.add(signups.id, kind="increase_to", target_value=160, start_date=D(2026, 1, 1),
                       due_date=D(2026, 12, 31), objective_id=objective.id,
                       statement="Increase new sign-ups to 160 a month by December")
    findings = goals.smart_check(row.id)
    assert [f.letter for f in findings] == list("SMART")
    assert findings[0].verdict is Verdict.PASS
    assert findings[3].sentence == 'Serves the objective "Grow the funnel".'
    preview = goals.preview_smart(signups.id, kind="increase_to", target_value=160, start_date=D(2026, 1, 1),
                                  due_date=D(2026, 12, 31), today=D(2025, 12, 20))
    assert preview[3].verdict is Verdict.FAIL  # no objective, no rationale yet
    with pytest.raises(NotFoundError):
        goals.add(signups.id, kind="increase_to", target_value=1, due_date=D(2027, 1, 1), objective_id=999)


def test_smart_check_judges_with_the_data_known_when_the_goal_was_written(workspace, signups) -> None:  # type: ignore[no-untyped-def]
    from kpidesk.storage.models import Goal as GoalRow

    goals = GoalService(workspace.db)
    row, _ = goals.add(signups.id, kind="increase_to", target_value=160, start_date=D(2026, 3, 1),
                       due_date=D(2026, 12, 31), statement="Increase new sign-ups to 160")
    with workspace.db.session() as session:
        stored = session.get(GoalRow, row.id)
        stored.created_at = dt.datetime(2026, 2, 20, 9, 0, tzinfo=dt.UTC)
        session.commit()
    # on 20 Feb only Dec 2025 and Jan 2026 had ended: 2 of the 7 values
    measurable = goals.smart_check(row.id)[1]
    assert "2 values from 2025-12-01 to 2026-01-01" in measurable.sentence


def test_targets_drive_expected_progress(workspace, signups) -> None:  # type: ignore[no-untyped-def]
    from kpidesk.services.target_service import TargetService

    goals = GoalService(workspace.db)
    row, _ = goals.add(signups.id, kind="increase_to", target_value=160, start_date=D(2026, 1, 1),
                       due_date=D(2026, 12, 31))
    # linear: June 130 → pace 1.008, on track. A plan asking 150 by June: expected (150 − 100)/60 = 83 %
    # → pace 0.5/0.833 = 0.6 → at risk
    TargetService(workspace.db).set(signups.id, D(2026, 6, 1), 150)
    ev = goals.evaluate(row.id, today=D(2026, 7, 10))
    assert ev.expected == pytest.approx(50 / 60)
    assert ev.status is GoalStatus.AT_RISK


def test_read_only_workspace_refuses_writes(db_target, signups, workspace) -> None:  # type: ignore[no-untyped-def]
    from kpidesk.services.workspace import Workspace

    workspace.close()
    with Workspace.open(db_target, read_only=True) as ro, pytest.raises(ReadOnlyError):
        GoalService(ro.db).add(signups.id, kind="increase_to", target_value=1, due_date=D(2027, 1, 1))

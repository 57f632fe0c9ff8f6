"""The demo workspace lands goals in every status; ``kpidesk status`` prints them with reasons."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kpidesk.cli.main import main
from kpidesk.domain.goals import Anomaly, AttentionKind, GoalStatus
from kpidesk.services.status_service import StatusService

TODAY = dt.date(2026, 11, 25)  # the day the session demo was built for (tests/conftest.py)


def test_demo_goals_cover_every_status(demo_workspace) -> None:  # type: ignore[no-untyped-def]
    report = StatusService(demo_workspace.db).report(today=TODAY, detect_anomalies=False)
    statuses = {ev.status for ev in report.evaluations}
    assert statuses == set(GoalStatus)
    stale = [ev for ev in report.evaluations if ev.stale]
    assert len(stale) == 1
    assert stale[0].status is GoalStatus.BEHIND  # on pace, but never "on track" on stale data
    assert stale[0].pace is not None
    assert stale[0].pace >= 0.95
    assert all(ev.reason for ev in report.evaluations)
    relative = [ev for ev in report.evaluations if ev.goal.relative_change is not None]
    assert relative
    assert relative[0].target == pytest.approx(relative[0].goal.baseline_value * 1.08)
    # each objective takes the worst status of its goals
    assert {o.title: o.status for o in report.objectives} == {
        "Activate and keep more users": GoalStatus.AT_RISK,
        "Grow recurring revenue": GoalStatus.MISSED,
        "Run a reliable marketplace": GoalStatus.OVERDUE,
    }
    kinds = {item.kind for item in report.attention}
    assert {AttentionKind.GOAL, AttentionKind.THRESHOLD, AttentionKind.STALE} <= kinds
    assert [i.severity for i in report.attention] == sorted((i.severity for i in report.attention), reverse=True)


def test_status_report_takes_anomalies_from_the_metrics_engine(demo_workspace) -> None:  # type: ignore[no-untyped-def]
    service = StatusService(demo_workspace.db)
    kpi = demo_workspace.kpis.resolve("mau", "Pulse")
    last = service.goals.series(kpi.id)[-1]
    fed = [Anomaly("mau", last[0], last[1], expected=last[1] * 0.8, product="Pulse")]
    report = service.report("Pulse", today=TODAY, anomalies=fed)
    anomalies = [i for i in report.attention if i.kind is AttentionKind.ANOMALY]
    assert [(a.subject, a.product) for a in anomalies] == [("Monthly active users", "Pulse")]
    assert {report.product_of_goal[ev.goal.id] for ev in report.evaluations} == {"Pulse"}


def test_anomaly_detection_runs_on_the_demo(demo_workspace) -> None:  # type: ignore[no-untyped-def]
    # whatever the detector flags must be in a KPI's latest period (older anomalies are not news)
    report = StatusService(demo_workspace.db).report(today=TODAY)
    for anomaly in report.anomalies:
        kpi = demo_workspace.kpis.resolve(anomaly.kpi_key, anomaly.product)
        assert StatusService(demo_workspace.db).goals.series(kpi.id)[-1][0] == anomaly.period


def test_kpidesk_status_prints_goals_with_reasons(demo_db_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", str(demo_db_file), "--read-only", "status", "--today", TODAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Status as of 2026-11-25: 9 goals")
    for label in ("ON TRACK", "BEHIND", "AT RISK", "ACHIEVED", "MISSED", "OVERDUE"):
        assert label in out
    assert "(stale)" in out
    assert "Progress " in out
    assert "expected by Oct 2026" in out
    assert "Due 2026-09-30 passed and Sep 2026 has no value yet" in out
    assert "chance of meeting the goal" in out
    assert "Needs attention (" in out
    assert "[stale] Tickets resolved within SLA: no value since Aug 2026" in out


def test_kpidesk_status_for_one_product(demo_db_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", str(demo_db_file), "--read-only", "status", "--product", "Ledger",
                 "--today", TODAY.isoformat(), "--no-anomalies"]) == 0
    out = capsys.readouterr().out
    assert "in Ledger" in out
    assert "\nPulse\n" not in out
    assert "\nLedger\n" in out

"""The goal, target and status commands end to end on a real workspace file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kpidesk.cli.main import main

D = dt.date


@pytest.fixture
def db(tmp_path: Path) -> str:
    """Acme with onboarding completion, Dec 2025 – Jun 2026: 40, 41, ..., 46 %."""
    from kpidesk.services.workspace import Workspace

    path = str(tmp_path / "goals.db")
    with Workspace.open(path) as ws:
        product, _ = ws.products.create("Acme")
        kpi, _ = ws.kpis.add_from_catalog(product.id, "onboarding_completion")
        for i, day in enumerate([D(2025, 12, 1)] + [D(2026, m, 1) for m in range(1, 7)]):
            ws.measurements.record(kpi.id, day, 40 + i)
    return path


def run(db: str, *args: str) -> int:
    return main(["--db", db, *args])


def test_relative_goal_within_the_next_quarter(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(db, "goal", "add", "onboarding_completion", "--increase-by", "25%", "--within", "next quarter",
               "--objective", "Activate more users", "--today", "2026-06-20")
    assert code == 0
    out = capsys.readouterr().out
    assert 'Added goal #1 on Onboarding completion. "Increase onboarding completion by 25% within the next quarter"' in out
    # next quarter from 20 June = Q3; baseline June 46 → target 57.5
    assert "Baseline 46 (2026-06-01); 2026-07-01 → 2026-09-30." in out
    assert "S Specific    pass" in out
    assert "target 57.5" in out
    assert 'Serves the objective "Activate more users"' in out

    assert run(db, "goal", "checkin", "1", "--date", "2026-08-05", "--confidence", "7", "--note", "Tour shipped") == 0
    assert run(db, "record", "onboarding_completion", "2026-07", "49") == 0
    capsys.readouterr()
    assert run(db, "goal", "show", "1", "--today", "2026-08-10") == 0
    out = capsys.readouterr().out
    # July 49: progress (49 − 46)/11.5 = 26 %; expected to 1 Aug: 31/92 = 34 % → pace 0.77 → at risk
    assert "status     at risk" in out
    assert "Progress 26% vs 34% expected by Jul 2026 (pace 77%)" in out
    assert "forecast   " in out
    assert "2026-08-05  confidence 7/10  Tour shipped" in out
    assert "relative: 25 %" in out

    assert run(db, "goal", "list", "--today", "2026-08-10", "--csv") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "id,product,KPI,goal,status,progress,pace,due"
    assert lines[1].startswith("1,Acme,Onboarding completion,")
    assert lines[1].endswith(",at risk,26%,77%,2026-09-30")

    assert run(db, "goal", "check", "1") == 0
    out = capsys.readouterr().out
    assert out.count("\n  ") == 5


def test_absolute_and_band_goals_and_errors(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(db, "goal", "add", "onboarding_completion", "--stay-above", "40", "--start", "2026-01-01",
               "--due", "2026-12-31", "--rationale", "Below 40 % the paid funnel stops paying back") == 0
    out = capsys.readouterr().out
    assert '"Keep onboarding completion above 40 by 2026-12-31"' in out
    assert run(db, "goal", "add", "onboarding_completion", "--band", "45", "50", "--start", "2026-01-01",
               "--due", "2026-12-31") == 0
    capsys.readouterr()
    assert run(db, "goal", "add", "onboarding_completion", "--increase-to", "60") == 1
    assert "Say when: --due YYYY-MM-DD or --within 'next quarter'." in capsys.readouterr().err
    assert run(db, "goal", "add", "onboarding_completion", "--increase-by", "lots", "--due", "2027-01-01") == 1
    assert "'lots' is not a change" in capsys.readouterr().err
    assert run(db, "goal", "show", "99") == 1
    assert "Goal #99 does not exist" in capsys.readouterr().err
    assert run(db, "goal", "checkin", "1") == 1
    assert "needs a value, a confidence or a note" in capsys.readouterr().err
    assert run(db, "goal", "archive", "2") == 0
    capsys.readouterr()
    assert run(db, "goal", "list", "--today", "2026-07-10") == 0
    out = capsys.readouterr().out
    assert "Keep onboarding completion above 40" in out
    assert "between 45 and 50" not in out


def test_target_commands(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(db, "target", "ramp", "onboarding_completion", "--from", "2026-01", "--to", "2026-12",
               "--start-value", "40", "--end-value", "52", "--steps", "4") == 0
    out = capsys.readouterr().out
    assert "Set 12 target(s) for Onboarding completion." in out
    assert "Apr 2026      44" in out
    assert run(db, "target", "set", "onboarding_completion", "2026-12-15", "55") == 0
    assert run(db, "target", "rag", "onboarding_completion", "--green", "45", "--amber", "40") == 0
    assert "green ≥ 45, amber ≥ 40" in capsys.readouterr().out
    csv_file = tmp_path / "plan.csv"
    csv_file.write_text("period,target\n2027-01,56\n", encoding="utf-8")
    assert run(db, "target", "import", "onboarding_completion", str(csv_file)) == 0
    capsys.readouterr()
    assert run(db, "target", "list", "onboarding_completion") == 0
    out = capsys.readouterr().out
    assert "RAG thresholds: green ≥ 45, amber ≥ 40" in out
    assert "Dec 2026      55" in out
    assert "Jan 2027      56" in out
    assert run(db, "target", "rag", "onboarding_completion", "--green", "40", "--amber", "45") == 1
    assert "must not be below" in capsys.readouterr().err


def test_status_with_no_goals(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(db, "status", "--today", "2026-07-10") == 0
    out = capsys.readouterr().out
    assert out.startswith("Status as of 2026-07-10: 0 goals")
    assert "Needs attention (0)" in out


def test_goal_from_one_sentence(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(db, "goal", "add", "--say", "Increase onboarding completion by 25% within the next quarter",
               "--today", "2026-06-20", "--rationale", "Users who finish onboarding retain twice as well")
    assert code == 0
    out = capsys.readouterr().out
    assert '"Increase onboarding completion by 25% within the next quarter"' in out
    assert "Baseline 46 (2026-06-01); 2026-07-01 → 2026-09-30." in out
    assert "target 57.5" in out
    # the words of the sentence find "Onboarding completion" even when only part of the name is used
    assert run(db, "goal", "add", "--say", "Keep completion above 40 by 2026-12-31", "--today", "2026-06-20") == 0
    assert '"Keep completion above 40 by 2026-12-31"' in capsys.readouterr().out
    assert run(db, "goal", "add", "--say", "Increase happiness by 5% within the next quarter") == 1
    assert "No KPI matches 'happiness'" in capsys.readouterr().err
    assert run(db, "goal", "add", "onboarding_completion", "--due", "2027-01-01") == 1
    assert "Say the target" in capsys.readouterr().err

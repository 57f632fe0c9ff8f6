"""TargetService on a real SQLite workspace: set, ramp, import, RAG thresholds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kpidesk.domain.enums import Direction
from kpidesk.domain.goals import Rag
from kpidesk.errors import KpideskError, ValidationError
from kpidesk.services.target_service import TargetService

D = dt.date


def test_set_snaps_to_the_period_and_replaces(workspace, product_with_kpis) -> None:  # type: ignore[no-untyped-def]
    kpi = product_with_kpis[1]["signups"]  # monthly
    targets = TargetService(workspace.db)
    changes = targets.set(kpi.id, "2026-03-17", 120)
    assert changes.kpi_ids == frozenset({kpi.id})
    targets.set(kpi.id, D(2026, 3, 1), 125)
    assert targets.schedule(kpi.id) == {D(2026, 3, 1): 125}
    with pytest.raises(ValidationError, match="finite"):
        targets.set(kpi.id, D(2026, 4, 1), float("nan"))


def test_linear_and_stepped_ramps_are_stored(workspace, product_with_kpis) -> None:  # type: ignore[no-untyped-def]
    kpi = product_with_kpis[1]["signups"]
    targets = TargetService(workspace.db)
    schedule, changes = targets.ramp(kpi.id, D(2026, 1, 1), D(2026, 4, 1), 100, 130)
    assert changes.counts == {"written": 4}
    assert list(schedule.values()) == [100, 110, 120, 130]
    assert targets.schedule(kpi.id) == {D(2026, 1, 1): 100, D(2026, 2, 1): 110, D(2026, 3, 1): 120,
                                        D(2026, 4, 1): 130}
    # a stepped ramp over the same months replaces them: blocks ⌊i·2/4⌋ → 100, 100, 130, 130
    targets.ramp(kpi.id, D(2026, 1, 1), D(2026, 4, 1), 100, 130, steps=2)
    assert list(targets.schedule(kpi.id).values()) == [100, 100, 130, 130]
    targets.clear(kpi.id)
    assert targets.schedule(kpi.id) == {}


def test_import_csv(workspace, product_with_kpis, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    kpi = product_with_kpis[1]["revenue"]
    good = tmp_path / "targets.csv"
    good.write_text("Period,Target\n2026-01,\"10,000\"\n2026-02,11000\n\n", encoding="utf-8")
    TargetService(workspace.db).import_csv(kpi.id, good)
    assert TargetService(workspace.db).schedule(kpi.id) == {D(2026, 1, 1): 10000, D(2026, 2, 1): 11000}
    bad = tmp_path / "bad.csv"
    bad.write_text("period,target\n2026-03,12000\nMarch,13000\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"bad.csv, row 3, column A: 'March' is not a date"):
        TargetService(workspace.db).import_csv(kpi.id, bad)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("when,amount\n2026-03,1\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="no header row with a 'period'"):
        TargetService(workspace.db).import_csv(kpi.id, wrong)
    with pytest.raises(KpideskError, match="missing.csv"):
        TargetService(workspace.db).import_csv(kpi.id, tmp_path / "missing.csv")
    # nothing from the refused files was written
    assert TargetService(workspace.db).schedule(kpi.id) == {D(2026, 1, 1): 10000, D(2026, 2, 1): 11000}


def test_import_xlsx_with_dates_titles_and_percent_cells(workspace, product_with_kpis, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    churn = product_with_kpis[1]["churn_rate"]  # percent KPI, stored in points
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Plan 2026"
    sheet.append(["Churn plan (board deck)"])
    sheet.append([])
    sheet.append(["Month", "Target", "Comment"])
    sheet.append([dt.datetime(2026, 1, 1), 0.05, "from finance"])
    sheet.append([dt.datetime(2026, 2, 1), 0.045, ""])
    sheet.append(["2026-03", 4.2, "typed as points"])
    sheet["B4"].number_format = "0.0%"
    sheet["B5"].number_format = "0.0%"
    path = tmp_path / "plan.xlsx"
    book.save(path)
    TargetService(workspace.db).import_file(churn.id, path)
    schedule = TargetService(workspace.db).schedule(churn.id)
    assert schedule == pytest.approx({D(2026, 1, 1): 5.0, D(2026, 2, 1): 4.5, D(2026, 3, 1): 4.2})
    sheet.append([dt.datetime(2026, 4, 1), "n/a"])
    book.save(path)
    with pytest.raises(ValidationError, match=r"plan.xlsx, sheet Plan 2026, row 7, column B: 'n/a' is not a number"):
        TargetService(workspace.db).import_file(churn.id, path)


def test_thresholds_are_effective_dated_and_validated(workspace, product_with_kpis) -> None:  # type: ignore[no-untyped-def]
    churn = product_with_kpis[1]["churn_rate"]  # lower is better
    targets = TargetService(workspace.db)
    targets.set_thresholds(churn.id, 3, 5, effective_from=D(2026, 1, 1))
    targets.set_thresholds(churn.id, 2.5, 4, effective_from=D(2026, 7, 1))
    march = targets.thresholds(churn.id, D(2026, 3, 1))
    assert march is not None
    assert (march.direction, march.green, march.amber) == (Direction.DOWN, 3, 5)
    latest = targets.thresholds(churn.id)
    assert latest is not None
    assert latest.classify(3.0) is Rag.AMBER
    assert targets.thresholds(churn.id, D(2025, 6, 1)) is None
    with pytest.raises(ValidationError, match="must not be above"):
        targets.set_thresholds(churn.id, 5, 3)

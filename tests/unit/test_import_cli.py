"""``kpidesk import / imports list / imports rollback / export`` on real files and a real workspace."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from kpidesk.cli.main import main


@pytest.fixture
def db(tmp_path: Path) -> str:
    target = str(tmp_path / "cli.db")
    assert main(["--db", target, "product", "add", "Acme"]) == 0
    assert main(["--db", target, "kpi", "add", "--product", "Acme", "--from-catalog", "nps"]) == 0
    assert main(["--db", target, "kpi", "add", "--product", "Acme", "--from-catalog", "churn_rate"]) == 0
    return target


@pytest.fixture
def tracker(tmp_path: Path) -> Path:
    """A tracker with a title row, KPI rows, month columns of 2024 and a totals row."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "2024"
    sheet.append(["Product KPIs 2024"])
    sheet.append(["KPI", "Jan", "Feb", "Mar"])
    sheet.append(["Net Promoter Score", 31, 33, 35])
    sheet.append(["Churn", 0.031, 0.028, 0.025])
    sheet.append(["Total", 31.031, 33.028, 35.025])
    path = tmp_path / "tracker.xlsx"
    book.save(path)
    return path


def test_dry_run_shows_the_plan_and_writes_nothing(db, tracker, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--db", db, "import", str(tracker), "--product", "Acme", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Net Promoter Score  → nps" in out and "Churn               → churn_rate" in out
    assert "warning: 1 row(s) skipped (totals, averages or section headings)." in out
    assert "tracker.xlsx: 6 new value(s), 0 changed, 0 unchanged, 0 rejected." in out
    assert "Dry run: nothing was written." in out
    assert main(["--db", db, "imports", "list"]) == 0
    assert "No imports yet." in capsys.readouterr().out


def test_import_needs_yes_when_not_on_a_terminal(db, tracker, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["--db", db, "import", str(tracker), "--product", "Acme"]) == 1
    assert "Nothing was written: add --yes" in capsys.readouterr().err


def test_import_list_rollback_and_reimport(db, tracker, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--db", db, "import", str(tracker), "--product", "Acme", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "Imported tracker.xlsx as batch #1: 6 new, 0 changed, 0 unchanged, 0 rejected." in out
    assert "kpidesk imports rollback 1" in out
    assert main(["--db", db, "show", "churn_rate", "--csv"]) == 0
    # 0.031 etc. are fractions of a percent KPI → stored as points
    assert capsys.readouterr().out.splitlines()[1:] == ["2024-01-01,,3.1", "2024-02-01,,2.8", "2024-03-01,,2.5"]
    assert main(["--db", db, "import", str(tracker), "--product", "Acme", "--yes"]) == 0
    assert "already imported (batch #1); importing it again changes nothing" in capsys.readouterr().out
    assert main(["--db", db, "imports", "list", "--csv"]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[0][:3] == ["id", "when", "file"] and rows[1][2] == "tracker.xlsx" and rows[1][-1] == "applied"
    assert len(rows) == 2  # the no-op re-import left no batch
    assert main(["--db", db, "imports", "rollback", "1"]) == 0
    assert "6 value(s) removed, 0 restored" in capsys.readouterr().out
    assert main(["--db", db, "imports", "rollback", "1"]) == 1
    assert "already rolled back" in capsys.readouterr().err


def test_map_and_ignore_options(db, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "wide.csv"
    path.write_text("Month,Score,Comments\n2024-01,30,1\n2024-02,32,2\n", encoding="utf-8")
    assert main(["--db", db, "import", str(path), "--product", "Acme", "--map", "Score=nps", "--ignore",
                 "Comments", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "Score     → nps" in out and "Comments  ignored" in out
    assert "2 new, 0 changed" in out
    assert main(["--db", db, "import", str(path), "--map", "Nope=nps", "--dry-run"]) == 1
    assert "the file has no label 'Nope'" in capsys.readouterr().err


def test_export_command_writes_xlsx_and_csv_selections(db, tracker, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--db", db, "import", str(tracker), "--product", "Acme", "--yes"]) == 0
    capsys.readouterr()
    out_csv = tmp_path / "out.csv"
    assert main(["--db", db, "export", str(out_csv), "--kpi", "nps", "--from", "2024-02", "--to", "2024-03"]) == 0
    assert "Exported 2 value(s) of 1 KPI(s)" in capsys.readouterr().out
    rows = list(csv.reader(out_csv.read_text(encoding="utf-8-sig").splitlines()))
    assert rows == [["Product", "KPI", "Period", "Segment", "Value", "Note"],
                    ["Acme", "Net Promoter Score", "2024-02-01", "", "33", ""],
                    ["Acme", "Net Promoter Score", "2024-03-01", "", "35", ""]]
    out_xlsx = tmp_path / "out.xlsx"
    assert main(["--db", db, "export", str(out_xlsx), "--product", "Acme", "--sheet-per-product"]) == 0
    assert openpyxl.load_workbook(out_xlsx).sheetnames == ["Acme"]
    assert main(["--db", db, "export", str(tmp_path / "x.pdf")]) == 1
    assert "use a .xlsx or .csv file name" in capsys.readouterr().err


def test_a_broken_file_is_one_clear_line(db, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a workbook")
    assert main(["--db", db, "import", str(path), "--product", "Acme", "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kpidesk: Cannot import “broken.xlsx”:") and err.count("\n") == 1

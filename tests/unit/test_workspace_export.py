"""export --all: every table as a readable sheet; importing it into an empty workspace gives an
identical database by per-table checksums."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kpidesk.errors import ReadOnlyError, ValidationError
from kpidesk.services.workspace import Workspace
from kpidesk.services.workspace_export import export_all, import_all
from kpidesk.storage.integrity import table_checksums


def checksums(path: Path) -> dict[str, str]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return table_checksums(con)
    finally:
        con.close()


def test_demo_workspace_round_trip_is_identical(demo_workspace, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "workspace.xlsx"
    summary = export_all(demo_workspace.db, out)
    original = checksums(demo_workspace.db.path)
    assert summary.checksums == original
    assert summary.rows["measurement"] > 4000 and summary.rows["goal"] > 0
    with Workspace.open(tmp_path / "empty.db") as fresh:
        result = import_all(fresh.db, out)
        assert result.identical, result.mismatched
        assert [p.name for p in fresh.products.list()] == [p.name for p in demo_workspace.products.list()]
    copy = checksums(tmp_path / "empty.db")
    assert copy == original  # every table, row, id, value and SQLite type
    with capsys.disabled():
        print(f"\n[export --all round trip] tables={len(original)} rows={sum(summary.rows.values())} "
              f"identical_tables={sum(copy[t] == original[t] for t in original)}/{len(original)}")


def test_sheets_are_readable(demo_workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "workspace.xlsx"
    export_all(demo_workspace.db, out)
    wb = load_workbook(out, read_only=True)
    for table in ("product", "kpi", "measurement", "target", "goal", "checkin", "annotation", "review"):
        assert table in wb.sheetnames
    kpi_rows = list(wb["kpi"].iter_rows(values_only=True))
    header = list(kpi_rows[0])
    assert {"key", "name", "definition", "unit", "direction", "formula"} <= set(header)
    first = dict(zip(header, kpi_rows[1], strict=False))
    assert isinstance(first["definition"], str) and first["definition"]  # KPIs keep their definitions
    assert first["archived"] is False  # yes/no columns are TRUE/FALSE, not 0/1
    measurement = list(wb["measurement"].iter_rows(min_row=1, max_row=2, values_only=True))
    row = dict(zip(measurement[0], measurement[1], strict=False))
    assert isinstance(row["value"], float | int) and str(row["period_start"]).count("-") == 2
    about = [r for r in wb["About"].iter_rows(values_only=True) if r and r[0]]
    assert about[0][0] == "kpidesk workspace export"
    assert wb["_exact"].sheet_state == "hidden"
    wb.close()


def test_values_a_cell_cannot_carry_still_round_trip_exactly(tmp_path: Path) -> None:
    """0.1 + 0.2 = 0.30000000000000004 needs 17 digits (openpyxl writes 16), 2**60 is beyond a spreadsheet's 2**53, '' and NULL look alike in a cell, and '\\r', control
    characters, '_x0041_' and a leading '=' are mangled by XML or taken as formulas."""
    source = tmp_path / "tricky.db"
    with Workspace.open(source) as ws:
        product, _ = ws.products.create("Odd =SUM(A1:A9)", "line one\r\nline two\x01 and _x0041_")
        kpi, _ = ws.kpis.add_from_catalog(product.id, "signups")
        ws.measurements.record(kpi.id, "2026-01-01", 0.1 + 0.2, note="=1+1")
        ws.measurements.record(kpi.id, "2026-02-01", -0.0, note="")
        ws.measurements.record(kpi.id, "2026-03-01", 1e-300, note="ünïcødé ✓")
        with ws.db.raw(write=True) as con:
            con.execute("UPDATE kpi SET formula = '', catalog_key = NULL, min_value = 12.0")
            con.execute("INSERT INTO import_batch (file_name, file_path, sha256, sheet, layout, mapping, inserted,"
                        " updated, unchanged, rejected, status, created_at, created_by) VALUES ('f.xlsx', '', 'ab',"
                        " '', '', '{\"k\": [1, 2]}', ?, 0, 0, 0, 'applied', '2026-01-01 10:00:00.123456', 'me')",
                        (2**60,))
    out = tmp_path / "tricky.xlsx"
    export_all(source, out)
    with Workspace.open(tmp_path / "copy.db") as fresh:
        assert import_all(fresh.db, out).identical
    assert checksums(tmp_path / "copy.db") == checksums(source)
    con = sqlite3.connect(tmp_path / "copy.db")
    assert con.execute("SELECT formula, catalog_key FROM kpi").fetchone() == ("", None)
    assert con.execute("SELECT inserted FROM import_batch").fetchone()[0] == 2**60
    values = [r[0] for r in con.execute("SELECT value FROM measurement ORDER BY period_start")]
    assert values == [0.1 + 0.2, 0.0, 1e-300]  # SQLite itself stores -0.0 as 0.0
    con.close()


def test_import_refuses_a_workspace_that_is_not_empty(demo_workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "workspace.xlsx"
    export_all(demo_workspace.db, out)
    before = checksums(demo_workspace.db.path)
    with pytest.raises(ValidationError, match="is not empty"):
        import_all(demo_workspace.db, out)
    assert checksums(demo_workspace.db.path) == before


def test_import_refuses_broken_workbooks_and_writes_nothing(tmp_path: Path) -> None:
    from openpyxl import Workbook

    source = tmp_path / "s.db"
    with Workspace.open(source) as ws:
        product, _ = ws.products.create("Pulse")
        ws.kpis.add_from_catalog(product.id, "signups")
    good = tmp_path / "good.xlsx"
    export_all(source, good)

    def variant(name: str, change) -> Path:  # type: ignore[no-untyped-def]
        wb = load_workbook(good)
        change(wb)
        path = tmp_path / name
        wb.save(path)
        return path

    no_about = tmp_path / "plain.xlsx"
    Workbook().save(no_about)
    unknown_column = variant("unknown.xlsx", lambda wb: wb["kpi"].cell(1, 2, "colour"))
    orphan = variant("orphan.xlsx", lambda wb: wb["kpi"].cell(2, [c.value for c in wb["kpi"][1]].index(
        "product_id") + 1, 99))

    def newer(wb) -> None:  # type: ignore[no-untyped-def]
        for row in wb["About"].iter_rows():
            if row[0].value == "schema version":
                row[1].value = 99

    future = variant("future.xlsx", newer)
    cases = [(no_about, "no 'About' sheet"), (unknown_column, "sheet kpi: column 'colour'"),
             (orphan, "refer to rows that are not in the workbook"), (future, "schema version 99")]
    for path, message in cases:
        with Workspace.open(tmp_path / f"target-{path.stem}.db") as fresh:
            with pytest.raises(ValidationError, match=message):
                import_all(fresh.db, path)
            assert fresh.products.list() == []  # the whole import rolled back
    with Workspace.open(tmp_path / "ro.db") as fresh:
        pass
    from kpidesk.storage.db import open_database

    ro = open_database(tmp_path / "ro.db", read_only=True)
    with pytest.raises(ReadOnlyError):
        import_all(ro, good)
    ro.close()
    with pytest.raises(ValidationError, match="ending in .xlsx"):
        export_all(source, tmp_path / "x.csv")


def test_cli_export_all_and_import_all(tmp_path: Path) -> None:
    env = {**os.environ, "KPIDESK_DATA_DIR": str(tmp_path / "data")}
    source, copy, out = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "all.xlsx"
    with Workspace.open(source) as ws:
        product, _ = ws.products.create("Pulse")
        kpi, _ = ws.kpis.add_from_catalog(product.id, "nps")
        ws.measurements.record(kpi.id, "2026-01-01", 31.5)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kpidesk", *args], capture_output=True, text=True, env=env,
                              timeout=120, check=False)

    exported = run("export-all", str(out), "--db", str(source))
    assert exported.returncode == 0 and "Exported" in exported.stdout, exported.stderr
    imported = run("import-all", str(out), "--db", str(copy))
    assert imported.returncode == 0 and "identical" in imported.stdout, imported.stderr
    assert checksums(copy) == checksums(source)


def test_export_all_flag_of_the_export_command_round_trips(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`kpidesk export --all` (the issue's spelling) writes the whole workspace; import-all gives it back."""
    import subprocess
    import sys

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kpidesk", *args], capture_output=True, text=True, timeout=300)

    source, copy, book = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "all.xlsx"
    assert cli("demo", "--db", str(source)).returncode == 0
    exported = cli("export", "--all", str(book), "--db", str(source))
    assert exported.returncode == 0, exported.stderr
    back = cli("import-all", str(book), "--db", str(copy))
    assert back.returncode == 0, back.stderr
    assert "identical" in back.stdout

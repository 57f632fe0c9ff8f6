"""Database checks in plain words: integrity_check, foreign_key_check, bounded quick_check, cloud folders."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kpidesk.services.backup_service import BackupService
from kpidesk.services.workspace import Workspace
from kpidesk.storage.integrity import cloud_sync_service, integrity_report, quick_check, table_checksums


@pytest.fixture
def ws(tmp_path: Path):  # type: ignore[no-untyped-def]
    workspace = Workspace.open(tmp_path / "w.db")
    product, _ = workspace.products.create("Pulse")
    kpi, _ = workspace.kpis.add_from_catalog(product.id, "signups")
    for month in range(1, 13):
        workspace.measurements.record(kpi.id, f"2026-{month:02d}-01", month)
    yield workspace
    workspace.close()


def test_a_healthy_workspace_is_reported_in_plain_words(ws) -> None:  # type: ignore[no-untyped-def]
    report = BackupService(ws.db).check_database()
    assert report.ok and report.summary == "w.db: no problems found."
    text = report.text()
    assert "kpidesk workspace" in text and "schema version 2 is current" in text
    assert "structure is intact" in text and "Every link between tables is valid" in text
    assert "1 products, 1 KPIs, 12 values and 0 goals" in text


def test_broken_links_are_named_with_their_rows(ws) -> None:  # type: ignore[no-untyped-def]
    path = ws.db.path
    ws.close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys = OFF")  # what an old bug or a hand edit could have done
    con.execute("DELETE FROM kpi")
    con.commit()
    report = integrity_report(con, name="w.db", latest_schema=2)
    con.close()
    assert not report.ok and "problems found" in report.summary
    assert any(line.startswith("12 values refer to KPIs that no longer exist (table measurement, rows 1, 2")
               for line in report.lines), report.lines


def test_structural_damage_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    con.execute("CREATE INDEX t_v ON t (v)")
    con.executemany("INSERT INTO t (v) VALUES (?)", [(f"value {i}" * 5,) for i in range(2000)])
    con.commit()
    con.close()
    data = bytearray(path.read_bytes())
    for page in range(3, len(data) // 4096, 4):  # damage the header of every fourth page
        data[(page - 1) * 4096 + 3] ^= 0x5A
    path.write_bytes(bytes(data))
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    report = integrity_report(con, name="d.db")
    con.close()
    assert not report.ok
    assert "damaged" in report.text()


def test_quick_check_is_bounded_in_time(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    con.executemany("INSERT INTO t (v) VALUES (?)", [("x" * 100,) for _ in range(20000)])
    con.commit()
    assert quick_check(con, seconds=30.0) == ("ok", [])
    assert quick_check(con, seconds=0.0) == ("skipped", [])  # out of time: skipped, never "damaged"
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 20000  # the connection still works
    con.close()


def test_checksums_see_values_and_types(tmp_path: Path) -> None:
    con = sqlite3.connect(tmp_path / "c.db")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v)")
    con.execute("INSERT INTO t (v) VALUES (1)")
    first = table_checksums(con)
    con.execute("UPDATE t SET v = '1'")  # same text, other type
    second = table_checksums(con)
    con.execute("UPDATE t SET v = 1")
    assert first != second and table_checksums(con) == first
    con.close()


@pytest.mark.parametrize(("path", "service"), [
    ("/home/ana/Dropbox/kpis/w.db", "Dropbox"),
    ("/home/ana/Dropbox (Personal)/w.db", "Dropbox"),
    ("C:/Users/ana/OneDrive - Contoso/KPIs/w.db", "OneDrive"),
    ("/Users/ana/Library/Mobile Documents/com~apple~CloudDocs/w.db", "iCloud Drive"),
    ("/Users/ana/Google Drive/My Drive/w.db", "Google Drive"),
    ("/home/ana/Documents/kpis/w.db", ""),
    ("/home/ana/dropbox-export-notes/w.db", ""),
])
def test_cloud_sync_folders_are_recognised(path: str, service: str) -> None:
    assert cloud_sync_service(Path(path)) == service


def test_cli_db_check(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    with Workspace.open(db) as workspace:
        workspace.products.create("Pulse")
    done = subprocess.run([sys.executable, "-m", "kpidesk", "db", "check", "--db", str(db)], capture_output=True,
                          text=True, env={**os.environ, "KPIDESK_DATA_DIR": str(tmp_path / "data")}, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "no problems found" in done.stdout and "integrity check" in done.stdout

"""A full disk, for real: each write runs in a child process whose file-size limit
(``RLIMIT_FSIZE``) is set just above the files it has, so the operating system
refuses the write part-way (a short write, then ``EFBIG``) exactly as a full
disk does. Checked for an import, a backup, two exports and a migration: the
write rolls back whole, the message says the disk is full and that nothing was
lost, and the database is byte-for-byte the same data (per-table checksums)
and passes ``integrity_check``. As root with tmpfs available, one more test
fills a real 1 MB tmpfs (``ENOSPC``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kpidesk.storage.integrity import table_checksums

resource = pytest.importorskip("resource")  # POSIX only

ROOT = Path(__file__).resolve().parents[2]
V1_FIXTURE = ROOT / "tests" / "data" / "v1_workspace.db"

CHILD = textwrap.dedent("""
    import json, resource, sys
    from pathlib import Path
    from kpidesk.errors import KpideskError

    scenario, db, extra = sys.argv[1], Path(sys.argv[2]), sys.argv[3]

    def limit(extra_bytes):
        files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
        biggest = max([p.stat().st_size for p in files if p.exists()] + [32768])
        size = biggest + extra_bytes + 123  # not page-aligned: the first refused write is a short write
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    try:
        if scenario == "import":
            from kpidesk.services.import_service import ImportService
            from kpidesk.services.workspace import Workspace
            ws = Workspace.open(db)
            service = ImportService(ws.db, ws.catalog)
            plan = service.plan(extra, product="Pulse")  # reading happens before the disk fills up
            limit(60_000)
            service.apply(plan)
        elif scenario == "record_many":
            import pandas as pd
            from kpidesk.services.workspace import Workspace
            ws = Workspace.open(db)
            kpi = ws.kpis.list()[0]
            months = pd.date_range("1900-01-01", periods=1000, freq="MS")
            frame = pd.DataFrame([{"kpi_id": kpi.id, "period_start": m, "value": float(i), "segment": f"channel:c{i}",
                                   "note": "a note that takes room " * 4} for m in months for i in range(20)])
            limit(60_000)
            ws.measurements.record_many(frame)
        elif scenario == "orm_edit":
            from kpidesk.services.workspace import Workspace
            ws = Workspace.open(db)
            kpi = ws.kpis.list()[0]
            limit(40_000)
            ws.measurements.record(kpi.id, "2030-01-01", 1.0, note="a very long note " * 20_000)
        elif scenario == "backup":
            from kpidesk.storage.backup import make_backup
            limit(-db.stat().st_size // 2)
            make_backup(db, Path(extra), thin_after=False)
        elif scenario in ("export_all", "export"):
            from kpidesk.services.workspace import Workspace
            ws = Workspace.open(db, read_only=True)
            resource.setrlimit(resource.RLIMIT_FSIZE, (4_123, 4_123))
            if scenario == "export_all":
                from kpidesk.services.workspace_export import export_all
                export_all(ws.db, Path(extra))
            else:
                from kpidesk.services.export_service import ExportService
                ExportService(ws.db, ws.kpis).export(extra)
        elif scenario == "migration-backup":
            from kpidesk.storage.db import open_database
            limit(-db.stat().st_size // 2)
            open_database(db, backup_dir=Path(extra))
        elif scenario == "migration-step":
            from sqlalchemy import text
            from kpidesk.storage import migrations
            from kpidesk.storage.db import open_database
            v2 = migrations.STEPS[2]

            def rebuilding_step(conn):  # a migration that rewrites a lot (as a table rebuild does)
                v2(conn)
                conn.execute(text("CREATE TABLE scratch AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
                                  "SELECT x + 1 FROM c WHERE x < 4000) SELECT x, printf('%.*c', 400, 'y') AS pad FROM c"))

            migrations.STEPS[2] = rebuilding_step
            limit(db.stat().st_size + 80_000)  # room for the backup before the upgrade, not for the upgrade
            open_database(db, backup_dir=Path(extra))
        print(json.dumps({"outcome": "no error"}))
    except KpideskError as exc:
        print(json.dumps({"outcome": "error", "type": type(exc).__name__, "message": exc.message}))
    except BaseException as exc:
        print(json.dumps({"outcome": "crash", "type": type(exc).__name__, "message": str(exc)}))
""")

RESULTS: list[tuple[str, str, bool]] = []


def run_child(scenario: str, db: Path, extra: str | Path, data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "KPIDESK_DATA_DIR": str(data_dir)}
    done = subprocess.run([sys.executable, "-c", CHILD, scenario, str(db), str(extra)], capture_output=True,
                          text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def state(db: Path) -> tuple[dict[str, str], str, int]:
    """(per-table checksums, integrity_check, schema version) through a read-only connection."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return (table_checksums(con), str(con.execute("PRAGMA integrity_check").fetchone()[0]),
                int(con.execute("PRAGMA user_version").fetchone()[0]))
    finally:
        con.close()


def assert_disk_full_told(result: dict[str, str], scenario: str) -> None:
    RESULTS.append((scenario, result.get("type", ""), result["outcome"] == "error"))
    assert result["outcome"] == "error", result
    assert result["type"] == "DiskFullError", result
    message = result["message"]
    assert "disk is full" in message, message
    assert "nothing was lost" in message or "is unchanged" in message, message


@pytest.fixture
def small_workspace(tmp_path: Path) -> Path:
    from kpidesk.services.workspace import Workspace

    path = tmp_path / "w.db"
    with Workspace.open(path, backup_dir=tmp_path / "b") as ws:
        product, _ = ws.products.create("Pulse")
        kpi, _ = ws.kpis.add_from_catalog(product.id, "signups")
        for month in range(1, 13):
            ws.measurements.record(kpi.id, f"2026-{month:02d}-01", 100 + month, note="before the disk filled")
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path


def test_import_into_a_full_disk_rolls_back_whole(small_workspace: Path, tmp_path: Path) -> None:
    csv = tmp_path / "daily.csv"
    start = dt.date(1980, 1, 1)
    lines = ["Date,Daily active users"] + [f"{start + dt.timedelta(days=i)},{5000 + i % 101}" for i in range(15000)]
    csv.write_text("\n".join(lines) + "\n")
    before = state(small_workspace)
    result = run_child("import", small_workspace, csv, tmp_path / "data")
    assert_disk_full_told(result, "import")
    after = state(small_workspace)
    assert after == before and after[1] == "ok"
    con = sqlite3.connect(small_workspace)
    assert con.execute("SELECT count(*) FROM import_batch").fetchone()[0] == 0
    con.close()


def test_bulk_recording_into_a_full_disk_rolls_back_whole(small_workspace: Path, tmp_path: Path) -> None:
    before = state(small_workspace)
    result = run_child("record_many", small_workspace, "", tmp_path / "data")
    assert_disk_full_told(result, "record_many")
    assert state(small_workspace) == before


def test_a_single_edit_through_the_orm_on_a_full_disk(small_workspace: Path, tmp_path: Path) -> None:
    before = state(small_workspace)
    result = run_child("orm_edit", small_workspace, "", tmp_path / "data")
    assert_disk_full_told(result, "orm_edit")
    assert state(small_workspace) == before


def test_backup_onto_a_full_disk_keeps_nothing_partial(small_workspace: Path, tmp_path: Path) -> None:
    from kpidesk.storage.backup import list_backups, make_backup

    backups = tmp_path / "backups"
    earlier = make_backup(small_workspace, backups, thin_after=False)
    earlier_bytes = earlier.path.read_bytes()
    before = state(small_workspace)
    result = run_child("backup", small_workspace, backups, tmp_path / "data")
    assert_disk_full_told(result, "backup")
    assert "no backup was kept" in result["message"]
    assert [b.id for b in list_backups(small_workspace, backups)] == [earlier.id]
    assert earlier.path.read_bytes() == earlier_bytes
    assert not list(backups.glob("*.part")) and state(small_workspace) == before


@pytest.mark.parametrize("scenario", ["export_all", "export"])
def test_export_onto_a_full_disk_leaves_the_old_file(small_workspace: Path, tmp_path: Path, scenario: str) -> None:
    out = tmp_path / "out" / "kpis.xlsx"
    out.parent.mkdir()
    out.write_bytes(b"the previous export, which must survive")
    result = run_child(scenario, small_workspace, out, tmp_path / "data")
    assert_disk_full_told(result, scenario)
    assert out.read_bytes() == b"the previous export, which must survive"
    assert sorted(p.name for p in out.parent.iterdir()) == ["kpis.xlsx"]  # no temporary left


@pytest.mark.skipif(not V1_FIXTURE.exists(), reason="tests/data/v1_workspace.db is not there")
@pytest.mark.parametrize("scenario", ["migration-backup", "migration-step"])
def test_migration_on_a_full_disk_is_not_half_done(tmp_path: Path, scenario: str) -> None:
    db = tmp_path / "old.db"
    shutil.copyfile(V1_FIXTURE, db)
    before = state(db)
    assert before[2] == 1
    result = run_child(scenario, db, tmp_path / "backups", tmp_path / "data")
    assert_disk_full_told(result, scenario)
    after = state(db)
    assert after == before  # same rows, still schema 1, integrity ok
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    columns = {r[1] for r in con.execute("PRAGMA table_info(measurement)")}
    con.close()
    assert "scratch" not in tables and "numerator" not in columns
    if scenario == "migration-step":
        assert "upgrade was rolled back whole" in result["message"]
        assert len(list((tmp_path / "backups").glob("old.before-v*.db"))) == 1  # the backup made it
    # with room again, the upgrade goes through
    from kpidesk.storage.db import open_database

    open_database(db, backup_dir=tmp_path / "backups").close()
    assert state(db)[2] >= 2


def _can_mount_tmpfs(where: Path) -> bool:
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True,
                          check=False)
    return done.returncode == 0


def test_a_real_full_tmpfs_during_bulk_recording(tmp_path: Path) -> None:
    mount = tmp_path / "small-disk"
    if not _can_mount_tmpfs(mount):
        pytest.skip("needs root and tmpfs (the RLIMIT_FSIZE tests above cover every platform)")
    try:
        import pandas as pd

        from kpidesk.services.workspace import Workspace

        db = mount / "w.db"
        with Workspace.open(db, backup_dir=tmp_path / "b") as ws:
            product, _ = ws.products.create("Pulse")
            kpi, _ = ws.kpis.add_from_catalog(product.id, "signups")
            ws.measurements.record(kpi.id, "2026-01-01", 1)
            before = state(db)
            months = pd.date_range("1900-01-01", periods=1000, freq="MS")
            frame = pd.DataFrame([{"kpi_id": kpi.id, "period_start": m, "value": float(i), "note": "x" * 60,
                                   "segment": f"channel:c{i}"} for m in months for i in range(30)])
            with pytest.raises(Exception) as raised:
                ws.measurements.record_many(frame)
            assert type(raised.value).__name__ == "DiskFullError"
            assert "disk is full" in str(raised.value) and "nothing was lost" in str(raised.value)
            RESULTS.append(("tmpfs ENOSPC", "DiskFullError", True))
        assert state(db) == before
    finally:
        # lazy: a file handle the garbage collector has not closed yet must not keep the mount busy
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_print_disk_full_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs last in this module: the figures for the CI log."""
    told = sum(1 for _, _, ok in RESULTS if ok)
    with capsys.disabled():
        print(f"\n[disk-full] cases={len(RESULTS)} told_disk_full_and_nothing_lost={told} "
              f"crashes={sum(1 for _, kind, _ in RESULTS if kind not in ('DiskFullError', ''))} "
              f"scenarios={', '.join(s for s, _, _ in RESULTS)}")
    assert told == len(RESULTS)

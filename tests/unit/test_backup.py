"""Backups: online copies with counts, thinning schedule, settings, restore round trip, auto-backup."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kpidesk.errors import CancelledError, NotFoundError, ReadOnlyError, ValidationError
from kpidesk.services.backup_service import BackupService
from kpidesk.services.workspace import Workspace
from kpidesk.storage import backup as store
from kpidesk.storage.backup import SafetySettings, backups_to_keep
from kpidesk.storage.db import open_database
from kpidesk.storage.integrity import table_checksums


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A SQLite workspace (backups are about files; the team suite's PostgreSQL variant does not apply)."""
    ws = Workspace.open(tmp_path / "workspace.db")
    yield ws
    ws.close()


@pytest.fixture
def product_with_kpis(workspace: Workspace):  # type: ignore[no-untyped-def]
    product, _ = workspace.products.create("Acme")
    kpis = {key: workspace.kpis.add_from_catalog(product.id, key)[0]
            for key in ("nps", "churn_rate", "signups", "revenue")}
    return product, kpis


def checksums(path: Path) -> dict[str, str]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return table_checksums(con)
    finally:
        con.close()


class Recorder:
    def __init__(self, cancel_after: int | None = None) -> None:
        self.reports: list[float] = []
        self.cancel_after = cancel_after

    def report(self, fraction: float, text: str = "") -> None:
        self.reports.append(fraction)

    def cancelled(self) -> bool:
        return self.cancel_after is not None and len(self.reports) >= self.cancel_after


def test_backup_is_a_consistent_copy_with_counts_and_a_manifest(product_with_kpis, workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, kpis = product_with_kpis
    workspace.measurements.record(kpis["signups"].id, "2026-01-01", 120)
    workspace.measurements.record(kpis["signups"].id, "2026-02-01", 135)
    service = BackupService(workspace.db, backup_dir=tmp_path / "b")
    info = service.backup_now()
    assert info.counts == {"products": 1, "kpis": 4, "measurements": 2, "goals": 0}
    assert info.path.exists() and info.path.name.startswith("workspace.manual.")
    assert json.loads(info.path.with_name(info.path.name + ".json").read_text())["counts"]["measurements"] == 2
    assert checksums(info.path) == checksums(workspace.db.path)
    con = sqlite3.connect(info.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    assert con.execute("PRAGMA application_id").fetchone()[0] == 0x4B504944
    con.close()
    assert [b.id for b in service.list()] == [info.id]
    assert "1 products, 4 KPIs, 2 values, 0 goals" in info.counts_text()


def test_stepped_backup_reports_progress_and_cancel_keeps_nothing(demo_workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = demo_workspace.db.path
    progress = Recorder()
    out = tmp_path / "out"
    store.online_backup(source, out / "full.db", progress=progress, pages_per_step=16)
    assert len(progress.reports) > 5 and progress.reports == sorted(progress.reports) and progress.reports[-1] == 1.0
    cancel = Recorder(cancel_after=3)
    with pytest.raises(CancelledError, match="no backup was kept"):
        store.online_backup(source, out / "cancelled.db", progress=cancel, pages_per_step=16)
    assert sorted(p.name for p in out.iterdir()) == ["full.db"]


def test_backup_ids_are_unique_within_a_second(workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    when = dt.datetime(2026, 11, 25, 10, 0, 0)
    a = store.make_backup(workspace.db.path, tmp_path, now=when)
    b = store.make_backup(workspace.db.path, tmp_path, now=when)
    assert (a.id, b.id) == ("20261125-100000", "20261125-100000-2")
    assert store.find_backup(workspace.db.path, tmp_path, "20261125-100000-2") == b
    with pytest.raises(ValidationError, match="matches 2 backups"):
        store.find_backup(workspace.db.path, tmp_path, "20261125-10")
    with pytest.raises(NotFoundError):
        store.find_backup(workspace.db.path, tmp_path, "19990101")


def test_thinning_schedule_hand_computed() -> None:
    """now = 2026-11-25 12:00, default schedule (24 h all, 7 days daily, 31 days weekly, monthly forever):

    a 11-25 11:00 (1 h)      keep: last 24 hours
    b 11-24 13:00 (23 h)     keep: last 24 hours
    c 11-24 09:00 (27 h)     keep: newest of day 11-24 in the daily tier (b is in the 24 h tier)
    d 11-24 08:00            drop: same day as c, older
    e 11-20 18:00 (4.75 d)   keep: newest of day 11-20
    f 11-20 07:00            drop
    g 11-10 12:00 (15 d)     keep: newest of ISO week 46 (Mon 9 – Sun 15 Nov)
    h 11-09 10:00            drop: same week, older
    i 10-20 (36 d)           keep: newest of October 2026
    j 10-02                  drop: same month
    k 2025-03-15 (20 months) keep: monthly forever; dropped when monthly_months = 6
    """
    t = dt.datetime
    a, b, c, d = t(2026, 11, 25, 11), t(2026, 11, 24, 13), t(2026, 11, 24, 9), t(2026, 11, 24, 8)
    e, f, g, h = t(2026, 11, 20, 18), t(2026, 11, 20, 7), t(2026, 11, 10, 12), t(2026, 11, 9, 10)
    i, j, k = t(2026, 10, 20), t(2026, 10, 2), t(2025, 3, 15)
    now = t(2026, 11, 25, 12)
    kept = backups_to_keep([a, b, c, d, e, f, g, h, i, j, k], now, SafetySettings())
    assert kept == {a, b, c, e, g, i, k}
    six_months = backups_to_keep([a, b, c, d, e, f, g, h, i, j, k], now, SafetySettings(monthly_months=6))
    assert six_months == {a, b, c, e, g, i}
    # the newest backup survives any schedule
    assert backups_to_keep([k], now, SafetySettings(keep_all_hours=0, daily_days=0, weekly_days=0,
                                                    monthly_months=1)) == {k}


def test_thinning_deletes_files_and_manifests(workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = workspace.db.path
    for day in (1, 2, 3):  # three backups on one day, 20 days ago: the weekly tier keeps one
        for hour in (8, 12, 16):
            store.make_backup(path, tmp_path, now=dt.datetime(2026, 11, day, hour), thin_after=False)
    removed = store.thin_backups(path, tmp_path, SafetySettings(), now=dt.datetime(2026, 11, 21, 12))
    left = store.list_backups(path, tmp_path)
    # 18-20 days old: the weekly tier; Sun 1 Nov is ISO week 44, Mon 2 and Tue 3 Nov are week 45
    assert [b.created for b in left] == [dt.datetime(2026, 11, 3, 16), dt.datetime(2026, 11, 1, 16)]
    assert len(removed) == 7
    assert len(list(tmp_path.glob("*.json"))) == len(left)


def test_settings_are_saved_atomically_and_validated(tmp_path: Path) -> None:
    settings = SafetySettings(keep_all_hours=48, synchronous="FULL")
    store.save_settings(settings, tmp_path)
    assert store.load_settings(tmp_path) == settings
    assert list(tmp_path.iterdir()) == [tmp_path / "safety-settings.json"]  # no temporary left behind
    with pytest.raises(ValidationError, match="NORMAL or FULL"):
        store.save_settings(SafetySettings(synchronous="OFF"), tmp_path)
    (tmp_path / "safety-settings.json").write_text("{not json")
    assert store.load_settings(tmp_path) == SafetySettings()  # unreadable settings fall back to the defaults


def test_synchronous_full_setting_reaches_sqlite(tmp_path: Path) -> None:
    store.save_settings(SafetySettings(synchronous="FULL"))
    db = open_database(tmp_path / "full.db")
    with db.raw() as con:
        assert con.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    db.close()
    store.save_settings(SafetySettings())
    db = open_database(tmp_path / "full.db")
    with db.raw() as con:
        assert con.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    db.close()


def test_restore_round_trip_on_the_demo_workspace(demo_workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws = demo_workspace
    path = ws.db.path
    service = BackupService(ws.db, backup_dir=tmp_path / "b")
    original = checksums(path)
    saved = service.backup_now()
    # change many things after the backup
    ws.products.create("After the backup")
    kpi = ws.kpis.list()[0]
    ws.measurements.record(kpi.id, "2031-01-01", 1)
    with ws.db.raw(write=True) as con:
        con.execute("DELETE FROM measurement WHERE id % 7 = 0")
    changed = checksums(path)
    assert changed != original
    progress = Recorder()
    safety, changes = service.restore(saved.id, progress)
    assert checksums(path) == original  # identical by per-table checksums
    assert changes.touches("measurement", "product", "goal") and progress.reports[-1] == 1.0
    assert safety.reason == "before-restore" and checksums(safety.path) == changed  # restoring first backed up
    assert "After the backup" not in [p.name for p in ws.products.list()]  # the open services see it at once
    with ws.db.raw() as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    service.restore(safety.id)  # and the restore itself can be undone
    assert checksums(path) == changed


def test_restore_refuses_read_only_and_damaged_backups(workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = BackupService(workspace.db, backup_dir=tmp_path / "b")
    info = service.backup_now()
    info.path.write_bytes(info.path.read_bytes()[:5000])
    with pytest.raises(Exception, match="cannot be restored: .*truncated"):
        service.restore(info.id)
    ro = open_database(workspace.db.path, read_only=True)
    try:
        with pytest.raises(ReadOnlyError):
            BackupService(ro, backup_dir=tmp_path / "b").restore(info.id)
    finally:
        ro.close()


def test_hourly_and_on_close_backups_follow_edits(product_with_kpis, workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, kpis = product_with_kpis
    now = [dt.datetime(2026, 11, 25, 9, 0)]
    service = BackupService(workspace.db, backup_dir=tmp_path / "b", settings=SafetySettings(),
                            clock=lambda: now[0])
    workspace.measurements.record(kpis["signups"].id, "2026-01-01", 1)
    now[0] = dt.datetime(2026, 11, 25, 9, 30)
    assert service.maybe_backup_hourly() is None  # not an hour since opening yet
    now[0] = dt.datetime(2026, 11, 25, 10, 1)
    first = service.maybe_backup_hourly()
    assert first is not None and first.reason == "hourly"
    now[0] = dt.datetime(2026, 11, 25, 11, 30)
    assert service.maybe_backup_hourly() is None  # no edit since the last backup
    assert service.backup_on_close() is None
    workspace.measurements.record(kpis["signups"].id, "2026-02-01", 2)
    now[0] = dt.datetime(2026, 11, 25, 11, 0)
    assert service.maybe_backup_hourly() is None  # 59 minutes after the last backup
    now[0] = dt.datetime(2026, 11, 25, 11, 2)
    assert service.maybe_backup_hourly() is not None
    workspace.measurements.record(kpis["signups"].id, "2026-03-01", 3)
    closing = service.backup_on_close()
    assert closing is not None and closing.reason == "on-close" and closing.counts["measurements"] == 3
    workspace.measurements.record(kpis["signups"].id, "2026-04-01", 4)
    off = BackupService(workspace.db, backup_dir=tmp_path / "b", settings=SafetySettings(backup_on_close=False))
    assert off.backup_on_close() is None


def test_cloud_sync_warning_is_shown_once(tmp_path: Path) -> None:
    folder = tmp_path / "Dropbox" / "kpis"
    db = open_database(folder / "team.db")
    try:
        assert db.cloud_sync == "Dropbox"
        service = BackupService(db, backup_dir=tmp_path / "b")
        first = service.cloud_warning()
        assert "Dropbox" in first and "two computers" in first
        assert service.cloud_warning() == ""
    finally:
        db.close()
    plain = open_database(tmp_path / "local" / "mine.db")
    try:
        assert plain.cloud_sync == "" and BackupService(plain).cloud_warning() == ""
    finally:
        plain.close()


def test_cli_backup_now_list_restore(tmp_path: Path) -> None:
    env = {**os.environ, "KPIDESK_DATA_DIR": str(tmp_path / "data")}
    db = str(tmp_path / "w.db")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kpidesk", *args, "--db", db], capture_output=True, text=True,
                              env=env, timeout=120, check=False)

    with Workspace.open(db) as ws:
        ws.products.create("Pulse")
    made = run("backup", "now")
    assert made.returncode == 0 and "1 products, 0 KPIs" in made.stdout, made.stderr
    with Workspace.open(db) as ws:
        ws.products.create("Ledger")
    listed = json.loads(run("backup", "list", "--json").stdout)
    assert len(listed) == 1 and listed[0]["counts"]["products"] == 1
    restored = run("backup", "restore", listed[0]["id"])
    assert restored.returncode == 0 and "previous content was saved as backup" in restored.stdout
    with Workspace.open(db) as ws:
        assert [p.name for p in ws.products.list()] == ["Pulse"]
    saved = store.list_backups(Path(db), tmp_path / "data" / "backups")
    assert [b.reason for b in saved] == ["before-restore", "manual"] and saved[0].counts["products"] == 2

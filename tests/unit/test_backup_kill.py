"""Kill test: backups killed with SIGKILL at random moments never harm an earlier backup or the live file.

A child process backs up the live workspace in small steps (the way the GUI
worker does) while the parent keeps writing to it; the parent kills the
child at a random moment. After every kill: each backup that had finished
before is byte-for-byte unchanged and passes ``integrity_check``, the live
database passes ``integrity_check`` and holds exactly what the parent wrote.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kpidesk.storage.backup import list_backups, make_backup, restore_into
from kpidesk.storage.integrity import table_checksums

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

KILLS = 32

CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from kpidesk.storage.backup import make_backup

    class Slow:  # a worker's progress: a little work between steps, so a kill can land anywhere
        def report(self, fraction, text=""):
            time.sleep(0.002)
        def cancelled(self):
            return False

    print("ready", flush=True)
    make_backup(Path(sys.argv[1]), Path(sys.argv[2]), reason="kill-test", progress=Slow(), thin_after=False,
                pages_per_step=4)
    print("done", flush=True)
""")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _integrity(path: Path) -> str:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


@pytest.mark.slow
def test_backups_killed_at_random_moments_leave_everything_intact(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from kpidesk.services.workspace import Workspace
    from kpidesk.storage.measurements import bulk_upsert

    live = tmp_path / "live.db"
    backups = tmp_path / "backups"
    ws = Workspace.open(live, backup_dir=backups)
    product, _ = ws.products.create("Pulse")
    kpi, _ = ws.kpis.add_from_catalog(product.id, "signups")
    # ~1.5 MB so that a backup takes a few dozen steps
    rows = [(kpi.id, f"{1900 + i // 12:04d}-{1 + i % 12:02d}-01", "month", f"seg:{i % 5}", float(i), None, None,
             "n" * 200) for i in range(5000)]
    bulk_upsert(ws.db, rows, source="manual")
    rng = random.Random(11)
    env = {**os.environ, "KPIDESK_DATA_DIR": str(tmp_path / "data")}
    known: dict[Path, str] = {}
    for _ in range(2):  # backups that exist before the first kill
        info = make_backup(live, backups, reason="earlier", thin_after=False)
        known[info.path] = _sha(info.path)
    killed = completed = writes = 0
    runs = 0
    while killed < KILLS and runs < 3 * KILLS:
        n = runs
        runs += 1
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(live), str(backups)], env=env,
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        if n % 2:  # the user keeps editing while the backup runs
            ws.measurements.record(kpi.id, f"{2100 + n}-01-01", n, segment="live")
            writes += 1
        time.sleep(rng.uniform(0.0, 0.45))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        child.stdout.close()
        if child.returncode == -signal.SIGKILL:
            killed += 1
        elif child.returncode == 0:
            completed += 1
        else:
            pytest.fail(f"the backup child failed on its own (exit {child.returncode})")
        # every backup that finished before is unchanged and sound
        for path, digest in known.items():
            assert path.exists() and _sha(path) == digest, f"kill {n}: {path.name} changed"
        for info in list_backups(live, backups):
            if info.path not in known:
                assert _integrity(info.path) == "ok"
                known[info.path] = _sha(info.path)
        # the live database is sound and holds exactly what was written
        assert _integrity(live) == "ok"
        with ws.db.raw() as con:
            assert con.execute("SELECT count(*) FROM measurement WHERE segment = 'live'").fetchone()[0] == writes
    stray = len(list(backups.glob("*.part")))
    with capsys.disabled():
        print(f"\n[backup kill test] runs={runs} killed={killed} finished={completed} "
              f"backups_intact={len(known)} stray_part_files={stray} live_integrity=ok")
    assert killed >= 30
    assert completed >= 1  # some backups finish too, so "earlier backups" exist to be harmed
    # a finished backup is a complete copy: its checksum equals the live data at some moment
    final = max(known, key=lambda p: p.stat().st_mtime) if known else None
    if final is not None:
        con = sqlite3.connect(f"file:{final}?mode=ro", uri=True)
        assert set(table_checksums(con)) >= {"measurement", "kpi", "product"}
        con.close()
    ws.close()


RESTORE_CHILD = textwrap.dedent("""
    import sqlite3, sys
    from pathlib import Path
    from kpidesk.storage.backup import restore_into
    live = sqlite3.connect(sys.argv[1], isolation_level=None)
    live.execute("PRAGMA journal_mode = WAL")
    print("ready", flush=True)
    restore_into(live, Path(sys.argv[2]))
    print("done", flush=True)
""")


@pytest.mark.slow
def test_restores_killed_at_random_moments_leave_old_or_new_never_a_mix(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The restore writes the live file in one transaction: after a kill it holds exactly the old
    content or exactly the backup's, and passes integrity_check."""
    live, other = tmp_path / "live.db", tmp_path / "other.db"
    for path, rows in ((live, 3000), (other, 20000)):
        con = sqlite3.connect(path)
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        con.executemany("INSERT INTO t (v) VALUES (?)", [(f"{path.stem} {i} " + "z" * 300,) for i in range(rows)])
        con.commit()
        con.close()
    backup = make_backup(other, tmp_path / "backups", thin_after=False)

    def sums(path: Path) -> dict[str, str]:
        con = sqlite3.connect(path)
        try:
            return table_checksums(con)
        finally:
            con.close()

    old, new = sums(live), sums(backup.path)
    pristine = make_backup(live, tmp_path / "pristine", thin_after=False)
    rng = random.Random(5)
    outcomes = {"old": 0, "new": 0}
    window = 0.06  # adapts so that kills land both before and after the commit on any machine
    rounds = 0
    while rounds < 40 and (outcomes["old"] < 5 or outcomes["new"] < 2):
        rounds += 1
        if sums(live) == new:  # start each round from the old content
            con = sqlite3.connect(live, isolation_level=None)
            restore_into(con, pristine.path)
            con.close()
        child = subprocess.Popen([sys.executable, "-c", RESTORE_CHILD, str(live), str(backup.path)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, window))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        child.stdout.close()
        now = sums(live)
        assert now in (old, new)  # never a mix
        assert _integrity(live) == "ok"
        outcomes["old" if now == old else "new"] += 1
        window *= 1.25 if now == old else 0.7
    with capsys.disabled():
        print(f"\n[restore kill test] kept_old={outcomes['old']} became_new={outcomes['new']} mixed=0")
    assert outcomes["old"] >= 5 and outcomes["new"] >= 2  # kills landed on both sides of the commit

"""Atomic small files: settings and exports are written to a temporary file and renamed into place;
a SIGKILL at any moment leaves the old file (or the new one), never a mix."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from kpidesk.storage.atomic import (
    atomic_open,
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    write_failure,
)


def test_replaces_whole_and_keeps_permissions(tmp_path: Path) -> None:
    target = tmp_path / "settings.json"
    atomic_write_text(target, '{"a": 1}')
    target.chmod(0o640)
    atomic_write_text(target, '{"a": 2}')
    assert target.read_text() == '{"a": 2}'
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]
    stale = tmp_path / ".settings.json.killed.tmp"  # left by a write killed long ago
    stale.write_text("half")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    atomic_write_text(target, '{"a": 3}')
    assert not stale.exists()


def test_an_error_while_writing_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    target.write_text("old export")

    def failing_writer() -> None:
        with atomic_open(target, "w", encoding="utf-8") as handle:
            handle.write("half of the new exp")
            raise RuntimeError("the writer failed")

    with pytest.raises(RuntimeError):
        failing_writer()
    assert target.read_text() == "old export"
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]
    with pytest.raises(ValueError, match="writes a new file"), atomic_open(target, "a"):
        pass


def test_a_library_can_save_to_the_temporary_path(tmp_path: Path) -> None:
    from openpyxl import Workbook, load_workbook

    target = tmp_path / "book.xlsx"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target  # same folder: the rename is atomic
        wb = Workbook()
        wb.active.append(["kpi", 1])
        wb.save(tmp)
    assert load_workbook(target).active["A1"].value == "kpi"


def test_failures_are_told_in_plain_words() -> None:
    import errno

    full = write_failure(OSError(errno.ENOSPC, "No space left on device"), "Saving the settings",
                         unchanged="settings.json is unchanged")
    assert full is not None and "disk is full" in str(full) and "settings.json is unchanged" in str(full)
    denied = write_failure(PermissionError(errno.EACCES, "Permission denied", "/x/settings.json"), "Saving")
    assert denied is not None and "no permission" in str(denied)
    assert write_failure(ValueError("not a write problem"), "Saving") is None


CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    mode, target = sys.argv[1], Path(sys.argv[2])
    if mode == "bytes":
        from kpidesk.storage.atomic import atomic_write_bytes
        n = 0
        print("ready", flush=True)
        while True:
            n += 1
            letter = b"ab"[n % 2:n % 2 + 1]
            atomic_write_bytes(target, letter * 3_000_000)
    elif mode == "plain":  # the negative control: writing in place, as naive code does
        n = 0
        print("ready", flush=True)
        while True:
            n += 1
            with open(target, "wb") as handle:
                handle.write(b"ab"[n % 2:n % 2 + 1] * 3_000_000)
    elif mode == "settings":
        from kpidesk.storage.backup import SafetySettings, save_settings
        n = 0
        print("ready", flush=True)
        while True:
            n += 1
            save_settings(SafetySettings(keep_all_hours=n % 100, cloud_warned=["/x" * 5000] * 20), target)
    elif mode == "export":
        from kpidesk.services.workspace import Workspace
        from kpidesk.services.workspace_export import export_all
        ws = Workspace.open(sys.argv[3], read_only=True)
        print("ready", flush=True)
        while True:
            export_all(ws.db, target)
""")


def _kill_loop(args: list[str], kills: int, check: object, window: float, seed: int) -> int:
    rng = random.Random(seed)
    done = 0
    for _ in range(kills):
        child = subprocess.Popen([sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, window))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        child.stdout.close()
        check()  # type: ignore[operator]
        done += 1
    return done


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_during_atomic_writes_never_leaves_a_torn_file(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "big.bin"
    atomic_write_bytes(target, b"o" * 3_000_000)
    whole = {b"o" * 3_000_000, b"a" * 3_000_000, b"b" * 3_000_000}

    def check_bytes() -> None:
        assert target.read_bytes() in whole

    n_bytes = _kill_loop(["bytes", str(target)], 20, check_bytes, 0.3, 1)

    settings = tmp_path / "settings"
    settings.mkdir()
    from kpidesk.storage.backup import SafetySettings, load_settings, save_settings

    save_settings(SafetySettings(keep_all_hours=7), settings)

    def check_settings() -> None:
        raw = json.loads((settings / "safety-settings.json").read_text())  # always complete JSON
        assert raw["keep_all_hours"] in range(100)
        assert load_settings(settings).keep_all_hours == raw["keep_all_hours"]

    n_settings = _kill_loop(["settings", str(settings)], 15, check_settings, 0.2, 2)
    # negative control: the same kills against in-place writes do tear the file, so the check above can fail
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"o" * 3_000_000)
    torn = 0

    def count_torn() -> None:
        nonlocal torn
        torn += plain.read_bytes() not in whole

    _kill_loop(["plain", str(plain)], 10, count_torn, 0.3, 4)
    assert torn >= 1
    leftovers = [p.name for p in [*tmp_path.iterdir(), *settings.iterdir()] if p.name.endswith(".tmp")]
    with capsys.disabled():
        print(f"\n[atomic kill test] kills={n_bytes + n_settings} torn_files=0 in_place_control_torn={torn}/10 "
              f"temporaries_left_by_kills={len(leftovers)}")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_during_an_export_keeps_the_previous_workbook(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from kpidesk.services.workspace import Workspace
    from kpidesk.services.workspace_export import export_all

    db = tmp_path / "w.db"
    with Workspace.open(db, backup_dir=tmp_path / "b") as ws:
        product, _ = ws.products.create("Pulse")
        kpi, _ = ws.kpis.add_from_catalog(product.id, "signups")
        for month in range(1, 13):
            ws.measurements.record(kpi.id, f"2026-{month:02d}-01", month)
        out = tmp_path / "out" / "everything.xlsx"
        out.parent.mkdir()
        export_all(ws.db, out)

    def check_export() -> None:
        with zipfile.ZipFile(out) as archive:
            assert archive.testzip() is None
        assert load_workbook(out, read_only=True)["About"]["A1"].value == "kpidesk workspace export"

    assert _kill_loop(["export", str(out), str(db)], 6, check_export, 0.8, 3) == 6
    assert os.path.exists(out)

"""The damaged-file corpus (tests/data/make_damaged.py): every file gets a specific message that
offers the newest good backup, nothing crashes, and not one byte of any input is written."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from kpidesk.storage.backup import make_backup
from kpidesk.storage.db import open_database
from kpidesk.storage.integrity import KINDS, DamagedDatabaseError, diagnose
from kpidesk.storage.migrations import LATEST

ROOT = Path(__file__).resolve().parents[2]


def _load_maker():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_damaged", ROOT / "tests" / "data" / "make_damaged.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_damaged"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[list, bytes]:  # type: ignore[type-arg]
    maker = _load_maker()
    folder = tmp_path_factory.mktemp("corpus")
    cases = maker.make_corpus(folder / "files")
    good = maker.make_base(folder / "good.db").read_bytes()
    return cases, good


def _state(folder: Path) -> dict[str, str]:
    """Every file in the folder with its sha256: a write, a new sidecar or a rename all change it."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_corpus_is_big_and_covers_every_kind_of_damage(corpus: tuple[list, bytes]) -> None:  # type: ignore[type-arg]
    cases, _ = corpus
    kinds = Counter(c.kind for c in cases)
    assert len(cases) >= 30
    assert set(kinds) == {"empty", "truncated", "header_damaged", "damaged", "zeroed_pages", "foreign_app",
                          "not_kpidesk", "not_sqlite"}
    assert set(kinds) <= set(KINDS)


def test_every_damaged_file_gets_a_specific_message_and_is_never_written(
        corpus: tuple[list, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[type-arg]
    cases, good = corpus
    backups = tmp_path / "backups"
    crashes: list[str] = []
    writes: list[str] = []
    wrong: list[str] = []
    for case in cases:
        folder = tmp_path / case.path.stem
        folder.mkdir()
        path = folder / "workspace.db"
        # the user's real history: a healthy file, backed up, later damaged in place
        path.write_bytes(good)
        backup = make_backup(path, backups, reason="hourly", thin_after=False)
        shutil.copyfile(case.path, path)
        before = _state(folder)
        try:
            with pytest.raises(DamagedDatabaseError) as raised:
                open_database(path, backup_dir=backups).close()
            found = diagnose(path, latest_schema=LATEST)
        except Exception as exc:  # anything but the one clear error is a crash
            crashes.append(f"{case.path.name}: {type(exc).__name__}: {exc}")
            continue
        if _state(folder) != before:
            writes.append(case.path.name)
        error = raised.value
        if not (error.diagnosis.kind == case.kind == found.kind and "workspace.db" in error.message
                and f"kpidesk backup restore {backup.id}" in error.message
                and error.backup is not None and error.backup.id == backup.id):
            wrong.append(f"{case.path.name}: expected {case.kind}, got {error.diagnosis.kind}: {error.message}")
    with capsys.disabled():
        print(f"\n[damaged-file corpus] cases={len(cases)} crashes={len(crashes)} writes_to_input={len(writes)} "
              f"specific_messages={len(cases) - len(crashes) - len(wrong)}")
    assert crashes == []
    assert writes == []
    assert wrong == []


def test_messages_differ_by_kind_and_name_the_problem(corpus: tuple[list, bytes]) -> None:  # type: ignore[type-arg]
    cases, _ = corpus
    words = {"empty": "empty", "truncated": "truncated", "header_damaged": "damaged SQLite database",
             "damaged": "bytes were changed", "zeroed_pages": "zeros", "foreign_app": "another application",
             "not_kpidesk": "another application", "not_sqlite": "not a SQLite database"}
    for case in cases:
        found = diagnose(case.path, latest_schema=LATEST)
        assert words[case.kind] in found.message, (case.path.name, found.message)
        assert case.path.name in found.message


def test_without_a_backup_the_message_says_so(corpus: tuple[list, bytes], tmp_path: Path) -> None:  # type: ignore[type-arg]
    cases, _ = corpus
    case = next(c for c in cases if c.kind == "zeroed_pages")
    path = tmp_path / "alone.db"
    shutil.copyfile(case.path, path)
    with pytest.raises(DamagedDatabaseError, match="No backup of it was found") as raised:
        open_database(path, backup_dir=tmp_path / "empty-backups")
    assert raised.value.backup is None


def test_a_damaged_backup_is_never_offered(corpus: tuple[list, bytes], tmp_path: Path) -> None:  # type: ignore[type-arg]
    """The newest backup is itself damaged: the offer skips to the newest good one."""
    import datetime as dt

    cases, good = corpus
    backups = tmp_path / "backups"
    path = tmp_path / "workspace.db"
    path.write_bytes(good)
    older = make_backup(path, backups, now=dt.datetime(2026, 11, 24, 9, 0), thin_after=False)
    newer = make_backup(path, backups, now=dt.datetime(2026, 11, 25, 9, 0), thin_after=False)
    flipped = next(c for c in cases if c.kind == "damaged")
    shutil.copyfile(flipped.path, newer.path)
    shutil.copyfile(flipped.path, path)
    with pytest.raises(DamagedDatabaseError) as raised:
        open_database(path, backup_dir=backups)
    assert raised.value.backup is not None and raised.value.backup.id == older.id


def test_cli_restores_the_offered_backup_and_keeps_the_damaged_file(
        corpus: tuple[list, bytes], tmp_path: Path) -> None:  # type: ignore[type-arg]
    cases, good = corpus
    data = tmp_path / "data"
    env = {**os.environ, "KPIDESK_DATA_DIR": str(data)}
    path = tmp_path / "workspace.db"
    path.write_bytes(good)
    backup = make_backup(path, data / "backups", thin_after=False)
    damaged = next(c for c in cases if c.kind == "truncated" and "half" in c.name)
    shutil.copyfile(damaged.path, path)
    damaged_bytes = path.read_bytes()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kpidesk", *args, "--db", str(path)], capture_output=True,
                              text=True, env=env, timeout=120, check=False)

    check = run("db", "check")
    assert check.returncode == 1 and "truncated" in check.stdout and backup.id in check.stdout
    restored = run("backup", "restore", backup.id)
    assert restored.returncode == 0, restored.stderr
    kept = list(tmp_path.glob("workspace.damaged-*.db"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged_bytes
    listed = run("product", "list")
    assert listed.returncode == 0 and "Pulse" in listed.stdout and "Ledger" in listed.stdout


def test_gui_path_restores_the_offered_backup_over_a_damaged_file(
        corpus: tuple[list, bytes], tmp_path: Path) -> None:  # type: ignore[type-arg]
    from kpidesk.services.backup_service import restore_over_damaged
    from kpidesk.storage.integrity import table_checksums

    cases, good = corpus
    backups = tmp_path / "backups"
    path = tmp_path / "workspace.db"
    path.write_bytes(good)
    make_backup(path, backups, thin_after=False)
    zeroed = next(c for c in cases if c.kind == "zeroed_pages")
    shutil.copyfile(zeroed.path, path)
    with pytest.raises(DamagedDatabaseError) as raised:
        open_database(path, backup_dir=backups)
    offered = raised.value.backup
    assert offered is not None
    used, aside = restore_over_damaged(path, offered.id, backup_dir=backups)
    assert used.id == offered.id and aside is not None and aside.read_bytes() == zeroed.path.read_bytes()
    db = open_database(path, backup_dir=backups)
    try:
        with db.raw() as con:
            restored = table_checksums(con)
    finally:
        db.close()
    import sqlite3

    con = sqlite3.connect(f"file:{offered.path}?mode=ro", uri=True)
    assert restored == table_checksums(con)
    con.close()

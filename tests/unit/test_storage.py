"""The database file: pragmas, identity, migrations, the writer lock, constraints."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from kpidesk.errors import DatabaseError, DatabaseLockedError, ReadOnlyError
from kpidesk.storage import migrations
from kpidesk.storage.db import APPLICATION_ID, open_database, strip_password
from kpidesk.storage.models import Measurement

FIXTURE_V1 = Path(__file__).resolve().parents[1] / "data" / "v1_workspace.db"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_file_has_wal_foreign_keys_identity_and_latest_schema(tmp_path: Path) -> None:
    db = open_database(tmp_path / "new.db")
    try:
        with db.raw() as con:
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert con.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert con.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
            assert con.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
            assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert db.schema_version() == migrations.LATEST
    finally:
        db.close()


def test_foreign_keys_refuse_a_value_of_a_missing_kpi(workspace) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    with workspace.db.session() as session:
        session.add(Measurement(kpi_id=999, period_start=dt.date(2024, 1, 1), value=1.0))
        with pytest.raises(IntegrityError, match="(?i)foreign key"):
            session.commit()


def test_unique_kpi_period_segment_is_enforced(workspace, product_with_kpis) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    _, kpis = product_with_kpis
    kpi_id = kpis["nps"].id
    with workspace.db.session() as session:
        session.add(Measurement(kpi_id=kpi_id, period_start=dt.date(2024, 1, 1), value=1.0))
        session.add(Measurement(kpi_id=kpi_id, period_start=dt.date(2024, 1, 1), value=2.0))
        with pytest.raises(IntegrityError, match="(?i)unique|duplicate key"):
            session.commit()


def test_check_constraints_refuse_unknown_enum_values(workspace, product_with_kpis) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with pytest.raises(IntegrityError, match="ck_kpi_unit"), workspace.db.transaction() as conn:
        conn.execute(text("UPDATE kpi SET unit = 'parsecs'"))


def test_v1_file_is_upgraded_after_a_backup_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE_V1, path)
    original = sha(path)
    backups = tmp_path / "backups"
    db = open_database(path, backup_dir=backups)
    try:
        assert db.schema_version() == migrations.LATEST
        with db.raw() as con:
            columns = {row[1] for row in con.execute("PRAGMA table_info(measurement)")}
            assert {"numerator", "denominator"} <= columns
            assert con.execute("SELECT aliases, currency FROM kpi").fetchone() == ("[]", "")
            values = [r[0] for r in con.execute("SELECT value FROM measurement ORDER BY period_start")]
            assert values == [31.0, 33.5, 36.0]
    finally:
        db.close()
    saved = list(backups.glob("old.before-v*.db"))
    assert len(saved) == 1
    # the backup is the v1 file as it was: same schema version and the same rows
    con = sqlite3.connect(saved[0])
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM measurement").fetchone()[0] == 3
    con.close()
    assert sha(path) != original


def test_failed_migration_rolls_back_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE_V1, path)

    def broken(conn) -> None:  # type: ignore[no-untyped-def]
        migrations._v2_aliases_currency_ratio_parts(conn)
        raise RuntimeError("power cut in the middle of the migration")

    monkeypatch.setitem(migrations.STEPS, 2, broken)
    with pytest.raises(RuntimeError):
        open_database(path, backup_dir=tmp_path / "b")
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "numerator" not in {row[1] for row in con.execute("PRAGMA table_info(measurement)")}
    con.close()


def test_file_from_a_newer_kpidesk_is_refused_and_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    open_database(path).close()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {migrations.LATEST + 5}")
    con.close()
    before = sha(path)
    with pytest.raises(DatabaseError, match="newer kpidesk"):
        open_database(path)
    assert sha(path) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"PK\x03\x04 this is a zip", "not a SQLite database"),
        (b"SQLite format 3\x00\x10\x00", "truncated"),
    ],
)
def test_non_workspace_files_are_refused_without_writing(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "odd.db"
    path.write_bytes(content)
    with pytest.raises(DatabaseError, match=message):
        open_database(path)
    assert path.read_bytes() == content


def test_sqlite_file_of_another_application_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "browser-history.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    con.commit()
    con.close()
    before = sha(path)
    with pytest.raises(DatabaseError, match="another application"):
        open_database(path)
    assert sha(path) == before


HOLDER = textwrap.dedent("""
    import sys, time
    from kpidesk.storage.db import open_database
    db = open_database(sys.argv[1])
    print("open", flush=True)
    sys.stdin.readline()
    db.close()
""")


def test_second_process_is_told_plainly_and_may_open_read_only(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    open_database(path).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(DatabaseLockedError, match="already open in another kpidesk window"):
            open_database(path)
        ro = open_database(path, read_only=True)
        try:
            assert ro.read_only
            assert ro.schema_version() == migrations.LATEST
            with pytest.raises(ReadOnlyError, match="read-only"):
                ro.require_writable()
        finally:
            ro.close()
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=20)
    # once the other window closed, the file opens for writing again
    open_database(path).close()


def test_lock_is_released_when_the_holder_crashes(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    open_database(path).close()
    script = "import os,sys; from kpidesk.storage.db import open_database; open_database(sys.argv[1]); os._exit(9)"
    assert subprocess.run([sys.executable, "-c", script, str(path)], check=False).returncode == 9
    open_database(path).close()


def test_password_is_stripped_from_urls() -> None:
    assert strip_password("postgresql://ann:s3cret@db.example/kpis") == "postgresql://ann@db.example/kpis"
    assert strip_password("postgresql://db.example/kpis") == "postgresql://db.example/kpis"

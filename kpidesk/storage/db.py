"""Opening a workspace: engine, pragmas, checks, lock, migrations, transactions.

Everything SQLite-specific stays in this module; the rest of the code sees a
``Database`` with a SQLAlchemy engine, ORM sessions and a raw DB-API
connection for bulk paths. A PostgreSQL URL gives the same object (team
workspace); its schema version lives in ``kpidesk_meta`` instead of
``PRAGMA user_version``.
"""

from __future__ import annotations

import getpass
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, SQLModel

from kpidesk.errors import DatabaseError, ReadOnlyError
from kpidesk.storage import integrity, migrations
from kpidesk.storage.atomic import DiskFullError, write_failure
from kpidesk.storage.lock import WriterLock

log = logging.getLogger(__name__)

APPLICATION_ID = 0x4B504944  # "KPID": marks a SQLite file as a kpidesk workspace
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
# libpq waits this long for a server; with the rest of opening, the user hears within 5 s
CONNECT_TIMEOUT_S = 4


def strip_password(url: str) -> str:
    """The URL with any password removed, safe to show or remember."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    if parsed.password is None:
        return url
    from sqlalchemy.engine import URL

    bare = URL.create(parsed.drivername, username=parsed.username, host=parsed.host, port=parsed.port,
                      database=parsed.database, query=parsed.query)
    return bare.render_as_string(hide_password=False)


def is_url(target: str) -> bool:
    return "://" in target


class Database:
    """An open workspace. Build it with :func:`open_database`."""

    def __init__(self, engine: Engine, *, path: Path | None, read_only: bool, user: str,
                 lock: WriterLock | None = None, read_only_reason: str = "") -> None:
        self.engine = engine
        self.path = path
        self.read_only = read_only
        self.read_only_reason = read_only_reason
        self.user = user
        self._lock = lock
        self._watcher: sqlite3.Connection | None = None
        # the cloud-sync service whose folder holds the file ("Dropbox", ...); the GUI warns once
        self.cloud_sync = ""

    # -- identity -------------------------------------------------------
    @property
    def url(self) -> str:
        return strip_password(self.engine.url.render_as_string(hide_password=False))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def display_name(self) -> str:
        return self.path.name if self.path else self.url

    # -- access ---------------------------------------------------------
    def session(self) -> Session:
        """An ORM session for small edits (caller commits)."""
        return Session(self.engine, expire_on_commit=False)

    def require_writable(self) -> None:
        if self.read_only:
            reason = self.read_only_reason or "it was opened read-only"
            raise ReadOnlyError(f"{self.display_name} cannot be changed: {reason}.")

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A SQLAlchemy Core connection inside one transaction (commit on success)."""
        self.require_writable()
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def raw(self, *, write: bool = False) -> Iterator[Any]:
        """The raw DB-API connection for bulk paths; with ``write`` a transaction
        that commits on success and rolls back whole on any error."""
        if write:
            self.require_writable()
        pooled = self.engine.raw_connection()
        try:
            dbapi = pooled.driver_connection
            if write:
                if self.is_sqlite:
                    dbapi.execute("BEGIN IMMEDIATE")
                try:
                    yield dbapi
                    dbapi.commit()
                except BaseException as exc:
                    dbapi.rollback()
                    mapped = write_failure(exc, "Saving your changes", where=self.path,
                                           unchanged="nothing was lost (the whole change was undone)")
                    if isinstance(mapped, DiskFullError):
                        raise mapped from exc
                    raise
            else:
                yield dbapi
                if not self.is_sqlite or dbapi.in_transaction:
                    dbapi.rollback()  # a read leaves no transaction open
        finally:
            pooled.close()

    def change_token(self) -> int:
        """A number that changes when anyone commits a change (polled by open windows).

        PostgreSQL: a counter bumped by triggers. SQLite: ``PRAGMA data_version``
        of a connection kept for watching, which moves when another connection
        (another process, or this app's own writers) commits.
        """
        if not self.is_sqlite:
            from kpidesk.storage import pg

            with self.engine.connect() as conn:
                return pg.change_token(conn)
        if self._watcher is None:
            assert self.path is not None
            self._watcher = sqlite3.connect(f"file:{self.path.as_posix()}?mode=ro", uri=True,
                                            check_same_thread=False)
        return int(self._watcher.execute("PRAGMA data_version").fetchone()[0])

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return _get_version(conn)

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        self.engine.dispose()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- version bookkeeping ----------------------------------------------------
def _get_version(conn: Connection) -> int:
    if conn.dialect.name == "sqlite":
        return int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
    if not inspect(conn).has_table("kpidesk_meta"):
        return 0
    value = conn.execute(text("SELECT value FROM kpidesk_meta WHERE key = 'schema_version'")).scalar()
    return int(value or 0)


def _set_version(conn: Connection, version: int) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA user_version = {int(version)}")
        conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
        return
    conn.execute(text("CREATE TABLE IF NOT EXISTS kpidesk_meta (key VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL)"))
    conn.execute(text("DELETE FROM kpidesk_meta WHERE key = 'schema_version'"))
    conn.execute(text("INSERT INTO kpidesk_meta (key, value) VALUES ('schema_version', :v)"), {"v": str(version)})


# -- SQLite specifics ---------------------------------------------------------
def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, read_only: bool, synchronous: str = "NORMAL") -> None:
    # Take transaction control away from the sqlite3 module (which does not
    # BEGIN before DDL, so a failed migration would be half-applied) and give
    # it to SQLAlchemy's "begin" event below: every transaction, DDL included,
    # is then atomic.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys = ON")
    if not read_only:
        cur.execute("PRAGMA journal_mode = WAL")
        # NORMAL: a power cut may lose the last commits, never consistency; FULL is the setting
        # that trades speed for durability (SafetySettings.synchronous)
        cur.execute(f"PRAGMA synchronous = {'FULL' if synchronous.upper() == 'FULL' else 'NORMAL'}")
    cur.close()


def check_sqlite_file(path: Path, *, quick_check_seconds: float = 0.0, backup_dir: Path | None = None) -> None:
    """Refuse, without writing, a file that is not a usable SQLite database.

    Damaged and foreign files raise ``integrity.DamagedDatabaseError`` with a
    specific message and the newest good backup (storage/integrity.py).
    """
    if not path.exists():
        return
    integrity.header_check(path, backup_dir)
    app_id = int.from_bytes(path.open("rb").read(72)[68:72], "big")
    # Look inside through a read-only connection before anything may write
    # (switching to WAL alone rewrites the header).
    try:
        con = integrity.read_only_connection(path)
        try:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            status = integrity.quick_check(con, seconds=quick_check_seconds)[0] if quick_check_seconds else "ok"
        finally:
            con.close()
    except sqlite3.DatabaseError:
        status = "damaged"
    if status == "damaged":
        diagnosis = integrity.diagnose(path, latest_schema=migrations.LATEST)
        if diagnosis.ok:  # damage the quick check saw but the diagnosis could not name
            diagnosis = integrity.Diagnosis("damaged", f"{path.name} is damaged: SQLite's quick check failed.")
        raise integrity.DamagedDatabaseError(diagnosis, integrity.newest_good_backup_for(path, backup_dir))
    if version > migrations.LATEST:
        raise DatabaseError(
            f"{path.name} was written by a newer kpidesk (schema {version}; this app knows "
            f"{migrations.LATEST}). Update kpidesk to open it; the file was not changed."
        )
    if version == 0 and app_id == 0 and tables - {"sqlite_sequence"} and not {"kpi", "measurement"} <= tables:
        shown = ", ".join(sorted(tables - {"sqlite_sequence"})[:5])
        raise integrity.DamagedDatabaseError(integrity.Diagnosis(
            "not_kpidesk", f"{path.name} is a SQLite database of another application (tables: {shown}), not a "
                           "kpidesk workspace; kpidesk will not change it."),
            integrity.newest_good_backup_for(path, backup_dir))


def _unwritable_reason(path: Path) -> str:
    """Why the file cannot be written here ('' when it can). ``os.access`` also sees read-only mounts."""
    probe = path if path.exists() else path.parent
    if probe.exists() and hasattr(os, "statvfs") and os.statvfs(probe).f_flag & os.ST_RDONLY:
        return "it is on a read-only disk or share (nothing can be written there)"
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only (you have no permission to change it)"
    folder = path.parent
    if folder.exists() and not os.access(folder, os.W_OK | os.X_OK):
        return (f"its folder {folder} cannot be written (a read-only disk or share, or no permission), "
                "and SQLite needs to write its journal beside the file")
    return ""


def _needs_immutable(path: Path) -> bool:
    """A WAL file in a folder we cannot write has no -shm to share: read it as immutable."""
    try:
        con = sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True)
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            con.close()
    except sqlite3.OperationalError:
        return True
    return False


def _disk_full_handler(context: Any) -> None:
    """Turn SQLite's 'disk is full' / I/O errors into one plain sentence (the transaction rolls back)."""
    database = context.engine.url.database if context.engine is not None else None
    where = Path(database.removeprefix("file:").split("?")[0]) if database else None
    mapped = write_failure(context.original_exception, "Saving your changes", where=where,
                           unchanged="nothing was lost (the whole change was undone)")
    if isinstance(mapped, DiskFullError):
        raise mapped from context.original_exception


def _sqlite_url(path: Path, read_only: bool, *, immutable: bool = False) -> str:
    if read_only:
        return f"sqlite:///file:{path.as_posix()}?mode=ro{'&immutable=1' if immutable else ''}&uri=true"
    return f"sqlite:///{path.as_posix()}"


def backup_sqlite(source: Path | sqlite3.Connection, dest: Path, *, pages: int = -1) -> Path:
    """A consistent copy made with SQLite's online backup API (never a file copy)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    src = source if isinstance(source, sqlite3.Connection) else sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        out = sqlite3.connect(tmp)
        try:
            src.backup(out, pages=pages)
        finally:
            out.close()
    finally:
        if src is not source:
            src.close()
    tmp.replace(dest)
    return dest


def _database_user(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        try:
            return getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (containers)
            return "local"
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT current_user")).scalar())


def open_database(target: str | Path, *, read_only: bool = False, create: bool = True,
                  backup_dir: Path | None = None, migrate: bool = True) -> Database:
    """Open (and if needed create or upgrade) the workspace at a path or URL.

    Raises ``DatabaseLockedError`` when another kpidesk process has the file
    open for writing (callers may retry with ``read_only=True``), and
    ``DatabaseError`` for a file that is newer than this app, not SQLite,
    damaged, or of another application. Nothing is written to a file that
    fails a check.
    """
    target = str(target)
    if is_url(target) and not target.startswith("sqlite"):
        return _open_server(target, read_only=read_only, migrate=migrate)
    if target.startswith("sqlite"):
        database = make_url(target).database or ""
        if database in ("", ":memory:"):
            raise DatabaseError("kpidesk needs a database file, not an in-memory database.")
        target = database
    path = Path(target).expanduser().resolve()
    from kpidesk.storage.backup import load_settings

    settings = load_settings()
    check_sqlite_file(path, quick_check_seconds=settings.quick_check_seconds, backup_dir=backup_dir)
    reason = "it was opened read-only" if read_only else _unwritable_reason(path)
    if reason and not read_only:
        if not path.exists():
            raise DatabaseError(f"{path.name} cannot be created: {reason}.")
        read_only = True  # a read-only medium or missing permission: open it read-only and say why
    if not path.exists():
        if read_only or not create:
            raise DatabaseError(f"{path} does not exist.")
        path.parent.mkdir(parents=True, exist_ok=True)
    lock: WriterLock | None = None
    if not read_only:
        lock = WriterLock(path)
        lock.acquire()
    try:
        engine = create_engine(_sqlite_url(path, read_only, immutable=read_only and _needs_immutable(path)),
                               connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", lambda conn, _rec: _sqlite_pragmas(conn, read_only, settings.synchronous))
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        event.listen(engine, "handle_error", _disk_full_handler)
        db = Database(engine, path=path, read_only=read_only, user=_database_user(engine), lock=lock,
                      read_only_reason=reason)
        db.cloud_sync = integrity.cloud_sync_service(path)
        _check_and_migrate(db, backup_dir=backup_dir, migrate=migrate)
    except OperationalError as exc:
        if lock is not None:
            lock.release()
        raise DatabaseError(f"{path.name} cannot be opened: {exc.orig}.") from exc
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return db


def _open_server(url: str, *, read_only: bool, migrate: bool) -> Database:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise DatabaseError(f"kpidesk works with SQLite files and PostgreSQL, not {parsed.get_backend_name()}.")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise DatabaseError(
            "A PostgreSQL workspace needs the 'team' extra: pip install 'kpidesk[team]'."
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed, connect_args={"connect_timeout": CONNECT_TIMEOUT_S}, pool_pre_ping=True)
    try:
        db = Database(engine, path=None, read_only=read_only, user=_database_user(engine))
    except OperationalError as exc:
        raise DatabaseError(f"Cannot reach the team workspace at {strip_password(url)}: {exc.orig}".strip()) from exc
    _check_and_migrate(db, backup_dir=None, migrate=migrate and not read_only)
    if not read_only:
        from kpidesk.storage import pg

        with engine.connect() as conn:
            refusal = pg.write_refusal(conn)
        if refusal:
            db.read_only, db.read_only_reason = True, refusal
    return db


def _check_and_migrate(db: Database, *, backup_dir: Path | None, migrate: bool) -> None:
    with db.engine.connect() as conn:
        version = _get_version(conn)
        tables = set(inspect(conn).get_table_names())
    if version > migrations.LATEST:
        raise DatabaseError(
            f"{db.display_name} was written by a newer kpidesk (schema {version}; this app knows "
            f"{migrations.LATEST}). Update kpidesk to open it; the file was not changed."
        )
    if version == 0 and tables - {"kpidesk_meta", "sqlite_sequence"} and not {"measurement", "kpi"} <= tables:
        raise DatabaseError(f"{db.display_name} is a database of another application, not a kpidesk workspace.")
    if version == migrations.LATEST:
        return
    if db.read_only or not migrate:
        if version == 0:
            raise DatabaseError(f"{db.display_name} is not initialised and is open read-only.")
        raise DatabaseError(
            f"{db.display_name} needs an upgrade (schema {version} -> {migrations.LATEST}) and is open read-only."
        )
    if version == 0:
        from kpidesk.storage import models  # noqa: F401  (registers the tables; without it create_all makes none)

        with db.engine.begin() as conn:
            SQLModel.metadata.create_all(conn)
            if conn.dialect.name == "postgresql":
                from kpidesk.storage import pg

                pg.install(conn)
            _set_version(conn, migrations.LATEST)
        return
    if db.path is not None:
        from kpidesk.paths import backups_dir
        from kpidesk.storage.backup import make_backup

        try:
            info = make_backup(db.path, backup_dir or backups_dir(), reason=f"before-v{migrations.LATEST}",
                               thin_after=False)
        except DiskFullError as exc:
            raise DiskFullError(
                f"{db.display_name} must be backed up before its upgrade to schema {migrations.LATEST}, and the "
                f"backup failed because the disk is full; nothing was upgraded and nothing was lost. "
                "Free some space and open it again."
            ) from exc
        log.info("backed up %s to %s before migrating", db.path, info.path)
    try:
        with db.engine.begin() as conn:
            for step_version in migrations.pending(version):
                migrations.STEPS[step_version](conn)
            _set_version(conn, migrations.LATEST)
    except DiskFullError as exc:
        raise DiskFullError(
            f"Upgrading {db.display_name} to schema {migrations.LATEST} failed because the disk is full; the "
            f"upgrade was rolled back whole, the file is unchanged (schema {version}) and nothing was lost. "
            "Free some space and open it again."
        ) from exc

"""Backups, restore and database checks for one open workspace.

How the GUI uses it (every call that copies or checks data runs in the task
runner's worker thread, with a Progress adapter; none touches Qt):

* **File → Restore from backup…**: ``service.list()`` gives ``BackupInfo``
  rows (``created``, ``reason``, ``counts_text()`` = products, KPIs, values,
  goals) to show *before* restoring; ``service.restore(info.id, progress)``
  first backs up the current file (reason ``before-restore``), then replaces
  the content in one transaction and returns ``Changes`` touching every table
  (refresh everything).
* **Auto-backup**: a timer calls ``service.maybe_backup_hourly()`` every few
  minutes (it backs up only after ``hourly_minutes`` of edited time since the
  last backup) and the close handler calls ``service.backup_on_close()``.
  Both return the new ``BackupInfo`` or None.
* **Help → Check database**: ``service.check_database(progress)`` returns an
  ``IntegrityReport`` (``ok``, ``summary``, ``lines`` in plain words).
* **Read-only banner**: ``service.read_only_banner()`` is '' for a writable
  workspace, else the sentence to show; disable editing actions with
  ``workspace.db.read_only_reason`` as their tooltip.
* **A file that cannot be opened** (``DamagedDatabaseError`` carries the
  offered ``.backup``): ``restore_over_damaged(path, error.backup.id)`` puts
  the backup in place, keeps the damaged file beside it untouched, and the
  GUI then opens ``path`` again.
* **Cloud-sync warning**: ``service.cloud_warning()`` returns the warning the
  first time a file in a Dropbox/OneDrive/iCloud/... folder is opened, then ''.

Errors are ``KpideskError`` subclasses with one sentence: ``DiskFullError``
(disk full, nothing lost), ``NotFoundError`` (no such backup),
``CancelledError`` (cancelled, nothing kept).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

from kpidesk.errors import DatabaseError
from kpidesk.progress import Progress
from kpidesk.services.changes import Changes
from kpidesk.storage import backup as store
from kpidesk.storage.backup import BackupInfo, SafetySettings
from kpidesk.storage.db import Database
from kpidesk.storage.integrity import IntegrityReport, integrity_report, read_only_connection


class BackupService:
    def __init__(self, db: Database, *, backup_dir: Path | None = None, settings: SafetySettings | None = None,
                 clock: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        from kpidesk.paths import backups_dir

        self._db = db
        self._dir = backup_dir or backups_dir()
        self._settings = settings
        self._clock = clock
        self._opened_at = clock()

    # -- settings ------------------------------------------------------------------
    @property
    def settings(self) -> SafetySettings:
        return self._settings or store.load_settings()

    def save_settings(self, settings: SafetySettings) -> None:
        store.save_settings(settings)
        self._settings = settings

    @property
    def folder(self) -> Path:
        return self._dir

    def _path(self) -> Path:
        if self._db.path is None:
            raise DatabaseError("Backups of a team workspace are made on the server (pg_dump), not by kpidesk.")
        return self._db.path

    # -- backups -------------------------------------------------------------------
    def backup_now(self, reason: str = "manual", progress: Progress | None = None) -> BackupInfo:
        """A consistent copy of the workspace in the backups folder (then old ones are thinned)."""
        return store.make_backup(self._path(), self._dir, reason=reason, progress=progress,
                                 now=self._clock(), settings=self.settings)

    def list(self) -> list[BackupInfo]:
        """This workspace's backups, newest first."""
        return store.list_backups(self._path(), self._dir)

    def last_edit_time(self) -> dt.datetime:
        """When the workspace file (or its WAL, where commits land first) last changed."""
        path = self._path()
        stamps = [p.stat().st_mtime for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
        return dt.datetime.fromtimestamp(max(stamps))

    def edited_since_last_backup(self) -> bool:
        """True when the file or its WAL changed after the newest backup was written (file times,
        so an injected clock does not matter; a checkpoint may count as an edit, never the reverse)."""
        backups = self.list()
        if not backups:
            return True
        return self.last_edit_time() > dt.datetime.fromtimestamp(backups[0].path.stat().st_mtime)

    def maybe_backup_hourly(self, progress: Progress | None = None) -> BackupInfo | None:
        """Back up when the workspace was edited and ``hourly_minutes`` have passed since the
        last backup (or since it was opened, when it has none). Call it from a timer."""
        interval = dt.timedelta(minutes=self.settings.hourly_minutes)
        if not interval or not self.edited_since_last_backup():
            return None
        backups = self.list()
        since = backups[0].created if backups else self._opened_at
        if self._clock() - since < interval:
            return None
        return self.backup_now("hourly", progress)

    def backup_on_close(self, progress: Progress | None = None) -> BackupInfo | None:
        """Back up on closing when anything changed since the last backup (and the setting is on)."""
        if not self.settings.backup_on_close or not self.edited_since_last_backup():
            return None
        return self.backup_now("on-close", progress)

    # -- restore -------------------------------------------------------------------
    def restore(self, backup_id: str, progress: Progress | None = None) -> tuple[BackupInfo, Changes]:
        """Replace the workspace's content with a backup; returns the backup made of the current
        content first (so the restore itself can be undone) and Changes touching everything."""
        from kpidesk.storage import db as dbmod
        from kpidesk.storage.migrations import LATEST
        from kpidesk.storage.models import ALL_TABLES

        self._db.require_writable()
        chosen = store.find_backup(self._path(), self._dir, backup_id)
        problem = store.verify_backup(chosen, latest_schema=LATEST)
        if problem:
            raise DatabaseError(f"Backup {chosen.id} cannot be restored: {problem}")
        if progress is not None:
            progress.report(0.0, "Backing up the current content first…")
        safety = self.backup_now("before-restore")
        pooled = self._db.engine.raw_connection()
        try:
            store.restore_into(pooled.driver_connection, chosen.path, progress=progress)
        finally:
            pooled.close()
        self._db.engine.dispose()  # no pooled connection keeps a view of the old content
        if self._db.schema_version() < LATEST:  # a backup from before an upgrade
            dbmod._check_and_migrate(self._db, backup_dir=self._dir, migrate=True)
        if progress is not None:
            progress.report(1.0, "Restored")
        tables = [t.__tablename__ for t in ALL_TABLES]  # type: ignore[attr-defined]
        message = (f"Restored the backup of {chosen.created:%Y-%m-%d %H:%M} ({chosen.counts_text()}); the previous "
                   f"content was saved as backup {safety.id}.")
        return safety, Changes.of(*tables, message=message)

    # -- checks --------------------------------------------------------------------
    def check_database(self, progress: Progress | None = None) -> IntegrityReport:
        """``integrity_check`` + ``foreign_key_check`` in plain words (reads only)."""
        from kpidesk.storage.migrations import LATEST

        path = self._path()
        conn: sqlite3.Connection = read_only_connection(path)
        try:
            return integrity_report(conn, name=path.name, latest_schema=LATEST,
                                    progress=progress.report if progress is not None else None)
        finally:
            conn.close()

    def read_only_banner(self) -> str:
        if not self._db.read_only:
            return ""
        return (f"{self._db.display_name} is open read-only: {self._db.read_only_reason}. You can look, export "
                "and back up; editing is turned off.")

    def cloud_warning(self) -> str:
        """A one-time warning for a workspace inside a cloud-sync folder ('' afterwards, or when not synced)."""
        service = getattr(self._db, "cloud_sync", "")
        if not service or self._db.path is None:
            return ""
        settings = store.load_settings()
        key = str(self._db.path)
        if key in settings.cloud_warned:
            return ""
        settings.cloud_warned.append(key)
        with contextlib.suppress(DatabaseError):  # not remembered: warning again next time beats failing
            store.save_settings(settings)
        return (f"{self._db.display_name} is inside a {service} folder. If {service} syncs it while kpidesk is "
                "writing, or the file is opened on two computers at once, changes can be lost or the copy can be "
                "damaged. Keep the workspace in a local folder, or close kpidesk before it syncs; kpidesk's own "
                f"backups in {self._dir} are safe copies.")


def restore_over_damaged(path: Path, backup_id: str, *, backup_dir: Path | None = None
                         ) -> tuple[BackupInfo, Path | None]:
    """Restore a backup over a workspace file that cannot be opened (no Database needed).

    The damaged file (and its -wal/-shm) is renamed aside, unchanged, as
    ``<name>.damaged-<time>.db`` and returned with the backup used.
    """
    from kpidesk.paths import backups_dir
    from kpidesk.storage.migrations import LATEST

    path = Path(path).expanduser().resolve()
    chosen = store.find_backup(path, backup_dir or backups_dir(), backup_id)
    problem = store.verify_backup(chosen, latest_schema=LATEST)
    if problem:
        raise DatabaseError(f"Backup {chosen.id} cannot be restored: {problem}")
    from kpidesk.storage.lock import WriterLock

    lock = WriterLock(path) if path.exists() else None
    if lock is not None:
        lock.acquire()  # never swap the file under another kpidesk window
    try:
        aside = store.restore_file(chosen.path, path)
    finally:
        if lock is not None:
            lock.release()
    return chosen, aside

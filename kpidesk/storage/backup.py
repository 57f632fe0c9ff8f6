"""Backups: consistent online copies, their list, thinning, and restore.

A backup is made through SQLite's online backup API (never a file copy, so a
write in progress can never tear it), a few hundred pages per step so a big
file reports progress and can be cancelled between steps. It is written to
``<name>.part`` in the backups folder, switched to rollback-journal mode
(a backup is one self-contained file, no ``-wal``), checked with
``quick_check``, fsync-ed and only then renamed to its final name. A crash
or SIGKILL at any moment leaves at most a stray ``.part`` file: every earlier
backup and the live database are untouched (the live file is only read).

Each backup ``<stem>.<reason>.<YYYYmmdd-HHMMSS>.db`` has a small JSON
manifest beside it (source path, time, reason, counts of products, KPIs,
measurements and goals) so listing is instant.

Thinning follows :class:`SafetySettings` (a setting, saved atomically in
the data folder): every backup of the last ``keep_all_hours``, then the
newest per day for ``daily_days`` days, per week up to ``weekly_days`` days,
and per month after that (``monthly_months = 0`` keeps monthly ones forever).

This module only needs ``sqlite3`` (no SQLAlchemy), so a worker or child
process can import it cheaply.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

from kpidesk.errors import CancelledError, DatabaseError, NotFoundError, ValidationError
from kpidesk.progress import Progress
from kpidesk.storage.atomic import _fsync_dir, _fsync_file, atomic_write_text, write_failure
from kpidesk.storage.integrity import counts, inspect_header, quick_check, read_only_connection

SETTINGS_FILE = "safety-settings.json"
_NAME = re.compile(r"^(?P<stem>.+)\.(?P<reason>[a-z][a-z0-9-]*)\.(?P<stamp>\d{8}-\d{6}(?:-\d+)?)\.db$")
PAGES_PER_STEP = 256


# -- settings --------------------------------------------------------------------
@dataclass
class SafetySettings:
    """Backup schedule and durability, stored as JSON in the data folder."""

    keep_all_hours: int = 24
    daily_days: int = 7
    weekly_days: int = 31
    monthly_months: int = 0  # 0 = keep one a month forever
    hourly_minutes: int = 60  # auto-backup after this much editing time
    backup_on_close: bool = True
    synchronous: str = "NORMAL"  # or "FULL": every commit waits for the disk (slower, survives power loss)
    quick_check_seconds: float = 2.0
    cloud_warned: list[str] = field(default_factory=list)

    def validate(self) -> None:
        if self.synchronous.upper() not in ("NORMAL", "FULL"):
            raise ValidationError(f"synchronous must be NORMAL or FULL, not '{self.synchronous}'.")
        for name in ("keep_all_hours", "daily_days", "weekly_days", "monthly_months", "hourly_minutes"):
            if int(getattr(self, name)) < 0:
                raise ValidationError(f"The backup setting {name} cannot be negative.")


def settings_path(folder: Path | None = None) -> Path:
    from kpidesk.paths import data_dir

    return (folder or data_dir()) / SETTINGS_FILE


def load_settings(folder: Path | None = None) -> SafetySettings:
    """The saved settings, or the defaults when the file is missing or unreadable."""
    path = settings_path(folder)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return SafetySettings()
    known = {f.name for f in fields(SafetySettings)}
    try:
        settings = SafetySettings(**{k: v for k, v in raw.items() if k in known})
        settings.validate()
    except (TypeError, ValueError, ValidationError):
        return SafetySettings()
    return settings


def save_settings(settings: SafetySettings, folder: Path | None = None) -> Path:
    settings.validate()
    return atomic_write_text(settings_path(folder), json.dumps(asdict(settings), indent=2) + "\n",
                             what="Saving the settings")


# -- what a backup is --------------------------------------------------------------
@dataclass(frozen=True)
class BackupInfo:
    """One backup file: ``id`` is what ``kpidesk backup restore ID`` takes."""

    id: str
    path: Path
    created: dt.datetime  # local time, naive
    reason: str
    source: str
    counts: dict[str, int]
    size: int
    schema_version: int = 0

    def counts_text(self) -> str:
        c = self.counts
        return (f"{c.get('products', 0):,} products, {c.get('kpis', 0):,} KPIs, "
                f"{c.get('measurements', 0):,} values, {c.get('goals', 0):,} goals")

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "file": self.path.name, "created": self.created.isoformat(timespec="seconds"),
                "reason": self.reason, "source": self.source, "counts": self.counts, "size": self.size,
                "schema_version": self.schema_version}


def _manifest(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _stamp_time(stamp: str) -> dt.datetime:
    return dt.datetime.strptime(stamp[:15], "%Y%m%d-%H%M%S")


def _read_info(path: Path) -> BackupInfo | None:
    match = _NAME.match(path.name)
    if match is None:
        return None
    stamp, reason = match["stamp"], match["reason"]
    try:
        meta = json.loads(_manifest(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = None
    size = path.stat().st_size
    if meta is None:  # no manifest (a pre-migration backup of an older build, or a crash between the two)
        try:
            conn = read_only_connection(path)
            try:
                found = counts(conn)
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            finally:
                conn.close()
        except sqlite3.Error:
            found, version = {}, 0
        return BackupInfo(stamp, path, _stamp_time(stamp), reason, "", found, size, version)
    return BackupInfo(str(meta.get("id", stamp)), path, dt.datetime.fromisoformat(meta["created"]),
                      str(meta.get("reason", reason)), str(meta.get("source", "")), dict(meta.get("counts", {})),
                      size, int(meta.get("schema_version", 0)))


def _stem(source: Path) -> str:
    return source.name[:-3] if source.name.endswith(".db") else source.name


def list_backups(source: Path, backup_dir: Path) -> list[BackupInfo]:
    """The backups of the database at ``source``, newest first (other files in the folder are ignored)."""
    source = Path(source).resolve()
    if not backup_dir.is_dir():
        return []
    stem = _stem(source)
    found = []
    for path in backup_dir.glob("*.db"):
        info = _read_info(path)
        if info is None:
            continue
        if info.source:
            if info.source != str(source):
                continue
        elif not path.name.startswith(stem + "."):
            continue
        found.append(info)
    return sorted(found, key=lambda i: (i.created, i.id), reverse=True)


def find_backup(source: Path, backup_dir: Path, backup_id: str) -> BackupInfo:
    """The backup named by an id, a unique id prefix, a file name or 'latest'."""
    backups = list_backups(source, backup_dir)
    if not backups:
        raise NotFoundError(f"There are no backups of {Path(source).name} in {backup_dir}.")
    if backup_id == "latest":
        return backups[0]
    exact = [b for b in backups if backup_id in (b.id, b.path.name)]
    matches = exact or [b for b in backups if b.id.startswith(backup_id)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFoundError(f"No backup '{backup_id}' of {Path(source).name}; `kpidesk backup list` shows them.")
    raise ValidationError(f"'{backup_id}' matches {len(matches)} backups; give more of the id.")


# -- making one ----------------------------------------------------------------------
def online_backup(source: Path | sqlite3.Connection, dest: Path, *, progress: Progress | None = None,
                  pages_per_step: int = PAGES_PER_STEP) -> Path:
    """Copy a live database to ``dest`` in steps (progress, cancel); atomic: ``dest`` appears whole or not at all.

    Raises ``CancelledError`` when ``progress`` is cancelled (the partial copy
    is removed), ``DiskFullError`` when the disk fills up.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    own = not isinstance(source, sqlite3.Connection)
    src = read_only_connection(Path(source)) if own else source
    assert isinstance(src, sqlite3.Connection)

    def step(_status: int, remaining: int, total: int) -> None:
        if progress is not None:
            if progress.cancelled():
                raise CancelledError("Backup cancelled; no backup was kept and nothing else was changed.")
            progress.report(0.95 * (total - remaining) / max(total, 1), f"Backing up… {total - remaining:,} of "
                                                                        f"{total:,} pages")

    try:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        out = sqlite3.connect(part)
        try:
            src.backup(out, pages=max(1, pages_per_step), progress=step)
            if progress is not None:  # the check below reads the whole copy: say so rather than stall
                progress.report(0.96, "Checking the backup copy…")
            # one self-contained file: no -wal beside the backup
            out.execute("PRAGMA journal_mode = DELETE").fetchone()
            status, problems = quick_check(out, seconds=30.0)
            if status == "damaged":
                raise DatabaseError(f"The backup copy failed its check ({problems[0]}); it was not kept.")
        finally:
            out.close()
        _fsync_file(part)
        os.replace(part, dest)
        _fsync_dir(dest.parent)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            part.unlink()
        mapped = write_failure(exc, "The backup", unchanged="your workspace is unchanged; no backup was kept",
                               where=dest)
        if mapped is not None:
            raise mapped from exc
        raise
    finally:
        if own:
            src.close()
    if progress is not None:
        progress.report(1.0, "Backup done")
    return dest


def _unique_dest(backup_dir: Path, stem: str, reason: str, when: dt.datetime) -> tuple[str, Path]:
    base = when.strftime("%Y%m%d-%H%M%S")
    backup_id, n = base, 1
    while any(backup_dir.glob(f"{glob_escape(stem)}.*.{backup_id}.db")):
        n += 1
        backup_id = f"{base}-{n}"
    return backup_id, backup_dir / f"{stem}.{reason}.{backup_id}.db"


def make_backup(source: Path, backup_dir: Path, *, reason: str = "manual", progress: Progress | None = None,
                conn: sqlite3.Connection | None = None, now: dt.datetime | None = None,
                settings: SafetySettings | None = None, thin_after: bool = True,
                pages_per_step: int = PAGES_PER_STEP) -> BackupInfo:
    """Back up the database at ``source`` (read through ``conn`` when given) and thin old backups."""
    source = Path(source).resolve()
    reason = re.sub(r"[^a-z0-9-]+", "-", reason.lower()).strip("-") or "manual"
    when = now or dt.datetime.now()
    try:
        backup_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise (write_failure(exc, "The backup", unchanged="your workspace is unchanged") or exc) from exc
    _remove_stale_parts(backup_dir)
    backup_id, dest = _unique_dest(backup_dir, _stem(source), reason, when)
    online_backup(conn if conn is not None else source, dest, progress=progress, pages_per_step=pages_per_step)
    check = sqlite3.connect(f"file:{dest.as_posix()}?mode=ro", uri=True)
    try:
        found = counts(check)
        version = int(check.execute("PRAGMA user_version").fetchone()[0])
    finally:
        check.close()
    info = BackupInfo(backup_id, dest, when.replace(microsecond=0), reason, str(source), found,
                      dest.stat().st_size, version)
    meta = info.to_dict()
    meta["created"] = info.created.isoformat()
    try:
        atomic_write_text(_manifest(dest), json.dumps(meta, indent=2) + "\n", what="The backup")
    except DatabaseError:
        dest.unlink(missing_ok=True)  # a backup we cannot describe is not worth keeping on a full disk
        raise
    if thin_after:
        thin_backups(source, backup_dir, settings or load_settings(), now=when)
    return info


def _remove_stale_parts(backup_dir: Path, older_than: dt.timedelta = dt.timedelta(hours=1)) -> None:
    """Leftovers of backups killed half-way (never a finished backup)."""
    limit = dt.datetime.now().timestamp() - older_than.total_seconds()
    for part in backup_dir.glob("*.db.part"):
        with contextlib.suppress(OSError):
            if part.stat().st_mtime < limit:
                part.unlink()


# -- thinning ------------------------------------------------------------------------
def backups_to_keep(created: Iterable[dt.datetime], now: dt.datetime, settings: SafetySettings) -> set[dt.datetime]:
    """Which backup times the schedule keeps.

    Rule (age = now - created): age <= keep_all_hours → keep; age <= daily_days
    → keep the newest of each calendar day; age <= weekly_days → the newest of
    each ISO week; older → the newest of each month, for monthly_months months
    (0 = forever). The newest backup overall is always kept.
    """
    times = sorted(set(created), reverse=True)
    keep: set[dt.datetime] = set(times[:1])
    buckets: dict[tuple[str, Any], dt.datetime] = {}
    for when in times:  # newest first, so the first one seen in a bucket is its newest
        age = now - when
        if age <= dt.timedelta(hours=settings.keep_all_hours):
            keep.add(when)
            continue
        if age <= dt.timedelta(days=settings.daily_days):
            bucket: tuple[str, Any] = ("day", when.date())
        elif age <= dt.timedelta(days=settings.weekly_days):
            bucket = ("week", tuple(when.isocalendar())[:2])
        else:
            months_old = (now.year - when.year) * 12 + now.month - when.month
            if settings.monthly_months and months_old > settings.monthly_months:
                continue
            bucket = ("month", (when.year, when.month))
        if bucket not in buckets:
            buckets[bucket] = when
            keep.add(when)
    return keep


def thin_backups(source: Path, backup_dir: Path, settings: SafetySettings, *, now: dt.datetime | None = None
                 ) -> list[BackupInfo]:
    """Delete the backups the schedule no longer keeps; returns them."""
    backups = list_backups(source, backup_dir)
    keep = backups_to_keep((b.created for b in backups), now or dt.datetime.now(), settings)
    removed = []
    for info in backups:
        if info.created in keep:  # backups made in the same second share a time and are kept together
            continue
        with contextlib.suppress(OSError):
            info.path.unlink()
            _manifest(info.path).unlink(missing_ok=True)
            removed.append(info)
    return removed


# -- checking and restoring -------------------------------------------------------------
def verify_backup(info: BackupInfo, *, latest_schema: int | None = None) -> str:
    """'' when the backup is usable, else why not (read-only check)."""
    problem = inspect_header(info.path)
    if problem is not None:
        return problem.message
    try:
        conn = read_only_connection(info.path)
        try:
            status, problems = quick_check(conn, seconds=10.0)
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"{info.path.name} cannot be read ({exc})."
    if status == "damaged":
        return f"{info.path.name} is damaged ({problems[0]})."
    if latest_schema is not None and version > latest_schema:
        return f"{info.path.name} was made by a newer kpidesk (schema {version})."
    return ""


def newest_good_backup(source: Path, backup_dir: Path | None = None) -> BackupInfo | None:
    from kpidesk.paths import backups_dir
    from kpidesk.storage.migrations import LATEST

    for info in list_backups(source, backup_dir or backups_dir()):
        if not verify_backup(info, latest_schema=LATEST):
            return info
    return None


def restore_into(target: sqlite3.Connection, backup: Path, *, progress: Progress | None = None) -> None:
    """Replace the content of an open database with a backup, in one transaction.

    SQLite's backup API writes the destination inside one write transaction:
    if anything fails (or the process dies) the destination rolls back whole.
    """
    src = read_only_connection(backup)
    try:
        def step(_status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress.report(0.1 + 0.85 * (total - remaining) / max(total, 1), "Restoring…")

        src.backup(target, pages=-1, progress=step)
    except BaseException as exc:
        mapped = write_failure(exc, "The restore", unchanged="your workspace is unchanged", where=backup)
        if mapped is not None:
            raise mapped from exc
        raise
    finally:
        src.close()


def restore_file(backup: Path, target: Path, *, now: dt.datetime | None = None) -> Path | None:
    """Put a backup in place of a file that cannot be opened (damaged): the damaged
    file is renamed aside, untouched, and returned (None when there was no file)."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    aside = None
    if target.exists():
        aside = target.with_name(f"{_stem(target)}.damaged-{stamp}.db")
        os.replace(target, aside)
        for suffix in ("-wal", "-shm"):
            side = target.with_name(target.name + suffix)
            if side.exists():
                os.replace(side, aside.with_name(aside.name + suffix))
    online_backup(backup, target)
    return aside

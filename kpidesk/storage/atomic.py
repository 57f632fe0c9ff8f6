"""Atomic small files, and plain words for a failed write.

Settings, mapping profiles and exported files are never written in place: the
new content goes to a temporary file in the *same folder* (so the final
``os.replace`` is a rename on one file system, which POSIX and Windows make
atomic), is flushed and ``fsync``-ed, and only then renamed over the old
file; the folder is fsync-ed too so the rename itself survives a power cut.
A crash or SIGKILL at any moment leaves either the old file or the new one,
never a half-written mix. Leftover temporaries are named ``.<name>.<random>.tmp``
and are harmless.

Use it like this::

    atomic_write_text(path, json.dumps(settings))        # small text
    with atomic_path(out_path) as tmp:                    # libraries that save to a path
        workbook.save(tmp)
    with atomic_open(out_path, "w", encoding="utf-8") as fh:   # streamed writers (csv)
        writer = csv.writer(fh) ...

A write that fails for lack of space (``ENOSPC``, ``EFBIG`` from a file-size
limit, ``EDQUOT``) raises :class:`DiskFullError` saying the disk is full and
that the old file is unchanged; other OS errors raise :class:`WriteFailedError`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from glob import escape as glob_escape
from pathlib import Path
from typing import IO, Any

from kpidesk.errors import DatabaseError, KpideskError

# errno values that mean "no room to write" (a full disk, a quota, a file-size limit)
_NO_SPACE = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


class DiskFullError(DatabaseError):
    """A write failed for lack of space; what was there before is unchanged."""


class WriteFailedError(KpideskError):
    """A write failed for another OS reason (permissions, I/O error); the old file is unchanged."""


def is_disk_full(exc: BaseException) -> bool:
    """True when ``exc`` (an OSError or a sqlite3 error) means the disk or a size limit is full.

    SQLite reports a short write as SQLITE_FULL ("database or disk is full");
    a write refused outright (EFBIG, ENOSPC) can surface as SQLITE_IOERR_WRITE,
    so for I/O errors the free space is not known and we look at the error code.
    """
    if isinstance(exc, OSError):
        return exc.errno in _NO_SPACE
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        return name == "SQLITE_FULL" or "disk is full" in str(exc)
    orig = getattr(exc, "orig", None)  # SQLAlchemy wraps DB-API errors
    return orig is not None and orig is not exc and is_disk_full(orig)


def is_io_error(exc: BaseException) -> bool:
    """True for SQLite's disk I/O errors (SQLITE_IOERR_*), wrapped or not."""
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        return name.startswith("SQLITE_IOERR") or "disk I/O error" in str(exc)
    orig = getattr(exc, "orig", None)
    return orig is not None and orig is not exc and is_io_error(orig)


def space_exhausted(where: Path | None = None) -> bool:
    """Is running out of room the likely cause of an I/O error? True when this process has a
    file-size limit (``RLIMIT_FSIZE``) or the disk holding ``where`` has less than 1 MB free."""
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        if soft != resource.RLIM_INFINITY:
            return True
    except (ImportError, OSError, ValueError):
        pass
    if where is not None:
        try:
            return shutil.disk_usage(where if where.is_dir() else where.parent).free < 1024 * 1024
        except OSError:
            return False
    return False


def write_failure(exc: BaseException, what: str, *, unchanged: str = "nothing was lost",
                  where: Path | None = None) -> KpideskError | None:
    """The user-facing error for a failed write, or None when ``exc`` is not a write failure.

    ``what`` names the action ("The import", "The backup"), ``unchanged``
    says what is safe ("the workspace is unchanged"), ``where`` is the file
    or folder written (to tell a full disk from another I/O error).
    """
    if is_disk_full(exc) or (is_io_error(exc) and space_exhausted(where)):
        return DiskFullError(
            f"{what} failed because the disk is full (or a file-size limit was reached); it was rolled back "
            f"and {unchanged}. Free some space and try again."
        )
    if is_io_error(exc):
        return DiskFullError(
            f"{what} failed with a disk write error (the disk may be full, removed or failing); it was rolled "
            f"back and {unchanged}. Check the disk and free some space, then try again."
        )
    if isinstance(exc, PermissionError):
        return WriteFailedError(f"{what} failed: no permission to write {exc.filename or 'the file'}; {unchanged}.")
    if isinstance(exc, OSError):
        return WriteFailedError(f"{what} failed: {exc.strerror or exc}; {unchanged}.")
    return None


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable: fsync the folder (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _temp_in(path: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(name)


def _keep_mode(tmp: Path, path: Path) -> None:
    """The new file gets the old file's permissions (mkstemp creates 0600)."""
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    with contextlib.suppress(OSError):
        os.chmod(tmp, mode)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_file(tmp: Path) -> None:
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path, *, what: str | None = None) -> Iterator[Path]:
    """A temporary path next to ``path``; on success it is fsync-ed and renamed over ``path``.

    On any error the temporary is removed and ``path`` is left as it was.
    Disk-full and OS errors become :class:`DiskFullError` / :class:`WriteFailedError`.
    """
    path = Path(path)
    what = what or f"Writing {path.name}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temp_in(path)
    except OSError as exc:
        raise (write_failure(exc, what, unchanged=f"{path.name} is unchanged", where=path) or exc) from exc
    try:
        yield tmp
        _keep_mode(tmp, path)
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        mapped = write_failure(exc, what, unchanged=f"{path.name} is unchanged", where=path)
        if mapped is not None:
            raise mapped from exc
        raise
    _fsync_dir(path.parent)
    _remove_stale_temporaries(path)


def _remove_stale_temporaries(path: Path, older_than: float = 3600.0) -> None:
    """Temporaries of earlier writes that were killed half-way (an hour old: no writer is still on them)."""
    import time

    limit = time.time() - older_than
    for stale in path.parent.glob(f".{glob_escape(path.name)}.*.tmp"):
        with contextlib.suppress(OSError):
            if stale.stat().st_mtime < limit:
                stale.unlink()


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", *, what: str | None = None, **kwargs: Any) -> Iterator[IO[Any]]:
    """An open file object whose content replaces ``path`` atomically when the block ends without error."""
    if not any(m in mode for m in "wx"):
        raise ValueError("atomic_open writes a new file; use mode 'w' or 'wb'")
    with atomic_path(path, what=what) as tmp, open(tmp, mode.replace("x", "w"), **kwargs) as handle:
        yield handle
        handle.flush()


def atomic_write_bytes(path: str | Path, data: bytes, *, what: str | None = None) -> Path:
    """Replace ``path`` with ``data`` atomically; returns the path."""
    with atomic_open(path, "wb", what=what) as handle:
        handle.write(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str, *, encoding: str = "utf-8", what: str | None = None) -> Path:
    """Replace ``path`` with ``text`` atomically (newlines are written as given)."""
    with atomic_open(path, "w", what=what, encoding=encoding, newline="") as handle:
        handle.write(text)
    return Path(path)

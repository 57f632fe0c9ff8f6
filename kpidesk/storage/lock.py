"""One writer per file: an advisory lock held while a workspace is open for writing.

On POSIX we take ``flock`` on the database file itself. SQLite uses POSIX
record locks (``fcntl``), which on Linux and the BSDs are independent of
``flock``, so this never interferes with SQLite's own locking; the kernel
drops the lock when the process dies, so a crash never leaves a stale lock.
On Windows a sidecar ``.lock`` file is locked with ``msvcrt`` instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from kpidesk.errors import DatabaseLockedError


class WriterLock:
    def __init__(self, db_path: Path) -> None:
        self._path = db_path
        self._fd: int | None = None

    def acquire(self) -> None:
        target = self._path if sys.platform != "win32" else self._path.with_name(self._path.name + ".lock")
        fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise DatabaseLockedError(
                f"{self._path.name} is already open in another kpidesk window. "
                "Close it there, or open it read-only."
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

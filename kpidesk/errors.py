"""The two kinds of failure kpidesk knows.

``KpideskError`` is a user-facing problem (a bad file, a locked database, an
invalid formula): its message is one clear sentence shown in a dialog or on
stderr. Anything else is a bug: logged with its traceback and shown as an
internal error.
"""

from __future__ import annotations


class KpideskError(Exception):
    """A problem the user can understand and act on; ``str(err)`` is the message."""

    def __init__(self, message: str, *, details: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ValidationError(KpideskError):
    """Input that was refused; nothing was written."""


class NotFoundError(KpideskError):
    """A product, KPI, goal, ... that does not exist."""


class DatabaseError(KpideskError):
    """The database file cannot be used as asked (locked, newer, damaged, read-only)."""


class DatabaseLockedError(DatabaseError):
    """Another kpidesk process has the file open for writing."""


class ReadOnlyError(DatabaseError):
    """A write was attempted on a workspace opened read-only."""


class ConflictError(KpideskError):
    """Someone else changed the row since it was read (optimistic concurrency)."""


class CancelledError(KpideskError):
    """The user cancelled a long operation; nothing was written."""

    def __init__(self, message: str = "Cancelled; nothing was changed.") -> None:
        super().__init__(message)

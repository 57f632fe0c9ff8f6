"""A tiny progress protocol so slow services report and cancel without Qt."""

from __future__ import annotations

import time
from typing import Protocol

from kpidesk.errors import CancelledError


class Progress(Protocol):
    def report(self, fraction: float, text: str = "") -> None: ...

    def cancelled(self) -> bool: ...


class NullProgress:
    """Progress that goes nowhere and is never cancelled."""

    def report(self, fraction: float, text: str = "") -> None:
        return None

    def cancelled(self) -> bool:
        return False


class ThrottledProgress:
    """Wraps a Progress and forwards at most one report per ``interval`` seconds."""

    def __init__(self, inner: Progress, interval: float = 0.05) -> None:
        self._inner = inner
        self._interval = interval
        self._last = 0.0

    def report(self, fraction: float, text: str = "") -> None:
        now = time.monotonic()
        if fraction >= 1.0 or now - self._last >= self._interval:
            self._last = now
            self._inner.report(fraction, text)

    def cancelled(self) -> bool:
        return self._inner.cancelled()


def check_cancelled(progress: Progress | None) -> None:
    """Raise CancelledError when the user asked to stop."""
    if progress is not None and progress.cancelled():
        raise CancelledError()

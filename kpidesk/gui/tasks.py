"""One runner for slow work: a thread pool, one database writer, progress, cancel.

Work is a plain callable ``fn(progress)`` that runs on a worker thread and
receives a :class:`kpidesk.progress.Progress`. Results and errors come back on
the GUI thread through queued signals. Reads share a small pool; writes go
through a pool of exactly one thread, so there is only ever one database
writer. A task submitted with a ``key`` replaces an older running task with the
same key (the newest request wins: the old one is asked to cancel and its
result is dropped). A progress dialog with Cancel appears only if the work
lasts longer than ``progress_delay_ms``, so quick work never flashes a dialog.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from kpidesk.errors import CancelledError
from kpidesk.progress import Progress

log = logging.getLogger(__name__)

Work = Callable[[Progress], Any]
WORKER_NICE = 10


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(object, str)
    progressed = Signal(float, str)


class Task(QObject):
    """A handle on submitted work (lives on the GUI thread)."""

    finished = Signal(object)
    failed = Signal(object)
    progressed = Signal(float, str)

    def __init__(self, title: str, key: str | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.key = key
        self._cancel = threading.Event()
        self.done = False
        self.superseded = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.details = ""

    # -- the Progress protocol, called from the worker thread -------------
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()


class _ProgressBridge:
    """The Progress the work sees: forwards reports as queued signals."""

    def __init__(self, task: Task, signals: _Signals) -> None:
        self._task = task
        self._signals = signals

    def report(self, fraction: float, text: str = "") -> None:
        self._signals.progressed.emit(float(fraction), text)

    def cancelled(self) -> bool:
        return self._task.cancelled()


def _lower_this_thread() -> None:
    """Give the calling worker thread a lower CPU priority than the GUI thread.

    Qt's thread priorities are ignored for normal threads on Linux, so the
    worker's nice value is raised instead (Linux applies it per thread). When
    the GUI thread wakes up it then gets a core, and the GIL, first.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, tid) < WORKER_NICE:
            os.setpriority(os.PRIO_PROCESS, tid, WORKER_NICE)
    except OSError:  # not allowed here: the default priority is only slower to react
        pass


class _Runnable(QRunnable):
    def __init__(self, fn: Work, bridge: _ProgressBridge, signals: _Signals, released: threading.Event) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._bridge = bridge
        self._signals = signals
        self._released = released

    def run(self) -> None:
        _lower_this_thread()
        try:
            try:
                result = self._fn(self._bridge)
            except BaseException as exc:  # everything goes back to the GUI thread as a dialog
                self._signals.failed.emit(exc, traceback.format_exc())
            else:
                self._signals.done.emit(result)
        except RuntimeError:  # the window (and the signal's receiver) is gone: the app is closing
            log.debug("a task finished after its runner was deleted")
        finally:
            # Drop this thread's references now: the runner still holds the signals object and
            # releases it on the GUI thread. A QObject freed here would be destroyed in the
            # wrong thread ("Timers cannot be started from another thread").
            released = self._released
            self._fn = self._bridge = self._signals = None  # type: ignore[assignment]
            released.set()


class TaskRunner(QObject):
    """Runs work off the GUI thread; see the module docstring."""

    busy_changed = Signal(bool)
    error = Signal(object, str)  # (exception, details) for errors nobody handled

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        progress_delay_ms: int = 400,
        dialog_parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._reads = QThreadPool(self)
        self._reads.setMaxThreadCount(2)
        self._writes = QThreadPool(self)
        self._writes.setMaxThreadCount(1)  # one database writer
        for pool in (self._reads, self._writes):
            # the GUI thread wins the CPU (and so the GIL) whenever it has something to do
            pool.setThreadPriority(QThread.Priority.LowPriority)
        self._delay = progress_delay_ms
        self.dialog_parent = dialog_parent
        self._running: set[Task] = set()
        self._by_key: dict[str, Task] = {}
        self._keep: dict[Task, tuple[_Signals, Any]] = {}

    # -- submitting ------------------------------------------------------
    def submit(
        self,
        fn: Work,
        *,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        key: str | None = None,
        write: bool = False,
        title: str = "",
        show_progress: bool = True,
        owner: QObject | None = None,
    ) -> Task:
        """Run ``fn(progress)`` on a worker; ``on_done(result)`` runs on the GUI thread.

        Without ``on_error`` a failure is shown as an error dialog (through
        :attr:`error`); a cancellation is quiet. When ``owner`` (the widget the
        callbacks update) is destroyed first, the task is cancelled and its
        callbacks are never called.
        """
        task = Task(title, key, self)
        if owner is not None:
            owner.destroyed.connect(task.cancel)
        if key is not None:
            older = self._by_key.get(key)
            if older is not None and not older.done:
                older.superseded = True
                older.cancel()
            self._by_key[key] = task
        signals = _Signals()
        bridge = _ProgressBridge(task, signals)
        dialog_holder: dict[str, QProgressDialog] = {}

        def progressed(fraction: float, text: str) -> None:
            task.progressed.emit(fraction, text)
            dialog = dialog_holder.get("dialog")
            if dialog is not None:
                dialog.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
                if text:
                    dialog.setLabelText(text)

        def finish() -> None:
            task.done = True
            self._running.discard(task)
            self._release(task, released)
            if key is not None and self._by_key.get(key) is task:
                del self._by_key[key]
            dialog = dialog_holder.pop("dialog", None)
            if dialog is not None:
                dialog.reset()
                dialog.deleteLater()
            if not self._running:
                self.busy_changed.emit(False)

        def done(result: Any) -> None:
            finish()
            task.result = result
            if task.superseded or task.cancelled():
                return
            task.finished.emit(result)
            if on_done is not None:
                on_done(result)

        def failed(exc: BaseException, details: str) -> None:
            finish()
            task.error, task.details = exc, details
            if task.superseded or (task.cancelled() and not isinstance(exc, CancelledError)):
                return
            task.failed.emit(exc)
            if isinstance(exc, CancelledError):
                return
            if on_error is not None:
                on_error(exc)
            else:
                if not isinstance(exc, Exception) or type(exc).__module__ != "kpidesk.errors":
                    log.error("%s failed:\n%s", title or "A task", details)
                self.error.emit(exc, details)

        signals.progressed.connect(progressed)
        signals.done.connect(done)
        signals.failed.connect(failed)
        released = threading.Event()
        self._keep[task] = (signals, bridge)
        was_idle = not self._running
        self._running.add(task)
        if was_idle:
            self.busy_changed.emit(True)
        if show_progress:
            QTimer.singleShot(self._delay, self, lambda: self._show_dialog(task, dialog_holder))
        (self._writes if write else self._reads).start(_Runnable(fn, bridge, signals, released))
        return task

    def _release(self, task: Task, released: threading.Event) -> None:
        """Forget a finished task's signals object on the GUI thread, once the worker let go of it."""
        if released.is_set():
            self._keep.pop(task, None)
        else:
            QTimer.singleShot(5, self, lambda: self._release(task, released))

    def _show_dialog(self, task: Task, holder: dict[str, QProgressDialog]) -> None:
        if task.done or task.cancelled():
            return
        dialog = QProgressDialog(
            task.title or self.tr("Working…"), self.tr("Cancel"), 0, 1000, self.dialog_parent
        )
        dialog.setWindowTitle(task.title or self.tr("Working"))
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(task.cancel)
        dialog.setValue(0)
        dialog.show()
        holder["dialog"] = dialog

    # -- state -----------------------------------------------------------
    @property
    def busy(self) -> bool:
        return bool(self._running)

    def running(self) -> list[Task]:
        return list(self._running)

    def cancel_all(self) -> None:
        for task in list(self._running):
            task.cancel()

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the pools are idle (closing, tests); signals still need the event loop."""
        return self._reads.waitForDone(msecs) and self._writes.waitForDone(msecs)

"""The task runner: results on the GUI thread, newest request wins, cancel, one writer, errors."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QApplication, QProgressDialog, QPushButton, QWidget

from kpidesk.errors import ValidationError
from kpidesk.gui.tasks import TaskRunner
from kpidesk.progress import check_cancelled


@pytest.fixture
def runner(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    r = TaskRunner(parent, progress_delay_ms=30, dialog_parent=parent)
    yield r
    r.cancel_all()
    r.wait()


def test_work_runs_off_the_gui_thread_and_the_result_comes_back_on_it(runner, qtbot):
    seen = {}

    def work(progress):
        seen["worker"] = QThread.currentThread()
        return 6 * 7

    def done(value):
        seen["done_thread"] = QThread.currentThread()
        seen["value"] = value

    with qtbot.waitSignal(runner.submit(work, on_done=done, show_progress=False).finished):
        pass
    gui = QApplication.instance().thread()
    assert seen["value"] == 42
    assert seen["worker"] is not gui
    assert seen["done_thread"] is gui


def test_the_newest_request_with_the_same_key_wins(runner, qtbot):
    release = threading.Event()
    results = []

    def slow(progress):
        release.wait(5)
        check_cancelled(progress)  # the superseded task sees its cancel flag
        return "old"

    old = runner.submit(slow, on_done=results.append, key="filter", show_progress=False)
    new = runner.submit(lambda p: "new", on_done=results.append, key="filter", show_progress=False)
    qtbot.waitUntil(lambda: new.done, timeout=5000)
    release.set()
    qtbot.waitUntil(lambda: old.done, timeout=5000)
    assert results == ["new"]
    assert old.superseded and old.cancelled()


def test_a_slow_task_shows_progress_with_cancel_after_the_delay(runner, qtbot):
    started = threading.Event()

    def slow(progress):
        started.set()
        for i in range(500):
            progress.report(i / 500, f"step {i}")
            check_cancelled(progress)
            time.sleep(0.01)
        return "finished"

    errors = []
    task = runner.submit(slow, title="Long job", on_error=errors.append)
    qtbot.waitUntil(lambda: runner.dialog_parent.findChild(QProgressDialog) is not None, timeout=3000)
    dialog = runner.dialog_parent.findChild(QProgressDialog)
    qtbot.waitUntil(lambda: dialog.value() > 0, timeout=3000)
    cancel = dialog.findChild(QPushButton)
    assert cancel.text() == "Cancel"
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: task.done, timeout=5000)
    assert task.result is None and type(task.error).__name__ == "CancelledError"
    assert errors == []  # a cancellation is not an error dialog


def test_a_quick_task_never_shows_a_progress_dialog(runner, qtbot):
    task = runner.submit(lambda p: 1, title="Quick")
    qtbot.waitUntil(lambda: task.done, timeout=3000)
    qtbot.wait(80)  # past the delay
    assert runner.dialog_parent.findChild(QProgressDialog) is None


def test_writes_never_overlap(runner, qtbot):
    active, overlaps = [0], []
    lock = threading.Lock()

    def write(progress):
        with lock:
            active[0] += 1
            overlaps.append(active[0])
        time.sleep(0.02)
        with lock:
            active[0] -= 1

    tasks = [runner.submit(write, write=True, show_progress=False) for _ in range(5)]
    qtbot.waitUntil(lambda: all(t.done for t in tasks), timeout=5000)
    assert max(overlaps) == 1


def test_errors_go_to_on_error_or_to_the_error_signal(runner, qtbot):
    def bad(progress):
        raise ValidationError("Row 3 of sheet 'Q1' has no date.")

    caught = []
    runner.submit(bad, on_error=caught.append, show_progress=False)
    qtbot.waitUntil(lambda: bool(caught), timeout=3000)
    assert caught[0].message == "Row 3 of sheet 'Q1' has no date."
    with qtbot.waitSignal(runner.error, timeout=3000) as blocker:
        runner.submit(bad, show_progress=False)
    assert isinstance(blocker.args[0], ValidationError)

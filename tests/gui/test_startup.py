"""Start-up as ``kpidesk`` runs it: the window first, the workspace opened on a worker after its first paint."""

from __future__ import annotations

import gc
import shutil
import threading

import pytest
from PySide6.QtWidgets import QMessageBox

from kpidesk.app import build_window
from kpidesk.services.workspace import Workspace


@pytest.fixture
def started(qtbot, app_theme):
    """build_window(...) as app.run does; closes the window and undoes the warm-up's gc.freeze()."""
    windows = []

    def start(db: str, read_only: bool = False):
        window = build_window(db, read_only)
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield start
    for window in windows:
        window.runner.cancel_all()
        window.runner.wait()
        if window.ws is not None:
            window.ws.close()
        window.close()
    gc.unfreeze()


def test_the_workspace_opens_on_a_worker_and_the_dashboard_fills(qtbot, started, demo_db_file, tmp_path,
                                                                 monkeypatch):
    db = tmp_path / "demo.db"
    shutil.copy(demo_db_file, db)
    threads = []
    real_open = Workspace.open.__func__

    def recording_open(cls, *args, **kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        return real_open(cls, *args, **kwargs)

    monkeypatch.setattr(Workspace, "open", classmethod(recording_open))
    window = started(str(db))
    assert window.ws is None  # nothing opened before the first paint
    qtbot.waitUntil(lambda: window.ws is not None, timeout=30000)
    assert threads == [False], "the workspace must be opened off the GUI thread"
    assert window.windowTitle().startswith("demo")
    qtbot.waitUntil(lambda: window.dashboard.canvas.tile_count() > 20, timeout=30000)
    # the warm-up imported the chart page's module, then the page was built ahead of use
    qtbot.waitUntil(lambda: window.kpi_page is not None, timeout=60000)
    assert gc.get_freeze_count() > 0


def test_a_file_open_in_another_window_is_offered_read_only(qtbot, started, tmp_path, monkeypatch):
    db = tmp_path / "shared.kpidesk.db"
    holder = Workspace.open(db)  # "another window" holds the writer lock
    holder.products.create("Checkout")
    asked = []

    def answer(parent, title, text, *args):
        asked.append(text)
        return QMessageBox.StandardButton.Open

    monkeypatch.setattr(QMessageBox, "question", answer)
    try:
        window = started(str(db))
        qtbot.waitUntil(lambda: window.ws is not None, timeout=30000)
        assert window.ws.db.read_only
        assert "already open in another kpidesk window" in asked[0]
        assert "(read-only)" in window.windowTitle()
        assert not window.act_import.isEnabled()
    finally:
        holder.close()


def test_a_file_that_is_not_a_workspace_is_an_error_dialog_not_a_crash(qtbot, started, tmp_path, monkeypatch):
    db = tmp_path / "notes.kpidesk.db"
    db.write_bytes(b"these are my notes, not a database" * 100)
    shown = []
    monkeypatch.setattr("kpidesk.gui.main_window.error_dialog", lambda parent, exc, details="": shown.append(exc))
    window = started(str(db))
    qtbot.waitUntil(lambda: bool(shown), timeout=30000)
    assert window.ws is None
    assert "notes.kpidesk.db" in str(shown[0])
    assert db.read_bytes() == b"these are my notes, not a database" * 100  # left exactly as it was

"""Team workspace in the window: open by URL, notice others' changes, fall back to a snapshot.

- :class:`OpenTeamDialog` asks for a ``postgresql://`` URL. kpidesk never
  stores a password: libpq finds it in ``PGPASSWORD``, ``~/.pgpass`` or a
  ``pg_service.conf`` entry; a password typed into the URL is used for this
  session only and stripped from everything remembered or shown.
- :class:`ChangeWatcher` polls the workspace's change token off the GUI thread
  every ``interval_ms`` (default 2 s) and emits ``changed`` when someone else
  committed, so open views refresh within 5 seconds.
- :func:`latest_snapshot` finds the newest offline copy (``kpidesk db copy URL
  <data folder>/snapshots/NAME.db``) to offer when the server cannot be reached.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from kpidesk.paths import data_dir
from kpidesk.storage.db import strip_password

log = logging.getLogger(__name__)


def snapshots_dir() -> Path:
    return data_dir() / "snapshots"


def latest_snapshot() -> Path | None:
    """The most recently written offline snapshot, if any."""
    folder = snapshots_dir()
    if not folder.is_dir():
        return None
    files = sorted(folder.glob("*.db"), key=lambda p: p.stat().st_mtime, reverse=True)
    return files[0] if files else None


class OpenTeamDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, url: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Open Team Workspace"))
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr(
            "The address of your team's PostgreSQL database, for example\n"
            "postgresql://you@db.example.com/kpis  or  postgresql:///kpis?service=team\n\n"
            "kpidesk never stores a password: put it in ~/.pgpass, PGPASSWORD or a pg_service.conf entry."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.url_edit = QLineEdit(strip_password(url))
        self.url_edit.setPlaceholderText("postgresql://user@host/database")
        self.url_edit.setToolTip(self.tr("A postgresql:// URL; the password is never remembered"))
        layout.addWidget(self.url_edit)
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Open)
        self.url_edit.textChanged.connect(self._validate)
        self._validate()

    def url(self) -> str:
        return self.url_edit.text().strip()

    def _validate(self) -> bool:
        text = self.url()
        valid = text.startswith(("postgresql://", "postgres://"))
        self.problem.setText("" if valid or not text else self.tr("The address starts with postgresql://"))
        self.ok_button.setEnabled(valid)
        return valid

    def _accept(self) -> None:
        if self._validate():
            self.accept()


class _Poll(QRunnable):
    def __init__(self, db: Any, signals: _PollSignals) -> None:
        super().__init__()
        self._db = db
        self._signals = signals

    def run(self) -> None:
        try:
            self._signals.token.emit(int(self._db.change_token()))
        except Exception as exc:  # a dropped connection must not crash the app
            self._signals.error.emit(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


class _PollSignals(QObject):
    token = Signal(int)
    error = Signal(str)


class ChangeWatcher(QObject):
    """Emits ``changed`` when the workspace's change token moves; ``lost(message)`` once per outage."""

    changed = Signal()
    lost = Signal(str)

    def __init__(self, db: Any, parent: QObject | None = None, *, interval_ms: int = 2000) -> None:
        super().__init__(parent)
        self._db = db
        self._last: int | None = None
        self._busy = False
        self._down = False
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _PollSignals(self)
        self._signals.token.connect(self._got)
        self._signals.error.connect(self._failed)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll)

    def start(self) -> None:
        self.poll()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._pool.waitForDone(3000)

    def acknowledge(self) -> None:
        """Our own write: take the next token as the baseline instead of reporting it."""
        self._last = None

    def poll(self) -> None:
        if self._busy:
            return
        self._busy = True
        self._pool.start(_Poll(self._db, self._signals))

    def _got(self, token: int) -> None:
        self._busy = False
        self._down = False
        if self._last is not None and token != self._last:
            self.changed.emit()
        self._last = token

    def _failed(self, message: str) -> None:
        self._busy = False
        if not self._down:
            self._down = True
            log.warning("change watcher: %s", message)
            self.lost.emit(message)

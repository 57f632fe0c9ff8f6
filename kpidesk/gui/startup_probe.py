"""Start-up measurement for benchmarks: print the wall time of the first paint, then quit."""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget


class _FirstPaint(QObject):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._done = False
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self._done and event.type() == QEvent.Type.Paint:
            self._done = True
            # after this paint event is processed: the pixels are on screen
            QTimer.singleShot(0, self._report)
        return False

    def _report(self) -> None:
        print(f"PAINTED {time.time():.6f}", flush=True)
        sys.stdout.flush()
        QApplication.quit()


def exit_after_first_paint(window: QWidget) -> None:
    _FirstPaint(window)

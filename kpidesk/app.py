"""Composition root of the desktop app: Qt first, the window, then the workspace.

``run()`` is what ``kpidesk`` (no arguments) calls. Order matters for start-up
time: PySide6 is imported and the window is shown before the database layer,
pandas, openpyxl or calamine are imported; the workspace is opened right
after the first paint, and pandas is warmed up in the background after that.
No globals: everything is built here and passed through constructors.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)
ORG, APP = "kpidesk", "kpidesk"


def make_application(argv: Sequence[str] | None = None) -> Any:
    """The QApplication (created once), with names, icon, high-DPI policy and palette."""
    from PySide6.QtCore import QCoreApplication, QSettings, Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        # crisp on fractional scaling (125 %, 150 %): no rounding of the scale factor
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        QCoreApplication.setOrganizationName(ORG)
        QCoreApplication.setApplicationName(APP)
        app = QApplication(list(argv or sys.argv[:1]))
    from kpidesk import __version__
    from kpidesk.gui import theme

    app.setApplicationVersion(__version__)
    mode = str(QSettings().value("view/theme", theme.SYSTEM))
    theme.apply(app, mode)
    return app


def open_workspace(target: str, read_only: bool, parent: Any = None) -> Any:
    """Open ``target``; a file locked by another kpidesk is offered read-only."""
    from PySide6.QtWidgets import QMessageBox

    from kpidesk.errors import DatabaseLockedError
    from kpidesk.services.workspace import Workspace

    try:
        return Workspace.open(target, read_only=read_only)
    except DatabaseLockedError as exc:
        answer = QMessageBox.question(
            parent, "kpidesk",
            f"{exc.message}\n\nOpen it read-only instead? You can look and export, but not edit.",
            QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Open:
            return Workspace.open(target, read_only=True)
        return None


_collector: Any = None  # the GUI-thread garbage collector's timer, once started

# the modules of the pages built for every workspace, imported with it off the GUI thread
PAGE_MODULES = ("kpidesk.gui.views.dashboard_page", "kpidesk.gui.views.welcome_page",
                "kpidesk.gui.views.navigator", "kpidesk.gui.views.goals_page", "kpidesk.gui.views.data_page",
                "kpidesk.gui.views.reviews_page")


def warm_up(runner: Any) -> Any:
    """Import the heavy libraries on a worker once the window is up, then freeze them out of the GC.

    pandas, pyqtgraph, the analytics and the forecast's statsmodels/scipy are
    imported so the first chart is quick. Then ``gc.freeze()`` moves every object
    alive at that point (mostly those libraries' modules, classes and functions,
    which live as long as the process) out of the collector's sight: a full
    collection had to walk all of them, ~150 ms with the interpreter lock held,
    which stalled the window during an import (tests/gui/test_responsiveness.py).
    """
    def work(progress: Any) -> None:
        import pandas  # noqa: F401
        import pyqtgraph  # noqa: F401  (module code only; widgets are made on the GUI thread)
        import scipy.stats  # noqa: F401  (trend lines)
        import statsmodels.tsa.exponential_smoothing.ets  # noqa: F401  (forecasts)

        import kpidesk.domain.analytics
        import kpidesk.gui.views.kpi_page  # noqa: F401  (the chart page, built once this is done)

    # The GUI-thread collector pauses meanwhile: the imports allocate a few hundred thousand
    # objects, and a middle-generation collection over them held the GUI thread ~70 ms.
    paused = _collector is not None and _collector.isActive()
    if paused:
        _collector.stop()

    def freeze(_: Any = None) -> None:
        import gc

        gc.freeze()
        if paused:
            _collector.start()

    return runner.submit(work, on_done=freeze, on_error=freeze, show_progress=False, title="warm-up")


def build_window(db: str | None, read_only: bool, *, settings: Any = None) -> Any:
    """The main window, shown, with the workspace opened just after its first paint."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from kpidesk.gui.main_window import MainWindow

    window = MainWindow(settings, opener=lambda target, ro: open_workspace(target, ro, window))
    window.show()

    def open_first() -> None:
        from kpidesk.paths import resolve_db_target

        target = resolve_db_target(db)

        def work(progress: Any) -> Any:
            # On a worker: importing the database layer (~0.3 s) and the pages' modules, the
            # migration check and the quick_check (up to 2 s on a big file) would freeze the
            # window that has just appeared.
            from kpidesk.services.workspace import Workspace

            for module in PAGE_MODULES:
                importlib.import_module(module)
            return Workspace.open(target, read_only=read_only)

        def opened(ws: Any) -> None:
            import gc

            gc.freeze()  # the database layer just imported lives as long as the process
            window.set_workspace(ws)
            warm_up(window.runner)

        def failed(exc: BaseException) -> None:
            from kpidesk.errors import DatabaseLockedError

            if not isinstance(exc, DatabaseLockedError):
                window.show_error(exc)
                return
            try:  # asks (on this thread) whether to open it read-only instead
                ws = open_workspace(target, read_only, window)
            except Exception as again:
                window.show_error(again)
                return
            if ws is not None:
                opened(ws)

        window.runner.submit(work, on_done=opened, on_error=failed, show_progress=False, title="opening")

    # open the workspace after the first paint, so the window is on screen before the
    # database layer (SQLAlchemy) is even imported
    def after_paint() -> None:
        from kpidesk.gui import theme

        icon = theme.app_icon()  # an SVG render: after the first paint, like everything else
        QApplication.instance().setWindowIcon(icon)
        window.setWindowIcon(icon)
        QTimer.singleShot(0, open_first)

    after_first_paint(window, after_paint)
    return window


def after_first_paint(widget: Any, callback: Any) -> None:
    """Call ``callback`` once, right after ``widget`` is first painted."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class Once(QObject):
        def eventFilter(self, watched: Any, event: Any) -> bool:
            if event.type() == QEvent.Type.Paint:
                widget.removeEventFilter(self)
                self.deleteLater()
                # queued: the filter runs *before* the paint, and the callback must not delay it
                QTimer.singleShot(0, callback)
            return False

    widget.installEventFilter(Once(widget))


def _install_excepthook(window: Any) -> None:
    """An exception escaping a slot becomes the error dialog, not a line on stderr."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
        import traceback

        details = "".join(traceback.format_exception(kind, exc, tb))
        log.error("unhandled: %s", details)
        try:
            window.show_error(exc, details)
        except Exception:
            previous(kind, exc, tb)

    sys.excepthook = hook


def _quit_when_shown(app: Any, window: Any) -> None:
    from PySide6.QtCore import QTimer

    timer = QTimer(window)

    def check() -> None:
        if window.isVisible() and window.ws is not None:
            timer.stop()
            print(f"SHOWN {window.windowTitle()}", flush=True)
            app.quit()

    timer.timeout.connect(check)
    timer.start(50)


def collect_garbage_on_gui_thread(app: Any, interval_ms: int = 100) -> Any:
    """Run Python's cyclic garbage collector only on the GUI thread, from a timer.

    Left automatic, a collection can start inside a worker thread (whichever
    thread allocates past the threshold) and free a Qt object that belongs to
    the GUI thread there — Qt warns, or crashes. Same thresholds as the
    automatic collector, checked ten times a second: the young generation then
    holds what ~100 ms of work allocated, and collecting it stays a pause of a
    millisecond or two (checked once a second it took ~20 ms during an import).
    """
    import gc

    from PySide6.QtCore import QTimer

    gc.disable()

    def collect() -> None:
        young, middle, old = gc.get_count()
        t0, t1, t2 = gc.get_threshold()
        if young > t0:
            gc.collect(0)
            if middle > t1:
                gc.collect(1)
                if old > t2:
                    gc.collect(2)

    global _collector
    timer = QTimer(app)
    timer.setInterval(interval_ms)
    timer.timeout.connect(collect)
    timer.start()
    _collector = timer
    return timer


def run(db: str | None = None, read_only: bool = False) -> int:
    """Start the desktop app; returns the exit code."""
    app = make_application()
    collect_garbage_on_gui_thread(app)
    window = build_window(db, read_only)
    _install_excepthook(window)
    if os.environ.get("KPIDESK_EXIT_AFTER_PAINT"):  # benchmarks: measure start-up to first paint
        from kpidesk.gui.startup_probe import exit_after_first_paint

        exit_after_first_paint(window)
    if os.environ.get("KPIDESK_SMOKE_TEST"):  # packaging tests: report once the workspace is shown, then quit
        _quit_when_shown(app, window)
    code = app.exec()
    window.runner.cancel_all()
    window.runner.wait(15000)  # no worker may outlive the interpreter's shutdown
    if window.ws is not None:
        window.ws.close()
    return int(code)

"""The main window: navigator, pages, menus, undo, settings, drag-and-drop, safety.

The window is shown before any workspace is opened (the composition root opens
it right after the first paint), and :meth:`set_workspace` (re)builds the pages
for an open workspace. Pages owned by other parts (Goals, Data, Import, Reviews)
are imported when present; a calm placeholder stands in otherwise. Every page
takes ``(workspace, runner, parent)`` and has ``refresh(changes)``.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from kpidesk.gui import theme
from kpidesk.gui.errors import error_dialog
from kpidesk.gui.tasks import TaskRunner
from kpidesk.gui.views.placeholder import PlaceholderPage
from kpidesk.services.changes import Changes

log = logging.getLogger(__name__)
PAGES = ["dashboard", "kpi", "goals", "data", "reviews"]
PAGE_TITLES = {"dashboard": "Dashboard", "kpi": "KPI detail", "goals": "Goals", "data": "Data", "reviews": "Reviews"}
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".tsv", ".txt"}
MAX_RECENT = 8
# where the review engineer's page may live: the first module with a ReviewPage wins
REVIEW_PAGE_MODULES = ("kpidesk.gui.views.review_page", "kpidesk.gui.report.review_page", "kpidesk.gui.report")
AUTO_BACKUP_MS = 5 * 60 * 1000  # the service decides whether an hour of edits has passed


def optional_page(module_name: str, class_name: str) -> type | None:
    """The page class when its module is present (another engineer may still be writing it)."""
    try:
        if importlib.util.find_spec(module_name) is None:
            return None
    except ModuleNotFoundError:  # its parent package is not there either
        return None
    try:
        module = importlib.import_module(module_name)
    except Exception:  # a half-written page must not stop the app from starting
        log.exception("could not import %s", module_name)
        return None
    return getattr(module, class_name, None)


class MainWindow(QMainWindow):
    workspace_changed = Signal(object)
    changes_applied = Signal(object)

    def __init__(self, settings: QSettings | None = None, *,
                 opener: Callable[[str, bool], Any] | None = None, progress_delay_ms: int = 400,
                 external_pages: bool = True) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("kpidesk")  # the icon is set after the first paint (an SVG render)
        self.setAcceptDrops(True)
        self.settings = settings or QSettings()
        self.opener = opener
        self.external_pages = external_pages  # tests of this window alone can leave the others' pages out
        self.ws: Any = None
        self.runner = TaskRunner(self, progress_delay_ms=progress_delay_ms, dialog_parent=self)
        self.runner.error.connect(self.show_error)
        self.runner.busy_changed.connect(self._busy)
        self.undo_stack = QUndoStack(self)
        self.pages: dict[str, QWidget] = {}
        self.kpi_page: Any = None
        self.dashboard: Any = None
        self.welcome: Any = None
        self._wizard: Any = None
        self._build_chrome()
        self._build_menus()
        self._restore_settings()
        # follow the system's light/dark switch while running (unless a theme was picked)
        QApplication.styleHints().colorSchemeChanged.connect(self._system_scheme_changed)
        self._backup_timer = QTimer(self)
        self._backup_timer.setInterval(AUTO_BACKUP_MS)
        self._backup_timer.timeout.connect(lambda: self.auto_backup("hourly"))

    # -- chrome ---------------------------------------------------------------------
    def _build_chrome(self) -> None:
        self.page_bar = QToolBar(self.tr("Pages"))
        self.page_bar.setObjectName("pageBar")
        self.page_bar.setStyleSheet(theme.PAGE_BAR_STYLE)
        self.page_bar.setMovable(False)
        self.page_bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.page_bar)
        self.page_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for i, name in enumerate(PAGES, start=1):
            action = QAction(self.tr(PAGE_TITLES[name]), self)
            action.setCheckable(True)
            action.setShortcut(QKeySequence(f"Ctrl+{i}"))
            action.setToolTip(self.tr("Show the {p} page ({k})").format(p=self.tr(PAGE_TITLES[name]), k=f"Ctrl+{i}"))
            action.setStatusTip(action.toolTip())
            action.triggered.connect(lambda _=False, n=name: self.show_page(n))
            group.addAction(action)
            self.page_bar.addAction(action)
            self.page_actions[name] = action
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.banner = QFrame()
        self.banner.setObjectName("banner")
        self.banner.setStyleSheet(theme.BANNER_STYLE)
        banner_row = QHBoxLayout(self.banner)
        banner_row.setContentsMargins(12, 6, 12, 6)
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        banner_row.addWidget(self.banner_text, 1)
        self.banner.hide()
        column.addWidget(self.banner)
        self.stack = QStackedWidget()
        column.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.opening = PlaceholderPage(self.tr("Opening…"), self.tr("Opening the workspace."))
        self.stack.addWidget(self.opening)
        self._navigator: Any = None  # built with the first workspace: the window shows sooner
        self.nav_dock = QDockWidget(self.tr("Navigator"), self)
        self.nav_dock.setObjectName("navigatorDock")
        self.nav_dock.setWidget(QWidget())
        self.nav_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                  | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.nav_dock)
        self.resizeDocks([self.nav_dock], [250], Qt.Orientation.Horizontal)
        bar = self.statusBar()
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setMaximumHeight(12)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setToolTip(self.tr("Working in the background"))
        self.busy_bar.hide()
        self.db_label = QLabel()
        theme.role(self.db_label, theme.MUTED)
        bar.addPermanentWidget(self.busy_bar)
        bar.addPermanentWidget(self.db_label)

    @property
    def navigator(self) -> Any:
        """The navigator panel (created on first use)."""
        if self._navigator is None:
            from kpidesk.gui.views.navigator import Navigator

            navigator = Navigator()
            navigator.kpi_selected.connect(self.open_kpi)
            navigator.product_selected.connect(self._product_chosen)
            index = navigator.group_by.findData(self.settings.value("view/group_by", "category"))
            if index >= 0:
                navigator.group_by.setCurrentIndex(index)
            old = self.nav_dock.widget()
            self.nav_dock.setWidget(navigator)
            old.deleteLater()
            self._navigator = navigator
        return self._navigator

    def _action(self, text: str, tip: str, slot: Callable[[], Any], shortcut: Any = None) -> QAction:
        action = QAction(text, self)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _=False: slot())
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        std = QKeySequence.StandardKey
        file_menu = bar.addMenu(self.tr("&File"))
        self.act_new = self._action(self.tr("&New workspace…"), self.tr("Create a new, empty workspace file"),
                                    self.new_workspace, std.New)
        self.act_open = self._action(self.tr("&Open…"), self.tr("Open a workspace file"), self.open_dialog, std.Open)
        self.act_open_team = self._action(self.tr("Open &Team Workspace…"),
                                          self.tr("Open a shared workspace on a PostgreSQL server"),
                                          self.open_team_dialog, "Ctrl+Shift+O")
        self.recent_menu = file_menu.addMenu(self.tr("Open &Recent"))
        self.recent_menu.setToolTipsVisible(True)
        self.act_copy = self._action(self.tr("Save a &Copy…"), self.tr("Write a consistent copy of this workspace"),
                                     self.save_copy, std.SaveAs)
        self.act_import = self._action(self.tr("&Import…"), self.tr("Import KPI values from a spreadsheet"),
                                       self.open_import, "Ctrl+I")
        self.act_export = self._action(self.tr("&Export…"), self.tr("Export every KPI value to .xlsx or .csv"),
                                       self.export_values, "Ctrl+E")
        self.act_restore = self._action(self.tr("Restore from &Backup…"),
                                        self.tr("Replace this workspace with one of its backups"), self.restore_backup)
        self.act_quit = self._action(self.tr("&Quit"), self.tr("Close kpidesk"), self.close, std.Quit)
        self.act_quit.setMenuRole(QAction.MenuRole.QuitRole)
        file_menu.insertAction(self.recent_menu.menuAction(), self.act_new)
        file_menu.insertAction(self.recent_menu.menuAction(), self.act_open)
        file_menu.insertAction(self.recent_menu.menuAction(), self.act_open_team)
        file_menu.addAction(self.act_copy)
        file_menu.addSeparator()
        file_menu.addAction(self.act_import)
        file_menu.addAction(self.act_export)
        file_menu.addSeparator()
        file_menu.addAction(self.act_restore)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit_menu = bar.addMenu(self.tr("&Edit"))
        self.act_undo = self.undo_stack.createUndoAction(self, self.tr("&Undo"))
        self.act_undo.setShortcut(QKeySequence(std.Undo))
        self.act_undo.setToolTip(self.tr("Undo the last edit"))
        self.act_redo = self.undo_stack.createRedoAction(self, self.tr("&Redo"))
        self.act_redo.setShortcut(QKeySequence(std.Redo))
        self.act_redo.setToolTip(self.tr("Redo the edit just undone"))
        edit_menu.addAction(self.act_undo)
        edit_menu.addAction(self.act_redo)
        edit_menu.addSeparator()
        self.act_new_product = self._action(self.tr("New &Product…"),
                                            self.tr("Create a product and pick its KPIs from the catalog"),
                                            self.new_product, "Ctrl+Shift+N")
        edit_menu.addAction(self.act_new_product)
        self.act_find = self._action(self.tr("&Find KPI"), self.tr("Filter the navigator"),
                                     lambda: (self.nav_dock.show(), self.navigator.focus_filter()), std.Find)
        edit_menu.addAction(self.act_find)
        view_menu = bar.addMenu(self.tr("&View"))
        for name in PAGES:
            view_menu.addAction(self.page_actions[name])
        view_menu.addSeparator()
        nav_toggle = self.nav_dock.toggleViewAction()
        nav_toggle.setText(self.tr("&Navigator"))
        nav_toggle.setToolTip(self.tr("Show or hide the navigator"))
        nav_toggle.setShortcut(QKeySequence("Ctrl+0"))
        view_menu.addAction(nav_toggle)
        self.act_refresh = self._action(self.tr("&Refresh"), self.tr("Reload everything from the workspace"),
                                        lambda: self.broadcast(Changes()), std.Refresh)
        view_menu.addAction(self.act_refresh)
        theme_menu = view_menu.addMenu(self.tr("&Theme"))
        self.theme_group = QActionGroup(self)
        for mode, label in ((theme.SYSTEM, self.tr("Follow the system")), (theme.LIGHT, self.tr("Light")),
                            (theme.DARK, self.tr("Dark"))):
            action = self._action(label, self.tr("Use the {m} palette").format(m=label.lower()),
                                  lambda m=mode: self.set_theme(m))
            action.setCheckable(True)
            action.setData(mode)
            self.theme_group.addAction(action)
            theme_menu.addAction(action)
        help_menu = bar.addMenu(self.tr("&Help"))
        help_menu.addAction(self._action(self.tr("KPI &Catalog"), self.tr("The built-in KPIs, formulas and conventions"),
                                         self.show_catalog, std.HelpContents))
        self.act_check = self._action(self.tr("Check &Database"), self.tr("Run an integrity check of this workspace"),
                                      self.check_database)
        help_menu.addAction(self.act_check)
        about = self._action(self.tr("&About kpidesk"), self.tr("Version and library versions"), self.show_about)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(about)
        self._workspace_actions = [self.act_copy, self.act_import, self.act_export, self.act_restore,
                                   self.act_new_product, self.act_check, self.act_refresh]
        for action in self._workspace_actions:
            action.setEnabled(False)

    # -- settings ----------------------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if (isinstance(geometry, QByteArray | bytes) and not self.restoreGeometry(QByteArray(geometry))) or geometry is None:
            self.resize(1280, 800)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray | bytes):
            self.restoreState(QByteArray(state))
        mode = str(self.settings.value("view/theme", theme.SYSTEM))
        for action in self.theme_group.actions():
            action.setChecked(action.data() == mode)
        self._rebuild_recent()

    def save_settings(self) -> None:
        if getattr(self, "_nav_hidden_for_welcome", False) and self.nav_dock.isHidden():
            self.nav_dock.show()  # hidden only while the welcome page shows: not the user's choice
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("view/last_page", self.current_page())
        if self._navigator is not None:
            self.settings.setValue("view/group_by", self._navigator.group_by.currentData())
        self.settings.sync()

    def recent_files(self) -> list[str]:
        value = self.settings.value("files/recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def remember(self, target: str) -> None:
        recent = [target, *(r for r in self.recent_files() if r != target)][:MAX_RECENT]
        self.settings.setValue("files/recent", recent)
        self._rebuild_recent()

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for i, target in enumerate(recent, start=1):
            team = target.startswith("postgresql")
            action = self.recent_menu.addAction(f"&{i}  {target if team else Path(target).name}")
            action.setToolTip(target)
            if team:
                action.triggered.connect(lambda _=False, t=target: self.open_team(t))
            else:
                action.triggered.connect(lambda _=False, t=target: self.open_target(t, False))
        self.recent_menu.setEnabled(bool(recent))

    def _system_scheme_changed(self, *_: Any) -> None:
        if str(self.settings.value("view/theme", theme.SYSTEM)) == theme.SYSTEM:
            self.set_theme(theme.SYSTEM)

    def set_theme(self, mode: str) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply(app, mode)
        self.settings.setValue("view/theme", mode)
        self.page_bar.setStyleSheet("")  # re-read palette(highlight) in the new palette
        self.page_bar.setStyleSheet(theme.PAGE_BAR_STYLE)
        for action in self.theme_group.actions():
            action.setChecked(action.data() == mode)
        if self.kpi_page is not None:
            self.kpi_page.chart.apply_theme()
            self.kpi_page._redraw()
        self.update()
        if self.dashboard is not None:
            self.dashboard.canvas.update()

    # -- workspace ------------------------------------------------------------------------
    def set_workspace(self, ws: Any) -> None:
        """Show ``ws``: rebuild every page for it (the old workspace is closed by the caller)."""
        self.runner.cancel_all()
        self.runner.wait(5000)
        QApplication.processEvents()
        self.undo_stack.clear()
        for widget in [*self.pages.values(), self.welcome]:
            if widget is not None:
                self.stack.removeWidget(widget)
                widget.deleteLater()
        self.pages, self.kpi_page, self.dashboard, self.welcome = {}, None, None, None
        self.ws = ws
        self._build_pages()
        _ = self.navigator  # the panel exists from the first workspace on
        name = ws.db.display_name
        self.setWindowTitle(f"{name} — kpidesk" + (self.tr(" (read-only)") if ws.db.read_only else ""))
        self.db_label.setText(ws.db.url if not ws.db.path else str(ws.db.path))
        self.db_label.setToolTip(self.tr("The open workspace"))
        for action in self._workspace_actions:
            action.setEnabled(True)
        writable = not ws.db.read_only
        for action in (self.act_import, self.act_new_product, self.act_restore):
            action.setEnabled(writable)
        safety = self.backup_service()
        self.act_restore.setEnabled(writable and safety is not None)
        self.act_check.setEnabled(safety is not None)
        if ws.db.read_only:
            reason = ws.db.read_only_reason or self.tr("it was opened read-only")
            text = safety.read_only_banner() if safety is not None else ""
            self.banner_text.setText(text or self.tr("{n} is open read-only: {r}. Editing is turned off; you can "
                                                     "still look, filter and export.").format(n=name, r=reason))
            self.banner.show()
            for action in (self.act_import, self.act_new_product, self.act_restore):
                action.setToolTip(self.tr("Not available: {r}").format(r=reason))
        else:
            self.banner.hide()
            warning = safety.cloud_warning() if safety is not None else ""
            if warning:
                self.banner_text.setText(warning)
                self.banner.show()
        if ws.db.path is not None:
            self.remember(str(ws.db.path))
        else:
            self.remember(ws.db.url)  # the password is already stripped
        self._watch_for_others(ws)
        self._show_start_page()
        self.dashboard.refresh(None)
        if writable and ws.db.path is not None:
            self._backup_timer.start()
        self.workspace_changed.emit(ws)

    def _build_pages(self) -> None:
        from kpidesk.gui.views.dashboard_page import DashboardPage
        from kpidesk.gui.views.welcome_page import WelcomePage

        self.welcome = WelcomePage()
        self.welcome.create_product.connect(self.new_product)
        self.welcome.import_spreadsheet.connect(self.open_import)
        self.welcome.open_demo.connect(self.open_demo)
        self.stack.addWidget(self.welcome)
        self.dashboard = DashboardPage(self.ws, self.runner)
        self.dashboard.kpi_activated.connect(self.open_kpi)
        self.dashboard.data_loaded.connect(self._overview_loaded)
        self._add_page("dashboard", self.dashboard)
        # the KPI page (pyqtgraph) is built on first use: the window appears sooner
        self._add_page("kpi", PlaceholderPage(self.tr("KPI detail"),
                                              self.tr("Pick a KPI in the navigator or on the dashboard.")))
        external = self.external_pages
        goals = optional_page("kpidesk.gui.views.goals_page", "GoalsPage") if external else None
        self._add_page("goals", goals(self.ws, self.runner) if goals else PlaceholderPage(
            self.tr("Goals"), self.tr("Goals and their SMART checks will appear here.")))
        data = optional_page("kpidesk.gui.views.data_page", "DataPage") if external else None
        self._add_page("data", data(self.ws, self.runner) if data else PlaceholderPage(
            self.tr("Data"), self.tr("Imports and data sources will appear here.")))
        review = None
        for module_name in REVIEW_PAGE_MODULES if external else ():
            review = optional_page(module_name, "ReviewPage")
            if review is not None:
                break
        if review is not None:
            self._add_page("reviews", review(self.ws, self.runner))
        else:
            from kpidesk.gui.views import reviews_page

            self._add_page("reviews", reviews_page.create(self.ws, self.runner))
        for page in self.pages.values():
            changed = getattr(page, "changed", None)
            if changed is not None:
                changed.connect(self.broadcast)
            requested = getattr(page, "import_requested", None)
            if requested is not None:
                requested.connect(self.open_import)

    def _add_page(self, name: str, widget: QWidget) -> None:
        old = self.pages.get(name)
        if old is not None:
            index = self.stack.indexOf(old)
            self.stack.removeWidget(old)
            old.deleteLater()
            self.stack.insertWidget(index, widget)
        else:
            self.stack.addWidget(widget)
        self.pages[name] = widget

    def ensure_kpi_page(self) -> Any:
        if self.kpi_page is None:
            from kpidesk.gui.views.kpi_page import KpiPage

            self.kpi_page = KpiPage(self.ws, self.runner, self.undo_stack, self.broadcast)
            self.kpi_page.status_message.connect(lambda text: self.statusBar().showMessage(text, 5000))
            self.kpi_page.error.connect(self.show_error)
            self._add_page("kpi", self.kpi_page)
        return self.kpi_page

    def _prepare_kpi_page(self, waits: int) -> None:
        """Build the KPI page ahead of use once the warm-up imported its module (pyqtgraph).

        Importing it here would hold the GUI thread for ~0.2 s; the user's first
        click on a KPI builds it at once anyway.
        """
        if self.ws is None or self.kpi_page is not None:
            return
        if "kpidesk.gui.views.kpi_page" not in sys.modules and waits > 0:
            QTimer.singleShot(200, self, lambda: self._prepare_kpi_page(waits - 1))
            return
        self.ensure_kpi_page()

    def _show_start_page(self) -> None:
        if not self.ws.products.list():
            self.stack.setCurrentWidget(self.welcome)
            self.nav_dock.hide()  # an empty tree says nothing; it comes back with the first product
            self._nav_hidden_for_welcome = True
            for action in self.page_actions.values():
                action.setChecked(False)
            return
        last = str(self.settings.value("view/last_page", "dashboard"))
        self.show_page(last if last in ("dashboard", "goals", "data", "reviews") else "dashboard")

    def show_page(self, name: str) -> None:
        if self.ws is None or name not in PAGES:
            return
        if name == "kpi":
            self.ensure_kpi_page()
        widget = self.pages[name]
        if self.stack.currentWidget() is self.welcome:
            self.nav_dock.show()
        self.stack.setCurrentWidget(widget)
        self.page_actions[name].setChecked(True)
        self.statusBar().showMessage(self.tr(PAGE_TITLES[name]), 1500)

    def current_page(self) -> str:
        widget = self.stack.currentWidget()
        for name, page in self.pages.items():
            if page is widget:
                return name
        return "dashboard"

    def open_kpi(self, kpi_id: int) -> None:
        page = self.ensure_kpi_page()
        page.show_kpi(kpi_id)
        self.navigator.select_kpi(kpi_id)
        self.show_page("kpi")

    def _product_chosen(self, product_id: int) -> None:
        if self.dashboard is not None:
            self.dashboard.select_product(product_id)
            self.show_page("dashboard")

    def _overview_loaded(self, data: Any) -> None:
        self.navigator.set_data(data)
        if data.products and self.stack.currentWidget() is self.welcome:
            self.nav_dock.show()
        if self.kpi_page is None:
            # build the chart page while the user reads the dashboard, not on their first click
            QTimer.singleShot(50, self, lambda: self._prepare_kpi_page(20))
        if self.stack.currentWidget() is self.welcome and data.products:
            self.show_page("dashboard")

    def broadcast(self, changes: Changes) -> None:
        """A service call changed something: every page refreshes if it cares."""
        if changes.message:
            self.statusBar().showMessage(changes.message, 5000)
        for page in self.pages.values():
            refresh = getattr(page, "refresh", None)
            if refresh is not None:
                try:
                    refresh(changes)
                except Exception as exc:  # one page failing must not hide the others
                    self.show_error(exc)
        self.changes_applied.emit(changes)

    def show_error(self, exc: BaseException, details: str = "") -> None:
        error_dialog(self, exc, details)

    def _busy(self, busy: bool) -> None:
        self.busy_bar.setVisible(busy)

    # -- file actions -----------------------------------------------------------------------
    # -- team workspace -----------------------------------------------------------
    def _watch_for_others(self, ws: Any) -> None:
        """Refresh within seconds when someone else commits (team workspaces, read-only windows)."""
        from kpidesk.gui.team import ChangeWatcher

        old = getattr(self, "_watcher", None)
        if old is not None:
            old.stop()
            old.deleteLater()
        self._watcher = None
        if ws.db.is_sqlite and not ws.db.read_only:
            return  # the only writer of its file: there is nobody else to notice
        self._watcher = ChangeWatcher(ws.db, self)
        self._watcher.changed.connect(self._others_changed)
        self._watcher.lost.connect(lambda message: self.statusBar().showMessage(
            self.tr("Lost the connection to the workspace: {m}").format(m=message), 10000))
        self._watcher.start()

    def _others_changed(self) -> None:
        from kpidesk.storage.models import ALL_TABLES

        self.broadcast(Changes.of(*(t.__tablename__ for t in ALL_TABLES),
                                  message=self.tr("Updated with changes made by others.")))

    def open_team_dialog(self) -> None:
        from kpidesk.gui.team import OpenTeamDialog

        recent = next((r for r in self.recent_files() if r.startswith("postgresql")), "")
        dialog = OpenTeamDialog(self, recent)
        if dialog.exec() == OpenTeamDialog.DialogCode.Accepted:
            self.open_team(dialog.url())

    def open_team(self, url: str) -> bool:
        """Open a team workspace; when the server cannot be reached, offer the newest offline snapshot."""
        import datetime as dt

        from kpidesk.errors import DatabaseError
        from kpidesk.gui.team import latest_snapshot

        if self.opener is None:
            return False
        try:
            ws = self.opener(url, False)
        except DatabaseError as exc:
            snapshot = latest_snapshot()
            if snapshot is None or "Cannot reach" not in exc.message:
                self.show_error(exc)
                return False
            answer = QMessageBox.question(
                self, "kpidesk", self.tr("{e}\n\nOpen your latest offline snapshot ({n}, {d}) read-only instead?").format(
                    e=exc.message, n=snapshot.name,
                    d=dt.datetime.fromtimestamp(snapshot.stat().st_mtime).strftime("%d %b %Y %H:%M")))
            return answer == QMessageBox.StandardButton.Yes and self.open_target(str(snapshot), True)
        if ws is None:
            return False
        old = self.ws
        self.set_workspace(ws)
        if old is not None and old is not ws:
            old.close()
        return True

    def open_target(self, target: str, read_only: bool) -> bool:
        if self.opener is None:
            return False
        try:
            ws = self.opener(target, read_only)
        except Exception as exc:
            self.show_error(exc)
            return False
        if ws is None:
            return False
        old = self.ws
        self.set_workspace(ws)
        if old is not None and old is not ws:
            self.auto_backup("close", old)
            old.close()
        return True

    def new_workspace(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("New workspace"), "workspace.kpidesk.db",
                                              self.tr("kpidesk workspace (*.db *.kpidesk.db)"))
        if path:
            if Path(path).exists():
                Path(path).unlink()
            self.open_target(path, False)

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Open workspace"), "",
                                              self.tr("kpidesk workspace (*.db *.kpidesk.db);;All files (*)"))
        if path:
            self.open_target(path, False)

    def open_demo(self) -> None:
        from kpidesk.paths import data_dir

        path = data_dir() / "demo.kpidesk.db"
        fresh = not path.exists()
        if not self.open_target(str(path), False):
            return
        if fresh or not self.ws.products.list():
            from kpidesk.services.demo import build_demo

            ws = self.ws
            self.runner.submit(lambda progress: build_demo(ws, replace=True), write=True,
                               title=self.tr("Building the demo workspace"),
                               on_done=lambda message: self.broadcast(Changes.of(
                                   "product", "kpi", "measurement", "goal", "annotation", message=str(message))))

    def save_copy(self) -> None:
        if self.ws is None or not self.ws.db.is_sqlite:
            return
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Save a copy"), f"copy of {self.ws.db.display_name}",
                                              self.tr("kpidesk workspace (*.db)"))
        if not path:
            return
        self.save_copy_to(path)

    def save_copy_to(self, path: str) -> Any:
        """A consistent copy of the open workspace (SQLite online backup), made on a worker."""
        from kpidesk.storage.db import backup_sqlite

        ws = self.ws

        def work(progress: Any) -> str:
            with ws.db.raw() as dbapi:
                backup_sqlite(dbapi, Path(path))
            return path

        return self.runner.submit(work, title=self.tr("Saving a copy"), on_done=lambda p: self.statusBar().showMessage(
            self.tr("Copy saved to {p}").format(p=p), 6000))

    def export_values(self) -> None:
        if self.ws is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export KPI values"), "kpi-values.xlsx",
                                              self.tr("Excel workbook (*.xlsx);;CSV (*.csv)"))
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> Any:
        ws = self.ws

        def work(progress: Any) -> Any:
            from kpidesk.services.export_service import ExportService

            return ExportService(ws.db, ws.kpis).export(path, progress=progress)

        return self.runner.submit(work, title=self.tr("Exporting"),
                                  on_done=lambda result: self.statusBar().showMessage(result.message, 8000))

    def open_import(self, path: str | None = None) -> Any:
        if self.ws is None:
            return None
        if self.ws.db.read_only:
            self.show_error(self._read_only_error())
            return None
        wizard_class = optional_page("kpidesk.gui.views.import_wizard", "ImportWizard")
        if wizard_class is None:
            QMessageBox.information(self, self.tr("Import"), self.tr("The import wizard is not available yet."))
            return None
        wizard = wizard_class(self.ws, self.runner, self)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        changed = getattr(wizard, "changed", None)
        if changed is not None:
            changed.connect(self.broadcast)
        if path:
            for name in ("set_path", "open_file", "load_file", "set_file"):
                if hasattr(wizard, name):
                    getattr(wizard, name)(path)
                    break
        self._wizard = wizard
        wizard.open()
        return wizard

    def _read_only_error(self) -> Exception:
        from kpidesk.errors import ReadOnlyError

        reason = self.ws.db.read_only_reason or "it was opened read-only"
        return ReadOnlyError(f"{self.ws.db.display_name} cannot be changed: {reason}.")

    def new_product(self) -> None:
        if self.ws is None:
            return
        if self.ws.db.read_only:
            self.show_error(self._read_only_error())
            return
        from kpidesk.gui.views.dialogs import NewProductDialog

        dialog = NewProductDialog(self.ws.catalog, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.create_product(dialog.name.text(), dialog.chosen_keys(),
                                                            dialog.description.text()))
        dialog.open()

    def create_product(self, name: str, keys: list[str], description: str = "") -> bool:
        try:
            product, changes = self.ws.products.create(name, description)
            for key in keys:
                _, more = self.ws.kpis.add_from_catalog(product.id, key)
                changes = changes | more
        except Exception as exc:
            self.show_error(exc)
            return False
        self.broadcast(changes)
        self.show_page("dashboard")
        return True

    # -- help -------------------------------------------------------------------------------
    def show_about(self) -> None:
        from kpidesk.gui.views.dialogs import AboutDialog

        dialog = AboutDialog(self.ws.db.display_name if self.ws else "—", self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def show_catalog(self) -> None:
        from kpidesk.domain.catalog import load_catalog
        from kpidesk.gui.views.dialogs import CatalogDialog

        dialog = CatalogDialog(self.ws.catalog if self.ws else load_catalog(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    # -- data safety --------------------------------------------------------------------------
    def backup_service(self, ws: Any = None) -> Any:
        """The data-safety service of ``ws`` (None without one, or for a server workspace)."""
        ws = ws or self.ws
        if ws is None or ws.db.path is None or importlib.util.find_spec("kpidesk.services.backup_service") is None:
            return None
        from kpidesk.services.backup_service import BackupService

        return BackupService(ws.db)

    def check_database(self) -> Any:
        service = self.backup_service()
        if service is None:
            return None

        def done(report: Any) -> None:
            box = QMessageBox(QMessageBox.Icon.Information if report.ok else QMessageBox.Icon.Warning,
                              self.tr("Check database"), report.summary, QMessageBox.StandardButton.Ok, self)
            box.setObjectName("checkDialog")
            if report.lines:
                box.setDetailedText("\n".join(report.lines))
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

        return self.runner.submit(service.check_database, on_done=done, title=self.tr("Checking the database"))

    def restore_backup(self) -> None:
        service = self.backup_service()
        if service is None or self.ws.db.read_only:
            return
        from kpidesk.gui.views.dialogs import RestoreDialog

        dialog = RestoreDialog(service.list(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.restore(dialog.chosen_id()) if dialog.chosen_id() else None)
        dialog.open()

    def restore(self, backup_id: str) -> Any:
        """Restore a backup in the writer thread (the current content is backed up first)."""
        service = self.backup_service()
        self.undo_stack.clear()  # the undo history describes the content being replaced
        return self.runner.submit(lambda progress: service.restore(backup_id, progress)[1], write=True,
                                  title=self.tr("Restoring the backup"), on_done=self.broadcast)

    def auto_backup(self, reason: str, ws: Any = None) -> None:
        """Hourly (from a timer, in the writer thread) and on close (right there)."""
        service = self.backup_service(ws)
        if service is None or (ws or self.ws).db.read_only:
            return
        if reason == "hourly":
            self.runner.submit(lambda progress: service.maybe_backup_hourly(progress), write=True,
                               show_progress=False, title=self.tr("Automatic backup"),
                               on_done=lambda info: info and self.statusBar().showMessage(
                                   self.tr("Backed up ({c}).").format(c=info.counts_text()), 5000))
            return
        try:
            service.backup_on_close()
        except Exception:  # closing is never blocked by a failed backup; it is logged
            log.exception("backup on close failed")

    # -- events ----------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and all(Path(u.toLocalFile()).suffix.lower() in SPREADSHEET_SUFFIXES for u in urls):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls:
            event.acceptProposedAction()
            self.open_import(urls[0].toLocalFile())

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        if getattr(self, "_watcher", None) is not None:
            self._watcher.stop()
        self.runner.cancel_all()
        self.runner.wait(10000)
        self._backup_timer.stop()
        if self.ws is not None:
            self.auto_backup("close")
        super().closeEvent(event)

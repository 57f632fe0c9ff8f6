"""Main-window flows: welcome page, read-only banner, safety menu items, export, import, the other pages."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from kpidesk.gui.main_window import MainWindow
from kpidesk.services.workspace import Workspace


def _window(qtbot, ws, external=False):
    win = MainWindow(QSettings(), progress_delay_ms=50, external_pages=external)
    qtbot.addWidget(win)
    win.show()
    win.set_workspace(ws)
    return win


def _close(win):
    win.runner.wait()
    QApplication.processEvents()
    win.close()


def test_empty_workspace_shows_the_welcome_page_and_creating_a_product_leaves_it(qtbot, app_theme, tmp_path):
    ws = Workspace.open(tmp_path / "empty.kpidesk.db")
    win = _window(qtbot, ws)
    assert win.stack.currentWidget() is win.welcome
    assert sorted(win.welcome.buttons) == ["demo", "import", "product"]
    assert win.nav_dock.isHidden()
    assert win.create_product("Checkout", ["revenue", "nps"])
    assert win.current_page() == "dashboard"
    qtbot.waitUntil(lambda: win.dashboard.canvas.tile_count() == 2, timeout=10000)
    assert not win.nav_dock.isHidden()
    _close(win)
    ws.close()


def test_a_refused_product_name_is_an_error_dialog(qtbot, app_theme, tmp_path):
    ws = Workspace.open(tmp_path / "empty.kpidesk.db")
    win = _window(qtbot, ws)
    assert not win.create_product("   ", [])
    box = win.findChild(QMessageBox, "errorDialog")
    assert box is not None and box.text() == "A product needs a name."
    box.close()
    _close(win)
    ws.close()


def test_read_only_workspace_shows_the_banner_and_disables_editing(qtbot, app_theme, workspace):
    path = workspace.db.path
    workspace.close()
    ro = Workspace.open(path, read_only=True)
    win = _window(qtbot, ro)
    assert win.banner.isVisible()
    assert "read-only" in win.banner_text.text()
    assert not win.act_import.isEnabled() and not win.act_new_product.isEnabled()
    assert win.act_import.toolTip().startswith("Not available")
    assert "(read-only)" in win.windowTitle()
    _close(win)
    ro.close()


def test_check_database_reports_in_plain_words(qtbot, app_theme, workspace):
    win = _window(qtbot, workspace)
    task = win.check_database()
    assert task is not None
    qtbot.waitUntil(lambda: win.findChild(QMessageBox, "checkDialog") is not None, timeout=20000)
    box = win.findChild(QMessageBox, "checkDialog")
    assert box.icon() == QMessageBox.Icon.Information
    assert workspace.db.path.name in box.text()
    box.close()
    _close(win)


def test_restore_from_backup_brings_back_the_old_values(qtbot, app_theme, workspace):
    win = _window(qtbot, workspace)
    service = win.backup_service()
    info = service.backup_now("manual")
    workspace.measurements.record(workspace.ids["revenue"], "2025-12-01", 99999)
    task = win.restore(info.id)
    qtbot.waitUntil(lambda: task.done, timeout=30000)
    assert task.error is None
    assert workspace.measurements.series(workspace.ids["revenue"])["value"].iloc[-1] == 2100
    _close(win)


def test_export_writes_every_value(qtbot, app_theme, workspace, tmp_path):
    win = _window(qtbot, workspace)
    target = tmp_path / "values.csv"
    task = win.export_to(str(target))
    qtbot.waitUntil(lambda: task.done, timeout=30000)
    assert task.error is None, task.details
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 36  # header + 3 KPIs × 12 months
    _close(win)


def test_dropping_a_spreadsheet_opens_the_import_wizard_on_it(qtbot, app_theme, workspace, tmp_path):
    pytest.importorskip("kpidesk.gui.views.import_wizard")
    sheet = tmp_path / "values.csv"
    sheet.write_text("date,kpi,value\n2025-12-01,revenue,10\n", encoding="utf-8")
    win = _window(qtbot, workspace, external=True)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(sheet))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    win.dropEvent(event)
    wizard = win._wizard
    assert wizard is not None and wizard.isVisible()
    assert wizard.path == str(sheet) or wizard.file_page.path_edit.text() == str(sheet)
    wizard.runner.wait()
    QApplication.processEvents()
    wizard.reject()
    _close(win)


def test_the_other_pages_plug_in(qtbot, app_theme, workspace):
    win = _window(qtbot, workspace, external=True)
    for name, expected in (("goals", "GoalsPage"), ("data", "DataPage")):
        page = win.pages[name]
        if type(page).__name__ == "PlaceholderPage":
            continue  # that page is not installed in this build
        assert type(page).__name__ == expected
        win.show_page(name)
        assert win.current_page() == name
    win.runner.wait()
    QApplication.processEvents()
    _close(win)


def test_save_a_copy_writes_a_workspace_that_opens(qtbot, app_theme, workspace, tmp_path):
    win = _window(qtbot, workspace)
    target = tmp_path / "copy.kpidesk.db"
    task = win.save_copy_to(str(target))
    qtbot.waitUntil(lambda: task.done, timeout=20000)
    assert task.error is None, task.details
    _close(win)
    with Workspace.open(target, read_only=True) as copy:
        assert [p.name for p in copy.products.list()] == ["Mobile app", "Web shop"]
        assert len(copy.measurements.series(workspace.ids["revenue"])) == 12


def test_theme_switch_repaints_in_the_dark_palette(qtbot, app_theme, workspace):
    from kpidesk.gui import theme

    win = _window(qtbot, workspace)
    win.set_theme(theme.DARK)
    assert theme.colors().dark and QApplication.palette().window().color() == theme.DARK_COLORS.window
    assert win.settings.value("view/theme") == theme.DARK
    win.set_theme(theme.LIGHT)
    assert not theme.colors().dark
    _close(win)


def test_open_the_demo_from_the_welcome_page(qtbot, app_theme, tmp_path):
    from kpidesk.app import open_workspace

    empty = Workspace.open(tmp_path / "empty.kpidesk.db")
    win = MainWindow(QSettings(), progress_delay_ms=50, external_pages=False,
                     opener=lambda target, ro: open_workspace(target, ro, None))
    qtbot.addWidget(win)
    win.show()
    win.set_workspace(empty)
    win.welcome.buttons["demo"].click()
    assert win.ws is not empty and win.ws.db.path.name == "demo.kpidesk.db"
    qtbot.waitUntil(lambda: win.dashboard.canvas.tile_count() > 20, timeout=60000)
    assert win.current_page() == "dashboard"
    # the status step colours tiles by goal status or RAG, and lists what needs attention first
    qtbot.waitUntil(lambda: any(t.status for t in win.dashboard.data.tiles), timeout=60000)
    sections = win.dashboard.sections()
    assert sections[0].title == "Needs attention"
    assert all(t.attention for t in sections[0].tiles)
    _close(win)
    win.ws.close()


def test_garbage_is_collected_on_the_gui_thread_only(qtbot, qapp):
    import gc

    from kpidesk.app import collect_garbage_on_gui_thread

    class Cycle:
        def __init__(self):
            self.me = self

    timer = collect_garbage_on_gui_thread(qapp, interval_ms=10)
    try:
        assert not gc.isenabled()
        probe = Cycle()
        import weakref

        ref = weakref.ref(probe)
        del probe
        for _ in range(gc.get_threshold()[0] + 10):  # allocations past the young threshold
            Cycle()
        qtbot.waitUntil(lambda: ref() is None, timeout=3000)  # freed by the timer, on this thread
    finally:
        timer.stop()
        timer.deleteLater()
        gc.enable()

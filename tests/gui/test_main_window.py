"""The main window on a real workspace: pages, navigator, menus, settings, errors."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QTextBrowser

from kpidesk.gui.main_window import PAGES, MainWindow


@pytest.fixture
def window(qtbot, app_theme, workspace):
    win = MainWindow(QSettings(), progress_delay_ms=50, external_pages=False)
    qtbot.addWidget(win)
    win.show()
    win.set_workspace(workspace)
    qtbot.waitUntil(lambda: win.dashboard.canvas.tile_count() == 3, timeout=5000)
    yield win
    win.runner.wait()
    win.close()


def test_dashboard_shows_a_tile_per_kpi_and_the_navigator_lists_them(window):
    names = sorted(t.name for t in window.dashboard.canvas.tiles())
    assert names == ["Customer churn rate", "Revenue", "Revenue"]
    model = window.navigator.model
    products = [model.item(i).text() for i in range(model.rowCount())]
    assert products == ["Mobile app", "Web shop"]
    assert window.current_page() == "dashboard"
    assert "3 of 3 KPIs" in window.dashboard.summary.text()


def test_every_page_can_be_shown_with_its_shortcut(window, qtbot):
    for i, name in enumerate(PAGES, start=1):
        assert window.page_actions[name].shortcut().toString() == f"Ctrl+{i}"
        window.page_actions[name].trigger()
        assert window.current_page() == name


def test_every_menu_action_has_a_tooltip(window):
    for menu in window.menuBar().findChildren(type(window.recent_menu)):
        for action in menu.actions():
            if action.isSeparator() or action.menu() is not None or not action.text():
                continue
            assert action.toolTip() and action.toolTip() != action.text().replace("&", ""), action.text()


def test_clicking_a_tile_opens_the_kpi_page(window, qtbot):
    canvas = window.dashboard.canvas
    index = next(i for i, t in enumerate(canvas.tiles()) if t.name == "Customer churn rate")
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=canvas.tile_rect(index).center())
    assert window.current_page() == "kpi"
    assert window.kpi_page.kpi_id == window.ws.ids["churn"]
    qtbot.waitUntil(lambda: window.kpi_page.chart_data is not None, timeout=10000)
    assert len(window.kpi_page.chart_data.y) == 12


def test_settings_remember_page_and_recent_file(window, workspace):
    window.show_page("goals")
    window.save_settings()
    settings = QSettings()
    assert settings.value("view/last_page") == "goals"
    assert str(workspace.db.path) in window.recent_files()
    assert window.recent_menu.actions()[0].toolTip() == str(workspace.db.path)


def test_an_error_becomes_a_dialog_with_a_sentence_and_details(window, qtbot):
    from PySide6.QtWidgets import QMessageBox

    def fail(progress):
        raise ZeroDivisionError("boom")

    window.runner.submit(fail, show_progress=False)
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "errorDialog") is not None, timeout=5000)
    box = window.findChild(QMessageBox, "errorDialog")
    assert "internal problem" in box.text() and "ZeroDivisionError" in box.text()
    assert "Traceback" in box.detailedText()
    box.close()


def test_about_and_catalog_dialogs(window, qtbot):
    from kpidesk.gui.views.dialogs import AboutDialog, CatalogDialog

    window.show_about()
    about = window.findChild(AboutDialog)
    assert about.isVisible()
    versions = about.findChild(QTextBrowser, "versions").toPlainText()
    assert "PySide6" in versions and "Qt" in versions and "kpidesk" in versions
    about.close()
    window.show_catalog()
    catalog = window.findChild(CatalogDialog)
    assert catalog.list.count() == len(window.ws.catalog)
    catalog.filter.setText("promoter")
    shown = [catalog.list.item(i).text() for i in range(catalog.list.count()) if not catalog.list.item(i).isHidden()]
    assert any("Net Promoter Score" in s for s in shown)
    catalog.close()


def test_navigator_filter_and_keyboard_shortcut(window, qtbot):
    window.act_find.trigger()
    assert window.navigator.filter.hasFocus() or not window.isActiveWindow()
    window.navigator.filter.setText("churn")
    proxy = window.navigator.proxy
    assert proxy.rowCount() == 1  # only Mobile app keeps a match
    window.navigator.filter.clear()
    assert proxy.rowCount() == 2

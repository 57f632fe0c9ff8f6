"""Defects found in a product manager's walkthrough of the app (demo-like data, real SQLite files):
each test drives the real widgets and failed before its fix."""

from __future__ import annotations

import datetime as dt
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from kpidesk.services.workspace import Workspace

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def workspace(tmp_path):
    ws = Workspace.open(tmp_path / "walk.db")
    ws.products.create("Pulse")
    signups, _ = ws.kpis.add_custom("Pulse", "New sign-ups", key="new_signups", unit="count", aggregation="sum")
    conversion, _ = ws.kpis.add_custom("Pulse", "Conversion rate", key="conversion", unit="percent",
                                       aggregation="mean")
    for month, value in enumerate([16_980, 17_250, 17_511], start=8):
        ws.measurements.record(signups.id, dt.date(2026, month, 1), value)
        ws.measurements.record(conversion.id, dt.date(2026, month, 1), 1.5 + month / 10)
    yield ws
    ws.close()


def test_goal_dialog_baseline_hint_is_a_plain_number(qtbot, workspace):
    """The baseline placeholder read "from the data: 1.751e+04 (Oct 2026)"."""
    from kpidesk.gui.views.goal_dialog import GoalDialog

    dialog = GoalDialog(workspace, None, today=TODAY)
    qtbot.addWidget(dialog)
    dialog.kpi_combo.setCurrentIndex(dialog.kpi_combo.findData(workspace.kpis.resolve("new_signups", "Pulse").id))
    dialog.start_date.setDate(TODAY)
    dialog.run_check()
    hint = dialog.baseline_edit.placeholderText()
    assert "17,511" in hint and "e+" not in hint, hint
    # a relative target resolves from that baseline, also written out in full
    dialog.target_mode.setCurrentIndex(dialog.target_mode.findData("percent"))
    dialog.target_edit.setText("+10%")
    dialog.run_check()
    assert dialog.resolved_label.text() == "= 19,262 (from the baseline 17,511)"


@pytest.fixture
def kpi_page(qtbot, workspace):
    from PySide6.QtGui import QUndoStack

    from kpidesk.gui.tasks import TaskRunner
    from kpidesk.gui.views.kpi_page import KpiPage

    runner = TaskRunner()
    stack = QUndoStack()
    page = KpiPage(workspace, runner, stack, lambda changes: page.refresh(changes))
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.forecast.setChecked(False)
    page.show()
    page.show_kpi(workspace.kpis.resolve("new_signups", "Pulse").id)
    qtbot.waitUntil(lambda: page.chart_data is not None, timeout=15000)
    yield page
    runner.wait()


def _compared_points(page) -> int:
    curve = page.chart._second_curve
    return 0 if curve is None or curve.xData is None else len(curve.xData)


def test_compared_kpi_is_named_in_the_legend_in_its_own_colour(kpi_page, qtbot, workspace):
    """The second KPI's line had no legend entry and the annotations' colour (yellow in dark mode)."""
    from kpidesk.gui import theme

    page = kpi_page
    page.compare.setCurrentIndex(page.compare.findData(workspace.kpis.resolve("conversion", "Pulse").id))
    qtbot.waitUntil(lambda: _compared_points(page) == 3, timeout=10000)
    assert "Conversion rate" in page.chart.legend_labels()
    pen = page.chart._second_curve.opts["pen"]
    assert pen.color() not in (theme.colors().warn, theme.colors().forecast, theme.colors().series)
    # both axes say their unit
    assert page.chart.item.getAxis("right").labelText == "Conversion rate (%)"
    assert page.chart.item.getAxis("left").labelText == "New sign-ups"
    page.compare.setCurrentIndex(0)
    qtbot.waitUntil(lambda: _compared_points(page) == 0, timeout=10000)
    assert "Conversion rate" not in page.chart.legend_labels()


def test_compared_kpi_follows_the_granularity_and_goes_with_the_kpi(kpi_page, qtbot, workspace):
    """Switching to quarters left the compared KPI monthly; opening another KPI kept the old comparison."""
    page = kpi_page
    page.compare.setCurrentIndex(page.compare.findData(workspace.kpis.resolve("conversion", "Pulse").id))
    qtbot.waitUntil(lambda: _compared_points(page) == 3, timeout=10000)
    page.granularity.setCurrentIndex(page.granularity.findData("quarter"))
    # Aug + Sep 2026 are Q3, Oct is Q4: two quarters
    qtbot.waitUntil(lambda: _compared_points(page) == 2, timeout=10000)
    page.show_kpi(workspace.kpis.resolve("conversion", "Pulse").id)
    qtbot.waitUntil(lambda: page.chart_data.name == "Conversion rate", timeout=10000)
    assert page.compare.currentIndex() == 0
    assert _compared_points(page) == 0
    assert not page.chart.item.getAxis("right").isVisible()
    assert page.chart.item.getAxis("left").labelText == "Conversion rate (%)"


def test_reviews_page_says_what_to_do_when_there_are_none(qtbot, workspace):
    """An empty Reviews page showed a blank white list, and its buttons had no tooltips."""
    from PySide6.QtWidgets import QLabel

    from kpidesk.gui.tasks import TaskRunner
    from kpidesk.gui.views.reviews_page import ReviewsPage

    runner = TaskRunner(progress_delay_ms=60_000)
    page = ReviewsPage(workspace, runner, today=TODAY)
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        pass
    assert page.review_list.count() == 0
    hints = [label.text() for label in page.findChildren(QLabel) if label.isVisible()]
    assert any(text.startswith("No reviews yet") for text in hints), hints
    for widget in (page.new_button, page.save_notes_button, page.add_button, page.delete_button, page.pack_button,
                   page.compare_combo, page.kind_combo, page.kpi_combo, page.due_check):
        assert widget.toolTip(), widget.objectName() or type(widget).__name__
    # the create bar's captions reach their fields by keyboard (Alt+P, Alt+R)
    buddies = {label.text(): label.buddy() for label in page.findChildren(QLabel) if label.buddy()}
    assert buddies == {"&Product:": page.product_combo, "Pe&riod:": page.period_edit}
    # once a review exists the list shows it and the hint goes
    with qtbot.waitSignal(page.loaded, timeout=20_000):
        page.new_review()
    assert page.review_list.count() == 1 and page.review_list.isVisible()
    assert not any(label.isVisible() and label.text().startswith("No reviews yet")
                   for label in page.findChildren(QLabel))
    runner.wait()


def test_add_value_dialog_names_the_unit(kpi_page, qtbot, workspace):
    """"Value:" with "e.g. 1250 or 12.5" left a PM guessing whether 12.5 % is typed 12.5 or 0.125."""
    from PySide6.QtWidgets import QFormLayout

    from kpidesk.gui.views.kpi_page import AddValueDialog

    page = kpi_page
    page.show_kpi(workspace.kpis.resolve("conversion", "Pulse").id)
    qtbot.waitUntil(lambda: page.chart_data.name == "Conversion rate", timeout=10000)
    page.add_value()
    dialog = page.findChild(AddValueDialog)
    assert dialog is not None and dialog.isVisible()
    form = dialog.layout()
    assert isinstance(form, QFormLayout)
    assert form.labelForField(dialog.value).text() == "&Value (%):"
    assert "12.5 %" in dialog.value.placeholderText()
    # typed as shown, stored in percentage points
    dialog.value.setText("2.3")
    dialog.date.setDate(dt.date(2026, 11, 5))
    dialog.accept()
    rows = {r.period_start: r.value for r in workspace.measurements.rows(workspace.kpis.resolve("conversion", "Pulse").id)}
    assert rows[dt.date(2026, 11, 1)] == pytest.approx(2.3)
    # a count has no unit to name
    page.show_kpi(workspace.kpis.resolve("new_signups", "Pulse").id)
    page.add_value()
    dialog = next(d for d in page.findChildren(AddValueDialog) if d.isVisible())
    assert dialog.layout().labelForField(dialog.value).text() == "&Value:"
    dialog.reject()


def test_new_product_dialog_shows_the_kpi_definitions(qtbot, workspace):
    """At 520 px most catalog definitions were cut off, with no way to read them but scrolling sideways."""
    from kpidesk.gui.views.dialogs import NewProductDialog

    dialog = NewProductDialog(workspace.catalog)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    view = dialog.kpis
    check_box = 40  # the check box and margins before the text
    shown = sum(view.fontMetrics().horizontalAdvance(view.item(i).text()) + check_box <= view.viewport().width()
                for i in range(min(view.count(), 20)))
    assert shown >= 15, f"only {shown} of 20 lines fit"
    for i in range(view.count()):
        item = view.item(i)
        assert item.toolTip().endswith(item.text().split(" — ", 1)[1])
    dialog.reject()


def test_import_wizard_sheet_list_shows_whole_sheet_names(qtbot, workspace, tmp_path):
    """On a real four-sheet tracker the list cut "Channel Scorecard (12 rows × 9 columns)" off."""
    import openpyxl
    from PySide6.QtWidgets import QWizard

    from kpidesk.gui.tasks import TaskRunner
    from kpidesk.gui.views.import_wizard import PAGE_SHEETS, ImportWizard

    book = openpyxl.Workbook()
    book.active.title = "Annual OKRs"
    for title in ("Monthly KPIs", "Channel Scorecard", "Board Report"):
        book.create_sheet(title)
    for sheet in book.worksheets:
        sheet.append(["KPI", "Jan 2026", "Feb 2026"])
        for row in range(12):
            sheet.append([f"Metric {row}", row, row + 1, *range(6)])
    path = tmp_path / "tracker.xlsx"
    book.save(path)
    runner = TaskRunner(progress_delay_ms=60_000)
    wizard = ImportWizard(workspace, runner)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.keyClicks(wizard.file_page.path_edit, str(path))
    wizard.file_page.product_combo.setEditText("Pulse")
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_SHEETS, timeout=30_000)
    view = wizard.sheets_page.sheet_list
    qtbot.waitUntil(lambda: view.count() == 4, timeout=5_000)
    room = view.viewport().width()
    for i in range(view.count()):
        text = view.item(i).text()
        assert view.fontMetrics().horizontalAdvance(text) + 30 <= room, text
    wizard.reject()
    runner.cancel_all()
    runner.wait()


def _contrast(a, b) -> float:
    """WCAG contrast ratio of two QColors."""
    def luminance(c) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_goals_forecast_has_its_unit_and_status_words_are_readable(qtbot, qapp, tmp_path, mode):
    """The Forecast column read "58.86" for a percentage; "overdue" was 1.8 : 1 on the dark base and
    "behind" 1.9 : 1 on white."""
    from PySide6.QtCore import Qt

    from kpidesk.domain.goals import GoalStatus
    from kpidesk.gui import theme
    from kpidesk.gui.models.goal_tree_model import STATUS_TEXT_COLOURS, status_text_colour
    from kpidesk.gui.tasks import TaskRunner
    from kpidesk.gui.views.goals_page import GoalsPage
    from kpidesk.services.goal_service import GoalService

    theme.apply(qapp, mode)
    try:
        ws = Workspace.open(tmp_path / "goals.db")
        ws.products.create("Onboard")
        kpi, _ = ws.kpis.add_custom("Onboard", "Onboarding completion", key="onboarding_completion",
                                    unit="percent", aggregation="mean")
        for month in range(1, 7):
            ws.measurements.record(kpi.id, dt.date(2024, month, 1), 29 + month)
        GoalService(ws.db).add(kpi.id, statement="Increase onboarding completion to 36", kind="increase_to",
                               target_value=36.0, start_date=dt.date(2024, 1, 1), due_date=dt.date(2024, 12, 31))
        runner = TaskRunner(progress_delay_ms=60_000)
        page = GoalsPage(ws, runner, today=dt.date(2024, 7, 1))
        qtbot.addWidget(page)
        qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=10_000)
        group = page.model.index(0, 0)
        forecast = page.model.index(0, 4, group)
        assert page.model.data(forecast) == "41 %"
        assert "80 % interval" in page.model.data(forecast, Qt.ItemDataRole.ToolTipRole)
        assert page.model.data(forecast, Qt.ItemDataRole.ToolTipRole) == "41 % (80 % interval 41 % – 41 %)"
        base = qapp.palette().base().color()
        colour = page.model.data(page.model.index(0, 1, group), Qt.ItemDataRole.ForegroundRole).color()
        assert colour == status_text_colour(GoalStatus(page.model.data(page.model.index(0, 1, group),
                                                                       Qt.UserRole + 3)))
        for status in STATUS_TEXT_COLOURS[mode == "dark"]:
            assert _contrast(status_text_colour(status), base) >= 4.5, (mode, status)
        runner.cancel_all()
        runner.wait()
        ws.close()
    finally:
        theme.apply(qapp, "light")


@pytest.fixture
def window(qtbot, workspace):
    from PySide6.QtCore import QSettings

    from kpidesk.gui.main_window import MainWindow

    win = MainWindow(QSettings(), progress_delay_ms=50, external_pages=False)
    qtbot.addWidget(win)
    win.resize(1440, 900)
    win.show()
    win.set_workspace(workspace)
    qtbot.waitUntil(lambda: win.dashboard.canvas.tile_count() == 2, timeout=10_000)
    win.activateWindow()
    yield win
    win.runner.wait()
    win.close()


def _tab(qtbot, times: int = 1):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    for _ in range(times):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    return QApplication.focusWidget()


def test_dashboard_filters_are_reached_with_tab(window, qtbot):
    """Tab went tiles → navigator → tiles: the Product/Category/Stage filters and the portfolio switch
    were out of the Tab order (the page's focus proxy), and the scroll area was an empty stop."""
    from PySide6.QtWidgets import QApplication

    page = window.dashboard
    # the page reached with Ctrl+1 lands on the tiles, where the arrows and Enter work
    window.show_page("goals")
    window.pages["goals"].setFocus()
    window.page_actions["dashboard"].trigger()
    assert QApplication.focusWidget() is page.canvas
    window.navigator.tree.setFocus()
    seen = [_tab(qtbot) for _ in range(8)]
    for widget in (page.canvas, page.product, page.category, page.stage, page.by_product):
        assert widget in seen, type(widget).__name__
    assert page.scroll not in seen
    assert seen.index(page.canvas) < seen.index(page.product)  # the tiles first, then their filters
    assert page.by_product.toolTip() and page.by_kpi.toolTip()


def test_values_table_ctrl_n_adds_and_tab_leaves_the_table(window, qtbot, workspace):
    """Ctrl+N in the values table did nothing (Qt: "Ambiguous shortcut overload" with File > New
    workspace), and Tab walked the table's cells forever."""
    from PySide6.QtCore import Qt

    from kpidesk.gui.views.kpi_page import AddValueDialog

    window.open_kpi(workspace.kpis.resolve("new_signups", "Pulse").id)
    page = window.kpi_page
    qtbot.waitUntil(lambda: page.values_model.rowCount() == 3, timeout=10_000)
    page.table.setFocus()
    page.table.selectRow(0)
    qtbot.keyClick(page.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialogs = [d for d in page.findChildren(AddValueDialog) if d.isVisible()]
    assert len(dialogs) == 1
    qtbot.keyClick(dialogs[0], Qt.Key.Key_Escape)
    assert not dialogs[0].isVisible()
    page.table.setFocus()
    assert _tab(qtbot) is not page.table


def test_kpi_page_without_a_kpi_shows_the_prompt_not_an_empty_chart(window, qtbot, workspace):
    """Ctrl+2 before picking a KPI showed an empty chart with a six-entry legend and 1970 time ticks."""
    window.show_page("kpi")
    page = window.kpi_page
    qtbot.waitUntil(lambda: page.isVisible(), timeout=5_000)
    assert page.title.text().startswith("Pick a KPI")
    assert not page.chart.isVisible() and not page.tabs.isVisible()
    window.open_kpi(workspace.kpis.resolve("new_signups", "Pulse").id)
    qtbot.waitUntil(lambda: page.chart_data is not None, timeout=10_000)
    assert page.chart.isVisible() and page.tabs.isVisible()
    assert page.title.text() == "Pulse · New sign-ups"


def test_review_summary_colours_follow_the_palette(qtbot, qapp, workspace):
    """The review's changes and statuses were fixed light-theme colours (#2e7d32, #c62828): 2.5–2.8 : 1 on
    the dark base."""
    from kpidesk.gui import theme
    from kpidesk.gui.tasks import TaskRunner
    from kpidesk.gui.views.reviews_page import ReviewsPage
    from kpidesk.services.review_service import ReviewService

    review, _ = ReviewService(workspace.db).create("Pulse", "2026-10")
    theme.apply(qapp, "dark")
    try:
        runner = TaskRunner(progress_delay_ms=60_000)
        page = ReviewsPage(workspace, runner, today=TODAY)
        qtbot.addWidget(page)
        qtbot.waitUntil(lambda: page.content is not None and page.content.review.id == review.id, timeout=20_000)
        text = page.summary.text()
        good = theme.colors().good
        assert good.name() in text  # sign-ups rose 17,250 → 17,511: a good change
        assert "#2e7d32" not in text and "#c62828" not in text
        assert _contrast(good, qapp.palette().base().color()) >= 4.5
        runner.wait()
    finally:
        theme.apply(qapp, "light")


def test_kpi_page_says_why_a_ticked_forecast_is_missing(kpi_page, qtbot):
    """With three months of values "Forecast" stayed ticked and nothing was drawn; the reason the chart
    loader wrote ("A forecast needs at least 6 values; …") was never shown."""
    page = kpi_page
    assert not page.chart_note.isVisible()  # the fixture unticks the forecast
    page.forecast.setChecked(True)
    qtbot.waitUntil(lambda: page.chart_note.isVisible(), timeout=15_000)
    assert "forecast needs at least" in page.chart_note.text().lower()
    assert "Forecast" not in page.chart.legend_labels()
    page.forecast.setChecked(False)
    assert not page.chart_note.isVisible()


def test_kpi_subtitle_names_the_currency(kpi_page, qtbot, workspace):
    """The subtitle read "currency · higher is better …" without saying which currency."""
    kpi, _ = workspace.kpis.add_custom("Pulse", "Revenue", key="revenue", unit="currency", currency="EUR",
                                       aggregation="sum")
    workspace.measurements.record(kpi.id, dt.date(2026, 10, 1), 128_000)
    kpi_page.show_kpi(kpi.id)
    assert kpi_page.subtitle.text().startswith("currency (EUR) · higher is better")
    qtbot.waitUntil(lambda: kpi_page.chart_data.name == "Revenue", timeout=10_000)
    assert kpi_page.chart.item.getAxis("left").labelText == "Revenue (€)"


def test_import_preview_shows_the_reason_column(qtbot, workspace, tmp_path):
    """At the wizard's size the preview's Reason column (why a cell is rejected) started off screen."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QWizard

    from kpidesk.gui.tasks import TaskRunner
    from kpidesk.gui.views.import_wizard import PAGE_PREVIEW, ImportWizard

    sheet = tmp_path / "tracker.csv"
    sheet.write_text("month,kpi,value\n2026-08-01,New sign-ups,16980\n2026-11-01,New sign-ups,17900\n"
                     "2026-12-01,New sign-ups,18100\n2027-01-01,New sign-ups,n/a\n",
                     encoding="utf-8")
    runner = TaskRunner(progress_delay_ms=60_000)
    wizard = ImportWizard(workspace, runner)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.keyClicks(wizard.file_page.path_edit, str(sheet))
    wizard.file_page.product_combo.setEditText("Pulse")
    for _ in range(5):
        if wizard.currentId() == PAGE_PREVIEW:
            break
        before = wizard.currentId()
        assert wizard.button(QWizard.WizardButton.NextButton).isEnabled(), before
        wizard.next()
        qtbot.waitUntil(lambda before=before: wizard.currentId() != before, timeout=30_000)
    assert wizard.currentId() == PAGE_PREVIEW
    view = wizard.preview_page.view
    reason = view.model().columnCount() - 1
    assert view.model().headerData(reason, Qt.Orientation.Horizontal) == "Reason"
    assert view.columnViewportPosition(reason) + 150 <= view.viewport().width()
    wizard.reject()
    runner.cancel_all()
    runner.wait()


def test_delete_key_works_in_the_goals_and_review_tables(qtbot, workspace):
    """Del did nothing in the goals list and in a review's items (it works in the values table and imports)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    from kpidesk.gui.tasks import TaskRunner
    from kpidesk.gui.views.goals_page import GoalsPage
    from kpidesk.gui.views.reviews_page import ReviewsPage
    from kpidesk.services.goal_service import GoalService
    from kpidesk.services.review_service import ReviewService

    kpi = workspace.kpis.resolve("new_signups", "Pulse")
    GoalService(workspace.db).add(kpi.id, statement="Increase new sign-ups to 18,000", kind="increase_to",
                                  target_value=18_000.0, start_date=dt.date(2026, 9, 1),
                                  due_date=dt.date(2026, 12, 31))
    review, _ = ReviewService(workspace.db).create("Pulse", "2026-10")
    ReviewService(workspace.db).add_item(review.id, "decision", "Keep the referral campaign")
    runner = TaskRunner(progress_delay_ms=60_000)
    goals = GoalsPage(workspace, runner, today=TODAY)
    qtbot.addWidget(goals)
    goals.show()
    qtbot.waitUntil(lambda: goals.model.rowCount() > 0, timeout=10_000)
    goals.tree.expandAll()
    goals.tree.setCurrentIndex(goals.model.index(0, 0, goals.model.index(0, 0)))
    assert goals.selected_goal() is not None
    goals.tree.setFocus()
    qtbot.keyClick(goals.tree, Qt.Key.Key_Delete)
    boxes = [b for b in goals.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1 and "Archive" in boxes[0].text()
    boxes[0].reject()

    reviews = ReviewsPage(workspace, runner, today=TODAY)
    qtbot.addWidget(reviews)
    reviews.show()
    qtbot.waitUntil(lambda: reviews.items_table.rowCount() == 1, timeout=20_000)
    reviews.items_table.setCurrentCell(0, 1)
    reviews.items_table.setFocus()
    with qtbot.waitSignal(reviews.loaded, timeout=20_000):
        qtbot.keyClick(reviews.items_table, Qt.Key.Key_Delete)
    assert reviews.items_table.rowCount() == 0
    runner.wait()

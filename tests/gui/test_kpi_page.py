"""KPI detail: chart overlays, granularity, editing with undo/redo, annotations, export, explain."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication

from kpidesk.gui.kpi_data import load_chart, to_seconds
from kpidesk.gui.models.values_model import NOTE, VALUE
from kpidesk.gui.tasks import TaskRunner
from kpidesk.gui.views.kpi_page import KpiPage


@pytest.fixture
def page(request, qtbot, app_theme, workspace):
    runner = TaskRunner()
    stack = QUndoStack()
    holder = {}

    def notify(changes):
        holder["page"].refresh(changes)

    p = KpiPage(workspace, runner, stack, notify)
    holder["page"] = p
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show()
    # forecasts fit several models: only the test about them pays for it
    p.forecast.setChecked(request.node.name.startswith("test_chart_shows"))
    p.show_kpi(workspace.ids["revenue"])
    qtbot.waitUntil(lambda: p.chart_data is not None and p.values_model.rowCount() == 12, timeout=15000)
    yield p
    runner.wait()
    QApplication.processEvents()


def test_chart_shows_series_rolling_mean_and_forecast(page):
    data = page.chart_data
    assert len(data.x) == 12 and data.y[-1] == 2100
    # 3-month trailing mean of Oct, Nov, Dec = (1900 + 2000 + 2100) / 3 = 2000
    assert data.rolling[-1] == pytest.approx(2000)
    assert data.forecast_x is not None and len(data.forecast_x) == 6
    assert data.forecast_x[0] > data.x[-1]
    assert "Forecast" in page.chart.legend_labels()
    assert "Target" not in page.chart.legend_labels()  # no target: no empty legend entry
    assert page.headline.text().startswith("2,100") or page.headline.text().startswith("2.1")


def test_granularity_rolls_up_with_the_kpi_aggregation(page, qtbot, workspace):
    page.granularity.setCurrentIndex(page.granularity.findData("quarter"))
    qtbot.waitUntil(lambda: page.chart_data.granularity == "quarter", timeout=10000)
    # revenue sums: Q1 2025 = 1000 + 1100 + 1200 = 3300; Q4 = 1900 + 2000 + 2100 = 6000
    assert list(page.chart_data.y) == [3300, 4200, 5100, 6000]
    model = page.granularity.model()
    assert not model.item(page.granularity.findData("day")).isEnabled()  # never finer than stored


def test_editing_a_value_is_undoable(page, qtbot, workspace):
    model = page.values_model
    row = next(r for r in range(model.rowCount()) if model.row_at(r).period_start == dt.date(2025, 12, 1))
    model.setData(model.index(row, VALUE), "2500")
    assert workspace.measurements.series(workspace.ids["revenue"])["value"].iloc[-1] == 2500
    qtbot.waitUntil(lambda: page.chart_data.y[-1] == 2500, timeout=10000)
    page.undo_stack.undo()
    assert workspace.measurements.series(workspace.ids["revenue"])["value"].iloc[-1] == 2100
    page.undo_stack.redo()
    assert workspace.measurements.series(workspace.ids["revenue"])["value"].iloc[-1] == 2500
    model.setData(model.index(row, NOTE), "promo month")
    rows = {r.period_start: r for r in workspace.measurements.rows(workspace.ids["revenue"])}
    assert rows[dt.date(2025, 12, 1)].note == "promo month"


def test_a_refused_value_shows_an_error_and_leaves_no_undo_step(page, qtbot):
    errors = []
    page.error.connect(errors.append)
    model = page.values_model
    model.setData(model.index(0, VALUE), "lots")
    assert errors and "'lots' is not a number" in errors[0].message
    assert page.undo_stack.count() == 0


def test_add_and_delete_values_with_undo(page, qtbot, workspace):
    assert page.record_value(dt.date(2026, 1, 15), "2200", note="typed in")
    series = workspace.measurements.series(workspace.ids["revenue"])
    assert series["period_start"].iloc[-1].date() == dt.date(2026, 1, 1) and series["value"].iloc[-1] == 2200
    qtbot.waitUntil(lambda: page.values_model.rowCount() == 13, timeout=10000)
    page.table.selectRow(0)
    page.table.selectionModel().select(page.values_model.index(1, 0),
                                       page.table.selectionModel().SelectionFlag.Select
                                       | page.table.selectionModel().SelectionFlag.Rows)
    page.delete_selected()
    assert len(workspace.measurements.series(workspace.ids["revenue"])) == 11
    page.undo_stack.undo()  # one macro brings both back
    assert len(workspace.measurements.series(workspace.ids["revenue"])) == 13
    page.undo_stack.undo()
    assert len(workspace.measurements.series(workspace.ids["revenue"])) == 12


def test_annotation_appears_as_a_labelled_line_and_undo_removes_it(page, qtbot, workspace):
    x = float(to_seconds([dt.date(2025, 6, 1)])[0])
    menu = page.chart.context_menu(x)
    assert menu.actions()[0].text() == "Add annotation on 2025-06-01…"
    menu.deleteLater()
    assert page.annotate(dt.date(2025, 6, 1), "Pricing change shipped")
    qtbot.waitUntil(lambda: len(page.chart.annotation_lines()) == 1, timeout=10000)
    line = page.chart.annotation_lines()[0]
    assert line.value() == x and line.label.format == "Pricing change shipped"
    page.undo_stack.undo()
    assert workspace.annotations.list(kpi_id=workspace.ids["revenue"]) == []
    qtbot.waitUntil(lambda: not page.chart.annotation_lines(), timeout=10000)


def test_crosshair_reports_date_value_and_change(page):
    x = float(to_seconds([dt.date(2025, 12, 3)])[0])
    text = page.chart.show_crosshair_at(x)
    # nearest period is Dec 2025: 2100, +5.0 % on November's 2000
    assert text.startswith("2025-12-01") and "2,100" in text and "+5.0 %" in text


def test_export_png_and_svg(page, tmp_path):
    png, svg = tmp_path / "chart.png", tmp_path / "chart.svg"
    page.chart.export(str(png))
    page.chart.export(str(svg))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in svg.read_text(encoding="utf-8")[:2000]


def test_compare_draws_a_second_kpi_on_a_second_axis(page, qtbot, workspace):
    page.compare.setCurrentIndex(page.compare.findData(workspace.ids["churn"]))
    qtbot.waitUntil(lambda: page.chart._second_curve is not None and page.chart._second_curve.yData is not None,
                    timeout=10000)
    assert page.chart.item.getAxis("right").isVisible()
    assert page.chart._second_curve.yData[0] == pytest.approx(5.0)


def test_targets_step_line_and_segment_filter(workspace, qtbot):
    from kpidesk.storage.models import Target

    with workspace.db.session() as session:
        session.add(Target(kpi_id=workspace.ids["revenue"], period_start=dt.date(2025, 7, 1), value=1800))
        session.commit()
    workspace.measurements.record(workspace.ids["revenue"], dt.date(2025, 12, 1), 700, segment="channel:paid")
    data = load_chart(workspace, workspace.ids["revenue"], "month", forecast=False)
    assert data.target_at(float(to_seconds([dt.date(2025, 9, 1)])[0])) == 1800
    assert data.target_at(float(to_seconds([dt.date(2025, 6, 1)])[0])) is None
    assert data.segments == ["channel:paid"]
    paid = load_chart(workspace, workspace.ids["revenue"], "month", segment="channel:paid", forecast=False)
    assert list(paid.y) == [700]


def test_read_only_workspace_turns_editing_off(qtbot, app_theme, workspace, tmp_path):
    from kpidesk.services.workspace import Workspace

    path = workspace.db.path
    workspace.close()
    ro = Workspace.open(path, read_only=True)
    runner = TaskRunner()
    p = KpiPage(ro, runner)
    qtbot.addWidget(p)
    p.show_kpi(1)
    assert not p.add_button.isEnabled() and not p.delete_button.isEnabled()
    assert "Editing is off" in p.read_only_note.text()
    qtbot.waitUntil(lambda: p.values_model.rowCount() > 0, timeout=10000)
    assert not (p.values_model.flags(p.values_model.index(0, VALUE)) & Qt.ItemFlag.ItemIsEditable)
    runner.wait()
    ro.close()


def test_one_million_points_build_and_repaint(qtbot, app_theme):
    from kpidesk.gui.charts.trend_chart import TrendChart

    chart = TrendChart()
    qtbot.addWidget(chart)
    chart.resize(1200, 500)
    chart.show()
    n = 1_000_000
    x = 1.7e9 + np.arange(n, dtype="float64") * 60.0
    y = np.sin(np.arange(n) / 5000.0) * 100 + np.arange(n) * 1e-4
    chart.set_series(x, y, name="Events")
    chart.grab()  # a full paint
    chart.view.translateBy(x=-3600 * 24 * 30)  # pan
    image = chart.grab()
    assert image.width() > 0
    shown = chart.series.curve.xData  # what is drawn after clipping and downsampling
    assert 0 < len(shown) < 20_000  # far fewer than a million points reach the painter


def test_clicking_a_driver_filters_the_chart_to_its_segment(page, qtbot, workspace):
    import pandas as pd

    # Dec 2025 total 2100 = paid 1500 + organic 600; Nov 2025 total 2000 = paid 1300 + organic 700
    frame = pd.DataFrame({"kpi_id": workspace.ids["revenue"],
                          "period_start": ["2025-11-01", "2025-11-01", "2025-12-01", "2025-12-01"],
                          "segment": ["channel:paid", "channel:organic"] * 2,
                          "value": [1300.0, 700.0, 1500.0, 600.0]})
    workspace.measurements.record_many(frame)
    page.show_kpi(workspace.ids["revenue"])
    qtbot.waitUntil(lambda: page.explanation is not None and len(page.explanation.drivers) >= 2, timeout=20000)
    drivers = list(page.explanation.drivers)
    # paid +200, organic −100: the total's +100
    assert sum(d.contribution for d in drivers) == pytest.approx(100)
    paid = next(i for i, d in enumerate(drivers) if d.segment == "channel:paid")
    page.waterfall.bar_clicked.emit(paid)
    qtbot.waitUntil(lambda: page.chart_data.segment == "channel:paid", timeout=10000)
    assert list(page.chart_data.y) == [1300, 1500]
    assert page.segment_chip.isVisible() or not page.isVisible()
    page.segment_chip.click()
    qtbot.waitUntil(lambda: page.chart_data.segment == "", timeout=10000)
    assert len(page.chart_data.y) == 12


def test_quick_granularity_changes_end_on_the_last_choice(page, qtbot):
    for choice in ("quarter", "year", "month", "quarter", "year"):
        page.granularity.setCurrentIndex(page.granularity.findData(choice))
    qtbot.waitUntil(lambda: not page.runner.busy, timeout=20000)
    # newest request wins: the year view (2025 total = 12 × 1000 + 100 × (0 + … + 11) = 18,600)
    assert page.chart_data.granularity == "year"
    assert list(page.chart_data.y) == [18600]


def test_grid_lines_sit_on_the_value_ticks_and_follow_the_range(qtbot, app_theme):
    """The chart draws its own horizontal grid (pyqtgraph's cost most of a pan frame): at the axis' ticks."""
    from kpidesk.gui.charts.trend_chart import TrendChart

    chart = TrendChart()
    qtbot.addWidget(chart)
    chart.resize(1000, 400)
    chart.show()
    x = 1.7e9 + np.arange(100, dtype="float64") * 86400.0
    chart.set_series(x, np.linspace(0, 1000, 100), name="Signups")
    chart.grab()
    low, high = chart.view.viewRange()[1]
    ticks = chart.item.getAxis("left").tickValues(low, high, chart.view.height())
    assert chart.grid._major == list(ticks[0][1]) and len(chart.grid._major) >= 3
    assert all(low <= y <= high for y in chart.grid._major)
    chart.view.setYRange(5000, 6000, padding=0)
    assert chart.grid._major and all(5000 <= y <= 6000 for y in chart.grid._major)
    # drawn: a pixel on a grid line differs from the plain background beside it
    image = chart.plot.grab().toImage()
    view_rect = chart.view.sceneBoundingRect()
    y_line = chart.view.mapViewToScene(pg_point(x[50], chart.grid._major[1])).y()
    column = int(view_rect.center().x())
    on = image.pixelColor(column, round(y_line))
    off = image.pixelColor(column, round(y_line) + 6)
    assert on != off


def pg_point(x: float, y: float):
    from PySide6.QtCore import QPointF

    return QPointF(x, y)

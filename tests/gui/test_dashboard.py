"""Dashboard tiles: values, change colours, filters, portfolio view, keyboard, 200 tiles."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from kpidesk.gui import theme
from kpidesk.gui.charts.tiles import Section, TileCanvas
from kpidesk.gui.dashboard_data import TileData, load_dashboard, pct_change, verdict
from kpidesk.gui.tasks import TaskRunner
from kpidesk.gui.views.dashboard_page import DashboardPage


def test_verdict_follows_the_kpi_direction():
    assert verdict(110, 100, "up") == "good"
    assert verdict(110, 100, "down") == "bad"  # churn rising is bad
    assert verdict(90, 100, "down") == "good"
    assert verdict(100, 100, "up") == "neutral"
    assert verdict(5, None, "up") == "none"
    assert verdict(97, 90, "band", (95, 99)) == "good"
    assert verdict(99.5, 98, "band", (95, 99)) == "bad"
    # 100 × (2100 − 2000) / 2000 = 5 %; from a negative base: (−5 − −10) / |−10| = +50 %
    assert pct_change(2100, 2000) == pytest.approx(5.0)
    assert pct_change(-5, -10) == pytest.approx(50.0)
    assert pct_change(1, 0) is None


def test_load_dashboard_reads_latest_previous_and_sparkline(workspace):
    data = load_dashboard(workspace)
    by_id = data.by_kpi()
    revenue = by_id[workspace.ids["revenue"]]
    # revenue = 1000 + 100 × month index: Dec 2025 = 2100, Nov = 2000
    assert revenue.latest == 2100 and revenue.previous == 2000
    assert revenue.latest_period == dt.date(2025, 12, 1)
    assert revenue.pct_change == pytest.approx(5.0)
    assert revenue.verdict == "good"
    assert len(revenue.spark) == 12 and revenue.spark[0] == 1000
    churn = by_id[workspace.ids["churn"]]
    assert churn.verdict == "good"  # falling churn (lower is better)
    assert by_id[workspace.ids["web_revenue"]].verdict == "neutral"
    assert [name for _, name in data.products] == ["Mobile app", "Web shop"]


@pytest.fixture
def page(qtbot, app_theme, workspace):
    runner = TaskRunner()
    p = DashboardPage(workspace, runner)
    qtbot.addWidget(p)
    p.resize(1100, 700)
    p.show()
    p.refresh(None)
    qtbot.waitUntil(lambda: p.canvas.tile_count() == 3, timeout=5000)
    yield p
    runner.wait()


def test_filters_narrow_the_tiles(page, workspace):
    page.select_product(workspace.ids["web"])
    assert [t.kpi_id for t in page.canvas.tiles()] == [workspace.ids["web_revenue"]]
    page.product.setCurrentIndex(0)
    page.category.setCurrentIndex(page.category.findData("customer"))
    assert [t.name for t in page.canvas.tiles()] == ["Customer churn rate"]
    page.category.setCurrentIndex(0)
    page.stage.setCurrentIndex(page.stage.findData("revenue"))
    assert sorted(t.name for t in page.canvas.tiles()) == ["Revenue", "Revenue"]
    assert "2 of 3 KPIs" in page.summary.text()


def test_portfolio_view_puts_the_same_kpi_of_each_product_side_by_side(page):
    page.by_kpi.setChecked(True)
    titles = [s.title for s in page.sections()]
    assert titles[0] == "Revenue — across 2 products"
    assert [t.product for t in page.sections()[0].tiles] == ["Mobile app", "Web shop"]
    assert titles[-1] == "Only in one product"


def test_keyboard_moves_between_tiles_and_enter_opens_one(page, qtbot):
    opened = []
    page.kpi_activated.connect(opened.append)
    page.canvas.setFocus()
    qtbot.keyClick(page.canvas, Qt.Key.Key_End)
    qtbot.keyClick(page.canvas, Qt.Key.Key_Return)
    assert opened == [page.canvas.tiles()[-1].kpi_id]
    qtbot.keyClick(page.canvas, Qt.Key.Key_Home)
    qtbot.keyClick(page.canvas, Qt.Key.Key_Space)
    assert opened[-1] == page.canvas.tiles()[0].kpi_id


def test_a_refresh_about_unrelated_tables_does_not_reload(page):
    from kpidesk.services.changes import Changes

    before = page.runner.running()
    page.refresh(Changes.of("review"))
    assert page.runner.running() == before


def _tile(i: int) -> TileData:
    return TileData(kpi_id=i, product_id=i % 7, product=f"Product {i % 7}", key=f"kpi_{i}", name=f"KPI number {i}",
                    category="customer", stage="retention", unit="percent" if i % 2 else "currency", currency="EUR",
                    direction="up" if i % 3 else "down", frequency="month", latest=100.0 + i, previous=99.0 + i,
                    pct_change=1.0, verdict="good" if i % 3 else "bad",
                    spark=tuple(float((j * 7 + i) % 13) for j in range(24)),
                    status="at_risk" if i % 5 == 0 else "", attention=3 if i % 11 == 0 else 0,
                    attention_reason="behind pace" if i % 11 == 0 else "")


def test_two_hundred_tiles_build_and_repaint(qtbot, app_theme):
    canvas = TileCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(1400, 900)
    canvas.set_sections([Section("Needs attention", [_tile(i) for i in range(0, 200, 11)]),
                         Section("All", [_tile(i) for i in range(200) if i % 11])])
    assert canvas.tile_count() == 200
    # every tile gets its own place: no two rectangles overlap
    rects = [canvas.tile_rect(i) for i in range(200)]
    assert all(not a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:i + 6])
    image = QImage(canvas.width(), canvas.minimumHeight(), QImage.Format.Format_ARGB32)
    image.fill(theme.colors().window)
    canvas.resize(1400, canvas.minimumHeight())
    canvas.render(image)  # paints every tile, not only the visible ones
    last = canvas.tile_rect(199)
    # the last tile's card was painted (its centre is not the background colour)
    assert image.pixelColor(last.left() + 6, last.center().y()) != theme.colors().window

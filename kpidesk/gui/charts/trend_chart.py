"""The KPI trend chart (pyqtgraph): series, targets, pace, forecast, anomalies, notes.

Curves are created once and updated with ``setData``; long series are clipped
to the view and peak-downsampled, so a million points pan smoothly. A right
click offers "Add annotation here…", reset and export; the crosshair shows
date, value, target and change of the nearest period.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyqtgraph as pg
import PySide6.QtCore  # noqa: F401  (pyqtgraph picks the binding already imported)
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QPen
from PySide6.QtWidgets import QMenu, QVBoxLayout, QWidget

from kpidesk.domain.units import format_value
from kpidesk.gui import theme
from kpidesk.gui.kpi_data import ChartData, date_of
from kpidesk.gui.units import unit_symbol

pg.setConfigOptions(antialias=False, useOpenGL=False)
LONG_SERIES = 5000


def axis_label(name: str, unit: str, currency: str = "") -> str:
    """The value axis' title with its unit: "Monthly recurring revenue (€)", "Conversion rate (%)"."""
    symbol = unit_symbol(unit, currency)
    return f"{name} ({symbol})" if symbol else name


def _pen(color: QColor, width: float = 1.5, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = pg.mkPen(color, width=width)
    pen.setStyle(style)
    pen.setCosmetic(True)
    return pen


class ValueAxis(pg.AxisItem):
    """Left/right axis with thousands separators (170,000 rather than 170000)."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        digits = 0 if spacing * scale >= 1 else min(6, max(1, -int(np.floor(np.log10(spacing * scale)))))
        return [f"{v * scale:,.{digits}f}" for v in values]


class HorizontalGrid(pg.GraphicsObject):
    """Grid lines at the value axis' ticks, drawn straight onto the view.

    pyqtgraph draws its grid into the axis' recorded picture and replays it on
    every repaint: ~18 ms a frame while panning a 1,000,000-point chart, most of
    the frame. These few cosmetic lines cost well under a millisecond, and their
    positions are recomputed only when the value range changes.
    """

    def __init__(self, axis: pg.AxisItem, view: pg.ViewBox) -> None:
        super().__init__()
        self._axis, self._view = axis, view
        self._major: list[float] = []
        self._minor: list[float] = []
        self._color = QColor(0, 0, 0)
        self.setZValue(-100)  # under every curve
        view.sigRangeChanged.connect(self._range_changed)
        view.sigResized.connect(self._range_changed)  # a taller view fits more ticks

    def set_color(self, color: QColor) -> None:
        self._color = QColor(color)
        self.update()

    def _range_changed(self, *_: object) -> None:
        self.prepareGeometryChange()  # the bounding rectangle is the visible rectangle
        low, high = self._view.viewRange()[1]
        height = max(1.0, float(self._view.height()))
        levels = self._axis.tickValues(low, high, height) if high > low else []
        self._major = list(levels[0][1]) if levels else []
        self._minor = list(levels[1][1]) if len(levels) > 1 else []

    def boundingRect(self):  # type: ignore[no-untyped-def]
        return self._view.viewRect()

    def paint(self, painter, *args) -> None:  # type: ignore[no-untyped-def]
        rect = self._view.viewRect()
        for values, alpha in ((self._minor, 18), (self._major, 42)):
            color = QColor(self._color)
            color.setAlpha(alpha)
            pen = QPen(color, 0)  # cosmetic: one device pixel whatever the zoom
            painter.setPen(pen)
            for y in values:
                painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))


class TrendChart(QWidget):
    """A PlotWidget with every overlay of the KPI detail page."""

    annotation_requested = Signal(float)  # x (seconds) where the user right-clicked
    export_requested = Signal(str)  # "png" or "svg"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trendChart")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom", utcOffset=0),
                                                "left": ValueAxis(orientation="left"),
                                                "right": ValueAxis(orientation="right")})
        self.plot.setMinimumHeight(220)
        self.plot.setToolTip(
            self.tr("Drag to pan, wheel to zoom, right-click for more (annotate, reset, export).")
        )
        layout.addWidget(self.plot)
        self.item = self.plot.getPlotItem()
        self.item.setMenuEnabled(False)
        self.item.hideAxis("right")  # shown only when a second KPI is compared
        self.item.hideButtons()
        # horizontal grid only, and not pyqtgraph's (see HorizontalGrid): vertical lines would
        # move on every pan step
        self.item.setClipToView(True)
        self.item.setDownsampling(auto=True, mode="peak")
        self.view = self.item.getViewBox()
        self.grid = HorizontalGrid(self.item.getAxis("left"), self.view)
        self.view.addItem(self.grid, ignoreBounds=True)
        self.legend = self.item.addLegend(offset=(10, 6), labelTextSize="8pt", colCount=3)
        self._data: ChartData | None = None
        self._annotation_lines: list[pg.InfiniteLine] = []
        self._build_items()
        self._second_view: pg.ViewBox | None = None
        self._second_curve: pg.PlotDataItem | None = None
        self._second_name = ""
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self._proxy = pg.SignalProxy(self.plot.scene().sigMouseMoved, rateLimit=60, slot=self._moved)
        self.apply_theme()

    def _build_items(self) -> None:
        self._band_low = pg.PlotDataItem()
        self._band_high = pg.PlotDataItem()
        self.band = pg.FillBetweenItem(self._band_low, self._band_high)
        self.view.addItem(self.band)
        self.series = self.item.plot(name=self.tr("Value"))
        self.series.setClipToView(True)
        self.series.setDownsampling(auto=True, method="peak")
        self.rolling = self.item.plot(name=self.tr("Rolling mean"))
        self.targets = self.item.plot(name=self.tr("Target"), stepMode="left")
        self.pace = self.item.plot(name=self.tr("Goal pace"))
        self.forecast = self.item.plot(name=self.tr("Forecast"))
        self.anomalies = pg.ScatterPlotItem(size=10, name=self.tr("Anomaly"))
        self.item.addItem(self.anomalies)
        self._legend_entries = [
            (self.series, self.tr("Value")),
            (self.rolling, self.tr("Rolling mean")),
            (self.targets, self.tr("Target")),
            (self.pace, self.tr("Goal pace")),
            (self.forecast, self.tr("Forecast")),
            (self.anomalies, self.tr("Anomaly")),
        ]
        self.cross = pg.InfiniteLine(angle=90, movable=False)
        self.cross.setZValue(50)
        self.cross_label = pg.TextItem(anchor=(0, 1))
        self.cross_label.setZValue(60)
        self.view.addItem(self.cross, ignoreBounds=True)
        self.view.addItem(self.cross_label, ignoreBounds=True)
        self.cross.hide()
        self.cross_label.hide()

    def apply_theme(self) -> None:
        c = theme.colors()
        self.plot.setBackground(c.base)
        self.grid.set_color(c.text)
        for axis in ("left", "bottom", "right"):
            ax = self.item.getAxis(axis)
            ax.setPen(pg.mkPen(c.muted))
            ax.setTextPen(pg.mkPen(c.text))
        self.series.setPen(_pen(c.series, 2.0))
        self.rolling.setPen(_pen(c.muted, 1.4, Qt.PenStyle.DotLine))
        self.targets.setPen(_pen(c.target, 1.6, Qt.PenStyle.DashLine))
        self.pace.setPen(_pen(c.good, 1.4, Qt.PenStyle.DashDotLine))
        self.forecast.setPen(_pen(c.forecast, 1.8, Qt.PenStyle.DashLine))
        band = QColor(c.forecast)
        band.setAlpha(50)
        self.band.setBrush(band)
        self.anomalies.setPen(pg.mkPen(c.bad, width=2))
        self.anomalies.setBrush(pg.mkBrush(None))
        self.cross.setPen(_pen(c.muted, 1.0, Qt.PenStyle.DotLine))
        self.cross_label.setColor(c.text)
        self.cross_label.fill = pg.mkBrush(c.card)
        if self._second_curve is not None:
            self._second_curve.setPen(_pen(c.compare, 1.6))
        for label in self.legend.items:
            label[1].setAttr("color", c.text)
            label[1].setText(label[1].text)
        if self._data is not None:
            self._draw_annotations(self._data)

    # -- data -------------------------------------------------------------------
    def set_data(
        self,
        data: ChartData,
        *,
        show_rolling: bool = True,
        show_forecast: bool = True,
        reset_view: bool = True,
    ) -> None:
        self._data = data
        # a 2-px line goes through Qt's stroker: fine for months, ~30 ms a frame for a million points
        self.series.setPen(_pen(theme.colors().series, 2.0 if len(data.x) < LONG_SERIES else 1.0))
        self.series.setData(data.x, data.y, connect="finite")
        if show_rolling and data.rolling is not None:
            self.rolling.setData(data.x, data.rolling, connect="finite")
        else:
            self.rolling.setData([], [])
        if len(data.target_x):
            # extend the last target one period so the step is visible
            end = (
                data.x[-1]
                if len(data.x) and data.x[-1] > data.target_x[-1]
                else data.target_x[-1] + 86400 * 30
            )
            self.targets.setData(np.append(data.target_x, end), data.target_y, stepMode="left")
        else:
            self.targets.setData([], [])
        if data.pace is not None:
            x0, y0, x1, y1 = data.pace
            self.pace.setData([x0, x1], [y0, y1])
        else:
            self.pace.setData([], [])
        if show_forecast and data.forecast_x is not None and len(data.forecast_x) and len(data.x):
            fx = np.concatenate([[data.x[-1]], data.forecast_x])
            self.forecast.setData(fx, np.concatenate([[data.y[-1]], data.forecast_mean]))
            self._band_low.setData(fx, np.concatenate([[data.y[-1]], data.forecast_low]))
            self._band_high.setData(fx, np.concatenate([[data.y[-1]], data.forecast_high]))
            self.band.setCurves(self._band_low, self._band_high)
            self.band.show()
        else:
            self.forecast.setData([], [])
            self.band.hide()
        self.anomalies.setData(data.anomaly_x, data.anomaly_y)
        self._draw_annotations(data)
        self._sync_legend()
        self.item.setLabel("left", axis_label(data.name, data.unit, data.currency))
        if reset_view:
            self.reset_view()

    def set_series(self, x: np.ndarray, y: np.ndarray, name: str = "", unit: str = "count") -> None:
        """Only the series (benchmarks, tests with synthetic data)."""
        self.set_data(
            ChartData(
                0,
                name,
                unit,
                "",
                "up",
                "day",
                x=np.asarray(x, dtype="float64"),
                y=np.asarray(y, dtype="float64"),
            )
        )

    def _sync_legend(self) -> None:
        """List only what is drawn: an empty 'Target' entry would suggest a target exists."""
        self.legend.clear()
        c = theme.colors()
        for item, label in self._legend_entries:
            has_data = (
                len(item.data) > 0
                if isinstance(item, pg.ScatterPlotItem)
                else item.xData is not None and len(item.xData) > 0
            )
            if has_data:
                self.legend.addItem(item, label)
        second = self._second_curve
        if second is not None and second.xData is not None and len(second.xData):
            self.legend.addItem(second, self._second_name)  # which line is the compared KPI
        for _, text in self.legend.items:
            text.setAttr("color", c.text)
            text.setText(text.text)

    def legend_labels(self) -> list[str]:
        return [text.text for _, text in self.legend.items]

    def _draw_annotations(self, data: ChartData) -> None:
        for line in self._annotation_lines:
            self.view.removeItem(line)
        self._annotation_lines = []
        c = theme.colors()
        for x, text, _ in data.annotations:
            line = pg.InfiniteLine(
                pos=x,
                angle=90,
                movable=False,
                pen=_pen(c.warn, 1.2, Qt.PenStyle.DashLine),
                label=text if len(text) <= 28 else text[:27] + "…",
                labelOpts={
                    "position": 0.78,
                    "color": c.text,
                    "fill": pg.mkBrush(c.card),
                    "movable": False,
                    "anchors": [(0, 0), (0, 0)],
                },
            )
            line.setToolTip(f"{date_of(x).isoformat()}: {text}")
            self.view.addItem(line, ignoreBounds=True)
            self._annotation_lines.append(line)

    def annotation_lines(self) -> list[pg.InfiniteLine]:
        return list(self._annotation_lines)

    def reset_view(self) -> None:
        self.item.enableAutoRange()
        self.item.autoRange()

    # -- second KPI on a second axis ------------------------------------------------
    def set_compare(self, x: np.ndarray | None, y: np.ndarray | None, name: str = "",
                    unit: str = "", currency: str = "") -> None:
        if x is None or y is None:
            if self._second_view is not None:
                self.item.hideAxis("right")
                self._second_curve.setData([], [])  # type: ignore[union-attr]
                self._sync_legend()
            return
        c = theme.colors()
        if self._second_view is None:
            self._second_view = pg.ViewBox()
            self.item.showAxis("right")
            self.item.scene().addItem(self._second_view)
            self.item.getAxis("right").linkToView(self._second_view)
            self._second_view.setXLink(self.item)
            # not the annotations' or the forecast's colour: the line must not read as one of them
            self._second_curve = pg.PlotDataItem(pen=_pen(c.compare, 1.6))
            self._second_view.addItem(self._second_curve)
            self.view.sigResized.connect(self._sync_second)
            self._sync_second()
        self.item.showAxis("right")
        self.item.getAxis("right").setLabel(axis_label(name, unit, currency))
        self._second_name = name
        self._second_curve.setData(x, y)  # type: ignore[union-attr]
        self._sync_legend()
        self._second_view.enableAutoRange(axis=pg.ViewBox.YAxis)

    def _sync_second(self) -> None:
        if self._second_view is not None:
            self._second_view.setGeometry(self.view.sceneBoundingRect())
            self._second_view.linkedViewChanged(self.view, self._second_view.XAxis)

    # -- interaction ----------------------------------------------------------------
    def _moved(self, event: tuple[QPointF]) -> None:
        pos = event[0]
        data = self._data
        if data is None or not len(data.x) or not self.view.sceneBoundingRect().contains(pos):
            self.cross.hide()
            self.cross_label.hide()
            return
        point = self.view.mapSceneToView(pos)
        self.show_crosshair_at(point.x())

    def show_crosshair_at(self, x: float) -> str:
        """Move the crosshair to the period nearest ``x``; returns the label text."""
        data = self._data
        if data is None or not len(data.x):
            return ""
        i = int(np.clip(np.searchsorted(data.x, x), 0, len(data.x) - 1))
        if i > 0 and abs(data.x[i - 1] - x) < abs(data.x[i] - x):
            i -= 1
        xi, yi = float(data.x[i]), float(data.y[i])
        lines = [f"{date_of(xi).isoformat()}", f"{format_value(yi, data.unit, data.currency)}"]
        target = data.target_at(xi)
        if target is not None:
            lines.append(self.tr("target {t}").format(t=format_value(target, data.unit, data.currency)))
        if i > 0 and data.y[i - 1] != 0:
            lines.append(f"{100 * (yi - data.y[i - 1]) / abs(data.y[i - 1]):+.1f} %")
        text = "  ·  ".join(lines)
        self.cross.setPos(xi)
        self.cross_label.setText(text)
        self.cross_label.setPos(xi, yi)
        self.cross.show()
        self.cross_label.show()
        return text

    def _clicked(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.button() != Qt.MouseButton.RightButton:
            return
        x = self.view.mapSceneToView(event.scenePos()).x()
        menu = self.context_menu(x)
        menu.popup(event.screenPos().toPoint())

    def context_menu(self, x: float) -> QMenu:
        menu = QMenu(self)
        when = date_of(x).isoformat() if np.isfinite(x) and -1e11 < x < 1e11 else ""
        add = QAction(self.tr("Add annotation on {d}…").format(d=when), menu)
        add.setToolTip(self.tr("Attach a dated note to this KPI"))
        add.triggered.connect(lambda: self.annotation_requested.emit(x))
        menu.addAction(add)
        menu.addSeparator()
        reset = QAction(self.tr("Reset zoom"), menu)
        reset.triggered.connect(self.reset_view)
        menu.addAction(reset)
        for kind in ("png", "svg"):
            action = QAction(self.tr("Export as {k}…").format(k=kind.upper()), menu)
            action.triggered.connect(lambda _=False, k=kind: self.export_requested.emit(k))
            menu.addAction(action)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        return menu

    def export(self, path: str) -> None:
        """Write the chart to ``path`` (.png or .svg)."""
        from pyqtgraph import exporters

        if path.lower().endswith(".svg"):
            # QSvgGenerator renders the view as vectors (pyqtgraph's SVG exporter trips on Qt 6.11 paths)
            from PySide6.QtCore import QRect, QSize
            from PySide6.QtGui import QPainter
            from PySide6.QtSvg import QSvgGenerator

            size = self.plot.size()
            generator = QSvgGenerator()
            generator.setFileName(path)
            generator.setSize(QSize(size.width(), size.height()))
            generator.setViewBox(QRect(0, 0, size.width(), size.height()))
            generator.setTitle(self.item.getAxis("left").labelText or "kpidesk chart")
            painter = QPainter(generator)
            self.plot.render(painter)
            painter.end()
        else:
            exporter = exporters.ImageExporter(self.item)
            exporter.parameters()["width"] = max(1200, int(self.item.width()))
            exporter.export(path)


def today_seconds() -> float:
    return float(dt.datetime.combine(dt.date.today(), dt.time(), dt.UTC).timestamp())

"""One KPI's chart for the PDF, drawn with QPainter (vector output).

It shows what the KPI page shows: the values (line with dots), the targets as
a step line, each goal's pace line (baseline to target at the due date) or
threshold, the goal forecast as a band widening from the last value to the
80 % interval at the due period, the annotations as dotted vertical lines
(numbered; the numbers are explained under the chart), and the review period
and its comparison period as shaded backgrounds.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF

from kpidesk.io.review_xlsx import format_value

BLUE = QColor("#2f5597")
RED = QColor("#c00000")
GREEN = QColor("#2e7d32")
ORANGE = QColor(230, 140, 20)
GREY = QColor("#666666")
GRID = QColor("#dddddd")
PERIOD = QColor(47, 85, 151, 28)
COMPARE = QColor(120, 120, 120, 22)


@dataclass
class PaceLine:
    """A goal drawn on the chart: a line from (start, start_value) to (end, end_value)."""

    start: dt.date
    start_value: float
    end: dt.date
    end_value: float
    label: str


@dataclass
class ForecastBand:
    start: dt.date
    start_value: float
    due: dt.date
    value: float
    low: float
    high: float


@dataclass
class ChartSpec:
    title: str
    unit: str
    currency: str
    series: list[tuple[dt.date, float]]
    targets: list[tuple[dt.date, float]]  # step starts, sorted
    period: tuple[dt.date, dt.date]
    compare: tuple[dt.date, dt.date]
    paces: list[PaceLine] = field(default_factory=list)
    forecasts: list[ForecastBand] = field(default_factory=list)
    annotations: list[tuple[dt.date, str]] = field(default_factory=list)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]: steps of 1, 2, 2.5 or 5 times a power of ten.

    (1.52, 2.78): raw step 1.26 / 4 = 0.315 -> 0.5; ticks 1.5, 2.0, 2.5, 3.0.
    """
    if not math.isfinite(low) or not math.isfinite(high):
        return []
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    # outward: the first tick at or below ``low``, the last at or above ``high`` (the axis widens to them)
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    return [round(first + n * step, 12) for n in range(round((last - first) / step) + 1)]


def draw_chart(painter: QPainter, rect: QRectF, spec: ChartSpec) -> None:
    """Draw ``spec`` inside ``rect`` (units: points)."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    small = QFont(painter.font())
    small.setPointSizeF(6.5)
    painter.setFont(small)
    plot = QRectF(rect.left() + 52, rect.top() + 16, rect.width() - 60, rect.height() - 34)
    if not spec.series:
        painter.setPen(GREY)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "No values recorded up to the end of the period.")
        painter.restore()
        return
    x_first = max(spec.series[0][0], _years_before(spec.period[1], 3))
    x_last = spec.period[1]
    for band in spec.forecasts:
        x_last = max(x_last, min(band.due, _years_before(spec.period[1], -1)))
    ys = [v for d, v in spec.series if d >= x_first]
    ys += [v for d, v in spec.targets if x_first <= d <= x_last]
    if spec.targets:
        in_force = [v for d, v in spec.targets if d <= x_first]
        ys += in_force[-1:]
    for pace in spec.paces:
        ys += [pace.start_value, pace.end_value]
    for band in spec.forecasts:
        ys += [band.low, band.high]
    ys = [y for y in ys if math.isfinite(y)]
    low, high = min(ys), max(ys)
    pad = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
    low, high = low - pad, high + pad
    ticks = nice_ticks(low, high)
    if ticks:
        low, high = min(low, ticks[0]), max(high, ticks[-1])
    span_days = max((x_last - x_first).days, 1)

    def px(day: dt.date) -> float:
        return plot.left() + (day - x_first).days / span_days * plot.width()

    def py(value: float) -> float:
        return plot.bottom() - (value - low) / (high - low) * plot.height()

    def clamp_x(day: dt.date) -> float:
        return min(max(px(day), plot.left()), plot.right())

    # shaded periods first, everything else on top
    for (start, end), color in ((spec.compare, COMPARE), (spec.period, PERIOD)):
        left, right = clamp_x(start), clamp_x(end)
        if right > left:
            painter.fillRect(QRectF(left, plot.top(), right - left, plot.height()), color)
    # grid and y axis
    painter.setPen(QPen(GRID, 0.5))
    for tick in ticks:
        y = py(tick)
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        painter.setPen(GREY)
        painter.drawText(QRectF(rect.left(), y - 6, 48, 12), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         format_value(tick, spec.unit, spec.currency))
        painter.setPen(QPen(GRID, 0.5))
    # x axis: a label per year, or per quarter when the span is short
    painter.setPen(QPen(GREY, 0.6))
    painter.drawLine(plot.bottomLeft(), plot.bottomRight())
    step_months = 12 if span_days > 720 else 3 if span_days > 200 else 1
    day = dt.date(x_first.year, 1, 1)
    while day <= x_last:
        if day >= x_first:
            x = px(day)
            painter.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() + 3))
            label = str(day.year) if step_months == 12 else f"{day:%b %y}"
            painter.drawText(QRectF(x - 25, plot.bottom() + 3, 50, 11), Qt.AlignmentFlag.AlignHCenter, label)
        month = day.month - 1 + step_months
        day = dt.date(day.year + month // 12, month % 12 + 1, 1)
    painter.setClipRect(plot.adjusted(-3, -3, 3, 3))
    # targets: a step line
    if spec.targets:
        pen = QPen(RED, 1.1, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        path = QPainterPath()
        steps = [(d, v) for d, v in spec.targets if d <= x_last]
        for n, (start, value) in enumerate(steps):
            end = steps[n + 1][0] if n + 1 < len(steps) else x_last
            y = py(value)
            if n == 0:
                path.moveTo(px(start), y)
            else:
                path.lineTo(px(start), y)
            path.lineTo(px(end), y)
        painter.drawPath(path)
    # forecast band and its centre line
    for band in spec.forecasts:
        polygon = QPolygonF([QPointF(px(band.start), py(band.start_value)), QPointF(px(band.due), py(band.high)),
                             QPointF(px(band.due), py(band.low))])
        fill = QColor(ORANGE)
        fill.setAlpha(60)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(fill))
        painter.drawPolygon(polygon)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(ORANGE, 1.0, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(px(band.start), py(band.start_value)), QPointF(px(band.due), py(band.value)))
    # goal pace lines
    for pace in spec.paces:
        painter.setPen(QPen(GREEN, 1.2, Qt.PenStyle.DashDotLine))
        painter.drawLine(QPointF(px(pace.start), py(pace.start_value)), QPointF(px(pace.end), py(pace.end_value)))
    # the values
    points = [QPointF(px(d), py(v)) for d, v in spec.series if d >= x_first and math.isfinite(v)]
    painter.setPen(QPen(BLUE, 1.6))
    if len(points) > 1:
        painter.drawPolyline(QPolygonF(points))
    painter.setBrush(QBrush(BLUE))
    radius = 1.8 if len(points) < 60 else 0.9
    for point in points:
        painter.drawEllipse(point, radius, radius)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    # annotations: numbered dotted lines
    painter.setPen(QPen(GREY, 0.7, Qt.PenStyle.DotLine))
    for n, (day, _) in enumerate(spec.annotations, start=1):
        if x_first <= day <= x_last:
            x = px(day)
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
            painter.drawText(QRectF(x + 1, plot.top(), 16, 10), Qt.AlignmentFlag.AlignLeft, str(n))
    painter.setClipping(False)
    # legend above the plot
    x = plot.left()
    for label, color, style, show in (("value", BLUE, Qt.PenStyle.SolidLine, True),
                                      ("target", RED, Qt.PenStyle.DashLine, bool(spec.targets)),
                                      ("goal pace", GREEN, Qt.PenStyle.DashDotLine, bool(spec.paces)),
                                      ("forecast (80 %)", ORANGE, Qt.PenStyle.DashLine, bool(spec.forecasts))):
        if not show:
            continue
        painter.setPen(QPen(color, 1.4, style))
        painter.drawLine(QPointF(x, rect.top() + 7), QPointF(x + 14, rect.top() + 7))
        painter.setPen(GREY)
        painter.drawText(QRectF(x + 17, rect.top(), 80, 12), Qt.AlignmentFlag.AlignVCenter, label)
        x += 22 + painter.fontMetrics().horizontalAdvance(label) + 10
    painter.fillRect(QRectF(x, rect.top() + 3, 12, 8), PERIOD)
    painter.setPen(GREY)
    painter.drawText(QRectF(x + 15, rect.top(), 90, 12), Qt.AlignmentFlag.AlignVCenter, "review period")
    painter.restore()


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)

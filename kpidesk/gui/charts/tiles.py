"""Dashboard tiles and sparklines, painted with QPainter on one canvas.

A tile per widget (or, worse, a PlotWidget per tile) costs ~80× more to build
than painting rectangles; the canvas lays tiles out in a grid of sections,
paints only the tiles inside the exposed rectangle, and handles mouse,
keyboard (arrows, Home/End, Enter) and tooltips itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from kpidesk.domain.units import format_value
from kpidesk.gui import theme
from kpidesk.gui.dashboard_data import TileData

TILE_W, TILE_H, GAP, MARGIN, HEADER_H = 244, 136, 12, 16, 34
STATUS_WORDS = {
    "on_track": "On track", "at_risk": "At risk", "off_track": "Off track", "achieved": "Achieved",
    "missed": "Missed", "behind": "Behind", "overdue": "Overdue", "green": "Green", "amber": "Amber", "red": "Red", "no_data": "No data",
}


@dataclass(frozen=True)
class Section:
    title: str
    tiles: Sequence[TileData]


def paint_sparkline(painter: QPainter, rect: QRectF, values: Sequence[float], color: QColor,
                    marker: QColor | None = None) -> None:
    """A polyline through ``values`` scaled into ``rect``; the last point gets a dot."""
    n = len(values)
    if n < 2:
        return
    low, high = min(values), max(values)
    span = high - low or 1.0
    step = rect.width() / (n - 1)
    bottom, height = rect.bottom(), rect.height()
    points = [QPointF(rect.left() + i * step, bottom - (v - low) / span * height) for i, v in enumerate(values)]
    fill = QPainterPath(QPointF(points[0].x(), bottom))
    for p in points:
        fill.lineTo(p)
    fill.lineTo(QPointF(points[-1].x(), bottom))
    fill.closeSubpath()
    shade = QColor(color)
    shade.setAlpha(38)
    # the fill's edge is under the line: antialiasing it costs ~1 ms a tile for nothing
    hints = painter.renderHints()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    painter.fillPath(fill, shade)
    painter.setRenderHints(hints)
    painter.setPen(QPen(color, 1.6))
    painter.drawPolyline(QPolygonF(points))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(marker or color)
    painter.drawEllipse(points[-1], 2.8, 2.8)


class TileCanvas(QWidget):
    """All tiles of the dashboard; emits :attr:`activated` with a KPI id."""

    activated = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tileCanvas")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setAccessibleName(self.tr("KPI tiles"))
        self._sections: list[Section] = []
        self._rects: list[tuple[QRect, TileData]] = []
        self._headers: list[tuple[QRect, str]] = []
        self._hover = -1
        self._focus = 0
        self._laid_for = -1
        self._spark_cache: dict[tuple, QPixmap] = {}
        base = QFont(self.font())
        self._f_small = QFont(base)
        self._f_small.setPointSizeF(max(7.5, base.pointSizeF() * 0.85))
        self._f_name = QFont(base)
        self._f_name.setBold(True)
        self._f_value = QFont(base)
        self._f_value.setPointSizeF(base.pointSizeF() * 1.75)
        self._f_value.setBold(True)
        self._f_header = QFont(base)
        self._f_header.setPointSizeF(base.pointSizeF() * 1.1)
        self._f_header.setBold(True)

    # -- data --------------------------------------------------------------
    def set_sections(self, sections: Sequence[Section]) -> None:
        self._sections = list(sections)
        self._hover = -1
        self._focus = min(self._focus, max(0, self.tile_count() - 1))
        self._laid_for = -1
        self._layout(self.width())
        self.update()

    def tile_count(self) -> int:
        return sum(len(s.tiles) for s in self._sections)

    def tiles(self) -> list[TileData]:
        return [t for _, t in self._rects]

    def tile_rect(self, index: int) -> QRect:
        return self._rects[index][0]

    # -- layout ------------------------------------------------------------
    def _columns(self, width: int) -> int:
        return max(1, (width - 2 * MARGIN + GAP) // (TILE_W + GAP))

    def _layout(self, width: int) -> None:
        if width == self._laid_for:
            return
        self._laid_for = width
        cols = self._columns(width)
        tile_w = TILE_W if cols > 1 else max(180, width - 2 * MARGIN)
        # stretch tiles a little to fill the row, so the right edge lines up
        if cols > 1:
            tile_w = min(int(TILE_W * 1.35), (width - 2 * MARGIN - (cols - 1) * GAP) // cols)
        y = MARGIN
        self._rects, self._headers = [], []
        for section in self._sections:
            if section.title:
                self._headers.append((QRect(MARGIN, y, width - 2 * MARGIN, HEADER_H - 8), section.title))
                y += HEADER_H
            for i, tile in enumerate(section.tiles):
                row, col = divmod(i, cols)
                self._rects.append((QRect(MARGIN + col * (tile_w + GAP), y + row * (TILE_H + GAP),
                                          tile_w, TILE_H), tile))
            rows = (len(section.tiles) + cols - 1) // cols
            y += rows * (TILE_H + GAP) + (8 if section.title else 0)
        self._height = y + MARGIN - GAP
        self.setMinimumHeight(self._height)

    def sizeHint(self) -> QSize:
        return QSize(3 * (TILE_W + GAP) + 2 * MARGIN, getattr(self, "_height", TILE_H + 2 * MARGIN))

    def hasHeightForWidth(self) -> bool:
        return True

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self._layout(event.size().width())
        super().resizeEvent(event)

    def index_at(self, pos: QPointF) -> int:
        point = pos.toPoint()
        for i, (rect, _) in enumerate(self._rects):
            if rect.contains(point):
                return i
        return -1

    # -- painting ------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        self._layout(self.width())
        c = theme.colors()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        exposed = event.rect()
        painter.setFont(self._f_header)
        painter.setPen(c.text)
        for rect, title in self._headers:
            if rect.intersects(exposed):
                painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, title)
        for i, (rect, tile) in enumerate(self._rects):
            if rect.intersects(exposed):
                self._paint_tile(painter, rect, tile, i, c)
        if not self._rects:
            painter.setPen(c.muted)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             self.tr("No KPI matches these filters."))
        painter.end()

    def _paint_tile(self, painter: QPainter, rect: QRect, tile: TileData, index: int, c: theme.Colors) -> None:
        r = QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5)
        border = c.accent if (index == self._focus and self.hasFocus()) or index == self._hover else c.card_border
        painter.setPen(QPen(border, 1.5 if border is c.accent else 1.0))
        painter.setBrush(c.card)
        painter.drawRoundedRect(r, 8, 8)
        if tile.attention:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(c.bad if tile.attention >= 3 else c.warn)
            painter.drawRoundedRect(QRectF(r.left(), r.top() + 10, 3.5, r.height() - 20), 1.5, 1.5)
        pad = 12
        inner = rect.adjusted(pad, 10, -pad, -10)
        # status dot, top right
        dot = theme.status_color(tile.dot)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(dot)
        painter.drawEllipse(QRectF(inner.right() - 9, inner.top() + 3, 9, 9))
        # product (small, muted) and name (bold), elided so nothing is clipped
        painter.setFont(self._f_small)
        fm = QFontMetrics(self._f_small)
        painter.setPen(c.muted)
        painter.drawText(QRect(inner.left(), inner.top(), inner.width() - 16, fm.height()),
                         Qt.AlignmentFlag.AlignLeft, fm.elidedText(tile.product, Qt.TextElideMode.ElideRight,
                                                                  inner.width() - 16))
        y = inner.top() + fm.height() + 1
        painter.setFont(self._f_name)
        fn = QFontMetrics(self._f_name)
        painter.setPen(c.text)
        painter.drawText(QRect(inner.left(), y, inner.width(), fn.height()), Qt.AlignmentFlag.AlignLeft,
                         fn.elidedText(tile.name, Qt.TextElideMode.ElideRight, inner.width()))
        y += fn.height() + 2
        # value
        painter.setFont(self._f_value)
        fv = QFontMetrics(self._f_value)
        value_text = format_value(tile.latest, tile.unit, tile.currency)
        value_w = min(fv.horizontalAdvance(value_text), inner.width() // 2 + 20)
        painter.drawText(QRect(inner.left(), y, value_w + 4, fv.height()), Qt.AlignmentFlag.AlignLeft,
                         fv.elidedText(value_text, Qt.TextElideMode.ElideRight, value_w + 4))
        # change vs previous: arrow coloured by whether the move is good for this KPI
        painter.setFont(self._f_small)
        if tile.pct_change is not None or tile.verdict in ("good", "bad"):
            arrow = "▲" if (tile.latest or 0) > (tile.previous or 0) else ("▼" if (tile.latest or 0) < (tile.previous or 0) else "■")
            pct = f"{tile.pct_change:+.1f} %" if tile.pct_change is not None else ""
            painter.setPen(theme.status_color(tile.verdict))
            change_rect = QRect(inner.left() + value_w + 10, y + fv.ascent() - fm.ascent(),
                                inner.width() - value_w - 10, fm.height())
            painter.drawText(change_rect, Qt.AlignmentFlag.AlignLeft,
                             fm.elidedText(f"{arrow} {pct}".strip(), Qt.TextElideMode.ElideRight, change_rect.width()))
        y += fv.height() + 2
        # status line (goal status or attention reason)
        status = STATUS_WORDS.get(tile.status, "")
        line = tile.attention_reason or tile.status_text or status
        bottom_text_h = fm.height() if line else 0
        spark = QRectF(inner.left(), y + 2, inner.width(), inner.bottom() - y - 4 - bottom_text_h)
        if spark.height() > 8 and len(tile.spark) > 1:
            painter.drawPixmap(spark.topLeft(), self._sparkline_pixmap(tile, spark.size().toSize(), c))
        if line:
            painter.setPen(theme.status_color(tile.status) if tile.status else c.muted)
            painter.drawText(QRect(inner.left(), inner.bottom() - fm.height(), inner.width(), fm.height()),
                             Qt.AlignmentFlag.AlignLeft,
                             fm.elidedText(line, Qt.TextElideMode.ElideRight, inner.width()))

    def _sparkline_pixmap(self, tile: TileData, size: QSize, c: theme.Colors) -> QPixmap:
        """The tile's sparkline, painted once per data, size and palette (hover and scroll reuse it)."""
        key = (tile.kpi_id, tile.spark, size.width(), size.height(), c.dark, tile.verdict)
        pix = self._spark_cache.get(key)
        if pix is None:
            ratio = self.devicePixelRatioF()
            pix = QPixmap(int(size.width() * ratio), int(size.height() * ratio))
            pix.setDevicePixelRatio(ratio)
            pix.fill(Qt.GlobalColor.transparent)
            p = QPainter(pix)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            paint_sparkline(p, QRectF(2, 3, size.width() - 5, size.height() - 6), tile.spark, c.series,
                            theme.status_color(tile.verdict))
            p.end()
            if len(self._spark_cache) > 2000:
                self._spark_cache.clear()
            self._spark_cache[key] = pix
        return pix

    # -- interaction -----------------------------------------------------------
    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        index = self.index_at(event.position())
        if index != self._hover:
            old, self._hover = self._hover, index
            for i in (old, index):
                if 0 <= i < len(self._rects):
                    self.update(self._rects[i][0].adjusted(-2, -2, 2, 2))
            self.setCursor(Qt.CursorShape.PointingHandCursor if index >= 0 else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        if self._hover >= 0:
            self._hover = -1
            self.update()
        super().leaveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        index = self.index_at(event.position())
        if index >= 0 and event.button() == Qt.MouseButton.LeftButton:
            self._focus = index
            self.update()
            self.activated.emit(self._rects[index][1].kpi_id)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        n = len(self._rects)
        if not n:
            super().keyPressEvent(event)
            return
        cols = self._columns(self.width())
        moves = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -cols, Qt.Key.Key_Down: cols}
        key = Qt.Key(event.key())
        if key in moves:
            self._focus = max(0, min(n - 1, self._focus + moves[key]))
        elif key == Qt.Key.Key_Home:
            self._focus = 0
        elif key == Qt.Key.Key_End:
            self._focus = n - 1
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.activated.emit(self._rects[self._focus][1].kpi_id)
            return
        else:
            super().keyPressEvent(event)
            return
        self.update()
        self._ensure_visible(self._focus)

    def _ensure_visible(self, index: int) -> None:
        parent = self.parentWidget()
        scroll = parent.parentWidget() if parent is not None else None
        if scroll is not None and hasattr(scroll, "ensureVisible"):
            rect = self._rects[index][0]
            scroll.ensureVisible(rect.center().x(), rect.center().y(), rect.width() // 2 + 8,
                                 rect.height() // 2 + 8)

    def focusInEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.update()
        super().focusOutEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            help_event = QHelpEvent(event)  # type: ignore[call-overload]
            index = self.index_at(QPointF(help_event.pos()))
            if index >= 0:
                QToolTip.showText(help_event.globalPos(), self.tooltip_for(self._rects[index][1]), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def tooltip_for(self, tile: TileData) -> str:
        when = tile.latest_period.isoformat() if tile.latest_period else self.tr("no values yet")
        lines = [f"<b>{tile.product} · {tile.name}</b>",
                 self.tr("Latest: {v} ({when})").format(v=format_value(tile.latest, tile.unit, tile.currency),
                                                        when=when)]
        if tile.previous is not None:
            lines.append(self.tr("Previous: {v}").format(v=format_value(tile.previous, tile.unit, tile.currency)))
        if tile.attention_reason:
            lines.append(tile.attention_reason)
        lines.append(self.tr("Click or press Enter to open the KPI."))
        return "<br>".join(lines)

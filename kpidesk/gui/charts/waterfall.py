"""The "Why did it move?" waterfall: base → one bar per driver → current.

Bars float: each driver starts where the previous one ended, green when it
pushed the KPI in its good direction and red otherwise. Clicking a bar emits
its index so the page can filter the trend chart to that driver's segment.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
import PySide6.QtCore  # noqa: F401
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kpidesk.gui import theme


class WaterfallChart(QWidget):
    bar_clicked = Signal(int)  # index into the drivers given to set_bars

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        from kpidesk.gui.charts.trend_chart import ValueAxis

        self.plot = pg.PlotWidget(axisItems={"left": ValueAxis(orientation="left")})
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMinimumHeight(160)
        layout.addWidget(self.plot)
        self._bars: pg.BarGraphItem | None = None
        self._labels: list[str] = []
        self.plot.scene().sigMouseClicked.connect(self._clicked)

    def set_bars(self, base: float, contributions: Sequence[float], labels: Sequence[str], current: float,
                 *, up_is_good: bool = True, base_label: str = "before", current_label: str = "now") -> None:
        c = theme.colors()
        self.plot.setBackground(c.base)
        self.plot.clear()
        n = len(contributions)
        starts, heights, brushes = [0.0], [base], [c.neutral]
        level = base
        for value in contributions:
            starts.append(level if value >= 0 else level + value)
            heights.append(abs(value))
            good = (value >= 0) == up_is_good
            brushes.append(c.good if good else c.bad)
            level += value
        starts.append(0.0)
        heights.append(current)
        brushes.append(c.accent)
        x = np.arange(n + 2, dtype=float)
        self._bars = pg.BarGraphItem(x=x, y0=np.array(starts), height=np.array(heights), width=0.62,
                                     brushes=brushes, pens=[pg.mkPen(None)] * (n + 2))
        self.plot.addItem(self._bars)
        self._labels = [base_label, *labels, current_label]
        axis = self.plot.getAxis("bottom")
        short = [(i, text if len(text) <= 14 else text[:13] + "…") for i, text in enumerate(self._labels)]
        axis.setTicks([short])
        for name in ("left", "bottom"):
            self.plot.getAxis(name).setTextPen(pg.mkPen(c.text))
            self.plot.getAxis(name).setPen(pg.mkPen(c.muted))
        low = min(0.0, *(s for s in starts), current)
        high = max(s + h for s, h in zip(starts, heights, strict=True))
        # zoom onto the moving part: from zero the drivers would be slivers
        floor = min(min(starts[1:-1], default=base), base, current)
        pad = (high - floor) * 0.15 or 1.0
        self.plot.setYRange(max(low, floor - pad), high + pad * 0.5)
        self.plot.setXRange(-0.6, n + 1.6)

    def _clicked(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.button() != Qt.MouseButton.LeftButton or not self._labels:
            return
        x = self.plot.getViewBox().mapSceneToView(event.scenePos()).x()
        index = round(x) - 1  # 0 is the base bar
        if 0 <= index < len(self._labels) - 2 and abs(x - round(x)) <= 0.31:
            self.bar_clicked.emit(index)

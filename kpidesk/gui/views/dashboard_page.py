"""The portfolio dashboard: one painted tile per KPI, attention first.

Data loads on the task runner (newest request wins); filters (product,
category, stage) and the portfolio view re-arrange the loaded tiles on the
GUI thread, which is instant even for hundreds of tiles.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kpidesk.gui import theme
from kpidesk.gui.charts.tiles import Section, TileCanvas
from kpidesk.gui.dashboard_data import DashboardData, TileData, load_dashboard, with_status
from kpidesk.gui.models.navigator_model import CATEGORY_ORDER, GROUP_LABELS, STAGE_ORDER

RELEVANT = {"measurement", "kpi", "product", "goal", "target", "checkin", "import_batch", "rag_threshold"}


class DashboardPage(QWidget):
    kpi_activated = Signal(int)
    data_loaded = Signal(object)  # DashboardData

    def __init__(self, workspace: Any, runner: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboardPage")
        self.ws, self.runner = workspace, runner
        self.data = DashboardData()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        # the tiles are made first so they come first in the Tab order (and get the focus when the page
        # is shown), then the filters: with the page's focus proxy on the tiles, Tab went from the tiles
        # back to the navigator and never reached the filters; the scroll area is no stop of its own
        self.canvas = TileCanvas()
        self.canvas.activated.connect(self.kpi_activated)
        self.scroll = QScrollArea(self)  # a child from the start: its place in the Tab order is first
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll.setWidget(self.canvas)
        bar = QHBoxLayout()
        bar.setContentsMargins(16, 0, 16, 0)
        title = QLabel(self.tr("Dashboard"))
        theme.role(title, theme.PAGE_TITLE)
        bar.addWidget(title)
        bar.addSpacing(16)
        self.product = QComboBox()
        self.category = QComboBox()
        self.stage = QComboBox()
        for combo, label, tip in (
            (self.product, self.tr("&Product:"), self.tr("Show one product's KPIs")),
            (self.category, self.tr("C&ategory:"), self.tr("Financial, customer, …")),
            (self.stage, self.tr("&Stage:"), self.tr("AARRR stage")),
        ):
            caption = QLabel(label)
            caption.setBuddy(combo)
            combo.setToolTip(tip)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            bar.addWidget(caption)
            bar.addWidget(combo)
            combo.currentIndexChanged.connect(self._rearrange)
        self.category.addItem(self.tr("All"), "")
        for key in CATEGORY_ORDER:
            self.category.addItem(self.tr(GROUP_LABELS[key]), key)
        self.stage.addItem(self.tr("All"), "")
        for key in STAGE_ORDER:
            self.stage.addItem(self.tr(GROUP_LABELS[key]), key)
        self.product.addItem(self.tr("All"), 0)
        bar.addStretch(1)
        self.by_kpi = QRadioButton(self.tr("Portfolio (same KPI across products)"))
        self.by_kpi.setToolTip(self.tr("Put each KPI's tiles of every product side by side"))
        self.by_product = QRadioButton(self.tr("By product"))
        self.by_product.setToolTip(self.tr("One section per product, the KPIs that need attention first"))
        self.by_product.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.by_product)
        group.addButton(self.by_kpi)
        self.by_kpi.toggled.connect(self._rearrange)
        bar.addWidget(self.by_product)
        bar.addWidget(self.by_kpi)
        layout.addLayout(bar)
        self.summary = QLabel()
        theme.role(self.summary, theme.MUTED)
        self.summary.setContentsMargins(16, 0, 16, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.scroll, 1)

    # -- data -------------------------------------------------------------------
    def refresh(self, changes: Any = None) -> None:
        if changes is not None and not changes.empty and not changes.tables & RELEVANT:
            return
        if not self.data.tiles:
            self.summary.setText(self.tr("Loading…"))
        # values first (one query, instant), then goal status and attention (slower)
        self.runner.submit(lambda progress: load_dashboard(self.ws, progress, with_status=False),
                           on_done=self._values_loaded, key="dashboard", show_progress=False, owner=self,
                           title=self.tr("Loading the dashboard"))

    def _values_loaded(self, data: DashboardData) -> None:
        if self.data.tiles and {t.kpi_id for t in data.tiles} == {t.kpi_id for t in self.data.tiles}:
            # keep the last known status on screen until the new one arrives (no flicker)
            old = self.data.by_kpi()
            data = DashboardData([replace(t, status=old[t.kpi_id].status, status_text=old[t.kpi_id].status_text,
                                          attention=old[t.kpi_id].attention,
                                          attention_reason=old[t.kpi_id].attention_reason)
                                  for t in data.tiles], data.products)
            data.tiles.sort(key=lambda t: (-t.attention, t.product.casefold(), t.category, t.name.casefold()))
        self.set_data(data)
        self.runner.submit(lambda progress: with_status(self.ws, data, progress), on_done=self.set_data,
                           key="dashboard-status", show_progress=False, owner=self,
                           title=self.tr("Checking goals"))

    def set_data(self, data: DashboardData) -> None:
        self.data = data
        current = self.product.currentData()
        self.product.blockSignals(True)
        self.product.clear()
        self.product.addItem(self.tr("All"), 0)
        for product_id, name in data.products:
            self.product.addItem(name, product_id)
        self.product.setCurrentIndex(max(0, self.product.findData(current)))
        self.product.blockSignals(False)
        self._rearrange()
        self.data_loaded.emit(data)

    def filtered(self) -> list[TileData]:
        product, category, stage = (
            self.product.currentData(),
            self.category.currentData(),
            self.stage.currentData(),
        )
        return [
            t
            for t in self.data.tiles
            if (not product or t.product_id == product)
            and (not category or t.category == category)
            and (not stage or t.stage == stage)
        ]

    def sections(self) -> list[Section]:
        """By product: a "Needs attention" section first, then one per product. Portfolio: one
        section per KPI shared by several products (those needing attention first), side by side."""
        tiles = self.filtered()
        sections: list[Section] = []
        if self.by_kpi.isChecked():
            groups: dict[str, list[TileData]] = defaultdict(list)
            for tile in tiles:
                groups[tile.catalog_key].append(tile)
            shared = sorted(
                (g for g in groups.values() if len({t.product_id for t in g}) > 1),
                key=lambda g: (-max(t.attention for t in g), g[0].name.casefold()),
            )
            for group in shared:
                sections.append(
                    Section(
                        self.tr("{name} — across {n} products").format(
                            name=group[0].name, n=len({t.product_id for t in group})
                        ),
                        sorted(group, key=lambda t: t.product.casefold()),
                    )
                )
            single = [t for g in groups.values() if len({t.product_id for t in g}) <= 1 for t in g]
            if single:
                sections.append(Section(self.tr("Only in one product"), single))
            return sections
        attention = [t for t in tiles if t.attention]
        if attention:
            sections.append(Section(self.tr("Needs attention"), attention))
        by_product: dict[str, list[TileData]] = defaultdict(list)
        for tile in tiles:
            if not tile.attention:
                by_product[tile.product].append(tile)
        for name in sorted(by_product, key=str.casefold):
            sections.append(Section(name, by_product[name]))
        return sections

    def _rearrange(self) -> None:
        if not hasattr(self, "by_kpi"):  # signals fire while the bar is being built
            return
        sections = self.sections()
        self.canvas.set_sections(sections)
        shown = sum(len(s.tiles) for s in sections)
        attention = sum(1 for t in self.filtered() if t.attention)
        if not self.data.tiles:
            self.summary.setText(self.tr("No KPIs yet: add one from the catalog or import a spreadsheet."))
        else:
            self.summary.setText(
                self.tr("{shown} of {total} KPIs · {att} need attention").format(
                    shown=shown, total=len(self.data.tiles), att=attention
                )
            )
        self.canvas.setAccessibleDescription(self.summary.text())

    def select_product(self, product_id: int) -> None:
        index = self.product.findData(product_id)
        if index >= 0:
            self.product.setCurrentIndex(index)

    def focus_tiles(self) -> None:
        self.canvas.setFocus(Qt.FocusReason.OtherFocusReason)

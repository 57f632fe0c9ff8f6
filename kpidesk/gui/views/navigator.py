"""The navigator: a filter box over the products → groups → KPIs tree."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from kpidesk.gui.dashboard_data import DashboardData
from kpidesk.gui.models.navigator_model import KPI_ROLE, PRODUCT_ROLE, NavigatorFilter, NavigatorModel


class Navigator(QWidget):
    kpi_selected = Signal(int)
    product_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("navigatorPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(self.tr("Filter KPIs (Ctrl+F)"))
        self.filter.setClearButtonEnabled(True)
        self.filter.setToolTip(self.tr("Type part of a KPI or product name"))
        layout.addWidget(self.filter)
        row = QHBoxLayout()
        label = QLabel(self.tr("&Group by:"))
        self.group_by = QComboBox()
        self.group_by.addItem(self.tr("Category"), "category")
        self.group_by.addItem(self.tr("AARRR stage"), "stage")
        self.group_by.setToolTip(self.tr("Group each product's KPIs by category or by AARRR stage"))
        label.setBuddy(self.group_by)
        row.addWidget(label)
        row.addWidget(self.group_by, 1)
        layout.addLayout(row)
        self.model = NavigatorModel(self)
        self.proxy = NavigatorFilter(self)
        self.proxy.setSourceModel(self.model)
        self.tree = QTreeView()
        self.tree.setObjectName("navigator")
        self.tree.setFrameShape(QFrame.Shape.NoFrame)
        self.tree.setModel(self.proxy)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setAccessibleName(self.tr("Products and KPIs"))
        layout.addWidget(self.tree, 1)
        self._data = DashboardData()
        self.filter.textChanged.connect(self._filter)
        self.group_by.currentIndexChanged.connect(lambda: self.set_data(self._data))
        self.tree.activated.connect(self._activated)
        self.tree.clicked.connect(self._activated)

    def set_data(self, data: DashboardData) -> None:
        self._data = data
        current = self.current_kpi()
        model = NavigatorModel(self)
        model.rebuild(data.products, data.tiles, self.group_by.currentData())
        old, self.model = self.model, model
        self.proxy.setSourceModel(model)
        old.deleteLater()
        self.tree.expandAll()
        if current is not None:
            self.select_kpi(current, emit=False)

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        self.tree.expandAll()

    def _activated(self, index: QModelIndex) -> None:
        kpi_id = index.data(KPI_ROLE)
        if kpi_id is not None:
            self.kpi_selected.emit(int(kpi_id))
            return
        product_id = index.data(PRODUCT_ROLE)
        if product_id is not None:
            self.product_selected.emit(int(product_id))

    def current_kpi(self) -> int | None:
        value = self.tree.currentIndex().data(KPI_ROLE)
        return int(value) if value is not None else None

    def select_kpi(self, kpi_id: int, *, emit: bool = False) -> None:
        item = self.model.find_kpi(kpi_id)
        if item is None:
            return
        index = self.proxy.mapFromSource(item.index())
        if index.isValid():
            self.tree.blockSignals(not emit)
            self.tree.setCurrentIndex(index)
            self.tree.scrollTo(index)
            self.tree.blockSignals(False)

    def focus_filter(self) -> None:
        self.filter.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter.selectAll()

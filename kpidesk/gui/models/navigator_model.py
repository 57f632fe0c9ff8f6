"""The navigator tree: products → groups (category or AARRR stage) → KPIs.

A QStandardItemModel is enough (read-only, rebuilt when KPIs change); a
recursive filter proxy narrows it as the user types.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel

from kpidesk.gui import theme
from kpidesk.gui.dashboard_data import TileData

KPI_ROLE = Qt.ItemDataRole.UserRole + 1
PRODUCT_ROLE = Qt.ItemDataRole.UserRole + 2
GROUP_LABELS = {
    "financial": "Financial", "customer": "Customer", "operational": "Operational", "internal": "Internal",
    "acquisition": "Acquisition", "activation": "Activation", "retention": "Retention",
    "referral": "Referral", "revenue": "Revenue", "none": "Other",
}
STAGE_ORDER = ["acquisition", "activation", "retention", "referral", "revenue", "none"]
CATEGORY_ORDER = ["financial", "customer", "operational", "internal"]


class NavigatorModel(QStandardItemModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setHorizontalHeaderLabels([self.tr("Products and KPIs")])

    def rebuild(self, products: list[tuple[int, str]], tiles: list[TileData], group_by: str = "category") -> None:
        """Fill an empty model (the navigator builds a new model per reload and swaps it into
        the filter proxy: one clean reset instead of a storm of row signals)."""
        self.removeRows(0, self.rowCount())
        self._fill(products, tiles, group_by)

    def _fill(self, products: list[tuple[int, str]], tiles: list[TileData], group_by: str) -> None:
        by_product: dict[int, list[TileData]] = defaultdict(list)
        for tile in tiles:
            by_product[tile.product_id].append(tile)
        order = CATEGORY_ORDER if group_by == "category" else STAGE_ORDER
        root = self.invisibleRootItem()
        for product_id, name in products:
            product_item = QStandardItem(name)
            product_item.setEditable(False)
            product_item.setData(product_id, PRODUCT_ROLE)
            font = product_item.font()
            font.setBold(True)
            product_item.setFont(font)
            groups: dict[str, list[TileData]] = defaultdict(list)
            for tile in by_product.get(product_id, []):
                groups[getattr(tile, group_by)].append(tile)
            for group in sorted(groups, key=lambda g: order.index(g) if g in order else 99):
                group_item = QStandardItem(self.tr(GROUP_LABELS.get(group, group.title())))
                group_item.setEditable(False)
                group_item.setSelectable(False)
                for tile in sorted(groups[group], key=lambda t: t.name.casefold()):
                    item = QStandardItem(theme.dot_icon(theme.status_color(tile.dot)), tile.name)
                    item.setEditable(False)
                    item.setData(tile.kpi_id, KPI_ROLE)
                    item.setData(product_id, PRODUCT_ROLE)
                    item.setToolTip(f"{tile.name} ({tile.key}) · {tile.verdict}")
                    group_item.appendRow(item)
                product_item.appendRow(group_item)
            root.appendRow(product_item)

    def find_kpi(self, kpi_id: int) -> QStandardItem | None:
        matches = self.match(self.index(0, 0), KPI_ROLE, kpi_id, 1,
                             Qt.MatchFlag.MatchRecursive | Qt.MatchFlag.MatchExactly)
        return self.itemFromIndex(matches[0]) if matches else None


class NavigatorFilter(QSortFilterProxyModel):
    """Case-insensitive filter that keeps the parents of any match."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)
        self.setAutoAcceptChildRows(True)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

"""Table models of the import wizard: the sheet preview, the label mapping, and the
plan preview (inserts / updates / unchanged / rejected, coloured, with reasons).

The plan preview may hold 200,000 rows: :class:`PlanPreviewModel` keeps the
plan's columns as Python lists taken once, and a filter is an index list, so
``data()`` is a list lookup and Qt only asks for the visible rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from kpidesk.io.grid import column_letter

#: Row tints by plan action; translucent so the text stays readable on light and dark palettes.
ACTION_TINTS = {
    "insert": "#4043a047",
    "update": "#50f9a825",
    "unchanged": "",
    "rejected": "#50e53935",
    "skipped": "#30808080",
}

ALL, INSERT, UPDATE, UNCHANGED, REJECTED = "all", "insert", "update", "unchanged", "rejected"

_Index = QModelIndex | QPersistentModelIndex


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def cell_text(value: Any) -> str:
    """A grid cell as the user typed it: numbers without a trailing .0, dates as ISO."""
    if _blank(value):
        return ""
    if isinstance(value, float):
        return f"{value:,.10g}" if abs(value) >= 1e4 else f"{value:.10g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class SheetPreviewModel(QAbstractTableModel):
    """The first rows of a sheet as a grid with spreadsheet headers (A, B, …; 1, 2, …).

    The header row is bold, skipped rows (totals, section headings) greyed with
    their reason as tooltip, and columns the layout reads are highlighted.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[list[Any]] = []
        self._n_cols = 0
        self.header_row: int | None = None
        self.skipped: dict[int, str] = {}
        self.value_cols: set[int] = set()

    def set_grid(self, rows: list[list[Any]], *, header_row: int | None = None,
                 skipped: dict[int, str] | None = None, value_cols: set[int] | None = None) -> None:
        self.beginResetModel()
        self._rows = rows
        self._n_cols = max((len(r) for r in rows), default=0)
        self.header_row = header_row
        self.skipped = skipped or {}
        self.value_cols = value_cols or set()
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._n_cols

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return column_letter(section) if orientation == Qt.Orientation.Horizontal else str(section + 1)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            values = self._rows[row]
            return cell_text(values[col]) if col < len(values) else ""
        if role == Qt.ItemDataRole.FontRole and row == self.header_row:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and row in self.skipped:
            return QBrush(QColor("#808080"))
        if role == Qt.ItemDataRole.ToolTipRole and row in self.skipped:
            return self.skipped[row]
        if role == Qt.ItemDataRole.BackgroundRole and col in self.value_cols and row != self.header_row \
                and (self.header_row is None or row > self.header_row) and row not in self.skipped:
            return QBrush(QColor(ACTION_TINTS["insert"]))
        return None


class MappingModel(QAbstractTableModel):
    """One row per label of the file: what the values become (label decisions of the plan)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._decisions: list[Any] = []
        self._cells: dict[str, int] = {}
        self._headers = [self.tr("In the file"), self.tr("Values"), self.tr("Becomes"), self.tr("KPI"),
                         self.tr("Found by"), self.tr("Note")]
        self._actions = {"existing": self.tr("existing KPI"), "catalog": self.tr("new KPI from the catalog"),
                         "custom": self.tr("new custom KPI"), "ignore": self.tr("ignored")}
        self._found = {"key": self.tr("key"), "name": self.tr("name"), "alias": self.tr("alias"),
                       "loose": self.tr("similar name"), "acronym": self.tr("acronym"),
                       "remembered": self.tr("remembered from last time"), "catalog": self.tr("catalog"),
                       "new": self.tr("no match"), "user": self.tr("your choice")}

    def set_decisions(self, decisions: Sequence[Any], cells: dict[str, int]) -> None:
        self.beginResetModel()
        self._decisions = list(decisions)
        self._cells = dict(cells)
        self.endResetModel()

    def decision_at(self, row: int) -> Any:
        return self._decisions[row] if 0 <= row < len(self._decisions) else None

    def row_of(self, label: str) -> int:
        return next((i for i, d in enumerate(self._decisions) if d.label == label), -1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._decisions)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(self._headers):
            return self._headers[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        decision = self._decisions[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return decision.label
            if column == 1:
                return f"{self._cells.get(decision.label, 0):,}"
            if column == 2:
                return self._actions.get(decision.action, decision.action)
            if column == 3:
                if decision.action == "ignore":
                    return ""
                return f"{decision.kpi_name} ({decision.kpi_key})" if decision.kpi_name else decision.kpi_key
            if column == 4:
                return self._found.get(decision.matched_by, decision.matched_by)
            if column == 5:
                return decision.note
            return None
        if role == Qt.ItemDataRole.ForegroundRole and decision.action == "ignore":
            return QBrush(QColor("#808080"))
        if role == Qt.ItemDataRole.BackgroundRole and decision.note:
            return QBrush(QColor(ACTION_TINTS["update"]))
        if role == Qt.ItemDataRole.ToolTipRole:
            return decision.note or None
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


@dataclass
class PlanView:
    """What the mapping and preview pages show of a plan, prepared on the worker thread.

    For a 200,000-row plan, counting actions, writing the summary and taking
    the columns as lists costs ~200 ms: done here, off the GUI thread, the pages
    only swap lists in.
    """

    plan: Any
    summary: str
    counts: dict[str, int]
    label_cells: dict[str, int]
    columns: dict[str, list[Any]]
    indexes: dict[str, list[int]]
    rejected: list[Any] = field(default_factory=list)

    @property
    def n_values(self) -> int:
        return len(self.columns.get("action", []))


PREVIEW_COLUMNS = ("action", "sheet", "row", "column", "product", "kpi_name", "period_start", "segment", "value",
                   "old_value")


def prepare_view(plan: Any, records: Any) -> PlanView:
    """The :class:`PlanView` of ``plan`` (no Qt: runs in the task runner)."""
    values = plan.values
    columns = {name: values[name].tolist() if name in values.columns else [""] * len(values)
               for name in PREVIEW_COLUMNS}
    actions = columns["action"]
    indexes: dict[str, list[int]] = {INSERT: [], UPDATE: [], UNCHANGED: []}
    for i, action in enumerate(actions):
        indexes.setdefault(action, []).append(i)
    n = len(actions)
    rejected = list(plan.rejected)
    indexes[REJECTED] = list(range(n, n + len(rejected)))
    indexes[ALL] = list(range(n + len(rejected)))
    counts = {key: len(rows) for key, rows in indexes.items()}
    label_cells = records["kpi_label"].value_counts().to_dict() if records is not None and len(records) else {}
    return PlanView(plan, plan.summary(), counts, label_cells, columns, indexes, rejected)


class PlanPreviewModel(QAbstractTableModel):
    """Every planned value and every rejected cell, filterable by action.

    Columns: Action, Cell, Product, KPI, Period, Segment, New value, Old value,
    Reason. Rejected cells come after the values (file order within each).
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._headers = [self.tr("Action"), self.tr("Cell"), self.tr("Product"), self.tr("KPI"),
                         self.tr("Period"), self.tr("Segment"), self.tr("New value"), self.tr("Old value"),
                         self.tr("Reason")]
        self._labels = {INSERT: self.tr("new"), UPDATE: self.tr("changed"), UNCHANGED: self.tr("unchanged"),
                        REJECTED: self.tr("rejected")}
        self._columns: dict[str, list[Any]] = {}
        self._rejected: list[Any] = []
        self._n_values = 0
        self._order: list[int] = []
        self._view: PlanView | None = None
        self.filter = ALL

    def set_view(self, view: PlanView) -> None:
        self.beginResetModel()
        self._view = view
        self._columns = view.columns
        self._n_values = view.n_values
        self._rejected = view.rejected
        self._order = view.indexes.get(self.filter, [])
        self.endResetModel()

    def set_filter(self, action: str) -> None:
        self.beginResetModel()
        self.filter = action
        self._order = self._view.indexes.get(action, []) if self._view is not None else []
        self.endResetModel()

    def action_at(self, row: int) -> str:
        i = self._order[row]
        return REJECTED if i >= self._n_values else self._columns["action"][i]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(self._headers):
            return self._headers[section]
        return None

    def _cell(self, sheet: Any, row: Any, column: Any) -> str:
        letters = column if isinstance(column, str) else column_letter(int(column))
        number = int(row)
        prefix = f"{sheet}!" if sheet else ""
        return f"{prefix}{letters}{number}"

    def _value_row(self, i: int, column: int) -> Any:
        c = self._columns
        if column == 0:
            return self._labels.get(c["action"][i], c["action"][i])
        if column == 1:
            return self._cell(c["sheet"][i], c["row"][i], c["column"][i])
        if column == 2:
            return c["product"][i]
        if column == 3:
            return c["kpi_name"][i]
        if column == 4:
            return str(c["period_start"][i])[:10]
        if column == 5:
            return c["segment"][i]
        if column == 6:
            return cell_text(c["value"][i])
        if column == 7:
            return cell_text(c["old_value"][i]) if c["action"][i] != INSERT else ""
        return ""

    def _rejected_row(self, rejection: Any, column: int) -> Any:
        if column == 0:
            return self._labels[REJECTED]
        if column == 1:
            return self._cell(rejection.sheet, rejection.row, rejection.column)
        if column == 3:
            return rejection.label
        if column == 6:
            return cell_text(rejection.raw)
        if column == 8:
            return rejection.reason
        return ""

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        i = self._order[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            if i >= self._n_values:
                return self._rejected_row(self._rejected[i - self._n_values], index.column())
            return self._value_row(i, index.column())
        if role == Qt.ItemDataRole.BackgroundRole:
            tint = ACTION_TINTS.get(self.action_at(index.row()), "")
            return QBrush(QColor(tint)) if tint else None
        if role == Qt.ItemDataRole.ToolTipRole and i >= self._n_values:
            return self._rejected[i - self._n_values].sentence()
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (6, 7):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

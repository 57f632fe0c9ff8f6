"""Flat, read-only table models over lists of plain rows (imports, data sources).

:class:`RowTableModel` shows any list of objects through a list of
:class:`Column` (a header and a function from the row to its text), so each
table of the Data page and the import wizard is a few lines of column
definitions instead of a model class each.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

RowRole = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class Column:
    header: str
    text: Callable[[Any], str]
    align_right: bool = False
    tooltip: Callable[[Any], str] | None = None


class RowTableModel(QAbstractTableModel):
    """Rows of any type shown through ``columns``; ``tint(row)`` may colour a whole row."""

    def __init__(self, columns: Sequence[Column], parent: QObject | None = None,
                 tint: Callable[[Any], str | None] | None = None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._rows: list[Any] = []
        self._tint = tint

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    @property
    def rows(self) -> list[Any]:
        return self._rows

    def row_at(self, row: int) -> Any:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._columns[section].header if 0 <= section < len(self._columns) else None
        return str(section + 1)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == RowRole:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip(row) if column.tooltip else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole and self._tint is not None:
            colour = self._tint(row)
            if colour:
                return QBrush(QColor(colour))
        return None


def when(value: dt.datetime | str | None) -> str:
    """A timestamp as "2024-07-15 14:03" (local time when it carries a zone), "" for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value[:16]
    if value.tzinfo is None:  # stored as naive UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def count(value: int) -> str:
    return f"{value:,}"


def batch_columns(tr: Callable[[str], str]) -> list[Column]:
    """Columns of the import history (rows are ``import_service.BatchInfo``)."""
    return [
        Column("#", lambda b: str(b.id), align_right=True),
        Column(tr("File"), lambda b: b.file_name, tooltip=lambda b: f"{b.file_name}\nSHA-256 {b.sha256}"),
        Column(tr("Sheet"), lambda b: b.sheet),
        Column(tr("Product"), lambda b: b.product),
        Column(tr("Imported"), lambda b: when(b.created_at), tooltip=lambda b: b.created_by),
        Column(tr("New"), lambda b: count(b.inserted), align_right=True),
        Column(tr("Changed"), lambda b: count(b.updated), align_right=True),
        Column(tr("Unchanged"), lambda b: count(b.unchanged), align_right=True),
        Column(tr("Rejected"), lambda b: count(b.rejected), align_right=True),
        Column(tr("Status"), lambda b: tr("rolled back {0}").format(when(b.rolled_back_at))
               if b.status == "rolled_back" else tr("applied")),
    ]


def source_columns(tr: Callable[[str], str]) -> list[Column]:
    """Columns of the data sources (rows are ``data_source`` rows or anything with those attributes)."""
    return [
        Column(tr("Name"), lambda s: s.name),
        Column(tr("Recipe"), lambda s: s.recipe),
        Column(tr("File"), lambda s: os.path.basename(s.path) or s.path, tooltip=lambda s: s.path),
        Column(tr("Last refresh"), lambda s: when(s.last_refresh) or tr("never")),
        Column(tr("Problem"), lambda s: s.last_error or "", tooltip=lambda s: s.last_error or ""),
    ]

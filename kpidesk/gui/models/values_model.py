"""The editable table of a KPI's values (period, segment, value, note, source).

Rows are plain tuples read by the page; an edit does not touch the database
itself: it emits :attr:`edit_requested`, the page turns it into an undoable
command, and the table is reloaded from the Changes that come back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from kpidesk.domain.periods import period_label
from kpidesk.domain.units import format_value

Index = QModelIndex | QPersistentModelIndex
PERIOD, SEGMENT, VALUE, NOTE, SOURCE, CHANGED = range(6)


@dataclass(frozen=True)
class ValueRow:
    measurement_id: int
    period_start: dt.date
    segment: str
    value: float | None
    note: str
    source: str
    changed_by: str = ""  # audit: the (database) user who last saved it
    changed_at: dt.datetime | None = None
    version: int = 1


def sort_rows(rows: list[ValueRow]) -> list[ValueRow]:
    """Totals first, then each segment; newest first within each (the period one edits most)."""
    out = sorted(rows, key=lambda r: r.period_start, reverse=True)
    out.sort(key=lambda r: (r.segment != "", r.segment))  # stable: keeps newest-first inside
    return out


def read_value_rows(ws: Any, kpi_id: int) -> list[ValueRow]:
    """The table's rows in one plain query, sorted by SQLite.

    The ORM builds an object per row while holding the GIL (~0.5 s for 40,000
    values, a visible freeze of the window); a raw cursor releases the GIL
    while SQLite works and only builds small tuples.
    """
    with ws.db.raw() as dbapi:
        cur = dbapi.cursor()
        p = "?" if ws.db.is_sqlite else "%s"
        cur.execute("SELECT id, period_start, segment, value, note, source, updated_by, updated_at, version"
                    " FROM measurement"
                    f" WHERE kpi_id = {p} ORDER BY segment <> '', segment, period_start DESC", (kpi_id,))
        rows = []
        # in batches: one fetchall of 40,000 rows holds the interpreter lock for ~100 ms
        while batch := cur.fetchmany(5000):
            rows.extend(batch)
        cur.close()
    parse = dt.date.fromisoformat
    return [ValueRow(int(i), d if isinstance(d, dt.date) else parse(str(d)[:10]), s, v, n or "", src, by or "",
                     _when(at), int(ver or 1))
            for i, d, s, v, n, src, by, at, ver in rows]


def _when(value: Any) -> dt.datetime | None:
    """updated_at as stored: text on SQLite (UTC), a datetime on PostgreSQL."""
    if value is None or isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


class ValuesModel(QAbstractTableModel):
    edit_requested = Signal(object, str, object)  # (ValueRow, column name, new value)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[ValueRow] = []
        self._unit, self._currency, self._frequency = "count", "", "month"
        self.read_only = False
        self._headers = [self.tr("Period"), self.tr("Segment"), self.tr("Value"), self.tr("Note"),
                         self.tr("Source"), self.tr("Changed")]

    def set_rows(self, rows: list[ValueRow], unit: str, currency: str, frequency: str, *,
                 presorted: bool = False) -> None:
        self.beginResetModel()
        self._rows = rows if presorted else sort_rows(rows)
        self._unit, self._currency, self._frequency = unit, currency, frequency
        self.endResetModel()

    def row_at(self, row: int) -> ValueRow:
        return self._rows[row]

    # -- QAbstractTableModel -------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 6

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < 6:
            return self._headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        row, col = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (period_label(row.period_start, self._frequency), row.segment or self.tr("total"),
                    format_value(row.value, self._unit, self._currency), row.note, row.source,
                    self._changed(row))[col]
        if role == Qt.ItemDataRole.EditRole:
            return (row.period_start.isoformat(), row.segment, "" if row.value is None else repr(row.value),
                    row.note, row.source, self._changed(row))[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col == VALUE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == CHANGED and row.changed_at is not None:
                return self.tr("Last saved by {u} at {t} UTC (version {v})").format(
                    u=row.changed_by or "?", t=f"{row.changed_at:%Y-%m-%d %H:%M:%S}", v=row.version)
            if col in (VALUE, NOTE) and not self.read_only:
                return self.tr("Double-click or press F2 to edit; Ctrl+Z undoes.")
            return None
        if role == Qt.ItemDataRole.UserRole:
            return row.measurement_id
        return None

    @staticmethod
    def _changed(row: ValueRow) -> str:
        """Who last saved the value and when (local time), e.g. "ann · 25 Nov 2026 10:02"."""
        if row.changed_at is None:
            return row.changed_by
        return f"{row.changed_by} · {row.changed_at.astimezone():%d %b %Y %H:%M}".strip(" ·")

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() in (VALUE, NOTE) and not self.read_only:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() not in (VALUE, NOTE):
            return False
        row = self._rows[index.row()]
        self.edit_requested.emit(row, "value" if index.column() == VALUE else "note", value)
        # the model changes when the reload arrives, not here
        return False

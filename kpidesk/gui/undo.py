"""Undo/redo of edits, as QUndoCommands over service calls.

A value is addressed by (KPI, period start, segment), not by its row id: a
deleted and restored row gets a new id, but its address stays the same. Each
command remembers the value that was there before (a MeasurementSnapshot, or
None when the period was empty) and puts it back on undo. Commands run on the
GUI thread: one small write takes milliseconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QUndoCommand

from kpidesk.services.changes import Changes
from kpidesk.services.measurement_service import MeasurementSnapshot
from kpidesk.storage.models import Measurement

Notify = Callable[[Changes], None]


def find_value(ws: Any, kpi_id: int, start: dt.date, segment: str = "") -> Measurement | None:
    from sqlmodel import select

    with ws.db.session() as session:
        return next(iter(session.exec(select(Measurement).where(
            Measurement.kpi_id == kpi_id, Measurement.period_start == start, Measurement.segment == segment))),
            None)


def snapshot(row: Measurement | None) -> MeasurementSnapshot | None:
    if row is None:
        return None
    return MeasurementSnapshot(row.kpi_id, row.period_start, row.segment, row.value, row.numerator,
                               row.denominator, row.note, row.source)


class SetValueCommand(QUndoCommand):
    """Record, change or delete (``value=None``) the value of one period.

    The first redo() happens when the command is pushed; an error there is
    raised to the caller and the command marks itself obsolete, so a refused
    edit never sits on the stack.
    """

    def __init__(self, ws: Any, notify: Notify, kpi_id: int, start: dt.date, value: float | None, *,
                 segment: str = "", note: str | None = None, text: str = "",
                 expected_version: int | None = None) -> None:
        super().__init__(text)
        self._ws, self._notify = ws, notify
        # The version the user saw: in a team workspace a first save over someone else's newer
        # change is refused. A SQLite file has one writer (this window), so there is nobody to race.
        self.expected_version = None if ws.db.is_sqlite else expected_version
        self.kpi_id, self.start, self.segment, self.value, self.note = kpi_id, start, segment, value, note
        self._before: MeasurementSnapshot | None = None
        self._done_once = False
        self.error: BaseException | None = None

    def redo(self) -> None:
        try:
            row = find_value(self._ws, self.kpi_id, self.start, self.segment)
            if not self._done_once:
                self._before = snapshot(row)
            changes = self._apply(row)
        except Exception as exc:
            if self._done_once:
                raise
            self.error = exc
            self.setObsolete(True)
            return
        self._done_once = True
        self._notify(changes)

    def _apply(self, row: Measurement | None) -> Changes:
        m = self._ws.measurements
        if self.value is None:
            if row is None:
                return Changes()
            return m.delete(row.id)[1]
        note = self.note if self.note is not None else (row.note if row is not None else "")
        if row is not None and self.expected_version is not None and not self._done_once:
            return m.edit(row.id, value=self.value, note=note, expected_version=self.expected_version)[1]
        _, changes = m.record(self.kpi_id, self.start, self.value, segment=self.segment, note=note)
        return changes

    def undo(self) -> None:
        m = self._ws.measurements
        if self._before is None:
            row = find_value(self._ws, self.kpi_id, self.start, self.segment)
            changes = m.delete(row.id)[1] if row is not None else Changes()
        else:
            changes = m.restore(self._before)[1]
        self._notify(changes)


class AnnotationCommand(QUndoCommand):
    """Add a dated note to a KPI; undo deletes it."""

    def __init__(self, ws: Any, notify: Notify, kpi_id: int, day: dt.date, text: str) -> None:
        super().__init__(f"Add annotation '{text[:30]}'")
        self._ws, self._notify = ws, notify
        self.kpi_id, self.day, self.note_text = kpi_id, day, text
        self.annotation_id: int | None = None
        self.error: BaseException | None = None

    def redo(self) -> None:
        try:
            note, changes = self._ws.annotations.add(self.day, self.note_text, kpi_id=self.kpi_id)
        except Exception as exc:
            if self.annotation_id is not None:
                raise
            self.error = exc
            self.setObsolete(True)
            return
        self.annotation_id = note.id
        self._notify(changes)

    def undo(self) -> None:
        if self.annotation_id is not None:
            changes = self._ws.annotations.delete(self.annotation_id)
            self._notify(Changes(changes.tables, frozenset({self.kpi_id}), changes.message))

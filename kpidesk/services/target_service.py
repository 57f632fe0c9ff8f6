"""Per-period targets of a KPI (typed, ramped or imported) and its RAG thresholds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlmodel import select

from kpidesk.domain.enums import Direction
from kpidesk.domain.goals.targets import RagThresholds, TargetSchedule, linear_ramp, stepped_ramp
from kpidesk.domain.periods import parse_date, period_start
from kpidesk.errors import NotFoundError, ValidationError
from kpidesk.services.changes import Changes
from kpidesk.services.lookup import get_kpi, to_number
from kpidesk.storage.db import Database
from kpidesk.storage.models import Kpi, Target, utcnow
from kpidesk.storage.models import RagThreshold as RagRow
from kpidesk.storage.versioning import save_versioned


class TargetService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _kpi(self, kpi_id: int) -> Kpi:
        return get_kpi(self._db, kpi_id)

    # -- per-period targets -----------------------------------------------------
    def set_many(self, kpi_id: int, schedule: TargetSchedule, *, note: str = "") -> Changes:
        """Insert or replace targets (period → value) in one transaction; periods snap to the KPI's frequency."""
        self._db.require_writable()
        kpi = self._kpi(kpi_id)
        cleaned = {period_start(day, kpi.frequency): to_number(value, f"The target for {day}")
                   for day, value in schedule.items()}
        with self._db.session() as session:
            existing = {row.period_start: row for row in session.exec(
                select(Target).where(Target.kpi_id == kpi_id, Target.segment == ""))}
            for day, value in cleaned.items():
                row = existing.get(day)
                if row is None:
                    session.add(Target(kpi_id=kpi_id, period_start=day, value=value, note=note,
                                       updated_by=self._db.user))
                else:
                    row.value, row.note = value, note or row.note
                    row.version += 1
                    row.updated_at, row.updated_by = utcnow(), self._db.user
            session.commit()
        return Changes.of("target", kpi_ids={kpi_id}, message=f"Set {len(cleaned)} target(s) for {kpi.name}.",
                          written=len(cleaned))

    def set(self, kpi_id: int, day: str | dt.date, value: float, *, note: str = "",
            expected_version: int | None = None) -> Changes:
        """The target of the period containing ``day``.

        With ``expected_version`` (the version of the target the user edited), the
        save is refused with who changed it and when if anyone saved it since.
        """
        if expected_version is None:
            return self.set_many(kpi_id, {parse_date(day): value}, note=note)
        self._db.require_writable()
        kpi = self._kpi(kpi_id)
        start = period_start(parse_date(day), kpi.frequency)
        with self._db.session() as session:
            row = session.exec(select(Target).where(Target.kpi_id == kpi_id, Target.period_start == start,
                                                    Target.segment == "")).first()
            if row is None:
                raise NotFoundError(f"The target of {kpi.name} for {start} was deleted by someone else.")
            save_versioned(session, Target, row.id, expected_version,
                           {"value": to_number(value, f"The target for {day}"), "note": note or row.note},
                           user=self._db.user, what=f"The target of {kpi.name} for {start}")
            session.commit()
        return Changes.of("target", kpi_ids={kpi_id}, message=f"Set the target of {kpi.name} for {start}.")

    def ramp(self, kpi_id: int, first: dt.date, last: dt.date, start_value: float, end_value: float,
             *, steps: int | None = None) -> tuple[TargetSchedule, Changes]:
        """Targets from ``start_value`` to ``end_value``: linear, or in ``steps`` flat steps."""
        kpi = self._kpi(kpi_id)
        if steps is None:
            schedule = linear_ramp(first, last, kpi.frequency, start_value, end_value)
        else:
            schedule = stepped_ramp(first, last, kpi.frequency, start_value, end_value, steps=steps)
        return schedule, self.set_many(kpi_id, schedule, note="ramp")

    def schedule(self, kpi_id: int) -> TargetSchedule:
        with self._db.session() as session:
            rows = session.exec(select(Target).where(Target.kpi_id == kpi_id, Target.segment == "")
                                .order_by(Target.period_start))  # type: ignore[arg-type]
            return {row.period_start: row.value for row in rows}

    def clear(self, kpi_id: int) -> Changes:
        self._db.require_writable()
        with self._db.session() as session:
            rows = list(session.exec(select(Target).where(Target.kpi_id == kpi_id)))
            for row in rows:
                session.delete(row)
            session.commit()
        return Changes.of("target", kpi_ids={kpi_id}, message=f"Removed {len(rows)} target(s).")

    def import_file(self, kpi_id: int, path: str | Path, *, sheet: str | None = None) -> Changes:
        """Targets from a spreadsheet or CSV (read by the sandboxed ``kpidesk.io`` reader).

        The header row (one of the first ten) has a ``period`` (or ``date`` /
        ``month``) column and a ``target`` (or ``value``) column; each row below
        is one period. Cells formatted as percent (0.12 shown as 12 %) become
        percentage points for percent KPIs. Any bad row refuses the whole file,
        naming file, sheet, row and column; nothing is written.
        """
        from kpidesk.io.grid import column_letter
        from kpidesk.io.reader import read_workbook

        kpi = self._kpi(kpi_id)
        file = Path(path)
        book = read_workbook(file)
        if not book.sheets:
            raise ValidationError(f"{file.name}: the file has no sheet to read targets from.")
        grid = book.sheet(sheet) if sheet else book.sheets[0]
        where = file.name if book.format == "csv" else f"{file.name}, sheet {grid.name}"
        header = period_col = value_col = None
        for row in range(min(10, grid.n_rows)):
            labels = [str(v).strip().casefold() if v is not None else "" for v in grid.row_values(row)]
            period_col = next((c for c, t in enumerate(labels) if t in ("period", "date", "month")), None)
            value_col = next((c for c, t in enumerate(labels) if t in ("target", "value")), None)
            if period_col is not None and value_col is not None:
                header = row
                break
        if header is None or period_col is None or value_col is None:
            raise ValidationError(f"{where}: no header row with a 'period' (or 'date') and a 'target' "
                                  "(or 'value') column in the first ten rows.")
        percent = kpi.unit == "percent"
        schedule: TargetSchedule = {}
        for row in range(header + 1, grid.n_rows):
            raw_day, raw_value = grid.cell(row, period_col), grid.cell(row, value_col)
            if raw_day in (None, "") and raw_value in (None, ""):
                continue
            place = f"{where}, row {row + 1}, column {column_letter(period_col)}"
            try:
                day = raw_day.date() if isinstance(raw_day, dt.datetime) else parse_date(str(raw_day).strip())
            except ValueError:
                raise ValidationError(f"{place}: '{raw_day}' is not a date (use YYYY-MM-DD or YYYY-MM).") from None
            place = f"{where}, row {row + 1}, column {column_letter(value_col)}"
            try:
                number = (float(raw_value) if isinstance(raw_value, int | float)
                          else float(str(raw_value).strip().replace(",", "")))
            except ValueError:
                raise ValidationError(f"{place}: '{raw_value}' is not a number.") from None
            if percent and (row, value_col) in grid.percent_cells:
                number *= 100  # 12 % stored in the cell as 0.12 → 12 points
            schedule[day] = to_number(number, place)
        if not schedule:
            raise ValidationError(f"{where}: no targets found below the header.")
        return self.set_many(kpi_id, schedule, note=f"imported from {file.name}")

    def import_csv(self, kpi_id: int, path: str | Path) -> Changes:
        """Targets from a CSV file (see :meth:`import_file`)."""
        return self.import_file(kpi_id, path)

    # -- RAG thresholds ---------------------------------------------------------
    def set_thresholds(self, kpi_id: int, green: float, amber: float, *, green_high: float | None = None,
                       amber_high: float | None = None, effective_from: dt.date | None = None) -> Changes:
        """Green/amber lines for the KPI's direction (validated), effective from a date (default: today)."""
        self._db.require_writable()
        kpi = self._kpi(kpi_id)
        RagThresholds(Direction(kpi.direction), green, amber, green_high, amber_high)  # validates
        day = effective_from or dt.date.today()
        with self._db.session() as session:
            row = next(iter(session.exec(select(RagRow).where(RagRow.kpi_id == kpi_id,
                                                              RagRow.effective_from == day))), None)
            if row is None:
                row = RagRow(kpi_id=kpi_id, effective_from=day, green=green, amber=amber)
                session.add(row)
            else:
                row.version += 1
            row.green, row.amber, row.green_high, row.amber_high = green, amber, green_high, amber_high
            row.updated_at, row.updated_by = utcnow(), self._db.user
            session.commit()
        return Changes.of("rag_threshold", kpi_ids={kpi_id}, message=f"Set RAG thresholds for {kpi.name}.")

    def thresholds_many(self, kpis: list[Kpi], as_of: dt.date | None = None) -> dict[int, RagThresholds]:
        """:meth:`thresholds` of many KPIs in one query."""
        by_id = {k.id: k for k in kpis if k.id is not None}
        out: dict[int, RagThresholds] = {}
        if not by_id:
            return out
        with self._db.session() as session:
            query = select(RagRow).where(RagRow.kpi_id.in_(list(by_id)))  # type: ignore[attr-defined]
            if as_of is not None:
                query = query.where(RagRow.effective_from <= as_of)
            for row in session.exec(query.order_by(RagRow.kpi_id, RagRow.effective_from)):  # type: ignore[arg-type]
                kpi = by_id[row.kpi_id]
                out[row.kpi_id] = RagThresholds(Direction(kpi.direction), row.green, row.amber, row.green_high,
                                                row.amber_high)  # later rows win: the latest in effect
        return out

    def thresholds(self, kpi_id: int, as_of: dt.date | None = None) -> RagThresholds | None:
        """The thresholds in effect on ``as_of`` (the latest ``effective_from`` not after it)."""
        kpi = self._kpi(kpi_id)
        with self._db.session() as session:
            query = select(RagRow).where(RagRow.kpi_id == kpi_id)
            if as_of is not None:
                query = query.where(RagRow.effective_from <= as_of)
            row = next(iter(session.exec(query.order_by(RagRow.effective_from.desc()))), None)  # type: ignore[attr-defined]
        if row is None:
            return None
        return RagThresholds(Direction(kpi.direction), row.green, row.amber, row.green_high, row.amber_high)

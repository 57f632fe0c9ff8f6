"""Per-period targets of a KPI (typed, ramped or imported) and its RAG thresholds."""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

from sqlmodel import select

from kpidesk.domain.enums import Direction
from kpidesk.domain.goals.targets import RagThresholds, TargetSchedule, linear_ramp, stepped_ramp
from kpidesk.domain.periods import parse_date, period_start
from kpidesk.errors import NotFoundError, ValidationError
from kpidesk.services.changes import Changes
from kpidesk.storage.db import Database
from kpidesk.storage.models import Kpi, Target, utcnow
from kpidesk.storage.models import RagThreshold as RagRow


def _finite(value: float, what: str) -> float:
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise ValidationError(f"{what} must be a finite number, not {value}.")
    return number


class TargetService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _kpi(self, kpi_id: int) -> Kpi:
        with self._db.session() as session:
            kpi = session.get(Kpi, kpi_id)
        if kpi is None:
            raise NotFoundError(f"KPI #{kpi_id} does not exist.")
        return kpi

    # -- per-period targets -----------------------------------------------------
    def set_many(self, kpi_id: int, schedule: TargetSchedule, *, note: str = "") -> Changes:
        """Insert or replace targets (period → value) in one transaction; periods snap to the KPI's frequency."""
        self._db.require_writable()
        kpi = self._kpi(kpi_id)
        cleaned = {period_start(day, kpi.frequency): _finite(value, f"The target for {day}")
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

    def set(self, kpi_id: int, day: str | dt.date, value: float, *, note: str = "") -> Changes:
        """The target of the period containing ``day``."""
        return self.set_many(kpi_id, {parse_date(day): value}, note=note)

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

    def import_csv(self, kpi_id: int, path: str | Path) -> Changes:
        """Targets from a CSV file with a header row: a ``period`` (or ``date``) column and a
        ``target`` (or ``value``) column. Any bad row refuses the file, naming the row."""
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise ValidationError(f"{file}: cannot be read ({exc.strerror}).") from None
        reader = csv.DictReader(text.splitlines())
        headers = {h.strip().casefold(): h for h in (reader.fieldnames or [])}
        period_col = headers.get("period") or headers.get("date")
        value_col = headers.get("target") or headers.get("value")
        if period_col is None or value_col is None:
            raise ValidationError(f"{file}: the header needs a 'period' (or 'date') and a 'target' (or 'value') "
                                  f"column; it has {', '.join(reader.fieldnames or []) or 'none'}.")
        schedule: TargetSchedule = {}
        for number, record in enumerate(reader, start=2):
            raw_day, raw_value = (record.get(period_col) or "").strip(), (record.get(value_col) or "").strip()
            if not raw_day and not raw_value:
                continue
            try:
                day = parse_date(raw_day)
            except ValueError:
                raise ValidationError(f"{file}, row {number}, column {period_col}: '{raw_day}' is not a date "
                                      "(use YYYY-MM-DD or YYYY-MM).") from None
            try:
                schedule[day] = float(raw_value.replace(",", ""))
            except ValueError:
                raise ValidationError(f"{file}, row {number}, column {value_col}: '{raw_value}' is not a number."
                                      ) from None
        if not schedule:
            raise ValidationError(f"{file}: no targets found below the header.")
        return self.set_many(kpi_id, schedule, note=f"imported from {file.name}")

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

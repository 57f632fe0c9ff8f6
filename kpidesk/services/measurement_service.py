"""Recording, editing, deleting and reading KPI values.

Single edits validate and write through the ORM; bulk writes validate with
pandas and land in one ``executemany`` transaction. Either way a bad value is
refused with a clear reason and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from kpidesk.domain.enums import Provenance
from kpidesk.domain.periods import parse_date, period_start, period_starts
from kpidesk.domain.units import bounds, domain_problem
from kpidesk.errors import NotFoundError, ValidationError
from kpidesk.services.changes import Changes
from kpidesk.services.lookup import get_kpi, to_number
from kpidesk.storage import measurements as store
from kpidesk.storage.db import Database
from kpidesk.storage.models import Kpi, Measurement, utcnow
from kpidesk.storage.versioning import save_versioned

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class MeasurementSnapshot:
    """Everything needed to put a deleted or edited value back (undo)."""

    kpi_id: int
    period_start: dt.date
    segment: str
    value: float | None
    numerator: float | None
    denominator: float | None
    note: str
    source: str


class MeasurementService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _kpi(self, kpi_id: int) -> Kpi:
        return get_kpi(self._db, kpi_id)

    def _check(self, kpi: Kpi, value: float) -> None:
        problem = domain_problem(value, kpi.unit, kpi.min_value, kpi.max_value)
        if problem:
            raise ValidationError(f"{kpi.name}: {problem}.")

    # -- single values ----------------------------------------------------
    def record(
        self,
        kpi_id: int,
        day: str | dt.date,
        value: Any,
        *,
        segment: str = "",
        note: str = "",
        numerator: Any = None,
        denominator: Any = None,
        source: str = Provenance.MANUAL.value,
    ) -> tuple[Measurement, Changes]:
        """Insert or replace the value of the period containing ``day``."""
        self._db.require_writable()
        kpi = self._kpi(kpi_id)
        try:
            when = parse_date(day)
        except ValueError:
            raise ValidationError(
                f"'{day}' is not a date; use YYYY-MM-DD (or YYYY-MM for a month)."
            ) from None
        number = to_number(value, kpi.name)
        self._check(kpi, number)
        num = None if numerator is None else to_number(numerator, f"{kpi.name} numerator")
        den = None if denominator is None else to_number(denominator, f"{kpi.name} denominator")
        start = period_start(when, kpi.frequency)
        with self._db.session() as session:
            row = next(
                iter(
                    session.exec(
                        select(Measurement).where(
                            Measurement.kpi_id == kpi_id,
                            Measurement.period_start == start,
                            Measurement.segment == segment,
                        )
                    )
                ),
                None,
            )
            if row is None:
                row = Measurement(
                    kpi_id=kpi_id,
                    period_start=start,
                    frequency=kpi.frequency,
                    segment=segment,
                    updated_by=self._db.user,
                )
                session.add(row)
            else:
                row.version += 1
            row.value, row.numerator, row.denominator, row.note = number, num, den, note
            row.source, row.updated_at, row.updated_by = source, utcnow(), self._db.user
            session.commit()
            session.refresh(row)
        return row, Changes.of("measurement", kpi_ids={kpi_id}, message=f"Recorded {kpi.name} for {start}.")

    def get(self, measurement_id: int) -> Measurement:
        with self._db.session() as session:
            row = session.get(Measurement, measurement_id)
        if row is None:
            raise NotFoundError(f"Value #{measurement_id} does not exist (it may have been deleted).")
        return row

    def edit(
        self,
        measurement_id: int,
        *,
        value: Any = None,
        note: str | None = None,
        expected_version: int | None = None,
    ) -> tuple[Measurement, Changes]:
        """Change a value and/or its note. With ``expected_version`` (the version the
        user saw), the save is refused if anyone changed the row since."""
        self._db.require_writable()
        with self._db.session() as session:
            row = session.get(Measurement, measurement_id)
            if row is None:
                raise NotFoundError(f"Value #{measurement_id} does not exist (it may have been deleted).")
            kpi = session.get(Kpi, row.kpi_id)
            assert kpi is not None
            values: dict[str, Any] = {}
            if value is not None:
                number = to_number(value, kpi.name)
                self._check(kpi, number)
                values["value"] = number
            if note is not None:
                values["note"] = note
            save_versioned(
                session,
                Measurement,
                measurement_id,
                row.version if expected_version is None else expected_version,
                values,
                user=self._db.user,
                what=f"{kpi.name} for {row.period_start}",
            )
            session.commit()
            row = session.get(Measurement, measurement_id, populate_existing=True)
            assert row is not None
        return row, Changes.of("measurement", kpi_ids={row.kpi_id}, message="Value updated.")

    def delete(self, measurement_id: int) -> tuple[MeasurementSnapshot, Changes]:
        """Delete one value; the snapshot returned puts it back (undo)."""
        self._db.require_writable()
        with self._db.session() as session:
            row = session.get(Measurement, measurement_id)
            if row is None:
                raise NotFoundError(f"Value #{measurement_id} does not exist (it may have been deleted).")
            snap = MeasurementSnapshot(
                row.kpi_id,
                row.period_start,
                row.segment,
                row.value,
                row.numerator,
                row.denominator,
                row.note,
                row.source,
            )
            session.delete(row)
            session.commit()
        return snap, Changes.of("measurement", kpi_ids={snap.kpi_id}, message="Value deleted.")

    def restore(self, snap: MeasurementSnapshot) -> tuple[Measurement, Changes]:
        """Put back a snapshot taken by :meth:`delete` (or before an edit)."""
        return self.record(
            snap.kpi_id,
            snap.period_start,
            snap.value if snap.value is not None else 0.0,
            segment=snap.segment,
            note=snap.note,
            numerator=snap.numerator,
            denominator=snap.denominator,
            source=snap.source,
        )

    # -- many values --------------------------------------------------------
    def record_many(
        self,
        frame: pd.DataFrame,
        *,
        source: str = Provenance.MANUAL.value,
        import_batch_id: int | None = None,
        data_source_id: int | None = None,
    ) -> Changes:
        """Validate and upsert a DataFrame of values in one transaction.

        Columns: ``kpi_id``, ``period_start`` (dates or ISO strings), ``value``;
        optional ``segment``, ``note``, ``numerator``, ``denominator``. Any bad row
        refuses the whole call with the first reasons (row numbers are 1-based
        positions in ``frame``); nothing is written.
        """
        rows = self.prepare_rows(frame)
        store.bulk_upsert(
            self._db, rows, source=source, import_batch_id=import_batch_id, data_source_id=data_source_id
        )
        kpi_ids = {int(k) for k in frame["kpi_id"].unique()}
        return Changes.of(
            "measurement", kpi_ids=kpi_ids, message=f"Recorded {len(frame):,} values.", written=len(frame)
        )

    def prepare_rows(self, frame: pd.DataFrame) -> list[store.MeasurementRow]:
        """Validate (vectorised) and turn a DataFrame into upsert rows; raises on the first bad rows."""
        import numpy as np
        import pandas as pd

        self._db.require_writable()
        for column in ("kpi_id", "period_start", "value"):
            if column not in frame.columns:
                raise ValidationError(f"The values to record lack the '{column}' column.")
        n = len(frame)
        problems: dict[int, str] = {}
        refuse = lambda mask, _frame, reason: self._collect(problems, mask, reason)  # noqa: E731
        kpis = {k.id: k for k in self._all_kpis()}
        kpi_ids = frame["kpi_id"].to_numpy()
        unknown = ~np.isin(kpi_ids, np.fromiter(kpis, dtype=np.int64, count=len(kpis)))
        refuse(unknown, frame, lambda i: f"KPI #{kpi_ids[i]} does not exist")
        values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype="float64")
        refuse(~np.isfinite(values), frame, lambda i: f"'{frame['value'].iloc[i]}' is not a number")
        starts = pd.to_datetime(frame["period_start"], errors="coerce", format="mixed")
        refuse(starts.isna().to_numpy(), frame, lambda i: f"'{frame['period_start'].iloc[i]}' is not a date")
        normalised = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        frequencies = np.empty(n, dtype=object)
        for kpi_id, kpi in kpis.items():
            mask = kpi_ids == kpi_id
            if not mask.any():
                continue
            low, high = bounds(kpi.unit, kpi.min_value, kpi.max_value)
            bad = mask & (
                ((values < low) if low is not None else False)
                | ((values > high) if high is not None else False)
            )
            refuse(
                bad,
                frame,
                lambda i, k=kpi: f"{k.name}: {domain_problem(values[i], k.unit, k.min_value, k.max_value)}",
            )
            normalised[mask] = period_starts(starts[mask], kpi.frequency).to_numpy()
            frequencies[mask] = kpi.frequency
        segments = frame["segment"].fillna("").astype(str).tolist() if "segment" in frame else [""] * n
        notes = frame["note"].fillna("").astype(str).tolist() if "note" in frame else [""] * n
        nums = self._optional_numbers(frame, "numerator")
        dens = self._optional_numbers(frame, "denominator")
        iso = normalised.dt.strftime("%Y-%m-%d").tolist()
        duplicated = pd.DataFrame({"k": kpi_ids, "p": iso, "s": segments}).duplicated(keep=False).to_numpy()
        refuse(
            duplicated,
            frame,
            lambda i: f"KPI #{kpi_ids[i]} has two values for {iso[i]} {segments[i]}".rstrip(),
        )
        self._raise_problems(problems)
        return list(
            zip(
                kpi_ids.astype(int).tolist(),
                iso,
                frequencies.tolist(),
                segments,
                values.tolist(),
                nums,
                dens,
                notes,
                strict=True,
            )
        )

    @staticmethod
    def _optional_numbers(frame: pd.DataFrame, column: str) -> list[float | None]:
        import pandas as pd

        if column not in frame:
            return [None] * len(frame)
        numbers = pd.to_numeric(frame[column], errors="coerce")
        return [None if math.isnan(x) else x for x in numbers.tolist()]

    @staticmethod
    def _collect(problems: dict[int, str], mask: Any, reason: Any) -> None:
        """Remember the first reason each row is refused for (checks run vectorised)."""
        import numpy as np

        for position in np.flatnonzero(mask)[:1000].tolist():
            if position not in problems:
                problems[position] = reason(position)

    @staticmethod
    def _raise_problems(problems: dict[int, str]) -> None:
        if not problems:
            return
        positions = sorted(problems)
        shown = "; ".join(f"row {p + 1}: {problems[p]}" for p in positions[:5])
        more = f" (and {len(positions) - 5} more)" if len(positions) > 5 else ""
        raise ValidationError(f"{len(positions)} value(s) refused, nothing was written. {shown}{more}.")

    def _all_kpis(self) -> list[Kpi]:
        with self._db.session() as session:
            return list(session.exec(select(Kpi)))

    # -- reading --------------------------------------------------------------
    def series(
        self,
        kpi_id: int,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
        segment: str | None = "",
    ) -> pd.DataFrame:
        """Values of one KPI, oldest first; ``segment=None`` returns every segment."""
        return store.read_series(
            self._db, kpi_id, start=start, end=end, segments=None if segment is None else (segment,)
        )

    def rows(self, kpi_id: int) -> list[Measurement]:
        """Full rows (ids, notes, provenance) for the editable table."""
        with self._db.session() as session:
            return list(
                session.exec(
                    select(Measurement)
                    .where(Measurement.kpi_id == kpi_id)
                    .order_by(Measurement.segment, Measurement.period_start)
                )
            )

"""Bulk paths for measurements: one ``executemany`` transaction in, pandas out.

The ORM costs ~50x on these paths, so they go through the raw DB-API
connection. The upsert statement is plain SQL understood by SQLite (>= 3.24)
and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from kpidesk.storage.db import Database

if TYPE_CHECKING:
    import pandas as pd

# (kpi_id, period_start 'YYYY-MM-DD', frequency, segment, value, numerator, denominator, note)
MeasurementRow = tuple[int, str, str, str, float | None, float | None, float | None, str]

SERIES_COLUMNS = ["period_start", "segment", "value", "numerator", "denominator"]


_COLUMNS = ("kpi_id, period_start, frequency, segment, value, numerator, denominator, note, source,"
            " import_batch_id, data_source_id, version, created_at, updated_at, updated_by")
_ON_CONFLICT = (
    " ON CONFLICT (kpi_id, period_start, segment) DO UPDATE SET"
    " value = excluded.value, numerator = excluded.numerator, denominator = excluded.denominator,"
    " note = excluded.note, frequency = excluded.frequency, source = excluded.source,"
    " import_batch_id = excluded.import_batch_id, data_source_id = excluded.data_source_id,"
    " version = measurement.version + 1, updated_at = excluded.updated_at, updated_by = excluded.updated_by"
)
_STAGING = ("CREATE TEMP TABLE IF NOT EXISTS kpidesk_staging (kpi_id INTEGER, period_start TEXT, frequency TEXT,"
            " segment TEXT, value REAL, numerator REAL, denominator REAL, note TEXT)")


def param_style(dbapi: Any) -> str:
    return "?" if type(dbapi).__module__.startswith("sqlite3") else "%s"


def upsert_rows(dbapi: Any, rows: Iterable[MeasurementRow], *, source: str, user: str,
                import_batch_id: int | None = None, data_source_id: int | None = None) -> None:
    """Upsert rows on an open write transaction (the caller owns commit/rollback).

    On SQLite the rows go through ``executemany`` into a temporary staging
    table holding only the per-row columns; one ``INSERT ... SELECT ... ON
    CONFLICT`` then binds the per-call columns once. Binding 15 parameters per
    row straight into the indexed table is ~2.5x slower (benchmarks/bench_storage.py).
    """
    now = dt.datetime.now(dt.UTC)
    cur = dbapi.cursor()
    if param_style(dbapi) == "?":
        stamp = now.replace(tzinfo=None).isoformat(sep=" ")  # SQLite keeps UTC as naive text
        cur.execute(_STAGING)
        cur.execute("DELETE FROM kpidesk_staging")
        cur.executemany("INSERT INTO kpidesk_staging VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        cur.execute(
            f"INSERT INTO measurement ({_COLUMNS}) SELECT kpi_id, period_start, frequency, segment, value,"
            " numerator, denominator, note, ?, ?, ?, 1, ?, ?, ? FROM kpidesk_staging WHERE true" + _ON_CONFLICT,
            (source, import_batch_id, data_source_id, stamp, stamp, user))
        cur.execute("DELETE FROM kpidesk_staging")
    else:  # PostgreSQL: COPY into staging, then the same INSERT ... SELECT
        from kpidesk.storage import pg

        pg.lock_bulk_writes(dbapi)
        pg.copy_into_staging(dbapi, rows)
        cur.execute(
            f"INSERT INTO measurement ({_COLUMNS}) SELECT kpi_id, period_start, frequency, segment, value,"
            " numerator, denominator, note, %s, %s, %s, 1, %s, %s, %s FROM kpidesk_staging" + _ON_CONFLICT,
            (source, import_batch_id, data_source_id, now, now, user))
        cur.execute("TRUNCATE kpidesk_staging")
    cur.close()


_VALUES_STAGING = ("CREATE TEMP TABLE IF NOT EXISTS kpidesk_values_staging (kpi_id INTEGER, period_start TEXT,"
                   " segment TEXT, value REAL, note TEXT NOT NULL DEFAULT '')")


def _stage(cur: Any, names: tuple[str, ...], columns: list[list[Any]]) -> None:
    """Insert rows given as columns into the values staging table, many rows per statement.

    Why not ``executemany``: it steps the statement once per row, and that per-row overhead
    in the sqlite3 module is half the cost of staging 200,000 rows; a ``VALUES (...), (...)``
    statement of ~1,000 rows binds the same parameters in a fraction of the time.
    """
    import sqlite3

    width = len(names)
    per = max(1, min(1000, cur.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width))
    head = f"INSERT INTO kpidesk_values_staging ({', '.join(names)}) VALUES "
    one = "(" + ", ".join(["?"] * width) + ")"
    full = head + ", ".join([one] * per)
    total = len(columns[0])
    for start in range(0, total, per):
        stop = min(start + per, total)
        params: list[Any] = [None] * ((stop - start) * width)
        for j, column in enumerate(columns):  # interleave the columns row by row, in C
            params[j::width] = column[start:stop]
        cur.execute(full if stop - start == per else head + ", ".join([one] * (stop - start)), params)


def upsert_values(dbapi: Any, kpi_ids: Sequence[int], period_starts: Sequence[str], segments: Sequence[str],
                  values: Sequence[float], notes: Sequence[str], *, frequency: str, source: str, user: str,
                  import_batch_id: int | None = None) -> None:
    """Upsert value-only rows sharing one ``frequency`` (no numerator/denominator) on an open transaction.

    The import's bulk path. Why not :func:`upsert_rows`: on SQLite, staging
    costs per bound parameter, so this binds only the 4 columns that differ per
    row (kpi_id, period_start, segment, value) — ~2x faster than 8 for 200,000
    rows — and a note only for the few rows that have one, ~1,000 rows per
    statement (:func:`_stage`); frequency, the empty numerator/denominator and
    the per-call columns are constants of the one ``INSERT ... SELECT ... ON
    CONFLICT``. Rows should come sorted by (kpi_id, period_start, segment) so
    the unique index fills in order. PostgreSQL takes the rows through
    :func:`upsert_rows` (COPY).
    """
    n = len(kpi_ids)
    if not n:
        return
    now = dt.datetime.now(dt.UTC)
    cur = dbapi.cursor()
    if param_style(dbapi) == "?":
        stamp = now.replace(tzinfo=None).isoformat(sep=" ")  # SQLite keeps UTC as naive text
        cur.execute(_VALUES_STAGING)
        cur.execute("DELETE FROM kpidesk_values_staging")
        noted = [i for i, note in enumerate(notes) if note] if any(notes) else []
        if noted:
            has_note = set(noted)
            keep = [i for i in range(n) if i not in has_note]
            _stage(cur, ("kpi_id", "period_start", "segment", "value", "note"),
                   [[seq[i] for i in noted] for seq in (kpi_ids, period_starts, segments, values, notes)])
            _stage(cur, ("kpi_id", "period_start", "segment", "value"),
                   [[seq[i] for i in keep] for seq in (kpi_ids, period_starts, segments, values)])
        else:
            _stage(cur, ("kpi_id", "period_start", "segment", "value"),
                   [list(kpi_ids), list(period_starts), list(segments), list(values)])
        cur.execute(
            f"INSERT INTO measurement ({_COLUMNS}) SELECT kpi_id, period_start, ?, segment, value, NULL, NULL,"
            " note, ?, ?, NULL, 1, ?, ?, ? FROM kpidesk_values_staging WHERE true" + _ON_CONFLICT,
            (frequency, source, import_batch_id, stamp, stamp, user))
        cur.execute("DELETE FROM kpidesk_values_staging")
        cur.close()
        return
    cur.close()
    full = zip(kpi_ids, period_starts, [frequency] * n, segments, values, [None] * n, [None] * n, notes,
               strict=True)
    upsert_rows(dbapi, full, source=source, user=user, import_batch_id=import_batch_id)


def bulk_upsert(db: Database, rows: Iterable[MeasurementRow], *, source: str,
                import_batch_id: int | None = None, data_source_id: int | None = None) -> None:
    """Upsert many measurements in one transaction: all rows land, or none do."""
    with db.raw(write=True) as dbapi:
        upsert_rows(dbapi, rows, source=source, user=db.user, import_batch_id=import_batch_id,
                    data_source_id=data_source_id)


def read_series(db: Database, kpi_id: int, *, start: dt.date | None = None, end: dt.date | None = None,
                segments: Sequence[str] | None = ("",)) -> pd.DataFrame:
    """One KPI's values as a DataFrame (period_start as datetime64, sorted).

    ``segments=("",)`` (default) reads the totals; ``None`` reads every segment.
    """
    import pandas as pd

    with db.raw() as dbapi:
        p = param_style(dbapi)
        sql = ("SELECT period_start, segment, value, numerator, denominator FROM measurement"
               f" WHERE kpi_id = {p}")
        params: list[Any] = [kpi_id]
        if start is not None:
            sql += f" AND period_start >= {p}"
            params.append(start.isoformat())
        if end is not None:
            sql += f" AND period_start <= {p}"
            params.append(end.isoformat())
        if segments is not None:
            sql += f" AND segment IN ({', '.join([p] * len(segments))})"
            params.extend(segments)
        sql += " ORDER BY segment, period_start"
        cur = dbapi.cursor()
        cur.execute(sql, params)
        rows = cur.fetchall()
        cur.close()
    frame = pd.DataFrame.from_records(rows, columns=SERIES_COLUMNS, coerce_float=True)
    frame["period_start"] = pd.to_datetime(frame["period_start"].astype(str), format="ISO8601")
    for column in ("value", "numerator", "denominator"):
        frame[column] = frame[column].astype("float64")
    return frame

"""Copy a whole workspace between any two backends, verified by per-table checksums.

SQLite -> PostgreSQL moves a personal workspace to the team; PostgreSQL ->
SQLite takes a snapshot for offline review preparation. The destination is
written in one transaction and checked (row counts and a checksum per table)
before it commits, so a copy either lands whole and verified or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, func, select, text
from sqlmodel import SQLModel

import kpidesk.storage.models  # noqa: F401  (registers every table on SQLModel.metadata)
from kpidesk.errors import KpideskError
from kpidesk.storage.db import Database

BATCH = 5000


@dataclass(frozen=True)
class TableCheck:
    table: str
    rows: int
    checksum: str


def _canonical(value: Any) -> Any:
    """One representation per value whatever the backend returned (dates, floats, JSON, bools)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, str) and value[:1] in "[{":
        try:  # JSON columns come back as text from some drivers
            return json.dumps(json.loads(value), sort_keys=True, separators=(",", ":"))
        except ValueError:
            return value
    return value


def _ordered(table: Table):  # type: ignore[no-untyped-def]
    return select(table).order_by(*table.primary_key.columns)


def table_checksums(db: Database) -> list[TableCheck]:
    """Row count and SHA-256 of every kpidesk table's rows in primary-key order."""
    with db.engine.connect() as conn:
        return _checks_in(conn)


def _row_counts(conn: Connection) -> dict[str, int]:
    return {
        t.name: int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
        for t in SQLModel.metadata.sorted_tables
    }


def copy_workspace(source: Database, dest: Database, *, replace: bool = False) -> list[TableCheck]:
    """Copy every row of ``source`` into ``dest`` (same schema version), verified; returns the checks.

    Refuses a non-empty destination unless ``replace``; then its rows are
    deleted in the same transaction that writes the copy.
    """
    dest.require_writable()
    if source.schema_version() != dest.schema_version():
        raise KpideskError(
            "The two workspaces have different schema versions; open both with this kpidesk "
            "first so they are upgraded."
        )
    expected = table_checksums(source)
    tables = SQLModel.metadata.sorted_tables
    with dest.engine.begin() as conn:
        counts = _row_counts(conn)
        if any(counts.values()) and not replace:
            filled = ", ".join(f"{name} ({n})" for name, n in counts.items() if n)
            raise KpideskError(f"The destination is not empty: {filled}. Use --replace to overwrite it.")
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        for table in reversed(tables):
            conn.execute(table.delete())
        with source.engine.connect() as src:
            for table in tables:
                result = src.execution_options(stream_results=True, yield_per=BATCH).execute(_ordered(table))
                for chunk in result.mappings().partitions(BATCH):
                    conn.execute(table.insert(), [dict(row) for row in chunk])
        if conn.dialect.name == "postgresql":
            for table in tables:
                if "id" in table.c:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                            f" COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                        )
                    )
        got = _checks_in(conn)
        if got != expected:
            bad = [e.table for e, g in zip(expected, got, strict=True) if e != g]
            raise KpideskError(
                f"The copy did not verify (tables {', '.join(bad)} differ); nothing was written."
            )
    return expected


def _checks_in(conn: Connection) -> list[TableCheck]:
    out = []
    for table in SQLModel.metadata.sorted_tables:
        digest = hashlib.sha256()
        count = 0
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(_ordered(table))
        for row in result:
            digest.update(json.dumps([_canonical(v) for v in row], separators=(",", ":")).encode())
            digest.update(b"\n")
            count += 1
        out.append(TableCheck(table.name, count, digest.hexdigest()))
    return out

"""What only a PostgreSQL team workspace needs: roles, change counter, COPY.

SQLite stays the embedded default; this module is imported only for
``postgresql://`` URLs, and needs the ``team`` extra (psycopg 3).

- Roles: ``kpidesk_viewer`` may read, ``kpidesk_editor`` may also write. The
  server enforces them; the app only reads them to open a viewer's session
  read-only with the reason.
- Change counter: one row bumped by statement-level triggers on every table,
  so every open window can notice others' changes with one cheap query.
- Bulk writes: ``COPY`` into a temporary staging table, then one
  ``INSERT ... SELECT ... ON CONFLICT`` (row-by-row inserts cost ~10x).
- Imports and other bulk writes take a transaction-level advisory lock, so
  two of them serialise instead of interleaving.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import SQLModel

import kpidesk.storage.models  # noqa: F401  (registers every table on SQLModel.metadata)

VIEWER = "kpidesk_viewer"
EDITOR = "kpidesk_editor"
BULK_LOCK_KEY = 0x4B504944  # advisory lock id shared by every bulk writer
CHANGE_TABLE = "kpidesk_change"

_TRIGGER_FUNCTION = f"""
CREATE OR REPLACE FUNCTION kpidesk_bump_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE {CHANGE_TABLE} SET counter = counter + 1, changed_at = now(), changed_by = current_user;
  RETURN NULL;
END $$"""


def change_counter_statements() -> list[str]:
    """DDL for the change counter and one statement-level trigger per table."""
    statements = [
        f"CREATE TABLE IF NOT EXISTS {CHANGE_TABLE} (counter BIGINT NOT NULL, changed_at TIMESTAMPTZ NOT NULL,"
        " changed_by TEXT NOT NULL)",
        f"INSERT INTO {CHANGE_TABLE} SELECT 0, now(), current_user WHERE NOT EXISTS (SELECT 1 FROM {CHANGE_TABLE})",
        _TRIGGER_FUNCTION,
    ]
    for table in SQLModel.metadata.sorted_tables:
        statements.append(f"DROP TRIGGER IF EXISTS kpidesk_change_{table.name} ON {table.name}")
        statements.append(
            f"CREATE TRIGGER kpidesk_change_{table.name} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
            f" ON {table.name} FOR EACH STATEMENT EXECUTE FUNCTION kpidesk_bump_change()"
        )
    return statements


def role_statements() -> list[str]:
    """Create the two roles (if missing) and grant them what they may do."""
    tables = ", ".join([t.name for t in SQLModel.metadata.sorted_tables] + ["kpidesk_meta", CHANGE_TABLE])
    data_tables = ", ".join(t.name for t in SQLModel.metadata.sorted_tables)
    statements = []
    for role in (VIEWER, EDITOR):
        statements.append(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN"
            f" CREATE ROLE {role} NOLOGIN; END IF; END $$"
        )
    statements += [
        f"GRANT USAGE ON SCHEMA public TO {VIEWER}, {EDITOR}",
        f"REVOKE ALL ON {tables} FROM {VIEWER}, {EDITOR}",
        f"GRANT SELECT ON {tables} TO {VIEWER}",
        f"GRANT SELECT ON {tables} TO {EDITOR}",
        f"GRANT INSERT, UPDATE, DELETE ON {data_tables} TO {EDITOR}",
        f"GRANT UPDATE ON {CHANGE_TABLE} TO {EDITOR}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {EDITOR}",
        f"GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO {VIEWER}",
    ]
    return statements


def schema_statements(conn: Connection) -> list[str]:
    """The CREATE TABLE / INDEX statements of the current schema, as PostgreSQL runs them."""
    dialect = conn.dialect
    out = []
    for table in SQLModel.metadata.sorted_tables:
        out.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        out.extend(str(CreateIndex(index).compile(dialect=dialect)).strip() for index in table.indexes)
    return out


def install(conn: Connection) -> None:
    """Change counter and triggers (run after the schema exists, in the migration transaction)."""
    for statement in change_counter_statements():
        conn.execute(text(statement))


def change_token(conn: Connection) -> int:
    return int(conn.execute(text(f"SELECT counter FROM {CHANGE_TABLE}")).scalar() or 0)


def write_refusal(conn: Connection) -> str:
    """Why the current database user may not write, or "" when they may."""
    allowed = conn.execute(
        text(
            "SELECT has_table_privilege(current_user, 'measurement', 'INSERT')"
            " AND has_table_privilege(current_user, 'measurement', 'UPDATE')"
        )
    ).scalar()
    if allowed:
        return ""
    user = conn.execute(text("SELECT current_user")).scalar()
    return (
        f"your database role ({user}) may only read this team workspace; ask an administrator to grant "
        f"you {EDITOR}"
    )


def lock_bulk_writes(dbapi: Any) -> None:
    """Serialise bulk writers (imports, refreshes) for the rest of this transaction."""
    dbapi.execute("SELECT pg_advisory_xact_lock(%s)", (BULK_LOCK_KEY,))


_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS kpidesk_staging (kpi_id BIGINT, period_start DATE, frequency TEXT,"
    " segment TEXT, value DOUBLE PRECISION, numerator DOUBLE PRECISION, denominator DOUBLE PRECISION,"
    " note TEXT) ON COMMIT DELETE ROWS"
)


def copy_into_staging(dbapi: Any, rows: Iterable[tuple[Any, ...]]) -> None:
    """COPY measurement rows into the session's staging table (binary-safe via psycopg's copy API)."""
    cur = dbapi.cursor()
    cur.execute(_STAGING)
    cur.execute("TRUNCATE kpidesk_staging")
    with cur.copy(
        "COPY kpidesk_staging (kpi_id, period_start, frequency, segment, value, numerator,"
        " denominator, note) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row)
    cur.close()

"""Ordered schema migrations that serve SQLite and PostgreSQL alike.

A new database gets the current schema from the models in one step and is
stamped with ``LATEST``; an older one runs each ``if version < N`` step in
order, inside one transaction, after a backup (see ``Database.migrate``).
Steps use plain, portable DDL (``ALTER TABLE ... ADD COLUMN``), so one runner
serves both backends without Alembic's autogeneration machinery.

To change the schema: edit the model, append a step here, bump ``LATEST``,
and add a fixture test that upgrades a file from the previous version.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, text

Step = Callable[[Connection], None]


def _v2_aliases_currency_ratio_parts(conn: Connection) -> None:
    """v2: KPI aliases and currency; numerator/denominator on measurements (ratio roll-ups)."""
    conn.execute(text("ALTER TABLE kpi ADD COLUMN aliases JSON NOT NULL DEFAULT '[]'"))
    conn.execute(text("ALTER TABLE kpi ADD COLUMN currency VARCHAR(8) NOT NULL DEFAULT ''"))
    conn.execute(text("ALTER TABLE measurement ADD COLUMN numerator FLOAT"))
    conn.execute(text("ALTER TABLE measurement ADD COLUMN denominator FLOAT"))


# version -> the step that upgrades from version-1 to version
STEPS: dict[int, Step] = {
    2: _v2_aliases_currency_ratio_parts,
}
LATEST = max(STEPS) if STEPS else 1


def pending(current: int) -> list[int]:
    return [version for version in sorted(STEPS) if version > current]

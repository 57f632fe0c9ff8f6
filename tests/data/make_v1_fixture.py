"""Write tests/data/v1_workspace.db: a workspace as schema version 1 left it.

Version 1 had no KPI aliases/currency and no numerator/denominator on
measurements (migration 2 adds them). Run: python tests/data/make_v1_fixture.py
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

V1_SCHEMA = """
CREATE TABLE product (id INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL UNIQUE, description VARCHAR NOT NULL,
  archived BOOLEAN NOT NULL, version INTEGER NOT NULL, created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL, updated_by VARCHAR(120) NOT NULL);
CREATE TABLE kpi (id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL REFERENCES product(id) ON DELETE CASCADE,
  key VARCHAR(80) NOT NULL, name VARCHAR(200) NOT NULL, definition VARCHAR NOT NULL, formula_text VARCHAR NOT NULL,
  category VARCHAR(20) NOT NULL, stage VARCHAR(20) NOT NULL, unit VARCHAR(20) NOT NULL,
  direction VARCHAR(10) NOT NULL, aggregation VARCHAR(10) NOT NULL, frequency VARCHAR(10) NOT NULL,
  formula VARCHAR, convention VARCHAR NOT NULL, catalog_key VARCHAR(80), min_value FLOAT, max_value FLOAT,
  band_low FLOAT, band_high FLOAT, archived BOOLEAN NOT NULL, version INTEGER NOT NULL,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, updated_by VARCHAR(120) NOT NULL,
  CONSTRAINT uq_kpi_product_key UNIQUE (product_id, key));
CREATE TABLE measurement (id INTEGER PRIMARY KEY, kpi_id INTEGER NOT NULL REFERENCES kpi(id) ON DELETE CASCADE,
  period_start DATE NOT NULL, frequency VARCHAR(10) NOT NULL, segment VARCHAR(200) NOT NULL, value FLOAT,
  note VARCHAR NOT NULL, source VARCHAR(20) NOT NULL, import_batch_id INTEGER, data_source_id INTEGER,
  version INTEGER NOT NULL, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL,
  updated_by VARCHAR(120) NOT NULL,
  CONSTRAINT uq_measurement_kpi_period_segment UNIQUE (kpi_id, period_start, segment));
"""


def make(path: Path) -> Path:
    """Build the v1 file: the current schema's other tables, the three v1 tables above, and data."""
    from sqlalchemy import create_engine
    from sqlmodel import SQLModel

    import kpidesk.storage.models  # noqa: F401  (registers the tables)

    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.executescript(V1_SCHEMA)
    con.close()
    engine = create_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)  # creates the tables v1 lacked; existing ones are kept as v1 had them
    engine.dispose()
    con = sqlite3.connect(path)
    now = "2024-05-01 10:00:00"
    con.execute("INSERT INTO product VALUES (1, 'Legacy App', '', 0, 1, ?, ?, 'pm')", (now, now))
    con.execute(
        "INSERT INTO kpi (id, product_id, key, name, definition, formula_text, category, stage, unit, direction,"
        " aggregation, frequency, convention, archived, version, created_at, updated_at, updated_by)"
        " VALUES (1, 1, 'nps', 'Net Promoter Score', '', '', 'customer', 'referral', 'score', 'up', 'ratio',"
        " 'month', '', 0, 1, ?, ?, 'pm')", (now, now))
    for month, value in enumerate([31.0, 33.5, 36.0], start=1):
        con.execute("INSERT INTO measurement (kpi_id, period_start, frequency, segment, value, note, source, version,"
                    " created_at, updated_at, updated_by) VALUES (1, ?, 'month', '', ?, '', 'manual', 1, ?, ?, 'pm')",
                    (f"2024-0{month}-01", value, now, now))
    con.execute("PRAGMA user_version = 1")
    con.execute("PRAGMA application_id = 1263552836")
    con.commit()
    con.execute("VACUUM")
    con.close()
    return path


if __name__ == "__main__":
    print(make(Path(__file__).with_name("v1_workspace.db")))

"""Team workspace on PostgreSQL against its references, measured in one run.

1. 1,000,000 measurements imported through kpidesk (MeasurementService.record_many:
   validation + COPY into staging + INSERT ... ON CONFLICT) into PostgreSQL vs
   plain psycopg COPY of the same rows into the same table. Target >= 60 % of COPY's rate.
2. Loading the portfolio dashboard's data (latest value, change and a 36-month
   sparkline for 50 KPIs) from PostgreSQL vs from SQLite. Target <= 1.5x SQLite.

Needs a server: KPIDESK_TEST_PG_URL (as .ci/start-postgres.sh prints), e.g.
  eval "$(.ci/start-postgres.sh)"; python benchmarks/bench_team.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy.engine import make_url

from kpidesk.services.workspace import Workspace


def admin(url: str) -> psycopg.Connection:
    u = make_url(url)
    return psycopg.connect(dbname="postgres", user=u.username or "postgres", host=u.query.get("host") or u.host,
                           port=u.port, autocommit=True)


def fresh_db(url: str) -> tuple[str, str]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with admin(url) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return name, make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_db(url: str, name: str) -> None:
    with admin(url) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def frame_for(kpi_ids: list[int], rows: int) -> pd.DataFrame:
    per = rows // len(kpi_ids)
    days = pd.date_range("1990-01-01", periods=per, freq="D")
    return pd.DataFrame({"kpi_id": np.repeat(kpi_ids, per), "period_start": np.tile(days.values, len(kpi_ids)),
                         "value": np.random.default_rng(3).uniform(0, 1e4, per * len(kpi_ids)).round(2)})


def workspace_with_kpis(target: str, count: int, frequency: str) -> tuple[Workspace, list[int]]:
    ws = Workspace.open(target)
    product, _ = ws.products.create("Bench")
    ids = [ws.kpis.add_custom(product.id, f"Metric {i}", frequency=frequency)[0].id for i in range(count)]
    return ws, ids


def bench_import(url: str, rows: int) -> tuple[float, float]:
    name, db_url = fresh_db(url)
    try:
        ws, ids = workspace_with_kpis(db_url, 100, "day")
        frame = frame_for(ids, rows)
        start = time.perf_counter()
        ws.measurements.record_many(frame)
        ours = time.perf_counter() - start
        ws.close()
    finally:
        drop_db(url, name)
    name, db_url = fresh_db(url)
    try:
        ws, ids = workspace_with_kpis(db_url, 100, "day")
        ws.close()
        frame = frame_for(ids, rows)
        now = dt.datetime.now(dt.UTC)
        start = time.perf_counter()
        tuples = zip(frame["kpi_id"].tolist(), frame["period_start"].dt.date.tolist(), frame["value"].tolist(),
                     strict=True)
        with psycopg.connect(make_url(db_url).render_as_string(hide_password=False)) as con, con.cursor() as cur:
            with cur.copy("COPY measurement (kpi_id, period_start, frequency, segment, value, note, source, version,"
                          " created_at, updated_at, updated_by) FROM STDIN") as copy:
                for kpi_id, day, value in tuples:
                    copy.write_row((kpi_id, day, "day", "", value, "", "manual", 1, now, now, "bench"))
            con.commit()
        plain = time.perf_counter() - start
    finally:
        drop_db(url, name)
    return ours, plain


def bench_dashboard(url: str, folder: Path, repeats: int = 15) -> tuple[float, float]:
    from kpidesk.gui import dashboard_data

    dashboard_data.SPARK_POINTS = 36  # the portfolio view's 36-month sparkline
    name, db_url = fresh_db(url)
    times = {}
    try:
        for label, target in (("sqlite", str(folder / "dash.db")), ("postgresql", db_url)):
            ws, ids = workspace_with_kpis(target, 50, "month")
            months = pd.date_range("2023-01-01", periods=36, freq="MS")
            ws.measurements.record_many(pd.DataFrame({
                "kpi_id": np.repeat(ids, 36), "period_start": np.tile(months.values, 50),
                "value": np.random.default_rng(5).uniform(1, 100, 50 * 36).round(2)}))
            samples = []
            for _ in range(repeats):
                start = time.perf_counter()
                data = dashboard_data.load_dashboard(ws)
                samples.append(time.perf_counter() - start)
            assert len(data.tiles) == 50 and all(len(t.spark) == 36 for t in data.tiles)
            times[label] = statistics.median(samples)
            ws.close()
    finally:
        drop_db(url, name)
    return times["postgresql"], times["sqlite"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("KPIDESK_TEST_PG_URL", ""))
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    if not args.url:
        sys.exit("Set KPIDESK_TEST_PG_URL or pass --url (eval \"$(.ci/start-postgres.sh)\" starts a server).")
    ours, plain = bench_import(args.url, args.rows)
    print(f"bulk import of {args.rows:,} measurements into PostgreSQL")
    print(f"  kpidesk record_many:  {ours:6.2f} s  {args.rows / ours:>10,.0f} rows/s")
    print(f"  plain psycopg COPY:   {plain:6.2f} s  {args.rows / plain:>10,.0f} rows/s")
    print(f"  ratio (kpidesk rate / COPY rate): {plain / ours:.0%}  (target >= 60 %)")
    with tempfile.TemporaryDirectory() as tmp:
        pg_time, sqlite_time = bench_dashboard(args.url, Path(tmp))
    print("portfolio dashboard data: 50 KPIs, latest + change + 36-month sparkline (median of 15)")
    print(f"  from PostgreSQL: {pg_time * 1000:6.1f} ms")
    print(f"  from SQLite:     {sqlite_time * 1000:6.1f} ms")
    print(f"  ratio: {pg_time / sqlite_time:.2f}x  (target <= 1.5x)")


if __name__ == "__main__":
    main()

"""Storage bulk paths against plain sqlite3, measured in the same run.

1. Insert 1,000,000 measurements through MeasurementService.record_many (the
   service's bulk path: vectorised validation + one executemany upsert
   transaction) and, into an identical fresh file, through plain
   ``sqlite3.executemany`` of the same rows. Target: service >= 70 % of plain.
2. Read one KPI's 10,000-point series into pandas (read_series) against a raw
   cursor fetch of the same rows. Target: <= 2x.

Run: python benchmarks/bench_storage.py [--rows N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kpidesk.services.workspace import Workspace
from kpidesk.storage.measurements import read_series


def make_frame(kpi_ids: list[int], rows: int) -> pd.DataFrame:
    per_kpi = rows // len(kpi_ids)
    days = pd.date_range("2000-01-01", periods=per_kpi, freq="D")
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "kpi_id": np.repeat(kpi_ids, per_kpi),
        "period_start": np.tile(days.values, len(kpi_ids)),
        "value": rng.uniform(0, 1000, per_kpi * len(kpi_ids)).round(3),
    })


def setup(path: Path, kpis: int) -> tuple[Workspace, list[int]]:
    ws = Workspace.open(path, backup_dir=path.parent / "backups")
    product, _ = ws.products.create("Bench")
    ids = [ws.kpis.add_custom(product.id, f"Metric {i}", unit="count", frequency="day")[0].id for i in range(kpis)]
    return ws, ids


def bench_insert(rows: int, folder: Path) -> tuple[float, float]:
    ws, ids = setup(folder / "service.db", 100)
    frame = make_frame(ids, rows)
    start = time.perf_counter()
    ws.measurements.record_many(frame)
    service = time.perf_counter() - start
    ws.close()

    ws, ids = setup(folder / "plain.db", 100)
    ws.close()
    frame = make_frame(ids, rows)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    start = time.perf_counter()
    tuples = list(zip(frame["kpi_id"].tolist(), frame["period_start"].dt.strftime("%Y-%m-%d").tolist(),
                      frame["value"].tolist(), strict=True))
    con = sqlite3.connect(folder / "plain.db", isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    con.execute("BEGIN IMMEDIATE")
    con.executemany(
        "INSERT INTO measurement (kpi_id, period_start, frequency, segment, value, note, source, version,"
        " created_at, updated_at, updated_by) VALUES (?, ?, 'day', '', ?, '', 'manual', 1, ?, ?, 'bench')",
        ((k, p, v, now, now) for k, p, v in tuples))
    con.execute("COMMIT")
    con.close()
    plain = time.perf_counter() - start
    return service, plain


def bench_read(folder: Path, repeats: int = 15) -> tuple[float, float]:
    ws, ids = setup(folder / "read.db", 3)
    ws.measurements.record_many(make_frame(ids, 30_000))  # 10k points per KPI
    kpi_id = ids[1]
    ours, raw = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        frame = read_series(ws.db, kpi_id)
        ours.append(time.perf_counter() - start)
        assert len(frame) == 10_000
        start = time.perf_counter()
        con = sqlite3.connect(ws.db.path)
        rows = con.execute("SELECT period_start, segment, value, numerator, denominator FROM measurement"
                           " WHERE kpi_id = ? AND segment = '' ORDER BY segment, period_start", (kpi_id,)).fetchall()
        con.close()
        raw.append(time.perf_counter() - start)
        assert len(rows) == 10_000
    ws.close()
    return statistics.median(ours), statistics.median(raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        service, plain = bench_insert(args.rows, folder)
        print(f"bulk insert of {args.rows:,} measurements")
        print(f"  kpidesk record_many:   {service:6.2f} s  {args.rows / service:>12,.0f} rows/s")
        print(f"  sqlite3.executemany:   {plain:6.2f} s  {args.rows / plain:>12,.0f} rows/s")
        print(f"  ratio (kpidesk rate / plain rate): {plain / service:.0%}  (target >= 70 %)")
        ours, raw = bench_read(folder)
        print("read one KPI's 10,000-point series (median of 15)")
        print(f"  kpidesk read_series -> DataFrame: {ours * 1000:6.1f} ms")
        print(f"  raw cursor fetchall:              {raw * 1000:6.1f} ms")
        print(f"  ratio: {ours / raw:.2f}x  (target <= 2x)")


if __name__ == "__main__":
    main()

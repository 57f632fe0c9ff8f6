"""Import benchmark: a 200,000-row long sheet, end to end, against its references.

Run: ``.venv/bin/python benchmarks/bench_import.py [rows]``. It writes the
same data (50 KPIs × 4,000 days, half of the KPIs in a segment) as .xlsx
(xlsxwriter: shared strings, date cells) and .csv, then times, each step in a
fresh process (so memory figures do not mix), in one run:

(a) ``pandas.read_excel(engine="calamine")`` parse alone;
(b) kpidesk's full import of the xlsx: pre-flight, sandboxed parse, layout,
    records, mapping, validation, plan, one-transaction write into a new
    workspace (``ImportService.plan`` + ``ImportService.apply``). As in
    ``kpidesk import``, the sandbox child is booted (``prepare_reading``) before
    the clock starts, like (a)'s pandas and calamine imports;
(c) the same full import of the csv;
(d) plain ``sqlite3.executemany`` of the same 200,000 rows into an empty
    kpidesk ``measurement`` table — the write itself, with the table's unique
    key and indexes that any import into kpidesk must maintain (one
    transaction, WAL, synchronous=NORMAL, as kpidesk's own file);
(d0) for reference, the same into an unindexed 4-column table.

It prints the figures (best of ``REPEAT``), the ratios (b)/(a) and (c)/(d),
and for (b) the peak resident memory above the process's start, and the
sandbox child's peak. Targets (issue 3): (b) ≤ 1.5 × (a); (c) ≤ 2.5 × (d);
peak for (b) ≤ 400 MB above start.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REPEAT = 3
KPIS = 50


def make_files(folder: Path, rows: int) -> tuple[Path, Path]:
    """The same long table as .xlsx and .csv: Period (date), KPI, Segment, Value."""
    import xlsxwriter

    rng = random.Random(7)
    names = [f"Metric {i:02d}" for i in range(KPIS)]
    xlsx, csv = folder / "long.xlsx", folder / "long.csv"
    book = xlsxwriter.Workbook(str(xlsx), {"constant_memory": True})
    sheet = book.add_worksheet("Values")
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, ["Period", "KPI", "Segment", "Value"])
    with open(csv, "w", encoding="utf-8", newline="") as handle:
        handle.write("Period,KPI,Segment,Value\n")
        for i in range(rows):
            day = dt.date(2010, 1, 1) + dt.timedelta(days=i // KPIS)
            kpi = i % KPIS
            segment = "region:EU" if kpi % 2 else ""
            value = round(rng.uniform(0, 5000), 3)
            sheet.write_datetime(i + 1, 0, dt.datetime(day.year, day.month, day.day), date_format)
            sheet.write_string(i + 1, 1, names[kpi])
            if segment:
                sheet.write_string(i + 1, 2, segment)
            sheet.write_number(i + 1, 3, value)
            handle.write(f"{day.isoformat()},{names[kpi]},{segment},{value}\n")
    book.close()
    return xlsx, csv


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kB on Linux


def step(name: str, path: str, workdir: str) -> dict[str, float]:
    """One measurement, run in its own process (see ``main``)."""
    import pandas as pd

    from kpidesk.services.import_service import ImportService
    from kpidesk.services.workspace import Workspace

    start_rss = _rss_mb()
    if name == "a":
        began = time.perf_counter()
        frame = pd.read_excel(path, engine="calamine")
        seconds = time.perf_counter() - began
        assert len(frame) > 0
        return {"seconds": seconds, "start_mb": start_rss, "peak_mb": _peak_mb()}
    if name in ("d", "d0"):
        # (d) the write itself: the same rows into an empty kpidesk measurement table (its schema,
        #     unique key and indexes), by plain executemany — what any import must at least pay;
        # (d0) for reference: an empty 4-column table with no index at all.
        import sqlite3

        frame = pd.read_csv(path, keep_default_na=False)
        ids = {n: i + 1 for i, n in enumerate(sorted(frame["KPI"].unique()))}
        rows = list(zip(frame["KPI"].map(ids).tolist(), frame["Period"].tolist(), frame["Segment"].tolist(),
                        frame["Value"].tolist(), strict=True))
        target = os.path.join(workdir, f"plain-{name}-{time.time_ns()}.db")
        if name == "d":
            with Workspace.open(target) as ws:
                product, _ = ws.products.create("Bench")
                for i in range(KPIS):
                    ws.kpis.add_custom(product.id, f"Metric {i:02d}", key=f"metric_{i:02d}", frequency="day")
        con = sqlite3.connect(target, isolation_level=None)
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = NORMAL")
        if name == "d0":
            con.execute("CREATE TABLE value (kpi_id INTEGER, period_start TEXT, segment TEXT, value REAL)")
            sql = "INSERT INTO value VALUES (?, ?, ?, ?)"
        else:
            sql = ("INSERT INTO measurement (kpi_id, period_start, frequency, segment, value, note, source, version,"
                   " created_at, updated_at, updated_by) VALUES (?, ?, 'day', ?, ?, '', 'import', 1,"
                   " '2026-01-01 00:00:00', '2026-01-01 00:00:00', 'bench')")
        began = time.perf_counter()
        con.execute("BEGIN")
        con.executemany(sql, rows)
        con.execute("COMMIT")
        seconds = time.perf_counter() - began
        con.close()
        return {"seconds": seconds, "start_mb": start_rss, "peak_mb": _peak_mb()}
    # b / c: the full import into a new workspace whose product already has the 50 KPIs.
    # The sandbox child boots while the workspace opens, as in `kpidesk import` (cli/import_cmds.py);
    # (a) does not count its interpreter's imports either.
    ImportService.prepare_reading(path)
    db = os.path.join(workdir, f"ws-{name}-{time.time_ns()}.db")
    with Workspace.open(db) as ws:
        product, _ = ws.products.create("Bench")
        for i in range(KPIS):
            ws.kpis.add_custom(product.id, f"Metric {i:02d}", key=f"metric_{i:02d}", unit="count",
                               frequency="day")
        service = ImportService(ws.db, ws.catalog)
        import python_calamine  # noqa: F401 - loaded before the clock starts, like the app does

        from kpidesk.services.import_service import file_sha256

        start_rss = _rss_mb()
        began = time.perf_counter()
        # the steps of ImportService.plan, timed one by one
        records, kind, _ = service.read_records(path)
        read = time.perf_counter()
        plan = service.plan_records(records, product="Bench", file_name=os.path.basename(path), file_path=path,
                                    sha256=file_sha256(path), layout=kind)
        planned = time.perf_counter()
        result = service.apply(plan)
        seconds = time.perf_counter() - began
        assert result.inserted == plan.inserts > 0 and not plan.rejected, plan.summary()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e3
    return {"seconds": seconds, "start_mb": start_rss, "peak_mb": _peak_mb(), "child_peak_mb": children,
            "rows": result.inserted, "read": read - began, "plan": planned - read, "write": began + seconds - planned}


def run_step(name: str, path: Path, workdir: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--step", name, str(path), str(workdir)],
                         capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"step {name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(rows: int) -> None:
    with tempfile.TemporaryDirectory(prefix="kpidesk-bench-import-") as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        xlsx, csv = make_files(folder, rows)
        print(f"{rows:,} rows written as {xlsx.name} ({xlsx.stat().st_size / 1e6:.1f} MB) and "
              f"{csv.name} ({csv.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - began:.1f} s")
        results: dict[str, dict[str, float]] = {}
        for name, path in (("a", xlsx), ("b", xlsx), ("c", csv), ("d", csv), ("d0", csv)):
            runs = [run_step(name, path, folder) for _ in range(REPEAT)]
            results[name] = min(runs, key=lambda r: r["seconds"])
            results[name]["peak_above_start_mb"] = max(r["peak_mb"] - r["start_mb"] for r in runs)
        labels = {
            "a": "pandas.read_excel(engine='calamine'), xlsx",
            "b": "kpidesk full import, xlsx (sandboxed)",
            "c": "kpidesk full import, csv (sandboxed)",
            "d": "sqlite3.executemany into kpidesk's empty table",
            "d0": "sqlite3.executemany, unindexed 4-col table",
        }
        for name, label in labels.items():
            line = f"({name}) {label:45s} {results[name]['seconds']:7.2f} s"
            if name in ("b", "c"):
                r = results[name]
                line += f"   (read {r['read']:.2f} + map/validate/plan {r['plan']:.2f} + write {r['write']:.2f})"
            print(line)
        ratio_ba = results["b"]["seconds"] / results["a"]["seconds"]
        ratio_cd = results["c"]["seconds"] / results["d"]["seconds"]
        print(f"(b)/(a) = {ratio_ba:.2f}   target <= 1.5   {'OK' if ratio_ba <= 1.5 else 'MISSED'}")
        print(f"(c)/(d) = {ratio_cd:.2f}   target <= 2.5   {'OK' if ratio_cd <= 2.5 else 'MISSED'}")
        print(f"(c)/(d0) = {results['c']['seconds'] / results['d0']['seconds']:.2f}   (reference only)")
        peak = results["b"]["peak_above_start_mb"]
        print(f"peak memory of (b) above start: {peak:.0f} MB (target <= 400 MB{', OK' if peak <= 400 else ', MISSED'}); "
              f"sandbox child peak: {results['b'].get('child_peak_mb', 0):.0f} MB")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--step":
        os.environ.setdefault("KPIDESK_DATA_DIR", sys.argv[4])
        print(json.dumps(step(sys.argv[2], sys.argv[3], sys.argv[4])))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)

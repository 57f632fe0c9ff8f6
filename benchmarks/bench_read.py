"""Reader benchmark: the sandboxed read + layout + records of a 200,000-row long sheet.

Run: ``.venv/bin/python benchmarks/bench_read.py [rows]``. It writes the same
data as .xlsx (xlsxwriter, shared strings, date cells) and .csv into a
temporary folder and times, in one run:

(a) ``pandas.read_excel(engine="calamine")`` alone (the reference of issue 3);
(b) kpidesk's read (pre-flight + sandboxed child) + detect_layout + to_records of the xlsx;
(c) ``pandas.read_csv`` alone;
(d) kpidesk's read + detect_layout + to_records of the csv.

It prints each figure (best of 3), the ratios (b)/(a) and (d)/(c), and the
peak RSS of this process above its start (the child's memory is capped
separately by ``Limits.memory_bytes``). The full import (b of
benchmarks/bench_import.py) adds validation and the SQLite write on top of (b).
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_import import make_files


def best_of(repeat: int, func) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - started)
    return best, result


def kpidesk_import(path: Path):
    from kpidesk.io import detect_layout, read_workbook, to_records

    workbook = read_workbook(path)
    sheet = workbook.sheets[0]
    return to_records(sheet, detect_layout(sheet), path=str(path))


def main() -> int:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    import pandas as pd

    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as folder:
        xlsx, csv = make_files(Path(folder), rows)
        print(
            f"{rows:,} rows: xlsx {os.path.getsize(xlsx) / 1e6:.1f} MB, csv {os.path.getsize(csv) / 1e6:.1f} MB"
        )
        a, _ = best_of(3, lambda: pd.read_excel(xlsx, engine="calamine"))
        b, records = best_of(3, lambda: kpidesk_import(xlsx))
        c, _ = best_of(3, lambda: pd.read_csv(csv))
        d, csv_records = best_of(3, lambda: kpidesk_import(csv))
    peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start_rss) / 1024
    assert len(records) == rows and len(csv_records) == rows
    print(f"(a) pandas.read_excel(calamine)        {a:6.3f} s")
    print(f"(b) kpidesk read+layout+records xlsx   {b:6.3f} s   (b)/(a) = {b / a:.2f}")
    print(f"(c) pandas.read_csv                    {c:6.3f} s")
    print(f"(d) kpidesk read+layout+records csv    {d:6.3f} s   (d)/(c) = {d / c:.2f}")
    print(f"peak RSS of this process above start: {peak_mb:,.0f} MB (includes pandas' own reads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

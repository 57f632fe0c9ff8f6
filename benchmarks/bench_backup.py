"""Backup, quick_check and export-all on a large workspace, against a plain file copy.

    python benchmarks/bench_backup.py [ROWS]

Prints: file size; plain copy time (the reference, measured in the same run);
stepped online backup time and its ratio to the copy; the longest gap between
two progress reports (what a progress bar would show as a stall); the
quick_check time on open and whether it fits the 2-second bound; and the
export-all / import-all times.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path


def main(rows: int = 300_000) -> None:
    os.environ.setdefault("KPIDESK_DATA_DIR", tempfile.mkdtemp(prefix="kpidesk-bench-"))
    from kpidesk.services.workspace import Workspace
    from kpidesk.services.workspace_export import export_all, import_all
    from kpidesk.storage.backup import make_backup
    from kpidesk.storage.integrity import quick_check
    from kpidesk.storage.measurements import bulk_upsert

    folder = Path(tempfile.mkdtemp(prefix="kpidesk-bench-"))
    db = folder / "big.db"
    with Workspace.open(db, backup_dir=folder / "b") as ws:
        product, _ = ws.products.create("Pulse")
        kpis = [ws.kpis.add_from_catalog(product.id, key)[0] for key in ("dau", "signups", "revenue", "nps")]
        batch = [(kpis[i % 4].id, f"{1000 + i // 4800:04d}-{1 + (i // 400) % 12:02d}-01", "month",
                  f"segment:{(i // 4) % 100}", float(i), None, None, "imported from the weekly sheet")
                 for i in range(rows)]
        bulk_upsert(ws.db, batch, source="manual")
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    size = db.stat().st_size

    start = time.perf_counter()
    shutil.copyfile(db, folder / "copy.db")
    copy_s = time.perf_counter() - start

    class Gaps:
        def __init__(self) -> None:
            self.last = time.perf_counter()
            self.worst = 0.0
            self.reports = 0

        def report(self, fraction: float, text: str = "") -> None:
            now = time.perf_counter()
            self.worst = max(self.worst, now - self.last)
            self.last = now
            self.reports += 1

        def cancelled(self) -> bool:
            return False

    gaps = Gaps()
    start = time.perf_counter()
    info = make_backup(db, folder / "backups", progress=gaps, thin_after=False)
    backup_s = time.perf_counter() - start

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    start = time.perf_counter()
    status, _ = quick_check(con, seconds=2.0)
    quick_s = time.perf_counter() - start
    con.close()

    start = time.perf_counter()
    export_all(db, folder / "all.xlsx")
    export_s = time.perf_counter() - start
    start = time.perf_counter()
    with Workspace.open(folder / "again.db") as fresh:
        identical = import_all(fresh.db, folder / "all.xlsx").identical
    import_s = time.perf_counter() - start

    print(f"workspace: {rows:,} values, {size / 1e6:.1f} MB")
    print(f"plain file copy (reference): {copy_s:.3f} s")
    print(f"stepped online backup:       {backup_s:.3f} s  ratio {backup_s / copy_s:.1f}x copy "
          f"(includes quick_check of the copy); {gaps.reports} progress reports, longest gap {gaps.worst * 1000:.0f} ms;"
          f" backup holds {info.counts['measurements']:,} values")
    print(f"quick_check on open:         {quick_s:.3f} s  ({status}; bound 2 s)")
    print(f"export-all:                  {export_s:.1f} s  ratio {export_s / copy_s:.0f}x copy")
    print(f"import-all:                  {import_s:.1f} s  identical by checksums: {identical}")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300_000)

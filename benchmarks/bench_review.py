"""The review pack for a big product: 50 KPIs x 36 monthly values, xlsx and PDF.

    python benchmarks/bench_review.py [KPIS] [MONTHS]

Prints the time to compute the review content, to write the workbook and to
draw the PDF, their total against the target (10 s for xlsx + PDF together on
the 2-core reference machine), the reference time of a plain openpyxl
workbook with the same number of cells measured in the same run (the ratio
says what the pack's formatting, charts and layout cost on top), the page
count, the file sizes, the peak Python memory (tracemalloc) of each step and
the process's peak resident memory (which includes Qt's).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TARGET_SECONDS = 10.0


def build(folder: Path, kpis: int, months: int) -> tuple[object, int]:
    import pandas as pd

    from kpidesk.services.goal_service import GoalService
    from kpidesk.services.review_service import ReviewService
    from kpidesk.services.target_service import TargetService
    from kpidesk.services.workspace import Workspace

    ws = Workspace.open(folder / "bench.db")
    ws.products.create("Bench")
    rng = random.Random(7)
    first = dt.date(2026, 9, 1)
    days = []
    for n in range(months):
        month = first.month - 1 - n
        days.append(dt.date(first.year + month // 12, month % 12 + 1, 1))
    days.reverse()
    rows = []
    targets = TargetService(ws.db)
    goals = GoalService(ws.db)
    for k in range(kpis):
        unit = ("count", "percent", "currency", "score")[k % 4]
        kpi, _ = ws.kpis.add_custom("Bench", f"Metric {k:02d} {unit}", key=f"m{k:02d}", unit=unit,
                                    aggregation="sum" if unit in ("count", "currency") else "mean",
                                    currency="EUR" if unit == "currency" else "")
        level = rng.uniform(20, 80) if unit == "percent" else rng.uniform(1_000, 100_000)
        for day in days:
            level *= 1 + rng.gauss(0.01, 0.04)
            rows.append({"kpi_id": kpi.id, "period_start": day, "value": min(level, 99.0) if unit == "percent"
                         else level})
        targets.set(kpi.id, days[-12], round(level * 1.1, 1))
        if k % 5 == 0:
            goals.add(kpi.id, statement=f"Increase metric {k:02d} to {level * 1.2:.0f}", kind="increase_to",
                      target_value=level * 1.2, start_date=days[-6], due_date=dt.date(2026, 12, 31))
    ws.measurements.record_many(pd.DataFrame(rows))
    review, _ = ReviewService(ws.db).create("Bench", "2026-Q3")
    for n in range(10):
        ReviewService(ws.db).add_item(review.id, "action", f"Action {n}", owner="Ana", due=dt.date(2026, 12, 1))
    return ws, review.id  # type: ignore[return-value]


def measured(fn):  # type: ignore[no-untyped-def]
    """(result, seconds, peak bytes): timed on its own, then run again under tracemalloc for the
    memory (tracemalloc slows Python code several-fold, so it must not be in the timing)."""
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, seconds, peak


def main(kpis: int = 50, months: int = 36) -> None:
    from openpyxl import Workbook
    from PySide6.QtGui import QGuiApplication

    from kpidesk.gui.report.pdf_pack import write_review_pdf
    from kpidesk.io.review_xlsx import write_review_xlsx
    from kpidesk.services.review_service import ReviewService

    os.environ.setdefault("KPIDESK_DATA_DIR", tempfile.mkdtemp(prefix="kpidesk-bench-"))
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    folder = Path(tempfile.mkdtemp(prefix="kpidesk-bench-review-"))
    ws, review_id = build(folder, kpis, months)
    today = dt.date(2026, 11, 25)
    content, t_content, m_content = measured(lambda: ReviewService(ws.db).content(review_id, today=today))  # type: ignore[attr-defined]
    _, t_xlsx, m_xlsx = measured(lambda: write_review_xlsx(content, folder / "pack.xlsx"))
    pages, t_pdf, m_pdf = measured(lambda: write_review_pdf(content, folder / "pack.pdf"))

    def plain() -> None:  # the reference: the same values in a bare workbook, no styles or charts
        wb = Workbook()
        for kpi in content.kpis:
            sheet = wb.create_sheet(kpi.key)
            for day, value in content.series[kpi.id]:
                sheet.append([day, value, None, None, None, ""])
        wb.save(folder / "plain.xlsx")

    _, t_plain, _ = measured(plain)
    both = t_xlsx + t_pdf
    print(f"review pack: {kpis} KPIs x {months} months ({sum(len(s) for s in content.series.values()):,} values)")
    print(f"  content          {t_content:6.2f} s   peak {m_content / 2**20:6.1f} MiB")
    print(f"  xlsx             {t_xlsx:6.2f} s   peak {m_xlsx / 2**20:6.1f} MiB   "
          f"{(folder / 'pack.xlsx').stat().st_size / 1024:,.0f} KiB")
    print(f"  pdf              {t_pdf:6.2f} s   peak {m_pdf / 2**20:6.1f} MiB   "
          f"{(folder / 'pack.pdf').stat().st_size / 1024:,.0f} KiB, {pages} pages")
    print(f"  xlsx + pdf       {both:6.2f} s   target {TARGET_SECONDS:.0f} s -> "
          f"{'OK' if both < TARGET_SECONDS else 'OVER'} ({both / TARGET_SECONDS:.0%} of the target)")
    print(f"  reference: bare openpyxl workbook of the same values {t_plain:.2f} s; "
          f"the pack's xlsx costs {t_xlsx / t_plain:.1f}x that")
    import resource

    print(f"  process peak RSS (Python + Qt + SQLite) {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    ws.close()  # type: ignore[attr-defined]
    del app


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))

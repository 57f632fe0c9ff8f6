"""Benchmark: the deadline forecast and the status report.

Measured in one run:
  1. Forecast to the deadline for one 24-month KPI, six months ahead:
     kpidesk.domain.goals (pure-Python Theil–Sen line, no imports) vs the
     reference kpidesk.domain.analytics.forecast (statsmodels ETS, Holt /
     damped model selection). Prints the time per call and the ratio
     (goals / reference; target ≤ 0.1, because the goal list evaluates every
     goal on each page load), and the 80 % interval coverage of both on the
     same synthetic series (linear trend + normal noise, one outlier month in
     a quarter of them), where 80 % is right.
  2. ``StatusService.report`` on the demo workspace (9 goals, 34 KPIs) with
     and without anomaly detection, against evaluating the goals alone.

Usage: .venv/bin/python benchmarks/bench_goals.py [--series N] [--reference M]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kpidesk.domain.enums import Frequency, GoalKind
from kpidesk.domain.goals.forecast import forecast_to_deadline, period_from_index, period_index

FIRST = period_index(dt.date(2024, 1, 1), Frequency.MONTH)
HISTORY, AHEAD = 24, 6


def synthetic(seed: int) -> tuple[list[tuple[dt.date, float]], float]:
    """24 months of 200 + 3·i + N(0, 6²) (an outage month at 60 % in one series of four) and the
    realised value six months after the last one."""
    rng = random.Random(seed)
    values = [200 + 3 * i + rng.gauss(0, 6) for i in range(HISTORY + AHEAD)]
    if seed % 4 == 0:
        values[rng.randrange(4, HISTORY - 2)] *= 0.6
    history = [(period_from_index(FIRST + i, Frequency.MONTH), v) for i, v in enumerate(values[:HISTORY])]
    return history, values[HISTORY + AHEAD - 1]


def bench_forecast(n_series: int, n_reference: int) -> None:
    import pandas as pd

    from kpidesk.domain.analytics.forecast import forecast as ets_forecast

    data = [synthetic(seed) for seed in range(n_series)]
    due = period_from_index(FIRST + HISTORY + AHEAD - 1, Frequency.MONTH)

    hits = 0
    start = time.perf_counter()
    for history, actual in data:
        fc = forecast_to_deadline(history, Frequency.MONTH, due, GoalKind.INCREASE_TO, 0.0)
        assert fc is not None
        hits += fc.low <= actual <= fc.high
    ours = (time.perf_counter() - start) / n_series
    ours_cov = hits / n_series

    hits = 0
    start = time.perf_counter()
    for history, actual in data[:n_reference]:
        series = pd.Series([v for _, v in history], index=pd.DatetimeIndex([d for d, _ in history]))
        table = ets_forecast(series, Frequency.MONTH, AHEAD).table
        row = table.iloc[-1]
        hits += row["lower"] <= actual <= row["upper"]
    ref = (time.perf_counter() - start) / n_reference
    ref_cov = hits / n_reference

    print(f"deadline forecast on series of {HISTORY} months, {AHEAD} ahead")
    print(f"  kpidesk.domain.goals (Theil–Sen):   {ours * 1e3:8.3f} ms/goal   "
          f"80% interval coverage {ours_cov:.1%} on {n_series} series")
    print(f"  reference analytics.forecast (ETS): {ref * 1e3:8.3f} ms/goal   "
          f"80% interval coverage {ref_cov:.1%} on the first {n_reference}")
    print(f"  ratio goals / reference: {ours / ref:.4f}  (target ≤ 0.1)")


def bench_status() -> None:
    from kpidesk.services.demo import build_demo
    from kpidesk.services.goal_service import GoalService
    from kpidesk.services.status_service import StatusService
    from kpidesk.services.workspace import Workspace

    today = dt.date(2026, 11, 25)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo.db"
        with Workspace.open(path, backup_dir=Path(folder)) as ws:
            build_demo(ws, today=today)
        with Workspace.open(path, read_only=True) as ws:
            timings = {}
            for name, call in (
                ("goals only (GoalService.evaluate_all)", lambda: GoalService(ws.db).evaluate_all(today=today)),
                ("status report, no anomaly detection", lambda: StatusService(ws.db).report(
                    today=today, detect_anomalies=False)),
                ("status report with anomaly detection", lambda: StatusService(ws.db).report(today=today)),
            ):
                call()  # warm imports and caches
                start = time.perf_counter()
                for _ in range(3):
                    call()
                timings[name] = (time.perf_counter() - start) / 3
    base = timings["goals only (GoalService.evaluate_all)"]
    print("status on the demo workspace (9 goals, 34 KPIs)")
    for name, seconds in timings.items():
        print(f"  {name:<40} {seconds * 1e3:8.1f} ms   ratio {seconds / base:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=2000, help="series for the kpidesk forecast")
    parser.add_argument("--reference", type=int, default=40, help="series for the (slow) ETS reference")
    args = parser.parse_args()
    bench_forecast(args.series, min(args.reference, args.series))
    bench_status()


if __name__ == "__main__":
    main()

"""Benchmark: engagement metrics on 10,000,000 events (500k users, 365 days).

Times, in one run and on the same generated data:
  1. DAU + rolling-30-day MAU + stickiness: kpidesk vs polars
  2. monthly first-time cohort retention matrix ("on"): kpidesk vs DuckDB SQL
and prints times, ratios (kpidesk / reference; target ≤ 1.0) and peak memory
(target ≤ 3 GB). Each contender runs in its own child process, so each peak
RSS is its own; results are cross-checked for equality before timing counts.

The polars reference uses the best algorithm we know in polars (distinct
(user, day) pairs, each pair covering days d … min(d + 30, next day) − 1,
difference counts and a cumulative sum), not a naive per-day distinct count.

Usage: .venv/bin/python benchmarks/bench_metrics.py [--events N] [--users U] [--days D] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

START = np.datetime64("2024-01-01T00:00:00", "s")


def generate(directory: Path, n_events: int, n_users: int, n_days: int, seed: int = 42) -> None:
    """Synthetic log: users join over the year; activity decays after joining."""
    rng = np.random.default_rng(seed)
    join_day = (rng.beta(1.2, 1.6, n_users) * n_days).astype(np.int64)
    # heavy users exist: event weight per user is log-normal
    weight = rng.lognormal(0.0, 1.0, n_users)
    user = rng.choice(n_users, size=n_events, p=weight / weight.sum()).astype(np.int64)
    offset = rng.exponential(60.0, n_events).astype(np.int64)
    day = np.minimum(join_day[user] + offset, n_days - 1)
    seconds = rng.integers(0, 86_400, n_events)
    timestamp = (START + (day * 86_400 + seconds).astype("timedelta64[s]")).astype("datetime64[ns]")
    np.save(directory / "user.npy", user)
    np.save(directory / "timestamp.npy", timestamp)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(name: str, directory: Path, repeat: int) -> dict[str, object]:
    import pandas as pd

    user = np.load(directory / "user.npy")
    timestamp = np.load(directory / "timestamp.npy")
    baseline = _rss_mb()
    times: list[float] = []
    if name == "kpidesk_dau_mau":
        from kpidesk.domain.recipes.events import EventLog, stickiness

        frame = pd.DataFrame({"user": user, "timestamp": timestamp})
        baseline = _rss_mb()
        for _ in range(repeat):
            t0 = time.perf_counter()
            log = EventLog.from_frame(frame)
            table = stickiness(log, mau_window=30)
            times.append(time.perf_counter() - t0)
        check = [
            float(table["numerator"].sum()),
            float(table["denominator"].sum()),
            float(table["value"].sum()),
        ]
    elif name == "polars_dau_mau":
        import polars as pl

        frame = pl.DataFrame({"user": user, "timestamp": timestamp})
        baseline = _rss_mb()
        for _ in range(repeat):
            t0 = time.perf_counter()
            # integer day numbers throughout: polars' fastest path (no Date objects)
            pairs = frame.select(pl.col("user"), pl.col("timestamp").dt.epoch("d").alias("day")).unique()
            dau = pairs.group_by("day").agg(pl.len().alias("dau"))
            # sorted by (user, day), the next row's day is the user's next active
            # day when the next row has the same user (cheaper than a window .over)
            ahead = pl.col("day") + 30
            covered = pairs.sort(["user", "day"]).with_columns(
                pl.when(pl.col("user").shift(-1) == pl.col("user"))
                .then(pl.min_horizontal(ahead, pl.col("day").shift(-1)))
                .otherwise(ahead)
                .alias("end")
            )
            plus = covered.group_by("day").agg(pl.len().alias("plus"))
            minus = covered.group_by("end").agg(pl.len().alias("minus")).rename({"end": "day"})
            first, last = pairs["day"].min(), pairs["day"].max()
            calendar = pl.DataFrame({"day": pl.int_range(first, last + 1, eager=True, dtype=pl.Int64)})
            result = (
                calendar.join(plus, on="day", how="left")
                .join(minus, on="day", how="left")
                .join(dau, on="day", how="left")
                .sort("day")
                .with_columns(
                    (pl.col("plus").fill_null(0) - pl.col("minus").fill_null(0)).cum_sum().alias("mau"),
                    pl.col("dau").fill_null(0),
                )
                .with_columns((100.0 * pl.col("dau") / pl.col("mau")).alias("stickiness"))
            )
            times.append(time.perf_counter() - t0)
        check = [float(result["dau"].sum()), float(result["mau"].sum()), float(result["stickiness"].sum())]
    elif name == "kpidesk_cohort":
        from kpidesk.domain.recipes.events import EventLog, retention_matrix

        frame = pd.DataFrame({"user": user, "timestamp": timestamp})
        baseline = _rss_mb()
        for _ in range(repeat):
            t0 = time.perf_counter()
            log = EventLog.from_frame(frame)
            matrix = retention_matrix(log, "month", cohort="first_time", mode="on")
            times.append(time.perf_counter() - t0)
        counts = matrix.counts.fillna(0).to_numpy()
        check = [float(counts.sum()), float((counts * np.arange(counts.shape[1])).sum())]
    elif name == "duckdb_cohort":
        import duckdb

        con = duckdb.connect()
        events = pd.DataFrame({"user_id": user, "ts": timestamp})
        con.execute("CREATE TABLE events AS SELECT * FROM events")
        del events
        baseline = _rss_mb()
        for _ in range(repeat):
            t0 = time.perf_counter()
            rows = con.execute(
                """
                WITH active AS (SELECT DISTINCT user_id, date_trunc('month', ts) AS m FROM events),
                     cohort AS (SELECT user_id, min(m) AS c FROM active GROUP BY user_id)
                SELECT cohort.c, datediff('month', cohort.c, active.m) AS k, count(*) AS users
                FROM active JOIN cohort USING (user_id)
                GROUP BY ALL ORDER BY 1, 2
                """
            ).fetchall()
            times.append(time.perf_counter() - t0)
        check = [float(sum(r[2] for r in rows)), float(sum(r[1] * r[2] for r in rows))]
    else:
        raise SystemExit(f"unknown worker {name}")
    return {
        "name": name,
        "best_s": min(times),
        "times": times,
        "peak_mb": _peak_rss_mb(),
        "working_mb": _peak_rss_mb() - baseline,
        "check": check,
    }


def run_child(name: str, directory: Path, repeat: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", name, "--data", str(directory), "--repeat", str(repeat)],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=500_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker")
    parser.add_argument("--data")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, Path(args.data), args.repeat)))
        return
    with tempfile.TemporaryDirectory(prefix="kpidesk-bench-") as tmp:
        directory = Path(tmp)
        t0 = time.perf_counter()
        generate(directory, args.events, args.users, args.days)
        print(
            f"generated {args.events:,} events, {args.users:,} users, {args.days} days "
            f"in {time.perf_counter() - t0:.1f} s (best of {args.repeat} runs each; {os.cpu_count()} CPUs)"
        )
        results = {
            name: run_child(name, directory, args.repeat)
            for name in ("kpidesk_dau_mau", "polars_dau_mau", "kpidesk_cohort", "duckdb_cohort")
        }
    ok = True
    for mine, theirs, label in (
        ("kpidesk_dau_mau", "polars_dau_mau", "DAU + rolling-30-day MAU + stickiness"),
        ("kpidesk_cohort", "duckdb_cohort", "monthly cohort retention matrix"),
    ):
        a, b = results[mine], results[theirs]
        same = np.allclose(a["check"], b["check"], rtol=1e-9)
        ratio = a["best_s"] / b["best_s"]
        ok = ok and same and ratio <= 1.0 and a["peak_mb"] <= 3072
        print(f"\n{label}:  results equal: {same}")
        for row in (a, b):
            print(
                f"  {row['name']:<18} {row['best_s']:7.3f} s   peak RSS {row['peak_mb']:7.0f} MB"
                f"   (working {row['working_mb']:6.0f} MB)   runs {', '.join(f'{t:.3f}' for t in row['times'])}"
            )
        print(f"  ratio kpidesk / {theirs.split('_')[0]} = {ratio:.2f}  (target ≤ 1.00)")
    print("\nall targets met" if ok else "\nSOME TARGET MISSED")


if __name__ == "__main__":
    main()

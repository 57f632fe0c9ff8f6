"""An independent check: the additive and ratio decompositions recomputed in DuckDB SQL.

about 110,000 generated segment rows (110 KPIs x 40 segments of two kinds x 26
months, with segments missing in some months so that some appear or
disappear, and totals carrying an unsegmented part) go through
``explain_frame``; the same decompositions are written out in SQL, straight
from the formulas, and every segment's parts must agree to 1e-9 (relative to
the size of the group's values).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from kpidesk.domain.explain import (
    AdditiveDecomposition,
    KpiSpec,
    RatioDecomposition,
    Window,
    explain_frame,
)

duckdb = pytest.importorskip("duckdb")

N_KPIS = 110
REGIONS = [f"region:r{i}" for i in range(15)]
CHANNELS = [f"channel:c{i}" for i in range(25)]
MONTHS = [dt.date(2024 + (m // 12), m % 12 + 1, 1) for m in range(6, 32)]  # 2024-07 .. 2026-08
WINDOW = Window.of(dt.date(2026, 4, 1), "quarter", "last-year")  # 2026-Q2 vs 2025-Q2


def generate(seed: int = 12) -> pd.DataFrame:
    """Ratio KPIs are the odd ones; every segment row carries numerator and denominator."""
    rng = np.random.default_rng(seed)
    n_rows = N_KPIS * (len(REGIONS) + len(CHANNELS)) * len(MONTHS)
    kpi = np.repeat(np.arange(N_KPIS), (len(REGIONS) + len(CHANNELS)) * len(MONTHS))
    segment = np.tile(np.repeat(np.array(REGIONS + CHANNELS, dtype=object), len(MONTHS)), N_KPIS)
    month = np.tile(np.array(MONTHS, dtype="datetime64[D]"), N_KPIS * (len(REGIONS) + len(CHANNELS)))
    den = rng.integers(50, 5000, n_rows).astype(float)
    num = np.floor(den * rng.beta(2, 20, n_rows))
    value = rng.lognormal(8, 1.2, n_rows)
    frame = pd.DataFrame({"kpi": [f"k{k}" for k in kpi], "period_start": month, "segment": segment,
                          "value": value, "numerator": num, "denominator": den})
    # Some segments are missing in some months, and a few whole segments come or go.
    keep = rng.random(n_rows) > 0.05
    keep &= ~((frame["segment"] == "region:r14") & (frame["period_start"] < np.datetime64("2026-01-01")))
    keep &= ~((frame["segment"] == "channel:c24") & (frame["period_start"] > np.datetime64("2025-12-01")))
    frame = frame[keep]
    # Totals: the regions plus an untagged part, so the region kind has a remainder.
    regions = frame[frame["segment"].str.startswith("region:")]
    totals = regions.groupby(["kpi", "period_start"], as_index=False)[["value", "numerator", "denominator"]].sum()
    totals["value"] += rng.uniform(1, 500, len(totals))
    totals["numerator"] += rng.integers(0, 30, len(totals))
    totals["denominator"] += rng.integers(100, 300, len(totals))
    totals["segment"] = ""
    return pd.concat([frame, totals], ignore_index=True)


SQL_COMMON = """
WITH tagged AS (
    SELECT *, CASE WHEN period_start >= DATE '{c0}' AND period_start < DATE '{c1}' THEN 1
                   WHEN period_start >= DATE '{b0}' AND period_start < DATE '{b1}' THEN 0 END AS w
    FROM m
),
seg AS (
    SELECT kpi, split_part(segment, ':', 1) AS kind, segment,
           SUM(value) FILTER (WHERE w = 0) AS v0, SUM(value) FILTER (WHERE w = 1) AS v1,
           SUM(numerator) FILTER (WHERE w = 0) AS n0, SUM(denominator) FILTER (WHERE w = 0) AS d0,
           SUM(numerator) FILTER (WHERE w = 1) AS n1, SUM(denominator) FILTER (WHERE w = 1) AS d1
    FROM tagged WHERE w IS NOT NULL AND segment <> '' GROUP BY ALL
),
tot AS (
    SELECT kpi, SUM(value) FILTER (WHERE w = 0) AS tv0, SUM(value) FILTER (WHERE w = 1) AS tv1,
           SUM(numerator) FILTER (WHERE w = 0) AS tn0, SUM(denominator) FILTER (WHERE w = 0) AS td0,
           SUM(numerator) FILTER (WHERE w = 1) AS tn1, SUM(denominator) FILTER (WHERE w = 1) AS td1
    FROM tagged WHERE w IS NOT NULL AND segment = '' GROUP BY ALL
),
kinds AS (
    SELECT kpi, kind, SUM(COALESCE(v0, 0)) AS sv0, SUM(COALESCE(v1, 0)) AS sv1,
           SUM(COALESCE(n0, 0)) AS sn0, SUM(COALESCE(d0, 0)) AS sd0,
           SUM(COALESCE(n1, 0)) AS sn1, SUM(COALESCE(d1, 0)) AS sd1
    FROM seg GROUP BY ALL
),
everything AS (
    SELECT kpi, kind, segment, v0, v1, n0, d0, n1, d1 FROM seg
    UNION ALL
    SELECT k.kpi, k.kind, '(unsegmented)', t.tv0 - k.sv0, t.tv1 - k.sv1,
           t.tn0 - k.sn0, t.td0 - k.sd0, t.tn1 - k.sn1, t.td1 - k.sd1
    FROM kinds k JOIN tot t USING (kpi)
)
"""

SQL_ADDITIVE = SQL_COMMON + """
SELECT kpi, kind, segment,
       COALESCE(v1, 0) - COALESCE(v0, 0) AS contribution,
       (COALESCE(v1, 0) - COALESCE(v0, 0))
         / SUM(COALESCE(v1, 0) - COALESCE(v0, 0)) OVER (PARTITION BY kpi, kind) AS share,
       CASE WHEN v0 IS NULL THEN 'new' WHEN v1 IS NULL THEN 'gone'
            WHEN segment = '(unsegmented)' THEN 'remainder' ELSE 'both' END AS status
FROM everything WHERE kpi IN (SELECT kpi FROM additive_kpis)
"""

SQL_RATIO = SQL_COMMON + """,
g AS (
    SELECT *, 100 * SUM(COALESCE(n0, 0)) OVER k / SUM(COALESCE(d0, 0)) OVER k AS big_r0,
              100 * SUM(COALESCE(n1, 0)) OVER k / SUM(COALESCE(d1, 0)) OVER k AS big_r1,
              COALESCE(d0, 0) / SUM(COALESCE(d0, 0)) OVER k AS w0,
              COALESCE(d1, 0) / SUM(COALESCE(d1, 0)) OVER k AS w1,
              CASE WHEN COALESCE(d0, 0) <> 0 THEN 100 * n0 / d0 ELSE 100 * n1 / d1 END AS r0
    FROM everything WHERE kpi NOT IN (SELECT kpi FROM additive_kpis)
    WINDOW k AS (PARTITION BY kpi, kind)
),
r AS (SELECT *, CASE WHEN COALESCE(d1, 0) <> 0 THEN 100 * n1 / d1 ELSE r0 END AS r1 FROM g)
SELECT kpi, kind, segment, big_r1 - big_r0 AS change,
       w0 * (r1 - r0) AS rate_effect, (w1 - w0) * (r0 - big_r0) AS mix_effect,
       (w1 - w0) * (r1 - r0) AS interaction
FROM r
"""


@pytest.mark.slow
def test_duckdb_recomputation_agrees_on_100k_rows() -> None:
    frame = generate()
    assert (frame["segment"] != "").sum() >= 100_000
    specs = [KpiSpec(f"k{k}", f"KPI {k}", "percent" if k % 2 else "currency", "ratio" if k % 2 else "sum")
             for k in range(N_KPIS)]
    explanations = {e.kpi_key: e for e in explain_frame(frame, specs, WINDOW)}

    con = duckdb.connect()
    con.register("m", frame)
    con.register("additive_kpis", pd.DataFrame({"kpi": [s.key for s in specs if s.aggregation == "sum"]}))
    fmt = {"c0": WINDOW.current[0], "c1": WINDOW.current[1], "b0": WINDOW.comparison[0],
           "b1": WINDOW.comparison[1]}
    additive = con.execute(SQL_ADDITIVE.format(**fmt)).df()
    ratio = con.execute(SQL_RATIO.format(**fmt)).df()
    assert len(additive) > 2_000
    assert len(ratio) > 2_000

    checked = 0
    for (kpi, kind), sql in additive.groupby(["kpi", "kind"]):
        dec = next(b.decomposition for b in explanations[kpi].breakdowns if b.kind == kind)
        assert isinstance(dec, AdditiveDecomposition)
        mine = {s.segment: s for s in dec.segments}
        assert set(mine) == set(sql["segment"])
        size = max(1.0, abs(dec.base_total), abs(dec.current_total))
        for row in sql.itertuples(index=False):
            s = mine[row.segment]
            assert abs(s.change - row.contribution) <= 1e-9 * size
            assert s.share is not None
            assert math.isclose(s.share, row.share, rel_tol=1e-9, abs_tol=1e-12)
            assert s.status.value == row.status
            checked += 1
        assert abs(sum(s.change for s in dec.segments) - dec.change) <= 1e-9 * size
        assert {s.status.value for s in dec.segments} >= ({"new", "remainder"} if kind == "region"
                                                          else {"gone"})
    for (kpi, kind), sql in ratio.groupby(["kpi", "kind"]):
        dec = next(b.decomposition for b in explanations[kpi].breakdowns if b.kind == kind)
        assert isinstance(dec, RatioDecomposition)
        mine = {s.segment: s for s in dec.segments}
        assert set(mine) == set(sql["segment"])
        assert abs(dec.change - sql["change"].iloc[0]) <= 1e-9 * max(1.0, abs(dec.base_rate))
        for row in sql.itertuples(index=False):
            s = mine[row.segment]
            for got, want in ((s.rate_effect, row.rate_effect), (s.mix_effect, row.mix_effect),
                              (s.interaction, row.interaction)):
                assert abs(got - want) <= 1e-9 * max(1.0, abs(dec.base_rate))
            checked += 1
        parts = dec.rate_effect + dec.mix_effect + dec.interaction
        assert abs(parts - dec.change) <= 1e-9 * max(1.0, abs(dec.base_rate))
    assert checked == len(additive) + len(ratio)

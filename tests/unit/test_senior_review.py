"""Regression tests for defects found in the senior review of landed code.

Each test failed before its fix; the docstring gives the hand computation.
"""

from __future__ import annotations

import pandas as pd
import pytest

from kpidesk.domain.enums import Aggregation, Unit
from kpidesk.services.metrics_service import MetricsService


def test_demo_ratio_kpis_store_parts_consistent_with_their_unit(demo_workspace) -> None:  # type: ignore[no-untyped-def]
    """Every ratio KPI of the demo: value = num / den × (100 for percent, else 1).

    Rolling a ratio KPI up recomputes Σ num / Σ den with that unit scale; the
    demo's NPS (unit "score") stored num / den = 0.31 for a value of 31, so a
    quarter of Pulse NPS printed 0.31 and explain said "+0.0344" for +3.4 points.
    """
    ws = demo_workspace
    checked = 0
    for kpi in ws.kpis.list():
        if kpi.aggregation != Aggregation.RATIO.value:
            continue
        frame = ws.measurements.series(kpi.id).dropna(subset=["numerator", "denominator"])
        if frame.empty:
            continue
        scale = 100.0 if kpi.unit == Unit.PERCENT.value else 1.0
        recomputed = frame["numerator"] / frame["denominator"] * scale
        assert (recomputed - frame["value"]).abs().max() < 0.01 * max(1.0, frame["value"].abs().max()), kpi.key
        checked += 1
    assert checked >= 5
    nps = ws.kpis.resolve("Pulse/nps")
    quarters = MetricsService(ws.db, ws.catalog).series(nps.id, "quarter")
    monthly = ws.measurements.series(nps.id)["value"]
    assert monthly.min() <= quarters.iloc[0] <= monthly.max()

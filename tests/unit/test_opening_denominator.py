"""Churn-type ratios divide by a balance at the start of the period: rolled up, by the opening one.

``churn = customers lost in the period / customers at period start`` (METRICS.md).
Over a quarter that is Σ lost / customers at the quarter's start, which is
not Σ lost / Σ monthly starts (that is about the average monthly rate).
"""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest

from kpidesk.domain.analytics import rollup
from kpidesk.domain.catalog import load_catalog, parse_catalog
from kpidesk.errors import KpideskError


def test_quarterly_churn_divides_by_the_customers_at_the_quarter_start() -> None:
    """Jan 50 lost of 1,000; Feb 40 of 960; Mar 30 of 930; Apr 20 of 950.

    Q1 = (50 + 40 + 30) / 1,000 = 12 %; Q2 (April only) = 20 / 950 = 2.105 %.
    Summing the starts would give 120 / 2,890 = 4.15 % for Q1.
    """
    idx = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"])
    frame = pd.DataFrame({"numerator": [50, 40, 30, 20], "denominator": [1000, 960, 930, 950]}, index=idx)
    opening = rollup(frame, "quarter", "ratio", scale=100, opening_denominator=True)
    assert opening.tolist() == pytest.approx([12.0, 20 / 950 * 100])
    summed = rollup(frame, "quarter", "ratio", scale=100)
    assert summed.iloc[0] == pytest.approx(120 / 2890 * 100)
    # the months themselves are unchanged by the flag
    assert rollup(frame, "month", "ratio", scale=100, opening_denominator=True).tolist() == pytest.approx(
        [5.0, 40 / 960 * 100, 30 / 930 * 100, 20 / 950 * 100])


def test_the_opening_balance_is_the_first_month_that_has_one() -> None:
    """Unsorted input and a missing January denominator: Q1 opens with February's 960 → 120 / 960."""
    idx = pd.to_datetime(["2024-03-01", "2024-01-01", "2024-02-01"])
    frame = pd.DataFrame({"numerator": [30, 50, 40], "denominator": [930, None, 960]}, index=idx)
    result = rollup(frame, "quarter", "ratio", opening_denominator=True)
    assert result.iloc[0] == pytest.approx(120 / 960)


def test_opening_rollup_agrees_with_a_plain_loop_on_three_years_of_daily_data() -> None:
    """An independent implementation: group by (year, quarter) by hand, first denominator by date."""
    rng = random.Random(11)
    days = [dt.date(2021, 1, 1) + dt.timedelta(days=i) for i in range(3 * 365)]
    rng.shuffle(days)
    rows = [(d, rng.randint(0, 40), rng.choice([None, float(rng.randint(500, 5000))])) for d in days]
    frame = pd.DataFrame({"numerator": [r[1] for r in rows], "denominator": [r[2] for r in rows]},
                         index=pd.to_datetime([r[0] for r in rows]))
    result = rollup(frame, "quarter", "ratio", scale=100, opening_denominator=True)
    expected: dict[tuple[int, int], list] = {}
    for day, lost, start in sorted(rows):
        key = (day.year, (day.month - 1) // 3)
        bucket = expected.setdefault(key, [0, None])
        bucket[0] += lost
        if bucket[1] is None and start is not None:
            bucket[1] = start
    assert len(result) == len(expected)
    for (year, quarter), (lost, start) in expected.items():
        got = result[pd.Timestamp(year, quarter * 3 + 1, 1)]
        assert got == pytest.approx(100 * lost / start, rel=1e-12)


def test_the_catalog_marks_churn_and_revenue_churn_and_refuses_a_bad_value() -> None:
    catalog = load_catalog()
    assert catalog.get("churn_rate").opening_denominator
    assert catalog.get("revenue_churn").opening_denominator
    assert not catalog.get("conversion_rate").opening_denominator
    bad = ('[[kpi]]\nkey = "x"\nname = "X"\ndefinition = "d"\nformula = "f"\ncategory = "customer"\n'
                   'stage = "retention"\nunit = "percent"\ndirection = "down"\naggregation = "ratio"\n'
           'frequency = "month"\ndenominator = "closing"\n')
    with pytest.raises(KpideskError, match="denominator must be"):
        parse_catalog(bad)


def test_metrics_and_the_chart_show_quarterly_churn_the_same_way(tmp_path) -> None:
    """Stored monthly parts for a catalog churn KPI: the metrics service and the KPI chart agree (12 %)."""
    from kpidesk.gui.kpi_data import load_chart
    from kpidesk.services.metrics_service import MetricsService
    from kpidesk.services.workspace import Workspace

    with Workspace.open(tmp_path / "churn.kpidesk.db") as ws:
        product, _ = ws.products.create("Checkout")
        kpi, _ = ws.kpis.add_from_catalog(product.id, "churn_rate")
        for month, lost, start in ((1, 50, 1000), (2, 40, 960), (3, 30, 930)):
            ws.measurements.record(kpi.id, f"2024-{month:02d}-01", 100 * lost / start,
                                   numerator=lost, denominator=start)
        metrics = MetricsService(ws.db, ws.catalog).series(kpi.id, "quarter")
        assert metrics.tolist() == pytest.approx([12.0])
        chart = load_chart(ws, kpi.id, "quarter")
        assert chart.y.tolist() == pytest.approx([12.0])
        assert load_chart(ws, kpi.id, "month").y.tolist() == pytest.approx([5.0, 40 / 9.6, 30 / 9.3])

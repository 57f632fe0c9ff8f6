"""MetricsService over a real SQLite workspace: roll-ups, formula KPIs, analysis."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from kpidesk.domain.formula import FormulaError
from kpidesk.services.metrics_service import MetricsService


@pytest.fixture
def setup(workspace):
    product, _ = workspace.products.create("Shop")
    kpis = workspace.kpis
    revenue, _ = kpis.add_custom(
        "Shop", "Revenue", key="revenue", unit="currency", aggregation="sum", frequency="day"
    )
    cogs, _ = kpis.add_custom("Shop", "COGS", key="cogs", unit="currency", aggregation="sum", frequency="day")
    conv, _ = kpis.add_custom(
        "Shop", "Conversion", key="conversion", unit="percent", aggregation="ratio", frequency="day"
    )
    margin, _ = kpis.add_custom(
        "Shop", "Margin", key="margin", unit="ratio", aggregation="mean", frequency="month"
    )
    days = pd.date_range("2024-01-30", periods=4, freq="D")  # 30, 31 Jan; 1, 2 Feb
    frame = pd.concat(
        [
            pd.DataFrame({"kpi_id": revenue.id, "period_start": days, "value": [100.0, 100.0, 50.0, 150.0]}),
            pd.DataFrame({"kpi_id": cogs.id, "period_start": days, "value": [40.0, 60.0, 50.0, 50.0]}),
            pd.DataFrame(
                {
                    "kpi_id": conv.id,
                    "period_start": days,
                    "value": [10.0, 90.0, 0.0, 50.0],
                    "numerator": [1.0, 9.0, 0.0, 5.0],
                    "denominator": [10.0, 10.0, 80.0, 10.0],
                }
            ),
        ]
    )
    workspace.measurements.record_many(frame)
    service = MetricsService(workspace.db, workspace.catalog)
    return service, product, {"revenue": revenue, "cogs": cogs, "conversion": conv, "margin": margin}


def test_monthly_rollup_sum_and_recomputed_ratio(setup) -> None:
    """Revenue Jan 100 + 100 = 200, Feb 50 + 150 = 200.

    Conversion Jan (1 + 9) / (10 + 10) = 50 %; Feb (0 + 5) / (80 + 10) = 5.56 %
    (the mean of the daily rates would say 25 %).
    """
    service, _product, kpis = setup
    revenue = service.series(kpis["revenue"].id, "month")
    assert revenue.tolist() == [200.0, 200.0]
    conversion = service.series(kpis["conversion"].id, "month")
    assert conversion.tolist() == pytest.approx([50.0, 500 / 90])


def test_month_to_date_by_aggregation(setup) -> None:
    """Revenue 100, 100 | 50, 150 (30 Jan – 2 Feb): MTD 100, 200 | 50, 200; YTD 100, 200, 250, 400.
    Conversion (ratio): 1/10, 10/20 | 0/80, 5/90 → 10 %, 50 % | 0 %, 5.56 %.
    """
    service, _product, kpis = setup
    assert service.to_date(kpis["revenue"].id, "month").tolist() == [100, 200, 50, 200]
    assert service.to_date(kpis["revenue"].id, "year").tolist() == [100, 200, 250, 400]
    assert service.to_date(kpis["conversion"].id, "month").tolist() == pytest.approx([10, 50, 0, 500 / 90])


def test_formula_kpi_is_checked_then_computed_per_month(setup) -> None:
    """margin = (revenue − cogs) / revenue per month: Jan (200 − 100)/200 = 0.5; Feb (200 − 100)/200 = 0.5.
    Daily: 30 Jan (100 − 40)/100 = 0.6.
    """
    service, product, kpis = setup
    service.set_formula(kpis["margin"].id, "(revenue - cogs) / revenue")
    values, flags = service.formula_series(kpis["margin"].id, "month")
    assert values.tolist() == [0.5, 0.5]
    assert not flags.any()
    daily, _ = service.formula_series(kpis["margin"].id, "day")
    assert daily.iloc[0] == pytest.approx(0.6)
    assert service.series(kpis["margin"].id, "month").tolist() == [0.5, 0.5]
    with pytest.raises(FormulaError, match="unknown KPI 'profit'"):
        service.set_formula(kpis["margin"].id, "profit / revenue")
    with pytest.raises(FormulaError, match="refers to itself"):
        service.check_formula(product.id, "margin", "margin + 1")


def test_formula_cycle_is_refused_at_save_time(setup) -> None:
    service, _product, kpis = setup
    service.set_formula(kpis["margin"].id, "revenue / cogs")
    with pytest.raises(FormulaError, match="circle: cogs → margin → cogs"):
        service.set_formula(kpis["cogs"].id, "margin * 2")


def test_division_by_zero_is_flagged(setup, workspace) -> None:
    """revenue / (cogs − 50) on 1 Feb: 50 / 0 → missing, flagged."""
    service, _product, kpis = setup
    service.set_formula(kpis["margin"].id, "revenue / (cogs - 50)")
    values, flags = service.formula_series(kpis["margin"].id, "day")
    assert math.isnan(values[pd.Timestamp("2024-02-01")])
    assert flags[pd.Timestamp("2024-02-01")]
    assert values[pd.Timestamp("2024-01-30")] == 100 / -10


def test_analyse_marks_the_current_month_partial(workspace) -> None:
    """18 months of revenue rising 10 a month; as of 10 June 2025 June is partial.

    The trend is fitted on complete months only (slope 10), June has no change
    verdict, and a forecast continues the line.
    """
    workspace.products.create("Shop")
    kpi, _ = workspace.kpis.add_custom("Shop", "Revenue", key="revenue", unit="currency", frequency="month")
    months = pd.date_range("2024-01-01", periods=18, freq="MS")
    values = 100 + 10 * np.arange(18, dtype=float)
    values[-1] = 20.0  # June so far: low because the month is not over
    workspace.measurements.record_many(
        pd.DataFrame({"kpi_id": kpi.id, "period_start": months, "value": values})
    )
    service = MetricsService(workspace.db, workspace.catalog)
    result = service.analyse(kpi.id, as_of=dt.date(2025, 6, 10), horizon=2)
    assert result.partial.tolist() == [False] * 17 + [True]
    assert result.vs_previous["verdict"].iloc[-1] == "partial"
    assert result.vs_previous["verdict"].iloc[-2] == "good"
    assert result.trend.slope == pytest.approx(10)
    assert result.trend.verdict == "rising"
    assert result.anomalies.empty
    assert result.forecast is not None
    assert result.forecast.table["mean"].iloc[0] == pytest.approx(270, abs=2)


def test_analyse_by_fiscal_year(workspace) -> None:
    """Revenue 10 a month from Jan 2024 to Jun 2025, fiscal year starting in April:
    FY from Apr 2023 holds Jan–Mar 2024 = 30; FY from Apr 2024 = 12 × 10 = 120;
    FY from Apr 2025 holds Apr–Jun 2025 = 30 and is partial on 10 June 2025.
    """
    workspace.products.create("Shop")
    kpi, _ = workspace.kpis.add_custom("Shop", "Revenue", key="revenue", unit="currency", frequency="month")
    months = pd.date_range("2024-01-01", periods=18, freq="MS")
    workspace.measurements.record_many(
        pd.DataFrame({"kpi_id": kpi.id, "period_start": months, "value": 10.0})
    )
    service = MetricsService(workspace.db, workspace.catalog)
    result = service.analyse(kpi.id, "fiscal_year", as_of=dt.date(2025, 6, 10), fiscal_year_start=4)
    assert result.frequency == "fiscal_year"
    assert result.series.to_dict() == {
        pd.Timestamp("2023-04-01"): 30.0,
        pd.Timestamp("2024-04-01"): 120.0,
        pd.Timestamp("2025-04-01"): 30.0,
    }
    assert result.partial.tolist() == [False, False, True]
    assert result.vs_previous["pct_change"].iloc[1] == 300
    assert result.vs_previous["verdict"].iloc[2] == "partial"

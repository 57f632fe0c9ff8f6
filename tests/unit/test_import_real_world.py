"""The shared real-world spreadsheets, imported as a user would (skipped when the folder is absent).

Expected values were read off the files by eye (cell references in comments).
"""

from __future__ import annotations

import datetime as dt

import pytest

from kpidesk.services.import_service import ImportService


@pytest.fixture
def service(workspace):  # type: ignore[no-untyped-def]
    return ImportService(workspace.db, workspace.catalog)


def test_helpdesk_scorecard_becomes_weekly_kpis_per_queue(service, workspace, real_world) -> None:  # type: ignore[no-untyped-def]
    """Five sheets (Accounts, Purchasing, Reactive, Helpdesk, Phones), each Date + 7 queue counts, 4 weeks.

    7 KPIs × 4 weeks × 5 sheets = 140 values; the sheets share their KPIs, so each
    sheet is a segment. The empty 'Summary' sheet is skipped with a warning.
    """
    plan = service.plan(real_world / "helpdesk_scorecard.xlsx", product="Helpdesk")
    assert plan.rejected == [] and plan.inserts == 140
    assert any("'Summary' was skipped" in w for w in plan.warnings)
    assert sorted(k.key for k in plan.new_kpis) == ["assigned", "new", "no_up_7", "not_assigned", "older_31",
                                                    "older_7", "open"]
    assert {k.frequency for k in plan.new_kpis} == {"week"}
    result = service.apply(plan)
    assert result.inserted == 140
    open_kpi = workspace.kpis.resolve("open", "Helpdesk")
    series = workspace.measurements.series(open_kpi.id, segment="sheet:Purchasing")
    # Purchasing!B2:B5 = 19, 21, 16, 12 for the weeks of 2019-09-23 .. 2019-10-14 (Mondays)
    assert series["value"].tolist() == [19.0, 21.0, 16.0, 12.0]
    assert series["period_start"].dt.date.tolist()[0] == dt.date(2019, 9, 23)
    assert service.rollback(result.batch_id).message.startswith("Rolled back import #1")
    assert workspace.products.list() == []  # the product the import created is gone too


def test_marketing_tracker_months_without_year_need_the_year(service, workspace, real_world) -> None:  # type: ignore[no-untyped-def]
    path = real_world / "mkt_kpi_tracker.xlsx"
    plan = service.plan(path, product="Marketing", sheets=["Monthly KPIs"])
    assert plan.inserts == 0 and plan.rejected
    assert plan.rejected[0].reason.endswith("has no year; choose the year")
    plan = service.plan(path, product="Marketing", sheets=["Monthly KPIs"], year=2024)
    assert plan.rejected == []
    by_label = {d.label: d for d in plan.decisions.values()}
    assert by_label["Blended CAC ($)"].catalog_key == "cac"
    assert by_label["Cost per MQL ($)"].unit == "currency"
    assert by_label["MQL → SQL Rate"].unit == "percent"
    service.apply(plan)
    mqls = workspace.kpis.resolve("mqls", "Marketing")
    values = workspace.measurements.series(mqls.id)["value"].tolist()
    # 'Monthly KPIs'!C5:M5 = 240 … 330 for Jan–Nov; Dec is "-" (missing, not rejected)
    assert values == [240.0, 265.0, 280.0, 290.0, 300.0, 310.0, 305.0, 320.0, 325.0, 315.0, 330.0]
    rate = workspace.kpis.resolve("mql_sql_rate", "Marketing")
    # 0.37 in C7 is a fraction of a percent KPI → 37 percentage points
    assert workspace.measurements.series(rate.id)["value"].tolist()[0] == 37.0


@pytest.mark.parametrize("name", ["b2b_customers_nps.csv", "online_retail_first28k.csv"])
def test_raw_record_files_create_no_junk_kpis_and_say_why(service, real_world, name) -> None:  # type: ignore[no-untyped-def]
    """One row per customer / per transaction is raw data for a metric recipe, not KPI values."""
    plan = service.plan(real_world / name, product="Shop")
    assert plan.new_kpis == [] and not plan.changes_anything
    assert any(w.startswith("This file looks like raw records, not KPI values") for w in plan.warnings)
    assert plan.rejected == []

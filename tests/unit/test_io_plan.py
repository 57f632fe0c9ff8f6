"""The dry run: inserts, updates (old → new), unchanged, rejections with sheet/row/column/reason.

Records are built the way ``kpidesk.io.records.to_records`` builds them
(1-based row, column letters); the workspace is a real SQLite file.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kpidesk.errors import ValidationError
from kpidesk.services.import_service import ImportService


def records(rows: list[tuple]) -> pd.DataFrame:
    """(row, column, label, period, frequency, value, is_percent[, extra dict]) → records table."""
    out = []
    for item in rows:
        row, column, label, period, frequency, value, is_percent, *extra = item
        record = {"sheet": "Data", "row": row, "column": column, "kpi_label": label,
                  "period_start": pd.Timestamp(period) if period else pd.NaT, "frequency": frequency,
                  "raw": value, "value": np.nan if value is None else float(value), "is_percent": is_percent,
                  "missing": value is None, "segment": "", "product": "", "note": "", "problem": "", "skip": ""}
        if extra:
            record.update(extra[0])
        out.append(record)
    return pd.DataFrame(out)


@pytest.fixture
def service(workspace, product_with_kpis):  # type: ignore[no-untyped-def]
    return ImportService(workspace.db, workspace.catalog)


def test_percent_units_store_points_so_12_percent_and_0_12_land_the_same(service, product_with_kpis) -> None:
    """churn_rate is a percent KPI (0..100 points).

    Jan: "12%" text → is_percent, 12 → 12.
    Feb: 0.12 plain, and every plain churn value lies in [-1.5, 1.5] → fractions → 0.12 × 100 = 12.
    Mar: 0.125 from a percent-formatted cell (reader scaled it to 12.5 with is_percent) → 12.5.
    """
    rec = records([
        (2, "B", "Churn", "2024-01-01", "month", 12.0, True, {"raw": "12%"}),
        (3, "B", "Churn", "2024-02-01", "month", 0.12, False),
        (4, "B", "Churn", "2024-03-01", "month", 12.5, True, {"raw": 0.125}),
        (5, "B", "Churn", "2024-04-01", "month", 0.0257, False),
    ])
    plan = service.plan_records(rec, product="Acme")
    assert plan.rejected == []
    assert plan.values["value"].tolist() == [12.0, 12.0, 12.5, 2.57]  # 0.0257 × 100 rounded to 15 digits
    assert plan.decisions["Churn"].kpi_key == "churn_rate"


def test_percent_kpi_with_point_values_is_not_scaled(service) -> None:
    """Plain 4.5 and 3.0 are not all within [-1.5, 1.5], so they are points already."""
    rec = records([(2, "B", "Churn", "2024-01-01", "month", 4.5, False),
                   (3, "B", "Churn", "2024-02-01", "month", 3.0, False)])
    assert service.plan_records(rec, product="Acme").values["value"].tolist() == [4.5, 3.0]


def test_rejections_name_sheet_row_column_and_reason(service) -> None:
    rec = records([
        (2, "C", "Sign-ups", "2024-01-01", "month", -3.0, False),  # a count below 0
        (3, "C", "Churn", "2024-01-01", "month", 120.0, True),  # 120 % above 100
        (4, "C", "NPS", "2024-01-01", "month", 40.0, True),  # a percentage for a score KPI
        (5, "C", "NPS", "2024-02-01", "month", None, False, {"problem": "'abc' is not a number", "raw": "abc"}),
        (6, "C", "NPS", None, "", 10.0, False, {"problem": "no period"}),
        (7, "C", "NPS", "2024-07-01", "half", 10.0, False),
    ])
    plan = service.plan_records(rec, product="Acme")
    got = [(r.sheet, r.row, r.column, r.reason) for r in plan.rejected]
    assert got == [
        ("Data", 2, "C", "-3 is below 0, the lowest value New sign-ups can take"),
        ("Data", 3, "C", "120 is above 100, the highest value Customer churn rate can take"),
        ("Data", 4, "C", "a percentage cannot be stored in Net Promoter Score, which is measured as score"),
        ("Data", 5, "C", "'abc' is not a number"),
        ("Data", 6, "C", "no period"),
        ("Data", 7, "C", "half-year periods cannot be stored (kpidesk keeps day, week, month, quarter or year)"),
    ]
    assert plan.rejected[0].sentence() == ("sheet 'Data', row 2, column C: -3 is below 0, the lowest value "
                                           "New sign-ups can take")
    assert plan.values.empty and not plan.changes_anything


def test_two_cells_for_one_kpi_period_segment_are_both_rejected(service) -> None:
    """A daily date and the month label both land on NPS (monthly) 2024-03-01: nothing is guessed."""
    rec = records([(2, "B", "NPS", "2024-03-15", "day", 30.0, False),
                   (9, "B", "NPS", "2024-03-01", "month", 31.0, False),
                   (10, "B", "NPS", "2024-04-01", "month", 32.0, False)])
    plan = service.plan_records(rec, product="Acme")
    assert [(r.cell, r.reason) for r in plan.rejected] == [
        ("B2", "Net Promoter Score already has a value for 2024-03-01 in this file (cell B9); remove one of them"),
        ("B9", "Net Promoter Score already has a value for 2024-03-01 in this file (cell B2); remove one of them"),
    ]
    assert plan.values["period_start"].tolist() == ["2024-04-01"]


def test_periods_snap_to_the_coarser_of_record_and_kpi_frequency(service) -> None:
    """NPS is monthly: 2024-03-15 (day) → 2024-03-01 month; a Q2 label stays a quarter."""
    rec = records([(2, "B", "NPS", "2024-03-15", "day", 30.0, False),
                   (3, "B", "NPS", "2024-04-01", "quarter", 31.0, False)])
    values = service.plan_records(rec, product="Acme").values
    assert values[["period_start", "frequency"]].values.tolist() == [["2024-03-01", "month"],
                                                                     ["2024-04-01", "quarter"]]


def test_existing_values_are_updates_or_unchanged_and_empty_notes_keep_stored_ones(
        workspace, service, product_with_kpis) -> None:  # type: ignore[no-untyped-def]
    _, kpis = product_with_kpis
    nps = kpis["nps"].id
    workspace.measurements.record(nps, "2024-01-01", 30, note="survey A")
    workspace.measurements.record(nps, "2024-02-01", 35)
    rec = records([(2, "B", "NPS", "2024-01-01", "month", 30.0, False),
                   (3, "B", "NPS", "2024-02-01", "month", 36.5, False),
                   (4, "B", "NPS", "2024-03-01", "month", 40.0, False),
                   (5, "B", "NPS", "2024-04-01", "month", None, False)])
    plan = service.plan_records(rec, product="Acme", file_name="tracker.xlsx")
    assert (plan.inserts, plan.updates, plan.unchanged, plan.missing_cells) == (1, 1, 1, 1)
    rows = {r.period_start: r for r in plan.rows()}
    assert rows[dt.date(2024, 1, 1)].action == "unchanged" and rows[dt.date(2024, 1, 1)].note == "survey A"
    update = rows[dt.date(2024, 2, 1)]
    assert (update.action, update.old_value, update.value, update.cell) == ("update", 35.0, 36.5, "B3")
    assert plan.summary() == "tracker.xlsx: 1 new value(s), 1 changed, 1 unchanged, 0 rejected."


def test_totals_rows_are_skipped_and_listed_not_rejected(service) -> None:
    rec = records([(2, "B", "NPS", "2024-01-01", "month", 30.0, False),
                   (3, "B", "Total", "2024-01-01", "month", 90.0, False, {"skip": "totals/average row"})])
    plan = service.plan_records(rec, product="Acme")
    assert plan.rejected == [] and plan.inserts == 1
    assert [(s.row, s.reason) for s in plan.skipped] == [(3, "totals/average row")]


def test_unmatched_labels_plan_new_kpis_and_new_products(service) -> None:
    rec = records([
        (2, "B", "Widgets shipped", "2024-01-01", "month", 10.0, False, {"product": "Gizmo"}),
        (3, "B", "Conversion rate", "2024-01-01", "month", 0.31, False, {"product": "Gizmo"}),
        (4, "B", "MRR", "2024-01-01", "month", 1000.0, False, {"product": "acme"}),
    ])
    plan = service.plan_records(rec)
    assert plan.new_products == ["Gizmo"]
    assert sorted((k.product, k.key, k.unit, k.catalog_key) for k in plan.new_kpis) == [
        ("Acme", "mrr", "currency", "mrr"),  # "MRR" is a catalog KPI; product "acme" is Acme
        ("Gizmo", "conversion_rate", "percent", "conversion_rate"),
        ("Gizmo", "widgets_shipped", "count", ""),  # custom, unit guessed from values ≥ 0
    ]
    by_key = dict(zip(plan.values["kpi_key"], plan.values["value"], strict=True))
    assert by_key["conversion_rate"] == 31.0  # a fraction of a percent KPI → points
    assert (plan.values["kpi_id"] < 0).all()  # placeholders until the write


def test_ignored_labels_are_counted_not_written(service) -> None:
    from dataclasses import replace

    rec = records([(2, "B", "NPS", "2024-01-01", "month", 30.0, False),
                   (2, "C", "Comments", "2024-01-01", "month", 3.0, False)])
    plan = service.plan_records(rec, product="Acme")
    plan = service.replan(plan, {"Comments": replace(plan.decisions["Comments"], action="ignore")}, records=rec)
    assert (plan.inserts, plan.ignored_cells) == (1, 1)
    assert plan.decisions["Comments"].matched_by == "user"


def test_which_product_is_asked_when_it_cannot_be_known(workspace) -> None:  # type: ignore[no-untyped-def]
    service = ImportService(workspace.db, workspace.catalog)
    rec = records([(2, "B", "NPS", "2024-01-01", "month", 30.0, False)])
    with pytest.raises(ValidationError, match="There is no product yet"):
        service.plan_records(rec)
    workspace.products.create("One")
    workspace.products.create("Two")
    with pytest.raises(ValidationError, match="Say which product.*One, Two"):
        service.plan_records(rec)

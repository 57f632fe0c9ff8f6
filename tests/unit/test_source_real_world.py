"""Recipes on real published exports (skipped when the shared real-world folder is absent).

Each expected figure is recomputed here independently with the csv module.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from kpidesk.services.source_service import SourceService
from kpidesk.storage.measurements import read_series

REAL_WORLD = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real-world"
RETAIL = REAL_WORLD / "online_retail_first28k.csv"
NPS = REAL_WORLD / "b2b_customers_nps.csv"


def values(workspace, product: str, key: str) -> dict[pd.Timestamp, float]:
    kpi = next(k for k in workspace.kpis.list(product) if k.key == key)
    frame = read_series(workspace.db, kpi.id)
    return dict(zip(frame["period_start"], frame["value"], strict=True))


@pytest.mark.skipif(not RETAIL.exists(), reason="real-world data folder absent")
def test_online_retail_transactions(workspace, tmp_path: Path) -> None:
    """UCI Online Retail (first 28k lines, December 2010): columns are mapped by their
    headers (CustomerID, InvoiceDate, TotalPrice, InvoiceNo); rows without a
    customer count in revenue only; a purchase is an invoice."""
    workspace.products.create("Retail")
    service = SourceService(workspace.db, workspace.catalog)
    source, _ = service.add("Retail", RETAIL, "transactions")
    assert source.mapping == {
        "customer": "CustomerID", "date": "InvoiceDate", "amount": "TotalPrice", "order": "InvoiceNo",
    }  # fmt: skip
    revenue: dict[str, float] = defaultdict(float)
    invoices: dict[str, set[str]] = defaultdict(set)
    customer_revenue = 0.0
    with RETAIL.open(newline="", encoding="utf-8", errors="replace") as handle:
        for row in csv.DictReader(handle):
            when = dt.datetime.strptime(row["InvoiceDate"], "%m/%d/%y %H:%M")
            amount = float(row["TotalPrice"])
            revenue[when.strftime("%Y-%m")] += amount
            if row["CustomerID"]:
                customer_revenue += amount
                if amount > 0:
                    invoices[row["CustomerID"]].add(row["InvoiceNo"])
    stored = values(workspace, "Retail", "revenue")
    assert {k.strftime("%Y-%m"): v for k, v in stored.items()} == pytest.approx(dict(revenue))
    december = pd.Timestamp("2010-12-01")
    repeat = 100 * sum(len(v) >= 2 for v in invoices.values()) / len(invoices)
    assert values(workspace, "Retail", "repeat_purchase_rate")[december] == pytest.approx(repeat)
    # ARPU: identified customers' revenue (refunds included) / customers with a payment > 0
    assert values(workspace, "Retail", "arpu")[december] == pytest.approx(customer_revenue / len(invoices))


@pytest.mark.skipif(not NPS.exists(), reason="real-world data folder absent")
def test_b2b_nps_with_spreadsheet_serial_dates(workspace) -> None:
    """100 B2B customers, NPS_Score 0–10, start dates stored as spreadsheet serials
    (42075 = 2015-03-11). NPS per start month = % 9–10 − % 0–6."""
    workspace.products.create("B2B")
    service = SourceService(workspace.db, workspace.catalog)
    service.add(
        "B2B",
        NPS,
        "survey",
        mapping={"date": "Start_Date_1", "respondent": "Customer_ID", "score": "NPS_Score"},
    )
    groups: dict[str, list[int]] = defaultdict(list)
    with NPS.open(newline="") as handle:
        for row in csv.DictReader(handle):
            day = dt.date(1899, 12, 30) + dt.timedelta(days=int(row["Start_Date_1"]))
            groups[day.strftime("%Y-%m")].append(int(row["NPS_Score"]))
    expected = {
        month: 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)
        for month, scores in groups.items()
    }
    stored = values(workspace, "B2B", "nps")
    assert {k.strftime("%Y-%m"): v for k, v in stored.items()} == pytest.approx(expected)
    assert pd.Timestamp("2015-03-01") in stored

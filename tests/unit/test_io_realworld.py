"""The four real-world files in /work/shared/data/real-world read sensibly (skipped when absent)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from kpidesk.io import LayoutOverride, detect_layout, read_workbook, to_records

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real-world"  # ../shared next to the repo

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="real-world sample folder is absent")


def test_helpdesk_scorecard_weekly_tables() -> None:
    workbook = read_workbook(REAL / "helpdesk_scorecard.xlsx")
    assert workbook.sheet_names == ["Summary", "Accounts", "Purchasing", "Reactive", "Helpdesk", "Phones"]
    summary = detect_layout(workbook.sheet("Summary"))
    assert (summary.kind, summary.reason) == ("unknown", "the sheet is empty")
    sheet = workbook.sheet("Accounts")
    layout = detect_layout(sheet)
    assert (layout.kind, layout.header_row, layout.period_col) == ("wide", 0, 0)
    assert list(layout.kpi_cols.values()) == [
        "Open",
        "New",
        "No Up 7",
        "Older 7",
        "Older 31",
        "Assigned",
        "Not Assigned",
    ]
    frame = to_records(sheet, layout)
    assert len(frame) == 4 * 7
    first = frame.iloc[0]
    # Row 2 of the Accounts table: 2019-09-23 (a Monday), Open = 7; weekly spacing → ISO weeks.
    assert (first["row"], first["column"], first["kpi_label"], first["value"]) == (2, "B", "Open", 7.0)
    assert str(first["period_start"].date()) == "2019-09-23" and first["frequency"] == "week"
    assert set(frame["frequency"]) == {"week"}
    assert (frame["problem"] == "").all()
    phones = to_records(workbook.sheet("Phones"), detect_layout(workbook.sheet("Phones")))
    assert phones[(phones["kpi_label"] == "New")]["value"].tolist() == [5.0, 12.0, 9.0, 12.0]


def test_marketing_tracker_rows_by_months() -> None:
    workbook = read_workbook(REAL / "mkt_kpi_tracker.xlsx")
    monthly = workbook.sheet("Monthly KPIs")
    layout = detect_layout(monthly)
    assert (layout.kind, layout.header_row, layout.label_col) == ("rows", 2, 0)
    assert len(layout.period_cols) == 12
    assert "have no year" in layout.notes[0]  # the title says "ROLLING 12 MONTHS": the user picks the year
    assert [reason for _, reason in layout.skipped_rows][:2] == [
        "row 4 is a section heading (“DEMAND GENERATION”) with no values",
        "row 11 is a section heading (“REVENUE”) with no values",
    ]
    frame = to_records(monthly, detect_layout(monthly, LayoutOverride(year=2024)))
    mqls = frame[frame["kpi_label"] == "MQLs"]
    assert mqls["value"].tolist()[:3] == [240.0, 265.0, 280.0]
    assert [str(d.date()) for d in mqls["period_start"]][:3] == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert bool(mqls["missing"].iloc[-1])  # December is "-"
    rate = frame[frame["kpi_label"] == "MQL → SQL Rate"].iloc[0]
    assert rate["is_percent"] and math.isclose(rate["value"], 37.0)  # 0.37 shown as a percent
    board = workbook.sheet("Board Report")
    board_layout = detect_layout(board)
    assert board_layout.year_hint == 2024 and board_layout.kind == "rows"
    board_frame = to_records(board, board_layout)
    assert board_frame["kpi_label"].tolist()[:2] == ["MQLs Generated", "MQL → SQL Conversion"]
    assert {str(d.date()) for d in board_frame["period_start"]} == {"2024-07-01"}  # "Q3 Actual" of 2024
    assert board_frame["value"].tolist()[0] == 900.0
    okrs = detect_layout(workbook.sheet("Annual OKRs"))
    assert okrs.kind == "rows" and len(okrs.period_cols) == 4  # Q1..Q4 Actual
    assert detect_layout(workbook.sheet("Channel Scorecard")).kind == "unknown"  # no period anywhere


def test_nps_csv_reads_as_text_grid() -> None:
    workbook = read_workbook(REAL / "b2b_customers_nps.csv")
    assert (workbook.format, workbook.encoding, workbook.delimiter) == ("csv", "utf-8", ",")
    sheet = workbook.sheets[0]
    assert (sheet.n_rows, sheet.n_cols) == (101, 9)
    assert sheet.row_values(0)[-1] == "NPS_Score"
    assert sheet.row_values(1) == ["1", "Healthcare_1", "42075", None, "Enterprise", "20", "6", "45", "5"]


def test_online_retail_csv() -> None:
    workbook = read_workbook(REAL / "online_retail_first28k.csv")
    sheet = workbook.sheets[0]
    assert (sheet.n_rows, sheet.n_cols) == (28_493, 9)
    assert sheet.row_values(1)[:5] == [
        "536365",
        "85123A",
        "WHITE HANGING HEART T-LIGHT HOLDER",
        "6",
        "12/1/10 8:26",
    ]
    layout = detect_layout(sheet)
    assert layout.period_col == 4 and layout.dayfirst is False  # "12/13/10" style dates are month first

"""Layout detection and normalisation on small real .xlsx files written with openpyxl."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest

from kpidesk.io import FileProblem, LayoutOverride, detect_layout, read_workbook, to_records
from kpidesk.io.grid import SheetGrid


def sheet_from(tmp_path: Path, rows: list[list[Any]], title: str = "Sheet") -> SheetGrid:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    path = tmp_path / "book.xlsx"
    workbook.save(path)
    return read_workbook(path, sandbox=False).sheets[0]


def simple(frame) -> list[tuple[Any, ...]]:
    out = []
    for rec in frame.itertuples(index=False):
        period = (
            None
            if rec.period_start is None or str(rec.period_start) == "NaT"
            else str(rec.period_start.date())
        )
        out.append(
            (
                rec.row,
                rec.column,
                rec.kpi_label,
                period,
                None if math.isnan(rec.value) else rec.value,
                rec.segment,
                rec.problem,
            )
        )
    return out


def test_label_column_is_the_named_kpi_column_not_the_first_text(tmp_path: Path) -> None:
    grid = sheet_from(
        tmp_path,
        [
            ["Area", "Metric", "Jan 2024", "Feb 2024"],
            ["Sales", "Revenue", 10, 11],
            ["Sales", "Deals", 3, 4],
        ],
    )
    layout = detect_layout(grid)
    assert (layout.kind, layout.label_col) == ("rows", 1)
    assert layout.skipped_cols == [(0, "“Area” is not a period")]
    assert simple(to_records(grid, layout))[:2] == [
        (2, "C", "Revenue", "2024-01-01", 10.0, "", ""),
        (2, "D", "Revenue", "2024-02-01", 11.0, "", ""),
    ]


def test_label_column_without_a_name_is_the_most_varied_text_column(tmp_path: Path) -> None:
    grid = sheet_from(
        tmp_path,
        [
            ["", "Unit", "Q1 2024", "Q2 2024"],
            ["Revenue", "$", 10, 11],
            ["Margin", "%", 3, 4],
            ["Costs", "$", 5, 6],
        ],
    )
    layout = detect_layout(grid)
    assert (layout.kind, layout.label_col) == ("rows", 0)


def test_weekly_labels_take_the_year_from_the_sheet_name(tmp_path: Path) -> None:
    grid = sheet_from(tmp_path, [["Week", "Signups"], ["W1", 5], ["W2", 7]], title="2024")
    layout = detect_layout(grid)
    assert (layout.kind, layout.year_hint) == ("wide", 2024)
    # ISO week 1 of 2024 starts on Monday 1 January, week 2 on 8 January.
    assert simple(to_records(grid, layout)) == [
        (2, "B", "Signups", "2024-01-01", 5.0, "", ""),
        (3, "B", "Signups", "2024-01-08", 7.0, "", ""),
    ]


def test_months_without_a_year_are_problems_until_the_user_picks_one(tmp_path: Path) -> None:
    grid = sheet_from(tmp_path, [["Month", "Visits"], ["Jan", 100], ["Feb", 120]])
    layout = detect_layout(grid)
    assert layout.kind == "wide" and layout.year_hint is None
    assert [r[6] for r in simple(to_records(grid, layout))] == [
        "Jan has no year; choose the year",
        "Feb has no year; choose the year",
    ]
    fixed = detect_layout(grid, LayoutOverride(year=2022))
    assert [r[3] for r in simple(to_records(grid, fixed))] == ["2022-01-01", "2022-02-01"]


def test_long_with_segment_target_and_bad_rows(tmp_path: Path) -> None:
    grid = sheet_from(
        tmp_path,
        [
            ["Date", "Region", "KPI", "Target", "Actual"],
            [dt.date(2024, 1, 1), "EU", "Revenue", 100, 90],
            [dt.date(2024, 2, 1), "EU", "Revenue", 100, 95],
            [dt.date(2024, 3, 1), "EU", None, 100, 97],
            ["sometime", "US", "Revenue", 100, 80],
        ],
    )
    layout = detect_layout(grid)
    assert (layout.kind, layout.period_col, layout.segment_col, layout.kpi_col, layout.value_col) == (
        "long",
        0,
        1,
        2,
        4,
    )
    assert layout.skipped_cols == [(3, "“Target” is not used (one value column per row is imported)")]
    assert simple(to_records(grid, layout)) == [
        (2, "E", "Revenue", "2024-01-01", 90.0, "EU", ""),
        (3, "E", "Revenue", "2024-02-01", 95.0, "EU", ""),
        (4, "E", "", "2024-03-01", 97.0, "EU", "no KPI name"),
        (5, "E", "Revenue", None, 80.0, "US", "'sometime' is not a date or period"),
    ]


def test_second_table_below_a_blank_row_and_title_is_not_data(tmp_path: Path) -> None:
    grid = sheet_from(
        tmp_path,
        [
            ["Report Q3 2024"],
            ["Metric", "Q3 Actual"],
            ["Leads", 900],
            ["Deals", 40],
            [],
            ["HIGHLIGHTS"],
            ["Leads beat plan by 4%"],
        ],
    )
    layout = detect_layout(grid)
    assert (layout.kind, layout.header_row, layout.data_stop, layout.year_hint) == ("rows", 1, 4, 2024)
    assert simple(to_records(grid, layout)) == [
        (3, "B", "Leads", "2024-07-01", 900.0, "", ""),
        (4, "B", "Deals", "2024-07-01", 40.0, "", ""),
    ]


def test_header_row_override_and_describe(tmp_path: Path) -> None:
    grid = sheet_from(
        tmp_path,
        [
            ["Period", "KPI", "Value"],
            ["2024-01", "Visits", 1],
            ["2024-02", "Visits", 2],
        ],
    )
    layout = detect_layout(grid)
    assert layout.describe() == (
        "Sheet 'Sheet': long layout, header on row 1 (column A holds periods, B KPI names and C values); "
        "period in A, KPI in B, value in C."
    )
    shifted = detect_layout(
        grid, LayoutOverride(header_row=1, kind="long", period_col=0, kpi_col=1, value_col=2)
    )
    assert (shifted.header_row, shifted.data_start, shifted.reason) == (1, 2, "chosen by you")
    assert simple(to_records(grid, shifted)) == [(3, "C", "Visits", "2024-02-01", 2.0, "", "")]


def test_empty_sheet_and_missing_columns(tmp_path: Path) -> None:
    empty = sheet_from(tmp_path, [])
    layout = detect_layout(empty)
    assert (layout.kind, layout.reason) == ("unknown", "the sheet is empty")
    grid = sheet_from(tmp_path, [["Period", "Value"], ["2024-01", 1]])
    forced = detect_layout(grid, LayoutOverride(kind="long"))
    with pytest.raises(FileProblem, match="no KPI column was found; choose which column holds the KPI"):
        to_records(grid, forced)


def test_values_in_a_date_cell_or_boolean_are_problems(tmp_path: Path) -> None:
    grid = sheet_from(tmp_path, [["Month", "Visits"], ["2024-01", dt.date(2024, 1, 5)], ["2024-02", True]])
    layout = detect_layout(grid, LayoutOverride(kind="wide", period_col=0, kpi_cols=(1,)))
    assert [r[6] for r in simple(to_records(grid, layout))] == [
        "the cell holds a date, not a number",
        "True is a yes/no value, not a number",
    ]


def test_compact_period_texts_in_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "compact.csv"
    path.write_text("Period,KPI,Value\n202401,Visits,5\n202402,Visits,6\n20240315,Orders,2\n")
    grid = read_workbook(path).sheets[0]
    layout = detect_layout(grid)
    assert (layout.kind, layout.period_col) == ("long", 0)
    frame = to_records(grid, layout)
    assert [(str(p.date()), f) for p, f in zip(frame["period_start"], frame["frequency"], strict=True)] == [
        ("2024-01-01", "month"),
        ("2024-02-01", "month"),
        ("2024-03-15", "day"),
    ]


def test_unicode_digits_in_a_period_column_are_problems_not_crashes(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    rows = [
        "Period,KPI,Value",
        "2024-01,Visits,5",
        "2024-02,Visits,5",
        "2024-03,Visits,5",
        "²,Visits,6",
        "٣,Visits,7",
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    grid = read_workbook(path).sheets[0]
    frame = to_records(grid, detect_layout(grid))
    assert frame["problem"].tolist()[2:] == ["", "'²' is not a date or period", "'٣' is not a date or period"]


def test_hidden_sheets_are_listed(tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.title = "Shown"
    workbook.create_sheet("Lookup").sheet_state = "hidden"
    workbook.create_sheet("Deep").sheet_state = "veryHidden"
    path = tmp_path / "hidden.xlsx"
    workbook.save(path)
    book = read_workbook(path)
    assert (book.sheet_names, book.hidden_sheets) == (["Shown", "Lookup", "Deep"], ["Lookup", "Deep"])


def test_section_after_a_blank_row_and_blank_lines_between_months_keep_their_data(tmp_path: Path) -> None:
    tracker = sheet_from(
        tmp_path,
        [
            ["Metric", "Jan 2024", "Feb 2024"],
            ["ACQUISITION"],
            ["Signups", 10, 11],
            [],
            ["RETENTION"],
            ["Churn", 5, 4],
        ],
    )
    layout = detect_layout(tracker)
    assert layout.data_stop == 6
    assert [r[2] for r in simple(to_records(tracker, layout))] == ["Signups", "Signups", "Churn", "Churn"]
    long = sheet_from(
        tmp_path,
        [
            ["Month", "KPI", "Value"],
            ["2024-01", "Visits", 1],
            [],
            [],
            ["2024-02", "Visits", 2],
        ],
    )
    assert [r[4] for r in simple(to_records(long, detect_layout(long)))] == [1.0, 2.0]


def test_a_column_of_mostly_na_is_still_a_kpi_column(tmp_path: Path) -> None:
    grid = sheet_from(
        tmp_path,
        [
            ["Month", "NPS", "Visits"],
            ["2024-01", "n/a", 5],
            ["2024-02", "n/a", 6],
            ["2024-03", "—", 7],
            ["2024-04", 41, 8],
        ],
    )
    layout = detect_layout(grid)
    assert layout.kpi_cols == {1: "NPS", 2: "Visits"}


def test_choosing_a_skipped_column_removes_it_from_the_skipped_list(tmp_path: Path) -> None:
    grid = sheet_from(
        tmp_path, [["Date", "KPI", "Target", "Actual"], [dt.date(2024, 1, 1), "Revenue", 100, 90]]
    )
    assert detect_layout(grid).skipped_cols == [
        (2, "“Target” is not used (one value column per row is imported)")
    ]
    chosen = detect_layout(grid, LayoutOverride(value_col=2))
    assert chosen.skipped_cols == []
    assert simple(to_records(grid, chosen)) == [(2, "C", "Revenue", "2024-01-01", 100.0, "", "")]


def test_values_without_a_period_or_label_are_problems_not_dropped(tmp_path: Path) -> None:
    wide = sheet_from(tmp_path, [["Month", "Visits"], ["2024-01", 5], [None, 6]])
    assert simple(to_records(wide, detect_layout(wide))) == [
        (2, "B", "Visits", "2024-01-01", 5.0, "", ""),
        (3, "B", "Visits", None, 6.0, "", "no period"),
    ]
    tracker = sheet_from(tmp_path, [["Metric", "Jan 2024", "Feb 2024"], ["Leads", 1, 2], [None, 3, 4]])
    assert [r[6] for r in simple(to_records(tracker, detect_layout(tracker)))] == [
        "",
        "",
        "no KPI name",
        "no KPI name",
    ]

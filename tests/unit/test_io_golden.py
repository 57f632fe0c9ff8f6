"""Golden import files (tests/data/golden, made by tests/data/make_golden.py): read, detect, normalise.

Every file goes through the real pipeline (pre-flight, sandboxed child, layout
detection, records) and every record is compared value by value.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kpidesk.io import FileProblem, LayoutOverride, detect_layout, read_workbook, to_records
from kpidesk.io.grid import Workbook

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"
_CACHE: dict[str, Workbook] = {}


def book(name: str) -> Workbook:
    if name not in _CACHE:
        _CACHE[name] = read_workbook(GOLDEN / name)  # sandboxed, as for any user file
    return _CACHE[name]


def rows(frame: pd.DataFrame, *extra: str) -> list[tuple[Any, ...]]:
    """(row, column, kpi, period ISO, frequency, value, *extra) per record; NaN/NaT → None."""
    out = []
    for rec in frame.itertuples(index=False):
        period = None if pd.isna(rec.period_start) else rec.period_start.date().isoformat()
        value = None if math.isnan(rec.value) else rec.value
        out.append(
            (
                rec.row,
                rec.column,
                rec.kpi_label,
                period,
                rec.frequency,
                value,
                *(getattr(rec, name) for name in extra),
            )
        )
    return out


def records_of(name: str, sheet: str | None = None, override: LayoutOverride | None = None) -> pd.DataFrame:
    workbook = book(name)
    grid = workbook.sheet(sheet) if sheet else workbook.sheets[0]
    return to_records(grid, detect_layout(grid, override), path=workbook.path)


def test_golden_corpus_has_at_least_15_files() -> None:
    files = [p for p in GOLDEN.iterdir() if p.is_file()]
    assert len(files) >= 15


def test_long_basic_xlsx() -> None:
    grid = book("long_basic.xlsx").sheets[0]
    layout = detect_layout(grid)
    assert (layout.kind, layout.header_row, layout.period_col, layout.kpi_col, layout.value_col) == (
        "long",
        0,
        0,
        1,
        2,
    )
    assert (layout.segment_col, layout.product_col, layout.note_col) == (3, 4, 5)
    frame = to_records(grid, layout)
    assert rows(frame, "is_percent", "missing", "segment", "product", "note") == [
        (2, "C", "MRR", "2024-01-01", "month", 12000.0, False, False, "", "Alpha", ""),
        (3, "C", "MRR", "2024-02-01", "month", 12500.5, False, False, "", "Alpha", "price change"),
        (4, "C", "Churn rate", "2024-01-01", "month", 2.5, True, False, "", "Alpha", ""),
        # 0.021 formatted "0.0%" shows 2.1 %: stored in points with is_percent.
        (5, "C", "Churn rate", "2024-02-01", "month", pytest.approx(2.1), True, False, "", "Alpha", ""),
        (6, "C", "Signups", "2024-01-01", "month", 340.0, False, False, "channel:paid", "Alpha", ""),
        (
            7,
            "C",
            "Signups",
            "2024-02-01",
            "month",
            None,
            False,
            True,
            "channel:paid",
            "Alpha",
            "tracking broken",
        ),
    ]
    assert (frame["problem"] == "").all() and (frame["skip"] == "").all()


def test_wide_titles_xlsx_header_below_titles_blank_column_and_total() -> None:
    grid = book("wide_titles.xlsx").sheets[0]
    layout = detect_layout(grid)
    assert (layout.kind, layout.header_row, layout.period_col) == ("wide", 3, 0)
    assert layout.kpi_cols == {1: "MRR", 3: "Active users", 4: "NPS"}  # column C is blank
    frame = to_records(grid, layout)
    assert rows(frame, "missing", "skip") == [
        (5, "B", "MRR", "2024-01-01", "month", 1000.0, False, ""),
        (6, "B", "MRR", "2024-02-01", "month", 1100.0, False, ""),
        (7, "B", "MRR", "2024-03-01", "month", 1250.0, False, ""),  # the text "1,250"
        (8, "B", "MRR", None, "", 3350.0, False, "totals/average row"),
        (5, "D", "Active users", "2024-01-01", "month", 50.0, False, ""),
        (6, "D", "Active users", "2024-02-01", "month", 55.0, False, ""),
        (7, "D", "Active users", "2024-03-01", "month", 61.0, False, ""),
        (8, "D", "Active users", None, "", 166.0, False, "totals/average row"),
        (5, "E", "NPS", "2024-01-01", "month", 31.0, False, ""),
        (6, "E", "NPS", "2024-02-01", "month", 35.5, False, ""),
        (7, "E", "NPS", "2024-03-01", "month", None, True, ""),
        (8, "E", "NPS", None, "", None, True, "totals/average row"),
    ]


def test_tracker_rows_xlsx_year_from_merged_title() -> None:
    grid = book("tracker_rows.xlsx").sheets[0]
    layout = detect_layout(grid)
    assert (layout.kind, layout.header_row, layout.label_col, layout.year_hint) == ("rows", 2, 0, 2023)
    assert sorted(layout.period_cols) == [2, 3, 4]
    assert layout.skipped_cols == [(1, "“Target” is not a period"), (5, "“YTD” is not a period")]
    assert layout.skipped_rows == [
        (3, "row 4 is a section heading (“ACQUISITION”) with no values"),
        (7, "row 8 is a totals/average row (“Average”)"),
    ]
    frame = to_records(grid, layout)
    assert rows(frame, "is_percent") == [
        (5, "C", "Signups", "2023-01-01", "month", 90.0, False),
        (5, "D", "Signups", "2023-02-01", "month", 95.0, False),
        (5, "E", "Signups", "2023-03-01", "month", 120.0, False),
        (6, "C", "Conversion", "2023-01-01", "month", pytest.approx(4.0), True),
        (6, "D", "Conversion", "2023-02-01", "month", pytest.approx(4.5), True),
        (6, "E", "Conversion", "2023-03-01", "month", pytest.approx(5.0), True),
    ]


def test_tracker_with_date_headers_away_from_a1() -> None:
    grid = book("tracker_date_headers.xlsx").sheets[0]
    layout = detect_layout(grid)
    assert (layout.kind, layout.header_row, layout.label_col) == ("rows", 3, 2)
    # Three header dates three months apart: a quarterly series.
    assert rows(to_records(grid, layout), "is_percent", "missing") == [
        (5, "D", "Revenue", "2024-01-01", "quarter", 10.0, False, False),
        (5, "E", "Revenue", "2024-04-01", "quarter", 11.0, False, False),
        (5, "F", "Revenue", "2024-07-01", "quarter", 12.0, False, False),
        (6, "D", "Churn", "2024-01-01", "quarter", 5.0, True, False),
        (6, "E", "Churn", "2024-04-01", "quarter", 4.5, True, False),
        (6, "F", "Churn", "2024-07-01", "quarter", None, False, True),
    ]


def test_merged_year_cells_above_month_headers() -> None:
    frame = records_of("merged_years.xlsx")
    assert rows(frame) == [
        (3, "B", "Revenue", "2024-11-01", "month", 10.0),
        (3, "C", "Revenue", "2024-12-01", "month", 11.0),
        (3, "D", "Revenue", "2025-01-01", "month", 12.0),
        (3, "E", "Revenue", "2025-02-01", "month", 13.0),
        (4, "B", "Users", "2024-11-01", "month", 1.0),
        (4, "C", "Users", "2024-12-01", "month", 2.0),
        (4, "D", "Users", "2025-01-01", "month", 3.0),
        (4, "E", "Users", "2025-02-01", "month", 4.0),
    ]


def test_merged_group_headers_become_kpi_and_segments() -> None:
    grid = book("merged_groups_wide.xlsx").sheets[0]
    assert grid.merged == [(0, 1, 0, 2), (0, 3, 0, 4)]
    frame = records_of("merged_groups_wide.xlsx")
    assert rows(frame, "segment") == [
        (3, "B", "Revenue", "2024-01-01", "month", 100.0, "EU"),
        (4, "B", "Revenue", "2024-02-01", "month", 110.0, "EU"),
        (3, "C", "Revenue", "2024-01-01", "month", 200.0, "US"),
        (4, "C", "Revenue", "2024-02-01", "month", 210.0, "US"),
        (3, "D", "Users", "2024-01-01", "month", 10.0, "EU"),
        (4, "D", "Users", "2024-02-01", "month", 11.0, "EU"),
        (3, "E", "Users", "2024-01-01", "month", 20.0, "US"),
        (4, "E", "Users", "2024-02-01", "month", 21.0, "US"),
    ]


def test_xlsxwriter_shared_strings_weekly_and_cached_formula() -> None:
    workbook = book("shared_strings.xlsx")
    assert workbook.sheets[0].warnings == []  # the formula has a cached result
    assert rows(records_of("shared_strings.xlsx")) == [
        (2, "C", "Tickets", "2024-01-01", "week", 40.0),
        (3, "C", "Tickets", "2024-01-08", "week", 42.0),
        (4, "C", "Tickets", "2024-01-15", "week", 39.0),
        (5, "C", "CSAT", "2024-01-01", "week", 4.5),
        (6, "C", "CSAT", "2024-01-08", "week", 4.25),
        (7, "C", "CSAT", "2024-01-15", "week", 4.375),
    ]


def test_libreoffice_ods() -> None:
    workbook = book("libreoffice.ods")
    assert workbook.format == "ods"
    grid = workbook.sheets[0]
    assert grid.n_cols == 3  # LibreOffice's 1020 repeated empty cells are not columns
    assert rows(records_of("libreoffice.ods")) == [
        (2, "B", "Revenue", "2024-01-01", "quarter", 1500.0),
        (3, "B", "Revenue", "2024-04-01", "quarter", 1750.5),
        (4, "B", "Revenue", "2024-07-01", "quarter", 1800.0),
        (2, "C", "Margin", "2024-01-01", "quarter", 0.25),
        (3, "C", "Margin", "2024-04-01", "quarter", 0.3),
        (4, "C", "Margin", "2024-07-01", "quarter", 0.275),
    ]


def test_totals_and_blank_rows() -> None:
    grid = book("totals_rows.xlsx").sheets[0]
    layout = detect_layout(grid)
    assert layout.kind == "wide"
    frame = to_records(grid, layout)
    assert rows(frame, "skip") == [
        (2, "B", "Orders", "2024-01-01", "month", 10.0, ""),
        (4, "B", "Orders", "2024-02-01", "month", 12.0, ""),  # the blank row 3 is ignored
        (5, "B", "Orders", "2024-03-01", "month", 14.0, ""),
        (6, "B", "Orders", None, "", 36.0, "totals/average row"),
        (7, "B", "Orders", None, "", 12.0, "totals/average row"),
        (2, "C", "Revenue", "2024-01-01", "month", 100.0, ""),
        (4, "C", "Revenue", "2024-02-01", "month", 120.0, ""),
        (5, "C", "Revenue", "2024-03-01", "month", 140.0, ""),
        (6, "C", "Revenue", None, "", 360.0, "totals/average row"),
        (7, "C", "Revenue", None, "", 120.0, "totals/average row"),
    ]


def test_1904_date_system() -> None:
    assert rows(records_of("dates_1904.xlsx")) == [
        (2, "B", "Revenue", "2024-01-01", "month", 5.0),
        (3, "B", "Revenue", "2024-02-01", "month", 6.0),
        (4, "B", "Revenue", "2024-03-01", "month", 7.0),
    ]


def test_1904_serial_numbers_without_date_format() -> None:
    grid = book("serials_1904.xlsx").sheets[0]
    assert grid.date1904 is True
    assert grid.cell(1, 0) == 43830.0  # a plain number in the grid
    # Read in the 1900 system these serials would be 2019-12-31 and 2020-01-31: 1462 days early.
    assert rows(records_of("serials_1904.xlsx")) == [
        (2, "B", "Orders", "2024-01-01", "month", 3.0),
        (3, "B", "Orders", "2024-02-01", "month", 4.0),
    ]
    assert book("long_basic.xlsx").sheets[0].date1904 is False


def test_formula_without_cached_value_warns_and_reads_nothing_invented() -> None:
    grid = book("formula_no_cache.xlsx").sheets[0]
    assert len(grid.warnings) == 1
    assert "2 formula cell(s) (C2, C3) have no saved result" in grid.warnings[0]
    assert "does not calculate formulas" in grid.warnings[0]
    assert grid.cell(1, 2) is None and grid.cell(2, 2) is None
    layout = detect_layout(grid, LayoutOverride(kpi_cols=(1, 2)))
    frame = to_records(grid, layout)
    assert rows(frame, "missing") == [
        (2, "B", "Orders", "2024-01-01", "month", 10.0, False),
        (3, "B", "Orders", "2024-02-01", "month", 12.0, False),
        (2, "C", "Double", "2024-01-01", "month", None, True),
        (3, "C", "Double", "2024-02-01", "month", None, True),
    ]


def test_several_sheets_year_from_sheet_name_and_text_sheet_refused() -> None:
    workbook = book("multi_sheet.xlsx")
    assert workbook.sheet_names == ["Read me", "2023", "2024"]
    assert rows(records_of("multi_sheet.xlsx", "2023")) == [
        (2, "B", "Leads", "2023-01-01", "month", 1.0),
        (2, "C", "Leads", "2023-02-01", "month", 2.0),
        (2, "D", "Leads", "2023-03-01", "month", 3.0),
    ]
    assert rows(records_of("multi_sheet.xlsx", "2024"))[2] == (2, "D", "Leads", "2024-03-01", "month", 6.0)
    notes = workbook.sheet("Read me")
    layout = detect_layout(notes)
    assert layout.kind == "unknown"
    with pytest.raises(FileProblem, match="layout of sheet 'Read me' was not recognised"):
        to_records(notes, layout)
    only = read_workbook(GOLDEN / "multi_sheet.xlsx", sheets=["2024"])
    assert [s.name for s in only.sheets] == ["2024"]


def test_legacy_xls_1900_dates_title_and_second_sheet() -> None:
    workbook = book("legacy.xls")
    assert (workbook.format, workbook.sheet_names) == ("xls", ["Queue", "Notes"])
    grid = workbook.sheet("Queue")
    layout = detect_layout(grid)
    assert (layout.kind, layout.header_row, layout.kpi_cols) == ("wide", 1, {1: "Tickets", 2: "Backlog"})
    assert rows(to_records(grid, layout), "missing") == [
        (3, "B", "Tickets", "2024-01-01", "week", 40.0, False),
        (4, "B", "Tickets", "2024-01-08", "week", 38.0, False),
        (5, "B", "Tickets", "2024-01-15", "week", 45.0, False),
        (3, "C", "Backlog", "2024-01-01", "week", 12.0, False),
        (4, "C", "Backlog", "2024-01-08", "week", 10.5, False),
        (5, "C", "Backlog", "2024-01-15", "week", None, True),
    ]
    assert detect_layout(workbook.sheet("Notes")).kind == "unknown"


def test_legacy_xls_1904_dates() -> None:
    # Serials 43830 and 43861 in the 1904 system are 2024-01-01 and 2024-02-01.
    assert rows(records_of("legacy_1904.xls")) == [
        (2, "B", "Revenue", "2024-01-01", "month", 5.0),
        (3, "B", "Revenue", "2024-02-01", "month", 6.0),
    ]


def test_macro_enabled_xlsm_with_percent_format() -> None:
    workbook = book("macro_enabled.xlsm")
    assert workbook.format == "xlsm"
    assert rows(records_of("macro_enabled.xlsm"), "is_percent") == [
        (2, "B", "Leads", "2024-01-01", "quarter", 50.0, False),
        (3, "B", "Leads", "2024-04-01", "quarter", 60.0, False),
        (2, "C", "Win rate", "2024-01-01", "quarter", pytest.approx(20.0), True),
        (3, "C", "Win rate", "2024-04-01", "quarter", pytest.approx(25.0), True),
    ]


def test_utf8_bom_csv() -> None:
    workbook = book("utf8_bom.csv")
    assert (workbook.encoding, workbook.delimiter) == ("utf-8-sig", ",")
    assert workbook.sheets[0].cell(0, 0) == "Period"  # the BOM is not part of the header
    assert rows(records_of("utf8_bom.csv")) == [
        (2, "C", "Umsatz €", "2024-01-01", "month", 1200.0),
        (3, "C", "Größe", "2024-01-01", "month", 3.5),
    ]


def test_utf16le_tab_text_with_decimal_comma() -> None:
    workbook = book("utf16le_tab.txt")
    assert (workbook.encoding, workbook.delimiter, workbook.sheets[0].decimal) == ("utf-16-le", "\t", ",")
    assert rows(records_of("utf16le_tab.txt")) == [
        (2, "B", "Tickets", "2024-01-01", "week", 40.0),
        (3, "B", "Tickets", "2024-01-08", "week", 38.0),
        (2, "C", "CSAT", "2024-01-01", "week", 4.5),
        (3, "C", "CSAT", "2024-01-08", "week", 4.7),
    ]


def test_utf16be_csv() -> None:
    assert book("utf16be.csv").encoding == "utf-16-be"
    assert rows(records_of("utf16be.csv")) == [
        (2, "B", "Revenue", "2024-01-01", "quarter", 100.0),
        (3, "B", "Revenue", "2024-04-01", "quarter", 120.0),
    ]


def test_cp1252_csv() -> None:
    workbook = book("cp1252.csv")
    assert workbook.encoding == "cp1252"
    assert workbook.warnings == ["The file is not UTF-8; it was read as Windows-1252."]
    assert rows(records_of("cp1252.csv")) == [
        (2, "C", "Café visits", "2024-03-01", "month", 1200.5),
        (3, "C", "Café visits", "2024-04-01", "month", 1300.0),
    ]


def test_semicolon_decimal_comma_csv() -> None:
    workbook = book("semicolon_decimal_comma.csv")
    assert (workbook.delimiter, workbook.sheets[0].decimal) == (";", ",")
    assert rows(records_of("semicolon_decimal_comma.csv"), "is_percent") == [
        (2, "B", "Umsatz", "2024-01-01", "month", 1234.5, False),
        (3, "B", "Umsatz", "2024-02-01", "month", 2000.0, False),
        (2, "C", "Conversion", "2024-01-01", "month", 12.5, True),
        (3, "C", "Conversion", "2024-02-01", "month", 13.1, True),
    ]


def test_pipe_delimited_long() -> None:
    workbook = book("pipe.txt")
    assert (workbook.delimiter, workbook.sheets[0].decimal) == ("|", ".")
    assert rows(records_of("pipe.txt"), "segment") == [
        (2, "C", "Orders", "2024-03-15", "day", -1234.0, "region:EU"),
        (3, "C", "Orders", "2024-03-16", "day", 1300.0, "region:EU"),
    ]


def test_period_label_forms() -> None:
    assert [(r[3], r[4], r[5]) for r in rows(records_of("period_labels.csv"))] == [
        ("2024-03-01", "month", 1.0),  # 2024-03
        ("2024-03-01", "month", 2.0),  # Mar 2024
        ("2024-03-01", "month", 3.0),  # March 2024
        ("2024-07-01", "quarter", 4.0),  # 2024-Q3
        ("2024-07-01", "quarter", 5.0),  # Q3 2024
        ("2024-01-29", "week", 6.0),  # 2024-W05
        ("2024-01-01", "year", 7.0),  # FY2024
        ("2024-01-01", "half", 8.0),  # H1 2024
        ("2024-03-15", "day", 9.0),  # 15/03/2024
    ]


def test_value_quirks() -> None:
    frame = records_of("values_quirks.csv")
    assert [(r[5], r[6], r[7], r[8]) for r in rows(frame, "is_percent", "missing", "problem")] == [
        (1234.5, False, False, ""),  # $1,234.50
        (-1234.0, False, False, ""),  # (1,234)
        (None, False, True, ""),  # —
        (None, False, True, ""),  # n/a
        (None, False, True, ""),  # NA
        (None, False, True, ""),  # empty
        (12.0, True, False, ""),  # 12%
        (12.5, True, False, ""),  # 12.5 %
        (99.0, False, False, ""),  # EUR 99
        (None, False, False, "'abc' is not a number"),
        (1234.5, False, False, ""),  # 1.234,5
        (-7.0, False, False, ""),
    ]


def test_currencies_are_reported() -> None:
    frame = records_of("values_quirks.csv")
    assert frame["currency"].tolist() == ["$", "", "", "", "", "", "", "", "EUR", "", "", ""]
    assert records_of("cp1252.csv")["currency"].tolist() == ["€", "€"]
    assert set(records_of("long_basic.xlsx")["currency"]) == {""}  # numbers carry no symbol


def test_excel_serial_days_in_a_csv_date_column() -> None:
    # 45292 = 2024-01-01, 45323 = 2024-02-01, 45352 = 2024-03-01 (1900 system).
    assert rows(records_of("excel_serials.csv")) == [
        (2, "B", "Signups", "2024-01-01", "month", 10.0),
        (3, "B", "Signups", "2024-02-01", "month", 12.0),
        (4, "B", "Signups", "2024-03-01", "month", 15.0),
    ]


def test_tsv_daily_wide() -> None:
    workbook = book("wide.tsv")
    assert workbook.delimiter == "\t"
    assert rows(records_of("wide.tsv")) == [
        (2, "B", "Visits", "2024-01-01", "day", 100.0),
        (3, "B", "Visits", "2024-01-02", "day", 120.0),
        (2, "C", "Orders", "2024-01-01", "day", 5.0),
        (3, "C", "Orders", "2024-01-02", "day", 7.0),
    ]


def test_layout_override_changes_kind_columns_and_year() -> None:
    grid = book("long_basic.xlsx").sheets[0]
    forced = detect_layout(grid, LayoutOverride(kind="wide", kpi_cols=(2,), frequency="quarter"))
    assert forced.kind == "wide" and forced.reason == "chosen by you" and forced.kpi_cols == {2: "Value"}
    frame = to_records(grid, forced)
    assert rows(frame)[0] == (2, "C", "Value", "2024-01-01", "quarter", 12000.0)
    tracker = book("tracker_rows.xlsx").sheets[0]
    assert rows(to_records(tracker, detect_layout(tracker, LayoutOverride(year=2030))))[0][3] == "2030-01-01"

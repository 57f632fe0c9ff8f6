"""Period labels, Excel serial dates and frequency inference (kpidesk.io.period_labels)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from kpidesk.io.period_labels import (
    ParsedPeriod,
    PeriodProblem,
    excel_serial_to_date,
    find_year,
    infer_date_frequency,
    parse_period,
)
from kpidesk.io.records import period_starts

D = dt.date


@pytest.mark.parametrize(
    ("label", "start", "frequency"),
    [
        ("2024-03", D(2024, 3, 1), "month"),
        ("2024/3", D(2024, 3, 1), "month"),
        ("03/2024", D(2024, 3, 1), "month"),
        ("Mar 2024", D(2024, 3, 1), "month"),
        ("March 2024", D(2024, 3, 1), "month"),
        ("mar-24", D(2024, 3, 1), "month"),
        ("Mar '24", D(2024, 3, 1), "month"),
        ("2024 Mar", D(2024, 3, 1), "month"),
        ("Mär 2024", D(2024, 3, 1), "month"),
        ("2024-Q3", D(2024, 7, 1), "quarter"),
        ("Q3 2024", D(2024, 7, 1), "quarter"),
        ("Q3-24", D(2024, 7, 1), "quarter"),
        ("FY2024 Q1", D(2024, 1, 1), "quarter"),
        ("2024-W05", D(2024, 1, 29), "week"),  # ISO week 5 of 2024 starts Monday 29 January
        ("W05 2024", D(2024, 1, 29), "week"),
        ("Week 5 2024", D(2024, 1, 29), "week"),
        ("2021-W01", D(2021, 1, 4), "week"),  # 1 Jan 2021 was in week 53 of 2020
        ("FY2024", D(2024, 1, 1), "year"),
        ("FY 24", D(2024, 1, 1), "year"),
        ("2024", D(2024, 1, 1), "year"),
        ("H1 2024", D(2024, 1, 1), "half"),
        ("3Q24", D(2024, 7, 1), "quarter"),
        ("1Q 2024", D(2024, 1, 1), "quarter"),
        ("CY2024", D(2024, 1, 1), "year"),
        ("202403", D(2024, 3, 1), "month"),
        ("2024-H2", D(2024, 7, 1), "half"),
    ],
)
def test_period_labels(label: str, start: dt.date, frequency: str) -> None:
    assert parse_period(label) == ParsedPeriod(start, frequency)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2024-03-15", D(2024, 3, 15)),
        ("2024-03-15 00:00:00", D(2024, 3, 15)),
        ("15/03/2024", D(2024, 3, 15)),
        ("15.03.2024", D(2024, 3, 15)),
        ("15 Mar 2024", D(2024, 3, 15)),
        ("Mar 15, 2024", D(2024, 3, 15)),
        ("03/15/2024", D(2024, 3, 15)),  # 15 cannot be a month, so month first
        ("20240315", D(2024, 3, 15)),
    ],
)
def test_date_texts_are_exact_days(text: str, day: dt.date) -> None:
    assert parse_period(text) == ParsedPeriod(day, "day", exact_date=True)


def test_dayfirst_decides_ambiguous_dates() -> None:
    assert parse_period("03/04/2024") == ParsedPeriod(D(2024, 4, 3), "day", exact_date=True)
    assert parse_period("03/04/2024", dayfirst=False) == ParsedPeriod(D(2024, 3, 4), "day", exact_date=True)


def test_bare_month_needs_a_year() -> None:
    problem = parse_period("Jan")
    assert isinstance(problem, PeriodProblem)
    assert problem.reason == "Jan has no year; choose the year"
    assert parse_period("Jan", year_hint=2023) == ParsedPeriod(D(2023, 1, 1), "month")
    assert parse_period("Q2", year_hint=2023) == ParsedPeriod(D(2023, 4, 1), "quarter")


@pytest.mark.parametrize(
    "text",
    ["Total", "YTD", "Target", "Metric", "", "2024-13", "45292", "Q5 2024", "2024-W60", "202413", "12345678"],
)
def test_not_periods(text: str) -> None:
    assert parse_period(text) is None


def test_cells_that_are_dates_or_numbers() -> None:
    assert parse_period(D(2024, 3, 5)) == ParsedPeriod(D(2024, 3, 5), "day", exact_date=True)
    assert parse_period(dt.datetime(2024, 3, 5, 14, 0)) == ParsedPeriod(D(2024, 3, 5), "day", exact_date=True)
    assert parse_period(2024.0) == ParsedPeriod(D(2024, 1, 1), "year")
    assert parse_period(2024, allow_bare_year=False) is None
    assert parse_period(12.5) is None


def test_excel_serials_both_systems() -> None:
    # 1900 system: 45352 = 2024-03-01 (1899-12-30 + 45352 days, Lotus leap-year bug included).
    assert excel_serial_to_date(45352) == D(2024, 3, 1)
    assert excel_serial_to_date(45352.75) == D(2024, 3, 1)  # time of day dropped
    assert excel_serial_to_date(1) == D(1900, 1, 1)
    assert excel_serial_to_date(59) == D(1900, 2, 28)
    assert excel_serial_to_date(60) is None  # the phantom 1900-02-29
    assert excel_serial_to_date(61) == D(1900, 3, 1)
    # 1904 system: 1904-01-01 + 43890 days = 2024-03-01 (1462 days fewer than the 1900 serial).
    assert excel_serial_to_date(43890, date1904=True) == D(2024, 3, 1)
    assert excel_serial_to_date(0, date1904=True) == D(1904, 1, 1)
    assert excel_serial_to_date(-5) is None
    assert excel_serial_to_date(10**9) is None


def test_find_year() -> None:
    assert find_year("KPI tracker FY2024") == 2024
    assert find_year("Budget 2023 v2") == 2023
    assert find_year("BOARD MARKETING REPORT — Q3 2024") == 2024
    assert find_year("ROLLING 12 MONTHS") is None
    assert find_year("ID 120245") is None
    assert find_year(2023.0) == 2023


def test_infer_date_frequency() -> None:
    mondays = [D(2019, 9, 23) + dt.timedelta(days=7 * i) for i in range(5)]
    assert infer_date_frequency(mondays) == "week"
    assert infer_date_frequency([D(2024, m, 1) for m in range(1, 7)]) == "month"
    assert infer_date_frequency([D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31)]) == "month"
    assert infer_date_frequency([D(2024, 1, 1), D(2024, 4, 1), D(2024, 7, 1)]) == "quarter"
    assert infer_date_frequency([D(2022, 1, 1), D(2023, 1, 1)]) == "year"
    assert infer_date_frequency([D(2024, 1, 1), D(2024, 1, 2), D(2024, 1, 3)]) == "day"
    assert infer_date_frequency([D(2024, 5, 1)]) == "month"
    assert infer_date_frequency([D(2024, 5, 7)]) == "day"


def test_vectorised_period_starts_match_the_domain_rule() -> None:
    from kpidesk.domain.periods import period_start

    days = [D(2024, 2, 29) + dt.timedelta(days=k * 37) for k in range(40)]
    array = np.array(days, dtype="datetime64[D]")
    for frequency in ("day", "week", "month", "quarter", "year"):
        got = [d.item() for d in period_starts(array, frequency)]
        assert got == [period_start(d, frequency) for d in days], frequency

"""Shared recipe helpers on tiny inputs: dates, numbers, periods, ratios, MRR spreading."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kpidesk.domain.recipes import check_conventions
from kpidesk.domain.recipes.base import (
    day_numbers,
    full_periods,
    period_table,
    require_columns,
    row_number,
    safe_ratio,
    to_datetime_column,
    to_number_column,
)
from kpidesk.domain.recipes.transactions import customer_mrr, prepare
from kpidesk.errors import ValidationError


def test_dates_from_text_serials_and_unix_time() -> None:
    """45292 is 2024-01-01 as a spreadsheet serial (days since 1899-12-30);
    1704067200 is 2024-01-01 00:00 UTC in Unix seconds, 1704067200000 in milliseconds."""
    frame = pd.DataFrame(
        {
            "text": ["2024-01-01 10:00", "2024-01-02", None],
            "serial": [45292, 45293.5, None],
            "unix": [1704067200, 1704153600, None],
            "ms": [1704067200000, 1704153600000, None],
            "mixed": ["2024-01-01", "Jan 2 2024", "03/01/2024"],
        }
    )
    assert to_datetime_column(frame, "text", "t").iloc[0] == pd.Timestamp("2024-01-01 10:00")
    assert to_datetime_column(frame, "serial", "t").tolist()[:2] == [
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-01-02 12:00"),
    ]
    assert to_datetime_column(frame, "unix", "t").iloc[1] == pd.Timestamp("2024-01-02")
    assert to_datetime_column(frame, "ms", "t").iloc[0] == pd.Timestamp("2024-01-01")
    assert to_datetime_column(frame, "mixed", "t").iloc[1] == pd.Timestamp("2024-01-02")
    bad = pd.DataFrame({"when": ["2024-01-01", "someday"]})
    with pytest.raises(ValidationError, match=r"cannot read 'someday' as a date \(column 'when', row 2\)"):
        to_datetime_column(bad, "when", "events")


def test_numbers_and_row_numbers() -> None:
    """A frame read from a file carries its row numbers (header = row 1)."""
    frame = pd.DataFrame({"amount": ["1.5", "2", "x"]}, index=pd.RangeIndex(2, 5))
    frame.attrs["file_rows"] = True
    with pytest.raises(ValidationError, match=r"'x' as a number \(column 'amount', row 4\)"):
        to_number_column(frame, "amount", "transactions")
    assert to_number_column(frame.iloc[:2], "amount", "transactions").tolist() == [1.5, 2.0]
    assert row_number(frame, 0) == 2
    assert row_number(pd.DataFrame({"a": [1]}), 0) == 1
    with pytest.raises(ValidationError, match="needs a 'user' column in the data; found: amount"):
        require_columns(frame, "events", ["user"])


def test_periods_days_and_ratios() -> None:
    """2024-01-01 is day 19723 since 1970-01-01. Days 19723..19724+31 span Jan and Feb."""
    assert day_numbers(np.array(["2024-01-01T23:59", "1970-01-02"], dtype="datetime64[m]")).tolist() == [
        19723,
        1,
    ]
    table = period_table(19723, 33, "month")
    assert table.starts.tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    assert table.period_of_day[[0, 30, 31, 32]].tolist() == [0, 0, 1, 1]
    full = full_periods(pd.DatetimeIndex(["2024-01-01", "2024-04-01"]), "month")
    assert len(full) == 4
    ratio = safe_ratio(pd.Series([1.0, 2.0, 3.0]), pd.Series([4.0, 0.0, np.nan]), 100.0)
    assert ratio.iloc[0] == 25
    assert math.isnan(ratio.iloc[1])
    assert math.isnan(ratio.iloc[2])


def test_customer_mrr_spreads_plans_and_stops_at_the_last_month() -> None:
    """a: 30 quarterly in Jan → 10 in Jan, Feb, Mar; b: 120 annual in Feb → 10 a month from Feb;
    the last payment is in Mar, so April onwards (the future) is not reported."""
    tx = prepare(
        pd.DataFrame(
            {
                "customer": ["a", "b", "b"],
                "date": ["2024-01-15", "2024-02-01", "2024-03-03"],
                "amount": [30, 120, 0],
                "plan": ["quarterly", "annual", "monthly"],
            }
        )
    )
    wide = customer_mrr(tx)
    assert wide.columns.tolist() == list(pd.date_range("2024-01-01", periods=3, freq="MS"))
    assert wide.loc["a"].tolist() == [10, 10, 10]
    assert wide.loc["b"].tolist() == [0, 10, 10]


def test_unknown_convention_names() -> None:
    check_conventions("events", {"mau": "calendar_month"})
    with pytest.raises(ValidationError, match="no convention 'period_'"):
        check_conventions("spend", {"period_": "month"})

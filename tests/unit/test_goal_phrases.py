"""Goal phrases: relative changes and horizons."""

from __future__ import annotations

import datetime as dt

import pytest

from kpidesk.domain.goals.phrases import parse_change, parse_horizon
from kpidesk.errors import ValidationError

D = dt.date
TODAY = D(2026, 5, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25%", (25.0, "percent")),
        ("+25 %", (25.0, "percent")),
        ("12,5 percent", (12.5, "percent")),
        ("5", (5.0, "absolute")),
        ("5pp", (5.0, "absolute")),
        ("-3.5 points", (3.5, "absolute")),
    ],
)
def test_parse_change(text: str, expected: tuple[float, str]) -> None:
    assert parse_change(text) == expected


def test_parse_change_refuses_words() -> None:
    with pytest.raises(ValidationError, match="'a lot' is not a change"):
        parse_change("a lot")


@pytest.mark.parametrize(
    ("text", "start", "due"),
    [
        ("within the next quarter", D(2026, 7, 1), D(2026, 9, 30)),
        ("next quarter", D(2026, 7, 1), D(2026, 9, 30)),
        ("next month", D(2026, 6, 1), D(2026, 6, 30)),
        ("next year", D(2027, 1, 1), D(2027, 12, 31)),
        ("this quarter", TODAY, D(2026, 6, 30)),
        ("this year", TODAY, D(2026, 12, 31)),
        ("3 months", TODAY, D(2026, 8, 9)),
        ("within 6 weeks", TODAY, D(2026, 6, 20)),
        ("in a year", TODAY, D(2027, 5, 9)),
        ("over two quarters", TODAY, D(2026, 11, 9)),
    ],
)
def test_parse_horizon(text: str, start: dt.date, due: dt.date) -> None:
    assert parse_horizon(text, TODAY) == (start, due)


def test_month_ends_clamp() -> None:
    # 31 Jan + 1 month = 28 Feb (2026 is not a leap year) → due the day before
    assert parse_horizon("1 month", D(2026, 1, 31)) == (D(2026, 1, 31), D(2026, 2, 27))


def test_parse_horizon_refuses_with_help() -> None:
    with pytest.raises(ValidationError, match="give --start and --due"):
        parse_horizon("soonish", TODAY)
    with pytest.raises(ValidationError, match="at least one period"):
        parse_horizon("0 months", TODAY)

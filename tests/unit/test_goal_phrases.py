"""Goal phrases: relative changes and horizons."""

from __future__ import annotations

import datetime as dt

import pytest

from kpidesk.domain.goals.phrases import parse_change, parse_horizon, parse_statement
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Increase onboarding completion by 25% within the next quarter",
         {"kind": "increase_to", "kpi_text": "onboarding completion", "relative_change": 25.0,
          "relative_mode": "percent", "start": D(2026, 7, 1), "due": D(2026, 9, 30)}),
        ("Reduce churn rate to 2.5% by December",
         {"kind": "decrease_to", "kpi_text": "churn rate", "target_value": 2.5, "start": TODAY,
          "due": D(2026, 12, 31)}),
        ("Keep uptime between 99.5% and 100% this year.",
         {"kind": "keep_in_band", "kpi_text": "uptime", "band_low": 99.5, "band_high": 100.0,
          "due": D(2026, 12, 31)}),
        ("Keep NPS above 30 in 6 months", {"kind": "stay_above", "target_value": 30.0, "due": D(2026, 11, 9)}),
        ("Hold error rate below 0.5% by the end of the quarter",
         {"kind": "stay_below", "kpi_text": "error rate", "target_value": 0.5, "due": D(2026, 6, 30)}),
        ("Grow MRR from €180k to €250k by 2026-12-31",
         {"kind": "increase_to", "kpi_text": "MRR", "target_value": 250_000.0, "due": D(2026, 12, 31)}),
        # "by 500" is the change, "by the end of the year" the deadline
        ("Increase sign-ups by 500 by the end of the year",
         {"relative_change": 500.0, "relative_mode": "absolute", "due": D(2026, 12, 31)}),
        ("Cut load time by 20% by 2026-09", {"kind": "decrease_to", "relative_change": 20.0, "due": D(2026, 9, 30)}),
        # a month already past this year means next year's
        ("Raise revenue to 1.2m by March", {"target_value": 1_200_000.0, "due": D(2027, 3, 31)}),
    ],
)
def test_parse_statement(text: str, expected: dict) -> None:
    parsed = parse_statement(text, TODAY)
    for name, value in expected.items():
        assert getattr(parsed, name) == value, name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Increase revenue by a lot soon", "does not say when"),
        ("Increase revenue quickly within the next quarter", "does not say the change"),
        ("Keep uptime high this year", "does not say where to keep"),
        ("Celebrate revenue within the next quarter", "does not start with a change verb"),
    ],
)
def test_parse_statement_refuses_with_help(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_statement(text, TODAY)

"""Value parsing: numbers as people type them (kpidesk.io.values)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpidesk.io.values import (
    looks_like_fractions,
    parse_number,
    parse_number_array,
    to_percentage_points,
)


@pytest.mark.parametrize(
    ("text", "value", "is_percent", "currency"),
    [
        ("12%", 12.0, True, None),
        ("12.5 %", 12.5, True, None),
        ("-12,5 %", -12.5, True, None),
        ("1,234.5", 1234.5, False, None),
        ("1.234,5", 1234.5, False, None),  # rightmost mark is the decimal mark
        ("1 234,5", 1234.5, False, None),
        ("1'234.5", 1234.5, False, None),
        ("1,234", 1234.0, False, None),  # a lone comma before three digits groups thousands
        ("1,234,567", 1234567.0, False, None),
        ("1.234.567", 1234567.0, False, None),
        ("12,5", 12.5, False, None),  # otherwise it is a decimal comma
        ("(1,234)", -1234.0, False, None),
        ("$1,234.50", 1234.5, False, "$"),
        ("-$3", -3.0, False, "$"),
        ("£(3)", -3.0, False, "£"),
        ("€1.200,00", 1200.0, False, "€"),
        ("1200 €", 1200.0, False, "€"),
        ("EUR 1.200,00", 1200.0, False, "EUR"),
        ("99 USD", 99.0, False, "USD"),
        ("\u22125", -5.0, False, None),  # Unicode minus
        ("\u00a012\u00a0", 12.0, False, None),  # non-breaking spaces
        ("1e5", 100000.0, False, None),
        ("+7", 7.0, False, None),
    ],
)
def test_parse_number_texts(text: str, value: float, is_percent: bool, currency: str | None) -> None:
    parsed = parse_number(text)
    assert parsed.value == pytest.approx(value)
    assert parsed.is_percent is is_percent
    assert parsed.currency == currency
    assert parsed.missing is False
    assert parsed.problem is None


@pytest.mark.parametrize(
    "text", ["", " ", "-", "—", "–", "n/a", "N/A", "NA", "n.a.", "null", "None", "nan", "?"]
)
def test_missing_tokens(text: str) -> None:
    parsed = parse_number(text)
    assert parsed.value is None
    assert parsed.missing is True
    assert parsed.problem is None


def test_excel_error_is_missing_with_a_reason() -> None:
    parsed = parse_number("#DIV/0!")
    assert parsed.missing is True
    assert parsed.problem == "the cell holds the Excel error #DIV/0!"


@pytest.mark.parametrize("text", ["abc", "12k", "1.2.3,4,5", "$", "%", "inf", "12 34 abc"])
def test_unreadable_text_names_the_text(text: str) -> None:
    parsed = parse_number(text)
    assert parsed.value is None
    assert parsed.missing is False
    assert parsed.problem is not None and repr(text.strip()) in parsed.problem


def test_declared_decimal_mark_decides_single_marks() -> None:
    # "1.234" is 1234 in a decimal-comma file, 1.234 otherwise; "1,234" the other way round.
    assert parse_number("1.234", decimal=",").value == 1234.0
    assert parse_number("1.234").value == pytest.approx(1.234)
    assert parse_number("1,234", decimal=",").value == pytest.approx(1.234)
    assert parse_number("12.5", decimal=",").value == pytest.approx(12.5)  # not a thousands group


def test_non_text_cells() -> None:
    assert parse_number(3).value == 3.0
    assert parse_number(2.5).value == 2.5
    assert parse_number(None).missing is True
    assert parse_number(float("nan")).missing is True
    assert parse_number(True).problem == "True is a yes/no value, not a number"
    assert parse_number(float("inf")).problem == "the number is infinite"


def test_percent_points_rule() -> None:
    # "12%" → 12 points; 0.12 typed as a plain fraction → 0.12 × 100 = 12 points: they land the same.
    twelve_percent = parse_number("12%")
    fraction = parse_number("0.12")
    assert twelve_percent.value is not None and fraction.value is not None
    a = to_percentage_points(twelve_percent.value, is_percent=True, fraction=True)
    b = to_percentage_points(fraction.value, is_percent=False, fraction=True)
    assert a == pytest.approx(12.0)
    assert b == pytest.approx(12.0)
    assert to_percentage_points(37.0, is_percent=False, fraction=False) == 37.0


def test_looks_like_fractions() -> None:
    assert looks_like_fractions(np.array([0.37, 0.41, np.nan, 1.2]))
    assert not looks_like_fractions(np.array([37.0, 41.0]))
    assert not looks_like_fractions(np.array([np.nan]))


def test_parse_number_array_matches_scalar_parser() -> None:
    cells = np.array(["12.5", "1,234", "12%", None, "—", "abc", 7.0, "(3)", "12.5", ""], dtype=object)
    out = parse_number_array(cells)
    expected = [12.5, 1234.0, 12.0, math.nan, math.nan, math.nan, 7.0, -3.0, 12.5, math.nan]
    np.testing.assert_allclose(out.value, expected, equal_nan=True)
    assert out.is_percent.tolist() == [False, False, True, False, False, False, False, False, False, False]
    assert out.missing.tolist() == [False, False, False, True, True, False, False, False, False, True]
    assert out.problem[5] == "'abc' is not a number"
    assert out.problem[0] is None


def test_parse_number_array_decimal_comma_and_float_input() -> None:
    out = parse_number_array(np.array(["1.234,5", "12,5 %", "3"], dtype=object), decimal=",")
    np.testing.assert_allclose(out.value, [1234.5, 12.5, 3.0])
    assert out.is_percent.tolist() == [False, True, False]
    floats = parse_number_array(np.array([1.5, np.nan]))
    assert floats.value[0] == 1.5 and floats.missing.tolist() == [False, True]


# --------------------------------------------------------------------------- properties

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)


def _group(integer: int, sep: str) -> str:
    digits = str(integer)
    groups = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return sep.join(groups)


@settings(max_examples=300, deadline=None)
@given(finite)
def test_roundtrip_repr(number: float) -> None:
    """Python's own repr of any float parses back to the same float."""
    assert parse_number(repr(number)).value == number


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=99),
    st.booleans(),
    st.sampled_from(["us", "eu", "swiss", "space"]),
)
def test_roundtrip_formatted(integer: int, cents: int, negative: bool, style: str) -> None:
    """A number written with grouping and two decimals in any common style parses back exactly.

    Example: 1234567.05 → "1,234,567.05" (us), "1.234.567,05" (eu), "1'234'567.05" (swiss),
    "1 234 567,05" (space); negatives as "-…" and in accounting parentheses.
    """
    sep, mark = {"us": (",", "."), "eu": (".", ","), "swiss": ("'", "."), "space": (" ", ",")}[style]
    text = f"{_group(integer, sep)}{mark}{cents:02d}"
    expected = integer + cents / 100
    signed = -expected if negative else expected
    assert parse_number(f"-{text}" if negative else text).value == pytest.approx(signed, rel=1e-15, abs=1e-9)
    assert parse_number(f"({text})" if negative else text).value == pytest.approx(signed, rel=1e-15, abs=1e-9)
    assert parse_number(f"{text} %").value == pytest.approx(expected, rel=1e-15, abs=1e-9)
    assert parse_number(f"{text} %").is_percent


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_never_raises_on_any_text(text: str) -> None:
    parsed = parse_number(text)
    assert (parsed.value is None) == (parsed.missing or parsed.problem is not None)

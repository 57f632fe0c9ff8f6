"""Formula KPIs: hand-computed evaluation, save-time errors and dependencies."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kpidesk.domain.formula import (
    FormulaError,
    evaluate_all,
    evaluate_formula,
    parse_formula,
    resolve_order,
    validate_formula,
)
from kpidesk.errors import ValidationError


def months(values: list[float], start: str = "2024-01-01") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="MS"), dtype=float)


def test_parse_collects_the_kpi_keys() -> None:
    assert parse_formula("(revenue - cogs) / revenue").names == {"revenue", "cogs"}
    assert parse_formula("dau / mau * 100").names == {"dau", "mau"}
    assert parse_formula("round(lag(mrr, 12), 2) + 1.5e3").names == {"mrr"}
    assert parse_formula("42").names == frozenset()


def test_evaluate_arithmetic_by_hand() -> None:
    """revenue 100, 200 and cogs 40, 150:
    gross margin (revenue − cogs) / revenue = 60/100 = 0.6 and 50/200 = 0.25.
    −revenue + 2 × cogs = −100 + 80 = −20 and −200 + 300 = 100.
    """
    series = {"revenue": months([100, 200]), "cogs": months([40, 150])}
    assert evaluate_formula("(revenue - cogs) / revenue", series).values.tolist() == [0.6, 0.25]
    assert evaluate_formula("-revenue + 2 * cogs", series).values.tolist() == [-20.0, 100.0]
    assert evaluate_formula("+revenue - -cogs", series).values.tolist() == [140.0, 350.0]


def test_functions_by_hand() -> None:
    """x = 1, −4, 9, 16 and y = 3, 3, 3, 3.

    min(x, y) = 1, −4, 3, 3; max(x, y, 10) = 10, 10, 10, 16; abs(x) = 1, 4, 9, 16;
    lag(x, 1) = NaN, 1, −4, 9; rolling_mean(x, 2) = NaN, −1.5, 2.5, 12.5;
    round(x / y, 2) = 0.33, −1.33, 3.0, 5.33; round(x / 2) = 0 (half to even), −2, 4, 8.
    """
    s = {"x": months([1, -4, 9, 16]), "y": months([3, 3, 3, 3])}

    def ev(text: str) -> list[float]:
        return evaluate_formula(text, s).values.tolist()

    assert ev("min(x, y)") == [1, -4, 3, 3]
    assert ev("max(x, y, 10)") == [10, 10, 10, 16]
    assert ev("abs(x)") == [1, 4, 9, 16]
    lag = ev("lag(x, 1)")
    assert math.isnan(lag[0])
    assert lag[1:] == [1, -4, 9]
    roll = ev("rolling_mean(x, 2)")
    assert math.isnan(roll[0])
    assert roll[1:] == [-1.5, 2.5, 12.5]
    assert ev("round(x / y, 2)") == [0.33, -1.33, 3.0, 5.33]
    assert ev("round(x / 2)") == [0.0, -2.0, 4.0, 8.0]


def test_division_by_zero_is_missing_with_a_flag() -> None:
    """clv 300, 400, 500 over cac 100, 0, 250 → 3, missing (flagged), 2."""
    result = evaluate_formula("clv / cac", {"clv": months([300, 400, 500]), "cac": months([100, 0, 250])})
    assert result.values.iloc[0] == 3
    assert math.isnan(result.values.iloc[1])
    assert result.values.iloc[2] == 2
    assert result.division_by_zero.tolist() == [False, True, False]


def test_inputs_align_on_the_union_of_periods() -> None:
    """dau has Jan–Mar, mau has Feb–Apr: dau/mau exists for Feb and Mar only."""
    dau = months([10, 20, 30])
    mau = months([100, 100, 100], start="2024-02-01")
    result = evaluate_formula("dau / mau", {"dau": dau, "mau": mau}).values
    assert len(result) == 4
    assert result.isna().tolist() == [True, False, False, True]
    assert result.iloc[1] == 0.2
    assert not evaluate_formula("dau / mau", {"dau": dau, "mau": mau}).division_by_zero.any()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("revenue +", "syntax error"),
        ("revenue ** 2", "** is not allowed"),
        ("revenue // 2", "// is not allowed"),
        ("revenue % 2", "is not allowed"),
        ("foo(revenue)", "unknown function 'foo'"),
        ("lag(revenue)", "lag() takes 2 arguments, not 1"),
        ("lag(revenue, mau)", "must be a whole number"),
        ("lag(revenue, 0)", "between 1 and"),
        ("rolling_mean(revenue, 2.5)", "must be a whole number"),
        ("min(revenue)", "min() takes 2 or more arguments"),
        ("round(revenue, digits=2)", "the character '=' is not allowed at column 22"),
        ("revenue < 2", "the character '<' is not allowed"),
        ("revenue.real", "(Attribute) is not allowed"),
        ("Revenue", "not a KPI key"),
        ("lag", "is a function and needs brackets"),
        ("1" * 17, "too large"),
        ("", "empty"),
        ("x + " * 130 + "x", "limit is 500"),
        ("(" * 40 + "x" + ")" * 40, "nested more than"),
    ],
)
def test_save_time_errors_point_at_the_offending_part(text: str, reason: str) -> None:
    with pytest.raises(FormulaError) as info:
        parse_formula(text)
    assert reason in str(info.value)
    assert isinstance(info.value, ValidationError)


def test_error_column_points_at_the_unknown_function() -> None:
    """In 'mrr * 12 + foo(mrr)', foo( starts at column 12 (1-based); two leading
    blanks move it to 14; in 'mrr +* 2' the parser stops at column 6."""
    with pytest.raises(FormulaError) as info:
        parse_formula("mrr * 12 + foo(mrr)")
    assert info.value.column == 12
    assert "at column 12" in str(info.value)
    with pytest.raises(FormulaError) as info:
        parse_formula("  mrr * 12 + foo(mrr)")
    assert info.value.column == 14
    with pytest.raises(FormulaError, match="syntax error") as info:
        parse_formula("mrr +* 2")
    assert info.value.column == 6


def test_unknown_names_and_cycles_at_save_time() -> None:
    known = {"revenue", "cogs", "clv", "cac"}
    assert validate_formula("gross_margin", "(revenue - cogs) / revenue", known).names == {"revenue", "cogs"}
    with pytest.raises(FormulaError, match="unknown KPI 'profit'") as info:
        validate_formula("roi", " cac * 2 + profit / cac", known)
    assert info.value.column == 12  # " cac * 2 + " is 11 characters
    with pytest.raises(FormulaError, match="refers to itself"):
        validate_formula("clv", "clv * 2", known)
    others = {"a": "b + 1", "b": "c * 2"}
    with pytest.raises(FormulaError, match="circle: a → b → c → a"):
        validate_formula("c", "a - revenue", known | {"a", "b"}, others)


def test_resolve_order_and_evaluate_all_feed_results_forward() -> None:
    """ltv_cac = clv / cac and clv = arpu / churn: clv must come first.

    arpu 50, churn 0.05 → clv 1000; cac 250 → ltv_cac 4.
    """
    formulas = {"ltv_cac": "clv / cac", "clv": "arpu / churn"}
    assert resolve_order(formulas, {"arpu", "churn", "cac"}) == ["clv", "ltv_cac"]
    results = evaluate_all(
        formulas, {"arpu": months([50.0]), "churn": months([0.05]), "cac": months([250.0])}
    )
    assert results["clv"].values.iloc[0] == pytest.approx(1000)
    assert results["ltv_cac"].values.iloc[0] == pytest.approx(4)


def test_evaluate_refuses_missing_inputs() -> None:
    with pytest.raises(FormulaError, match="no values for mau"):
        evaluate_formula("dau / mau", {"dau": months([1.0])})


def test_large_random_series_match_numpy() -> None:
    """On 10,000 periods (revenue − cogs) / revenue equals the numpy computation exactly."""
    rng = np.random.default_rng(7)
    idx = pd.date_range("2000-01-01", periods=10_000, freq="D")
    revenue = pd.Series(rng.uniform(1, 1000, 10_000), index=idx)
    cogs = pd.Series(rng.uniform(0, 500, 10_000), index=idx)
    got = evaluate_formula("(revenue - cogs) / revenue", {"revenue": revenue, "cogs": cogs}).values
    expected = (revenue.to_numpy() - cogs.to_numpy()) / revenue.to_numpy()
    assert np.array_equal(got.to_numpy(), expected)

"""build_column's shortcuts (text-only columns, a header over numbers or dates) give the general path's result."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from kpidesk.io.columns import build_column

HEADS = ["Value", "", None, 3.5, 7, dt.date(2020, 1, 1), dt.datetime(2020, 1, 1, 5, 30), True, dt.time(9)]
BODIES = [[1.5, 2.0, -3.25, 1e308], [dt.date(2021, 1, 1), dt.date(1904, 2, 29)], ["a", "", "b", "a"]]


def general(cells: list) -> list:
    """The general path's answer: the same cells plus a trailing bool and None, which no
    shortcut accepts, cut back to the cells' length."""
    column = build_column([*cells, True, None])
    n = len(cells)
    return [column.numbers[:n], column.codes[:n], column.dates[:n], column.texts,
            {row: value for row, value in column.others.items() if row < n}]


@pytest.mark.parametrize("head", HEADS, ids=repr)
@pytest.mark.parametrize("body", BODIES, ids=["numbers", "dates", "texts"])
def test_shortcuts_match_the_general_path(head, body) -> None:  # type: ignore[no-untyped-def]
    cells = [head, *body]
    column = build_column(cells)
    numbers, codes, dates, texts, others = general(cells)
    np.testing.assert_array_equal(column.numbers, numbers)
    np.testing.assert_array_equal(column.codes, codes)
    np.testing.assert_array_equal(column.dates, dates)
    assert column.texts == texts
    assert column.others == others
    assert [column.value(i) for i in range(len(cells))] == [
        None if c in ("", None) else float(c) if type(c) is int else c for c in cells]

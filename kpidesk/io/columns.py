"""Turn rows of Python cell values into typed :class:`~kpidesk.io.grid.Column` arrays.

Runs inside the sandbox child, so it imports numpy only (not pandas: the child
must start fast). Classification is vectorised: ``map(type, cells)`` and
numpy comparisons on the type array, never an ``isinstance`` per cell in Python.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from kpidesk.io.grid import Column

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def build_column(cells: Sequence[Any], *, empty_text_is_empty: bool = True) -> Column:
    """One column from its cells (float/int, str, date, datetime, bool, time, None).

    Empty strings and None are empty cells (calamine reports an empty cell
    as ""). Integers become floats (spreadsheets have one number type).
    """
    n = len(cells)
    numbers = np.full(n, np.nan)
    codes = np.full(n, -1, dtype=np.int32)
    dates = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    others: dict[int, Any] = {}
    texts: list[str] = []
    if n == 0:
        return Column(numbers, codes, texts, dates, others)
    types = np.fromiter(map(type, cells), dtype=object, count=n)
    obj = np.fromiter(cells, dtype=object, count=n)
    is_float = (types == float) | (types == int)  # noqa: E721 - numpy elementwise, not Python ==
    if is_float.any():
        numbers[is_float] = obj[is_float].astype(np.float64)
    is_text_type = types == str  # noqa: E721 - numpy elementwise
    is_str = is_text_type & (obj != "") if empty_text_is_empty else is_text_type
    if is_str.any():
        strings = obj[is_str].tolist()
        # Dictionary-encode in C: setdefault stores each text's first position;
        # those positions increase, so searchsorted turns them into dense codes.
        lookup: dict[str, int] = {}
        firsts = np.fromiter(
            map(lookup.setdefault, strings, itertools.count()), dtype=np.int64, count=len(strings)
        )
        positions = np.fromiter(lookup.values(), dtype=np.int64, count=len(lookup))
        codes[is_str] = np.searchsorted(positions, firsts).astype(np.int32)
        texts = list(lookup)
    is_date = types == dt.date
    if is_date.any():
        ordinals = np.fromiter(map(dt.date.toordinal, obj[is_date]), dtype=np.int64)
        dates[is_date] = ((ordinals - _EPOCH_ORDINAL) * 86400).astype("datetime64[s]")
    is_datetime = types == dt.datetime
    if is_datetime.any():
        moments = obj[is_datetime].tolist()
        # Drop tz (spreadsheets have none) and sub-second parts; datetime64[s] is enough.
        dates[is_datetime] = np.array(
            [m.replace(tzinfo=None, microsecond=0) for m in moments], dtype="datetime64[s]"
        )
    rest = ~(is_float | is_text_type | is_date | is_datetime | (types == type(None)))  # noqa: E721 - numpy elementwise
    for i in np.flatnonzero(rest).tolist():
        others[i] = cells[i]
    return Column(numbers, codes, texts, dates, others)


def build_text_column(texts: np.ndarray) -> Column:
    """A column whose cells are all strings ("" = empty), dictionary-coded by pandas in C.

    Used for large text files split by pandas (which is then loaded anyway).
    """
    import pandas as pd

    n = len(texts)
    codes, uniques = pd.factorize(texts, use_na_sentinel=True)
    values = list(uniques)
    if "" in values:
        # "" is an empty cell, not a text: drop it from the dictionary and renumber.
        empty = values.index("")
        codes = np.where(codes == empty, -1, np.where(codes > empty, codes - 1, codes))
        values.pop(empty)
    return Column(
        np.full(n, np.nan),
        codes.astype(np.int32),
        values,
        np.full(n, np.datetime64("NaT"), dtype="datetime64[s]"),
        {},
    )


def build_columns(rows: list[list[Any]], n_cols: int | None = None) -> list[Column]:
    """Columns from a list of rows; ragged rows are padded with empty cells."""
    if not rows:
        return []
    width = n_cols if n_cols is not None else max(len(row) for row in rows)
    if any(len(row) != width for row in rows):
        rows = [list(row) + [None] * (width - len(row)) if len(row) < width else row[:width] for row in rows]
    # A 2-D object array transposes in C (zip(*rows) costs ~3x more on long sheets).
    table = np.empty((len(rows), width), dtype=object)
    table[:] = rows
    return [build_column(table[:, j]) for j in range(width)]

"""The reader's output: a workbook of sheets, each a grid of typed columns.

A sheet is stored column by column, not as per-cell Python objects, so a
200,000-row sheet crosses the sandbox boundary as a few numpy arrays:

- ``numbers``  float64, NaN where the cell is not a number;
- ``codes``    int32 index into ``texts`` (the distinct texts of the column),
  -1 where the cell is not text;
- ``dates``    datetime64[s], NaT where the cell is not a date/datetime;
- ``others``   ``{row: value}`` for the rare rest (booleans, times, durations).

An empty cell is none of these. Row and column indexes are 0-based from the
sheet's A1 cell (row 0 is spreadsheet row 1); :func:`a1` and
:func:`column_letter` give the user-facing names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def column_letter(index: int) -> str:
    """0 → "A", 25 → "Z", 26 → "AA", 16383 → "XFD"."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """ "A" → 0, "AA" → 26, "XFD" → 16383 (inverse of :func:`column_letter`)."""
    index = 0
    for char in letters.upper():
        index = index * 26 + (ord(char) - 64)
    return index - 1


def a1(row: int, col: int) -> str:
    """0-based (row, col) → A1 reference: (0, 0) → "A1", (4, 27) → "AB5"."""
    return f"{column_letter(col)}{row + 1}"


@dataclass(slots=True)
class Column:
    """One sheet column as aligned typed arrays (see the module docstring)."""

    numbers: np.ndarray
    codes: np.ndarray
    texts: list[str]
    dates: np.ndarray
    others: dict[int, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.numbers)

    def value(self, row: int) -> Any:
        """The cell as a Python value: float, str, date/datetime, other, or None if empty."""
        import numpy as np

        if row >= len(self.numbers):
            return None
        number = self.numbers[row]
        if not np.isnan(number):
            return float(number)
        code = self.codes[row]
        if code >= 0:
            return self.texts[code]
        stamp = self.dates[row]
        if not np.isnat(stamp):
            moment = stamp.astype("datetime64[s]").item()
            return moment.date() if moment.time() == dt.time() else moment
        return self.others.get(row)

    def text_array(self) -> np.ndarray:
        """Object array: the text of each cell, None where the cell is not text."""
        import numpy as np

        lookup = np.array([*self.texts, None], dtype=object)
        return lookup[self.codes]  # code -1 picks the trailing None

    def object_array(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Object array of Python values (None when empty) for rows ``start:stop``.

        Vectorised per type; only ``others`` are placed one by one.
        """
        import numpy as np

        stop = len(self) if stop is None else min(stop, len(self))
        out = np.full(max(stop - start, 0), None, dtype=object)
        if stop <= start:
            return out
        numbers = self.numbers[start:stop]
        is_number = ~np.isnan(numbers)
        out[is_number] = numbers[is_number].tolist()
        codes = self.codes[start:stop]
        is_text = codes >= 0
        if is_text.any():
            out[is_text] = np.array([*self.texts, None], dtype=object)[codes[is_text]]
        dates = self.dates[start:stop]
        is_date = ~np.isnat(dates)
        if is_date.any():
            moments = dates[is_date].astype("datetime64[s]").tolist()
            out[is_date] = [m.date() if m.time() == dt.time() else m for m in moments]
        for row, value in self.others.items():
            if start <= row < stop:
                out[row - start] = value
        return out

    def empty_mask(self) -> np.ndarray:
        """Bool array: True where the cell is empty."""
        import numpy as np

        empty = np.isnan(self.numbers) & (self.codes < 0) & np.isnat(self.dates)
        for row in self.others:
            empty[row] = False
        return empty

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle without the arrays that hold nothing (a text column's numbers and dates...).

        Why: the sandbox child sends every sheet to the parent as a pickle; a 200,000-row
        sheet's columns are mostly such all-empty arrays (~10 of 16 MB), rebuilt here in
        a fraction of a millisecond each instead of being written, read and copied.
        """
        import numpy as np

        numbers = None if np.isnan(self.numbers).all() else self.numbers
        codes = None if (self.codes < 0).all() else self.codes
        dates = None if np.isnat(self.dates).all() else self.dates
        return (_column, (len(self.numbers), numbers, codes, self.texts, dates, self.others))


def _column(n: int, numbers: Any, codes: Any, texts: list[str], dates: Any, others: dict[int, Any]) -> Column:
    """Unpickle a :class:`Column` (see ``Column.__reduce__``): empty arrays come back full of
    their "not this type" marker."""
    import numpy as np

    return Column(
        np.full(n, np.nan) if numbers is None else numbers,
        np.full(n, -1, dtype=np.int32) if codes is None else codes,
        texts,
        np.full(n, np.datetime64("NaT"), dtype="datetime64[s]") if dates is None else dates,
        others,
    )


@dataclass(slots=True)
class SheetGrid:
    """One sheet: ``n_rows`` × ``n_cols`` cells stored as :class:`Column` objects.

    ``merged`` lists merged ranges as 0-based inclusive (row0, col0, row1, col1);
    ``percent_cells`` holds (row, col) of numeric cells whose number format is a
    percent (so 0.12 was shown as 12 %), when the reader could see formats;
    ``decimal`` is the decimal mark detected in a text file ("." or ",");
    ``warnings`` are sentences for the user about this sheet; ``date1904`` is
    true when the workbook counts serial days from 1904 (Mac Excel), which
    matters for date serials stored as plain numbers.
    """

    name: str
    n_rows: int
    n_cols: int
    columns: list[Column]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    percent_cells: set[tuple[int, int]] = field(default_factory=set)
    decimal: str = "."
    warnings: list[str] = field(default_factory=list)
    date1904: bool = False

    def cell(self, row: int, col: int) -> Any:
        """The value at 0-based (row, col); None outside the grid or when empty."""
        if row < 0 or col < 0 or row >= self.n_rows or col >= self.n_cols:
            return None
        return self.columns[col].value(row)

    def row_values(self, row: int) -> list[Any]:
        """All cells of one row as Python values."""
        return [self.cell(row, col) for col in range(self.n_cols)]

    def head(self, n_rows: int = 30) -> list[list[Any]]:
        """The first ``n_rows`` rows as lists of Python values (for previews and detection)."""
        stop = min(n_rows, self.n_rows)
        cols = [column.object_array(0, stop) for column in self.columns]
        return [[col[r] for col in cols] for r in range(stop)]

    def merged_value_at(self, row: int, col: int) -> Any:
        """The value shown at (row, col): the top-left value of a merged range covering it."""
        for r0, c0, r1, c1 in self.merged:
            if r0 <= row <= r1 and c0 <= col <= c1:
                return self.cell(r0, c0)
        return self.cell(row, col)


@dataclass(slots=True)
class Workbook:
    """What a reader returns: the file, its real format, its sheets, warnings.

    ``format`` is one of "xlsx", "xlsm", "xls", "ods", "csv" (csv covers
    .csv/.tsv/.txt); ``encoding`` and ``delimiter`` are set for text files;
    ``sheet_names`` lists every sheet of the file, including ones not read;
    ``hidden_sheets`` names the sheets hidden in Excel (a wizard may leave them
    unticked by default).
    """

    path: str
    format: str
    sheets: list[SheetGrid]
    sheet_names: list[str]
    warnings: list[str] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    hidden_sheets: list[str] = field(default_factory=list)

    def sheet(self, name: str) -> SheetGrid:
        """The sheet called ``name`` (exact, then case-insensitive); KpideskError if absent."""
        for grid in self.sheets:
            if grid.name == name:
                return grid
        for grid in self.sheets:
            if grid.name.casefold() == name.casefold():
                return grid
        from kpidesk.io.errors import FileProblem

        raise FileProblem(
            self.path,
            f"there is no sheet called {name!r} (sheets: {', '.join(self.sheet_names)}).",
            kind="no_sheet",
        )

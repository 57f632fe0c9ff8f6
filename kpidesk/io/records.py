"""Normalise any detected layout into one long table of records.

``to_records(sheet, layout)`` returns a pandas DataFrame with one row per
value cell (in source order), whatever the layout:

============  ==================================================================
column        meaning
============  ==================================================================
sheet         sheet name
row           1-based spreadsheet row of the value cell
column        column letters of the value cell ("C"); ``row``+``column`` = A1
kpi_label     the KPI name as written (header of a wide column, label of a
              tracker row, cell of the KPI column)
period_start  first day of the period (datetime64[ns], NaT when unknown)
frequency     day/week/month/quarter/year, "half" for H1/H2, "" when unknown
raw           the cell as read (float, str, date, None)
value         float; NaN when missing or unreadable. A percent keeps points:
              "12.5 %" → 12.5, and a 0.125 cell formatted as percent → 12.5
is_percent    the cell said "%" (text) or had a percent number format
currency      the currency symbol or ISO code written in the cell ("$", "EUR"), or ""
missing       the cell is empty or "n/a", "—", ... (nothing to import)
segment       segment text ("" = total); product, note likewise ("" = none)
problem       "" or why the value cannot be imported (bad number, no period)
skip          "" or why the row is left out on purpose (totals/average row)
============  ==================================================================

Parsing is vectorised: numbers come straight from the column arrays, texts
and dates are parsed once per distinct value, so a 200,000-row long sheet
costs a few numpy passes.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from kpidesk.io.errors import FileProblem
from kpidesk.io.grid import Column, SheetGrid, column_letter
from kpidesk.io.layout import LONG, ROWS, TOTAL_RE, WIDE, Layout
from kpidesk.io.period_labels import (
    ParsedPeriod,
    PeriodProblem,
    excel_serial_to_date,
    infer_date_frequency,
    parse_period,
)
from kpidesk.io.values import parse_distinct_texts, parse_number

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

RECORD_COLUMNS = [
    "sheet",
    "row",
    "column",
    "kpi_label",
    "period_start",
    "frequency",
    "raw",
    "value",
    "is_percent",
    "currency",
    "missing",
    "segment",
    "product",
    "note",
    "problem",
    "skip",
]


def to_records(sheet: SheetGrid, layout: Layout, path: str = "") -> pd.DataFrame:
    """All value cells of ``sheet`` under ``layout`` as the records table (see module docstring).

    Raises FileProblem when the layout is unknown or lacks a required column.
    """
    import numpy as np

    if layout.kind == LONG:
        parts = [_long(sheet, layout, path)]
    elif layout.kind == WIDE:
        parts = _wide(sheet, layout, path)
    elif layout.kind == ROWS:
        parts = _rows(sheet, layout, path)
    else:
        raise FileProblem(
            path or sheet.name,
            f"the layout of sheet {sheet.name!r} was not recognised "
            f"({layout.reason}); choose long, wide or rows and the columns to use.",
            kind="layout",
        )
    import pandas as pd

    parts = [p for p in parts if len(p)]
    if not parts:
        frame = pd.DataFrame({name: pd.Series(dtype=object) for name in RECORD_COLUMNS})
        frame["period_start"] = pd.Series(dtype="datetime64[ns]")
        frame["value"] = pd.Series(dtype=np.float64)
        return frame
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return frame[RECORD_COLUMNS]


# --------------------------------------------------------------------------- shared pieces


def _require(layout: Layout, sheet: SheetGrid, path: str, **cols: int | None) -> None:
    for name, col in cols.items():
        if col is None or col >= sheet.n_cols:
            raise FileProblem(
                path or sheet.name,
                f"sheet {sheet.name!r}: no {name} column was found; choose which column holds the {name}.",
                kind="layout",
            )
    del layout


def _data_rows(sheet: SheetGrid, layout: Layout, cols: list[int]) -> np.ndarray:
    """Row indexes of the data block where at least one of ``cols`` is filled."""
    import numpy as np

    start, stop = layout.data_start, min(layout.data_stop, sheet.n_rows)
    if stop <= start:
        return np.arange(0)
    filled = np.zeros(stop - start, bool)
    for c in cols:
        if c is not None and c < sheet.n_cols:
            filled |= ~sheet.columns[c].empty_mask()[start:stop]
    skip = {r for r, _ in layout.skipped_rows if layout.kind == ROWS}
    rows = np.flatnonzero(filled) + start
    if skip:
        rows = rows[~np.isin(rows, list(skip))]
    return rows


def _texts(sheet: SheetGrid, col: int | None, rows: np.ndarray, *, collapse: bool = True) -> np.ndarray:
    """Object array of cell texts for ``rows`` ("" when empty; numbers/dates as text).

    With ``collapse`` (labels, segments, products: names to match) runs of
    whitespace become one space; otherwise (notes: the user's own text, which
    must survive export → import exactly) only the ends are stripped.
    """
    import numpy as np

    if col is None or col >= sheet.n_cols:
        return np.full(len(rows), "", dtype=object)
    column = sheet.columns[col]
    tidy = (lambda t: " ".join(t.split())) if collapse else str.strip
    lookup = np.array([*(tidy(t) for t in column.texts), ""], dtype=object)
    out = lookup[column.codes[rows]]
    numbers = column.numbers[rows]
    has_number = ~np.isnan(numbers)
    if has_number.any():
        uniques, inverse = np.unique(numbers[has_number], return_inverse=True)
        out[has_number] = np.array([_as_text(u) for u in uniques.tolist()], dtype=object)[inverse]
    dates = column.dates[rows]
    has_date = ~np.isnat(dates)
    if has_date.any():
        out[has_date] = [_as_text(column.value(int(r))) for r in rows[has_date].tolist()]
    if column.others:
        position = {int(r): i for i, r in enumerate(rows.tolist())} if len(column.others) > 0 else {}
        for r, value in column.others.items():
            if r in position:
                out[position[r]] = _as_text(value)
    return out


def _as_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def parse_values(sheet: SheetGrid, col: int, rows: np.ndarray) -> dict[str, np.ndarray]:
    """value / is_percent / missing / problem / raw arrays for cells (rows, col).

    Numbers are taken as they are (× 100 with is_percent when the cell had a
    percent format); each distinct text is parsed once with ``parse_number``
    using the sheet's decimal mark; dates and other types are problems.
    """
    import numpy as np

    column: Column = sheet.columns[col]
    n = len(rows)
    value = column.numbers[rows].astype(np.float64, copy=True)
    is_percent = np.zeros(n, bool)
    problem = np.full(n, "", dtype=object)
    currency = np.full(n, "", dtype=object)
    codes = column.codes[rows]
    is_text = codes >= 0
    if is_text.any():
        u_value, u_pct, u_problem, u_currency = parse_distinct_texts(column.texts, decimal=sheet.decimal)
        picked = codes[is_text]
        currency[is_text] = u_currency[picked]
        value[is_text] = u_value[picked]
        is_percent[is_text] = u_pct[picked]
        problem[is_text] = u_problem[picked]
    is_date = ~np.isnat(column.dates[rows])
    if is_date.any():
        problem[is_date] = "the cell holds a date, not a number"
    if column.others:
        position = {r: i for i, r in enumerate(rows.tolist())}
        for r, other in column.others.items():
            if r in position:
                problem[position[r]] = parse_number(other).problem or "not a number"
    percent_rows = [r for r, c in sheet.percent_cells if c == col]
    if percent_rows:
        pct = np.isin(rows, percent_rows) & ~np.isnan(column.numbers[rows])
        value[pct] *= 100.0  # Excel keeps 12.5 % as 0.125; kpidesk stores points
        is_percent |= pct
    missing = np.isnan(value) & (problem == "")
    raw = column.object_array(0, None)[rows] if n <= 50_000 else _raw_fast(column, rows)
    return {
        "value": value,
        "is_percent": is_percent,
        "missing": missing,
        "problem": problem,
        "raw": raw,
        "currency": currency,
    }


def _raw_fast(column: Column, rows: np.ndarray) -> np.ndarray:
    """Raw cells without materialising the whole column twice (large sheets)."""
    import numpy as np

    out = np.empty(len(rows), dtype=object)
    numbers = column.numbers[rows]
    is_number = ~np.isnan(numbers)
    out[is_number] = numbers[is_number]
    codes = column.codes[rows]
    is_text = codes >= 0
    out[is_text] = np.array([*column.texts, None], dtype=object)[codes[is_text]]
    rest = ~(is_number | is_text)
    if rest.any():
        for i in np.flatnonzero(rest).tolist():
            out[i] = column.value(int(rows[i]))
    return out


_FREQ_TO_UNIT = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def period_starts(days: np.ndarray, frequency: str) -> np.ndarray:
    """Vectorised ``period_start``: datetime64[D] days → first day of their period.

    Weeks start on Monday (1970-01-01 was a Thursday, so weekday = (days + 3) mod 7).
    """
    import numpy as np

    days = days.astype("datetime64[D]")
    if frequency == "week":
        as_int = days.astype(np.int64)
        return (as_int - (as_int + 3) % 7).astype("datetime64[D]")
    if frequency == "month":
        return days.astype("datetime64[M]").astype("datetime64[D]")
    if frequency == "quarter":
        months = days.astype("datetime64[M]").astype(np.int64)
        return (months - months % 3).astype("datetime64[M]").astype("datetime64[D]")
    if frequency == "year":
        return days.astype("datetime64[Y]").astype("datetime64[D]")
    return days


def parse_period_column(
    sheet: SheetGrid, col: int, rows: np.ndarray, layout: Layout
) -> dict[str, np.ndarray]:
    """period_start (datetime64[D]) / frequency / problem / is_total arrays for a period column.

    Date cells and full-date texts are single days: their frequency is
    ``layout.frequency`` if set, else inferred from the spacing of the distinct
    days (``infer_date_frequency``), and each day moves to its period start.
    Period labels carry their own frequency. Whole numbers 1900-2100 are years;
    3,000-120,000 are Excel serial days (1900 system; CSV files). Each distinct
    number or text is interpreted once and spread with numpy indexing.
    """
    import numpy as np

    column = sheet.columns[col]
    n = len(rows)
    day = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    exact = np.zeros(n, bool)
    freq = np.full(n, "", dtype=object)
    problem = np.full(n, "", dtype=object)
    is_total = np.zeros(n, bool)
    dates = column.dates[rows]
    has_date = ~np.isnat(dates)
    day[has_date] = dates[has_date].astype("datetime64[D]")
    exact[has_date] = True
    numbers = column.numbers[rows]
    has_number = ~np.isnan(numbers)
    if has_number.any():
        uniques, inverse = np.unique(numbers[has_number], return_inverse=True)
        _spread(
            day,
            exact,
            freq,
            problem,
            is_total,
            has_number,
            inverse,
            [_period_of_number(v, sheet.date1904) for v in uniques.tolist()],
        )
    codes = column.codes[rows]
    has_text = codes >= 0
    if has_text.any():
        used, inverse = np.unique(codes[has_text], return_inverse=True)
        interpreted = [_period_of_text(column.texts[code], layout) for code in used.tolist()]
        _spread(day, exact, freq, problem, is_total, has_text, inverse, interpreted)
    if column.others:
        position = {r: i for i, r in enumerate(rows.tolist())}
        for r, other in column.others.items():
            if r in position:
                problem[position[r]] = f"{other!s} is not a date or period"
    if exact.any():
        frequency = layout.frequency or infer_date_frequency([d.item() for d in np.unique(day[exact])])
        freq[exact] = frequency
        day[exact] = period_starts(day[exact], frequency)
    missing_period = np.isnat(day) & (problem == "") & ~is_total
    problem[missing_period] = "no period"
    return {"period_start": day, "frequency": freq, "problem": problem, "is_total": is_total}


# (day or None, exact date?, frequency, problem, is a totals label?)
_Interpretation = tuple[dt.date | None, bool, str, str, bool]


def _spread(
    day: np.ndarray,
    exact: np.ndarray,
    freq: np.ndarray,
    problem: np.ndarray,
    is_total: np.ndarray,
    mask: np.ndarray,
    inverse: np.ndarray,
    interpreted: list[_Interpretation],
) -> None:
    """Write the interpretation of each distinct value to every row holding it."""
    import numpy as np

    u_day = np.array(
        [np.datetime64(i[0]) if i[0] else np.datetime64("NaT") for i in interpreted], dtype="datetime64[D]"
    )
    idx = np.flatnonzero(mask)
    day[idx] = u_day[inverse]
    exact[idx] = np.array([i[1] for i in interpreted], dtype=bool)[inverse]
    freq[idx] = np.array([i[2] for i in interpreted] + [""], dtype=object)[:-1][inverse]
    problem[idx] = np.array([i[3] for i in interpreted] + [""], dtype=object)[:-1][inverse]
    is_total[idx] = np.array([i[4] for i in interpreted], dtype=bool)[inverse]


def _period_of_number(value: float, date1904: bool = False) -> _Interpretation:
    if float(value).is_integer() and 1900 <= value <= 2100:
        return dt.date(int(value), 1, 1), False, "year", "", False
    if 3000 <= value <= 120_000 and (converted := excel_serial_to_date(value, date1904=date1904)) is not None:
        return converted, True, "", "", False
    return None, False, "", f"{value:g} is not a period", False


def _period_of_text(text: str, layout: Layout) -> _Interpretation:
    stripped = text.strip()
    if TOTAL_RE.match(text):
        return None, False, "", "", True
    is_number = stripped.isascii() and stripped.isdigit()  # not '²', which isdigit() accepts
    if is_number and len(stripped) in {6, 8}:
        compact = parse_period(stripped)  # 202403 or 20240315
        if isinstance(compact, ParsedPeriod):
            return (
                compact.start,
                compact.exact_date,
                "" if compact.exact_date else compact.frequency,
                "",
                False,
            )
    if is_number:
        # A whole number written as text (CSV): a year, or an Excel serial day.
        number = int(stripped)
        if number <= 120_000:
            result = _period_of_number(float(number))
            return (
                result if not result[3] else (None, False, "", f"{stripped!r} is not a date or period", False)
            )
        return None, False, "", f"{stripped!r} is not a date or period", False
    parsed = parse_period(text, year_hint=layout.year_hint, dayfirst=layout.dayfirst)
    if isinstance(parsed, ParsedPeriod):
        if not 1800 <= parsed.start.year <= 2200:
            return (
                None,
                False,
                "",
                f"{stripped!r} is not a plausible period (year {parsed.start.year})",
                False,
            )
        if parsed.exact_date:
            return parsed.start, True, "", "", False
        return parsed.start, False, parsed.frequency, "", False
    if isinstance(parsed, PeriodProblem):
        return None, False, "", parsed.reason, False
    return None, False, "", f"{stripped!r} is not a date or period", False


def _frame(
    sheet: SheetGrid,
    rows: np.ndarray,
    col_letter: str | np.ndarray,
    kpi: np.ndarray,
    period: dict[str, np.ndarray],
    values: dict[str, np.ndarray],
    extras: dict[str, np.ndarray],
    skip: np.ndarray,
) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    n = len(rows)
    problem = values["problem"].copy()
    no_value_problem = problem == ""
    problem[no_value_problem] = period["problem"][no_value_problem]
    no_kpi = (kpi == "") & (problem == "")
    problem[no_kpi] = "no KPI name"
    return pd.DataFrame(
        {
            "sheet": np.full(n, sheet.name, dtype=object),
            "row": rows + 1,
            "column": col_letter
            if isinstance(col_letter, np.ndarray)
            else np.full(n, col_letter, dtype=object),
            "kpi_label": kpi,
            "period_start": period["period_start"].astype("datetime64[ns]"),
            "frequency": period["frequency"],
            "raw": values["raw"],
            "value": values["value"],
            "is_percent": values["is_percent"],
            "currency": values["currency"],
            "missing": values["missing"],
            "segment": extras["segment"],
            "product": extras["product"],
            "note": extras["note"],
            "problem": problem,
            "skip": skip,
        }
    )


def _extras(sheet: SheetGrid, layout: Layout, rows: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "segment": _texts(sheet, layout.segment_col, rows),
        "product": _texts(sheet, layout.product_col, rows),
        "note": _texts(sheet, layout.note_col, rows, collapse=False),
    }


def _totals_skip(kpi: np.ndarray, is_total: np.ndarray, only: np.ndarray | None = None) -> np.ndarray:
    """"totals/average row" where the period says so (``is_total``) or the label is a totals
    label ("Total", "Average"); with ``only``, a label counts just on those rows."""
    import numpy as np

    skip = np.full(len(kpi), "", dtype=object)
    kpi_total = (
        np.array([bool(TOTAL_RE.match(k)) for k in kpi.tolist()], dtype=bool)
        if len(kpi) < 100_000
        else (_unique_match(kpi))
    )
    if only is not None:
        kpi_total &= only
    skip[is_total | kpi_total] = "totals/average row"
    return skip


def _unique_match(labels: np.ndarray) -> np.ndarray:
    import pandas as pd

    codes, uniques = pd.factorize(labels)
    import numpy as np

    matched = np.array([bool(TOTAL_RE.match(u)) for u in uniques], dtype=bool)
    return matched[codes]


# --------------------------------------------------------------------------- layouts


def _long(sheet: SheetGrid, layout: Layout, path: str) -> pd.DataFrame:
    _require(layout, sheet, path, period=layout.period_col, KPI=layout.kpi_col, value=layout.value_col)
    assert layout.period_col is not None and layout.kpi_col is not None and layout.value_col is not None
    rows = _data_rows(sheet, layout, [layout.period_col, layout.kpi_col, layout.value_col])
    kpi = _texts(sheet, layout.kpi_col, rows)
    period = parse_period_column(sheet, layout.period_col, rows, layout)
    values = parse_values(sheet, layout.value_col, rows)
    # Only the period position makes a totals row here ("Total" | | 2500), or a totals label in
    # the KPI cell of a row with no period at all: a KPI named "Total revenue" is a KPI.
    no_period = sheet.columns[layout.period_col].empty_mask()[rows]
    skip = _totals_skip(kpi, period["is_total"], only=no_period)
    return _frame(
        sheet, rows, column_letter(layout.value_col), kpi, period, values, _extras(sheet, layout, rows), skip
    )


def _wide(sheet: SheetGrid, layout: Layout, path: str) -> list[pd.DataFrame]:
    import numpy as np

    _require(layout, sheet, path, period=layout.period_col)
    assert layout.period_col is not None
    if not layout.kpi_cols:
        raise FileProblem(
            path or sheet.name,
            f"sheet {sheet.name!r}: no KPI columns (columns of numbers) were "
            "found next to the period column.",
            kind="layout",
        )
    # A row counts when its period or any KPI cell is filled: values without a period become
    # "no period" problems the user sees, never silently dropped cells.
    rows = _data_rows(sheet, layout, [layout.period_col, *layout.kpi_cols])
    period = parse_period_column(sheet, layout.period_col, rows, layout)
    extras = _extras(sheet, layout, rows)
    skip = np.where(period["is_total"], "totals/average row", "").astype(object)
    frames = []
    for col, label in layout.kpi_cols.items():
        values = parse_values(sheet, col, rows)
        kpi = np.full(len(rows), label, dtype=object)
        col_extras = extras
        if col in layout.col_segments:
            col_extras = {**extras, "segment": np.full(len(rows), layout.col_segments[col], dtype=object)}
        frames.append(_frame(sheet, rows, column_letter(col), kpi, period, values, col_extras, skip))
    return frames


def _rows(sheet: SheetGrid, layout: Layout, path: str) -> list[pd.DataFrame]:
    import numpy as np

    _require(layout, sheet, path, **{"KPI name": layout.label_col})
    assert layout.label_col is not None
    if not layout.period_cols:
        raise FileProblem(
            path or sheet.name, f"sheet {sheet.name!r}: no column header is a period.", kind="layout"
        )
    # Values under an empty label become "no KPI name" problems rather than vanishing.
    rows = _data_rows(sheet, layout, [layout.label_col, *layout.period_cols])
    kpi = _texts(sheet, layout.label_col, rows)
    skip = _totals_skip(kpi, np.zeros(len(rows), bool))
    extras = _extras(sheet, layout, rows)
    frames = []
    for col, parsed in layout.period_cols.items():
        n = len(rows)
        if isinstance(parsed, ParsedPeriod):
            period = {
                "period_start": np.full(n, np.datetime64(parsed.start), dtype="datetime64[D]"),
                "frequency": np.full(n, parsed.frequency, dtype=object),
                "problem": np.full(n, "", dtype=object),
            }
        else:
            period = {
                "period_start": np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
                "frequency": np.full(n, "", dtype=object),
                "problem": np.full(n, parsed.reason, dtype=object),
            }
        values = parse_values(sheet, col, rows)
        frames.append(_frame(sheet, rows, column_letter(col), kpi, period, values, extras, skip))
    if not frames:
        return []
    import pandas as pd

    frame = pd.concat(frames, ignore_index=True)
    # Source order: row by row, left to right, as the user reads the tracker.
    frame["_c"] = [_col_number(c) for c in frame["column"]]
    frame = frame.sort_values(["row", "_c"], kind="stable").drop(columns="_c").reset_index(drop=True)
    return [frame]


def _col_number(letters: str) -> int:
    from kpidesk.io.grid import column_index

    return column_index(letters)

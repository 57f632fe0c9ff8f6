"""Spreadsheet import: read untrusted files safely, find their layout, normalise to records.

The pipeline (each step usable on its own)::

    from kpidesk.io import read_workbook, detect_layout, to_records, LayoutOverride

    book = read_workbook(path, progress=progress)       # pre-flight + sandboxed parse
    sheet = book.sheet("Monthly KPIs")                   # or book.sheets[i]
    layout = detect_layout(sheet)                        # show layout.describe(), .notes
    layout = detect_layout(sheet, LayoutOverride(year=2024, kind="rows"))  # user's changes
    records = to_records(sheet, layout, path=book.path)  # pandas DataFrame, one row per value cell

1. ``read_workbook(path, *, sheets=None, limits=Limits(), progress=None,
   sandbox="auto", detail=True, delimiter=None, decimal=None) -> Workbook``
   (``reader.py``). Formats: .xlsx/.xlsm (calamine; cell-level detail —
   formula cells without a saved value, percent number formats — by openpyxl
   for files ≤ 256 KB, by the pre-flight's byte scanner ``xlsx_scan.py`` above),
   .xls/.ods (calamine), .csv/.tsv/.txt (encoding/delimiter/decimal sniffing,
   ``text_files.py``; pandas' C parser for large files). ``preflight.py``
   refuses empty, oversized, mislabelled, encrypted, zip-bomb, DTD/entity and
   absurd-dimension files before anything parses them (for xlsx, the one
   costly check — streaming each sheet for far-away cells — runs in a thread
   beside the sandboxed parse, and its refusal wins); ``sandbox.py`` parses in
   a child interpreter capped by ``Limits.memory_bytes`` (RLIMIT_AS) and
   ``Limits.timeout_s`` and killed when ``progress.cancelled()``. With
   ``sandbox="auto"`` every workbook and every large text file goes to the
   child; small text files (≤ 64 MB and ≤ 5 M fields) are split in-process
   after the pre-flight (see ``read_workbook``'s docstring for why);
   ``sandbox=True`` forces the child for all. Every failure the file causes is
   a ``FileProblem`` (``errors.py``, a ``KpideskError``) whose message names
   the file and the problem and whose ``kind`` is a stable code; cancelling
   raises ``kpidesk.errors.CancelledError``.

2. ``Workbook`` / ``SheetGrid`` / ``Column`` (``grid.py``): the file's real
   ``format``, ``sheet_names``, ``warnings`` (sentences for the user), and per
   sheet a grid stored column-wise as numpy arrays (numbers, dictionary-coded
   texts, datetime64 dates) plus ``merged`` ranges, ``percent_cells`` and the
   text file's ``decimal`` mark. ``sheet.cell(r, c)``, ``sheet.head(n)`` give
   Python values for previews; indexes are 0-based, ``a1(r, c)`` names cells.

3. ``detect_layout(sheet, override=None) -> Layout`` (``layout.py``): ``kind``
   long / wide / rows / unknown, ``confidence`` and ``reason``, ``header_row``,
   ``data_start``/``data_stop``, the columns of each role, ``skipped_rows`` and
   ``skipped_cols`` with reasons (totals, averages, section headings, targets),
   ``year_hint`` for bare "Jan" headers, ``notes`` for the preview.

4. ``to_records(sheet, layout, path="") -> pandas.DataFrame`` (``records.py``),
   columns ``RECORD_COLUMNS``: sheet, row (1-based), column (letters),
   kpi_label, period_start (datetime64, period's first day), frequency, raw,
   value (float; percent in points), is_percent, currency, missing, segment, product,
   note, problem ("" or why the value is rejected), skip ("" or why the row is
   left out on purpose). Part B maps ``kpi_label`` to KPIs, rejects rows with a
   ``problem``, ignores ``missing`` and ``skip`` rows, and applies
   ``values.to_percentage_points`` / ``values.looks_like_fractions`` for
   percent KPIs whose cells carried no ``%``.

5. Pure helpers: ``values.parse_number`` / ``parse_number_array`` (numbers,
   %, currencies, thousands separators, (1,234), missing tokens) and
   ``period_labels.parse_period`` / ``excel_serial_to_date`` / ``find_year`` /
   ``infer_date_frequency``.

Nothing here imports Qt; pandas, numpy, calamine and openpyxl load lazily, so
importing ``kpidesk.io`` is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kpidesk.io.errors import FileProblem
    from kpidesk.io.grid import Column, SheetGrid, Workbook, a1, column_letter
    from kpidesk.io.layout import Layout, LayoutOverride, detect_layout
    from kpidesk.io.preflight import Limits
    from kpidesk.io.reader import read_workbook
    from kpidesk.io.records import RECORD_COLUMNS, to_records

_EXPORTS = {
    "FileProblem": "kpidesk.io.errors",
    "Column": "kpidesk.io.grid",
    "SheetGrid": "kpidesk.io.grid",
    "Workbook": "kpidesk.io.grid",
    "a1": "kpidesk.io.grid",
    "column_letter": "kpidesk.io.grid",
    "Layout": "kpidesk.io.layout",
    "LayoutOverride": "kpidesk.io.layout",
    "detect_layout": "kpidesk.io.layout",
    "Limits": "kpidesk.io.preflight",
    "read_workbook": "kpidesk.io.reader",
    "RECORD_COLUMNS": "kpidesk.io.records",
    "to_records": "kpidesk.io.records",
}

__all__ = [
    "RECORD_COLUMNS",
    "Column",
    "FileProblem",
    "Layout",
    "LayoutOverride",
    "Limits",
    "SheetGrid",
    "Workbook",
    "a1",
    "column_letter",
    "detect_layout",
    "read_workbook",
    "to_records",
]


def __getattr__(name: str) -> Any:
    """Import the public names on first use (keeps ``import kpidesk.io`` light)."""
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'kpidesk.io' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)

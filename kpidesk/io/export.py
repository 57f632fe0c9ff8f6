"""Writing KPI values to .xlsx (openpyxl) and .csv, safely.

The exported table is *long*: one row per value with the columns of
:data:`EXPORT_COLUMNS` (Product, KPI, Period, Segment, Value, Note), the shape
kpidesk's importer reads back, so export → import is the identity.

Safety rules:

- **Nothing a user typed becomes a formula.** In xlsx every text cell is
  written with the string type, so "=HYPERLINK(...)" stays text. In csv a text
  starting with ``=`` ``+`` ``-`` ``@`` tab or CR gets the OWASP leading
  apostrophe (``'=1+1``); to keep the mapping reversible a text that already
  starts with apostrophes followed by such a character gets one more.
  :func:`unescape_csv_text` is the exact inverse, applied by the importer to
  csv files. Numbers are written as numbers and never escaped.
- **Control characters xlsx cannot hold** (U+0000–U+0008, U+000B, U+000C,
  U+000E–U+001F, U+FFFE, U+FFFF) are replaced by U+FFFD "�" in both formats
  instead of failing the export; tab, LF and CR are kept.
- **Writes are atomic**: the file is written to a temporary file in the same
  folder and renamed over the target, so a crash leaves the old file intact.

Values: percent KPIs (stored in percentage points) are written to xlsx as the
fraction Excel expects with a percent number format (12.5 → 0.125 shown as
12.5 %) and to csv as text with a percent sign ("12.5%"); both are read back
as 12.5. Dates are real dates in xlsx and ISO ``YYYY-MM-DD`` in csv.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

EXPORT_COLUMNS = ("Product", "KPI", "Period", "Segment", "Value", "Note")
#: Columns of the frame the writers take (see :func:`write_xlsx`).
FRAME_COLUMNS = ("product", "kpi_name", "period_start", "segment", "value", "note", "unit")

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
REPLACEMENT = "\ufffd"

#: Number formats per unit (display only: the cell keeps the full float).
NUMBER_FORMATS = {
    "percent": "0.0#%",
    "currency": "#,##0.00",
    "count": "#,##0.##",
    "ratio": "0.00##",
    "score": "0.0#",
    "months": "0.0#",
    "days": "0.0#",
    "hours": "0.0#",
    "minutes": "0.0#",
    "ms": "#,##0.##",
}
DATE_FORMAT = "yyyy-mm-dd"
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


#: Excel refuses to open a workbook with a longer cell text.
XLSX_MAX_TEXT = 32_767


def clean_text(text: str) -> str:
    """``text`` with the control characters xlsx cannot hold replaced by U+FFFD."""
    return _ILLEGAL.sub(REPLACEMENT, text)


#: A literal "_xHHHH_" in a text, which readers would decode as an escaped character.
_OOXML_ESCAPE_LIKE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")


def xlsx_text(text: str) -> str:
    """:func:`clean_text`, cut to Excel's 32,767 characters (ending in "…" when cut), carriage
    returns kept.

    Why the escapes: XML turns a raw CR (and CR LF) into LF when the file is read, so a note's
    "\r" would come back as "\n"; Excel writes it as ``_x000D_`` and readers (Excel,
    calamine) decode that, so kpidesk does the same, escaping a literal "_xHHHH_" as
    ``_x005F_xHHHH_`` as Excel does.
    """
    text = clean_text(text)
    text = text if len(text) <= XLSX_MAX_TEXT else text[: XLSX_MAX_TEXT - 1] + "…"
    if "_x" in text:
        text = _OOXML_ESCAPE_LIKE.sub("_x005F_", text)
    return text.replace("\r", "_x000D_") if "\r" in text else text


def escape_csv_text(text: str) -> str:
    """OWASP CSV-injection defence, reversible: "=1+1" → "'=1+1", "'=x" → "''=x", "ok" → "ok"."""
    if text.lstrip("'").startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def unescape_csv_text(text: str) -> str:
    """The inverse of :func:`escape_csv_text`: "'=1+1" → "=1+1"; other text unchanged."""
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def atomic_write(target: str | os.PathLike[str], write: Callable[[str], None]) -> Path:
    """Call ``write(temp_path)`` then rename the temporary file onto ``target``.

    The temporary file lives next to the target (same file system, so the
    rename is atomic); on any error it is removed and the target is untouched.
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        from kpidesk.errors import KpideskError

        raise KpideskError(f"Cannot write {target.name}: the folder {folder} does not exist.")
    # the shared helper also fsyncs before the rename and turns a full disk into a plain DiskFullError
    from kpidesk.storage.atomic import atomic_path

    with atomic_path(target, what=f"Exporting to {target.name}") as temp:
        write(str(temp))
    return target


def sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unique sheet name: no []:*?/\\, at most 31 characters, not empty."""
    base = clean_text(_SHEET_BAD.sub("_", name)).strip().strip("'")[:31] or "Sheet"
    title, n = base, 2
    while title.casefold() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.casefold())
    return title


def _percent_fraction(points: float) -> float:
    return points / 100.0


def _frame_rows(frame: pd.DataFrame) -> Iterable[tuple[str, str, dt.date, str, float, str, str]]:
    import pandas as pd

    starts = pd.to_datetime(frame["period_start"]).dt.date.tolist()
    return zip(
        frame["product"].astype(str).tolist(),
        frame["kpi_name"].astype(str).tolist(),
        starts,
        frame["segment"].fillna("").astype(str).tolist(),
        frame["value"].astype(float).tolist(),
        frame["note"].fillna("").astype(str).tolist(),
        frame["unit"].astype(str).tolist(),
        strict=True,
    )


def write_xlsx(
    frame: pd.DataFrame,
    target: str | os.PathLike[str],
    *,
    sheet_per_product: bool = False,
    title: str = "KPI values",
) -> Path:
    """Write ``frame`` (columns :data:`FRAME_COLUMNS`) as an .xlsx workbook, atomically.

    One long sheet called ``title``, or one sheet per product. Header row bold
    on a grey fill, frozen, with an autofilter; dates as dates; number formats
    per unit; every text cell typed as text (never a formula).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    groups: list[tuple[str, pd.DataFrame]]
    if sheet_per_product and len(frame):
        groups = [(str(name), part) for name, part in frame.groupby("product", sort=True)]
    else:
        groups = [(title, frame)]

    def write(path: str) -> None:
        book = Workbook(write_only=True)
        taken: set[str] = set()
        bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE3EA")
        widths = [14, 28, 12, 16, 14, 30]
        for name, part in groups:
            sheet = book.create_sheet(sheet_title(name, taken))
            for i, width in enumerate(widths, start=1):
                sheet.column_dimensions[get_column_letter(i)].width = width
            sheet.freeze_panes = "A2"
            header = []
            for text in EXPORT_COLUMNS:
                cell = WriteOnlyCell(sheet, text)
                cell.font, cell.fill, cell.alignment = bold, fill, Alignment(vertical="center")
                header.append(cell)
            sheet.append(header)

            def text_cell(value: str, sheet: Any = sheet) -> Any:
                cell = WriteOnlyCell(sheet, xlsx_text(value))
                cell.data_type = "s"  # never a formula, whatever the text starts with
                return cell

            count = 0
            for product, kpi, start, segment, value, note, unit in _frame_rows(part):
                period = WriteOnlyCell(sheet, start)
                period.number_format = DATE_FORMAT
                if math.isnan(value):  # a stored empty value stays an empty cell
                    number = WriteOnlyCell(sheet, None)
                else:
                    stored = _percent_fraction(value) if unit == "percent" else value
                    number = WriteOnlyCell(sheet, stored)
                    # openpyxl writes numbers with "%.16g", which loses the 17th digit some doubles
                    # need; repr() is the shortest text that reads back to the same double.
                    number._value = repr(stored)
                    number.number_format = _number_format(unit, value)
                sheet.append(
                    [text_cell(product), text_cell(kpi), period, text_cell(segment), number, text_cell(note)]
                )
                count += 1
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(EXPORT_COLUMNS))}{count + 1}"
        if not groups:
            book.create_sheet(title)
        book.save(path)

    return atomic_write(target, write)


def _number_format(unit: str, value: float) -> str:
    if unit == "percent":
        return NUMBER_FORMATS["percent"]
    if not math.isfinite(value) or (value != 0 and not 1e-3 <= abs(value) < 1e15):
        return "General"  # a fixed format would show 0.00 or hundreds of digits
    return NUMBER_FORMATS.get(unit, "General")


def format_csv_number(value: float, unit: str) -> str:
    """A number as csv text that reads back to the same float: repr, integers without ".0",
    percent units with a "%" ("12.5%")."""
    if math.isnan(value):
        return ""
    if value.is_integer() and abs(value) < 1e15:
        text = str(int(value))
    else:
        text = repr(value)
    return text + "%" if unit == "percent" else text


def write_csv(frame: pd.DataFrame, target: str | os.PathLike[str], *, delimiter: str = ",") -> Path:
    """Write ``frame`` as UTF-8 csv (with BOM, so Excel reads the accents), atomically."""

    def write(path: str) -> None:
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
            writer.writerow(EXPORT_COLUMNS)
            for product, kpi, start, segment, value, note, unit in _frame_rows(frame):
                writer.writerow(
                    [
                        _csv_text(product),
                        _csv_text(kpi),
                        start.isoformat(),
                        _csv_text(segment),
                        format_csv_number(value, unit),
                        _csv_text(note),
                    ]
                )

    return atomic_write(target, write)


def _csv_text(text: str) -> str:
    return escape_csv_text(clean_text(text))

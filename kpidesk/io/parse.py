"""Parse a (pre-flighted) file into a :class:`~kpidesk.io.grid.Workbook`.

This is the code that runs inside the sandbox child (``kpidesk.io.sandbox``);
it can also be called directly for trusted files. Workbooks go through
python-calamine (xlsx, xlsm, xls, ods); small xlsx/xlsm files get a second,
cell-level pass with openpyxl for what calamine does not report: formula cells
whose result was never saved (files written by tools that do not calculate)
and percent number formats (a cell showing 12 % holds 0.12).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from dataclasses import dataclass, field

from kpidesk.io.columns import build_columns
from kpidesk.io.errors import FileProblem
from kpidesk.io.grid import SheetGrid, Workbook, a1
from kpidesk.io.preflight import DETAIL_OPENPYXL_MAX_BYTES, ZIP_ERRORS


@dataclass(frozen=True, slots=True)
class ParseRequest:
    """What to read: ``format`` as decided by the pre-flight; ``sheets`` None = all."""

    path: str
    format: str
    sheets: tuple[str, ...] | None = None
    detail: bool = True
    max_field_chars: int = 1_000_000
    max_columns: int = 16_384
    max_cells: int = 20_000_000
    extra: dict[str, str] = field(default_factory=dict)
    #: the pre-flight's detail findings per sheet (large xlsx), applied instead of scanning again
    detail_hits: dict[str, tuple[list[tuple[int, int]], set[tuple[int, int]]]] | None = None


def parse_file(request: ParseRequest) -> Workbook:
    """Read every requested sheet; raise FileProblem for anything the file itself causes."""
    if request.format == "csv":
        return _parse_text(request)
    return _parse_workbook(request)


#: XML parts up to this size are checked for well-formedness and nesting before calamine reads them
#: (calamine is lenient with broken XML; bigger parts are left to it to keep large imports fast).
#: Set by the sandbox child (kpidesk.io.sandbox.child_main), which exits without tearing down.
LEAVE_ROWS_FOR_EXIT = False
_LEFT_FOR_EXIT: list[object] = []

XML_CHECK_MAX_BYTES = 5_000_000
MAX_XML_DEPTH = 64


def check_xml_parts(path: str) -> None:
    """Parse every small XML part of the zip with defusedxml: refuse broken or absurdly nested XML.

    Real workbooks nest a handful of levels (worksheet › sheetData › row › c › is › r › t);
    a part nested deeper than ``MAX_XML_DEPTH`` is hostile or damaged.
    """
    import zipfile

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, iterparse

    try:
        archive = zipfile.ZipFile(path)
    except ZIP_ERRORS as exc:
        raise FileProblem(path, f"the file is damaged ({exc}).", kind="damaged") from exc
    with archive:
        for info in archive.infolist():
            if not info.filename.lower().endswith((".xml", ".rels")) or info.file_size > XML_CHECK_MAX_BYTES:
                continue
            depth = 0
            try:
                with archive.open(info) as member:
                    for event, element in iterparse(member, events=("start", "end"), forbid_dtd=True):
                        if event == "start":
                            depth += 1
                            if depth > MAX_XML_DEPTH:
                                raise FileProblem(
                                    path,
                                    f"the file is damaged or hostile: part {info.filename!r} "
                                    f"is nested more than {MAX_XML_DEPTH} levels deep.",
                                    kind="damaged",
                                )
                        else:
                            depth -= 1
                            element.clear()
            except ParseError as exc:
                raise FileProblem(
                    path,
                    f"the file is damaged: part {info.filename!r} is not well-formed XML ({exc}).",
                    kind="damaged",
                ) from exc
            except ZIP_ERRORS as exc:
                raise FileProblem.undecompressable(path, info.filename, exc) from exc
            except DefusedXmlException as exc:
                raise FileProblem(
                    path,
                    f"part {info.filename!r} declares a DTD/XML entities (an XML entity "
                    "bomb or external-entity attack); refused.",
                    kind="xml_entities",
                ) from exc


def uses_1904_dates(path: str) -> bool:
    """True when xl/workbook.xml sets ``<workbookPr date1904="1"/>`` (read with defusedxml).

    calamine already converts date-formatted cells; this flag is for serial
    days stored as plain numbers, which records.py converts itself.
    """
    import zipfile

    from defusedxml import ElementTree

    try:
        with zipfile.ZipFile(path) as archive:
            root = ElementTree.fromstring(archive.read("xl/workbook.xml"), forbid_dtd=True)
    except (ElementTree.ParseError, *ZIP_ERRORS):
        return False
    for element in root.iter():
        if element.tag.endswith("}workbookPr"):
            return element.get("date1904", "0").lower() in {"1", "true"}
    return False


def _calamine_problem(path: str, exc: Exception, what: str) -> FileProblem:
    """calamine's error as a FileProblem; its own cell limit (repeated ODS cells) is a size refusal."""
    text = str(exc)
    if "cell limit exceeded" in text.lower():
        return FileProblem(
            path,
            f"its repeated cells expand to more cells than kpidesk reads ({text}); a hostile or broken file?",
            kind="too_many_cells",
        )
    return FileProblem(path, f"{what} ({text}).", kind="damaged")


def _parse_workbook(request: ParseRequest) -> Workbook:
    import python_calamine as calamine

    path = request.path
    if request.format in {"xlsx", "xlsm", "ods"}:
        check_xml_parts(path)
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    try:
        if extension == request.format:
            book = calamine.CalamineWorkbook.from_path(path)
        else:
            # Misleading extension (an .xlsx saved as .xls): calamine picks its reader from the
            # name, so hand it the bytes and let it sniff the real format.
            with open(path, "rb") as handle:
                book = calamine.CalamineWorkbook.from_filelike(handle)
    except calamine.PasswordError as exc:
        raise FileProblem(
            path, "it is password-protected; remove the password in Excel and try again.", kind="encrypted"
        ) from exc
    except (calamine.ZipError, calamine.XmlError, calamine.CalamineError) as exc:
        raise _calamine_problem(
            path, exc, f"the file is damaged or not a real {request.format} workbook"
        ) from exc
    names = list(book.sheet_names)
    wanted = names if request.sheets is None else [n for n in names if n in request.sheets]
    missing = [] if request.sheets is None else [n for n in request.sheets if n not in names]
    if missing:
        raise FileProblem(
            path, f"there is no sheet called {missing[0]!r} (sheets: {', '.join(names)}).", kind="no_sheet"
        )
    sheets: list[SheetGrid] = []
    for name in wanted:
        try:
            sheet = book.get_sheet_by_name(name)
            height, width = sheet.total_height, sheet.total_width
            if height * width > request.max_cells:
                raise FileProblem(
                    path,
                    f"sheet {name!r} spans {height:,} rows × {width:,} columns, more than the "
                    f"{request.max_cells:,} cells kpidesk reads (a cell far away, e.g. at XFD1048576?).",
                    kind="too_many_cells",
                )
            rows = sheet.to_python(skip_empty_area=False)
            merged_raw = sheet.merged_cell_ranges or []
        except (calamine.ZipError, calamine.XmlError, calamine.CalamineError) as exc:
            raise _calamine_problem(path, exc, f"sheet {name!r} is damaged") from exc
        n_cols = max((len(r) for r in rows), default=0)
        grid = SheetGrid(
            name=name,
            n_rows=len(rows),
            n_cols=n_cols,
            columns=build_columns(rows, n_cols),
            merged=[(r0, c0, r1, c1) for (r0, c0), (r1, c1) in merged_raw],
        )
        # The rows are garbage now. In the sandbox child, which ends with os._exit right after
        # sending its result, the last sheet's rows are simply left to the exit: freeing
        # 200,000 row lists cost ~13 ms on the import's critical path. (An earlier sheet's rows
        # are freed here as before, so memory never holds more than one sheet of them.)
        _LEFT_FOR_EXIT[:] = [rows] if LEAVE_ROWS_FOR_EXIT else []
        del rows
        sheets.append(grid)
    workbook = Workbook(path=path, format=request.format, sheets=sheets, sheet_names=names)
    with contextlib.suppress(
        AttributeError, calamine.CalamineError
    ):  # older calamine: no visibility metadata
        workbook.hidden_sheets = [
            meta.name for meta in book.sheets_metadata if meta.visible != calamine.SheetVisibleEnum.Visible
        ]
    if request.format in {"xlsx", "xlsm"} and uses_1904_dates(path):
        for grid in sheets:
            grid.date1904 = True
    if request.detail and request.format in {"xlsx", "xlsm"}:
        # The caller may decide (extra["detail"]); otherwise: openpyxl on small files, the
        # pre-flight's findings when given, else a byte scan here.
        mode = request.extra.get("detail") or (
            "openpyxl"
            if os.path.getsize(path) <= DETAIL_OPENPYXL_MAX_BYTES
            else "hits"
            if request.detail_hits is not None
            else "scan"
        )
        if mode == "openpyxl":
            _openpyxl_detail(workbook)
        elif mode == "hits":
            apply_detail_hits(workbook, request.detail_hits or {})
        elif mode == "scan":
            _scanned_detail(workbook)
        # mode "parent": the parent applies its own scan's findings (reader._parse_beside_deep_scan)
    return workbook


def _openpyxl_detail(workbook: Workbook) -> None:
    """Formula cells with no cached value → warnings; percent-formatted cells → ``percent_cells``."""
    import openpyxl

    from kpidesk.io.xlsx_scan import is_percent_code

    with warnings.catch_warnings():
        # openpyxl warns about unsupported extensions, data validation, ...; not the user's concern here.
        warnings.simplefilter("ignore")
        try:
            book = openpyxl.load_workbook(workbook.path, read_only=True, data_only=False, keep_links=False)
        except Exception as exc:
            workbook.warnings.append(f"Formula and number-format checks were skipped ({type(exc).__name__}).")
            return
        try:
            for grid in workbook.sheets:
                if grid.name not in book.sheetnames:
                    continue
                sheet = book[grid.name]
                missing: list[str] = []
                for row in sheet.iter_rows():
                    for cell in row:
                        if not hasattr(cell, "column") or cell.value is None:
                            continue
                        r, c = cell.row - 1, cell.column - 1
                        if cell.data_type == "f" and grid.cell(r, c) is None:
                            missing.append(a1(r, c))
                        elif (
                            cell.data_type in {"n", "f"}
                            and is_percent_code(cell.number_format or "")
                            and isinstance(grid.cell(r, c), float)
                        ):
                            # A formula's saved result counts like a typed number when it is a number.
                            grid.percent_cells.add((r, c))
                _warn_formulas(grid, missing)
        except Exception as exc:
            workbook.warnings.append(f"Formula and number-format checks were skipped ({type(exc).__name__}).")
        finally:
            book.close()


def _warn_formulas(grid: SheetGrid, missing: list[str]) -> None:
    if not missing:
        return
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    grid.warnings.append(
        f"Sheet {grid.name!r}: {len(missing)} formula cell(s) ({shown}) have no saved result; "
        "the file was written by a tool that does not calculate formulas, so these values are "
        "missing. Open and save the file in Excel or LibreOffice to compute them."
    )


def apply_detail_hits(
    workbook: Workbook, hits: dict[str, tuple[list[tuple[int, int]], set[tuple[int, int]]]]
) -> None:
    """Apply a byte scan's findings (per sheet name) to the grids: warnings and ``percent_cells``."""
    for grid in workbook.sheets:
        _apply_hits(grid, *hits.get(grid.name, ([], set())))


def _scanned_detail(workbook: Workbook) -> None:
    """The openpyxl pass's findings for a large file, from a byte scan of its XML (xlsx_scan.py)."""
    import zipfile

    from kpidesk.io.preflight import _sheet_part_names
    from kpidesk.io.xlsx_scan import percent_styles, scan_sheet

    try:
        with zipfile.ZipFile(workbook.path) as archive:
            parts = {name: part for part, name in _sheet_part_names(archive).items()}
            percent = percent_styles(archive)
            for grid in workbook.sheets:
                part = parts.get(grid.name)
                if part is None or part not in archive.namelist():
                    continue
                _apply_hits(grid, *scan_sheet(archive, part, percent))
    except ZIP_ERRORS as exc:
        workbook.warnings.append(f"Formula and number-format checks were skipped ({type(exc).__name__}).")


def _apply_hits(grid: SheetGrid, missing: list[tuple[int, int]], percent_cells: set[tuple[int, int]]) -> None:
    # Only cells calamine also saw as empty lack a value (a cached "" result is not missing).
    _warn_formulas(grid, [a1(r, c) for r, c in missing if grid.cell(r, c) is None])
    grid.percent_cells |= {(r, c) for r, c in percent_cells if isinstance(grid.cell(r, c), float)}


#: Text files above this size are split by pandas' C parser (~10x faster than the csv module).
PANDAS_CSV_MIN_CHARS = 1_000_000


def _parse_text(request: ParseRequest) -> Workbook:
    from kpidesk.io.columns import build_columns
    from kpidesk.io.text_files import (
        TextProblem,
        check_line_lengths,
        decode,
        parse_rows,
        sniff_decimal,
        sniff_delimiter,
    )

    path = request.path
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        check_line_lengths(data, request.max_field_chars)
        decoded = decode(data)
        del data
        text = decoded.text
        if "\x00" in text[:100_000]:
            raise TextProblem(
                "it contains binary data (NUL characters), not text; is it really a CSV file?", "binary"
            )
        delimiter = request.extra.get("delimiter") or sniff_delimiter(
            text, prefer_tab=path.lower().endswith((".tsv", ".tab"))
        )
        columns = None
        if len(text) >= PANDAS_CSV_MIN_CHARS:
            columns, n_rows = _pandas_columns(text, delimiter, request)
        if columns is None:
            rows = parse_rows(
                text, delimiter, max_field=request.max_field_chars, max_columns=request.max_columns
            )
            n_rows = len(rows)
            n_cols = max((len(r) for r in rows), default=0)
            _check_cells(path, n_rows, n_cols, request)
            columns = build_columns(rows, n_cols)
            del rows
    except TextProblem as exc:
        raise FileProblem(path, exc.problem, kind=exc.kind) from exc
    del text
    sample = [[c.value(r) or "" for c in columns] for r in range(min(n_rows, 500))]
    decimal = request.extra.get("decimal") or sniff_decimal(sample, delimiter)
    name = os.path.splitext(os.path.basename(path))[0]
    grid = SheetGrid(name=name, n_rows=n_rows, n_cols=len(columns), columns=columns, decimal=decimal)
    workbook = Workbook(
        path=path,
        format="csv",
        sheets=[grid],
        sheet_names=[name],
        encoding=decoded.encoding,
        delimiter=delimiter,
    )
    if decoded.warning:
        workbook.warnings.append(decoded.warning)
    return workbook


def _check_cells(path: str, n_rows: int, n_cols: int, request: ParseRequest) -> None:
    if n_rows * n_cols > request.max_cells:
        raise FileProblem(
            path,
            f"it has {n_rows:,} rows × {n_cols:,} columns, more than the {request.max_cells:,} cells kpidesk reads.",
            kind="too_many_cells",
        )


def _pandas_columns(text: str, delimiter: str, request: ParseRequest) -> tuple[list | None, int]:
    """Split a large text with pandas' C parser; (None, 0) when it cannot (ragged rows, odd quoting).

    Every field stays text ("" when empty), exactly as the csv-module path
    yields it, so both paths give the same grid.
    """
    import csv
    import io

    import pandas as pd

    from kpidesk.io.columns import build_text_column

    first_line = text[: text.find("\n") if "\n" in text else len(text)]
    width = len(next(iter(csv.reader([first_line], delimiter=delimiter)), []))
    if width > request.max_columns:
        return None, 0  # the csv path reports the column count with its line number
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
            names=list(range(width)),
        )
    except (pd.errors.ParserError, ValueError):
        return None, 0
    if len(frame.columns) != width:
        return None, 0
    _check_cells(request.path, len(frame), width, request)
    columns = [build_text_column(frame[c].to_numpy(dtype=object)) for c in frame.columns]
    return columns, len(frame)

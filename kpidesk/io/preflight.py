"""Cheap checks before any parser touches an untrusted file.

Runs in the calling process and reads only what it must: the first bytes
(magic numbers), the zip central directory (entry sizes, compression ratios,
encryption flags), the prolog of every XML part (a DTD or ENTITY declaration
is refused: entity bombs and external entities live there) and the declared
size of every worksheet (``<dimension ref=...>``, 3-letter column references
and the last row number), so that a sheet claiming A1:XFD1048576 is refused
before calamine allocates it. Anything it misses is still contained by the
sandbox's memory and time limits.
"""

from __future__ import annotations

import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field

from kpidesk.io.errors import FileProblem
from kpidesk.io.grid import column_index

#: Up to this size openpyxl does the cell-level detail pass in the child; above it the
#: pre-flight's byte scanner does (openpyxl costs ~10x calamine on big sheets).
DETAIL_OPENPYXL_MAX_BYTES = 256_000

#: What a damaged zip can raise while it is opened or decompressed (found by fuzzing:
#: zlib.error for a corrupt deflate stream, NotImplementedError for an unknown method).
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    KeyError,
    struct.error,
)

WORKBOOK_EXTENSIONS = {".xlsx": "xlsx", ".xlsm": "xlsm", ".xls": "xls", ".ods": "ods"}
TEXT_EXTENSIONS = {".csv", ".tsv", ".txt", ".tab"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_KNOWN_BINARY = [
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"SQLite format 3", "an SQLite database"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"MZ", "a Windows program"),
]
_DIMENSION_RE = re.compile(
    rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?"'
)
_WIDE_CELL_RE = re.compile(rb'r="([A-Z]{3})\d')  # columns beyond ZZ; rare in real sheets, so cheap
_ROW_RE = re.compile(rb'<(?:\w+:)?row\s[^>]*?r="(\d+)"')
_CELL_REF_RE = re.compile(rb'\sr="([A-Z]{1,3})(\d+)"')


@dataclass(frozen=True, slots=True)
class Limits:
    """What a file may cost. Tests shrink these to exercise every refusal cheaply."""

    max_file_bytes: int = 500_000_000
    max_entry_bytes: int = 1_000_000_000  # one uncompressed zip entry
    max_total_bytes: int = 2_000_000_000  # all uncompressed zip entries
    max_ratio: float = 150.0  # uncompressed / compressed, for entries above ratio_floor
    ratio_floor: int = 2_000_000
    max_entries: int = 10_000
    max_cells: int = 20_000_000  # rows × columns of one sheet grid
    max_prolog_bytes: int = 1_000_000
    max_field_chars: int = 1_000_000  # one CSV field
    #: text files with at most this many (estimated) fields are split in-process; see reader.py
    inprocess_text_fields: int = 5_000_000
    inprocess_text_bytes: int = 64_000_000
    memory_bytes: int = 3_000_000_000  # address-space cap of the child
    timeout_s: float = 120.0


@dataclass(slots=True)
class Preflight:
    """The verdict: the real ``format`` to parse with, plus warnings (e.g. misleading extension)."""

    path: str
    format: str
    size: int
    warnings: list[str] = field(default_factory=list)
    #: text files: an upper bound of their fields (delimiter-like bytes + newlines), counted with numpy
    text_fields: int = 0
    #: large xlsx/xlsm: per sheet name, (formula cells without a saved value, percent-formatted cells)
    #: found by xlsx_scan.DetailScanner while the extent check decompresses each sheet anyway
    detail: dict[str, tuple[list[tuple[int, int]], set[tuple[int, int]]]] | None = None


def preflight(path: str | os.PathLike[str], limits: Limits | None = None, *, deep: bool = True) -> Preflight:
    """Check ``path``; return its real format or raise FileProblem naming the problem.

    ``deep=False`` leaves out the one costly step — streaming every worksheet
    of an xlsx for cells beyond its declared dimension and for the cell-level
    detail — so the caller can run :func:`deep_scan` alongside the sandboxed
    parse (the child's memory cap covers the overlap).
    """
    limits = limits or Limits()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileProblem(path, "the file does not exist.", kind="not_found")
    if os.path.isdir(path):
        raise FileProblem(path, "it is a folder, not a file.", kind="not_found")
    size = os.path.getsize(path)
    if size == 0:
        raise FileProblem(path, "the file is empty (0 bytes).", kind="empty")
    if size > limits.max_file_bytes:
        raise FileProblem(
            path,
            f"the file is {size / 1e6:,.0f} MB; kpidesk imports files up to "
            f"{limits.max_file_bytes / 1e6:,.0f} MB.",
            kind="too_large",
        )
    ext = os.path.splitext(path)[1].lower()
    try:
        with open(path, "rb") as handle:
            head = handle.read(65_536)
    except OSError as exc:
        raise FileProblem(path, f"the file cannot be opened ({exc.strerror}).", kind="unreadable") from exc
    if ext not in WORKBOOK_EXTENSIONS and ext not in TEXT_EXTENSIONS:
        raise FileProblem(
            path,
            f"“{ext or 'no extension'}” files are not spreadsheets kpidesk reads "
            "(use .xlsx, .xlsm, .xls, .ods, .csv, .tsv or .txt).",
            kind="wrong_format",
        )
    result = Preflight(path=path, format="", size=size)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        result.format = _check_zip(path, ext, limits, result, deep)
    elif head.startswith(_OLE_MAGIC):
        result.format = _check_ole(path, ext, head)
    else:
        for magic, what in _KNOWN_BINARY:
            if head.startswith(magic):
                raise FileProblem(
                    path, f"it is {what}, not a spreadsheet, despite its “{ext}” name.", kind="wrong_format"
                )
        result.format = _check_text(path, ext, head)
        if size <= limits.inprocess_text_bytes:
            result.text_fields = _count_fields(path)
    if ext in WORKBOOK_EXTENSIONS and WORKBOOK_EXTENSIONS[ext] != result.format:
        result.warnings.append(
            f"The file is named “{ext}” but is really a {result.format} file; it was read as {result.format}."
        )
    return result


def _check_text(path: str, ext: str, head: bytes) -> str:
    lowered = head[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<table" in lowered[:512]:
        raise FileProblem(
            path,
            "it is a web page (HTML), not a spreadsheet; open it in Excel and save it as .xlsx.",
            kind="wrong_format",
        )
    if lowered.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        raise FileProblem(
            path,
            "it is an Excel 2003 XML spreadsheet, which kpidesk does not read; save it as .xlsx.",
            kind="wrong_format",
        )
    if ext in WORKBOOK_EXTENSIONS:
        if _looks_binary(head):
            raise FileProblem(
                path,
                f"it is not a {ext} workbook: the content is unrecognised binary data "
                "(damaged, or not a spreadsheet).",
                kind="wrong_format",
            )
        raise FileProblem(
            path,
            f"it is a text file, not a {ext} workbook; if it holds comma- or "
            "semicolon-separated values, rename it to .csv.",
            kind="wrong_format",
        )
    if _looks_binary(head):
        raise FileProblem(path, "it contains binary data, not text; is it really a CSV file?", kind="binary")
    return "csv"


def _count_fields(path: str) -> int:
    """Upper bound of the fields of a text file: bytes that can end a field (, ; tab | newline)."""
    with open(path, "rb") as handle:
        data = handle.read()
    return sum(data.count(byte) for byte in (b",", b";", b"\t", b"|", b"\n")) + 1  # bytes.count runs in C


def _looks_binary(head: bytes) -> bool:
    """Binary unless it has a text BOM, looks like UTF-16, or is mostly printable."""
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return False
    sample = head[:4096]
    if b"\x00" in sample:
        half = len(sample) // 2 or 1
        odd, even = sample[1::2].count(0), sample[0::2].count(0)
        return not ((odd > 0.4 * half and even < 0.1 * half) or (even > 0.4 * half and odd < 0.1 * half))
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return control > 0.05 * len(sample)


def _check_ole(path: str, ext: str, head: bytes) -> str:
    with open(path, "rb") as handle:
        data = handle.read(2_000_000)
    names = data.replace(b"\x00", b"")
    if b"EncryptedPackage" in names or b"EncryptionInfo" in names:
        raise FileProblem(
            path,
            "it is password-protected (encrypted); remove the password in Excel "
            "(File › Info › Protect Workbook) and try again.",
            kind="encrypted",
        )
    if ext in TEXT_EXTENSIONS:
        raise FileProblem(
            path,
            f"it is an Excel/Office binary file, not text, despite its “{ext}” name.",
            kind="wrong_format",
        )
    if b"WordDocument" in names:
        raise FileProblem(path, "it is a Word document, not a spreadsheet.", kind="wrong_format")
    if b"Workbook" not in names and b"Book" not in names:
        raise FileProblem(
            path,
            "it is an Office container without a workbook (not an Excel file, or damaged).",
            kind="wrong_format",
        )
    del head
    return "xls"


def _check_zip(path: str, ext: str, limits: Limits, result: Preflight, deep: bool = True) -> str:
    try:
        archive = zipfile.ZipFile(path)
    except ZIP_ERRORS as exc:
        raise FileProblem(
            path,
            "the file is damaged or incomplete (it is not a whole zip archive; "
            "was the download or copy cut short?).",
            kind="damaged",
        ) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise FileProblem(
                path, f"it holds {len(infos):,} parts, far more than a workbook has.", kind="zip_bomb"
            )
        total = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise FileProblem(
                    path, "its contents are encrypted; remove the password and try again.", kind="encrypted"
                )
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limits.max_entry_bytes or (
                info.file_size > limits.ratio_floor and ratio > limits.max_ratio
            ):
                raise FileProblem(
                    path,
                    f"part {info.filename!r} expands from {info.compress_size:,} to "
                    f"{info.file_size:,} bytes (a zip bomb?); refused.",
                    kind="zip_bomb",
                )
        if total > limits.max_total_bytes:
            raise FileProblem(
                path,
                f"it expands to {total / 1e6:,.0f} MB, more than kpidesk reads (a zip bomb?).",
                kind="zip_bomb",
            )
        names = {info.filename for info in infos}
        if "mimetype" in names and b"opendocument.spreadsheet" in _read_start(archive, "mimetype", 200):
            fmt = "ods"
        elif "xl/workbook.xml" in names or any(n.lower() == "xl/workbook.xml" for n in names):
            fmt = "xlsm" if ext == ".xlsm" else "xlsx"
        elif "xl/workbook.bin" in names:
            raise FileProblem(
                path,
                "it is an Excel binary workbook (.xlsb), which kpidesk does not read; save it as .xlsx.",
                kind="wrong_format",
            )
        elif "word/document.xml" in names:
            raise FileProblem(path, "it is a Word document, not a spreadsheet.", kind="wrong_format")
        elif "mimetype" in names:
            raise FileProblem(
                path, "it is an OpenDocument file that is not a spreadsheet.", kind="wrong_format"
            )
        else:
            raise FileProblem(
                path,
                "it is a zip archive without a workbook inside (no xl/workbook.xml).",
                kind="wrong_format",
            )
        if ext in TEXT_EXTENSIONS:
            raise FileProblem(
                path,
                f"it is a {fmt} workbook, not text, despite its “{ext}” name; rename it.",
                kind="wrong_format",
            )
        for info in infos:
            if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                _check_xml_prolog(path, archive, info, limits)
        if fmt in {"xlsx", "xlsm"}:
            if deep:
                result.detail = _scan_sheets(path, archive, limits, result.size)
            else:
                sheet_names = _sheet_part_names(archive)
                for info in _worksheet_parts(archive):
                    label = sheet_names.get(info.filename, info.filename)
                    _check_sheet_extent(path, archive, info, label, limits, full=False)
    return fmt


def _worksheet_parts(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [
        info
        for info in archive.infolist()
        if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
    ]


def deep_scan(
    path: str | os.PathLike[str], limits: Limits | None = None
) -> dict[str, tuple[list[tuple[int, int]], set[tuple[int, int]]]] | None:
    """The costly half of the pre-flight for xlsx/xlsm: stream every worksheet once.

    Refuses sheets whose cells reach absurdly far (FileProblem) and, for files
    above ``DETAIL_OPENPYXL_MAX_BYTES``, returns the cell-level detail per sheet
    name (formula cells without a saved value, percent-formatted cells); None
    for smaller files (openpyxl looks at those in the child).
    """
    limits = limits or Limits()
    path = os.fspath(path)
    try:
        archive = zipfile.ZipFile(path)
    except ZIP_ERRORS as exc:
        raise FileProblem(path, "the file is damaged or incomplete.", kind="damaged") from exc
    with archive:
        return _scan_sheets(path, archive, limits, os.path.getsize(path))


def _scan_sheets(
    path: str, archive: zipfile.ZipFile, limits: Limits, size: int
) -> dict[str, tuple[list[tuple[int, int]], set[tuple[int, int]]]] | None:
    sheet_names = _sheet_part_names(archive)
    percent = None
    detail: dict[str, tuple[list[tuple[int, int]], set[tuple[int, int]]]] | None = None
    if size > DETAIL_OPENPYXL_MAX_BYTES:
        from kpidesk.io.xlsx_scan import percent_styles

        percent = percent_styles(archive)
        detail = {}
    for info in _worksheet_parts(archive):
        label = sheet_names.get(info.filename, info.filename)
        hits = _check_sheet_extent(path, archive, info, label, limits, percent)
        if detail is not None and hits is not None:
            detail[label] = hits
    return detail


def _read_start(archive: zipfile.ZipFile, name: str, size: int) -> bytes:
    try:
        with archive.open(name) as member:
            return member.read(size)
    except ZIP_ERRORS:
        return b""


def _check_xml_prolog(path: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> None:
    """Refuse DTD/ENTITY declarations: they come before the root element, in the prolog."""
    try:
        with archive.open(info) as member:
            seen = b""
            while len(seen) < limits.max_prolog_bytes:
                chunk = member.read(65_536)
                if not chunk:
                    break
                seen += chunk
                upper = seen.upper()
                if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
                    raise FileProblem(
                        path,
                        f"part {info.filename!r} declares a DTD/XML entities (an XML "
                        "entity bomb or external-entity attack; real workbooks never do); refused.",
                        kind="xml_entities",
                    )
                if _root_started(seen):
                    return
            if len(seen) >= limits.max_prolog_bytes:
                raise FileProblem(
                    path,
                    f"part {info.filename!r} has an XML header of over "
                    f"{limits.max_prolog_bytes:,} bytes (not a real workbook); refused.",
                    kind="xml_entities",
                )
    except ZIP_ERRORS as exc:
        raise FileProblem.undecompressable(path, info.filename, exc) from exc
    except RuntimeError as exc:  # zipfile raises RuntimeError for encrypted members
        raise FileProblem(
            path, "its contents are encrypted; remove the password and try again.", kind="encrypted"
        ) from exc


def _root_started(data: bytes) -> bool:
    """True once an element start tag (``<`` + letter) appears outside ``<?``/``<!`` constructs."""
    pos = 0
    while True:
        pos = data.find(b"<", pos)
        if pos < 0 or pos + 1 >= len(data):
            return False
        nxt = data[pos + 1 : pos + 2]
        if nxt.isalpha() or nxt == b"_":
            return True
        if data.startswith(b"<!--", pos):
            end = data.find(b"-->", pos)
            if end < 0:
                return False
            pos = end + 3
        else:
            pos += 1


def _sheet_part_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part path → sheet name, via workbook.xml and its relationships (defusedxml)."""
    from defusedxml import ElementTree

    try:
        workbook = ElementTree.fromstring(_read_start(archive, "xl/workbook.xml", 5_000_000))
        rels = ElementTree.fromstring(_read_start(archive, "xl/_rels/workbook.xml.rels", 5_000_000))
    except Exception:
        return {}
    targets = {}
    for rel in rels:
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        targets[rel.get("Id")] = target
    names = {}
    for element in workbook.iter():
        if element.tag.endswith("}sheet"):
            rid = next((v for k, v in element.attrib.items() if k.endswith("}id")), None)
            if rid in targets:
                names[targets[rid]] = element.get("name", "")
    return names


def _refuse_declared(path: str, label: str, rows: int, cols: int, limits: Limits) -> None:
    if rows * cols > limits.max_cells:
        raise FileProblem(
            path,
            f"sheet {label!r} declares {rows:,} rows × {cols:,} columns "
            f"({rows * cols:,} cells; a cell at XFD1048576?), more than the "
            f"{limits.max_cells:,} cells kpidesk reads.",
            kind="too_many_cells",
        )


def _check_sheet_extent(
    path: str,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    label: str,
    limits: Limits,
    percent: set[int] | None = None,
    *,
    full: bool = True,
) -> tuple[list[tuple[int, int]], set[tuple[int, int]]] | None:
    """Estimate rows × columns calamine would allocate and refuse absurd sheets.

    With ``percent`` (style indexes) the same decompressed chunks also feed the
    cell-level detail scanner, whose findings are returned.
    """
    scanner = None
    if percent is not None:
        from kpidesk.io.xlsx_scan import DetailScanner

        scanner = DetailScanner(percent)
    max_row = 0
    max_col = 0
    declared: tuple[int, int] | None = None
    tail = b""
    try:
        with archive.open(info) as member:
            first = True
            while True:
                chunk = member.read(1_048_576)
                if not chunk:
                    break
                if scanner is not None:
                    scanner.feed(chunk)
                window = tail + chunk
                if first:
                    match = _DIMENSION_RE.search(window)
                    if not full:
                        # Light check: the declared dimension only (it comes first in the sheet).
                        if match and match.group(3):
                            rows = int(match.group(4)) - int(match.group(2)) + 1
                            cols = (
                                column_index(match.group(3).decode())
                                - column_index(match.group(1).decode())
                                + 1
                            )
                            _refuse_declared(path, label, rows, cols, limits)
                        return None
                    if match and match.group(3):
                        rows = int(match.group(4)) - int(match.group(2)) + 1
                        cols = (
                            column_index(match.group(3).decode()) - column_index(match.group(1).decode()) + 1
                        )
                        declared = (rows, cols)
                    first = False
                for match in _WIDE_CELL_RE.finditer(window):
                    max_col = max(max_col, column_index(match.group(1).decode()) + 1)
                tail = window[-4096:]
    except ZIP_ERRORS as exc:
        raise FileProblem(
            path, f"the file is damaged: sheet {label!r} cannot be decompressed ({exc}).", kind="damaged"
        ) from exc
    rows_found = [int(m.group(1)) for m in _ROW_RE.finditer(tail)]
    cells_found = [
        (column_index(m.group(1).decode()) + 1, int(m.group(2))) for m in _CELL_REF_RE.finditer(tail)
    ]
    max_row = max([*rows_found, *(r for _, r in cells_found), 0])
    max_col = max([max_col, *(c for c, _ in cells_found), 0])
    if declared:
        _refuse_declared(path, label, declared[0], declared[1], limits)
    if max_row * max(max_col, 1) > limits.max_cells:
        raise FileProblem(
            path,
            f"sheet {label!r} has cells as far as row {max_row:,}, column {max_col:,} "
            f"({max_row * max_col:,} cells to allocate), more than the {limits.max_cells:,} "
            "cells kpidesk reads.",
            kind="too_many_cells",
        )
    return scanner.finish() if scanner is not None else None

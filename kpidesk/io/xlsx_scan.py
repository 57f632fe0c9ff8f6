"""Cell-level detail of large .xlsx files without building a cell object per cell.

openpyxl's read-only pass costs ~10× calamine, so above a small size the
reader scans the raw sheet XML instead, looking only for rare literals:

- a formula with no saved result ends its cell right after the formula, or
  after an empty value: ``</f></c>``, ``<f .../></c>``, ``</f><v/></c>`` (a
  cell with a result has ``<v>result</v>`` between);
- a percent-formatted cell carries ``s="N"`` where style N's number format is
  a percent (built-in formats 9 and 10, or a custom code with ``%`` outside
  quotes), found in ``xl/styles.xml`` (parsed with defusedxml).

For each hit the scanner looks back to the cell's ``r="B7"`` reference. Cost:
one decompression of the sheet plus a bytes search per literal, so it stays a
small fraction of calamine's own parse.
"""

from __future__ import annotations

import re
import zipfile

from kpidesk.io.grid import column_index
from kpidesk.io.preflight import ZIP_ERRORS

_REF_RE = re.compile(rb'<c\s[^>]*?r="([A-Z]{1,3})(\d+)"')
_BUILTIN_PERCENT = {9, 10}
_NO_RESULT_RE = re.compile(rb"(?:</f>|<f\b[^>]*/>)(?:<v\s*/>|<v></v>)?</c>")


def percent_styles(archive: zipfile.ZipFile) -> set[int]:
    """Indexes of ``cellXfs`` whose number format shows a percent."""
    from defusedxml import ElementTree

    try:
        root = ElementTree.fromstring(archive.read("xl/styles.xml"), forbid_dtd=True)
    except (ElementTree.ParseError, *ZIP_ERRORS):
        return set()
    percent_formats = set(_BUILTIN_PERCENT)
    for element in root.iter():
        if element.tag.endswith("}numFmt") and is_percent_code(element.get("formatCode", "")):
            percent_formats.add(int(element.get("numFmtId", "-1")))
    styles: set[int] = set()
    for element in root.iter():
        if element.tag.endswith("}cellXfs"):
            for index, xf in enumerate(x for x in element if x.tag.endswith("}xf")):
                if int(xf.get("numFmtId", "0")) in percent_formats:
                    styles.add(index)
    return styles


def is_percent_code(code: str) -> bool:
    """'0.0%' yes; '0.0"%"' (a literal percent sign in quotes) and '[Red]0' no."""
    outside = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", code)
    return "%" in outside


class DetailScanner:
    """Streaming form of :func:`scan_sheet`: feed decompressed chunks, then ``finish()``.

    Hits are only examined once 64 KB of text follow them (or at the end), so
    the look-back to ``<c r=...>`` and the look-ahead to ``</c>`` never cross a
    chunk boundary; the buffer keeps 64 KB behind the examined position.
    """

    LOOK = 65_536

    def __init__(self, percent: set[int]) -> None:
        self._percent = [f' s="{style}"'.encode() for style in sorted(percent)]
        self._buffer = b""
        self._done = 0  # buffer position up to which hits have been examined
        self.missing: list[tuple[int, int]] = []
        self.percent_cells: set[tuple[int, int]] = set()

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        buffer = self._buffer + chunk
        limit = len(buffer) if final else len(buffer) - self.LOOK
        if limit > self._done:
            self._examine(buffer, self._done, limit)
            self._done = limit
        cut = max(0, self._done - self.LOOK)
        self._buffer = buffer[cut:]
        self._done -= cut

    def finish(self) -> tuple[list[tuple[int, int]], set[tuple[int, int]]]:
        self.feed(b"", final=True)
        return sorted(set(self.missing)), self.percent_cells

    def _examine(self, data: bytes, start: int, limit: int) -> None:
        # A formula's "<f" opening tag lies at most a cell before its "</f>": one search
        # (from a little before ``start``) tells whether this stretch has formulas at all.
        if data.find(b"<f", max(0, start - 4096), min(len(data), limit + 64)) >= 0:
            for match in _NO_RESULT_RE.finditer(data, start):
                if match.start() >= limit:
                    break
                ref = _cell_ref_before(data, match.start())
                if ref is not None:
                    self.missing.append(ref)
        for literal in self._percent:
            position = start
            # A hit must *start* before the limit; it may end after it.
            while (hit := data.find(literal, position, limit + len(literal) - 1)) >= 0:
                position = hit + len(literal)
                ref = _cell_ref_before(data, hit + len(literal))
                if ref is not None and _has_number_value(data, hit):
                    self.percent_cells.add(ref)


def scan_sheet(
    archive: zipfile.ZipFile, part: str, percent: set[int]
) -> tuple[list[tuple[int, int]], set[tuple[int, int]]]:
    """(formula cells without a saved value, percent-formatted cells) of one sheet, 0-based (row, col)."""
    scanner = DetailScanner(percent)
    with archive.open(part) as member:
        while chunk := member.read(1_048_576):
            scanner.feed(chunk)
    return scanner.finish()


def _cell_ref_before(data: bytes, position: int) -> tuple[int, int] | None:
    begin = data.rfind(b"<c ", 0, position)
    if begin < 0:
        return None
    match = _REF_RE.match(data, begin)
    if match is None:
        return None
    return int(match.group(2)) - 1, column_index(match.group(1).decode())


def _has_number_value(data: bytes, attribute_at: int) -> bool:
    """True when the cell holding the attribute has a ``<v>`` and no t="s"/"str"/"inlineStr" type."""
    open_end = data.find(b">", attribute_at)
    begin = data.rfind(b"<c ", 0, attribute_at)
    tag = data[begin:open_end]
    if b' t="' in tag and b' t="n"' not in tag:
        return False
    if data[open_end - 1 : open_end] == b"/":
        return False  # an empty styled cell
    close = data.find(b"</c>", open_end)
    return data.find(b"<v>", open_end, close) >= 0

"""Delimited text files (.csv/.tsv/.txt): encoding, delimiter and decimal mark.

Encoding, in order: a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32), then
NUL-byte patterns of BOM-less UTF-16, then strict UTF-8, then Windows-1252
(the usual "ANSI" of Excel exports; undefined bytes fall back to Latin-1).

Delimiter: of ``,`` ``;`` tab ``|``, the one that splits the first 50
non-blank lines into the same number (≥ 2) of fields most consistently;
ties prefer tab for .tsv, else the order above.

Decimal mark: "," when the delimiter is not "," and number-like cells such as
``12,5`` or ``1.234,5`` outnumber ``12.5``-style ones; otherwise ".".
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from dataclasses import dataclass

DELIMITERS = (",", ";", "\t", "|")
# Evidence for a decimal mark: "12,5" or "1.234,5" (but not "1,300": three digits after a lone
# mark may be a thousands group, so it counts for neither side).
_COMMA_DECIMAL = re.compile(r"^[-+(]?(\d{1,3}(?:\.\d{3})+,\d+|\d+,(\d{1,2}|\d{4,}))\)?\s*%?$")
_DOT_DECIMAL = re.compile(r"^[-+(]?(\d{1,3}(?:,\d{3})+\.\d+|\d+\.(\d{1,2}|\d{4,}))\)?\s*%?$")


class TextProblem(Exception):
    """Raised inside the reader; the caller wraps it into a FileProblem with the path."""

    def __init__(self, problem: str, kind: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.kind = kind


@dataclass(frozen=True, slots=True)
class DecodedText:
    text: str
    encoding: str
    warning: str | None = None


def decode(data: bytes) -> DecodedText:
    """Bytes → text with the encoding rules of the module docstring."""
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                return DecodedText(data[len(bom) :].decode(name.replace("-sig", "")), name)
            except UnicodeDecodeError as exc:
                raise TextProblem(
                    f"it starts with a {name.upper()} byte-order mark but byte {exc.start + len(bom)} is not valid {name.upper()}.",
                    "binary",
                ) from exc
    sample = data[:4096]
    if b"\x00" in sample:
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        half = len(sample) // 2
        guess = "utf-16-le" if odd_nuls > 0.4 * half and even_nuls < 0.1 * half else None
        if guess is None and even_nuls > 0.4 * half and odd_nuls < 0.1 * half:
            guess = "utf-16-be"
        if guess is None:
            raise TextProblem(
                "it contains binary data (NUL bytes), not text; is it really a CSV file?", "binary"
            )
        try:
            return DecodedText(data.decode(guess), guess)
        except UnicodeDecodeError as exc:
            raise TextProblem(
                "it contains binary data, not text; is it really a CSV file?", "binary"
            ) from exc
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return DecodedText(
            data.decode("cp1252"), "cp1252", "The file is not UTF-8; it was read as Windows-1252."
        )
    except UnicodeDecodeError:
        return DecodedText(
            data.decode("latin-1"), "latin-1", "The file is not UTF-8; it was read as Latin-1."
        )


def sniff_delimiter(text: str, *, prefer_tab: bool = False) -> str:
    """The delimiter (see module docstring); "," when nothing splits the lines."""
    lines = [line for line in text[:200_000].splitlines()[:60] if line.strip()][:50]
    if not lines:
        return ","
    best: tuple[float, int, int] | None = None
    chosen = ","
    for order, delimiter in enumerate(DELIMITERS):
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        mode, freq = Counter(counts).most_common(1)[0]
        if mode < 2:
            continue
        consistency = freq / len(counts)
        tab_bonus = 1 if prefer_tab and delimiter == "\t" else 0
        score = (consistency, tab_bonus, mode)
        if best is None or score > best:
            best, chosen = score, delimiter
        del order
    return chosen


def sniff_decimal(rows: list[list[str]], delimiter: str) -> str:
    """ "," when comma-decimal numbers outnumber dot-decimal ones (never for "," delimiters)."""
    if delimiter == ",":
        return "."
    comma = dot = 0
    for row in rows[:500]:
        for cell in row:
            cell = cell.strip().lstrip("$€£¥").rstrip("€$£ ")
            if _COMMA_DECIMAL.match(cell):
                comma += 1
            elif _DOT_DECIMAL.match(cell):
                dot += 1
    return "," if comma > dot else "."


def check_line_lengths(data: bytes, max_chars: int) -> None:
    """Refuse a file with a line longer than ``max_chars`` bytes (counted with numpy, no decoding).

    A single 100 MB line is not a table; refusing it early keeps the csv
    parsers from building one enormous field.
    """
    import numpy as np

    if len(data) <= max_chars:
        return
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    bounds = np.concatenate(([-1], newlines, [len(data)]))
    gaps = np.diff(bounds) - 1
    longest = int(gaps.argmax())
    # UTF-16/32 spend 2-4 bytes per character; the limit is generous enough for that slack.
    if gaps[longest] > 4 * max_chars:
        raise TextProblem(
            f"line {longest + 1} holds a value longer than {max_chars:,} characters; "
            "this is not a KPI table (a broken or hostile file?).",
            "line_too_long",
        )


def parse_rows(text: str, delimiter: str, *, max_field: int, max_columns: int) -> list[list[str]]:
    """All rows of the text; raises TextProblem for an over-long field or too many columns."""
    csv.field_size_limit(max_field)
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            if len(row) > max_columns:
                raise TextProblem(
                    f"line {reader.line_num} has {len(row):,} columns (at most {max_columns:,} are allowed).",
                    "too_many_cells",
                )
            rows.append(row)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise TextProblem(
                f"line {max(reader.line_num, 1)} holds a value longer than {max_field:,} characters; "
                "this is not a KPI table (a broken or hostile file?).",
                "line_too_long",
            ) from exc
        raise TextProblem(f"line {reader.line_num} cannot be read as CSV ({exc}).", "damaged") from exc
    return rows

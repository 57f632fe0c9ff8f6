"""Text-file sniffing (encoding, delimiter, decimal mark) and the pre-flight verdicts on good files."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from kpidesk.io import FileProblem, Limits, read_workbook
from kpidesk.io.preflight import preflight
from kpidesk.io.text_files import TextProblem, check_line_lengths, decode, sniff_decimal, sniff_delimiter

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"


@pytest.mark.parametrize(
    ("data", "encoding", "text"),
    [
        ("Größe;1\n".encode(), "utf-8", "Größe;1\n"),
        (codecs.BOM_UTF8 + b"a,b\n", "utf-8-sig", "a,b\n"),
        (codecs.BOM_UTF16_LE + "a\tb\n".encode("utf-16-le"), "utf-16-le", "a\tb\n"),
        (codecs.BOM_UTF16_BE + "a,b\n".encode("utf-16-be"), "utf-16-be", "a,b\n"),
        ("Month,Value\n2024-01,5\n".encode("utf-16-le"), "utf-16-le", "Month,Value\n2024-01,5\n"),  # no BOM
        ("Month,Value\n2024-01,5\n".encode("utf-16-be"), "utf-16-be", "Month,Value\n2024-01,5\n"),
        ("Café,€5\n".encode("cp1252"), "cp1252", "Café,€5\n"),
        (b"caf\x81,1\n", "latin-1", "caf\x81,1\n"),  # 0x81 is undefined in Windows-1252
    ],
)
def test_decode(data: bytes, encoding: str, text: str) -> None:
    decoded = decode(data)
    assert (decoded.encoding, decoded.text) == (encoding, text)


def test_decode_refuses_binary() -> None:
    with pytest.raises(TextProblem, match="binary data"):
        decode(b"a,b\n\x00\x01\x02\x03\x00\x00\x05\x06" * 20)


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a,b,c\n1,2,3\n4,5,6\n", ","),
        ("a;b;c\n1,5;2,5;3\n4;5;6\n", ";"),  # decimal commas do not fool it
        ('name;value\n"Smith, J";3\n"Doe, A";4\n', ";"),  # quoted commas neither
        ("a\tb\n1\t2\n", "\t"),
        ("a|b|c\n1|2|3\n", "|"),
        ("just one column\nrow two\n", ","),
    ],
)
def test_sniff_delimiter(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text) == delimiter


def test_sniff_delimiter_prefers_tab_for_tsv_on_ties() -> None:
    text = "a\tb,c\n1\t2,3\n"
    assert sniff_delimiter(text) == ","
    assert sniff_delimiter(text, prefer_tab=True) == "\t"


def test_sniff_decimal() -> None:
    assert sniff_decimal([["1.234,5", "12,5 %"], ["3,25", "x"]], ";") == ","
    assert sniff_decimal([["1,234.5", "12.5"], ["3.25", "x"]], ";") == "."
    assert sniff_decimal([["1,300", "2,500"]], ";") == "."  # three digits after a comma: undecided
    assert sniff_decimal([["12,5"]], ",") == "."  # a comma-delimited file cannot use decimal commas unquoted


def test_check_line_lengths() -> None:
    check_line_lengths(b"a,b\n" * 1000, 10)  # short lines pass
    with pytest.raises(TextProblem, match="line 3 holds a value longer than 10 characters"):
        check_line_lengths(b"a\nb\n" + b"x" * 100 + b"\nc\n", 10)


def test_delimiter_and_decimal_overrides() -> None:
    workbook = read_workbook(GOLDEN / "semicolon_decimal_comma.csv", delimiter=",", decimal=".")
    assert workbook.delimiter == ","
    assert workbook.sheets[0].decimal == "."
    assert workbook.sheets[0].cell(1, 0) == "Jan 2024;1.234"  # split on the forced comma


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("long_basic.xlsx", "xlsx"),
        ("macro_enabled.xlsm", "xlsm"),
        ("legacy.xls", "xls"),
        ("libreoffice.ods", "ods"),
        ("pipe.txt", "csv"),
        ("utf16le_tab.txt", "csv"),
    ],
)
def test_preflight_accepts_real_files(name: str, fmt: str) -> None:
    verdict = preflight(GOLDEN / name)
    assert (verdict.format, verdict.warnings) == (fmt, [])


def test_preflight_counts_text_fields() -> None:
    # pipe.txt: 3 lines × (3 pipes + 1 newline) + 2 commas inside the numbers = 14 field ends, + 1 = 15.
    assert preflight(GOLDEN / "pipe.txt").text_fields == 15


def test_ratio_limit_applies_only_above_the_floor() -> None:
    strict = Limits(max_ratio=2.0, ratio_floor=1_000)
    with pytest.raises(FileProblem, match="a zip bomb") as caught:
        preflight(GOLDEN / "long_basic.xlsx", strict)
    assert caught.value.kind == "zip_bomb"
    assert preflight(GOLDEN / "long_basic.xlsx", Limits(max_ratio=2.0)).format == "xlsx"  # parts < 2 MB


def test_importing_kpidesk_io_loads_no_heavy_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, kpidesk.io\n"
        "heavy = [m for m in ('numpy', 'pandas', 'python_calamine', 'openpyxl', 'PySide6') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

"""Cell-level detail (formula cells without a result, percent formats): openpyxl pass vs byte scanner."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpidesk.io.parse import ParseRequest, _openpyxl_detail, _scanned_detail, parse_file
from kpidesk.io.xlsx_scan import is_percent_code

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"
REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real-world"


@pytest.mark.parametrize(
    ("code", "percent"),
    [
        ("0%", True),
        ("0.0%", True),
        ("0.0%;\\(0.0%\\);\\-", True),
        ('0.0"%"', False),
        ("0\\%", False),
        ("[Red]0.00", False),
        ("General", False),
        ('"$"#,##0', False),
    ],
)
def test_percent_codes(code: str, percent: bool) -> None:
    assert is_percent_code(code) is percent


def _both(path: Path):
    fmt = path.suffix.lstrip(".")
    by_openpyxl = parse_file(ParseRequest(path=str(path), format=fmt, detail=False))
    by_scanner = parse_file(ParseRequest(path=str(path), format=fmt, detail=False))
    _openpyxl_detail(by_openpyxl)
    _scanned_detail(by_scanner)
    return by_openpyxl, by_scanner


@pytest.mark.parametrize(
    "path",
    [
        GOLDEN / "formula_no_cache.xlsx",
        GOLDEN / "long_basic.xlsx",
        GOLDEN / "tracker_rows.xlsx",
        GOLDEN / "macro_enabled.xlsm",
        GOLDEN / "shared_strings.xlsx",
        REAL / "mkt_kpi_tracker.xlsx",
    ],
    ids=lambda p: p.name,
)
def test_scanner_finds_what_openpyxl_finds(path: Path) -> None:
    if not path.exists():
        pytest.skip("real-world sample folder is absent")
    by_openpyxl, by_scanner = _both(path)
    for a, b in zip(by_openpyxl.sheets, by_scanner.sheets, strict=True):
        assert a.percent_cells == b.percent_cells
        assert a.warnings == b.warnings


def test_scanner_results_on_golden_files() -> None:
    _, scanned = _both(GOLDEN / "tracker_rows.xlsx")
    # Conversion (row 6) is formatted 0.0% in B..E: the target 0.05 and three monthly values.
    assert scanned.sheets[0].percent_cells == {(5, 1), (5, 2), (5, 3), (5, 4)}
    _, scanned = _both(GOLDEN / "formula_no_cache.xlsx")
    assert "2 formula cell(s) (C2, C3) have no saved result" in scanned.sheets[0].warnings[0]

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


def test_preflight_scanner_path_gives_the_same_workbook(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large files get their detail from the pre-flight's pass; force that path on small files."""
    from kpidesk.io import parse, preflight, read_workbook

    expected = {name: read_workbook(GOLDEN / name) for name in ("formula_no_cache.xlsx", "tracker_rows.xlsx")}
    monkeypatch.setattr(preflight, "DETAIL_OPENPYXL_MAX_BYTES", 0)
    monkeypatch.setattr(parse, "DETAIL_OPENPYXL_MAX_BYTES", 0)
    for name, workbook in expected.items():
        verdict = preflight.preflight(GOLDEN / name)
        assert verdict.detail is not None
        scanned = read_workbook(GOLDEN / name, sandbox=False)
        for a, b in zip(workbook.sheets, scanned.sheets, strict=True):
            assert (a.percent_cells, a.warnings) == (b.percent_cells, b.warnings)
    assert preflight.preflight(GOLDEN / "formula_no_cache.xlsx").detail == {"Calc": ([(1, 2), (2, 2)], set())}


def test_streaming_scanner_is_independent_of_chunk_boundaries() -> None:
    import zipfile

    from kpidesk.io.xlsx_scan import DetailScanner, percent_styles

    with zipfile.ZipFile(GOLDEN / "tracker_rows.xlsx") as archive:
        data = archive.read("xl/worksheets/sheet1.xml")
        percent = percent_styles(archive)
    whole = DetailScanner(percent)
    whole.feed(data)
    expected = whole.finish()
    assert expected[1] == {(5, 1), (5, 2), (5, 3), (5, 4)}
    for step in (1, 7, 64, 1000):
        pieces = DetailScanner(percent)
        pieces.LOOK = 700  # smaller than the default, still longer than any cell of this sheet
        for start in range(0, len(data), step):
            pieces.feed(data[start : start + step])
        assert pieces.finish() == expected, step


def test_detail_found_beside_the_sandboxed_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large xlsx: the parent scans while the child parses, then applies the findings itself."""
    from kpidesk.io import preflight, read_workbook

    expected = {name: read_workbook(GOLDEN / name) for name in ("formula_no_cache.xlsx", "tracker_rows.xlsx")}
    monkeypatch.setattr(preflight, "DETAIL_OPENPYXL_MAX_BYTES", 0)  # every file counts as large
    for name, workbook in expected.items():
        scanned = read_workbook(GOLDEN / name, sandbox=True)
        for a, b in zip(workbook.sheets, scanned.sheets, strict=True):
            assert (a.percent_cells, a.warnings) == (b.percent_cells, b.warnings)
    assert read_workbook(GOLDEN / "tracker_rows.xlsx").sheets[0].percent_cells == {
        (5, 1),
        (5, 2),
        (5, 3),
        (5, 4),
    }

"""Hostile and broken files: a clear FileProblem naming the file and the problem; no crash, no hang.

The small corpus is committed in tests/data/hostile (made by tests/data/make_hostile.py);
big files are generated into tmp_path. Each file goes through the whole reading
pipeline (pre-flight, sandboxed child, layout, records), so a problem caught at
any stage counts, and nothing may escape as anything but a KpideskError.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from kpidesk.errors import KpideskError
from kpidesk.io import FileProblem, Limits, detect_layout, read_workbook, to_records

DATA = Path(__file__).resolve().parents[1] / "data"
HOSTILE = DATA / "hostile"


def _load_maker():
    spec = importlib.util.spec_from_file_location("make_hostile", DATA / "make_hostile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_hostile"] = module
    spec.loader.exec_module(module)
    return module


MAKER = _load_maker()


def import_pipeline(path: Path, limits: Limits | None = None) -> int:
    """Read, detect and normalise every sheet; return the number of records (for files that read)."""
    workbook = read_workbook(path, limits=limits)
    count = 0
    for sheet in workbook.sheets:
        count += len(to_records(sheet, detect_layout(sheet), path=str(path)))
    return count


def test_corpus_has_at_least_20_committed_files() -> None:
    committed = sorted(p.name for p in HOSTILE.iterdir() if p.is_file())
    assert len(committed) >= 20
    assert set(MAKER.EXPECTED) <= set(committed)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(MAKER.EXPECTED))
def test_hostile_file_is_refused_with_a_clear_message(name: str) -> None:
    kind, phrase = MAKER.EXPECTED[name]
    with pytest.raises(FileProblem) as caught:
        import_pipeline(HOSTILE / name)
    problem = caught.value
    assert problem.kind == kind
    assert isinstance(problem, KpideskError)
    assert str(problem).startswith(f"Cannot import “{name}”: ")  # names the file
    assert phrase in str(problem)  # names the problem


@pytest.mark.timeout(60)
def test_huge_shared_strings_refused_by_entry_limit(tmp_path: Path) -> None:
    expected = MAKER.make_large(tmp_path, ("huge_shared_strings.xlsx",))
    kind, phrase = expected["huge_shared_strings.xlsx"]
    with pytest.raises(FileProblem) as caught:
        import_pipeline(tmp_path / "huge_shared_strings.xlsx", Limits(max_entry_bytes=5_000_000))
    assert (caught.value.kind, phrase in str(caught.value)) == (kind, True)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_csv_with_a_100_mb_line(tmp_path: Path) -> None:
    expected = MAKER.make_large(tmp_path, ("line_100mb.csv",))
    kind, phrase = expected["line_100mb.csv"]
    with pytest.raises(FileProblem) as caught:
        import_pipeline(tmp_path / "line_100mb.csv")
    assert caught.value.kind == kind
    assert phrase in str(caught.value)


@pytest.mark.timeout(60)
def test_memory_cap_contains_what_the_preflight_lets_through(tmp_path: Path) -> None:
    """A sheet the pre-flight lets through (its limits are lifted here) still cannot exhaust memory.

    The pre-flight is told to allow everything (huge limits), so only the child's
    RLIMIT_AS stands between calamine and a 1-million-row sheet: the message must
    name the memory limit, and the parent process must survive.
    """
    import xlsxwriter

    path = tmp_path / "wide_and_long.xlsx"
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("Data")
    for r in range(200_000):
        sheet.write_row(r, 0, [f"text {r}", r, r * 2.0, f"x{r % 7}"])
    workbook.close()
    limits = Limits(memory_bytes=150_000_000, max_cells=10**12, max_ratio=10**9)
    with pytest.raises(FileProblem) as caught:
        read_workbook(path, limits=limits)
    assert caught.value.kind == "memory"
    assert "needs more than the 150 MB of memory kpidesk allows" in str(caught.value)


@pytest.mark.timeout(60)
def test_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(FileProblem, match="does not exist") as missing:
        read_workbook(tmp_path / "nope.xlsx")
    assert missing.value.kind == "not_found"
    folder = tmp_path / "folder.xlsx"
    folder.mkdir()
    with pytest.raises(FileProblem, match="is a folder"):
        read_workbook(folder)
    big = tmp_path / "big.csv"
    big.write_bytes(b"a,b\n" * 1000)
    with pytest.raises(FileProblem, match="kpidesk imports files up to") as too_big:
        read_workbook(big, limits=Limits(max_file_bytes=100))
    assert too_big.value.kind == "too_large"


@pytest.mark.timeout(60)
def test_xlsx_named_xls_is_read_with_a_warning(tmp_path: Path) -> None:
    source = DATA / "golden" / "merged_years.xlsx"
    renamed = tmp_path / "export.xls"
    renamed.write_bytes(source.read_bytes())
    workbook = read_workbook(renamed)
    assert workbook.format == "xlsx"
    assert workbook.warnings[0] == "The file is named “.xls” but is really a xlsx file; it was read as xlsx."
    assert workbook.sheets[0].cell(2, 1) == 10.0

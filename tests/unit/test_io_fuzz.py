"""Fuzzing the readers: any bytes give a Workbook or a FileProblem — never another exception.

Random text and bytes go through the whole pipeline (pre-flight, parse,
layout, records); damaged copies of a real workbook (bytes flipped or cut)
go through the sandboxed child.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpidesk.io import FileProblem, detect_layout, read_workbook, to_records

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"


def survive(path: Path) -> None:
    """Run the pipeline; only a FileProblem may escape."""
    try:
        workbook = read_workbook(path)
    except FileProblem as problem:
        message = str(problem)
        workbook = None
    if workbook is None:
        assert message.startswith(f"Cannot import “{path.name}”: ")
        return
    for sheet in workbook.sheets:
        layout = detect_layout(sheet)
        try:
            frame = to_records(sheet, layout, path=str(path))
        except FileProblem:
            continue
        assert list(frame.columns)[:3] == ["sheet", "row", "column"]


cells = st.one_of(
    st.sampled_from(
        [
            "",
            "2024-03",
            "Mar 2024",
            "Q3 2024",
            "Total",
            "n/a",
            "12%",
            "(1,234)",
            "1.234,5",
            "KPI",
            "Jan",
            "2024-W05",
            "FY2024",
            "—",
            '"quoted, comma"',
            "€5",
        ]
    ),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
tables = st.lists(st.lists(cells, min_size=1, max_size=6), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tables,
    st.sampled_from([",", ";", "\t", "|"]),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
def test_random_tables_as_text_files(rows: list[list[str]], delimiter: str, encoding: str) -> None:
    text = "\n".join(delimiter.join(row) for row in rows) + "\n"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        path.write_bytes(text.encode(encoding, errors="replace"))
        survive(path)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from([".csv", ".txt", ".xlsx", ".xls", ".ods"]))
def test_random_bytes(data: bytes, extension: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{extension}"
        path.write_bytes(data)
        survive(path)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), min_size=1, max_size=8
    ),
    st.sampled_from(["long_basic.xlsx", "libreoffice.ods", "legacy.xls"]),
    st.booleans(),
)
def test_damaged_workbooks(flips: list[tuple[int, int]], name: str, truncate: bool) -> None:
    data = bytearray((GOLDEN / name).read_bytes())
    for position, value in flips:
        data[position % len(data)] = value
    if truncate:
        data = data[: len(data) * 3 // 4]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(bytes(data))
        survive(path)

"""The sandboxed reader: same result as in-process, cancellable, time-limited, leaves nothing behind."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from kpidesk.errors import CancelledError
from kpidesk.io import FileProblem, Limits, read_workbook
from kpidesk.io.sandbox import SandboxChild

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"


class CancelAfter:
    """Progress that reports into a list and says 'cancel' after ``polls`` questions."""

    def __init__(self, polls: int) -> None:
        self.polls = polls
        self.asked = 0
        self.reports: list[tuple[float, str]] = []

    def report(self, fraction: float, text: str = "") -> None:
        self.reports.append((fraction, text))

    def cancelled(self) -> bool:
        self.asked += 1
        return self.asked > self.polls


def _same_grid(a, b) -> None:
    assert (a.name, a.n_rows, a.n_cols, a.merged, a.decimal) == (
        b.name,
        b.n_rows,
        b.n_cols,
        b.merged,
        b.decimal,
    )
    assert a.percent_cells == b.percent_cells
    for col_a, col_b in zip(a.columns, b.columns, strict=True):
        np.testing.assert_array_equal(col_a.numbers, col_b.numbers)
        np.testing.assert_array_equal(col_a.codes, col_b.codes)
        np.testing.assert_array_equal(col_a.dates, col_b.dates)
        assert col_a.texts == col_b.texts and col_a.others == col_b.others


@pytest.mark.parametrize(
    "name",
    [
        "long_basic.xlsx",
        "libreoffice.ods",
        "legacy.xls",
        "macro_enabled.xlsm",
        "semicolon_decimal_comma.csv",
        "utf16le_tab.txt",
        "cp1252.csv",
        "wide.tsv",
    ],
)
def test_sandbox_and_in_process_read_the_same(name: str) -> None:
    sandboxed = read_workbook(GOLDEN / name, sandbox=True)
    direct = read_workbook(GOLDEN / name, sandbox=False)
    assert (sandboxed.format, sandboxed.sheet_names, sandboxed.warnings) == (
        direct.format,
        direct.sheet_names,
        direct.warnings,
    )
    for a, b in zip(sandboxed.sheets, direct.sheets, strict=True):
        _same_grid(a, b)


def test_columns_are_numpy_arrays_not_cell_objects() -> None:
    grid = read_workbook(GOLDEN / "shared_strings.xlsx").sheets[0]
    dates, metrics, values = grid.columns
    assert values.numbers.dtype == np.float64 and values.numbers[1:].tolist() == [
        40,
        42,
        39,
        4.5,
        4.25,
        4.375,
    ]
    assert metrics.codes.dtype == np.int32 and metrics.texts == ["Metric", "Tickets", "CSAT"]
    assert metrics.codes.tolist() == [0, 1, 1, 1, 2, 2, 2]
    assert dates.dates.dtype == np.dtype("datetime64[s]")
    assert str(dates.dates[1]) == "2024-01-01T00:00:00"


def test_cancel_kills_the_child_and_raises() -> None:
    progress = CancelAfter(polls=1)  # the first question comes before the child starts
    before = set(os.listdir(tempfile.gettempdir()))
    started = time.monotonic()
    with pytest.raises(CancelledError, match="cancelled while reading"):
        read_workbook(GOLDEN / "long_basic.xlsx", progress=progress)
    assert time.monotonic() - started < 30  # generous: this is about not hanging, not speed
    leftovers = {n for n in set(os.listdir(tempfile.gettempdir())) - before if n.startswith("kpidesk-read-")}
    assert leftovers == set()  # the child was killed and its folder removed


def test_cancel_before_start_reads_nothing() -> None:
    with pytest.raises(CancelledError):
        read_workbook(GOLDEN / "long_basic.xlsx", progress=CancelAfter(polls=-1))


def test_progress_reaches_one_on_success() -> None:
    progress = CancelAfter(polls=10**9)
    read_workbook(GOLDEN / "long_basic.xlsx", progress=progress)
    assert progress.reports[-1] == (1.0, "Read long_basic.xlsx")


def test_time_limit_stops_the_child() -> None:
    with pytest.raises(FileProblem, match=r"took longer than 0\.01 seconds") as caught:
        read_workbook(GOLDEN / "long_basic.xlsx", limits=Limits(timeout_s=0.01))
    assert caught.value.kind == "timeout"


def test_refused_file_kills_the_prestarted_child_and_cleans_up(tmp_path: Path) -> None:
    before = set(os.listdir(tempfile.gettempdir()))
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    with pytest.raises(FileProblem, match="empty"):
        read_workbook(empty)
    leftovers = {n for n in set(os.listdir(tempfile.gettempdir())) - before if n.startswith("kpidesk-read-")}
    assert leftovers == set()


def test_child_process_is_gone_after_run() -> None:
    from kpidesk.io.parse import ParseRequest

    child = SandboxChild()
    process = child._process  # the test inspects the real OS process
    request = ParseRequest(path=str(GOLDEN / "wide.tsv"), format="csv")
    workbook = child.run(request, Limits())
    assert workbook.sheets[0].n_rows == 3
    assert process.poll() is not None
    assert not os.path.exists(child._folder)


def test_auto_mode_sandboxes_workbooks_and_large_text_files_only() -> None:
    # A time limit no child can meet shows which files went to a child process.
    instant = Limits(timeout_s=0.01)
    with pytest.raises(FileProblem, match="took longer"):
        read_workbook(GOLDEN / "libreoffice.ods", limits=instant)
    small_text = read_workbook(GOLDEN / "pipe.txt", limits=instant)  # split in-process: no child
    assert small_text.sheets[0].n_rows == 3
    many_fields = Limits(timeout_s=0.01, inprocess_text_fields=3)  # pipe.txt has ~13 field ends
    with pytest.raises(FileProblem, match="took longer"):
        read_workbook(GOLDEN / "pipe.txt", limits=many_fields)

"""A child started ahead of the read (``prestart``) is used once, keeps every limit, and never lingers."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from kpidesk.errors import CancelledError
from kpidesk.io import FileProblem, Limits, read_workbook, sandbox
from kpidesk.services.import_service import ImportService

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"


@pytest.fixture(autouse=True)
def no_spare():  # type: ignore[no-untyped-def]
    sandbox._stop_spare()
    yield
    sandbox._stop_spare()


def _spare_process():  # type: ignore[no-untyped-def]
    assert sandbox._spare is not None
    return sandbox._spare._process  # the test inspects the real OS process


def test_the_prestarted_child_reads_the_file_and_is_used_only_once() -> None:
    sandbox.prestart()
    process = _spare_process()
    workbook = read_workbook(GOLDEN / "long_basic.xlsx", sandbox=True)
    assert sandbox._spare is None  # taken
    assert process.poll() is not None  # it did the read and exited
    assert workbook.sheets[0].n_rows == read_workbook(GOLDEN / "long_basic.xlsx", sandbox=False).sheets[0].n_rows
    child = sandbox.take_child()
    try:
        assert child._process.pid != process.pid  # the next read gets a fresh child
    finally:
        child.kill()


def test_a_spare_with_other_preloads_or_a_dead_spare_is_replaced() -> None:
    sandbox.prestart(("pandas",))
    pandas_child = _spare_process()
    child = sandbox.take_child(())
    try:
        assert child._process.pid != pandas_child.pid
        assert pandas_child.wait(timeout=10) is not None  # the unfit spare was stopped
    finally:
        child.kill()
    sandbox.prestart()
    dead = _spare_process()
    dead.kill()
    dead.wait()
    child = sandbox.take_child()
    try:
        assert child._process.pid != dead.pid and child.waiting()
    finally:
        child.kill()


def test_the_prestarted_child_still_has_the_memory_cap_and_the_time_limit() -> None:
    sandbox.prestart()
    # 20 MB of address space is too little for the parser itself: the cap set after the request
    # arrived is in force (the same read without a cap succeeds in the test above).
    with pytest.raises(FileProblem):
        read_workbook(GOLDEN / "long_basic.xlsx", sandbox=True, limits=Limits(memory_bytes=20_000_000))
    sandbox.prestart()
    with pytest.raises(FileProblem, match=r"took longer than 0\.01 seconds"):
        read_workbook(GOLDEN / "long_basic.xlsx", sandbox=True, limits=Limits(timeout_s=0.01))


def test_cancelling_a_read_on_the_prestarted_child_kills_it_and_leaves_no_folder(tmp_path: Path) -> None:
    import xlsxwriter

    big = tmp_path / "big.xlsx"  # big enough that the child is still parsing at the first poll
    book = xlsxwriter.Workbook(str(big), {"constant_memory": True})
    sheet = book.add_worksheet("Values")
    for r in range(60_000):
        sheet.write_row(r, 0, ["2024-01", f"KPI {r % 40}", r * 1.5])
    book.close()
    before = set(os.listdir(tempfile.gettempdir()))
    sandbox.prestart()
    process = _spare_process()

    class Cancel:
        def report(self, fraction: float, text: str = "") -> None:
            pass

        def cancelled(self) -> bool:
            # cancel once the child was taken and is at work on the file
            return sandbox._spare is None and process.poll() is None

    with pytest.raises(CancelledError):
        read_workbook(big, sandbox=True, progress=Cancel())
    assert process.poll() is not None
    leftovers = {n for n in set(os.listdir(tempfile.gettempdir())) - before if n.startswith("kpidesk-read-")}
    assert leftovers == set()


def test_prepare_reading_boots_a_child_for_workbooks_and_large_text_files_only(tmp_path: Path) -> None:
    ImportService.prepare_reading(GOLDEN / "long_basic.xlsx")
    assert sandbox._spare is not None and sandbox._spare.preload == ()
    sandbox._stop_spare()
    small = tmp_path / "small.csv"
    small.write_text("Period,KPI,Value\n2024-01,NPS,30\n", encoding="utf-8")
    ImportService.prepare_reading(small)
    assert sandbox._spare is None  # split in this process: no child needed
    ImportService.prepare_reading(tmp_path / "missing.xlsx")
    assert sandbox._spare is None

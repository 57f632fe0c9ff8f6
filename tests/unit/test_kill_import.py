"""Imports killed with SIGKILL at random moments leave whole batches or nothing.

Each import runs in a forked child (fast: the libraries are already loaded)
and reads its own csv of ROWS values for a KPI that the import itself
creates. The parent kills the child at a random moment: a third of the kills
fall anywhere from the start (reading, planning, writing), the rest at a
random point inside the write (the child tells the parent when it starts
writing; the delay is drawn up to 0.9 × the measured duration of an
uninterrupted import / write). Imports continue until 50 children have
really died by SIGKILL (one that finishes first is audited like the rest).

Afterwards ``PRAGMA integrity_check`` must say ok and every file must be
wholly present (its KPI, its batch with ``inserted == ROWS``, ROWS values
carrying the batch id) or wholly absent (no KPI, no batch, no values).

The negative control runs the same imports through a writer that commits row
by row; the same check must then find partial batches, which proves the
check can fail.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROWS = 3000
KILLS = 50
CONTROL_KILLS = 8

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")


def _write_csv(path: Path, index: int) -> None:
    import datetime as dt

    start = dt.date(2020, 1, 1)
    lines = ["Period,KPI,Value"]
    lines += [f"{(start + dt.timedelta(days=d)).isoformat()},Killed metric {index},{d * 1.5 + index}"
              for d in range(ROWS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class SlowDisk:
    """A progress sink that takes 5 ms per report, like a slow disk or a busy GUI thread.

    Why: with the write split into chunks of CHUNK rows (one transaction still), the
    write lasts long enough (~30 reports) that random kills land inside it, instead of
    racing a write that takes a few milliseconds.
    """

    def report(self, fraction: float, text: str = "") -> None:
        time.sleep(0.005)

    def cancelled(self) -> bool:
        return False


CHUNK = 100


def _proper_apply(service, plan) -> None:  # type: ignore[no-untyped-def]
    import kpidesk.services.import_service as module

    module.WRITE_CHUNK = CHUNK  # in the child only
    service.apply(plan, progress=SlowDisk())


def _row_by_row_apply(service, plan) -> None:  # type: ignore[no-untyped-def]
    """The broken writer of the negative control: every statement is its own transaction."""
    db = service._db
    con = sqlite3.connect(db.path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")  # as kpidesk opens its files
    new = plan.new_kpis[0]
    product_id = con.execute("SELECT id FROM product WHERE name = ?", (new.product,)).fetchone()[0]
    now = "2026-01-01 00:00:00"
    kpi_id = con.execute(
        "INSERT INTO kpi (product_id, key, name, definition, formula_text, category, stage, unit, direction,"
        " aggregation, frequency, convention, currency, aliases, archived, version, created_at, updated_at,"
        " updated_by) VALUES (?, ?, ?, '', '', 'customer', 'none', ?, 'up', 'sum', ?, '', '', '[]', 0, 1, ?, ?, '')"
        " RETURNING id", (product_id, new.key, new.name, new.unit, new.frequency, now, now)).fetchone()[0]
    batch_id = con.execute(
        "INSERT INTO import_batch (file_name, file_path, sha256, sheet, layout, mapping, inserted, updated,"
        " unchanged, rejected, status, created_at, created_by) VALUES (?, '', ?, '', 'long', '{}', ?, 0, 0, 0,"
        " 'applied', ?, '') RETURNING id", (plan.file_name, plan.sha256, plan.inserts, now)).fetchone()[0]
    slow = SlowDisk()
    for n, row in enumerate(plan.values.itertuples(index=False)):
        if n % CHUNK == 0:
            slow.report(n / len(plan.values))
        con.execute("INSERT INTO measurement (kpi_id, period_start, frequency, segment, value, note, source,"
                    " import_batch_id, version, created_at, updated_at, updated_by)"
                    " VALUES (?, ?, ?, '', ?, '', 'import', ?, 1, ?, ?, '')",
                    (kpi_id, row.period_start, row.frequency, row.value, batch_id, now, now))
    con.close()


def _child(db_path: Path, csv_path: Path, writer: Callable, signal_fd: int) -> None:
    """Runs in the forked child; never returns (os._exit), so pytest's state is never touched."""
    code = 1
    try:
        from kpidesk.services.import_service import ImportService
        from kpidesk.services.workspace import Workspace

        with Workspace.open(db_path) as ws:
            service = ImportService(ws.db, ws.catalog)
            plan = service.plan(csv_path, product="Kill", sandbox=False)
            os.write(signal_fd, b"w")  # about to write
            writer(service, plan)
        code = 0
    finally:
        os._exit(code)


def _run_once(db_path: Path, csv_path: Path, writer: Callable, delay: float, from_start: bool) -> bool:
    """Import in a child and SIGKILL it after ``delay`` s (counted from the start or from the write).

    Returns True when the child was killed, False when it finished first.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(read_fd)
        _child(db_path, csv_path, writer, write_fd)
    os.close(write_fd)
    try:
        if not from_start:
            ready, _, _ = select.select([read_fd], [], [], 60)
            assert ready, "the import child never started writing"
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(read_fd)
    return os.WIFSIGNALED(status)


def _time_import(db_path: Path, csv_path: Path, writer: Callable) -> tuple[float, float]:
    """(whole import, write only) durations of one uninterrupted import in a child, like the killed ones."""
    read_fd, write_fd = os.pipe()
    began = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(read_fd)
        _child(db_path, csv_path, writer, write_fd)
    os.close(write_fd)
    select.select([read_fd], [], [], 60)
    writing = time.monotonic()
    _, status = os.waitpid(pid, 0)
    os.close(read_fd)
    assert os.WEXITSTATUS(status) == 0
    ended = time.monotonic()
    return ended - began, ended - writing


def _audit(db_path: Path, n_files: int) -> dict[str, list[int]]:
    """Classify each file's import as present / absent / partial; integrity must be ok."""
    con = sqlite3.connect(db_path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        outcome: dict[str, list[int]] = {"present": [], "absent": [], "partial": []}
        for i in range(n_files):
            kpi = con.execute("SELECT id FROM kpi WHERE name = ?", (f"Killed metric {i}",)).fetchone()
            batch = con.execute("SELECT id, inserted FROM import_batch WHERE file_name = ?",
                                (f"file{i}.csv",)).fetchone()
            values = 0 if kpi is None else con.execute(
                "SELECT count(*) FROM measurement WHERE kpi_id = ?", (kpi[0],)).fetchone()[0]
            tagged = 0 if batch is None else con.execute(
                "SELECT count(*) FROM measurement WHERE import_batch_id = ?", (batch[0],)).fetchone()[0]
            if kpi is None and batch is None:
                outcome["absent"].append(i)
            elif kpi is not None and batch is not None and batch[1] == ROWS and values == ROWS == tagged:
                outcome["present"].append(i)
            else:
                outcome["partial"].append(i)
        return outcome
    finally:
        con.close()


def _campaign(tmp_path: Path, writer: Callable, kills: int) -> dict[str, list[int]]:
    """Import file after file, each killed at a random moment, until ``kills`` children died by SIGKILL.

    An import that finishes before its kill lands counts as a whole batch (and is
    audited like the others); attempts stop at 3 × ``kills``.
    """
    from kpidesk.services.workspace import Workspace

    db_path = tmp_path / "killed.db"
    with Workspace.open(db_path) as ws:
        ws.products.create("Kill")
    timings = []
    for k in range(2):  # two different files: a re-import would write nothing
        calibration = tmp_path / f"calibration{k}.csv"
        _write_csv(calibration, 10_000 + k)
        timings.append(_time_import(db_path, calibration, writer))
    whole, write = min(timings)
    rng = random.Random(20261125)
    killed = attempts = 0
    while killed < kills and attempts < 3 * kills:
        path = tmp_path / f"file{attempts}.csv"
        _write_csv(path, attempts)
        from_start = attempts % 3 == 0  # anywhere in the import, else inside the write
        delay = rng.uniform(0, 0.9 * whole) if from_start else rng.uniform(0, 0.9 * write)
        killed += _run_once(db_path, path, writer, delay, from_start)
        attempts += 1
    outcome = _audit(db_path, attempts)
    outcome["killed"] = [killed]
    return outcome


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_every_batch_whole_or_absent(tmp_path: Path) -> None:
    outcome = _campaign(tmp_path, _proper_apply, KILLS)
    assert outcome["killed"] == [KILLS]  # that many imports really died by SIGKILL
    assert outcome["partial"] == [], f"partial batches: {outcome['partial']}"
    assert outcome["absent"], outcome  # the kills did interrupt imports


@pytest.mark.slow
def test_negative_control_row_by_row_commits_do_leave_partial_batches(tmp_path: Path) -> None:
    outcome = _campaign(tmp_path, _row_by_row_apply, CONTROL_KILLS)
    assert outcome["partial"], f"no partial batch found: {outcome}"

"""``read_workbook``: pre-flight, then parse (sandboxed by default) → Workbook."""

from __future__ import annotations

import os
from collections.abc import Iterable

from kpidesk.io.grid import Workbook
from kpidesk.io.parse import ParseRequest, parse_file
from kpidesk.io.preflight import Limits, preflight
from kpidesk.progress import Progress, check_cancelled


def read_workbook(
    path: str | os.PathLike[str],
    *,
    sheets: Iterable[str] | None = None,
    limits: Limits | None = None,
    progress: Progress | None = None,
    sandbox: bool = True,
    detail: bool = True,
    delimiter: str | None = None,
    decimal: str | None = None,
) -> Workbook:
    """Read a spreadsheet or delimited text file into a :class:`Workbook`.

    ``sheets`` limits which sheets are read (default all); ``sandbox=False``
    parses in this process (only for files kpidesk wrote itself); ``detail``
    enables the openpyxl pass (formula cells without a saved value, percent
    formats); ``delimiter``/``decimal`` override the CSV sniffing. Raises
    ``FileProblem`` (a ``KpideskError``) naming the file and the problem, or
    ``CancelledError`` when ``progress.cancelled()`` turns true.
    """
    limits = limits or Limits()
    check_cancelled(progress)
    child = None
    if sandbox:
        from kpidesk.io.sandbox import SandboxChild

        child = SandboxChild()  # boots while the pre-flight runs
    try:
        verdict = preflight(path, limits)
    except BaseException:
        if child is not None:
            child.kill()
        raise
    extra = {k: v for k, v in (("delimiter", delimiter), ("decimal", decimal)) if v}
    request = ParseRequest(
        path=verdict.path,
        format=verdict.format,
        sheets=tuple(sheets) if sheets is not None else None,
        detail=detail,
        max_field_chars=limits.max_field_chars,
        max_cells=limits.max_cells,
        extra=extra,
    )
    if child is not None:
        workbook = child.run(request, limits, progress)
    else:
        workbook = parse_file(request)
    workbook.warnings[:0] = verdict.warnings
    if progress is not None:
        progress.report(1.0, f"Read {os.path.basename(verdict.path)}")
    return workbook

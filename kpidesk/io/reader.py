"""``read_workbook``: pre-flight, then parse (sandboxed by default) → Workbook."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from kpidesk.io.errors import FileProblem
from kpidesk.io.grid import Workbook
from kpidesk.io.parse import ParseRequest, parse_file
from kpidesk.io.preflight import TEXT_EXTENSIONS, Limits, preflight
from kpidesk.progress import Progress, check_cancelled

if TYPE_CHECKING:
    from kpidesk.io.sandbox import SandboxChild


def read_workbook(
    path: str | os.PathLike[str],
    *,
    sheets: Iterable[str] | None = None,
    limits: Limits | None = None,
    progress: Progress | None = None,
    sandbox: bool | str = "auto",
    detail: bool = True,
    delimiter: str | None = None,
    decimal: str | None = None,
) -> Workbook:
    """Read a spreadsheet or delimited text file into a :class:`Workbook`.

    ``sheets`` limits which sheets are read (default all). ``sandbox``:
    ``True`` parses every file in a child process; ``False`` parses in this
    process (only for files kpidesk wrote itself); ``"auto"`` (default)
    sandboxes every workbook and large text files, and splits small text files
    (≤ ``Limits.inprocess_text_bytes`` and ≤ ``Limits.inprocess_text_fields``
    estimated fields) in this process after the pre-flight: a CSV parser has no
    expansion (no zip, no XML entities), the pre-flight already refused binary
    data and over-long lines, and the field bound caps its memory at a few
    hundred MB, so the child's ~0.3 s start-up (with pandas) buys nothing
    there. ``detail`` enables the cell-level pass of xlsx/xlsm files (formula
    cells without a saved value, percent formats: openpyxl on files up to
    256 KB, the pre-flight's byte scan above). ``delimiter``/``decimal``
    override the CSV sniffing. Raises
    ``FileProblem`` (a ``KpideskError``) naming the file and the problem, or
    ``CancelledError`` when ``progress.cancelled()`` turns true.
    """
    limits = limits or Limits()
    check_cancelled(progress)
    child = None
    is_text = os.path.splitext(os.fspath(path))[1].lower() in TEXT_EXTENSIONS
    if sandbox is True or (sandbox == "auto" and not is_text):
        from kpidesk.io.sandbox import take_child

        # The child boots while the pre-flight runs (or was started earlier by prestart); text
        # files get pandas preloaded for their parser.
        child = take_child(("pandas",) if is_text else ())
    is_xlsx = os.path.splitext(os.fspath(path))[1].lower() in {".xlsx", ".xlsm"}
    try:
        # For xlsx the costly part of the pre-flight (streaming every sheet) runs beside the
        # sandboxed parse instead of before it; the child's memory cap covers the overlap.
        verdict = preflight(path, limits, deep=not (is_xlsx and child is not None))
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
        detail_hits=verdict.detail,
    )
    in_process = sandbox is False or (
        sandbox == "auto"
        and verdict.format == "csv"
        and 0 < verdict.text_fields <= limits.inprocess_text_fields
        and verdict.size <= limits.inprocess_text_bytes
    )
    if in_process:
        if child is not None:
            child.kill()
        workbook = parse_file(request)
    else:
        if child is None:
            from kpidesk.io.sandbox import take_child

            child = take_child(("pandas",) if verdict.format == "csv" else ())
        if verdict.format in {"xlsx", "xlsm"} and is_xlsx:
            workbook = _parse_beside_deep_scan(child, request, limits, progress, detail)
        else:
            workbook = child.run(request, limits, progress)
    workbook.warnings[:0] = verdict.warnings
    if progress is not None:
        progress.report(1.0, f"Read {os.path.basename(verdict.path)}")
    return workbook


def _parse_beside_deep_scan(
    child: SandboxChild, request: ParseRequest, limits: Limits, progress: Progress | None, detail: bool
) -> Workbook:
    """Run ``deep_scan`` in a thread while the child parses; its refusal wins over any parse result.

    The thread mostly decompresses (zlib releases the GIL) while this thread
    sleeps in the child's poll loop, so the two overlap on separate cores.
    """
    import threading

    from kpidesk.io.parse import apply_detail_hits
    from kpidesk.io.preflight import deep_scan

    outcome: dict[str, object] = {}

    def scan() -> None:
        try:
            outcome["detail"] = deep_scan(request.path, limits)
        except FileProblem as problem:
            outcome["problem"] = problem
        except Exception as exc:
            outcome["error"] = exc
        # Then, still while the child parses, load what every caller needs next (their regexes
        # compile at import, ~30 ms that would otherwise follow the parse).
        import kpidesk.io.layout
        import kpidesk.io.plan
        import kpidesk.io.records  # noqa: F401

    thread = threading.Thread(target=scan, name="kpidesk-deep-scan", daemon=True)
    thread.start()
    # The child cannot apply the scan's detail (it is not known yet): ask it for none of it
    # on large files, then apply the findings here.
    from dataclasses import replace

    from kpidesk.io import preflight as preflight_module

    # Small files: openpyxl in the child; large ones: this process applies the scan's findings.
    small = os.path.getsize(request.path) <= preflight_module.DETAIL_OPENPYXL_MAX_BYTES
    mode = "openpyxl" if small else "parent"
    try:
        workbook = child.run(replace(request, extra={**request.extra, "detail": mode}), limits, progress)
    except FileProblem:
        thread.join()
        if isinstance(outcome.get("problem"), FileProblem):
            raise outcome["problem"] from None  # the pre-flight's reason is the clearer one
        raise
    thread.join()
    if isinstance(outcome.get("problem"), FileProblem):
        raise outcome["problem"]
    hits = outcome.get("detail")
    if detail and not small and isinstance(hits, dict):
        apply_detail_hits(workbook, hits)
    return workbook

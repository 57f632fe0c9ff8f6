"""Helpers shared by command modules: opening the workspace, printing tables.

A command module exposes ``register(subparsers)`` and sets
``handler=fn`` on each parser; ``fn(args) -> int`` is the exit code. Raise
``KpideskError`` for anything the user can fix: ``main`` prints it as one
line on stderr and exits non-zero.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from kpidesk.paths import resolve_db_target


@contextmanager
def open_workspace(args: Any, *, read_only: bool = False) -> Iterator[Any]:
    """The workspace named by ``--db`` / ``KPIDESK_DB`` / the default file."""
    from kpidesk.services.workspace import Workspace

    target = resolve_db_target(getattr(args, "db", None))
    workspace = Workspace.open(target, read_only=read_only or getattr(args, "read_only", False))
    try:
        yield workspace
    finally:
        workspace.close()


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    as_csv: bool = False,
    out: TextIO | None = None,
    align_right: Sequence[int] = (),
) -> None:
    """A plain aligned table for people, or CSV for machines."""
    out = out or sys.stdout
    if as_csv:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(rows)
        return
    cells = [[str(c) for c in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        parts = [c.rjust(widths[i]) if i in align_right else c.ljust(widths[i]) for i, c in enumerate(row)]
        out.write("  ".join(parts).rstrip() + "\n")
        if n == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")


def command_group(sub: Any, name: str, help_text: str) -> Any:
    """The sub-command group ``name`` (e.g. ``db``), shared by several command modules:
    created by whichever registers first, then extended by the others."""
    parser = sub.choices.get(name)
    if parser is None:
        parser = sub.add_parser(name, help=help_text)
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            return action
    return parser.add_subparsers(dest="action", metavar="ACTION", required=True)

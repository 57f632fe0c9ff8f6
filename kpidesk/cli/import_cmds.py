"""Import, import history/rollback and export commands.

``kpidesk import FILE`` always shows the plan first (what would be inserted,
changed, left alone and rejected, and how each label was mapped); it writes
only with ``--yes`` or after the user answers "y" on a terminal.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from kpidesk.cli.common import open_workspace, print_table
from kpidesk.errors import ValidationError

SHOW_ROWS = 20


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import KPI values from a spreadsheet (.xlsx .xlsm .xls .ods .csv)",
                       description="Shows what would change, then writes it in one transaction "
                                   "(undo with 'kpidesk imports rollback ID').")
    p.add_argument("file")
    p.add_argument("--sheet", action="append", help="sheet to read (repeat for several; default: every sheet)")
    p.add_argument("--product", help="product the values belong to (created if new)")
    p.add_argument("--layout", choices=["long", "wide", "rows"], help="override the detected layout")
    p.add_argument("--year", type=int, help="year of period headers that have none (\"Jan\", \"Q3\")")
    p.add_argument("--map", action="append", default=[], metavar="LABEL=KEY",
                   help="send a label's values to the KPI with this key (repeatable)")
    p.add_argument("--ignore", action="append", default=[], metavar="LABEL", help="skip a label (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="only show the plan; write nothing")
    p.add_argument("--yes", action="store_true", help="write without asking")
    p.add_argument("--all", action="store_true", help="list every planned row and rejection, not the first 20")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("imports", help="past imports: list, roll back")
    isub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = isub.add_parser("list", help="every import, newest first")
    a.add_argument("--csv", action="store_true")
    a.set_defaults(handler=cmd_imports_list)
    a = isub.add_parser("rollback", help="undo an import exactly (restores the values it replaced)")
    a.add_argument("id", type=int)
    a.set_defaults(handler=cmd_imports_rollback)

    p = sub.add_parser("export", help="export KPI values to .xlsx or .csv")
    p.add_argument("out", help="OUT.xlsx or OUT.csv")
    p.add_argument("--product", action="append", default=[], help="only this product (repeatable)")
    p.add_argument("--kpi", action="append", default=[], help="only this KPI: key, name or Product/key (repeatable)")
    p.add_argument("--from", dest="start", help="first period (YYYY-MM-DD or YYYY-MM)")
    p.add_argument("--to", dest="end", help="last period (YYYY-MM-DD or YYYY-MM)")
    p.add_argument("--segment", action="append", help="only this segment ('' = total; repeatable)")
    p.add_argument("--sheet-per-product", action="store_true", help="xlsx: one sheet per product")
    p.add_argument("--all", dest="everything", action="store_true",
                   help="everything in the workspace (products, KPIs, values, targets, goals, reviews, ...) "
                        "as readable sheets; 'kpidesk import-all' reads it back")
    p.set_defaults(handler=cmd_export)


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.15g}"


def _decisions_from_args(args: Any, plan: Any) -> dict[str, Any]:
    from dataclasses import replace

    from kpidesk.io.mapping import EXISTING, IGNORE

    changes: dict[str, Any] = {}
    for item in args.map:
        label, sep, key = item.rpartition("=")
        if not sep or not label or not key:
            raise ValidationError(f"--map takes LABEL=KEY, not {item!r}.")
        if label not in plan.decisions:
            raise ValidationError(f"--map: the file has no label {label!r}; labels: {', '.join(plan.decisions)}.")
        changes[label] = replace(plan.decisions[label], action=EXISTING, kpi_key=key.strip(), matched_by="user")
    for label in args.ignore:
        if label not in plan.decisions:
            raise ValidationError(f"--ignore: the file has no label {label!r}; labels: {', '.join(plan.decisions)}.")
        changes[label] = replace(plan.decisions[label], action=IGNORE, matched_by="user")
    return changes


def print_plan(plan: Any, *, show_all: bool = False, out: Any = None) -> None:
    out = out or sys.stdout
    limit = None if show_all else SHOW_ROWS
    for warning in plan.warnings:
        print(f"warning: {warning}", file=out)
    print(f"Layout: {plan.layout}; sheets: {', '.join(plan.sheets)}; product: {plan.default_product or '(from file)'}",
          file=out)
    rows = []
    for d in plan.decisions.values():
        action = {"existing": f"→ {d.kpi_key}", "catalog": f"new KPI from catalog {d.catalog_key}",
                  "custom": f"new KPI {d.kpi_key} ({d.unit})", "ignore": "ignored"}[d.action]
        rows.append((d.label, action, d.matched_by, d.note))
    print_table(["label", "goes to", "matched by", "note"], rows, out=out)
    changed = plan.rows("update", limit)
    if changed:
        print(f"\nChanged values ({plan.updates:,}):", file=out)
        print_table(["cell", "KPI", "period", "segment", "old", "new"],
                    [(f"{r.sheet}!{r.cell}", r.kpi_key, r.period_start, r.segment, _number(r.old_value),
                      _number(r.value)) for r in changed], out=out, align_right=(4, 5))
    inserted = plan.rows("insert", limit if show_all else 5)
    if inserted:
        print(f"\nNew values ({plan.inserts:,}), first ones:", file=out)
        print_table(["cell", "KPI", "period", "segment", "value"],
                    [(f"{r.sheet}!{r.cell}", r.kpi_key, r.period_start, r.segment, _number(r.value))
                     for r in inserted], out=out, align_right=(4,))
    if plan.rejected:
        print(f"\nRejected cells ({len(plan.rejected):,}):", file=out)
        for rejection in plan.rejected[:limit]:
            print(f"  {rejection.sentence()}", file=out)
        if limit is not None and len(plan.rejected) > limit:
            print(f"  … and {len(plan.rejected) - limit:,} more (--all lists them).", file=out)
    print(f"\n{plan.summary()}", file=out)


def cmd_import(args: Any) -> int:
    from kpidesk.services.import_service import ImportService

    read_only = args.dry_run and _exists(args)
    ImportService.prepare_reading(args.file)  # the reader's child boots while the workspace opens
    with open_workspace(args, read_only=read_only) as ws:
        service = ImportService(ws.db, ws.catalog)
        plan = service.plan(args.file, product=args.product, sheets=args.sheet, layout=args.layout,
                            year=args.year)
        edits = _decisions_from_args(args, plan)
        if edits:
            plan = service.replan(plan, edits)
        print_plan(plan, show_all=args.all)
        if args.dry_run:
            print("Dry run: nothing was written.")
            return 0
        if not plan.changes_anything:
            return 0
        if not args.yes:
            if not sys.stdin.isatty():
                raise ValidationError("Nothing was written: add --yes to import without asking, "
                                      "or --dry-run to only look.")
            answer = input("Write these changes? [y/N] ").strip().casefold()
            if answer not in ("y", "yes"):
                print("Nothing was written.")
                return 0
        result = service.apply(plan)
        print(result.message)
        print(f"Undo with: kpidesk imports rollback {result.batch_id}")
    return 0


def _exists(args: Any) -> bool:
    """A dry run opens the workspace read-only when it exists (so it never waits for the app's lock)."""
    from pathlib import Path

    from kpidesk.paths import resolve_db_target

    target = resolve_db_target(getattr(args, "db", None))
    return "://" in target or Path(target).exists()


def cmd_imports_list(args: Any) -> int:
    from kpidesk.services.import_service import ImportService

    with open_workspace(args, read_only=True) as ws:
        batches = ImportService(ws.db, ws.catalog).batches()
        rows = [(b.id, str(b.created_at)[:16], b.file_name, b.sheet, b.product, b.inserted, b.updated,
                 b.unchanged, b.rejected, b.status) for b in batches]
        if not rows and not args.csv:
            print("No imports yet.")
            return 0
        print_table(["id", "when", "file", "sheets", "product", "new", "changed", "same", "rejected", "status"],
                    rows, as_csv=args.csv, align_right=(5, 6, 7, 8))
    return 0


def cmd_imports_rollback(args: Any) -> int:
    from kpidesk.services.import_service import ImportService

    with open_workspace(args) as ws:
        result = ImportService(ws.db, ws.catalog).rollback(args.id)
        print(result.message)
    return 0


def cmd_export(args: Any) -> int:
    if args.everything:
        from kpidesk.cli.safety_cmds import cmd_export_all

        return cmd_export_all(args)
    from kpidesk.domain.periods import parse_date
    from kpidesk.services.export_service import ExportSelection, ExportService

    try:
        start = parse_date(args.start) if args.start else None
        end = parse_date(args.end) if args.end else None
    except ValueError as exc:
        raise ValidationError(f"Dates are written YYYY-MM-DD or YYYY-MM ({exc}).") from None
    selection = ExportSelection(products=args.product, kpis=args.kpi, start=start, end=end,
                                segments=args.segment)
    with open_workspace(args, read_only=True) as ws:
        result = ExportService(ws.db, ws.kpis).export(args.out, selection, sheet_per_product=args.sheet_per_product)
        print(result.message)
    return 0

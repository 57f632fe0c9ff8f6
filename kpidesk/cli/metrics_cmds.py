"""Data-source commands: ``source add|list|remove`` and ``refresh`` (for schedulers).

``kpidesk refresh`` prints nothing when everything went well and exits 0; any
failure is one line per source on stderr and a non-zero exit, so cron or a
task scheduler can mail it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from kpidesk.cli.common import open_workspace, print_table
from kpidesk.domain.recipes import RECIPE_COLUMNS, RECIPE_NAMES
from kpidesk.errors import KpideskError, ValidationError


def register(sub: argparse._SubParsersAction) -> None:
    columns = "; ".join(
        f"{name}: {', '.join(req)}" + (f" [{', '.join(opt)}]" if opt else "")
        for name, (req, opt) in RECIPE_COLUMNS.items()
    )
    p = sub.add_parser("source", help="raw exports turned into KPI values by a recipe")
    ssub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = ssub.add_parser(
        "add",
        help="add a data source and compute its KPIs once",
        description=f"Recipe columns (optional in brackets): {columns}.",
    )
    a.add_argument("file")
    a.add_argument("--recipe", required=True, choices=RECIPE_NAMES)
    a.add_argument("--product", required=True)
    a.add_argument("--sheet", default="", help="sheet of a workbook (default: the first)")
    a.add_argument("--name", default="", help="a name for the source (default: the file name)")
    a.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=HEADER",
        help='which header of the file holds a recipe column, e.g. --map user="Member ID"',
    )
    a.add_argument(
        "--convention",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a recipe convention, e.g. --convention mau=calendar_month --convention key_event=purchase "
        "(lists: --convention funnel_steps=visit,signup,pay)",
    )
    a.set_defaults(handler=cmd_source_add)
    a = ssub.add_parser("list", help="list data sources with their last refresh")
    a.add_argument("--product")
    a.add_argument("--csv", action="store_true")
    a.set_defaults(handler=cmd_source_list)
    a = ssub.add_parser("remove", help="forget a data source (the values it wrote stay)")
    a.add_argument("source_id", type=int)
    a.set_defaults(handler=cmd_source_remove)

    p = sub.add_parser("refresh", help="re-run data sources whose file changed (quiet on success)")
    p.add_argument("source_ids", nargs="*", type=int, metavar="ID", help="data sources to refresh")
    p.add_argument("--all", action="store_true", help="every data source")
    p.add_argument("--force", action="store_true", help="re-run even when the file has not changed")
    p.add_argument("-v", "--verbose", action="store_true", help="say what was refreshed")
    p.set_defaults(handler=cmd_refresh)


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"{what} {item!r} must look like NAME=VALUE.")
        out[key.strip()] = value.strip()
    return out


def _convention_value(key: str, value: str) -> Any:
    """Lists for the keys that take several values; numbers stay text (recipes convert)."""
    if key in ("funnel_steps", "active_events"):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def cmd_source_add(args: argparse.Namespace) -> int:
    from kpidesk.services.source_service import SourceService

    mapping = _pairs(args.map, "--map")
    conventions = {k: _convention_value(k, v) for k, v in _pairs(args.convention, "--convention").items()}
    with open_workspace(args) as ws:
        service = SourceService(ws.db, ws.catalog)
        source, changes = service.add(
            args.product,
            args.file,
            args.recipe,
            sheet=args.sheet,
            mapping=mapping,
            conventions=conventions,
            name=args.name,
        )
    values = changes.counts.get("measurements", 0)
    print(
        f"Added data source {source.id} ({source.name}, recipe {source.recipe}): {values} values "
        f"for {len(changes.kpi_ids)} KPIs."
    )
    return 0


def cmd_source_list(args: argparse.Namespace) -> int:
    from kpidesk.services.source_service import SourceService

    with open_workspace(args, read_only=True) as ws:
        sources = SourceService(ws.db, ws.catalog).list(args.product)
    rows = [
        (
            s.id,
            s.name,
            s.recipe,
            s.path,
            s.last_refresh.strftime("%Y-%m-%d %H:%M") if s.last_refresh else "never",
            s.last_error or "ok",
            json.dumps(s.conventions, sort_keys=True) if s.conventions else "",
        )
        for s in sources
    ]
    print_table(["id", "name", "recipe", "file", "refreshed", "status", "conventions"], rows, as_csv=args.csv)
    return 0


def cmd_source_remove(args: argparse.Namespace) -> int:
    from kpidesk.services.source_service import SourceService

    with open_workspace(args) as ws:
        SourceService(ws.db, ws.catalog).remove(args.source_id)
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    from kpidesk.services.source_service import SourceService

    if not args.all and not args.source_ids:
        raise ValidationError("Say which data sources to refresh (their ids) or use --all.")
    with open_workspace(args) as ws:
        service = SourceService(ws.db, ws.catalog)
        if args.all:
            outcomes, _ = service.refresh_all(force=args.force)
        else:
            outcomes = []
            failures: list[str] = []
            for source_id in args.source_ids:
                try:
                    outcomes.append(service.refresh(source_id, force=args.force)[0])
                except KpideskError as exc:  # the other sources still run; all failures reported
                    failures.append(exc.message)
            if failures:
                raise KpideskError(" ".join(failures))
    if args.verbose:
        for outcome in outcomes:
            print(outcome.message)
    return 0

"""Foundation commands: init, product, kpi, catalog, record, show, demo."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from kpidesk.cli.common import open_workspace, print_table
from kpidesk.domain.periods import parse_date, period_label
from kpidesk.domain.units import format_value
from kpidesk.errors import ValidationError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="create the workspace file (or check it opens)")
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("product", help="products of your portfolio")
    psub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = psub.add_parser("add", help="add a product")
    a.add_argument("name")
    a.add_argument("--description", default="")
    a.set_defaults(handler=cmd_product_add)
    a = psub.add_parser("list", help="list products")
    a.add_argument("--all", action="store_true", help="include archived products")
    a.set_defaults(handler=cmd_product_list)
    a = psub.add_parser("rename", help="rename a product")
    a.add_argument("product")
    a.add_argument("new_name")
    a.set_defaults(handler=cmd_product_rename)
    a = psub.add_parser("archive", help="archive a product (its data stays)")
    a.add_argument("product")
    a.add_argument("--undo", action="store_true", help="bring an archived product back")
    a.set_defaults(handler=cmd_product_archive)

    p = sub.add_parser("kpi", help="KPIs of a product")
    ksub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = ksub.add_parser("add", help="add a KPI from the catalog or a custom one")
    a.add_argument("name", nargs="?", help="name of a custom KPI")
    a.add_argument("--product", required=True)
    a.add_argument("--from-catalog", metavar="KEY", help="copy a catalog KPI (see 'kpidesk catalog list')")
    a.add_argument("--key")
    a.add_argument("--unit", default="count")
    a.add_argument("--direction", default="up")
    a.add_argument("--aggregation", default="sum")
    a.add_argument("--frequency")
    a.add_argument("--category", default="customer")
    a.add_argument("--stage", default="none")
    a.add_argument("--convention")
    a.set_defaults(handler=cmd_kpi_add)
    a = ksub.add_parser("list", help="list KPIs")
    a.add_argument("--product")
    a.add_argument("--csv", action="store_true")
    a.set_defaults(handler=cmd_kpi_list)

    p = sub.add_parser("catalog", help="the built-in KPI catalog")
    csub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = csub.add_parser("list", help="every KPI in the catalog")
    a.add_argument("--csv", action="store_true")
    a.set_defaults(handler=cmd_catalog_list)
    a = csub.add_parser("show", help="one catalog KPI in full")
    a.add_argument("key")
    a.set_defaults(handler=cmd_catalog_show)

    p = sub.add_parser("record", help="record one value of a KPI")
    p.add_argument("kpi", help="KPI key, name or Product/key")
    p.add_argument("date", help="a day in the period (YYYY-MM-DD, or YYYY-MM)")
    p.add_argument("value")
    p.add_argument("--product")
    p.add_argument("--segment", default="", help="e.g. region:EU (default: the total)")
    p.add_argument("--note", default="")
    p.set_defaults(handler=cmd_record)

    p = sub.add_parser("show", help="print a KPI's values")
    p.add_argument("kpi", help="KPI key, name or Product/key")
    p.add_argument("--product")
    p.add_argument("--from", dest="start", help="first date (YYYY-MM-DD)")
    p.add_argument("--to", dest="end", help="last date (YYYY-MM-DD)")
    p.add_argument("--segment", default="", help="a segment, or 'all' for every segment")
    p.add_argument("--csv", action="store_true", help="machine-readable CSV with raw values")
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("demo", help="create a realistic demo workspace")
    p.add_argument("--replace", action="store_true", help="add the demo even if the workspace has data")
    p.set_defaults(handler=cmd_demo)


def cmd_init(args: Any) -> int:
    with open_workspace(args) as ws:
        print(f"Workspace ready: {ws.db.path or ws.db.url} (schema {ws.db.schema_version()}).")
    return 0


def cmd_product_add(args: Any) -> int:
    with open_workspace(args) as ws:
        product, _ = ws.products.create(args.name, args.description)
        print(f"Added product {product.name} (#{product.id}).")
    return 0


def cmd_product_list(args: Any) -> int:
    with open_workspace(args, read_only=True) as ws:
        rows = [(p.id, p.name, len(ws.kpis.list(p.id, include_archived=True)), "archived" if p.archived else "")
                for p in ws.products.list(include_archived=args.all)]
        print_table(["id", "product", "KPIs", ""], rows)
    return 0


def cmd_product_rename(args: Any) -> int:
    with open_workspace(args) as ws:
        product, _ = ws.products.rename(args.product, args.new_name)
        print(f"Renamed to {product.name}.")
    return 0


def cmd_product_archive(args: Any) -> int:
    with open_workspace(args) as ws:
        product, _ = ws.products.archive(args.product, not args.undo)
        print(f"{product.name} is {'archived' if product.archived else 'active again'}.")
    return 0


def cmd_kpi_add(args: Any) -> int:
    with open_workspace(args) as ws:
        if args.from_catalog:
            kpi, _ = ws.kpis.add_from_catalog(args.product, args.from_catalog, key=args.key,
                                              name=args.name, convention=args.convention,
                                              frequency=args.frequency)
        else:
            if not args.name:
                raise ValidationError("Give the KPI a name, or use --from-catalog KEY.")
            kpi, _ = ws.kpis.add_custom(args.product, args.name, key=args.key, unit=args.unit,
                                        direction=args.direction, aggregation=args.aggregation,
                                        frequency=args.frequency or "month", category=args.category,
                                        stage=args.stage)
        print(f"Added {kpi.name} ({kpi.key}, {kpi.unit}, {kpi.frequency}).")
    return 0


def cmd_kpi_list(args: Any) -> int:
    with open_workspace(args, read_only=True) as ws:
        names = {p.id: p.name for p in ws.products.list(include_archived=True)}
        rows = [(names[k.product_id], k.key, k.name, k.unit, k.direction, k.frequency, k.category, k.stage)
                for k in ws.kpis.list(args.product)]
        print_table(["product", "key", "name", "unit", "dir", "freq", "category", "stage"], rows, as_csv=args.csv)
    return 0


def cmd_catalog_list(args: Any) -> int:
    from kpidesk.domain.catalog import load_catalog

    rows = [(e.key, e.name, e.category.value, e.stage.value, e.unit.value, e.direction.value,
             e.aggregation.value) for e in load_catalog()]
    print_table(["key", "KPI", "category", "stage", "unit", "dir", "aggregation"], rows, as_csv=args.csv)
    return 0


def cmd_catalog_show(args: Any) -> int:
    from kpidesk.domain.catalog import load_catalog

    e = load_catalog().get(args.key)
    lines = [
        f"{e.name} ({e.key})", "", e.definition, "", f"Formula:      {e.formula}",
        f"Category:     {e.category.value}", f"AARRR stage:  {e.stage.value}", f"Unit:         {e.unit.value}",
        f"Direction:    {e.direction.value}", f"Aggregation:  {e.aggregation.value}",
        f"Frequency:    {e.frequency.value}",
    ]
    if e.derived:
        lines.append(f"Derived from: {e.derived}")
    if e.conventions:
        lines.append(f"Conventions:  {'; '.join(e.conventions)} (default: {e.conventions[0]})")
    if e.aliases:
        lines.append(f"Also known as: {', '.join(e.aliases)}")
    print("\n".join(lines))
    return 0


def cmd_record(args: Any) -> int:
    with open_workspace(args) as ws:
        kpi = ws.kpis.resolve(args.kpi, args.product)
        row, _ = ws.measurements.record(kpi.id, args.date, args.value, segment=args.segment, note=args.note)
        print(f"{kpi.name} {period_label(row.period_start, kpi.frequency)}: "
              f"{format_value(row.value, kpi.unit, kpi.currency)}")
    return 0


def cmd_show(args: Any) -> int:
    try:
        start = parse_date(args.start) if args.start else None
        end = parse_date(args.end) if args.end else None
    except ValueError as exc:
        raise ValidationError(f"Dates are written YYYY-MM-DD ({exc}).") from None
    with open_workspace(args, read_only=True) as ws:
        kpi = ws.kpis.resolve(args.kpi, args.product)
        frame = ws.measurements.series(kpi.id, start=start, end=end,
                                       segment=None if args.segment == "all" else args.segment)
        if args.csv:
            rows = [(r.period_start.date().isoformat(), r.segment, _raw(r.value)) for r in frame.itertuples()]
            print_table(["period_start", "segment", "value"], rows, as_csv=True)
            return 0
        if frame.empty:
            if kpi.formula:
                # a formula KPI stores nothing: "no values" would read as if the formula were broken
                print(f"{kpi.name} is computed by its formula ({kpi.formula}), not stored; "
                      f"see its values with 'kpidesk trend {args.kpi}'.", file=sys.stderr)
                return 0
            print(f"{kpi.name} has no values in that range.", file=sys.stderr)
            return 0
        rows = [(period_label(r.period_start.date(), kpi.frequency), r.segment or "total",
                 format_value(r.value, kpi.unit, kpi.currency)) for r in frame.itertuples()]
        print(f"{kpi.name} ({kpi.unit}, {kpi.frequency}) — {len(frame)} values")
        print_table(["period", "segment", "value"], rows, align_right=(2,))
    return 0


def _raw(value: float) -> str:
    return "" if value is None or math.isnan(value) else repr(float(value))


def cmd_demo(args: Any) -> int:
    from kpidesk.services.demo import build_demo

    with open_workspace(args) as ws:
        summary = build_demo(ws, replace=args.replace)
        print(summary)
    return 0

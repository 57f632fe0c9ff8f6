"""Data-source commands: ``source add|list|remove`` and ``refresh`` (for schedulers).

``kpidesk refresh`` prints nothing when everything went well and exits 0; any
failure is one line per source on stderr and a non-zero exit, so cron or a
task scheduler can mail it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from kpidesk.cli.common import open_workspace, print_table
from kpidesk.domain.enums import Frequency
from kpidesk.domain.recipes import RECIPE_COLUMNS, RECIPE_CONVENTIONS, RECIPE_NAMES
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
        description=f"Recipe columns (optional in brackets): {columns}. Conventions: "
        + "; ".join(f"{name}: {text}" for name, text in RECIPE_CONVENTIONS.items())
        + ".",
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

    p = sub.add_parser("trend", help="a KPI rolled up, with changes, trend, anomalies and a forecast")
    p.add_argument("kpi", help="KPI key, name or Product/key")
    p.add_argument("--product")
    p.add_argument(
        "--period",
        choices=[*(f.value for f in Frequency), "fiscal_year"],
        help="roll up to (default: the KPI's own)",
    )
    p.add_argument(
        "--fiscal-year-start",
        type=int,
        default=1,
        metavar="MONTH",
        help="first month of the fiscal year (1-12) for --period fiscal_year",
    )
    p.add_argument("--forecast", type=int, default=0, metavar="N", help="forecast N periods ahead")
    p.add_argument("--as-of", help="today's date for partial periods (YYYY-MM-DD; default today)")
    p.set_defaults(handler=cmd_trend)

    p = sub.add_parser("formula", help="formula (derived) KPIs")
    fsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = fsub.add_parser(
        "set", help='check and save a KPI\'s formula, e.g. "(revenue - cogs) / revenue * 100"'
    )
    a.add_argument("kpi")
    a.add_argument("formula", help="the formula; an empty string removes it")
    a.add_argument("--product")
    a.set_defaults(handler=cmd_formula_set)

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


def _number(value: float, digits: int = 2) -> str:
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:,.{digits}f}"


def cmd_trend(args: argparse.Namespace) -> int:
    from kpidesk.domain.analytics import so_far_label
    from kpidesk.domain.periods import parse_date
    from kpidesk.services.metrics_service import MetricsService

    try:
        as_of = parse_date(args.as_of) if args.as_of else None
    except ValueError as exc:
        raise ValidationError(f"Dates are written YYYY-MM-DD ({exc}).") from None
    with open_workspace(args, read_only=True) as ws:
        kpi = ws.kpis.resolve(args.kpi, args.product)
        result = MetricsService(ws.db, ws.catalog).analyse(
            kpi.id, args.period, as_of=as_of, horizon=args.forecast, fiscal_year_start=args.fiscal_year_start
        )
    fiscal = result.frequency == "fiscal_year"
    frequency = "year" if fiscal else result.frequency
    today = as_of or dt.date.today()

    def label(stamp: Any) -> str:
        text = so_far_label(stamp, frequency, today)
        # a fiscal year is named by its first month, e.g. "FY from Apr 2024"
        return f"FY from {stamp:%b %Y}" + text[4:] if fiscal else text

    print(f"{kpi.name} by {frequency} ({kpi.aggregation}, {kpi.direction} is better)")
    rows = []
    for stamp, value in result.series.items():
        prev = result.vs_previous.loc[stamp]
        year = result.vs_last_year.loc[stamp]
        rows.append(
            (
                label(stamp),
                _number(value),
                _number(prev["abs_change"]),
                _number(prev["pct_change"], 1),
                prev["verdict"],
                _number(year["pct_change"], 1),
            )
        )
    print_table(
        ["period", "value", "change", "change %", "verdict", "vs last year %"], rows, align_right=(1, 2, 3, 5)
    )
    t = result.trend
    if t.n >= 3:
        print(
            f"\nTrend: {t.verdict}, {t.slope:+,.3g} per {frequency} "
            f"({t.confidence:.0%} interval {t.ci_low:+,.3g} to {t.ci_high:+,.3g}; {t.n} complete periods)"
        )
    else:
        print(f"\nTrend: {t.verdict}")
    if not result.anomalies.empty:
        print("Anomalies:")
        for row in result.anomalies.itertuples():
            print(
                f"  {label(row.period_start)}: {_number(row.value)} vs expected "
                f"{_number(row.expected)} (score {row.score:+.1f}, {row.method})"
            )
    if result.forecast is not None:
        f = result.forecast
        print(f"Forecast ({f.method}, {f.interval:.0%} interval):")
        for stamp, row in f.table.iterrows():
            print(
                f"  {label(stamp)}: {_number(row['mean'])} "
                f"[{_number(row['lower'])} – {_number(row['upper'])}]"
            )
    for note in result.notes:
        print(f"Note: {note}")
    return 0


def cmd_formula_set(args: argparse.Namespace) -> int:
    from kpidesk.services.metrics_service import MetricsService

    with open_workspace(args) as ws:
        kpi = ws.kpis.resolve(args.kpi, args.product)
        MetricsService(ws.db, ws.catalog).set_formula(kpi.id, args.formula)
    return 0

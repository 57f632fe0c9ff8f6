"""``kpidesk explain KPI --period 2026-Q3``: why a KPI moved, in words and exact numbers."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kpidesk.cli.common import open_workspace, print_table
from kpidesk.domain.explain import Explanation, RatioDecomposition
from kpidesk.domain.explain.table import HEADERS, explanation_rows
from kpidesk.domain.explain.wording import format_amount, format_share


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain", help="why a KPI moved: contributions by segment, rate and mix, formula inputs",
        description="Explain a KPI's change between a period and the previous one (or the same "
                    "period last year): each segment's contribution, the rate and mix effects of a "
                    "ratio KPI, each input's share of a formula KPI.")
    p.add_argument("kpi", help="KPI key, name or alias (Product/key if several products have it)")
    p.add_argument("--period", required=True, help="the period to explain: 2026-Q3, 2026-03, 2026-W05, 2026")
    p.add_argument("--compare", choices=["previous", "last-year"], default="previous",
                   help="compare with the previous period (default) or the same period last year")
    p.add_argument("--by", metavar="SEGMENT-KIND", help="only this segment kind (region, plan, channel, ...)")
    p.add_argument("--product", help="the product, when the KPI key is not unique")
    p.add_argument("--csv", action="store_true", help="every segment's exact numbers as CSV")
    p.add_argument("--no-anomalies", action="store_true", help="skip the anomaly check")
    p.set_defaults(handler=cmd_explain)


def cmd_explain(args: Any) -> int:
    from kpidesk.services.explain_service import ExplainService

    with open_workspace(args, read_only=True) as ws:
        explanation = ExplainService(ws.db).explain(
            args.kpi, args.period, compare=args.compare, by=args.by, product=args.product,
            anomalies=not args.no_anomalies)
    if args.csv:
        print_table(HEADERS, explanation_rows(explanation), as_csv=True)
    else:
        print_explanation(explanation)
    return 0


def print_explanation(e: Explanation, out: Any = None) -> None:
    """The headline, then per breakdown its drivers as a table and as sentences."""
    out = out or sys.stdout
    out.write(e.headline + "\n")
    for b in e.breakdowns:
        dec = b.decomposition
        title = "inputs" if b.method.value == "formula" else b.kind
        out.write(f"\nBy {title} ({b.method.value})\n")
        if isinstance(dec, RatioDecomposition):
            parts = ", ".join(f"{name} {format_amount(v, e.unit, signed=True, change=True)}"
                              for name, v in (("rate effect", dec.rate_effect),
                                              ("mix effect", dec.mix_effect),
                                              ("interaction", dec.interaction)))
            out.write(f"  {parts}\n")
        rows = [[d.label, d.kind.value, format_amount(d.contribution, e.unit, signed=True, change=True),
                 format_share(d.share)] for d in b.drivers]
        print_table(["driver", "kind", "contribution", "share"], rows, out=out, align_right=(2, 3))
        for d in b.drivers:
            out.write(f"  - {d.sentence}\n")
    if e.context:
        out.write("\nIn these periods\n")
        for note in e.context:
            out.write(f"  {note.day.isoformat()}  [{note.source}, {note.period}]  {note.text}\n")
    for note in e.notes:
        out.write(f"\nNote: {note}\n")

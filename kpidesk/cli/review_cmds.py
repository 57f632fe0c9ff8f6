"""Review commands: review new|list|show|note|decide|action|done|pack.

``review pack --pdf`` needs Qt for the drawing; the command line never imports
Qt itself (import-linter contract), so the PDF is rendered by a child process
``python -m kpidesk.gui.report.pdf_pack`` on the offscreen platform, and its
failure comes back as one sentence.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from kpidesk.cli.common import open_workspace, print_table
from kpidesk.errors import KpideskError, ValidationError


class PdfPackError(KpideskError):
    """The PDF renderer (a child process) failed."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review", help="review meetings: headlines, goals, movers, notes, actions, the pack")
    rsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    a = rsub.add_parser("new", help="create a review (open actions of the previous one are carried over)",
                        description="Example: kpidesk review new --product Pulse --period 2026-Q3 --compare last-year")
    a.add_argument("--product", help="product name (default: the whole portfolio)")
    a.add_argument("--period", required=True, help="2026-Q3, 2026-10, 2026, or 2026-07-01..2026-09-15")
    a.add_argument("--compare", default="previous", choices=["previous", "last-year"])
    a.add_argument("--title", default="")
    a.set_defaults(handler=cmd_new)

    a = rsub.add_parser("list", help="the reviews, newest first")
    a.add_argument("--product")
    a.add_argument("--csv", action="store_true")
    a.set_defaults(handler=cmd_list)

    a = rsub.add_parser("show", help="a review's headlines, goals, attention list and items")
    a.add_argument("review", type=int)
    a.add_argument("--today", help=argparse.SUPPRESS)
    a.set_defaults(handler=cmd_show)

    for name, kind, help_text in (("note", "note", "add a note"), ("decide", "decision", "record a decision"),
                                  ("action", "action", "add an action item")):
        a = rsub.add_parser(name, help=help_text)
        a.add_argument("review", type=int)
        a.add_argument("text")
        a.add_argument("--kpi", help="the KPI it is about (key or name)")
        if kind == "action":
            a.add_argument("--owner", default="")
            a.add_argument("--due", help="YYYY-MM-DD")
        a.set_defaults(handler=cmd_item, kind=kind)

    a = rsub.add_parser("done", help="mark an action item done (--undo to reopen)")
    a.add_argument("item", type=int)
    a.add_argument("--undo", action="store_true")
    a.set_defaults(handler=cmd_done)

    a = rsub.add_parser("pack", help="write the review pack: an Excel workbook and/or a PDF",
                        description="Example: kpidesk review pack 3 --xlsx q3.xlsx --pdf q3.pdf")
    a.add_argument("review", type=int)
    a.add_argument("--xlsx", metavar="OUT.xlsx")
    a.add_argument("--pdf", metavar="OUT.pdf")
    a.add_argument("--today", help=argparse.SUPPRESS)
    a.set_defaults(handler=cmd_pack)


def _date(text: str | None, what: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"The {what} '{text}' is not a date; use YYYY-MM-DD.") from None


def cmd_new(args: Any) -> int:
    from kpidesk.services.review_service import ReviewService

    with open_workspace(args) as ws:
        review, changes = ReviewService(ws.db).create(args.product, args.period, compare=args.compare,
                                                      title=args.title)
    print(f"Review #{review.id}: {changes.message}")
    return 0


def cmd_list(args: Any) -> int:
    from kpidesk.services.review_service import ReviewService

    with open_workspace(args, read_only=True) as ws:
        service = ReviewService(ws.db)
        names = {p.id: p.name for p in ws.products.list()}
        rows = []
        for review in service.list(args.product):
            items = service.items(review.id)  # type: ignore[arg-type]
            open_actions = sum(1 for i in items if i.kind == "action" and not i.done)
            rows.append((review.id, names.get(review.product_id, "Portfolio"), review.period_label,
                         review.compare.replace("_", "-"), open_actions, f"{review.created_at:%Y-%m-%d}"))
    if not rows and not args.csv:
        print("No reviews yet; create one with 'kpidesk review new --period 2026-Q3'.", file=sys.stderr)
        return 0
    print_table(["id", "product", "period", "compare", "open actions", "created"], rows, as_csv=args.csv,
                align_right=(4,))
    return 0


def cmd_show(args: Any) -> int:
    from kpidesk.io.review_xlsx import format_change, format_value, status_label
    from kpidesk.services.review_service import ReviewService

    with open_workspace(args, read_only=True) as ws:
        content = ReviewService(ws.db).content(args.review, today=_date(args.today, "--today date"))
    print(content.title)
    print(f"compared with {content.compare.label}\n")
    print_table(["KPI", "current", "previous", "change", "target", "status"],
                [(h.name + (" (so far)" if h.partial else ""), format_value(h.current, h.unit, h.currency),
                  format_value(h.previous, h.unit, h.currency), format_change(h),
                  "" if h.target is None else format_value(h.target, h.unit, h.currency), status_label(h.status))
                 for h in content.headlines], align_right=(1, 2, 3, 4))
    if content.goals:
        print("\nGoals")
        for e in content.goals:
            print(f"  [{status_label(e.status.value)}] {e.goal.statement}")
    if content.movers:
        print("\nBiggest movers")
        for m in content.movers:
            print(f"  {m.headline}")
    if content.attention:
        print("\nNeeds attention")
        for item in content.attention:
            print(f"  {item.subject}: {item.reason}")
    if content.items:
        print("\nNotes, decisions and actions")
        for i in content.items:
            extra = ""
            if i.kind == "action":
                extra = f" ({i.owner or 'no owner'}, due {i.due_date or '-'}, {'done' if i.done else 'open'})"
            print(f"  #{i.id} {i.kind}: {i.text}{extra}")
    for line in content.since_last:
        print(line if line.startswith("Since") else f"  {line}")
    return 0


def cmd_item(args: Any) -> int:
    from kpidesk.services.review_service import ReviewService

    with open_workspace(args) as ws:
        service = ReviewService(ws.db)
        review = service.get(args.review)
        kpi_id = ws.kpis.resolve(args.kpi, review.product_id).id if args.kpi else None
        item, changes = service.add_item(args.review, args.kind, args.text, owner=getattr(args, "owner", ""),
                                         due=_date(getattr(args, "due", None), "due date"), kpi_id=kpi_id)
    print(f"#{item.id}: {changes.message}")
    return 0


def cmd_done(args: Any) -> int:
    from kpidesk.services.review_service import ReviewService

    with open_workspace(args) as ws:
        item, _ = ReviewService(ws.db).update_item(args.item, done=not args.undo)
    print(f"Action #{item.id} {'reopened' if args.undo else 'done'}: {item.text}")
    return 0


def cmd_pack(args: Any) -> int:
    from kpidesk.io.review_xlsx import write_review_xlsx
    from kpidesk.services.review_service import ReviewService

    if not args.xlsx and not args.pdf:
        raise ValidationError("Say where to write the pack: --xlsx OUT.xlsx and/or --pdf OUT.pdf.")
    today = _date(args.today, "--today date")
    if args.xlsx:
        with open_workspace(args, read_only=True) as ws:
            content = ReviewService(ws.db).content(args.review, today=today)
            write_review_xlsx(content, args.xlsx)
        print(f"Workbook written: {args.xlsx}")
    if args.pdf:
        from kpidesk.paths import resolve_db_target

        render_pdf_subprocess(str(resolve_db_target(getattr(args, "db", None))), args.review, args.pdf, today=today)
        print(f"PDF written: {args.pdf}")
    return 0


def render_pdf_subprocess(db: str, review_id: int, out: str | Path, *, today: dt.date | None = None,
                          timeout: float = 600) -> None:
    """Render the PDF pack in a child Python on Qt's offscreen platform (no window, no display)."""
    # the database goes in the environment, not the command line: a PostgreSQL URL may hold a password
    command = [sys.executable, "-m", "kpidesk.gui.report.pdf_pack", "--review", str(review_id), "--out", str(out)]
    if today is not None:
        command += ["--today", today.isoformat()]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KPIDESK_DB=db)
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise PdfPackError(f"The PDF pack took longer than {timeout:.0f} s and was stopped; {out} was not written.")\
            from None
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr or "").splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit code {done.returncode}"
        raise PdfPackError(f"The PDF pack could not be written to {out}: {reason}")

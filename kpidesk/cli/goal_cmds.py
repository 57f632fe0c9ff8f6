"""Goal commands: goal add|list|show|check|checkin|archive, target set|ramp|list|import|rag, status."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from kpidesk.cli.common import open_workspace, print_table
from kpidesk.domain.enums import GoalKind
from kpidesk.domain.goals import GoalEvaluation, StatusBands
from kpidesk.domain.goals.model import num
from kpidesk.domain.goals.phrases import parse_change, parse_horizon, parse_statement
from kpidesk.domain.periods import parse_date, period_label
from kpidesk.errors import ValidationError

# Argument → goal kind for the absolute and relative target options of 'goal add'.
_ABSOLUTE = {"increase_to": GoalKind.INCREASE_TO, "decrease_to": GoalKind.DECREASE_TO,
             "stay_above": GoalKind.STAY_ABOVE, "stay_below": GoalKind.STAY_BELOW}
_RELATIVE = {"increase_by": GoalKind.INCREASE_TO, "decrease_by": GoalKind.DECREASE_TO}
_STATEMENTS = {GoalKind.INCREASE_TO: "Increase {kpi} to {value}", GoalKind.DECREASE_TO: "Reduce {kpi} to {value}",
               GoalKind.STAY_ABOVE: "Keep {kpi} above {value}", GoalKind.STAY_BELOW: "Keep {kpi} below {value}"}


def _day(text: str | None, what: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return parse_date(text)
    except ValueError:
        raise ValidationError(f"The {what} '{text}' is not a date; use YYYY-MM-DD (or YYYY-MM).") from None


def _today(args: Any) -> dt.date:
    return _day(getattr(args, "today", None), "--today date") or dt.date.today()


def _bands(args: Any) -> StatusBands:
    return StatusBands(on_track=args.on_track, behind=args.behind)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("goal", help="SMART goals on KPIs")
    gsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    a = gsub.add_parser("add", help="add a goal (its SMART check is printed)",
                        description="Examples: kpidesk goal add onboarding_completion --product Pulse "
                                    "--increase-by 25%% --within 'next quarter'; kpidesk goal add churn_rate "
                                    "--decrease-to 2 --due 2026-12-31")
    a.add_argument("kpi", nargs="?", help="KPI key, name or Product/key (not needed with --say)")
    a.add_argument("--product")
    a.add_argument("--say", metavar="SENTENCE",
                   help="the whole goal in words: 'Increase onboarding completion by 25%% within the next quarter'")
    target = a.add_mutually_exclusive_group()
    target.add_argument("--increase-to", type=float, metavar="VALUE")
    target.add_argument("--decrease-to", type=float, metavar="VALUE")
    target.add_argument("--stay-above", type=float, metavar="VALUE")
    target.add_argument("--stay-below", type=float, metavar="VALUE")
    target.add_argument("--band", type=float, nargs=2, metavar=("LOW", "HIGH"), help="keep the KPI inside")
    target.add_argument("--increase-by", metavar="CHANGE", help="relative to the baseline: 25%% or 5 (units)")
    target.add_argument("--decrease-by", metavar="CHANGE", help="relative to the baseline: 20%% or 1.5 (units)")
    a.add_argument("--within", metavar="PHRASE", help="'next quarter', 'this year', '3 months', ...")
    a.add_argument("--start", help="start date (default today)")
    a.add_argument("--due", help="due date")
    a.add_argument("--statement", help="the goal in words (default: generated)")
    a.add_argument("--baseline", type=float, help="baseline value (default: from the data)")
    a.add_argument("--baseline-date")
    a.add_argument("--owner", default="")
    a.add_argument("--objective", help="objective id or title (created when new)")
    a.add_argument("--rationale", default="", help="why this goal matters")
    a.add_argument("--confidence", type=int, help="1-10")
    a.add_argument("--today", help=argparse.SUPPRESS)
    a.set_defaults(handler=cmd_goal_add)

    a = gsub.add_parser("list", help="goals with status and progress")
    a.add_argument("--product")
    a.add_argument("--csv", action="store_true")
    _status_options(a)
    a.set_defaults(handler=cmd_goal_list)

    a = gsub.add_parser("show", help="one goal: status, forecast, SMART check, check-ins")
    a.add_argument("goal", type=int)
    _status_options(a)
    a.set_defaults(handler=cmd_goal_show)

    a = gsub.add_parser("check", help="the SMART check of a goal")
    a.add_argument("goal", type=int)
    a.set_defaults(handler=cmd_goal_check)

    a = gsub.add_parser("checkin", help="record a check-in (value, confidence, note)")
    a.add_argument("goal", type=int)
    a.add_argument("--date", help="default today")
    a.add_argument("--value", type=float)
    a.add_argument("--confidence", type=int, help="1-10")
    a.add_argument("--note", default="")
    a.set_defaults(handler=cmd_goal_checkin)

    a = gsub.add_parser("archive", help="archive a goal (history stays)")
    a.add_argument("goal", type=int)
    a.add_argument("--undo", action="store_true")
    a.set_defaults(handler=cmd_goal_archive)

    p = sub.add_parser("target", help="per-period targets and RAG thresholds of a KPI")
    tsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = tsub.add_parser("set", help="the target of one period")
    a.add_argument("kpi")
    a.add_argument("period", help="a day in the period (YYYY-MM-DD or YYYY-MM)")
    a.add_argument("value", type=float)
    a.add_argument("--product")
    a.set_defaults(handler=cmd_target_set)
    a = tsub.add_parser("ramp", help="targets from one value to another, linear or in steps")
    a.add_argument("kpi")
    a.add_argument("--product")
    a.add_argument("--from", dest="first", required=True, help="first period")
    a.add_argument("--to", dest="last", required=True, help="last period")
    a.add_argument("--start-value", type=float, required=True)
    a.add_argument("--end-value", type=float, required=True)
    a.add_argument("--steps", type=int, help="flat steps instead of a straight line")
    a.set_defaults(handler=cmd_target_ramp)
    a = tsub.add_parser("list", help="the targets of a KPI")
    a.add_argument("kpi")
    a.add_argument("--product")
    a.set_defaults(handler=cmd_target_list)
    a = tsub.add_parser("import", help="targets from a spreadsheet or CSV with 'period' and 'target' columns")
    a.add_argument("kpi")
    a.add_argument("file")
    a.add_argument("--product")
    a.add_argument("--sheet", help="sheet name (default: the first)")
    a.set_defaults(handler=cmd_target_import)
    a = tsub.add_parser("rag", help="green / amber thresholds (read by the KPI's direction)")
    a.add_argument("kpi")
    a.add_argument("--product")
    a.add_argument("--green", type=float, required=True)
    a.add_argument("--amber", type=float, required=True)
    a.add_argument("--green-high", type=float, help="band KPIs: top of the green range")
    a.add_argument("--amber-high", type=float, help="band KPIs: top of the amber range")
    a.add_argument("--from", dest="effective_from", help="effective from (default today)")
    a.set_defaults(handler=cmd_target_rag)

    p = sub.add_parser("status", help="goals with status and reasons, and what needs attention")
    p.add_argument("--product")
    p.add_argument("--no-anomalies", action="store_true", help="skip anomaly detection")
    _status_options(p)
    p.set_defaults(handler=cmd_status)


def _status_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--today", help="evaluate as of this date (default today)")
    parser.add_argument("--on-track", type=float, default=0.95, help="pace for 'on track' (default 0.95)")
    parser.add_argument("--behind", type=float, default=0.85, help="pace for 'behind' (default 0.85)")


# -- goal ---------------------------------------------------------------------
def _goal_fields(args: Any, kpi_name: str) -> dict[str, Any]:
    today = _today(args)
    fields: dict[str, Any] = {}
    words = ""
    for option, kind in _ABSOLUTE.items():
        value = getattr(args, option)
        if value is not None:
            fields.update(kind=kind.value, target_value=value)
            words = _STATEMENTS[kind].format(kpi=kpi_name, value=num(value))
    if args.band is not None:
        low, high = args.band
        fields.update(kind=GoalKind.KEEP_IN_BAND.value, band_low=low, band_high=high)
        words = f"Keep {kpi_name} between {num(low)} and {num(high)}"
    for option, kind in _RELATIVE.items():
        text = getattr(args, option)
        if text is not None:
            change, mode = parse_change(text)
            fields.update(kind=kind.value, relative_change=change, relative_mode=mode)
            words = f"{'Increase' if kind is GoalKind.INCREASE_TO else 'Reduce'} {kpi_name} by {text.strip()}"
    start, due = _day(args.start, "start date"), _day(args.due, "due date")
    if args.within:
        phrase_start, phrase_due = parse_horizon(args.within, today)
        start, due = start or phrase_start, due or phrase_due
        phrase = args.within.strip().removeprefix("within ").strip()
        if phrase.startswith(("next ", "this ")):
            phrase = f"the {phrase}"
        words += f" within {phrase}"
    elif due is not None:
        words += f" by {due.isoformat()}"
    if due is None:
        raise ValidationError("Say when: --due YYYY-MM-DD or --within 'next quarter'.")
    fields.update(start_date=start or today, due_date=due, statement=args.statement or words,
                  baseline_value=args.baseline, baseline_date=_day(args.baseline_date, "baseline date"),
                  owner=args.owner, rationale=args.rationale, confidence=args.confidence)
    return fields


def _said_fields(args: Any) -> tuple[str, dict[str, Any]]:
    """KPI text and goal fields from ``--say``; explicit options still override the dates and details."""
    parsed = parse_statement(args.say, _today(args))
    fields: dict[str, Any] = {
        "kind": parsed.kind.value, "target_value": parsed.target_value, "relative_change": parsed.relative_change,
        "relative_mode": parsed.relative_mode, "band_low": parsed.band_low, "band_high": parsed.band_high,
        "start_date": _day(args.start, "start date") or parsed.start,
        "due_date": _day(args.due, "due date") or parsed.due,
        "statement": args.statement or args.say.strip().rstrip("."), "baseline_value": args.baseline,
        "baseline_date": _day(args.baseline_date, "baseline date"), "owner": args.owner,
        "rationale": args.rationale, "confidence": args.confidence,
    }
    return parsed.kpi_text, fields


def _find_kpi(ws: Any, text: str, product: str | None) -> Any:
    """A KPI from the words of a sentence: key, name or alias; then its slug; then the one KPI whose
    name contains every word (so "churn rate" finds "Customer churn rate")."""
    from kpidesk.errors import NotFoundError
    from kpidesk.services.kpi_service import slug

    for ref in (text, slug(text)):
        try:
            return ws.kpis.resolve(ref, product)
        except NotFoundError:
            continue
    words = slug(text).split("_")
    matches = [k for k in ws.kpis.list(product) if all(w in slug(k.name).split("_") for w in words)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = ", ".join(sorted(k.name for k in matches))
        raise ValidationError(f"'{text}' could be several KPIs ({names}); name it exactly or add --product.")
    raise NotFoundError(f"No KPI matches '{text}'; see 'kpidesk kpi list'.")


def cmd_goal_add(args: Any) -> int:
    from kpidesk.services.goal_service import GoalService

    with open_workspace(args) as ws:
        goals = GoalService(ws.db)
        if args.say:
            kpi_text, fields = _said_fields(args)
            kpi = _find_kpi(ws, args.kpi or kpi_text, args.product)
        else:
            if not args.kpi:
                raise ValidationError("Name the KPI, or give the whole goal with --say '...'.")
            if all(getattr(args, o) is None for o in (*_ABSOLUTE, *_RELATIVE, "band")):
                raise ValidationError("Say the target: --increase-to, --decrease-to, --stay-above, --stay-below, "
                                      "--band, --increase-by or --decrease-by (or the whole goal with --say).")
            kpi = ws.kpis.resolve(args.kpi, args.product)
            fields = _goal_fields(args, kpi.name.lower() if kpi.name[1:].islower() else kpi.name)
        if args.objective:
            fields["objective_id"] = goals.find_or_add_objective(args.objective, product=kpi.product_id).id
        row, changes = goals.add(kpi.id, **fields)
        print(f"{changes.message} \"{row.statement}\"")
        print(f"Baseline {num(row.baseline_value) if row.baseline_value is not None else '—'}"
              f"{f' ({row.baseline_date.isoformat()})' if row.baseline_date else ''}; "
              f"{row.start_date.isoformat()} → {row.due_date.isoformat()}.")
        print("SMART check:")
        for finding in goals.smart_check(row):
            print("  " + finding.line())
    return 0


def _progress(ev: GoalEvaluation) -> str:
    return "" if ev.progress is None else f"{ev.progress:.0%}"


def cmd_goal_list(args: Any) -> int:
    from kpidesk.services.goal_service import GoalService

    with open_workspace(args, read_only=True) as ws:
        goals = GoalService(ws.db)
        rows = []
        for row in goals.list(args.product):
            ev = goals.evaluate(row, today=_today(args), bands=_bands(args))
            product = goals.product_of(goals.kpi_of(row)).name
            pace = "" if ev.pace is None else f"{ev.pace:.0%}"
            rows.append((row.id, product, ev.kpi.name, ev.title, ev.status.label + (" (stale)" if ev.stale else ""),
                         _progress(ev), pace, row.due_date.isoformat()))
        if not rows and not args.csv:
            print("No goals yet; add one with 'kpidesk goal add'.", file=sys.stderr)
            return 0
        print_table(["id", "product", "KPI", "goal", "status", "progress", "pace", "due"], rows,
                    as_csv=args.csv, align_right=(5, 6))
    return 0


def cmd_goal_show(args: Any) -> int:
    from kpidesk.services.goal_service import GoalService

    with open_workspace(args, read_only=True) as ws:
        goals = GoalService(ws.db)
        row = goals.get(args.goal)
        kpi = goals.kpi_of(row)
        ev = goals.evaluate(row, today=_today(args), bands=_bands(args))
        print(f"Goal #{row.id}: {ev.title}")
        print(f"  KPI        {goals.product_of(kpi).name}/{kpi.key} ({kpi.name}, {kpi.unit}, {kpi.frequency})")
        print(f"  kind       {row.kind.replace('_', ' ')} — {ev.goal_text}"
              + (f" (relative: {num(row.relative_change)}{' %' if row.relative_mode == 'percent' else ''})"
                 if row.relative_change is not None and row.target_value is None else ""))
        base = "—" if row.baseline_value is None else num(row.baseline_value)
        print(f"  baseline   {base}" + (f" ({row.baseline_date.isoformat()})" if row.baseline_date else ""))
        print(f"  dates      {row.start_date.isoformat()} → {row.due_date.isoformat()}")
        for label, value in (("owner", row.owner), ("objective", goals.objective_title(row.objective_id)),
                             ("rationale", row.rationale),
                             ("confidence", "" if row.confidence is None else f"{row.confidence}/10")):
            if value:
                print(f"  {label:<10} {value}")
        print(f"  status     {ev.status.label}" + (" (stale data)" if ev.stale else ""))
        print(f"  why        {ev.reason}")
        if ev.forecast is not None:
            print(f"  forecast   {ev.forecast.summary().removeprefix('forecast ')}")
        print("SMART check:")
        for finding in goals.smart_check(row):
            print("  " + finding.line())
        checkins = goals.checkins(row.id)
        if checkins:
            print("Check-ins:")
            for c in checkins:
                value = "" if c.value is None else f"value {num(c.value)}  "
                conf = "" if c.confidence is None else f"confidence {c.confidence}/10  "
                print(f"  {c.date.isoformat()}  {value}{conf}{c.note}".rstrip())
    return 0


def cmd_goal_check(args: Any) -> int:
    from kpidesk.services.goal_service import GoalService

    with open_workspace(args, read_only=True) as ws:
        goals = GoalService(ws.db)
        row = goals.get(args.goal)
        print(f"SMART check of goal #{row.id}: {row.statement}")
        for finding in goals.smart_check(row):
            print("  " + finding.line())
    return 0


def cmd_goal_checkin(args: Any) -> int:
    from kpidesk.services.goal_service import GoalService

    with open_workspace(args) as ws:
        _, changes = GoalService(ws.db).checkin(args.goal, args.date, value=args.value,
                                                confidence=args.confidence, note=args.note)
        print(changes.message)
    return 0


def cmd_goal_archive(args: Any) -> int:
    from kpidesk.services.goal_service import GoalService

    with open_workspace(args) as ws:
        _, changes = GoalService(ws.db).archive(args.goal, not args.undo)
        print(changes.message)
    return 0


# -- target -------------------------------------------------------------------
def cmd_target_set(args: Any) -> int:
    from kpidesk.services.target_service import TargetService

    with open_workspace(args) as ws:
        kpi = ws.kpis.resolve(args.kpi, args.product)
        day = _day(args.period, "period")
        assert day is not None
        print(TargetService(ws.db).set(kpi.id, day, args.value).message)
    return 0


def cmd_target_ramp(args: Any) -> int:
    from kpidesk.services.target_service import TargetService

    with open_workspace(args) as ws:
        kpi = ws.kpis.resolve(args.kpi, args.product)
        first, last = _day(args.first, "--from period"), _day(args.last, "--to period")
        assert first is not None
        assert last is not None
        schedule, changes = TargetService(ws.db).ramp(kpi.id, first, last, args.start_value, args.end_value,
                                                      steps=args.steps)
        print(changes.message)
        print_table(["period", "target"], [(period_label(d, kpi.frequency), num(v)) for d, v in schedule.items()],
                    align_right=(1,))
    return 0


def cmd_target_list(args: Any) -> int:
    from kpidesk.services.target_service import TargetService

    with open_workspace(args, read_only=True) as ws:
        kpi = ws.kpis.resolve(args.kpi, args.product)
        targets = TargetService(ws.db)
        schedule = targets.schedule(kpi.id)
        rag = targets.thresholds(kpi.id)
        if rag is not None:
            print(f"RAG thresholds: {rag.describe()}")
        if not schedule:
            print(f"{kpi.name} has no per-period targets.")
            return 0
        print_table(["period", "target"], [(period_label(d, kpi.frequency), num(v)) for d, v in schedule.items()],
                    align_right=(1,))
    return 0


def cmd_target_import(args: Any) -> int:
    from kpidesk.services.target_service import TargetService

    with open_workspace(args) as ws:
        kpi = ws.kpis.resolve(args.kpi, args.product)
        print(TargetService(ws.db).import_file(kpi.id, args.file, sheet=args.sheet).message)
    return 0


def cmd_target_rag(args: Any) -> int:
    from kpidesk.services.target_service import TargetService

    with open_workspace(args) as ws:
        kpi = ws.kpis.resolve(args.kpi, args.product)
        targets = TargetService(ws.db)
        changes = targets.set_thresholds(kpi.id, args.green, args.amber, green_high=args.green_high,
                                         amber_high=args.amber_high,
                                         effective_from=_day(args.effective_from, "--from date"))
        rag = targets.thresholds(kpi.id)
        print(f"{changes.message} {rag.describe() if rag else ''}".rstrip())
    return 0


# -- status -------------------------------------------------------------------
def cmd_status(args: Any) -> int:
    from kpidesk.services.status_service import StatusService

    with open_workspace(args, read_only=True) as ws:
        today = _today(args)
        report = StatusService(ws.db).report(args.product, today=today, bands=_bands(args),
                                             detect_anomalies=not args.no_anomalies)
    evs = report.evaluations
    print(f"Status as of {today.isoformat()}: {len(evs)} goal{'s' if len(evs) != 1 else ''}"
          + (f" in {args.product}" if args.product else ""))
    counts: dict[str, int] = {}
    for ev in evs:
        counts[ev.status.label] = counts.get(ev.status.label, 0) + 1
    if counts:
        print("  " + ", ".join(f"{n} {label}" for label, n in counts.items()))
    current = None
    for ev in sorted(evs, key=lambda e: (report.product_of_goal.get(e.goal.id or 0, ""), e.goal.due)):
        product = report.product_of_goal.get(ev.goal.id or 0, "")
        if product != current:
            print(f"\n{product}")
            current = product
        stale = " (stale)" if ev.stale else ""
        print(f"  #{ev.goal.id:<3} {ev.status.label.upper():<9}{stale} {ev.title}  [due {ev.goal.due.isoformat()}]")
        print(f"       {ev.reason}")
        if ev.forecast is not None:
            summary = ev.forecast.summary()
            print(f"       {summary[:1].upper()}{summary[1:]}.")
    if report.objectives:
        print("\nObjectives")
        for objective in report.objectives:
            print(f"  {objective.line()}")
    print(f"\nNeeds attention ({len(report.attention)})")
    if not report.attention:
        print("  Nothing: every goal is on track and no KPI crossed a threshold.")
    for item in report.attention:
        where = f"{item.product}: " if item.product else ""
        print(f"  {'!' * item.severity:<3} {where}{item.line()}")
    return 0

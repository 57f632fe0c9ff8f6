"""Goals, objectives, targets and RAG thresholds for the demo workspace.

Called by ``kpidesk.services.demo.build_demo`` after the KPI history is in.
The demo history is random (seeded), so each goal's target is computed from
the values actually written, to land in a chosen status as of ``today``:
for a wanted pace ``p`` the target is ``B + (L − B) / (p · e)`` where ``B`` is
the baseline, ``L`` the latest value and ``e`` the expected progress for the
latest period (so progress = (L − B)/(T − B) = p · e). The kind (increase or
decrease) follows the sign of ``L − B`` so the arithmetic always holds.

Statuses covered: on track, behind, at risk, achieved, missed, overdue, a
goal whose data is stale, one that has not started (a relative target:
"Increase onboarding completion by 8% within the next quarter") and band /
stay-above goals.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kpidesk.domain.enums import Frequency, GoalKind, Provenance
from kpidesk.domain.goals import Goal
from kpidesk.domain.goals.model import default_baseline
from kpidesk.domain.goals.phrases import parse_horizon
from kpidesk.domain.goals.progress import expected_progress
from kpidesk.domain.periods import next_period_start, period_end, period_start
from kpidesk.services.goal_service import GoalService
from kpidesk.services.target_service import TargetService
from kpidesk.storage.models import Kpi


def _months_before(day: dt.date, count: int) -> dt.date:
    day = period_start(day, Frequency.MONTH)
    for _ in range(count):
        day = period_start(day - dt.timedelta(days=1), Frequency.MONTH)
    return day


def _months_after(day: dt.date, count: int) -> dt.date:
    day = period_start(day, Frequency.MONTH)
    for _ in range(count):
        day = next_period_start(day, Frequency.MONTH)
    return day


def _round(value: float) -> float:
    """Four significant figures: readable, and close enough to keep the intended pace."""
    return float(f"{value:.4g}")


def _paced(goals: GoalService, kpi: Kpi, start: dt.date, due: dt.date, pace: float) -> dict[str, Any]:
    """Goal fields whose progress on the KPI's latest value is ``pace`` × the expected progress.

    ``pace`` > 1 / expected gives progress > 100 % (achieved before the due date).
    """
    assert kpi.id is not None
    series = goals.series(kpi.id)
    found = default_baseline(series, start, kpi.frequency)
    assert found is not None, f"demo KPI {kpi.key} has no history"
    base_day, base = found
    due_period = period_start(due, kpi.frequency)
    latest_day, latest = [p for p in series if p[0] <= due_period][-1]
    delta = latest - base or abs(base) * 0.01 or 1.0
    kind = GoalKind.INCREASE_TO if delta > 0 else GoalKind.DECREASE_TO
    probe = Goal(kpi.key, kind, start, due, target_value=base + delta, baseline_value=base)
    expected = expected_progress(probe, base, base + delta, latest_day, kpi.frequency)
    target = base + delta / (pace * max(expected, 1e-6))
    return {"kind": kind.value, "target_value": _round(target), "baseline_value": base, "baseline_date": base_day,
            "start_date": start, "due_date": due}


def _pick(ws: Any, goals: GoalService, candidates: list[tuple[str, str]], start: dt.date) -> Kpi:
    """The first candidate KPI that moved the way its direction calls good since ``start``,
    so a paced goal reads "increase" on a higher-is-better KPI (else the first candidate)."""
    first = None
    for key, product in candidates:
        k = ws.kpis.resolve(key, product)
        first = first or k
        series = goals.series(k.id)
        found = default_baseline(series, start, k.frequency)
        if found is None or not series:
            continue
        moved_up = series[-1][1] > found[1]
        if moved_up == (k.direction == "up"):
            return k
    assert first is not None
    return first


def _verb(kind: str) -> str:
    return "Increase" if kind == GoalKind.INCREASE_TO.value else "Reduce"


def add_demo_goals(ws: Any, *, today: dt.date | None = None) -> str:
    """Add the demo objectives, goals, check-ins, targets and thresholds to ``ws`` (a Workspace)."""
    today = today or dt.date.today()
    goals = GoalService(ws.db)
    targets = TargetService(ws.db)
    kpi = ws.kpis.resolve
    last_month = _months_before(today, 1)  # the latest complete month: monthly demo series end there

    growth = goals.add_objective("Grow recurring revenue", product="Ledger",
                                 description="Net new MRR from existing and new accounts.")[0]
    activation = goals.add_objective("Activate and keep more users", product="Pulse")[0]
    reliable = goals.add_objective("Run a reliable marketplace", product="Harbor")[0]

    added: list[tuple[int, str]] = []

    def add(k: Kpi, fields: dict[str, Any], statement: str, **extra: Any) -> int:
        assert k.id is not None
        row, _ = goals.add(k.id, statement=statement, **fields, **extra)
        assert row.id is not None
        added.append((row.id, statement))
        _backdate(ws, row.id, min(today, fields["start_date"]) - dt.timedelta(days=7))
        return row.id

    # on track: MRR, five months in, pace 1.15
    start, due = _months_before(last_month, 3), period_end(_months_after(today, 3), Frequency.MONTH)
    mrr = _pick(ws, goals, [("mrr", "Ledger"), ("revenue", "Ledger"), ("clv", "Ledger")], start)
    fields = _paced(goals, mrr, start, due, 1.15)
    on_track = add(mrr, fields, f"{_verb(fields['kind'])} {mrr.name} to €{fields['target_value']:,.0f} by {due:%B %Y}",
                   objective_id=growth.id, owner="Dana (Head of Sales)", confidence=8,
                   rationale="Recurring revenue funds next year's hiring plan.")
    goals.checkin(on_track, _months_before(today, 2) + dt.timedelta(days=4), confidence=7,
                  note="Pro plan price increase is holding; churn unchanged.")
    goals.checkin(on_track, _months_before(today, 1) + dt.timedelta(days=3), confidence=8,
                  note="Two large accounts upgraded.")

    # behind: MAU at pace 0.90
    start, due = _months_before(last_month, 4), period_end(_months_after(today, 2), Frequency.MONTH)
    mau = _pick(ws, goals, [("mau", "Pulse"), ("referrals", "Pulse"), ("downloads", "Pulse")], start)
    fields = _paced(goals, mau, start, due, 0.90)
    add(mau, fields, f"{_verb(fields['kind'])} {mau.name.lower()} to {fields['target_value']:,.0f} by {due:%B %Y}",
        objective_id=activation.id, owner="Sam (Growth PM)", confidence=6,
        rationale="MAU is the base every engagement metric builds on.")

    # at risk: sign-ups at pace 0.55
    start, due = _months_before(last_month, 3), period_end(_months_after(today, 1), Frequency.MONTH)
    signups = _pick(ws, goals, [("signups", "Pulse"), ("downloads", "Pulse"), ("referrals", "Pulse"),
                                ("dau", "Pulse")], start)
    fields = _paced(goals, signups, start, due, 0.55)
    add(signups, fields, f"{_verb(fields['kind'])} {signups.name.lower()} to {fields['target_value']:,.0f} by "
        f"{due:%B %Y}", objective_id=activation.id, owner="Sam (Growth PM)", confidence=4,
        rationale="The paid campaign budget was approved on this number.")

    # achieved before the due date: Pulse revenue went past its target (progress ≈ 125 %)
    start, due = _months_before(last_month, 5), period_end(_months_after(today, 2), Frequency.MONTH)
    revenue = _pick(ws, goals, [("revenue", "Pulse"), ("revenue", "Harbor"), ("mrr", "Ledger")], start)
    fields = _paced(goals, revenue, start, due, 1.0)
    assert revenue.id is not None
    # 80 % of the move already made: the latest value is past the target
    fields["target_value"] = _round(fields["baseline_value"]
                                    + 0.8 * (goals.series(revenue.id)[-1][1] - fields["baseline_value"]))
    add(revenue, fields, f"{_verb(fields['kind'])} {revenue.name.lower()} to €{fields['target_value']:,.0f} a month",
        objective_id=activation.id, owner="Alex (Product lead)", confidence=9,
        rationale="Shows the subscription tiers pay off.")

    # missed: new customers, due at the end of the last complete month, only 70 % of the way
    start, due = _months_before(last_month, 6), period_end(last_month, Frequency.MONTH)
    new_customers = _pick(ws, goals, [("new_customers", "Ledger"), ("arpu", "Ledger"), ("cac", "Ledger")], start)
    fields = _paced(goals, new_customers, start, due, 0.70)
    add(new_customers, fields, f"{_verb(fields['kind'])} {new_customers.name.lower()} to {fields['target_value']:,.0f} "
        f"by {due:%B %Y}", objective_id=growth.id, owner="Dana (Head of Sales)", confidence=3,
        rationale="New logos feed next year's expansion revenue.")

    # a support KPI whose reporting stopped three months ago: stale and overdue goals
    harbor = ws.products.get("Harbor")
    sla, _ = ws.kpis.add_custom(harbor.id, "Tickets resolved within SLA", key="sla_resolution", unit="percent",
                                direction="up", aggregation="mean", frequency="month", category="operational")
    stopped = _months_before(today, 3)  # last value: three months ago → two complete months missing
    wobble = [0.8, -0.4, 0.3, -0.9, 0.5, -0.2, 0.6]  # fixed, so the demo is the same every time
    _record_history(ws, sla, stopped, [80.0 + 0.6 * i + wobble[i % len(wobble)] for i in range(15)])
    start, due = _months_before(stopped, 4), period_end(_months_after(today, 3), Frequency.MONTH)
    fields = _paced(goals, sla, start, due, 1.2)  # would be on track, but the data is stale
    add(sla, fields, f"{_verb(fields['kind'])} tickets resolved within SLA to {fields['target_value']:g}% by "
        f"{due:%B %Y}", objective_id=reliable.id, owner="Kim (Ops)", confidence=7,
        rationale="Slow support is the top reason in cancellation surveys.")
    start, due = _months_before(stopped, 6), period_end(_months_after(stopped, 1), Frequency.MONTH)
    overdue_fields = {"kind": GoalKind.STAY_ABOVE.value, "target_value": 80.0, "start_date": start, "due_date": due}
    add(sla, overdue_fields, f"Keep tickets resolved within SLA above 80% through {due:%B %Y}",
        objective_id=reliable.id, owner="Kim (Ops)", rationale="Contractual SLA with enterprise sellers.")

    # holding goals: uptime inside a band, churn below a line
    uptime = kpi("uptime", "Ledger")
    start, due = _months_before(last_month, 2), period_end(_months_after(today, 4), Frequency.MONTH)
    add(uptime, {"kind": GoalKind.KEEP_IN_BAND.value, "band_low": 99.5, "band_high": 100.0, "start_date": start,
                 "due_date": due}, "Keep uptime between 99.5% and 100% every month",
        objective_id=growth.id, owner="Kim (Ops)", rationale="Enterprise contracts promise 99.5 %.")

    # not started yet, with a relative target: the example a PM types
    onboarding = kpi("onboarding_completion", "Pulse")
    start, due = parse_horizon("next quarter", today)
    add(onboarding, {"kind": GoalKind.INCREASE_TO.value, "relative_change": 8.0, "relative_mode": "percent",
                     "start_date": start, "due_date": due},
        "Increase onboarding completion by 8% within the next quarter", objective_id=activation.id,
        owner="Sam (Growth PM)", confidence=6,
        rationale="Users who finish onboarding retain twice as well in month 2.")

    # per-period targets and RAG thresholds
    visits = kpi("visits", "Harbor")
    assert visits.id is not None
    year = today.year
    targets.ramp(visits.id, dt.date(year, 1, 1), dt.date(year, 12, 1), 550_000, 700_000, steps=4)
    ledger_revenue = kpi("revenue", "Ledger")
    assert ledger_revenue.id is not None
    targets.ramp(ledger_revenue.id, dt.date(year, 1, 1), dt.date(year, 12, 1), 300_000, 380_000)
    _thresholds(goals, targets, kpi("churn_rate", "Ledger"), today, "amber")
    _thresholds(goals, targets, kpi("load_time", "Pulse"), today, "red")
    _thresholds(goals, targets, kpi("nps", "Pulse"), today, "green")
    assert uptime.id is not None
    targets.set_thresholds(uptime.id, 99.9, 99.5, effective_from=dt.date(year, 1, 1))
    return f"Goals: {len(added)} goals in 3 objectives, with targets and RAG thresholds."


def _thresholds(goals: GoalService, targets: TargetService, k: Kpi, today: dt.date, colour: str) -> None:
    """Thresholds placed around the KPI's latest value so it reads ``colour``."""
    assert k.id is not None
    latest = goals.series(k.id)[-1][1]
    up = k.direction == "up"
    # factors relative to the latest value: (green line, amber line)
    factors = {"green": (0.9, 0.8), "amber": (1.1, 0.9), "red": (1.3, 1.15)}[colour]
    green, amber = (latest * f for f in factors) if up else (latest / f for f in factors)
    targets.set_thresholds(k.id, _round(green), _round(amber), effective_from=dt.date(today.year, 1, 1))


def _backdate(ws: Any, goal_id: int, created: dt.date) -> None:
    """Demo goals were "written" a week before they started, as a PM would have; the SMART
    Time-bound check judges the due date against that day."""
    from kpidesk.storage.models import Goal as GoalRow

    with ws.db.session() as session:
        row = session.get(GoalRow, goal_id)
        assert row is not None
        row.created_at = dt.datetime.combine(created, dt.time(9, 0), tzinfo=dt.UTC)
        session.commit()


def _record_history(ws: Any, k: Kpi, last: dt.date, values: list[float]) -> None:
    import pandas as pd

    days = [_months_before(last, len(values) - 1 - i) for i in range(len(values))]
    frame = pd.DataFrame({"kpi_id": k.id, "period_start": days, "value": [round(v, 1) for v in values]})
    ws.measurements.record_many(frame, source=Provenance.DEMO.value)

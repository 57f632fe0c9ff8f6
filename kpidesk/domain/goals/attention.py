"""The attention list: everything that needs a product manager's eye now.

Sources, each giving one line with its reason:

- goals behind, at risk or overdue (:mod:`.status`);
- RAG thresholds: the latest value of a KPI is red or amber;
- anomalies flagged in the KPI's latest period (fed in by the metrics engine);
- large moves: ``|latest − previous| / |previous| ≥ move_threshold`` (default 20 %;
  a negative previous value counts by its size, so −100 → −50 is up 50 %);
- stale KPIs: no value in the last two complete periods.

Severity 3 = act now (at risk, overdue, red, stale), 2 = look (behind, amber,
anomaly, a large move the wrong way), 1 = know (a large move the right way).
The list is sorted by severity, then by kind in the order above.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from kpidesk.domain.enums import Direction
from kpidesk.domain.goals.model import (
    KpiInfo,
    Series,
    num,
    sorted_series,
)
from kpidesk.domain.goals.status import (
    FREQ_ADJECTIVE,
    STALE_PERIODS,
    GoalEvaluation,
    GoalStatus,
    missing_periods,
)
from kpidesk.domain.goals.targets import Rag, RagThresholds
from kpidesk.domain.periods import period_label


class AttentionKind(StrEnum):
    GOAL = "goal"
    THRESHOLD = "threshold"
    ANOMALY = "anomaly"
    MOVE = "move"
    STALE = "stale"


_KIND_ORDER = {kind: i for i, kind in enumerate(AttentionKind)}


@dataclass(frozen=True)
class AttentionItem:
    kind: AttentionKind
    severity: int
    subject: str
    reason: str
    kpi_key: str = ""
    product: str = ""
    goal_id: int | None = None

    def line(self) -> str:
        return f"[{self.kind.value}] {self.subject}: {self.reason}"


@dataclass(frozen=True)
class KpiSnapshot:
    """A KPI with its series and thresholds, as the attention list reads it."""

    kpi: KpiInfo
    series: Series
    thresholds: RagThresholds | None = None
    product: str = ""


@dataclass(frozen=True)
class Anomaly:
    """A value the metrics engine flagged as unusual."""

    kpi_key: str
    period: dt.date
    value: float
    expected: float | None = None
    note: str = ""
    product: str = field(default="")


_GOAL_SEVERITY = {GoalStatus.BEHIND: 2, GoalStatus.AT_RISK: 3, GoalStatus.OVERDUE: 3}


def goal_items(evaluations: Iterable[GoalEvaluation], product_of_goal: dict[int, str] | None = None
               ) -> list[AttentionItem]:
    """One item per goal that is behind, at risk or overdue; the reason is the status reason."""
    items = []
    for ev in evaluations:
        severity = _GOAL_SEVERITY.get(ev.status)
        if severity is None:
            continue
        product = (product_of_goal or {}).get(ev.goal.id, "") if ev.goal.id is not None else ""
        items.append(AttentionItem(
            AttentionKind.GOAL, severity, ev.title, f"{ev.status.label}. {ev.reason}",
            ev.kpi.key, product, ev.goal.id,
        ))
    return items


def kpi_items(snapshot: KpiSnapshot, today: dt.date, *, move_threshold: float = 0.2) -> list[AttentionItem]:
    """Threshold, large-move and staleness items of one KPI (rules in the module docstring)."""
    kpi = snapshot.kpi
    points = sorted_series(snapshot.series)
    items: list[AttentionItem] = []

    def add(kind: AttentionKind, severity: int, reason: str) -> None:
        items.append(AttentionItem(kind, severity, kpi.name, reason, kpi.key, snapshot.product))

    if not points:
        return items
    last_day, last = points[-1]
    label = period_label(last_day, kpi.freq)
    missing = missing_periods(last_day, today, kpi, last_day)
    if missing >= STALE_PERIODS:
        add(AttentionKind.STALE, 3, f"no value since {label} ({missing} {FREQ_ADJECTIVE[kpi.freq]} periods missing).")

    if snapshot.thresholds is not None:
        rag = snapshot.thresholds.classify(last)
        if rag is not Rag.GREEN:
            before = ""
            if len(points) >= 2:
                prev_rag = snapshot.thresholds.classify(points[-2][1])
                if prev_rag is not rag:
                    before = f", was {prev_rag.value} in {period_label(points[-2][0], kpi.freq)}"
            add(AttentionKind.THRESHOLD, 3 if rag is Rag.RED else 2,
                f"{rag.value} at {num(last)} in {label} ({snapshot.thresholds.describe()}{before}).")

    if len(points) >= 2:
        prev_day, prev = points[-2]
        if prev != 0:
            # |prev|: from −100 to −50 the KPI went up 50 %, not "down 50 %"
            change = (last - prev) / abs(prev)
            if abs(change) >= move_threshold:
                direction = Direction(kpi.direction)
                if direction is Direction.BAND:
                    good = None
                else:
                    good = (change > 0) == (direction is Direction.UP)
                verdict = "" if good is None else (" (good)" if good else " (bad)")
                add(AttentionKind.MOVE, 1 if good else 2,
                    f"{'up' if change > 0 else 'down'} {abs(change):.0%} vs {period_label(prev_day, kpi.freq)} "
                    f"({num(prev)} → {num(last)}){verdict}.")
    return items


def anomaly_items(anomalies: Iterable[Anomaly], snapshots: Sequence[KpiSnapshot]) -> list[AttentionItem]:
    """Anomalies that fall in their KPI's latest period (older ones are history, not news).

    An anomaly is matched to its KPI by (product, key); one without a product
    matches the first KPI with that key.
    """
    latest: dict[tuple[str, str], dt.date] = {}
    info: dict[tuple[str, str], KpiSnapshot] = {}
    for snap in snapshots:
        points = sorted_series(snap.series)
        for key in ((snap.product, snap.kpi.key), ("", snap.kpi.key)):
            if key in info:
                continue
            info[key] = snap
            if points:
                latest[key] = points[-1][0]
    items = []
    for an in anomalies:
        key = (an.product, an.kpi_key)
        snap = info.get(key)
        if snap is None or latest.get(key) != an.period:
            continue
        expected = "" if an.expected is None else f", expected about {num(an.expected)}"
        note = f" {an.note}" if an.note else ""
        items.append(AttentionItem(
            AttentionKind.ANOMALY, 2, snap.kpi.name,
            f"unusual value {num(an.value)} in {period_label(an.period, snap.kpi.freq)}{expected}.{note}",
            an.kpi_key, snap.product or an.product,
        ))
    return items


def attention_list(
    evaluations: Iterable[GoalEvaluation],
    snapshots: Sequence[KpiSnapshot],
    today: dt.date,
    *,
    anomalies: Iterable[Anomaly] = (),
    move_threshold: float = 0.2,
    product_of_goal: dict[int, str] | None = None,
) -> list[AttentionItem]:
    """All attention items, most severe first (module docstring)."""
    items = goal_items(evaluations, product_of_goal)
    for snap in snapshots:
        items.extend(kpi_items(snap, today, move_threshold=move_threshold))
    items.extend(anomaly_items(anomalies, snapshots))
    return sorted(items, key=lambda it: (-it.severity, _KIND_ORDER[it.kind], it.subject))

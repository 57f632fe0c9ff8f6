"""Objectives group goals: status of the worst goal, average progress."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from kpidesk.domain.goals.status import SEVERITY, GoalEvaluation, GoalStatus


@dataclass(frozen=True)
class ObjectiveSummary:
    title: str
    status: GoalStatus | None  # None for an objective without goals
    average_progress: float | None
    goal_count: int
    counts: dict[GoalStatus, int]

    def line(self) -> str:
        status = self.status.label if self.status else "no goals"
        avg = "" if self.average_progress is None else f", average progress {self.average_progress:.0%}"
        return f"{self.title}: {status} ({self.goal_count} goal{'s' if self.goal_count != 1 else ''}{avg})"


def summarize_objective(title: str, evaluations: Sequence[GoalEvaluation]) -> ObjectiveSummary:
    """An objective's status is the worst of its goals' (order: achieved < on track < behind <
    at risk < overdue < missed); its progress is the mean of the goals' progress clipped to
    [0, 1], so one overshooting goal cannot hide a stalled one.
    Example: progress 120 %, 40 % → (100 % + 40 %)/2 = 70 %.
    """
    if not evaluations:
        return ObjectiveSummary(title, None, None, 0, {})
    worst = max((e.status for e in evaluations), key=SEVERITY.__getitem__)
    known = [min(1.0, max(0.0, e.progress)) for e in evaluations if e.progress is not None]
    average = sum(known) / len(known) if known else None
    return ObjectiveSummary(title, worst, average, len(evaluations), dict(Counter(e.status for e in evaluations)))

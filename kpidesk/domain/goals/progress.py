"""Progress from baseline to target, the progress expected by now, and pace."""

from __future__ import annotations

import datetime as dt

from kpidesk.domain.enums import Frequency, GoalKind
from kpidesk.domain.goals.model import MOVING_KINDS, Goal, meets
from kpidesk.domain.goals.targets import TargetSchedule
from kpidesk.domain.periods import next_period_start, period_start


def progress(
    kind: GoalKind,
    baseline: float | None,
    target: float | None,
    value: float,
    band: tuple[float, float] | None = None,
) -> float | None:
    """Share of the way from baseline to target covered by ``value``.

    Increase/decrease goals: ``(value − baseline) / (target − baseline)``. The
    same formula serves lower-is-better goals, because both differences turn
    negative: baseline 10 % churn, target 6 %, value 9 % → (9 − 10)/(6 − 10) =
    25 %. Not clipped: a move the wrong way is negative, overshooting is > 1.
    When target equals baseline the answer is 1 if the value meets it, else 0.

    Stay above / stay below / keep in band: 1 when the value satisfies the
    condition (in), 0 otherwise (out).
    """
    if kind not in MOVING_KINDS:
        return 1.0 if meets(kind, value, target, band) else 0.0
    if baseline is None or target is None:
        return None
    span = target - baseline
    if span == 0:
        return 1.0 if meets(kind, value, target, None) else 0.0
    return (value - baseline) / span


def as_of_date(latest_period: dt.date, frequency: Frequency | str) -> dt.date:
    """The day a value of the period starting ``latest_period`` speaks for: the day after the period.

    A monthly value for October is the state at the end of October, so it is
    compared with the progress expected on 1 November — not with "today",
    which would make every KPI look behind until its month closes.
    """
    return next_period_start(latest_period, frequency)


def linear_expected(start: dt.date, due: dt.date, as_of: dt.date) -> float:
    """Straight-line expected progress: ``(as_of − start) / (due + 1 day − start)``, clipped to [0, 1].

    The due date counts as a whole day, so on the day after it the expectation is 100 %.
    Example: start 1 Jul, due 31 Dec (184 days), as of 1 Nov (123 days) → 66.8 %.
    """
    total = (due + dt.timedelta(days=1) - start).days
    if total <= 0:
        return 1.0
    return min(1.0, max(0.0, (as_of - start).days / total))


def expected_progress(
    goal: Goal,
    baseline: float | None,
    target: float | None,
    period: dt.date,
    frequency: Frequency | str,
    *,
    schedule: TargetSchedule | None = None,
) -> float:
    """Progress expected for the period starting ``period``.

    Holding goals (stay above/below, band) are expected to hold all along: 1.
    Increase/decrease goals follow the per-period target of ``period`` when the
    schedule has one, ``(period_target − baseline) / (target − baseline)``;
    otherwise the straight line of :func:`linear_expected` at the end of
    ``period``.
    Example: baseline 100, target 160, stepped targets Jan–Mar 100, Apr–Jun
    120 → for May the expected progress is (120 − 100)/(160 − 100) = 33 %.
    """
    if goal.kind not in MOVING_KINDS:
        return 1.0
    freq = Frequency(frequency)
    if schedule and baseline is not None and target is not None and target != baseline:
        planned = schedule.get(period_start(period, freq))
        if planned is not None:
            return (planned - baseline) / (target - baseline)
    return linear_expected(goal.start, goal.due, as_of_date(period, freq))


def pace(actual: float | None, expected: float) -> float | None:
    """``actual / expected``; ``None`` when nothing is expected yet (expected ≤ 0) or actual is unknown."""
    if actual is None or expected <= 0:
        return None
    return actual / expected

"""Goals on a KPI: the plain data the goal rules work on, with no database.

A KPI series is a list of ``(period_start, value)`` pairs, one per period of
the KPI's frequency, sorted by date (``kpidesk.domain.periods`` convention: a
value is stored at the first day of its period).

Targets are *absolute* (``target_value``) or *relative* to the baseline
(``relative_change`` with ``relative_mode`` ``"percent"`` or ``"absolute"``):
"Increase onboarding completion by 25 %" is ``relative_change=25,
relative_mode="percent"`` and resolves to ``baseline × 1.25``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from kpidesk.domain.enums import Direction, Frequency, GoalKind, Unit
from kpidesk.domain.periods import next_period_start
from kpidesk.errors import ValidationError

Series = Sequence[tuple[dt.date, float]]

RELATIVE_PERCENT = "percent"
RELATIVE_ABSOLUTE = "absolute"

#: Goal kinds that move the KPI towards a target (progress runs baseline → target).
MOVING_KINDS = frozenset({GoalKind.INCREASE_TO, GoalKind.DECREASE_TO})
#: Goal kinds that hold the KPI on one side of a line or inside a band (in / out).
HOLDING_KINDS = frozenset({GoalKind.STAY_ABOVE, GoalKind.STAY_BELOW, GoalKind.KEEP_IN_BAND})


@dataclass(frozen=True)
class KpiInfo:
    """What the goal rules need to know about the KPI a goal is set on."""

    key: str
    name: str
    unit: Unit | str = Unit.COUNT
    direction: Direction | str = Direction.UP
    frequency: Frequency | str = Frequency.MONTH
    low: float | None = None  # the values the KPI can take (e.g. 0–100 for uptime), for forecasts
    high: float | None = None

    @property
    def freq(self) -> Frequency:
        return Frequency(self.frequency)


@dataclass(frozen=True)
class Goal:
    """A SMART goal on one KPI (mirrors the ``goal`` table, minus storage columns).

    For ``KEEP_IN_BAND`` the band is ``[band_low, band_high]`` and
    ``target_value`` is unused. For the other kinds the target is
    ``target_value``, or, when that is ``None``, the relative change applied to
    the baseline (see :func:`resolve_target`).
    """

    kpi_key: str
    kind: GoalKind
    start: dt.date
    due: dt.date
    target_value: float | None = None
    relative_change: float | None = None
    relative_mode: str = ""
    band_low: float | None = None
    band_high: float | None = None
    baseline_value: float | None = None
    baseline_date: dt.date | None = None
    statement: str = ""
    owner: str = ""
    objective: str = ""
    rationale: str = ""
    confidence: int | None = None
    created: dt.date | None = None
    id: int | None = None

    def with_baseline(self, series: Series, frequency: Frequency | str) -> Goal:
        """This goal with its baseline filled from ``series`` when it has none.

        Rule (:func:`default_baseline`): the last value of a period that ended
        before the start date, else the first value.
        """
        if self.baseline_value is not None:
            return self
        found = default_baseline(series, self.start, frequency)
        if found is None:
            return self
        day, value = found
        return dataclasses.replace(self, baseline_value=value, baseline_date=day)


def num(value: float, digits: int = 4) -> str:
    """A number for a sentence: thousands separated with no decimals from 1,000 up
    (360,512 not 3.605e+05), else ``digits`` significant digits (99.89, 2.127)."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def signed(value: float, digits: int = 3) -> str:
    """:func:`num` with an explicit sign: +1.33, −4,000."""
    return ("+" if value >= 0 else "-") + num(abs(value), digits)


def sorted_series(series: Series) -> list[tuple[dt.date, float]]:
    """The finite values of ``series`` sorted by date (None/NaN dropped)."""
    return sorted(
        (day, float(value))
        for day, value in series
        if value is not None and not (isinstance(value, float) and math.isnan(value))
    )


def default_baseline(
    series: Series, start: dt.date, frequency: Frequency | str
) -> tuple[dt.date, float] | None:
    """The baseline a goal gets when none is typed in.

    The last value whose period ended before ``start`` (the state the goal
    sets out from: a goal starting 1 July on a monthly KPI starts from June);
    when there is none, the first value. ``None`` for an empty series.
    """
    points = sorted_series(series)
    if not points:
        return None
    before = [p for p in points if next_period_start(p[0], frequency) <= start]
    return before[-1] if before else points[0]


def direction_of(kind: GoalKind) -> Direction:
    """Which way is good for a goal kind: up for increase/stay above, down for
    decrease/stay below, band for keep-in-band."""
    if kind in (GoalKind.INCREASE_TO, GoalKind.STAY_ABOVE):
        return Direction.UP
    if kind in (GoalKind.DECREASE_TO, GoalKind.STAY_BELOW):
        return Direction.DOWN
    return Direction.BAND


def resolve_relative_target(kind: GoalKind, baseline: float, change: float, mode: str) -> float:
    """The absolute target of a relative goal.

    ``mode="percent"``: ``baseline × (1 + s·change/100)``; ``mode="absolute"``:
    ``baseline + s·change``; ``s`` is +1 for increase/stay above and −1 for
    decrease/stay below, and ``change`` is the size of the move, so "reduce
    churn by 20 %" is ``change=20`` on a ``DECREASE_TO`` goal. A negative
    ``change`` is taken as a size too (``abs``), because "decrease by −20 %"
    means the same to a reader as "decrease by 20 %".

    Example: baseline 40 %, +25 % → 40 × 1.25 = 50; +5 (points) → 45. A negative
    baseline moves by its size: −100 increased by 25 % → −100 + 25 = −75
    (in general ``baseline + s·|baseline|·change/100``).
    """
    if kind is GoalKind.KEEP_IN_BAND:
        raise ValidationError("A keep-in-band goal needs a band (low and high), not a relative change.")
    sign = 1.0 if direction_of(kind) is Direction.UP else -1.0
    size = abs(change)
    if mode == RELATIVE_PERCENT:
        if baseline == 0:
            raise ValidationError(
                "A relative target in percent needs a non-zero baseline; the baseline is 0."
            )
        # measured against the baseline's size: +25 % of −100 is −75, not −125 (which would be a decrease)
        return baseline + sign * abs(baseline) * size / 100.0
    if mode == RELATIVE_ABSOLUTE:
        return baseline + sign * size
    raise ValidationError(f"Unknown relative mode {mode!r}: use 'percent' or 'absolute'.")


def resolve_target(goal: Goal) -> float | None:
    """The absolute target value of ``goal`` (``None`` for bands or when unknown).

    An explicit ``target_value`` wins; otherwise a relative change is resolved
    against the baseline (:func:`resolve_relative_target`).
    """
    if goal.kind is GoalKind.KEEP_IN_BAND:
        return None
    if goal.target_value is not None:
        return float(goal.target_value)
    if goal.relative_change is not None and goal.baseline_value is not None:
        return resolve_relative_target(
            goal.kind, goal.baseline_value, goal.relative_change, goal.relative_mode or RELATIVE_PERCENT
        )
    return None


def meets(kind: GoalKind, value: float, target: float | None, band: tuple[float, float] | None) -> bool:
    """Whether ``value`` satisfies the goal condition.

    increase to / stay above: ``value ≥ target``; decrease to / stay below:
    ``value ≤ target``; keep in band: ``low ≤ value ≤ high``.
    """
    if kind is GoalKind.KEEP_IN_BAND:
        if band is None:
            return False
        return band[0] <= value <= band[1]
    if target is None:
        return False
    if direction_of(kind) is Direction.UP:
        return value >= target
    return value <= target


def band_of(goal: Goal) -> tuple[float, float] | None:
    """The ``(low, high)`` band of a keep-in-band goal, else ``None``."""
    if goal.kind is GoalKind.KEEP_IN_BAND and goal.band_low is not None and goal.band_high is not None:
        return (float(goal.band_low), float(goal.band_high))
    return None


def validate_goal(goal: Goal) -> None:
    """Refuse a goal that cannot be evaluated, with a sentence saying why.

    Rules: due after start; every number finite; a band goal has low < high; other kinds have a
    target value or a relative change; confidence is 1–10.
    """
    if goal.due <= goal.start:
        raise ValidationError(
            f"The due date {goal.due.isoformat()} must be after the start date {goal.start.isoformat()}."
        )
    # NaN or ±infinity would be stored and then break every status report that evaluates the goal
    for label, value in (
        ("target", goal.target_value),
        ("relative change", goal.relative_change),
        ("band low", goal.band_low),
        ("band high", goal.band_high),
        ("baseline", goal.baseline_value),
    ):
        if value is not None and not math.isfinite(float(value)):
            raise ValidationError(f"The goal's {label} must be a finite number, not {value}.")
    if goal.kind is GoalKind.KEEP_IN_BAND:
        if goal.band_low is None or goal.band_high is None:
            raise ValidationError("A keep-in-band goal needs both a low and a high bound.")
        if goal.band_low >= goal.band_high:
            raise ValidationError(
                f"The band low {goal.band_low:g} must be below the band high {goal.band_high:g}."
            )
    elif goal.target_value is None and goal.relative_change is None:
        raise ValidationError("The goal needs a target value or a relative change (for example +25 %).")
    if goal.relative_change is not None and goal.target_value is None and goal.relative_mode not in (
        "",
        RELATIVE_PERCENT,
        RELATIVE_ABSOLUTE,
    ):
        raise ValidationError(f"Unknown relative mode {goal.relative_mode!r}: use 'percent' or 'absolute'.")
    if goal.confidence is not None and not 1 <= goal.confidence <= 10:
        raise ValidationError(f"Confidence must be between 1 and 10, not {goal.confidence}.")

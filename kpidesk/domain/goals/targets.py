"""Per-period targets of a KPI (hand-entered or ramps) and RAG thresholds."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum

from kpidesk.domain.enums import Direction, Frequency
from kpidesk.domain.goals.model import num
from kpidesk.domain.periods import next_period_start, period_start
from kpidesk.errors import ValidationError

TargetSchedule = dict[dt.date, float]


def periods_between(first: dt.date, last: dt.date, frequency: Frequency | str) -> list[dt.date]:
    """Period starts from the period containing ``first`` to the one containing ``last``, inclusive."""
    freq = Frequency(frequency)
    current = period_start(first, freq)
    end = period_start(last, freq)
    if end < current:
        raise ValidationError(
            f"The ramp ends ({last.isoformat()}) before it starts ({first.isoformat()})."
        )
    out: list[dt.date] = []
    while current <= end:
        out.append(current)
        current = next_period_start(current, freq)
    return out


def linear_ramp(
    first: dt.date, last: dt.date, frequency: Frequency | str, start_value: float, end_value: float
) -> TargetSchedule:
    """Targets that move in equal steps from ``start_value`` (first period) to ``end_value`` (last).

    Period ``i`` of ``n`` (0-based) gets ``start + (end − start) · i / (n − 1)``;
    a one-period ramp is just ``end_value``.
    Example: Jan–Apr, 100 → 130 gives 100, 110, 120, 130.
    """
    periods = periods_between(first, last, frequency)
    n = len(periods)
    if n == 1:
        return {periods[0]: float(end_value)}
    return {p: start_value + (end_value - start_value) * i / (n - 1) for i, p in enumerate(periods)}


def stepped_ramp(
    first: dt.date,
    last: dt.date,
    frequency: Frequency | str,
    start_value: float,
    end_value: float,
    *,
    steps: int,
) -> TargetSchedule:
    """Targets that stay flat for blocks of periods and jump between blocks.

    The ``n`` periods are cut into ``steps`` consecutive blocks of near-equal
    length (block of period ``i`` is ``⌊i · steps / n⌋``); block ``k`` gets
    ``start + (end − start) · k / (steps − 1)``, so the first block holds
    ``start_value`` and the last ``end_value``.
    Example: Jan–Dec monthly, 100 → 160 in 4 steps: Jan–Mar 100, Apr–Jun 120,
    Jul–Sep 140, Oct–Dec 160.
    """
    periods = periods_between(first, last, frequency)
    n = len(periods)
    if steps < 1:
        raise ValidationError(f"A stepped ramp needs at least one step, not {steps}.")
    if steps > n:
        raise ValidationError(f"A stepped ramp over {n} periods cannot have {steps} steps.")
    if steps == 1:
        return {p: float(end_value) for p in periods}
    out: TargetSchedule = {}
    for i, p in enumerate(periods):
        block = i * steps // n
        out[p] = start_value + (end_value - start_value) * block / (steps - 1)
    return out


def target_for(schedule: TargetSchedule, day: dt.date, frequency: Frequency | str) -> float | None:
    """The target of the period containing ``day``, or ``None`` when none is set."""
    return schedule.get(period_start(day, frequency))


class Rag(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


@dataclass(frozen=True)
class RagThresholds:
    """Green/amber boundaries of a KPI, read according to its direction.

    - up (higher is better): green when ``value ≥ green``, amber when
      ``value ≥ amber``, else red (so ``green ≥ amber``).
    - down (lower is better): green when ``value ≤ green``, amber when
      ``value ≤ amber``, else red (so ``green ≤ amber``).
    - band: green inside ``[green, green_high]``, amber inside the wider
      ``[amber, amber_high]``, else red.
    """

    direction: Direction
    green: float
    amber: float
    green_high: float | None = None
    amber_high: float | None = None

    def __post_init__(self) -> None:
        d = Direction(self.direction)
        for label, line in (("green", self.green), ("amber", self.amber), ("green high", self.green_high),
                            ("amber high", self.amber_high)):
            # NaN compares false with everything, so it would pass the order checks below
            if line is not None and not math.isfinite(float(line)):
                raise ValidationError(f"The {label} line must be a finite number, not {line}.")
        if d is Direction.UP and self.green < self.amber:
            raise ValidationError(
                f"For a higher-is-better KPI the green line ({self.green:g}) must not be below "
                f"the amber line ({self.amber:g})."
            )
        if d is Direction.DOWN and self.green > self.amber:
            raise ValidationError(
                f"For a lower-is-better KPI the green line ({self.green:g}) must not be above "
                f"the amber line ({self.amber:g})."
            )
        if d is Direction.BAND:
            if self.green_high is None or self.amber_high is None:
                raise ValidationError("A band KPI needs green and amber ranges (low and high for each).")
            if not (self.amber <= self.green <= self.green_high <= self.amber_high):
                raise ValidationError(
                    "For a band KPI the green range must sit inside the amber range: "
                    f"amber low {self.amber:g} ≤ green low {self.green:g} ≤ green high "
                    f"{self.green_high:g} ≤ amber high {self.amber_high:g}."
                )

    def classify(self, value: float) -> Rag:
        """Green, amber or red for ``value`` (boundaries count as the better colour)."""
        d = Direction(self.direction)
        if d is Direction.UP:
            return Rag.GREEN if value >= self.green else Rag.AMBER if value >= self.amber else Rag.RED
        if d is Direction.DOWN:
            return Rag.GREEN if value <= self.green else Rag.AMBER if value <= self.amber else Rag.RED
        assert self.green_high is not None
        assert self.amber_high is not None
        if self.green <= value <= self.green_high:
            return Rag.GREEN
        if self.amber <= value <= self.amber_high:
            return Rag.AMBER
        return Rag.RED

    def describe(self) -> str:
        """The thresholds in words, e.g. "green ≥ 40, amber ≥ 30"."""
        d = Direction(self.direction)
        if d is Direction.UP:
            return f"green ≥ {num(self.green)}, amber ≥ {num(self.amber)}"
        if d is Direction.DOWN:
            return f"green ≤ {num(self.green)}, amber ≤ {num(self.amber)}"
        assert self.green_high is not None
        assert self.amber_high is not None
        return f"green {num(self.green)}–{num(self.green_high)}, amber {num(self.amber)}–{num(self.amber_high)}"

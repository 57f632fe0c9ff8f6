"""The result records of an explanation: plain frozen dataclasses, no pandas.

These records are what the GUI "Why did it move?" panel, the review pack and
the CLI read. Every number is in the KPI's own unit (percent KPIs in
percentage points), and every list of parts adds up to the ``change`` of the
record that holds it (to floating-point rounding, far below 1e-9 relative).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class SegmentStatus(StrEnum):
    """How a segment relates to the two periods being compared."""

    BOTH = "both"  # present in the comparison period and in the current one
    NEW = "new"  # appears in the current period only
    GONE = "gone"  # present in the comparison period only
    REMAINDER = "remainder"  # the part of the total no segment of this kind carries


class Method(StrEnum):
    ADDITIVE = "additive"  # total = sum of segments
    RATIO = "ratio"  # total = sum of numerators / sum of denominators
    FORMULA = "formula"  # value = f(inputs), Shapley attribution


class DriverKind(StrEnum):
    SEGMENT = "segment"  # additive contribution of one segment
    RATE = "rate"  # a segment's own rate moved (ratio KPIs)
    MIX = "mix"  # a segment's share of the denominator moved (ratio KPIs)
    INTERACTION = "interaction"  # rate and mix moved together (ratio KPIs)
    INPUT = "input"  # an input of a formula KPI (Shapley)
    REMAINDER = "remainder"  # the unsegmented part of the total
    OTHER = "other"  # small drivers grouped together


REMAINDER_SEGMENT = "(unsegmented)"


@dataclass(frozen=True, slots=True)
class SegmentContribution:
    """One segment of an additive decomposition.

    ``change = current - base`` with a missing side counted as 0, and
    ``share = change / total change`` (None when the total did not move).
    """

    segment: str
    label: str
    base: float | None
    current: float | None
    change: float
    share: float | None
    status: SegmentStatus


@dataclass(frozen=True, slots=True)
class AdditiveDecomposition:
    """``current_total - base_total = sum(s.change for s in segments)``."""

    kind: str
    base_total: float
    current_total: float
    change: float
    segments: tuple[SegmentContribution, ...]


@dataclass(frozen=True, slots=True)
class RatioSegment:
    """One segment of a shift-share decomposition of ``R = sum N / sum D``.

    With weights ``w = D / sum D`` and rates ``r = scale * N / D`` in the two
    periods (0 = comparison, 1 = current) and ``R0`` the comparison total rate:

    - ``rate_effect = w0 * (r1 - r0)``
    - ``mix_effect = (w1 - w0) * (r0 - R0)``
    - ``interaction = (w1 - w0) * (r1 - r0)``

    A new segment takes ``r0 = r1`` and a gone one ``r1 = r0``, so its whole
    effect is mix: entering or leaving changes who is in the denominator.
    """

    segment: str
    label: str
    base_numerator: float
    base_denominator: float
    current_numerator: float
    current_denominator: float
    base_rate: float | None
    current_rate: float | None
    base_weight: float
    current_weight: float
    rate_effect: float
    mix_effect: float
    interaction: float
    status: SegmentStatus

    @property
    def total_effect(self) -> float:
        """This segment's whole part of the change: rate + mix + interaction."""
        return self.rate_effect + self.mix_effect + self.interaction


@dataclass(frozen=True, slots=True)
class RatioDecomposition:
    """``change = rate_effect + mix_effect + interaction``, each the sum over segments."""

    kind: str
    scale: float
    base_rate: float
    current_rate: float
    change: float
    rate_effect: float
    mix_effect: float
    interaction: float
    segments: tuple[RatioSegment, ...]


@dataclass(frozen=True, slots=True)
class InputContribution:
    """One input of a formula KPI and its Shapley value (its part of the change)."""

    name: str
    base: float
    current: float
    contribution: float
    share: float | None


@dataclass(frozen=True, slots=True)
class ShapleyAttribution:
    """``current_value - base_value = sum(i.contribution for i in inputs)``.

    ``exact`` is False when there were more inputs than the exact limit and the
    values come from sampled orderings (still adding up exactly: every ordering
    telescopes to the full change).
    """

    base_value: float
    current_value: float
    change: float
    inputs: tuple[InputContribution, ...]
    exact: bool = True


Decomposition = AdditiveDecomposition | RatioDecomposition | ShapleyAttribution


@dataclass(frozen=True, slots=True)
class Driver:
    """One bar of the waterfall and one line of the ranked list.

    ``segment`` is the stored segment string (``"region:EU"``) the GUI filters
    the trend chart to on click; None for drivers that are not one segment
    (interaction, formula inputs, "other"). ``members`` lists what an "other"
    driver groups.
    """

    label: str
    kind: DriverKind
    contribution: float
    share: float | None
    sentence: str
    segment: str | None = None
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Breakdown:
    """The explanation of one KPI along one segment kind (or its formula inputs).

    ``sum(d.contribution for d in drivers) == decomposition.change``.
    """

    kind: str
    method: Method
    decomposition: Decomposition
    drivers: tuple[Driver, ...]

    @property
    def concentration(self) -> float:
        """Largest |driver| over the sum of |drivers|: how sharply this kind explains."""
        sizes = [abs(d.contribution) for d in self.drivers if d.kind is not DriverKind.OTHER]
        total = sum(abs(d.contribution) for d in self.drivers)
        return max(sizes) / total if sizes and total > 0 else 0.0


@dataclass(frozen=True, slots=True)
class ContextNote:
    """An annotation or an anomaly dated inside one of the compared periods."""

    day: dt.date
    text: str
    source: str  # "annotation" or "anomaly"
    period: str = "current"  # "current" or "comparison"
    segment: str = ""


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why one KPI moved between a comparison period and the current period.

    ``breakdowns`` are ordered best first (the kind that explains the change
    most sharply); ``headline`` is the one plain sentence for the whole move.
    """

    kpi_key: str
    kpi_name: str
    unit: str
    period_label: str
    compare_label: str
    base_value: float
    current_value: float
    change: float
    relative_change: float | None
    headline: str
    breakdowns: tuple[Breakdown, ...]
    context: tuple[ContextNote, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def drivers(self) -> tuple[Driver, ...]:
        """The drivers of the best breakdown (empty when nothing is segmented)."""
        return self.breakdowns[0].drivers if self.breakdowns else ()

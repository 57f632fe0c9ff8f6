"""Ranked drivers with one plain sentence each, the headline, and the waterfall.

Ranking rule: drivers are ordered by |contribution| (largest first). A driver
is shown on its own when it is among the first ``max_drivers`` and carries at
least ``min_share`` of the summed |contributions|; the rest are merged into a
single "other" driver (when two or more are left; a lone small driver is kept
as itself). The interaction term of a ratio KPI is never merged, so it is
always in view. Merging keeps the sum: the drivers of a breakdown always add
up to its change.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import partial

from kpidesk.domain.explain.model import (
    AdditiveDecomposition,
    Breakdown,
    ContextNote,
    Decomposition,
    Driver,
    DriverKind,
    Explanation,
    InputContribution,
    Method,
    RatioDecomposition,
    RatioSegment,
    SegmentContribution,
    SegmentStatus,
    ShapleyAttribution,
)
from kpidesk.domain.explain.wording import (
    format_amount,
    format_number,
    format_relative,
    format_share,
)

MAX_DRIVERS = 6
MIN_SHARE = 0.05


def _share(part: float, change: float) -> float | None:
    return part / change if change != 0 else None


# Beyond ±1000 % a share says "the parts cancelled out", not anything about the part.
MEANINGFUL_SHARE = 10.0


def _paren(share: float | None) -> str:
    """``" (73 % of the change)"`` or nothing when the share means nothing."""
    clause = _of_change(share)
    return f" ({clause[2:]})" if clause else ""


def _of_change(share: float | None) -> str:
    """``", 73 % of the change"`` or nothing when the share means nothing."""
    if share is None or abs(share) > MEANINGFUL_SHARE:
        return ""
    return f", {format_share(share)} of the change"


# A driver and the function that writes its sentence: sentences are written
# only for drivers that stay on their own after small ones are grouped.
Pending = list[tuple[Driver, Callable[[], str]]]


def additive_drivers(dec: AdditiveDecomposition, unit: str, currency: str = "€") -> Pending:
    """One driver per segment: "EU: 120,000 € → 89,900 €, −30,100 € (73 % of the change)."."""
    def amt(value: float, signed: bool = False, change: bool = False) -> str:
        return format_amount(value, unit, signed=signed, change=change, currency=currency)

    def sentence(s: SegmentContribution) -> str:
        tail = f"{amt(s.change, signed=True, change=True)}{_paren(s.share)}."
        if s.status is SegmentStatus.NEW:
            return f"{s.label}: new this period at {amt(s.current or 0.0)}, {tail}"
        if s.status is SegmentStatus.GONE:
            return f"{s.label}: absent this period (was {amt(s.base or 0.0)}), {tail}"
        if s.status is SegmentStatus.REMAINDER:
            return (f"Part of the total not tagged with a {dec.kind or 'segment'}: "
                    f"{amt(s.base or 0.0)} → {amt(s.current or 0.0)}, {tail}")
        return f"{s.label}: {amt(s.base or 0.0)} → {amt(s.current or 0.0)}, {tail}"

    drivers: Pending = []
    for s in dec.segments:
        kind = DriverKind.REMAINDER if s.status is SegmentStatus.REMAINDER else DriverKind.SEGMENT
        drivers.append((Driver(s.label, kind, s.change, s.share, "",
                               segment=None if kind is DriverKind.REMAINDER else s.segment),
                        partial(sentence, s)))
    return drivers


def ratio_drivers(dec: RatioDecomposition, unit: str, currency: str = "€") -> Pending:
    """A rate driver and a mix driver per segment, and one interaction driver."""
    def amt(value: float | None, signed: bool = False, change: bool = False) -> str:
        return format_amount(value or 0.0, unit, signed=signed, change=change, currency=currency)

    def rate_sentence(s: RatioSegment) -> str:
        return (f"{s.label}: its own rate went {amt(s.base_rate)} → {amt(s.current_rate)} "
                f"at a {format_number(s.base_weight * 100)} % weight, "
                f"{amt(s.rate_effect, signed=True, change=True)} (rate effect"
                f"{_of_change(_share(s.rate_effect, dec.change))}).")

    def mix_sentence(s: RatioSegment) -> str:
        rate = s.base_rate if s.base_rate is not None else s.current_rate
        side = "above" if (rate or 0.0) > dec.base_rate else "below"
        if s.status is SegmentStatus.NEW:
            what = f"new this period with {format_number(s.current_weight * 100)} % of the weight"
        elif s.status is SegmentStatus.GONE:
            what = f"gone this period (had {format_number(s.base_weight * 100)} % of the weight)"
        else:
            what = (f"weight {format_number(s.base_weight * 100)} % → "
                    f"{format_number(s.current_weight * 100)} %")
        return (f"{s.label}: {what}, with a rate {side} the average "
                f"({amt(rate)} vs {amt(dec.base_rate)}), "
                f"{amt(s.mix_effect, signed=True, change=True)} (mix effect"
                f"{_of_change(_share(s.mix_effect, dec.change))}).")

    def interaction_sentence() -> str:
        return (f"Rates and mix moving together: {amt(dec.interaction, signed=True, change=True)} "
                f"(interaction{_of_change(_share(dec.interaction, dec.change))}).")

    drivers: Pending = []
    for s in dec.segments:
        segment = None if s.status is SegmentStatus.REMAINDER else s.segment
        if s.rate_effect != 0:
            drivers.append((Driver(f"{s.label} rate", DriverKind.RATE, s.rate_effect,
                                   _share(s.rate_effect, dec.change), "", segment=segment),
                            partial(rate_sentence, s)))
        if s.mix_effect != 0:
            drivers.append((Driver(f"{s.label} mix", DriverKind.MIX, s.mix_effect,
                                   _share(s.mix_effect, dec.change), "", segment=segment),
                            partial(mix_sentence, s)))
    if dec.interaction != 0:
        drivers.append((Driver("interaction", DriverKind.INTERACTION, dec.interaction,
                               _share(dec.interaction, dec.change), ""), interaction_sentence))
    return drivers


def input_drivers(att: ShapleyAttribution, unit: str, input_units: dict[str, str] | None = None,
                  input_labels: dict[str, str] | None = None, currency: str = "€") -> Pending:
    """One driver per formula input: "CAC: 100 € → 130 € (+30.0 %), −0.923 (82 % of the change)."."""
    def sentence(i: InputContribution, label: str) -> str:
        in_unit = (input_units or {}).get(i.name, "")
        moved = format_relative((i.current - i.base) / abs(i.base)) if i.base else "from 0"
        return (f"{label}: {format_amount(i.base, in_unit, currency=currency)} → "
                f"{format_amount(i.current, in_unit, currency=currency)} ({moved}), "
                f"{format_amount(i.contribution, unit, signed=True, change=True, currency=currency)}"
                f"{_paren(i.share)}.")

    drivers: Pending = []
    for i in att.inputs:
        label = (input_labels or {}).get(i.name, i.name)
        drivers.append((Driver(label, DriverKind.INPUT, i.contribution, i.share, ""),
                        partial(sentence, i, label)))
    return drivers


def group_small(drivers: Sequence[Driver], change: float, unit: str, *, max_drivers: int = MAX_DRIVERS,
                min_share: float = MIN_SHARE, currency: str = "€") -> tuple[Driver, ...]:
    """Rank by |contribution| and merge the small ones into "other" (rule: module docstring)."""
    ranked = sorted(drivers, key=lambda d: -abs(d.contribution))
    ranked = [d for d in ranked if d.contribution != 0 or d.kind is DriverKind.INTERACTION]
    scale = sum(abs(d.contribution) for d in ranked)
    kept: list[Driver] = []
    small: list[Driver] = []
    for d in ranked:
        big = scale > 0 and abs(d.contribution) >= min_share * scale
        if d.kind is DriverKind.INTERACTION or (big and len(kept) < max_drivers):
            kept.append(d)
        else:
            small.append(d)
    if len(small) == 1:
        kept.append(small[0])
    elif small:
        total = sum(d.contribution for d in small)
        sentence = (f"{len(small)} smaller drivers together: "
                    f"{format_amount(total, unit, signed=True, change=True, currency=currency)}"
                    f"{_paren(_share(total, change))}.")
        kept.append(Driver(f"other ({len(small)})", DriverKind.OTHER, total, _share(total, change),
                           sentence, members=tuple(d.label for d in small)))
    return tuple(kept)


def make_breakdown(dec: Decomposition, unit: str, *, currency: str = "€",
                   input_units: dict[str, str] | None = None,
                   input_labels: dict[str, str] | None = None,
                   max_drivers: int = MAX_DRIVERS, min_share: float = MIN_SHARE) -> Breakdown:
    """Wrap a decomposition with its ranked, grouped drivers."""
    if isinstance(dec, AdditiveDecomposition):
        method, kind, raw = Method.ADDITIVE, dec.kind, additive_drivers(dec, unit, currency)
    elif isinstance(dec, RatioDecomposition):
        method, kind, raw = Method.RATIO, dec.kind, ratio_drivers(dec, unit, currency)
    else:
        method, kind = Method.FORMULA, "inputs"
        raw = input_drivers(dec, unit, input_units, input_labels, currency)
    writers = {id(d): write for d, write in raw}
    grouped = group_small([d for d, _ in raw], dec.change, unit, max_drivers=max_drivers,
                          min_share=min_share, currency=currency)
    drivers = tuple(replace(d, sentence=writers[id(d)]()) if id(d) in writers else d for d in grouped)
    return Breakdown(kind, method, dec, drivers)


def _driver_phrase(d: Driver, unit: str, currency: str, with_share: bool) -> str:
    text = f"{d.label} {format_amount(d.contribution, unit, signed=True, change=True, currency=currency)}"
    if with_share and d.share is not None and abs(d.share) <= MEANINGFUL_SHARE:
        text += f" ({format_share(d.share)})"
    return text


def headline(kpi_name: str, unit: str, base: float, current: float, *, compare_label: str,
             breakdowns: Sequence[Breakdown], currency: str = "€") -> str:
    """The one sentence for the whole move.

    Additive: "Revenue −8.2 % (−41,300 €) vs 2026-Q2: EU −30,100 € (73 %), Pro plan −15,400 €"
    (the top driver of the best kind with its share, then the top driver of
    the next kinds). Ratio: the rate / mix / interaction totals come first, so
    a Simpson's-paradox move reads as mix at once, after the plain words
    for it (:func:`simpsons_paradox`). Percent KPIs give the
    levels and the change in pp rather than a relative change.
    """
    change = current - base
    if change == 0:
        return f"{kpi_name} unchanged at {format_amount(current, unit, currency=currency)} vs {compare_label}"
    delta = format_amount(change, unit, signed=True, change=True, currency=currency)
    if unit == "percent" or base == 0:
        levels = (f"{format_amount(base, unit, currency=currency)} → "
                  f"{format_amount(current, unit, currency=currency)}")
        text = f"{kpi_name} {delta} ({levels}) vs {compare_label}"
    else:
        text = f"{kpi_name} {format_relative(change / abs(base))} ({delta}) vs {compare_label}"
    if not breakdowns:
        return text
    parts: list[str] = []
    best = breakdowns[0]
    if isinstance(best.decomposition, RatioDecomposition):
        dec = best.decomposition
        paradox = simpsons_paradox(dec)
        if paradox:
            parts.append(paradox)
        effects = sorted([("mix", dec.mix_effect), ("rates", dec.rate_effect),
                          ("interaction", dec.interaction)], key=lambda e: -abs(e[1]))
        parts.append(", ".join(
            f"{name} {format_amount(value, unit, signed=True, change=True, currency=currency)}"
            for name, value in effects))
    # The headline names what pushed the way the KPI went; drivers against the
    # move are in the list below it.
    top = [d for d in best.drivers if d.kind not in (DriverKind.OTHER, DriverKind.INTERACTION)
           and d.contribution * change > 0]
    if top:
        parts.append(_driver_phrase(top[0], unit, currency, with_share=True))
    for other in breakdowns[1:3]:
        firsts = [d for d in other.drivers if d.kind not in (DriverKind.OTHER, DriverKind.INTERACTION)
                  and d.contribution * change > 0]
        if firsts and other.method is not Method.FORMULA:
            parts.append(_driver_phrase(firsts[0], unit, currency, with_share=False))
    return text + ": " + ", ".join(parts)


def simpsons_paradox(dec: RatioDecomposition) -> str:
    """The plain words for a Simpson's paradox, or ``""`` when there is none.

    Rule: at least two segments present in both periods, every one of them
    saw its rate move against the total's change, and the total still moved
    the other way, which only a shift of the mix can do.
    """
    both = [s for s in dec.segments if s.status is SegmentStatus.BOTH
            and s.base_rate is not None and s.current_rate is not None]
    if dec.change == 0 or len(both) < 2:
        return ""
    if not all((s.current_rate - s.base_rate) * dec.change < 0 for s in both):  # type: ignore[operator]
        return ""
    kind = dec.kind or "segment"
    moved = "rose" if dec.change < 0 else "fell"
    toward = "lower" if dec.change < 0 else "higher"
    return f"every {kind}'s rate {moved}, yet the mix moved toward {toward}-rate {kind}s"


def order_breakdowns(breakdowns: Iterable[Breakdown]) -> tuple[Breakdown, ...]:
    """Best first: the kind whose largest driver carries most of the movement."""
    return tuple(sorted(breakdowns, key=lambda b: (-b.concentration, b.kind)))


def context_in_periods(notes: Iterable[ContextNote], current: tuple[dt.date, dt.date],
                       comparison: tuple[dt.date, dt.date]) -> tuple[ContextNote, ...]:
    """The notes dated inside the current or the comparison period (ends inclusive), by date."""
    kept = []
    for note in notes:
        for (start, end), name in ((current, "current"), (comparison, "comparison")):
            if start <= note.day <= end:
                kept.append(ContextNote(note.day, note.text, note.source, name, note.segment))
                break
    return tuple(sorted(kept, key=lambda n: (n.day, n.source, n.text)))


def waterfall(explanation: Explanation, breakdown: Breakdown | None = None
              ) -> list[tuple[str, float, float]]:
    """Bars from the comparison value to the current value: ``(label, start, end)``.

    The first bar is the comparison value (0 → base), then one floating bar
    per driver (running total before → after), then the current value
    (0 → current). The last driver ends at the current value to rounding.
    """
    chosen = breakdown or (explanation.breakdowns[0] if explanation.breakdowns else None)
    bars = [(explanation.compare_label, 0.0, explanation.base_value)]
    running = explanation.base_value
    for d in chosen.drivers if chosen else ():
        bars.append((d.label, running, running + d.contribution))
        running += d.contribution
    bars.append((explanation.period_label, 0.0, explanation.current_value))
    return bars


def build_explanation(*, kpi_key: str, kpi_name: str, unit: str, period_label: str,
                      compare_label: str, base_value: float, current_value: float,
                      breakdowns: Iterable[Breakdown], context: Iterable[ContextNote] = (),
                      notes: Iterable[str] = (), currency: str = "€") -> Explanation:
    """Assemble an Explanation: order the breakdowns and write the headline."""
    ordered = order_breakdowns(breakdowns)
    change = current_value - base_value
    if not (math.isfinite(base_value) and math.isfinite(current_value)):
        missing = compare_label if not math.isfinite(base_value) else period_label
        # Without both values there is no change, so no part of it to show.
        return Explanation(kpi_key, kpi_name, unit, period_label, compare_label, base_value,
                           current_value, math.nan, None,
                           f"{kpi_name}: no value for {missing}, so there is no change to explain",
                           (), tuple(context), tuple(notes))
    return Explanation(
        kpi_key=kpi_key,
        kpi_name=kpi_name,
        unit=unit,
        period_label=period_label,
        compare_label=compare_label,
        base_value=base_value,
        current_value=current_value,
        change=change,
        relative_change=change / abs(base_value) if base_value else None,
        headline=headline(kpi_name, unit, base_value, current_value, compare_label=compare_label,
                          breakdowns=ordered, currency=currency),
        breakdowns=ordered,
        context=tuple(context),
        notes=tuple(notes),
    )

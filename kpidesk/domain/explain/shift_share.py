"""Shift-share decomposition of a ratio KPI into rate, mix and interaction.

A ratio KPI is ``R = scale * sum_i N_i / sum_i D_i`` (conversion = conversions
/ visitors with scale 100 for percentage points, ARPU = revenue / users with
scale 1). Write it as a weighted mean of segment rates: ``R = sum_i w_i r_i``
with ``w_i = D_i / sum D`` (the mix) and ``r_i = scale * N_i / D_i``. Between
the comparison period (0) and the current one (1), for every segment exactly

    w1 r1 - w0 r0 = w0 (r1 - r0)             rate effect: its own rate moved
                  + (w1 - w0) (r0 - R0)      mix effect: its weight moved
                  + (w1 - w0) (r1 - r0)      interaction: both moved together
                  + (w1 - w0) R0

and the last term sums to ``R0 * (sum w1 - sum w0) = 0`` over the segments,
so rate + mix + interaction add up exactly to ``R1 - R0``. Centring the mix on
``R0`` makes each segment's mix effect mean something on its own: gaining
weight helps the total only when the segment converts better than average.

Simpson's paradox (every segment's rate rises, the total falls) comes out as
a positive rate effect and a larger negative mix effect: weight moved toward
segments with a low rate.

A segment that appears takes ``r0 = r1`` and one that disappears ``r1 = r0``:
its rate effect and interaction are then 0 and its whole part is mix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from kpidesk.domain.explain.additive import remainder, status_of
from kpidesk.domain.explain.model import (
    REMAINDER_SEGMENT,
    RatioDecomposition,
    RatioSegment,
    SegmentStatus,
)
from kpidesk.domain.explain.wording import segment_label
from kpidesk.errors import ValidationError


class RatioArrays(NamedTuple):
    """Per-row and per-group outputs of :func:`ratio_arrays`."""

    w0: np.ndarray
    w1: np.ndarray
    r0: np.ndarray
    r1: np.ndarray
    rate: np.ndarray
    mix: np.ndarray
    interaction: np.ndarray
    base_rate: np.ndarray  # per group, NaN when the group's denominator is 0
    current_rate: np.ndarray
    change: np.ndarray
    rate_total: np.ndarray
    mix_total: np.ndarray
    interaction_total: np.ndarray


def ratio_arrays(
    group: np.ndarray,
    n0: np.ndarray,
    d0: np.ndarray,
    n1: np.ndarray,
    d1: np.ndarray,
    *,
    scale: np.ndarray,
    n_groups: int,
) -> RatioArrays:
    """Vectorised shift-share over many (KPI, kind) groups at once.

    Inputs are per row (segment) except ``scale`` (per group). NaN counts as 0.
    A group whose total denominator is 0 in a period gets NaN rates; the
    caller refuses it. Formulas: see the module docstring.
    """
    n0, d0, n1, d1 = (np.nan_to_num(a, nan=0.0) for a in (n0, d0, n1, d1))
    s = scale[group]
    den0 = np.bincount(group, weights=d0, minlength=n_groups)
    den1 = np.bincount(group, weights=d1, minlength=n_groups)
    num0 = np.bincount(group, weights=n0, minlength=n_groups)
    num1 = np.bincount(group, weights=n1, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        base_rate = np.where(den0 != 0, scale * num0 / den0, np.nan)
        current_rate = np.where(den1 != 0, scale * num1 / den1, np.nan)
        w0 = np.where(den0[group] != 0, d0 / den0[group], 0.0)
        w1 = np.where(den1[group] != 0, d1 / den1[group], 0.0)
        own0 = np.where(d0 != 0, s * n0 / d0, np.nan)
        own1 = np.where(d1 != 0, s * n1 / d1, np.nan)
    # A segment seen in one period only borrows its rate from the other, which
    # puts its whole effect into mix (see the module docstring).
    r0 = np.where(np.isnan(own0), np.nan_to_num(own1, nan=0.0), own0)
    r1 = np.where(np.isnan(own1), r0, own1)
    dw = w1 - w0
    dr = r1 - r0
    rate = w0 * dr
    mix = dw * (r0 - np.nan_to_num(base_rate, nan=0.0)[group])
    interaction = dw * dr
    rate_total = np.bincount(group, weights=rate, minlength=n_groups)
    mix_total = np.bincount(group, weights=mix, minlength=n_groups)
    interaction_total = np.bincount(group, weights=interaction, minlength=n_groups)
    change = current_rate - base_rate
    return RatioArrays(w0, w1, r0, r1, rate, mix, interaction, base_rate, current_rate,
                       change, rate_total, mix_total, interaction_total)


def check_ratio_rows(segments: list[str], n0, d0, n1, d1) -> None:
    """Refuse a segment with a numerator but no denominator: its rate is infinite."""
    for i, name in enumerate(segments):
        for n, d, when in ((n0[i], d0[i], "comparison"), (n1[i], d1[i], "current")):
            if d == 0 and n not in (0, 0.0) and not math.isnan(n):
                raise ValidationError(
                    f"Segment {name!r} has a numerator of {n:g} but a denominator of 0 in the "
                    f"{when} period, so its rate is undefined; fix or remove that measurement."
                )


Pair = tuple[float, float]


def decompose_ratio(
    base: Mapping[str, Pair],
    current: Mapping[str, Pair],
    *,
    scale: float = 1.0,
    kind: str = "",
    base_total: Pair | None = None,
    current_total: Pair | None = None,
) -> RatioDecomposition:
    """Rate, mix and interaction effects of a ratio KPI, by segment.

    ``base`` / ``current`` map a segment to its ``(numerator, denominator)`` in
    the comparison / current period. ``scale`` turns N/D into the KPI's unit
    (100 for a percent KPI stored in percentage points). Stored totals, when
    given as ``(numerator, denominator)``, add an ``(unsegmented)`` remainder
    segment for what the segments do not carry. Raises ValidationError when a
    period's total denominator is 0. Segments come back largest |total
    effect| first. Formulas: see the module docstring.
    """
    names = sorted(set(base) | set(current))
    rows: list[tuple[str, Pair | None, Pair | None, SegmentStatus]] = [
        (name, base.get(name), current.get(name), status_of(base.get(name), current.get(name)))
        for name in names
    ]
    gaps = []
    for total, side in ((base_total, base), (current_total, current)):
        if total is None:
            gaps.append(None)
            continue
        gn = remainder(total[0], math.fsum(p[0] for p in side.values()))
        gd = remainder(total[1], math.fsum(p[1] for p in side.values()))
        gaps.append(None if gn is None and gd is None else (gn or 0.0, gd or 0.0))
    if gaps[0] is not None or gaps[1] is not None:
        rows.append((REMAINDER_SEGMENT, gaps[0] or (0.0, 0.0), gaps[1] or (0.0, 0.0),
                     SegmentStatus.REMAINDER))

    def side(index: int, part: int) -> np.ndarray:
        return np.array([np.nan if r[index] is None else r[index][part] for r in rows], dtype=float)

    n0, d0, n1, d1 = side(1, 0), side(1, 1), side(2, 0), side(2, 1)
    labels = [r[0] for r in rows]
    check_ratio_rows(labels, n0, d0, n1, d1)
    out = ratio_arrays(np.zeros(len(rows), dtype=np.intp), n0, d0, n1, d1,
                       scale=np.array([float(scale)]), n_groups=1)
    for rate, when in ((out.base_rate[0], "comparison"), (out.current_rate[0], "current")):
        if math.isnan(rate):
            raise ValidationError(
                f"The {when} period has a total denominator of 0, so the rate is undefined "
                "and its change cannot be explained."
            )
    segments = []
    for i, (name, b, c, status) in enumerate(rows):
        segments.append(RatioSegment(
            segment=name,
            label=segment_label(name),
            base_numerator=0.0 if b is None else float(b[0]),
            base_denominator=0.0 if b is None else float(b[1]),
            current_numerator=0.0 if c is None else float(c[0]),
            current_denominator=0.0 if c is None else float(c[1]),
            base_rate=float(scale * b[0] / b[1]) if b is not None and b[1] else None,
            current_rate=float(scale * c[0] / c[1]) if c is not None and c[1] else None,
            base_weight=float(out.w0[i]),
            current_weight=float(out.w1[i]),
            rate_effect=float(out.rate[i]),
            mix_effect=float(out.mix[i]),
            interaction=float(out.interaction[i]),
            status=status,
        ))
    segments.sort(key=lambda s: (-abs(s.total_effect), s.segment))
    return RatioDecomposition(
        kind=kind,
        scale=float(scale),
        base_rate=float(out.base_rate[0]),
        current_rate=float(out.current_rate[0]),
        change=float(out.change[0]),
        rate_effect=float(out.rate_total[0]),
        mix_effect=float(out.mix_total[0]),
        interaction=float(out.interaction_total[0]),
        segments=tuple(segments),
    )

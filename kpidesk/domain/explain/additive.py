"""Additive decomposition: each segment's part of a total's change.

For a KPI whose total is the sum of its segments (revenue by region, sign-ups
by channel, MRR by plan at period end), with ``b_i`` and ``c_i`` the values of
segment ``i`` in the comparison and the current period (a missing side is 0):

    contribution_i = c_i - b_i
    total change   = sum_i contribution_i = C - B
    share_i        = contribution_i / (C - B)      (undefined when C == B)

When the stored total (segment ``""``) differs from the sum of the segments of
a kind (untagged rows, a channel nobody mapped), the difference in each period
becomes one ``(unsegmented)`` remainder row, so the parts add up to the total
the user sees, not to a total nobody reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from kpidesk.domain.explain.model import (
    REMAINDER_SEGMENT,
    AdditiveDecomposition,
    SegmentContribution,
    SegmentStatus,
)
from kpidesk.domain.explain.wording import segment_label

# A remainder smaller than this fraction of the total is float noise, not data.
REMAINDER_TOLERANCE = 1e-9


def additive_arrays(
    group: np.ndarray, base: np.ndarray, current: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised core over many (KPI, kind) groups at once.

    ``group`` holds each row's group code (0 .. n_groups-1); ``base`` and
    ``current`` may hold NaN for a missing side. Returns per row
    ``(contribution, share)`` and per group ``(base_total, current_total,
    change)`` where ``contribution = c - b`` (NaN as 0), ``change`` is the
    group sum of contributions and ``share = contribution / change`` (NaN when
    the group's change is 0).
    """
    b = np.nan_to_num(base, nan=0.0)
    c = np.nan_to_num(current, nan=0.0)
    contribution = c - b
    base_total = np.bincount(group, weights=b, minlength=n_groups)
    current_total = np.bincount(group, weights=c, minlength=n_groups)
    # The change is the sum of the parts, so the parts add up by construction;
    # it equals current_total - base_total to rounding.
    change = np.bincount(group, weights=contribution, minlength=n_groups)
    row_change = change[group]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(row_change != 0, contribution / row_change, np.nan)
    return contribution, share, base_total, current_total, change


def status_of(base: float | None, current: float | None) -> SegmentStatus:
    """NEW when only the current period has the segment, GONE when only the comparison has it."""
    if base is None:
        return SegmentStatus.NEW
    if current is None:
        return SegmentStatus.GONE
    return SegmentStatus.BOTH


def remainder(total: float | None, parts_sum: float) -> float | None:
    """``total - parts_sum`` when the stored total exists and the gap is more than noise."""
    if total is None or (isinstance(total, float) and math.isnan(total)):
        return None
    gap = total - parts_sum
    if abs(gap) <= REMAINDER_TOLERANCE * max(abs(total), abs(parts_sum), 1.0):
        return None
    return gap


def decompose_additive(
    base: Mapping[str, float],
    current: Mapping[str, float],
    *,
    kind: str = "",
    base_total: float | None = None,
    current_total: float | None = None,
) -> AdditiveDecomposition:
    """Each segment's contribution to the change of an additive KPI.

    ``base`` and ``current`` map a segment (``"region:EU"``) to its value in
    the comparison and the current period; a segment missing on one side is
    NEW or GONE. ``base_total`` / ``current_total`` are the stored totals, if
    any: a gap between them and the sum of the segments becomes an
    ``(unsegmented)`` remainder row. Segments come back largest |contribution|
    first. Formula: see the module docstring.
    """
    names = sorted(set(base) | set(current))
    rows = [(name, base.get(name), current.get(name), status_of(base.get(name), current.get(name)))
            for name in names]
    gap_b = remainder(base_total, math.fsum(v for v in base.values()))
    gap_c = remainder(current_total, math.fsum(v for v in current.values()))
    if gap_b is not None or gap_c is not None:
        rows.append((REMAINDER_SEGMENT, gap_b or 0.0, gap_c or 0.0, SegmentStatus.REMAINDER))
    if not rows:
        return AdditiveDecomposition(kind, 0.0, 0.0, 0.0, ())
    b = np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=float)
    c = np.array([np.nan if r[2] is None else r[2] for r in rows], dtype=float)
    contribution, share, b_tot, c_tot, change = additive_arrays(
        np.zeros(len(rows), dtype=np.intp), b, c, 1
    )
    segments = [
        SegmentContribution(
            segment=name,
            label=segment_label(name),
            base=bv,
            current=cv,
            change=float(contribution[i]),
            share=None if math.isnan(share[i]) else float(share[i]),
            status=status,
        )
        for i, (name, bv, cv, status) in enumerate(rows)
    ]
    segments.sort(key=lambda s: (-abs(s.change), s.segment))
    return AdditiveDecomposition(kind, float(b_tot[0]), float(c_tot[0]), float(change[0]), tuple(segments))

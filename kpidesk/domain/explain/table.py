"""An explanation as plain rows, for CSV, the review workbook and anyone checking the numbers.

One row per segment (or formula input) of every breakdown, unrounded, in the
KPI's unit. For a ratio KPI ``base`` / ``current`` are the segment's rates,
``change`` its whole part of the change (rate + mix + interaction), and the
three effects are given separately; they add up, over the rows of a
breakdown, to the KPI's change.
"""

from __future__ import annotations

from typing import Any

from kpidesk.domain.explain.model import (
    AdditiveDecomposition,
    Explanation,
    RatioDecomposition,
    ShapleyAttribution,
)

HEADERS = ["kpi", "period", "compared_with", "breakdown", "method", "segment", "label", "status",
           "base", "current", "change", "share", "rate_effect", "mix_effect", "interaction"]


def explanation_rows(e: Explanation) -> list[list[Any]]:
    """Rows under :data:`HEADERS` (None where a column does not apply)."""
    rows: list[list[Any]] = []
    head = [e.kpi_key, e.period_label, e.compare_label]
    for b in e.breakdowns:
        dec = b.decomposition
        if isinstance(dec, AdditiveDecomposition):
            for s in dec.segments:
                rows.append([*head, b.kind, b.method.value, s.segment, s.label, s.status.value,
                             s.base, s.current, s.change, s.share, None, None, None])
        elif isinstance(dec, RatioDecomposition):
            for r in dec.segments:
                rows.append([*head, b.kind, b.method.value, r.segment, r.label, r.status.value,
                             r.base_rate, r.current_rate, r.total_effect,
                             r.total_effect / dec.change if dec.change else None,
                             r.rate_effect, r.mix_effect, r.interaction])
        elif isinstance(dec, ShapleyAttribution):
            for i in dec.inputs:
                rows.append([*head, b.kind, b.method.value, i.name, i.name, "input",
                             i.base, i.current, i.contribution, i.share, None, None, None])
    return rows

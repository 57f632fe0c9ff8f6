"""Explanations for many KPIs at once, vectorised over KPIs and segments.

The two periods are rolled up per (KPI, segment) in one groupby
(:mod:`kpidesk.domain.explain.rollup`); then each (KPI, segment kind) is a
group of rows, and all groups go through the additive and the shift-share
cores together. Only the final records are built KPI by KPI. Which
decomposition a KPI gets:

- ``sum`` and ``last`` KPIs: additive (the segments add up to the total);
- ``ratio`` KPIs, and ``mean`` / ``min`` / ``max`` KPIs whose every row has a
  numerator and a denominator: shift-share into rate, mix and interaction;
- ``mean`` / ``min`` / ``max`` without them: not splittable by segment (the
  parts of a mean do not add up); the explanation says so in ``notes``;
- a KPI with a formula: Shapley attribution over its inputs as well.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kpidesk.domain.enums import Aggregation
from kpidesk.domain.explain.additive import REMAINDER_TOLERANCE, additive_arrays
from kpidesk.domain.explain.drivers import build_explanation, context_in_periods, make_breakdown
from kpidesk.domain.explain.model import (
    REMAINDER_SEGMENT,
    AdditiveDecomposition,
    Breakdown,
    ContextNote,
    Explanation,
    RatioDecomposition,
    RatioSegment,
    SegmentContribution,
    SegmentStatus,
)
from kpidesk.domain.explain.rollup import RATIO_LIKE, KpiSpec, Window, coverage, rollup
from kpidesk.domain.explain.shapley import shapley_attribution
from kpidesk.domain.explain.shift_share import ratio_arrays
from kpidesk.domain.explain.wording import segment_label
from kpidesk.errors import KpideskError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["KpiSpec", "Window", "explain_frame"]

COLUMNS = ("value_0", "value_1", "num_0", "num_1", "den_0", "den_1")


@dataclass
class _Groups:
    """The segment rows of every (KPI, kind) group; 0 = comparison, 1 = current."""

    keys: list[tuple[str, str]]  # group code → (kpi, kind)
    codes: np.ndarray  # row → group code
    names: list[str]  # row → stored segment
    rows: dict[str, np.ndarray]  # COLUMNS, per row
    present0: np.ndarray
    present1: np.ndarray
    remainder: np.ndarray  # row is the (unsegmented) part of a stored total

    def members(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        for i, g in enumerate(self.codes):
            out[int(g)].append(i)
        return out

    def status(self, i: int) -> SegmentStatus:
        if self.remainder[i]:
            return SegmentStatus.REMAINDER
        if not self.present0[i]:
            return SegmentStatus.NEW
        return SegmentStatus.BOTH if self.present1[i] else SegmentStatus.GONE


def _ratio_kpis(wide: pd.DataFrame, specs: Mapping[str, KpiSpec]) -> dict[str, bool]:
    """Which KPIs get shift-share: ratio KPIs, and mean/min/max ones with every numerator/denominator."""
    # A side the segment is absent from needs no numerator; every present side does.
    nd_ok = (wide["has_nd_0"] | ~wide["present_0"]) & (wide["has_nd_1"] | ~wide["present_1"])
    nd_all = nd_ok.groupby(wide["kpi"]).all()
    out = {}
    for key, spec in specs.items():
        agg = Aggregation(spec.aggregation)
        out[key] = agg is Aggregation.RATIO or (agg in RATIO_LIKE and bool(nd_all.get(key, False)))
    return out


def _segment_groups(wide: pd.DataFrame, by: str | None) -> _Groups:
    """Rows with a ``kind:value`` segment, coded by (KPI, kind); ``by`` keeps one kind."""
    kpis = wide["kpi"].to_numpy()
    segments = wide["segment"].astype(str).to_numpy()
    kinds = np.array([s.partition(":")[0] if ":" in s else "" for s in segments], dtype=object)
    index = np.flatnonzero(kinds != "")
    if by:
        index = index[kinds[index] == by]
    code_of: dict[tuple[str, str], int] = {}
    codes = np.array([code_of.setdefault((kpis[i], kinds[i]), len(code_of)) for i in index], dtype=np.intp)
    return _Groups(
        keys=list(code_of), codes=codes, names=list(segments[index]),
        rows={c: wide[c].to_numpy(dtype=float)[index] for c in COLUMNS},
        present0=wide["present_0"].to_numpy(dtype=bool)[index],
        present1=wide["present_1"].to_numpy(dtype=bool)[index],
        remainder=np.zeros(len(index), dtype=bool),
    )


def _with_remainders(groups: _Groups, totals: Mapping[str, int], cols: Mapping[str, np.ndarray],
                     ratio_kpi: Mapping[str, bool]) -> _Groups:
    """Append, per group, the stored total minus the sum of its segments (when more than noise)."""
    n_groups = len(groups.keys)
    sums = {c: np.bincount(groups.codes, weights=np.nan_to_num(groups.rows[c]), minlength=n_groups)
            for c in COLUMNS}
    codes: list[int] = []
    extra: dict[str, list[float]] = {c: [] for c in COLUMNS}
    for g, (kpi, _kind) in enumerate(groups.keys):
        t = totals.get(kpi)
        if t is None:
            continue
        fields = ("num_0", "num_1", "den_0", "den_1") if ratio_kpi[kpi] else ("value_0", "value_1")
        gaps = {}
        for c in fields:
            total = cols[c][t]
            if math.isnan(total):
                gaps[c] = 0.0
                continue
            noise = REMAINDER_TOLERANCE * max(abs(total), abs(sums[c][g]), 1.0)
            gap = total - sums[c][g]
            gaps[c] = 0.0 if abs(gap) <= noise else gap
        if any(gaps.values()):
            codes.append(g)
            for c in COLUMNS:
                extra[c].append(gaps.get(c, 0.0))
    if not codes:
        return groups
    n = len(codes)
    return _Groups(
        keys=groups.keys,
        codes=np.concatenate([groups.codes, np.array(codes, dtype=np.intp)]),
        names=groups.names + [REMAINDER_SEGMENT] * n,
        rows={c: np.concatenate([groups.rows[c], np.array(extra[c], dtype=float)]) for c in COLUMNS},
        present0=np.concatenate([groups.present0, np.ones(n, dtype=bool)]),
        present1=np.concatenate([groups.present1, np.ones(n, dtype=bool)]),
        remainder=np.concatenate([groups.remainder, np.ones(n, dtype=bool)]),
    )


def _breakdowns(groups: _Groups, specs: Mapping[str, KpiSpec], ratio_kpi: Mapping[str, bool],
                currency: str) -> tuple[dict[str, list[Breakdown]], dict[str, list[str]]]:
    """Run both cores over every group at once, then build each group's record."""
    n_groups = len(groups.keys)
    rows = groups.rows
    add = additive_arrays(groups.codes, np.where(groups.present0, rows["value_0"], np.nan),
                          np.where(groups.present1, rows["value_1"], np.nan), n_groups)
    scale = np.array([specs[k].scale for k, _ in groups.keys], dtype=float)
    rat = ratio_arrays(groups.codes, rows["num_0"], rows["den_0"], rows["num_1"], rows["den_1"],
                       scale=scale, n_groups=n_groups)
    breakdowns: dict[str, list[Breakdown]] = defaultdict(list)
    notes: dict[str, list[str]] = defaultdict(list)
    for g, idx in sorted(groups.members().items()):
        kpi, kind = groups.keys[g]
        spec = specs[kpi]
        status = [groups.status(i) for i in idx]
        if ratio_kpi[kpi]:
            if math.isnan(rat.base_rate[g]) or math.isnan(rat.current_rate[g]):
                notes[kpi].append(f"Cannot split by {kind}: a period has a total denominator of 0.")
                continue
            bad = [groups.names[i] for i in idx if (rows["den_0"][i] == 0 and rows["num_0"][i] != 0)
                   or (rows["den_1"][i] == 0 and rows["num_1"][i] != 0)]
            if bad:
                notes[kpi].append(f"Cannot split by {kind}: segment {bad[0]!r} has a numerator "
                                  "but a denominator of 0.")
                continue
            dec: AdditiveDecomposition | RatioDecomposition = _ratio_record(
                kind, g, idx, scale=spec.scale, names=groups.names, status=status, rows=rows, rat=rat)
        elif Aggregation(spec.aggregation) in RATIO_LIKE:
            notes[kpi].append(f"{spec.name} is a {spec.aggregation} over the period, which does "
                              f"not add up across segments; record a numerator and a denominator "
                              f"per {kind} to split it.")
            continue
        else:
            dec = _additive_record(kind, g, idx, names=groups.names, status=status, rows=rows, add=add)
        breakdowns[kpi].append(make_breakdown(dec, spec.unit, currency=currency))
    return breakdowns, notes


def explain_frame(
    frame: pd.DataFrame,
    specs: Sequence[KpiSpec],
    window: Window,
    *,
    by: str | None = None,
    context: Mapping[str, Iterable[ContextNote]] | None = None,
    currency: str = "€",
) -> list[Explanation]:
    """Explain every KPI of ``specs`` between the two periods of ``window``.

    ``frame`` has the columns of :func:`~kpidesk.domain.explain.rollup.rollup`.
    ``by`` keeps one segment kind (``"region"``); otherwise every kind found
    is explained and ordered best first. ``context`` maps a KPI key to its
    annotations and anomalies; those dated inside either period are attached.
    A KPI whose data cannot be explained gets an explanation without
    breakdowns and a sentence in ``notes`` saying why. Returns one
    explanation per spec, in the order of ``specs``.
    """
    by_key = {s.key: s for s in specs}
    wide = rollup(frame[frame["kpi"].isin(by_key)], window, by_key)
    ratio_kpi = _ratio_kpis(wide, by_key)
    segments = wide["segment"].astype(str).to_numpy()
    kpis = wide["kpi"].to_numpy()
    totals = {kpis[i]: int(i) for i in np.flatnonzero(segments == "")}
    cols = {c: wide[c].to_numpy(dtype=float) for c in COLUMNS}
    groups = _with_remainders(_segment_groups(wide, by), totals, cols, ratio_kpi)
    breakdowns, notes = _breakdowns(groups, by_key, ratio_kpi, currency)
    covered = coverage(frame[frame["kpi"].isin(by_key)], window)
    for key, (n0, n1) in covered.items():
        if 0 < n1 < n0 and Aggregation(by_key[key].aggregation) is Aggregation.SUM:
            notes[key].append(
                f"{window.current_label} has values for {n1} of the {n0} periods {window.comparison_label} "
                "has, so this sum is not like for like yet.")
    unkinded = sorted({(kpis[i], segments[i]) for i in range(len(segments))
                       if segments[i] and ":" not in segments[i]})
    for kpi, segment in unkinded:
        note = (f"Segment {segment!r} has no kind, so it is left out of the split; "
                "store segments as kind:value, e.g. region:EU.")
        if note not in notes[kpi]:
            notes[kpi].append(note)
    return [
        _explain_one(spec, by_key=by_key, total_rows=totals, cols=cols,
                     breakdowns=breakdowns[spec.key], notes=notes[spec.key], window=window, by=by,
                     context=context, currency=currency, ratio_kpi=ratio_kpi)
        for spec in specs
    ]


def _additive_record(kind, g, idx, *, names, status, rows, add) -> AdditiveDecomposition:
    contribution, share, b_tot, c_tot, change = add
    segs = []
    for i, st in zip(idx, status, strict=True):
        segs.append(SegmentContribution(
            segment=names[i], label=segment_label(names[i]),
            base=None if st is SegmentStatus.NEW else float(rows["value_0"][i]),
            current=None if st is SegmentStatus.GONE else float(rows["value_1"][i]),
            change=float(contribution[i]),
            share=None if math.isnan(share[i]) else float(share[i]), status=st))
    segs.sort(key=lambda s: (-abs(s.change), s.segment))
    return AdditiveDecomposition(kind, float(b_tot[g]), float(c_tot[g]), float(change[g]), tuple(segs))


def _ratio_record(kind, g, idx, *, scale, names, status, rows, rat) -> RatioDecomposition:
    segs = []
    # Plain floats once for the group (NaN, a missing side, as 0).
    num0, den0, num1, den1 = (np.nan_to_num(rows[c][idx]).tolist() for c in ("num_0", "den_0", "num_1", "den_1"))
    for k, (i, st) in enumerate(zip(idx, status, strict=True)):
        n0, d0, n1, d1 = num0[k], den0[k], num1[k], den1[k]
        segs.append(RatioSegment(
            segment=names[i], label=segment_label(names[i]),
            base_numerator=n0, base_denominator=d0, current_numerator=n1, current_denominator=d1,
            base_rate=scale * n0 / d0 if d0 else None, current_rate=scale * n1 / d1 if d1 else None,
            base_weight=float(rat.w0[i]), current_weight=float(rat.w1[i]),
            rate_effect=float(rat.rate[i]), mix_effect=float(rat.mix[i]),
            interaction=float(rat.interaction[i]), status=st))
    segs.sort(key=lambda s: (-abs(s.total_effect), s.segment))
    return RatioDecomposition(kind, scale, float(rat.base_rate[g]), float(rat.current_rate[g]),
                              float(rat.change[g]), float(rat.rate_total[g]), float(rat.mix_total[g]),
                              float(rat.interaction_total[g]), tuple(segs))


def _total_value(spec: KpiSpec, t: int | None, cols: Mapping[str, np.ndarray], w: int, *,
                 ratio: bool) -> float | None:
    if t is None:
        return None
    if ratio:
        num, den = cols[f"num_{w}"][t], cols[f"den_{w}"][t]
        if not math.isnan(num) and not math.isnan(den) and den != 0:
            return spec.scale * num / den
    value = cols[f"value_{w}"][t]
    return None if math.isnan(value) else float(value)


def _explain_one(spec, *, by_key, total_rows, cols, breakdowns, notes, window, by, context,
                 currency, ratio_kpi) -> Explanation:
    notes = list(notes)
    t = total_rows.get(spec.key)
    base = _total_value(spec, t, cols, 0, ratio=ratio_kpi[spec.key])
    current = _total_value(spec, t, cols, 1, ratio=ratio_kpi[spec.key])
    if spec.formula is not None and spec.inputs:
        try:
            values = [{}, {}]
            for name in spec.inputs:
                ti = total_rows.get(name)
                for w in (0, 1):
                    v = _total_value(by_key[name], ti, cols, w, ratio=ratio_kpi[name]) if name in by_key else None
                    if v is not None:
                        values[w][name] = v
            att = shapley_attribution(spec.formula, spec.inputs, values[0], values[1],
                                      vectorised=spec.vectorised)
            breakdowns = [*breakdowns, make_breakdown(att, spec.unit, currency=currency,
                                                      input_units={k: by_key[k].unit for k in spec.inputs
                                                                   if k in by_key},
                                                      input_labels=dict(spec.input_labels))]
            stored = (base, current)
            base, current = att.base_value, att.current_value
            if any(v is not None and not math.isclose(v, f, rel_tol=5e-3, abs_tol=1e-12)
                   for v, f in zip(stored, (base, current), strict=True)):
                # e.g. a "last" KPI whose inputs roll up by sum or ratio over the period.
                notes.append(f"The stored {spec.name} differs from its formula over the period's "
                             "inputs; the attribution explains the formula's value.")
        except KpideskError as err:
            notes.append(str(err))
    if base is None or current is None:
        # Without a stored total, the segments' own total stands in for it.
        first = next((b for b in breakdowns if b.method.value != "formula"), None)
        dec = first.decomposition if first is not None else None
        if isinstance(dec, AdditiveDecomposition | RatioDecomposition):
            # A period where every segment is absent has no value, not a value of 0.
            statuses = {s.status for s in dec.segments}
            seen_base = bool(statuses & {SegmentStatus.BOTH, SegmentStatus.GONE})
            seen_current = bool(statuses & {SegmentStatus.BOTH, SegmentStatus.NEW})
            if isinstance(dec, AdditiveDecomposition):
                totals = (dec.base_total, dec.current_total)
            else:
                totals = (dec.base_rate, dec.current_rate)
            base = base if base is not None else (totals[0] if seen_base else None)
            current = current if current is not None else (totals[1] if seen_current else None)
    if base is None or current is None:
        missing = window.comparison_label if base is None else window.current_label
        notes.append(f"{spec.name} has no value for {missing}.")
        base = base if base is not None else math.nan
        current = current if current is not None else math.nan
    if by and not any(b.kind == by for b in breakdowns):
        notes.append(f"{spec.name} has no segments of kind {by!r} in these periods.")
    notes_ctx = context_in_periods((context or {}).get(spec.key, ()), window.inclusive("current"),
                                   window.inclusive("comparison"))
    return build_explanation(kpi_key=spec.key, kpi_name=spec.name, unit=spec.unit,
                             period_label=window.current_label, compare_label=window.comparison_label,
                             base_value=float(base), current_value=float(current),
                             breakdowns=breakdowns, context=notes_ctx, notes=notes, currency=currency)

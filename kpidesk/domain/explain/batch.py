"""Explanations for many KPIs at once, vectorised over KPIs and segments.

Input is one long table of measurements (the shape storage reads into
pandas): columns ``kpi``, ``period_start``, ``segment``, ``value`` and, for
ratio KPIs, ``numerator`` and ``denominator``. Each KPI is described by a
:class:`KpiSpec`. The current and the comparison periods are rolled up per
(KPI, segment) in one groupby, following the KPI's aggregation:

- ``sum``: sum of the values in the period; decomposed additively;
- ``last``: the last value in the period (stocks such as MRR); additively;
- ``ratio`` (and ``mean`` / ``min`` / ``max`` when every row carries a
  numerator and a denominator): sum of numerators over sum of denominators
  times the unit scale (100 for percent); decomposed by shift-share;
- ``mean`` / ``min`` / ``max`` without them: not splittable by segment (the
  parts of a mean do not add up); the explanation says so in ``notes``.

All (KPI, kind) groups then go through the additive and the shift-share
cores together; only the final records are built per KPI.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from kpidesk.domain.enums import Aggregation, Frequency
from kpidesk.domain.explain.additive import REMAINDER_TOLERANCE, additive_arrays
from kpidesk.domain.explain.compare import Compare, comparison_start, period_window
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
from kpidesk.domain.explain.shapley import shapley_attribution
from kpidesk.domain.explain.shift_share import ratio_arrays
from kpidesk.domain.explain.wording import segment_label
from kpidesk.domain.periods import period_label
from kpidesk.errors import KpideskError

if TYPE_CHECKING:
    import pandas as pd

RATIO_LIKE = {Aggregation.RATIO, Aggregation.MEAN, Aggregation.MIN, Aggregation.MAX}


@dataclass(frozen=True)
class KpiSpec:
    """What the explainer needs to know about one KPI.

    ``formula`` (a callable over a dict of input values) and ``inputs`` (the
    input KPI keys) make it a formula KPI explained by Shapley attribution;
    the inputs' totals must be in the same table.
    """

    key: str
    name: str
    unit: str
    aggregation: str = Aggregation.SUM.value
    formula: Callable[[dict[str, float]], float] | None = None
    inputs: tuple[str, ...] = ()
    input_labels: Mapping[str, str] = field(default_factory=dict)
    # The same formula over arrays (optional): one call for all Shapley points.
    vectorised: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None

    @property
    def scale(self) -> float:
        """N/D times this is the stored value: 100 for percent KPIs (percentage points)."""
        return 100.0 if self.unit == "percent" else 1.0


@dataclass(frozen=True)
class Window:
    """The two compared periods as half-open date windows, with their labels."""

    current: tuple[dt.date, dt.date]
    comparison: tuple[dt.date, dt.date]
    current_label: str
    comparison_label: str

    @classmethod
    def of(cls, start: dt.date, frequency: Frequency | str, compare: Compare | str) -> Window:
        """The period starting at ``start`` and the one it is compared with."""
        base = comparison_start(start, frequency, compare)
        return cls(period_window(start, frequency), period_window(base, frequency),
                   period_label(start, frequency), period_label(base, frequency))

    def inclusive(self, which: str) -> tuple[dt.date, dt.date]:
        start, end = self.current if which == "current" else self.comparison
        return start, end - dt.timedelta(days=1)


def rollup(frame: pd.DataFrame, window: Window, specs: Mapping[str, KpiSpec]) -> pd.DataFrame:
    """One row per (kpi, segment) with value / numerator / denominator in both periods.

    Columns: ``kpi, segment, value_0, value_1, num_0, num_1, den_0, den_1,
    has_nd_0, has_nd_1, present_0, present_1`` (0 = comparison, 1 = current).
    The value follows the KPI's aggregation (module docstring).
    """
    import pandas as pd

    days = pd.to_datetime(frame["period_start"])
    which = np.full(len(frame), -1, dtype=np.int8)
    for code, (start, end) in ((0, window.comparison), (1, window.current)):
        inside = ((days >= pd.Timestamp(start)) & (days < pd.Timestamp(end))).to_numpy()
        which[inside] = code
    keep = which >= 0
    cols = ["kpi", "segment", "value"] + [c for c in ("numerator", "denominator") if c in frame]
    part = frame.loc[keep, cols].copy()
    part["w"] = which[keep]
    part["_day"] = days[keep].to_numpy()
    if "numerator" not in part:
        part["numerator"] = np.nan
        part["denominator"] = np.nan
    part = part.sort_values("_day", kind="stable")
    part["has_nd"] = part["numerator"].notna() & part["denominator"].notna()
    grouped = part.groupby(["kpi", "segment", "w"], sort=False, observed=True)
    agg = grouped.agg(
        v_sum=("value", "sum"), v_last=("value", "last"), v_mean=("value", "mean"),
        v_min=("value", "min"), v_max=("value", "max"),
        num=("numerator", "sum"), den=("denominator", "sum"),
        has_nd=("has_nd", "all"),
    ).reset_index()
    aggregation = agg["kpi"].map({k: s.aggregation for k, s in specs.items()}).fillna("sum")
    agg["value"] = agg["v_sum"]
    for name, column in (("last", "v_last"), ("mean", "v_mean"), ("min", "v_min"), ("max", "v_max")):
        chosen = (aggregation == name).to_numpy()
        agg.loc[chosen, "value"] = agg.loc[chosen, column]
    agg["present"] = True
    wide = agg.pivot(index=["kpi", "segment"], columns="w",
                     values=["value", "num", "den", "has_nd", "present"])
    wide.columns = [f"{name}_{w}" for name, w in wide.columns]
    for name in ("value", "num", "den", "has_nd", "present"):
        for w in (0, 1):
            if f"{name}_{w}" not in wide:
                wide[f"{name}_{w}"] = np.nan
    for name in ("has_nd", "present"):
        for w in (0, 1):
            wide[f"{name}_{w}"] = wide[f"{name}_{w}"].astype("boolean").fillna(False).astype(bool)
    return wide.reset_index()


def _is_ratio(spec: KpiSpec, has_nd: bool) -> bool:
    agg = Aggregation(spec.aggregation)
    return agg is Aggregation.RATIO or (agg in RATIO_LIKE and has_nd)


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

    ``by`` keeps one segment kind (``"region"``); otherwise every kind found
    is explained and ordered best first. ``context`` maps a KPI key to its
    annotations and anomalies; those dated inside either period are attached.
    A KPI whose data cannot be explained gets an explanation without
    breakdowns and a sentence in ``notes`` saying why. Returns one
    explanation per spec, in the order of ``specs``.
    """
    by_key = {s.key: s for s in specs}
    wide = rollup(frame[frame["kpi"].isin(by_key)], window, by_key)
    kpis = wide["kpi"].to_numpy()
    segments = wide["segment"].astype(str).to_numpy()
    kinds = np.array([s.partition(":")[0] if ":" in s else "" for s in segments], dtype=object)
    totals = segments == ""
    # A side the segment is absent from needs no numerator; every present side does.
    nd_ok = ((wide["has_nd_0"] | ~wide["present_0"]) & (wide["has_nd_1"] | ~wide["present_1"]))
    nd_all = nd_ok.groupby(wide["kpi"]).all()
    ratio_kpi = {k: _is_ratio(s, bool(nd_all.get(k, False))) for k, s in by_key.items()}

    # Per KPI totals as stored (segment "").
    total_rows = {kpis[i]: i for i in np.flatnonzero(totals)}

    # Group codes for (kpi, kind) of segmented rows.
    seg_idx = np.flatnonzero(~totals & (kinds != ""))
    if by:
        seg_idx = seg_idx[kinds[seg_idx] == by]
    keys = list(zip(kpis[seg_idx], kinds[seg_idx], strict=True))
    group_of: dict[tuple[str, str], int] = {}
    codes = np.array([group_of.setdefault(k, len(group_of)) for k in keys], dtype=np.intp)
    groups = list(group_of)

    cols = {c: wide[c].to_numpy(dtype=float) for c in
            ("value_0", "value_1", "num_0", "num_1", "den_0", "den_1")}
    present0 = wide["present_0"].to_numpy(dtype=bool)
    present1 = wide["present_1"].to_numpy(dtype=bool)
    names = list(segments[seg_idx])
    rows = {c: a[seg_idx] for c, a in cols.items()}
    p0, p1 = present0[seg_idx], present1[seg_idx]

    # Remainder rows: stored total minus the sum of a kind's segments.
    n_groups = len(groups)
    extra_names: list[str] = []
    extra_codes: list[int] = []
    extra = {c: [] for c in cols}
    sums = {c: np.bincount(codes, weights=np.nan_to_num(rows[c]), minlength=n_groups) for c in cols}
    for g, (kpi, _kind) in enumerate(groups):
        t = total_rows.get(kpi)
        if t is None:
            continue
        fields = ("num_0", "num_1", "den_0", "den_1") if ratio_kpi[kpi] else ("value_0", "value_1")
        gaps = {}
        for c in fields:
            total = cols[c][t]
            gap = 0.0 if math.isnan(total) else total - sums[c][g]
            noise = REMAINDER_TOLERANCE * max(abs(total) if not math.isnan(total) else 0.0,
                                              abs(sums[c][g]), 1.0)
            gaps[c] = 0.0 if abs(gap) <= noise else gap
        if any(gaps.values()):
            extra_names.append(REMAINDER_SEGMENT)
            extra_codes.append(g)
            for c in cols:
                extra[c].append(gaps.get(c, 0.0))
    if extra_codes:
        names += extra_names
        codes = np.concatenate([codes, np.array(extra_codes, dtype=np.intp)])
        rows = {c: np.concatenate([rows[c], np.array(extra[c], dtype=float)]) for c in cols}
        p0 = np.concatenate([p0, np.ones(len(extra_codes), dtype=bool)])
        p1 = np.concatenate([p1, np.ones(len(extra_codes), dtype=bool)])
    remainder_row = np.zeros(len(names), dtype=bool)
    remainder_row[len(names) - len(extra_codes):] = bool(extra_codes)

    # Both cores over every group; each group reads only the core it needs.
    add = additive_arrays(codes, np.where(p0, rows["value_0"], np.nan),
                          np.where(p1, rows["value_1"], np.nan), n_groups)
    scale = np.array([by_key[k].scale for k, _ in groups], dtype=float)
    rat = ratio_arrays(codes, rows["num_0"], rows["den_0"], rows["num_1"], rows["den_1"],
                       scale=scale, n_groups=n_groups)

    members: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(codes):
        members[int(g)].append(i)

    breakdowns: dict[str, list[Breakdown]] = defaultdict(list)
    notes: dict[str, list[str]] = defaultdict(list)
    for g, (kpi, kind) in enumerate(groups):
        spec = by_key[kpi]
        idx = members[g]
        status = [SegmentStatus.REMAINDER if remainder_row[i] else
                  SegmentStatus.NEW if not p0[i] else SegmentStatus.GONE if not p1[i] else
                  SegmentStatus.BOTH for i in idx]
        if ratio_kpi[kpi]:
            if math.isnan(rat.base_rate[g]) or math.isnan(rat.current_rate[g]):
                notes[kpi].append(f"Cannot split by {kind}: a period has a total denominator of 0.")
                continue
            bad = [names[i] for i in idx if (rows["den_0"][i] == 0 and rows["num_0"][i] != 0)
                   or (rows["den_1"][i] == 0 and rows["num_1"][i] != 0)]
            if bad:
                notes[kpi].append(f"Cannot split by {kind}: segment {bad[0]!r} has a numerator "
                                  "but a denominator of 0.")
                continue
            dec = _ratio_record(kind, g, idx, scale=spec.scale, names=names, status=status, rows=rows, rat=rat)
        elif Aggregation(spec.aggregation) in RATIO_LIKE:
            notes[kpi].append(f"{spec.name} is a {spec.aggregation} over the period, which does "
                              f"not add up across segments; record a numerator and a denominator "
                              f"per {kind} to split it.")
            continue
        else:
            dec = _additive_record(kind, g, idx, names=names, status=status, rows=rows, add=add)
        breakdowns[kpi].append(make_breakdown(dec, spec.unit, currency=currency))

    return [
        _explain_one(spec, by_key=by_key, total_rows=total_rows, cols=cols,
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
    for i, st in zip(idx, status, strict=True):
        n0, d0 = float(np.nan_to_num(rows["num_0"][i])), float(np.nan_to_num(rows["den_0"][i]))
        n1, d1 = float(np.nan_to_num(rows["num_1"][i])), float(np.nan_to_num(rows["den_1"][i]))
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

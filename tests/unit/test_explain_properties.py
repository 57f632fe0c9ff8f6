"""Property tests: every decomposition adds up to the change it explains, to 1e-9.

The tolerance is relative to the size of the numbers involved (floating-point
sums of values around 1e6 cannot be exact to 1e-9 in absolute terms): parts
must match the change within ``1e-9 * max(1, largest magnitude in play)``.
"""

from __future__ import annotations

import datetime as dt
import math
from itertools import product

import numpy as np
import pandas as pd
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kpidesk.domain.explain import (
    KpiSpec,
    Window,
    decompose_additive,
    decompose_ratio,
    explain_frame,
    make_breakdown,
    shapley_attribution,
)
from kpidesk.errors import ValidationError
from kpidesk.services.explain_service import formula_callables

TOL = 1e-9

values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
segment_names = st.lists(st.text("abcdefghij", min_size=1, max_size=4), min_size=1, max_size=25,
                         unique=True).map(lambda names: [f"channel:{n}" for n in names])


def close(a: float, b: float, *scale: float) -> bool:
    return abs(a - b) <= TOL * max(1.0, abs(a), abs(b), *(abs(s) for s in scale))


@st.composite
def additive_case(draw: st.DrawFn) -> tuple[dict[str, float], dict[str, float], float | None, float | None]:
    names = draw(segment_names)
    base = {n: draw(values) for n in names if draw(st.booleans()) or n == names[0]}
    current = {n: draw(values) for n in names if draw(st.booleans())}
    base_total = draw(st.none() | values)
    current_total = draw(st.none() | values)
    return base, current, base_total, current_total


@settings(max_examples=300, deadline=None)
@given(additive_case())
def test_additive_parts_add_up(case: tuple) -> None:
    base, current, base_total, current_total = case
    dec = decompose_additive(base, current, kind="channel", base_total=base_total,
                             current_total=current_total)
    scale = sum(abs(v) for v in base.values()) + sum(abs(v) for v in current.values()) \
        + abs(base_total or 0) + abs(current_total or 0)
    assert close(math.fsum(s.change for s in dec.segments), dec.change, scale)
    assert close(dec.current_total - dec.base_total, dec.change, scale)
    if base_total is not None:
        assert close(dec.base_total, base_total, scale)
    drivers = make_breakdown(dec, "currency").drivers
    assert close(math.fsum(d.contribution for d in drivers), dec.change, scale)


@st.composite
def ratio_case(draw: st.DrawFn) -> tuple[dict, dict, float]:
    names = draw(segment_names)
    pair = st.tuples(st.floats(min_value=0, max_value=1e5), st.floats(min_value=1e-3, max_value=1e6))
    base = {n: draw(pair) for n in names if draw(st.booleans()) or n == names[0]}
    current = {n: draw(pair) for n in names if draw(st.booleans()) or n == names[-1]}
    return base, current, draw(st.sampled_from([1.0, 100.0]))


@settings(max_examples=300, deadline=None)
@given(ratio_case())
def test_ratio_parts_add_up(case: tuple) -> None:
    base, current, scale = case
    dec = decompose_ratio(base, current, scale=scale, kind="channel")
    parts = [dec.rate_effect, dec.mix_effect, dec.interaction]
    size = max([abs(dec.base_rate), abs(dec.current_rate)]
               + [abs(s.base_rate or 0) + abs(s.current_rate or 0) for s in dec.segments])
    assert close(math.fsum(parts), dec.change, size)
    assert close(math.fsum(s.total_effect for s in dec.segments), dec.change, size)
    drivers = make_breakdown(dec, "percent").drivers
    assert close(math.fsum(d.contribution for d in drivers), dec.change, size)


NAMES = [f"x{i}" for i in range(8)]


@st.composite
def formulas(draw: st.DrawFn) -> str:
    """Random formula text over up to 8 KPI keys, in the formula module's grammar."""
    leaf = st.sampled_from(NAMES) | st.integers(1, 9).map(str)
    tree = st.recursive(
        leaf,
        lambda inner: st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})")
        | inner.map(lambda x: f"-{x}")
        | st.tuples(inner, inner).map(lambda t: f"max({t[0]}, {t[1]})")
        | inner.map(lambda x: f"abs({x})"),
        max_leaves=12,
    )
    return draw(tree)


@settings(max_examples=150, deadline=None)
@given(formulas(), st.lists(st.floats(0.1, 1e4), min_size=16, max_size=16))
def test_shapley_parts_add_up_for_random_formulas(text: str, numbers: list[float]) -> None:
    scalar, vector, names = formula_callables(text)
    assume(names)
    base = {n: numbers[i] for i, n in enumerate(NAMES) if n in names}
    current = {n: numbers[8 + i] for i, n in enumerate(NAMES) if n in names}
    try:
        att = shapley_attribution(scalar, names, base, current, vectorised=vector)
    except ValidationError:
        assume(False)  # the formula divides by zero at a point the attribution needs
        return
    # The rounding of the sums scales with the largest value the formula takes.
    largest = max(abs(scalar({k: (current if bit else base)[k] for k, bit in zip(names, bits, strict=True)}))
                  for bits in product([0, 1], repeat=len(names)))
    total = math.fsum(i.contribution for i in att.inputs)
    assert close(total, att.change, largest)
    assert close(att.change, scalar(current) - scalar(base), largest)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 12), st.integers(0, 2**31 - 1))
def test_batch_agrees_with_single_and_adds_up(n_kpis: int, n_segments: int, seed: int) -> None:
    """explain_frame (vectorised over KPIs) gives the same parts as decompose_* one KPI at a time."""
    rng = np.random.default_rng(seed)
    rows = []
    months = [dt.date(2026, m, 1) for m in range(4, 10)]
    for k in range(n_kpis):
        for s in range(n_segments):
            for day in months:
                if rng.random() < 0.15:
                    continue  # segments come and go
                den = float(rng.integers(1, 1000))
                num = float(rng.integers(0, int(den) + 1))
                rows.append({"kpi": f"k{k}", "period_start": day, "segment": f"channel:c{s}",
                             "value": float(rng.normal(1000, 300)), "numerator": num, "denominator": den})
    assume(rows)
    frame = pd.DataFrame(rows)
    window = Window.of(dt.date(2026, 7, 1), "quarter", "previous")
    specs = [KpiSpec(f"k{k}", f"K{k}", "percent", "ratio" if k % 2 else "sum") for k in range(n_kpis)]
    for spec, e in zip(specs, explain_frame(frame, specs, window), strict=True):
        mine = frame[frame["kpi"] == spec.key]
        q2 = mine[pd.to_datetime(mine["period_start"]) < pd.Timestamp("2026-07-01")]
        q3 = mine[pd.to_datetime(mine["period_start"]) >= pd.Timestamp("2026-07-01")]
        if not e.breakdowns:
            assert e.notes
            continue
        dec = e.breakdowns[0].decomposition
        if spec.aggregation == "sum":
            single = decompose_additive(q2.groupby("segment")["value"].sum().to_dict(),
                                        q3.groupby("segment")["value"].sum().to_dict(), kind="channel")
            got = {s.segment: s.change for s in dec.segments}
            want = {s.segment: s.change for s in single.segments}
            assert got.keys() == want.keys()
            assert all(close(got[k], want[k], 1e4) for k in want)
            assert [s.status for s in dec.segments] == [s.status for s in single.segments]
        else:
            b = q2.groupby("segment")[["numerator", "denominator"]].sum()
            c = q3.groupby("segment")[["numerator", "denominator"]].sum()
            try:
                single = decompose_ratio({i: tuple(r) for i, r in b.iterrows()},
                                         {i: tuple(r) for i, r in c.iterrows()}, scale=100)
            except ValidationError:
                continue
            got = {s.segment: (s.rate_effect, s.mix_effect, s.interaction) for s in dec.segments}
            want = {s.segment: (s.rate_effect, s.mix_effect, s.interaction) for s in single.segments}
            assert got.keys() == want.keys()
            for key, parts in want.items():
                assert all(close(x, y, 100) for x, y in zip(got[key], parts, strict=True))
        assert close(math.fsum(d.contribution for d in e.drivers), e.change, abs(e.base_value))

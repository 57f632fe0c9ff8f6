"""explain_frame: aggregations, the ``by`` filter and notes, with hand-computed numbers."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from kpidesk.domain.explain import (
    KpiSpec,
    RatioDecomposition,
    ShapleyAttribution,
    Window,
    explain_frame,
    explanation_rows,
)

MONTHS = [dt.date(2026, m, 1) for m in range(4, 10)]
WINDOW = Window.of(dt.date(2026, 7, 1), "quarter", "previous")


def _series(kpi: str, segment: str, values: list[float], days: list[dt.date] = MONTHS) -> list[dict]:
    return [{"kpi": kpi, "period_start": d, "segment": segment, "value": v} for d, v in zip(days, values, strict=True)]


def test_last_aggregation_takes_each_segments_last_value() -> None:
    """MRR (a stock, aggregation "last") by plan.

    Pro 100, 110, 120 | 130, 140, 150 → Q2 120, Q3 150: +30.
    Basic 50, 50, 50 | 45, 45, 40 → 50 → 40: −10. Total (stored) 170 → 190: +20 = 30 − 10.
    """
    frame = pd.DataFrame(_series("mrr", "plan:Pro", [100, 110, 120, 130, 140, 150])
                         + _series("mrr", "plan:Basic", [50, 50, 50, 45, 45, 40])
                         + _series("mrr", "", [150, 160, 170, 175, 185, 190]))
    (e,) = explain_frame(frame, [KpiSpec("mrr", "MRR", "currency", "last")], WINDOW)
    assert (e.base_value, e.current_value) == (170, 190)
    changes = {s.segment: s.change for s in e.breakdowns[0].decomposition.segments}  # type: ignore[union-attr]
    assert changes == {"plan:Pro": 30, "plan:Basic": -10}


def test_mean_kpi_with_numerator_and_denominator_gets_shift_share() -> None:
    """Time in app (mean minutes per user): minutes / users by platform, one row per quarter.

    Q2: ios 3,000/300 (10), android 1,600/200 (8): 4,600/500 = 9.2.
    Q3: ios 2,200/200 (11), android 3,600/400 (9): 5,800/600 = 9.6667.
    w0 = (0.6, 0.4), w1 = (1/3, 2/3); rate = 0.6 × 1 + 0.4 × 1 = 1;
    mix = (1/3 − 0.6)(10 − 9.2) + (2/3 − 0.4)(8 − 9.2) = −0.21333 − 0.32 = −0.53333;
    interaction = −0.26667 × 1 + 0.26667 × 1 = 0; 1 − 0.53333 = 0.46667 = 9.6667 − 9.2.
    """
    rows = []
    for day, parts in ((dt.date(2026, 4, 1), {"ios": (3000, 300), "android": (1600, 200)}),
                       (dt.date(2026, 7, 1), {"ios": (2200, 200), "android": (3600, 400)})):
        for name, (n, d) in parts.items():
            rows.append({"kpi": "time", "period_start": day, "segment": f"platform:{name}",
                         "value": n / d, "numerator": n, "denominator": d})
    (e,) = explain_frame(pd.DataFrame(rows), [KpiSpec("time", "Time in app", "minutes", "mean")], WINDOW)
    dec = e.breakdowns[0].decomposition
    assert isinstance(dec, RatioDecomposition)
    assert (dec.rate_effect, dec.mix_effect, dec.interaction) == pytest.approx((1.0, -0.533333333, 0.0))
    assert e.change == pytest.approx(5800 / 600 - 9.2)
    assert e.headline.startswith("Time in app +5.1 % (+0.467 min) vs 2026-Q2: rates +1 min, mix −0.533 min")


def test_by_filter_keeps_one_kind_and_unkinded_segments_are_reported() -> None:
    frame = pd.DataFrame(_series("rev", "region:EU", [1, 1, 1, 2, 2, 2])
                         + _series("rev", "plan:Pro", [1, 1, 1, 3, 3, 3])
                         + _series("rev", "EU", [5] * 6))
    (e,) = explain_frame(frame, [KpiSpec("rev", "Revenue", "currency")], WINDOW, by="plan")
    assert [b.kind for b in e.breakdowns] == ["plan"]
    assert e.change == 6  # no stored total: the plans' own total, 3 → 9
    assert any("'EU' has no kind" in n for n in e.notes)


def test_formula_kpi_in_a_batch_and_its_rows() -> None:
    """Gross margin 100 × (revenue − cogs) / revenue over quarter sums.

    Q2: revenue 200 (3 months), cogs 80; Q3: revenue 250, cogs 120 (see the domain test):
    φ_revenue = +10, φ_cogs = −18, change −8 (60 % → 52 %).
    """
    frame = pd.DataFrame(_series("revenue", "", [60, 70, 70, 80, 80, 90])
                         + _series("cogs", "", [20, 30, 30, 40, 40, 40]))
    spec = KpiSpec("gross_margin", "Gross margin", "percent", "last",
                   formula=lambda x: 100 * (x["revenue"] - x["cogs"]) / x["revenue"],
                   inputs=("revenue", "cogs"), input_labels={"revenue": "Revenue", "cogs": "COGS"})
    specs = [spec, KpiSpec("revenue", "Revenue", "currency"), KpiSpec("cogs", "COGS", "currency")]
    e = explain_frame(frame, specs, WINDOW)[0]
    att = e.breakdowns[0].decomposition
    assert isinstance(att, ShapleyAttribution)
    assert {i.name: i.contribution for i in att.inputs} == pytest.approx({"revenue": 10.0, "cogs": -18.0})
    assert (e.base_value, e.current_value) == pytest.approx((60.0, 52.0))
    assert [d.label for d in e.drivers] == ["COGS", "Revenue"]
    rows = explanation_rows(e)
    assert [(r[5], r[10]) for r in rows] == [("cogs", pytest.approx(-18.0)), ("revenue", pytest.approx(10.0))]


def test_a_partial_current_period_is_flagged_for_summed_kpis() -> None:
    """Q3 has July and August only: 2 of the 3 months Q2 has."""
    frame = pd.DataFrame(_series("rev", "", [10, 10, 10, 11, 11], MONTHS[:5]))
    (e,) = explain_frame(frame, [KpiSpec("rev", "Revenue", "currency")], WINDOW)
    assert e.change == 22 - 30
    assert "2026-Q3 has values for 2 of the 3 periods 2026-Q2 has" in e.notes[0]


def test_no_change_and_no_data_read_plainly() -> None:
    frame = pd.DataFrame(_series("a", "", [1, 1, 1, 1, 1, 1]))
    (e,) = explain_frame(frame, [KpiSpec("a", "Sign-ups", "count")], WINDOW)
    assert e.headline == "Sign-ups unchanged at 3 vs 2026-Q2"
    (e,) = explain_frame(frame.iloc[:0], [KpiSpec("a", "Sign-ups", "count")], WINDOW)
    assert e.headline == "Sign-ups: no value for 2026-Q2, so there is no change to explain"
    assert e.breakdowns == ()

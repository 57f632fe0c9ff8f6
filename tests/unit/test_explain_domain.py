"""Hand-computed examples of every decomposition of kpidesk.domain.explain."""

from __future__ import annotations

import datetime as dt

import pytest

from kpidesk.domain.explain import (
    ContextNote,
    DriverKind,
    SegmentStatus,
    build_explanation,
    comparison_start,
    decompose_additive,
    decompose_ratio,
    make_breakdown,
    parse_period,
    shapley_attribution,
    waterfall,
)
from kpidesk.domain.explain.drivers import context_in_periods, group_small, simpsons_paradox
from kpidesk.domain.explain.model import Driver
from kpidesk.domain.explain.wording import (
    format_amount,
    format_number,
    format_relative,
    format_share,
    segment_label,
)
from kpidesk.errors import ValidationError

M = "\u2212"  # the minus sign the sentences use


def test_additive_contributions_shares_and_new_and_gone_segments() -> None:
    """Revenue by region, Q2 → Q3.

    EU 120,000 → 89,900: −30,100;  US 300,000 → 290,000: −10,000;
    APAC 3,000 → (absent): −3,000 (GONE);  LATAM (absent) → 5,000: +5,000 (NEW).
    Total 423,000 → 384,900: change −38,100 = −30,100 − 10,000 − 3,000 + 5,000.
    Shares: EU 30,100 / 38,100 = 0.790026…, LATAM 5,000 / −38,100 = −0.131234….
    """
    dec = decompose_additive(
        {"region:EU": 120_000, "region:US": 300_000, "region:APAC": 3_000},
        {"region:EU": 89_900, "region:US": 290_000, "region:LATAM": 5_000},
        kind="region",
    )
    assert dec.base_total == 423_000
    assert dec.current_total == 384_900
    assert dec.change == -38_100
    by = {s.segment: s for s in dec.segments}
    assert [s.segment for s in dec.segments] == ["region:EU", "region:US", "region:LATAM", "region:APAC"]
    assert by["region:EU"].change == -30_100
    assert by["region:EU"].share == pytest.approx(30_100 / 38_100, rel=1e-12)
    assert by["region:LATAM"].status is SegmentStatus.NEW
    assert by["region:LATAM"].base is None
    assert by["region:LATAM"].share == pytest.approx(-5_000 / 38_100, rel=1e-12)
    assert by["region:APAC"].status is SegmentStatus.GONE
    assert by["region:APAC"].change == -3_000
    assert sum(s.change for s in dec.segments) == dec.change


def test_additive_remainder_when_the_stored_total_is_larger() -> None:
    """Stored totals 430,000 → 390,000 while the regions sum to 423,000 → 384,900.

    Remainder (unsegmented) 7,000 → 5,100: −1,900. The parts then add up to the
    stored change −40,000 = −38,100 − 1,900.
    """
    dec = decompose_additive(
        {"region:EU": 120_000, "region:US": 300_000, "region:APAC": 3_000},
        {"region:EU": 89_900, "region:US": 290_000, "region:LATAM": 5_000},
        kind="region", base_total=430_000, current_total=390_000,
    )
    rest = [s for s in dec.segments if s.status is SegmentStatus.REMAINDER]
    assert len(rest) == 1
    assert (rest[0].base, rest[0].current, rest[0].change) == (7_000, 5_100, -1_900)
    assert dec.change == -40_000
    assert (dec.base_total, dec.current_total) == (430_000, 390_000)


def test_ratio_rate_mix_and_interaction_by_hand() -> None:
    """Conversion (percent, scale 100) by channel.

    Q2: organic 50/1,000 (5 %), paid 20/1,000 (2 %): R0 = 70/2,000 = 3.5 %.
    Q3: organic 30/500 (6 %),  paid 42/2,000 (2.1 %): R1 = 72/2,500 = 2.88 %.
    Weights w0 = (0.5, 0.5), w1 = (0.2, 0.8).
    rate  = w0 (r1 − r0):        organic 0.5 × 1 = 0.5;  paid 0.5 × 0.1 = 0.05 → 0.55
    mix   = (w1 − w0)(r0 − R0):  organic −0.3 × 1.5 = −0.45; paid 0.3 × −1.5 = −0.45 → −0.9
    inter = (w1 − w0)(r1 − r0):  organic −0.3 × 1 = −0.3;  paid 0.3 × 0.1 = 0.03 → −0.27
    0.55 − 0.9 − 0.27 = −0.62 = 2.88 − 3.5.
    """
    dec = decompose_ratio(
        {"channel:organic": (50, 1_000), "channel:paid": (20, 1_000)},
        {"channel:organic": (30, 500), "channel:paid": (42, 2_000)},
        scale=100, kind="channel",
    )
    assert dec.base_rate == pytest.approx(3.5)
    assert dec.current_rate == pytest.approx(2.88)
    assert dec.change == pytest.approx(-0.62)
    assert dec.rate_effect == pytest.approx(0.55)
    assert dec.mix_effect == pytest.approx(-0.9)
    assert dec.interaction == pytest.approx(-0.27)
    by = {s.segment: s for s in dec.segments}
    organic, paid = by["channel:organic"], by["channel:paid"]
    assert (organic.rate_effect, organic.mix_effect, organic.interaction) == pytest.approx((0.5, -0.45, -0.3))
    assert (paid.rate_effect, paid.mix_effect, paid.interaction) == pytest.approx((0.05, -0.45, 0.03))
    assert (paid.base_weight, paid.current_weight) == pytest.approx((0.5, 0.8))
    assert dec.rate_effect + dec.mix_effect + dec.interaction == pytest.approx(dec.change, abs=1e-12)
    # Both channels' rates rose while the total fell: a Simpson's paradox too.
    assert simpsons_paradox(dec) == "every channel's rate rose, yet the mix moved toward lower-rate channels"


def test_no_paradox_when_one_rate_follows_the_total() -> None:
    """Organic 5 % → 6 % but paid 2 % → 1.5 %: the total fell with paid's rate, not against it."""
    dec = decompose_ratio({"channel:organic": (50, 1_000), "channel:paid": (20, 1_000)},
                          {"channel:organic": (30, 500), "channel:paid": (30, 2_000)}, scale=100,
                          kind="channel")
    assert dec.change < 0
    assert simpsons_paradox(dec) == ""


def test_simpsons_paradox_comes_out_as_mix() -> None:
    """Every channel converts better, yet the total falls.

    Q2: organic 100/1,000 (10 %), paid 10/1,000 (1 %): R0 = 110/2,000 = 5.5 %.
    Q3: organic 55/500 (11 %),   paid 36/3,000 (1.2 %): R1 = 91/3,500 = 2.6 %.
    w0 = (1/2, 1/2), w1 = (1/7, 6/7), so w1 − w0 = (−5/14, +5/14).
    rate  = 0.5 × 1 + 0.5 × 0.2 = 0.6
    mix   = −5/14 × (10 − 5.5) + 5/14 × (1 − 5.5) = −45/14 = −3.2142857…
    inter = −5/14 × 1 + 5/14 × 0.2 = −4/14 = −0.2857142…
    0.6 − 45/14 − 4/14 = 0.6 − 3.5 = −2.9 = 2.6 − 5.5.
    """
    dec = decompose_ratio(
        {"channel:organic": (100, 1_000), "channel:paid": (10, 1_000)},
        {"channel:organic": (55, 500), "channel:paid": (36, 3_000)},
        scale=100, kind="channel",
    )
    assert all(s.current_rate > s.base_rate for s in dec.segments)  # type: ignore[operator]
    assert dec.change == pytest.approx(-2.9)
    assert dec.rate_effect == pytest.approx(0.6)
    assert dec.mix_effect == pytest.approx(-45 / 14)
    assert dec.interaction == pytest.approx(-4 / 14)
    breakdown = make_breakdown(dec, "percent")
    e = build_explanation(kpi_key="conversion_rate", kpi_name="Conversion rate", unit="percent",
                          period_label="2026-Q3", compare_label="2026-Q2", base_value=5.5,
                          current_value=2.6, breakdowns=[breakdown])
    # The headline leads with the mix, the largest effect, in plain words.
    assert e.headline.startswith(
        f"Conversion rate {M}2.9 pp (5.5 % → 2.6 %) vs 2026-Q2: every channel's rate rose, yet the mix "
        f"moved toward lower-rate channels, mix {M}3.21 pp, rates +0.6 pp, interaction {M}0.286 pp")
    assert {d.kind for d in e.drivers} >= {DriverKind.MIX, DriverKind.RATE, DriverKind.INTERACTION}
    assert sum(d.contribution for d in e.drivers) == pytest.approx(e.change, abs=1e-12)


def test_ratio_new_segment_is_all_mix() -> None:
    """A channel that appears: r0 is taken as r1, so its rate and interaction are 0.

    Q2: organic 50/1,000 (5 %). Q3: organic 50/1,000 (5 %), referral 30/1,000 (3 %).
    R0 = 5 %, R1 = 80/2,000 = 4 %; referral mix = (0.5 − 0)(3 − 5) = −1.0;
    organic mix = (0.5 − 1)(5 − 5) = 0; the change −1.0 is all mix.
    """
    dec = decompose_ratio({"channel:organic": (50, 1_000)},
                          {"channel:organic": (50, 1_000), "channel:referral": (30, 1_000)}, scale=100)
    referral = next(s for s in dec.segments if s.segment == "channel:referral")
    assert referral.status is SegmentStatus.NEW
    assert (referral.rate_effect, referral.interaction) == (0.0, 0.0)
    assert referral.mix_effect == pytest.approx(-1.0)
    assert dec.change == pytest.approx(-1.0)
    assert dec.mix_effect == pytest.approx(-1.0)


def test_ratio_refuses_zero_denominator() -> None:
    with pytest.raises(ValidationError, match="denominator of 0"):
        decompose_ratio({"channel:a": (0, 0)}, {"channel:a": (5, 100)})
    with pytest.raises(ValidationError, match="'channel:b' has a numerator of 3"):
        decompose_ratio({"channel:a": (1, 10), "channel:b": (3, 0)}, {"channel:a": (5, 100)})


def test_shapley_ltv_cac_by_hand() -> None:
    """LTV:CAC = clv / cac; clv 300 → 330 (+10 %), cac 100 → 130 (+30 %).

    f(a) = 3, f(b) = 330/130 = 2.538461…; v({clv}) = 3.3, v({cac}) = 300/130 = 2.307692….
    φ_clv = ½[(3.3 − 3) + (2.538461… − 2.307692…)] = ½[0.3 + 0.230769…] = 0.265384…
    φ_cac = ½[(2.307692… − 3) + (2.538461… − 3.3)] = ½[−0.692307… − 0.761538…] = −0.726923…
    φ_clv + φ_cac = −0.461538… = 2.538461… − 3.
    """
    att = shapley_attribution(lambda x: x["clv"] / x["cac"], ["clv", "cac"],
                              {"clv": 300, "cac": 100}, {"clv": 330, "cac": 130})
    by = {i.name: i for i in att.inputs}
    assert by["clv"].contribution == pytest.approx(0.5 * (0.3 + 330 / 130 - 300 / 130), rel=1e-12)
    assert by["cac"].contribution == pytest.approx(0.5 * (300 / 130 - 3 + 330 / 130 - 3.3), rel=1e-12)
    assert by["cac"].contribution == pytest.approx(-0.7269230769, rel=1e-9)
    assert att.change == pytest.approx(330 / 130 - 3, rel=1e-12)
    assert by["cac"].share == pytest.approx(0.7269230769 / 0.4615384615, rel=1e-9)
    assert att.inputs[0].name == "cac"  # the larger part first
    assert sum(i.contribution for i in att.inputs) == pytest.approx(att.change, abs=1e-15)


def test_shapley_three_inputs_gross_margin() -> None:
    """Gross margin 100 × (revenue − cogs) / revenue with revenue 200 → 250, cogs 80 → 120.

    v(∅) = 60, v({rev}) = 68, v({cogs}) = 40, v(all) = 52.
    φ_rev  = ½[(68 − 60) + (52 − 40)] = 10;  φ_cogs = ½[(40 − 60) + (52 − 68)] = −18.
    10 − 18 = −8 = 52 − 60. The constant 100 is not an input.
    """
    att = shapley_attribution(lambda x: 100 * (x["revenue"] - x["cogs"]) / x["revenue"],
                              ["revenue", "cogs"], {"revenue": 200, "cogs": 80},
                              {"revenue": 250, "cogs": 120})
    by = {i.name: i.contribution for i in att.inputs}
    assert by == pytest.approx({"revenue": 10.0, "cogs": -18.0})


def test_shapley_linear_formula_gives_each_input_its_own_change_and_unmoved_input_zero() -> None:
    """f = a + 2b − c: φ_a = Δa = 1, φ_b = 2Δb = 6, φ_c = −Δc = 0 (c did not move)."""
    att = shapley_attribution(lambda x: x["a"] + 2 * x["b"] - x["c"], ["a", "b", "c"],
                              {"a": 1, "b": 1, "c": 5}, {"a": 2, "b": 4, "c": 5})
    assert {i.name: i.contribution for i in att.inputs} == pytest.approx({"a": 1, "b": 6, "c": 0})
    assert next(i for i in att.inputs if i.name == "c").contribution == 0.0


def test_shapley_sampled_above_eight_inputs_still_adds_up() -> None:
    """Ten inputs: sampled orderings. For a linear sum each ordering gives every
    input exactly its own change, so even the sample is exact here: φ_i = i."""
    names = [f"x{i}" for i in range(10)]
    att = shapley_attribution(lambda x: sum(x.values()), names, dict.fromkeys(names, 0.0),
                              {n: float(i) for i, n in enumerate(names)}, samples=50)
    assert not att.exact
    assert {i.name: i.contribution for i in att.inputs} == pytest.approx({n: i for i, n in enumerate(names)})
    product = shapley_attribution(lambda x: x["x0"] * x["x1"] * (1 + sum(x.values())), names,
                                  dict.fromkeys(names, 1.0), dict.fromkeys(names, 2.0), samples=200)
    assert sum(i.contribution for i in product.inputs) == pytest.approx(product.change, rel=1e-12)


def test_shapley_vectorised_matches_scalar() -> None:
    f = lambda x: (x["a"] - x["b"]) / x["a"] * x["c"]  # noqa: E731
    base, cur = {"a": 10.0, "b": 3.0, "c": 2.0}, {"a": 12.0, "b": 6.0, "c": 2.5}
    scalar = shapley_attribution(f, ["a", "b", "c"], base, cur)
    vector = shapley_attribution(f, ["a", "b", "c"], base, cur, vectorised=f)
    assert [i.contribution for i in scalar.inputs] == pytest.approx([i.contribution for i in vector.inputs])


def test_shapley_undefined_point_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="with cac at the current value"):
        shapley_attribution(lambda x: x["clv"] / x["cac"], ["clv", "cac"],
                            {"clv": 300, "cac": 100}, {"clv": 330, "cac": 0})
    with pytest.raises(ValidationError, match="'cac' has no value in both periods"):
        shapley_attribution(lambda x: x["clv"] / x["cac"], ["clv", "cac"], {"clv": 1}, {"clv": 2})


def test_headline_matches_the_review_example() -> None:
    """Revenue 504,000 → 462,700 €: −41,300 € = −8.19… % ("−8.2 %").

    Regions: EU 200,000 → 169,900 (−30,100, 72.9 % → "73 %"), US 304,000 → 292,800 (−11,200).
    Plans: Pro 250,000 → 234,600 (−15,400), Basic 150,000 → 137,000 (−13,000),
    Team 104,000 → 91,100 (−12,900). Region explains more sharply (EU carries
    73 % of the movement vs 37 % for Pro), so it comes first.
    """
    regions = decompose_additive({"region:EU": 200_000, "region:US": 304_000},
                                 {"region:EU": 169_900, "region:US": 292_800}, kind="region")
    plans = decompose_additive({"plan:Pro": 250_000, "plan:Basic": 150_000, "plan:Team": 104_000},
                               {"plan:Pro": 234_600, "plan:Basic": 137_000, "plan:Team": 91_100}, kind="plan")
    e = build_explanation(kpi_key="revenue", kpi_name="Revenue", unit="currency", period_label="2026-Q3",
                          compare_label="2026-Q2", base_value=504_000, current_value=462_700,
                          breakdowns=[make_breakdown(plans, "currency"), make_breakdown(regions, "currency")])
    assert e.headline == (f"Revenue {M}8.2 % ({M}41,300 €) vs 2026-Q2: EU {M}30,100 € (73 %), "
                          f"Pro plan {M}15,400 €")
    assert [b.kind for b in e.breakdowns] == ["region", "plan"]
    assert e.drivers[0].sentence == f"EU: 200,000 € → 169,900 €, {M}30,100 € (73 % of the change)."
    assert e.drivers[0].segment == "region:EU"
    bars = waterfall(e)
    assert bars[0] == ("2026-Q2", 0.0, 504_000)
    assert bars[1] == ("EU", 504_000, 473_900)
    assert bars[-2][2] == pytest.approx(462_700)
    assert bars[-1] == ("2026-Q3", 0.0, 462_700)


def test_small_drivers_are_grouped_as_other_and_the_sum_is_kept() -> None:
    """Contributions −50, −30, then eight of −1: |sum| = 88, 5 % of it = 4.4.

    −50 and −30 stay; the eight −1 merge into "other (8)" = −8; −50 − 30 − 8 = −88.
    """
    drivers = [Driver(n, DriverKind.SEGMENT, v, None, "", segment=n)
               for n, v in [("a", -50.0), ("b", -30.0)] + [(f"s{i}", -1.0) for i in range(8)]]
    grouped = group_small(drivers, -88.0, "count")
    assert [d.label for d in grouped] == ["a", "b", "other (8)"]
    other = grouped[-1]
    assert other.kind is DriverKind.OTHER
    assert other.contribution == -8.0
    assert other.segment is None
    assert len(other.members) == 8
    assert other.sentence == f"8 smaller drivers together: {M}8 ({format_share(8 / 88)} of the change)."
    # A single small driver stays itself rather than becoming "other (1)".
    single = group_small(drivers[:3], -81.0, "count")
    assert [d.label for d in single] == ["a", "b", "s0"]


def test_context_keeps_notes_inside_either_period() -> None:
    notes = [ContextNote(dt.date(2026, 8, 10), "Price change", "annotation"),
             ContextNote(dt.date(2026, 5, 2), "Outage", "anomaly"),
             ContextNote(dt.date(2026, 1, 5), "Old news", "annotation")]
    kept = context_in_periods(notes, (dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
                              (dt.date(2026, 4, 1), dt.date(2026, 6, 30)))
    assert [(n.text, n.period) for n in kept] == [("Outage", "comparison"), ("Price change", "current")]


def test_wording() -> None:
    assert format_number(-41_312.07) == f"{M}41,300"
    assert format_number(0.0123456) == "0.0123"
    assert format_number(99.96) == "100"
    assert format_number(2.5, signed=True) == "+2.5"
    assert format_amount(-41_300, "currency") == f"{M}41,300 €"
    assert format_amount(1_250, "currency", currency="$", signed=True) == "+$1,250"
    assert format_amount(0.6, "percent", signed=True, change=True) == "+0.6 pp"
    assert format_amount(12.5, "percent") == "12.5 %"
    assert format_relative(-0.0819) == f"{M}8.2 %"
    assert format_share(0.729) == "73 %"
    assert format_share(None) == "n/a"
    assert segment_label("region:EU") == "EU"
    assert segment_label("plan:Pro") == "Pro plan"
    assert segment_label("channel:paid") == "paid channel"
    assert segment_label("") == "Total"


@pytest.mark.parametrize(
    ("text", "start", "freq"),
    [("2026-Q3", dt.date(2026, 7, 1), "quarter"), ("2026-03", dt.date(2026, 3, 1), "month"),
     ("2026-W05", dt.date(2026, 1, 26), "week"), ("2026-03-05", dt.date(2026, 3, 5), "day"),
     ("2026", dt.date(2026, 1, 1), "year"), (" 2026q1 ", dt.date(2026, 1, 1), "quarter")],
)
def test_parse_period(text: str, start: dt.date, freq: str) -> None:
    assert parse_period(text) == (start, freq)


def test_parse_period_refuses_nonsense() -> None:
    with pytest.raises(ValidationError, match="'2026-13' is not a period"):
        parse_period("2026-13")


def test_comparison_periods() -> None:
    assert comparison_start(dt.date(2026, 7, 1), "quarter", "previous") == dt.date(2026, 4, 1)
    assert comparison_start(dt.date(2026, 1, 1), "quarter", "previous") == dt.date(2025, 10, 1)
    assert comparison_start(dt.date(2026, 7, 1), "quarter", "last-year") == dt.date(2025, 7, 1)
    assert comparison_start(dt.date(2026, 3, 1), "month", "previous") == dt.date(2026, 2, 1)
    assert comparison_start(dt.date(2026, 1, 26), "week", "last-year") == dt.date(2025, 1, 27)
    assert comparison_start(dt.date(2024, 2, 29), "day", "last-year") == dt.date(2023, 2, 28)

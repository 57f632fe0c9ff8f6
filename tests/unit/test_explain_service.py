"""ExplainService and ``kpidesk explain`` on real SQLite workspaces."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math

import pandas as pd
import pytest

from kpidesk.cli.main import main
from kpidesk.domain.explain import (
    AdditiveDecomposition,
    DriverKind,
    Method,
    RatioDecomposition,
    SegmentStatus,
    ShapleyAttribution,
)
from kpidesk.errors import NotFoundError, ValidationError
from kpidesk.services.explain_service import ExplainService

M = "\u2212"
Q2 = [dt.date(2026, 4, 1), dt.date(2026, 5, 1), dt.date(2026, 6, 1)]
Q3 = [dt.date(2026, 7, 1), dt.date(2026, 8, 1), dt.date(2026, 9, 1)]


def _rows(kpi_id: int, segment: str, days: list[dt.date], values: list[float],
          ratio: list[tuple[float, float]] | None = None) -> list[dict]:
    out = []
    for i, day in enumerate(days):
        row = {"kpi_id": kpi_id, "period_start": day, "segment": segment, "value": values[i]}
        if ratio is not None:
            n, d = ratio[i]
            row.update(numerator=n, denominator=d, value=100 * n / d)
        out.append(row)
    return out


@pytest.fixture
def shop(workspace):  # type: ignore[no-untyped-def]
    """Revenue by region and conversion by channel for 2026-Q2 and Q3 (numbers in the tests)."""
    product, _ = workspace.products.create("Shop")
    revenue, _ = workspace.kpis.add_from_catalog(product.id, "revenue")
    conversion, _ = workspace.kpis.add_from_catalog(product.id, "conversion_rate")
    rows = (
        _rows(revenue.id, "region:EU", Q2 + Q3, [40_000] * 3 + [30_000, 29_900, 30_000])
        + _rows(revenue.id, "region:US", Q2 + Q3, [100_000] * 3 + [96_000, 97_000, 97_000])
        + _rows(revenue.id, "region:APAC", Q2, [1_000] * 3)
        + _rows(revenue.id, "region:LATAM", Q3[1:], [2_000, 3_000])
        + _rows(revenue.id, "", Q2 + Q3, [143_000] * 3 + [127_700, 130_600, 131_700])
        + _rows(conversion.id, "channel:organic", Q2 + Q3, [0] * 6,
                [(30, 300), (30, 300), (40, 400), (15, 150), (20, 200), (20, 150)])
        + _rows(conversion.id, "channel:paid", Q2 + Q3, [0] * 6,
                [(3, 300), (3, 300), (4, 400), (12, 1000), (12, 1000), (12, 1000)])
        + _rows(conversion.id, "", Q2 + Q3, [0] * 6,
                [(33, 600), (33, 600), (44, 800), (27, 1150), (32, 1200), (32, 1150)])
    )
    workspace.measurements.record_many(pd.DataFrame(rows))
    workspace.annotations.add(dt.date(2026, 8, 10), "Paid campaign launched", kpi_id=conversion.id)
    workspace.annotations.add(dt.date(2026, 5, 3), "Spring sale", product_id=product.id)
    workspace.annotations.add(dt.date(2026, 1, 3), "Too early to matter", product_id=product.id)
    return workspace, product, revenue, conversion


def test_additive_explanation_from_the_workspace(shop) -> None:  # type: ignore[no-untyped-def]
    """Q2 → Q3 revenue.

    Regions: EU 120,000 → 89,900 (−30,100); US 300,000 → 290,000 (−10,000);
    APAC 3,000 → gone (−3,000); LATAM new → 5,000 (+5,000); regions 423,000 → 384,900.
    Stored totals 429,000 → 390,000, so (unsegmented) 6,000 → 5,100 (−900).
    Change −39,000 = −38,100 − 900; −39,000 / 429,000 = −9.09 %; EU's share 30,100 / 39,000 = 77 %.
    """
    ws, _, _, _ = shop
    e = ExplainService(ws.db).explain("revenue", "2026-Q3", anomalies=False)
    assert (e.base_value, e.current_value, e.change) == (429_000, 390_000, -39_000)
    assert e.headline == f"Revenue {M}9.1 % ({M}39,000 €) vs 2026-Q2: EU {M}30,100 € (77 %)"
    (breakdown,) = e.breakdowns
    dec = breakdown.decomposition
    assert isinstance(dec, AdditiveDecomposition)
    by = {s.segment: s for s in dec.segments}
    assert by["region:EU"].change == -30_100
    assert by["region:APAC"].status is SegmentStatus.GONE
    assert by["region:LATAM"].status is SegmentStatus.NEW
    assert by["(unsegmented)"].change == pytest.approx(-900)
    assert sum(s.change for s in dec.segments) == pytest.approx(-39_000, abs=1e-9)
    assert sum(d.contribution for d in e.drivers) == pytest.approx(-39_000, abs=1e-9)
    # Annotations of the KPI and of its product inside either quarter, not before.
    assert [(n.text, n.period) for n in e.context] == [("Spring sale", "comparison")]


def test_ratio_explanation_is_simpsons_paradox(shop) -> None:  # type: ignore[no-untyped-def]
    """Conversion: organic 100/1,000 → 55/500, paid 10/1,000 → 36/3,000 (monthly rows summed).

    R0 = 110/2,000 = 5.5 %, R1 = 91/3,500 = 2.6 %; rate +0.6, mix −45/14, interaction −4/14 (pp).
    """
    ws, _, _, _ = shop
    e = ExplainService(ws.db).explain("conversion_rate", "2026-Q3", anomalies=False)
    assert (e.base_value, e.current_value) == pytest.approx((5.5, 2.6))
    dec = e.breakdowns[0].decomposition
    assert isinstance(dec, RatioDecomposition)
    assert e.breakdowns[0].method is Method.RATIO
    assert (dec.rate_effect, dec.mix_effect, dec.interaction) == pytest.approx((0.6, -45 / 14, -4 / 14))
    assert all(s.current_rate > s.base_rate for s in dec.segments)  # type: ignore[operator]
    assert "every channel's rate rose, yet the mix moved toward lower-rate channels, mix" in e.headline
    assert [n.text for n in e.context] == ["Spring sale", "Paid campaign launched"]


def test_formula_kpi_is_explained_by_its_inputs(workspace) -> None:  # type: ignore[no-untyped-def]
    """LTV:CAC = clv / cac, both "last" KPIs: Jun clv 300, cac 100 (3.0); Sep clv 330, cac 130.

    φ_cac = ½[(300/130 − 3) + (330/130 − 3.3)] = −0.72692…, φ_clv = 0.26538… (see the domain test).
    """
    product, _ = workspace.products.create("Ledger")
    clv, _ = workspace.kpis.add_custom(product.id, "Lifetime value", key="clv", unit="currency", aggregation="last")
    cac, _ = workspace.kpis.add_custom(product.id, "Acquisition cost", key="cac", unit="currency", aggregation="last")
    ratio, _ = workspace.kpis.add_custom(product.id, "LTV to CAC", key="ltv_cac", unit="ratio",
                                         aggregation="last", formula="clv / cac")
    workspace.measurements.record_many(pd.DataFrame(
        _rows(clv.id, "", Q2 + Q3, [290, 295, 300, 310, 320, 330])
        + _rows(cac.id, "", Q2 + Q3, [100, 100, 100, 120, 125, 130])
        + _rows(ratio.id, "", [Q2[-1], Q3[-1]], [3.0, 330 / 130])))
    e = ExplainService(workspace.db).explain("ltv_cac", "2026-Q3", anomalies=False)
    (breakdown,) = e.breakdowns
    att = breakdown.decomposition
    assert isinstance(att, ShapleyAttribution)
    by = {i.name: i.contribution for i in att.inputs}
    assert by["cac"] == pytest.approx(0.5 * (300 / 130 - 3 + 330 / 130 - 3.3), rel=1e-12)
    assert by["clv"] == pytest.approx(0.5 * (3.3 - 3 + 330 / 130 - 300 / 130), rel=1e-12)
    assert e.change == pytest.approx(330 / 130 - 3)
    assert breakdown.drivers[0].label == "Acquisition cost"
    assert breakdown.drivers[0].kind is DriverKind.INPUT
    assert "Acquisition cost: 100 € → 130 € (+30.0 %)" in breakdown.drivers[0].sentence
    assert not e.notes


def test_by_filter_last_year_and_missing_data(shop) -> None:  # type: ignore[no-untyped-def]
    ws, _, _, _ = shop
    service = ExplainService(ws.db)
    e = service.explain("revenue", "2026-Q3", compare="last-year", anomalies=False)
    assert e.compare_label == "2025-Q3"
    assert any("no value for 2025-Q3" in n for n in e.notes)
    assert e.headline == "Revenue: no value for 2025-Q3, so there is no change to explain"
    assert e.breakdowns == ()
    e = service.explain("revenue", "2026-Q3", by="plan", anomalies=False)
    assert e.breakdowns == ()
    assert any("no segments of kind 'plan'" in n for n in e.notes)
    e = service.explain("revenue", "2026-08", by="region", anomalies=False)
    assert e.compare_label == "Jul 2026"
    assert e.change == pytest.approx(130_600 - 127_700)


def test_user_errors_are_clear(shop) -> None:  # type: ignore[no-untyped-def]
    ws, product, _, _ = shop
    service = ExplainService(ws.db)
    with pytest.raises(ValidationError, match="'Q3' is not a period"):
        service.explain("revenue", "Q3")
    with pytest.raises(NotFoundError, match="no KPI 'nope'"):
        service.explain("nope", "2026-Q3")
    with pytest.raises(ValidationError, match="not per 'fiscal_year'"):
        service.explain("revenue", dt.date(2026, 7, 1), frequency="fiscal_year")
    e = service.explain("revenue", dt.date(2026, 8, 17), frequency="quarter", anomalies=False)
    assert (e.period_label, e.change) == ("2026-Q3", -39_000)
    quarterly, _ = ws.kpis.add_custom(product.id, "Board score", key="board", frequency="quarter")
    with pytest.raises(ValidationError, match="recorded per quarter, so it cannot be explained for a month"):
        service.explain(quarterly.id, "2026-08")


def test_mean_kpi_without_parts_says_why_it_cannot_be_split(workspace) -> None:  # type: ignore[no-untyped-def]
    product, _ = workspace.products.create("App")
    load, _ = workspace.kpis.add_custom(product.id, "Load time", key="load", unit="ms", aggregation="mean")
    workspace.measurements.record_many(pd.DataFrame(
        _rows(load.id, "platform:ios", Q2 + Q3, [500, 510, 520, 480, 470, 460])
        + _rows(load.id, "", Q2 + Q3, [600, 610, 620, 580, 570, 560])))
    e = ExplainService(workspace.db).explain("load", "2026-Q3", anomalies=False)
    assert e.change == pytest.approx(570 - 610)
    assert e.breakdowns == ()
    assert any("does not add up across segments" in n for n in e.notes)


def test_biggest_movers_are_ranked_by_relative_change(shop) -> None:  # type: ignore[no-untyped-def]
    """Conversion moved −52.7 % (5.5 → 2.6), revenue −9.1 %: conversion first."""
    ws, product, _, _ = shop
    movers = ExplainService(ws.db).biggest_movers(product.id, "2026-Q3", top=5)
    assert [e.kpi_key for e in movers] == ["conversion_rate", "revenue"]


def test_cli_prints_the_explanation_and_csv(shop, db_target, capsys) -> None:  # type: ignore[no-untyped-def]
    ws, _, _, _ = shop
    ws.close()
    assert main(["--db", db_target, "explain", "revenue", "--period", "2026-Q3", "--no-anomalies"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == f"Revenue {M}9.1 % ({M}39,000 €) vs 2026-Q2: EU {M}30,100 € (77 %)"
    assert "By region (additive)" in text
    assert f"EU: 120,000 € → 89,900 €, {M}30,100 € (77 % of the change)." in text
    assert "[annotation, comparison]  Spring sale" in text

    assert main(["--db", db_target, "explain", "conversion_rate", "--period", "2026-Q3", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["segment"] for r in rows} == {"channel:organic", "channel:paid"}
    total = sum(float(r["rate_effect"]) + float(r["mix_effect"]) + float(r["interaction"]) for r in rows)
    assert total == pytest.approx(2.6 - 5.5, abs=1e-9)

    assert main(["--db", db_target, "explain", "revenue", "--period", "Q3"]) != 0
    assert "'Q3' is not a period" in capsys.readouterr().err


def test_demo_segments_add_up_and_tell_the_story(demo_db_file) -> None:  # type: ignore[no-untyped-def]
    """The demo (built for 2026-11-25, monthly data up to Oct 2026): segments split
    the totals exactly; Harbor's conversion in Oct falls while every channel
    converts better than in Sep (mix), and EU drives Harbor's revenue change."""
    from kpidesk.services.workspace import Workspace

    with Workspace.open(demo_db_file, read_only=True) as ws:
        harbor = ws.products.get("Harbor")
        revenue = ws.kpis.resolve("revenue", harbor.id)
        frame = ws.measurements.series(revenue.id, segment=None)
        totals = frame[frame["segment"] == ""].set_index("period_start")["value"]
        for kind in ("region", "plan"):
            parts = frame[frame["segment"].str.startswith(kind + ":")].groupby("period_start")["value"].sum()
            assert parts.index.equals(totals.index)
            assert (parts - totals).abs().max() <= 1e-6
        # Harbor opened two regions during the demo: they are new in that quarter.
        first = frame.loc[frame["segment"] == "region:Nordics", "period_start"].min()
        assert first > totals.index.min()

        service = ExplainService(ws.db)
        e = service.explain("Harbor/conversion_rate", "2026-10")
        dec = e.breakdowns[0].decomposition
        assert isinstance(dec, RatioDecomposition)
        assert e.change < 0
        assert all(s.current_rate > s.base_rate for s in dec.segments)  # type: ignore[operator]
        assert dec.rate_effect > 0
        assert dec.mix_effect < 0
        assert any("Paid social campaign" in n.text for n in e.context)
        assert math.isclose(dec.rate_effect + dec.mix_effect + dec.interaction, e.change, abs_tol=1e-9)
        revenue_move = service.explain("Harbor/revenue", "2026-10", by="region", anomalies=False)
        assert revenue_move.drivers[0].segment == "region:EU"
        movers = service.biggest_movers(harbor.id, "2026-10", top=3)
        assert len(movers) == 3
        assert all(m.headline for m in movers)

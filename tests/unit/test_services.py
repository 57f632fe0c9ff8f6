"""Core services: products, KPIs, values; every refusal leaves the database as it was."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from kpidesk.errors import ConflictError, NotFoundError, ValidationError


def count_values(ws) -> int:  # type: ignore[no-untyped-def]
    with ws.db.raw() as con:
        return con.execute("SELECT count(*) FROM measurement").fetchone()[0]


def test_products_create_rename_archive(workspace) -> None:  # type: ignore[no-untyped-def]
    product, changes = workspace.products.create("  Pulse  ", "habit app")
    assert product.name == "Pulse" and changes.touches("product")
    with pytest.raises(ValidationError, match="already exists"):
        workspace.products.create("Pulse")
    with pytest.raises(ValidationError, match="needs a name"):
        workspace.products.create("   ")
    renamed, _ = workspace.products.rename("pulse", "Pulse Pro")
    assert renamed.name == "Pulse Pro" and renamed.version == 2
    workspace.products.archive("Pulse Pro")
    assert workspace.products.list() == []
    assert [p.name for p in workspace.products.list(include_archived=True)] == ["Pulse Pro"]
    with pytest.raises(NotFoundError, match="no product 'Nope'"):
        workspace.products.get("Nope")


def test_kpi_from_catalog_copies_fields_and_can_then_be_edited(workspace) -> None:  # type: ignore[no-untyped-def]
    product, _ = workspace.products.create("Ledger")
    kpi, changes = workspace.kpis.add_from_catalog(product.id, "clv")
    assert (kpi.unit, kpi.direction, kpi.catalog_key) == ("currency", "up", "clv")
    assert kpi.convention == "arpu / churn" and "ltv" in kpi.aliases
    assert changes.kpi_ids == {kpi.id}
    edited, _ = workspace.kpis.update(kpi.id, name="LTV (margin)", convention="arpu x gross margin / churn")
    assert edited.name == "LTV (margin)" and edited.version == 2
    assert workspace.catalog.get("clv").name == "Customer lifetime value"  # the catalog is untouched
    with pytest.raises(ValidationError, match="already has a KPI with the key 'clv'"):
        workspace.kpis.add_from_catalog(product.id, "clv")
    with pytest.raises(ValidationError, match="not a valid unit"):
        workspace.kpis.update(kpi.id, unit="parsecs")
    with pytest.raises(ConflictError, match="changed by"):
        workspace.kpis.update(kpi.id, expected_version=1, name="stale edit")


def test_custom_kpi_and_resolution_by_name_alias_and_product(workspace) -> None:  # type: ignore[no-untyped-def]
    a, _ = workspace.products.create("A")
    b, _ = workspace.products.create("B")
    workspace.kpis.add_from_catalog(a.id, "nps")
    workspace.kpis.add_from_catalog(b.id, "nps")
    custom, _ = workspace.kpis.add_custom(a.id, "Support tickets closed", unit="count")
    assert custom.key == "support_tickets_closed"
    assert workspace.kpis.resolve("Support Tickets Closed").id == custom.id
    with pytest.raises(ValidationError, match="ambiguous.*A/nps, B/nps"):
        workspace.kpis.resolve("nps")
    assert workspace.kpis.resolve("B/net promoter score").product_id == b.id
    assert workspace.kpis.resolve("nps", product="A").product_id == a.id
    with pytest.raises(NotFoundError, match="no KPI 'mrr'"):
        workspace.kpis.resolve("mrr")


def test_record_normalises_to_the_period_and_replaces(workspace, product_with_kpis) -> None:  # type: ignore[no-untyped-def]
    _, kpis = product_with_kpis
    row, changes = workspace.measurements.record(kpis["nps"].id, "2024-03-17", "41.5", note="survey")
    assert row.period_start == dt.date(2024, 3, 1) and row.value == 41.5
    assert changes.kpi_ids == {kpis["nps"].id}
    again, _ = workspace.measurements.record(kpis["nps"].id, dt.date(2024, 3, 2), -12)
    assert again.id == row.id and again.value == -12.0 and again.version == 2
    assert count_values(workspace) == 1


@pytest.mark.parametrize(
    ("kpi", "day", "value", "message"),
    [
        ("nps", "2024-02-30", 10, "not a date"),
        ("nps", "yesterday", 10, "not a date"),
        ("nps", "2024-02-01", "12,5x", "not a number"),
        ("nps", "2024-02-01", "nan", "not a finite number"),
        ("nps", "2024-02-01", 101, "above 100"),
        ("churn_rate", "2024-02-01", 120, "above 100, the highest value a percentage can take"),
        ("churn_rate", "2024-02-01", -1, "below 0"),
        ("signups", "2024-02-01", -3, "below 0, the lowest value a count can take"),
    ],
)
def test_bad_values_are_refused_with_a_reason_and_nothing_written(
        workspace, product_with_kpis, kpi: str, day: str, value: object, message: str) -> None:  # type: ignore[no-untyped-def]
    _, kpis = product_with_kpis
    with pytest.raises(ValidationError, match=message):
        workspace.measurements.record(kpis[kpi].id, day, value)
    assert count_values(workspace) == 0


def test_unknown_kpi_is_refused(workspace) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFoundError, match="KPI #42 does not exist"):
        workspace.measurements.record(42, "2024-01-01", 1)


def test_edit_delete_and_restore_for_undo(workspace, product_with_kpis) -> None:  # type: ignore[no-untyped-def]
    _, kpis = product_with_kpis
    row, _ = workspace.measurements.record(kpis["revenue"].id, "2024-05-02", 1000, note="May")
    edited, _ = workspace.measurements.edit(row.id, value="1250.5", expected_version=1)
    assert edited.value == 1250.5 and edited.version == 2
    with pytest.raises(ConflictError, match="was changed by"):
        workspace.measurements.edit(row.id, value=1, expected_version=1)
    with pytest.raises(ValidationError, match="below 0"):
        workspace.measurements.edit(kpis["signups"].id and workspace.measurements.record(
            kpis["signups"].id, "2024-05-01", 3)[0].id, value=-1)
    snapshot, _ = workspace.measurements.delete(row.id)
    assert workspace.measurements.series(kpis["revenue"].id).empty
    workspace.measurements.restore(snapshot)
    series = workspace.measurements.series(kpis["revenue"].id)
    assert series["value"].tolist() == [1250.5]


def test_bulk_record_many_is_all_or_nothing(workspace, product_with_kpis) -> None:  # type: ignore[no-untyped-def]
    _, kpis = product_with_kpis
    good = pd.DataFrame({
        "kpi_id": [kpis["signups"].id] * 3 + [kpis["churn_rate"].id],
        "period_start": ["2024-01-15", "2024-02-01", "2024-03-31", "2024-01-01"],
        "value": [10, 20, 30, 4.5],
        "segment": ["", "", "channel:paid", ""],
    })
    changes = workspace.measurements.record_many(good)
    assert changes.counts["written"] == 4 and changes.kpi_ids == {kpis["signups"].id, kpis["churn_rate"].id}
    series = workspace.measurements.series(kpis["signups"].id, segment=None)
    assert series["period_start"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert series["segment"].tolist() == ["", "", "channel:paid"]
    before = count_values(workspace)
    bad = good.assign(value=[1, 2, "x", 250])
    with pytest.raises(ValidationError, match=r"2 value\(s\) refused, nothing was written.*row 3.*'x'.*row 4.*above 100"):
        workspace.measurements.record_many(bad)
    dup = pd.DataFrame({"kpi_id": [kpis["nps"].id] * 2, "period_start": ["2024-01-02", "2024-01-20"], "value": [1, 2]})
    with pytest.raises(ValidationError, match="two values for 2024-01-01"):
        workspace.measurements.record_many(dup)
    unknown = pd.DataFrame({"kpi_id": [999], "period_start": ["2024-01-01"], "value": [1]})
    with pytest.raises(ValidationError, match="KPI #999 does not exist"):
        workspace.measurements.record_many(unknown)
    assert count_values(workspace) == before


def test_series_by_range_and_segment(workspace, product_with_kpis) -> None:  # type: ignore[no-untyped-def]
    _, kpis = product_with_kpis
    kpi_id = kpis["revenue"].id
    frame = pd.DataFrame({"kpi_id": kpi_id, "period_start": pd.date_range("2024-01-01", periods=12, freq="MS"),
                          "value": range(12)})
    workspace.measurements.record_many(frame)
    workspace.measurements.record(kpi_id, "2024-06-01", 99, segment="region:EU")
    part = workspace.measurements.series(kpi_id, start=dt.date(2024, 3, 1), end=dt.date(2024, 5, 31))
    assert part["value"].tolist() == [2.0, 3.0, 4.0]
    assert str(part["period_start"].dtype).startswith("datetime64")
    eu = workspace.measurements.series(kpi_id, segment="region:EU")
    assert eu["value"].tolist() == [99.0]


def test_read_only_workspace_refuses_every_write(db_target) -> None:  # type: ignore[no-untyped-def]
    from kpidesk.errors import ReadOnlyError
    from kpidesk.services.workspace import Workspace

    with Workspace.open(db_target) as ws:
        product, _ = ws.products.create("P")
        kpi, _ = ws.kpis.add_from_catalog(product.id, "nps")
    with Workspace.open(db_target, read_only=True) as ro:
        for call in (lambda: ro.products.create("Q"), lambda: ro.measurements.record(kpi.id, "2024-01-01", 1),
                     lambda: ro.kpis.add_from_catalog(product.id, "mau")):
            with pytest.raises(ReadOnlyError, match="opened read-only"):
                call()
        assert [p.name for p in ro.products.list()] == ["P"]


def test_demo_workspace_is_believable(demo_workspace) -> None:  # type: ignore[no-untyped-def]
    ws = demo_workspace
    assert len(ws.products.list()) == 3
    kpis = ws.kpis.list()
    assert len({k.catalog_key for k in kpis}) >= 25
    dau = ws.kpis.resolve("Pulse/dau")
    daily = ws.measurements.series(dau.id)
    assert len(daily) > 2 * 365 and daily["period_start"].max() == pd.Timestamp("2026-11-24")
    revenue = ws.measurements.series(ws.kpis.resolve("Ledger/revenue").id)
    assert len(revenue) >= 24 and revenue["value"].iloc[-6:].mean() > revenue["value"].iloc[:6].mean()
    churn = ws.measurements.series(ws.kpis.resolve("Pulse/churn_rate").id)
    ratio = churn["numerator"] / churn["denominator"] * 100
    assert (ratio - churn["value"]).abs().max() < 0.01  # ratio KPIs carry consistent parts
    assert ws.annotations.list()

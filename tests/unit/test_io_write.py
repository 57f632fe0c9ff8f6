"""The write: one transaction with batch record and overwritten values; exact rollback; re-import no-op."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import openpyxl
import pytest

from kpidesk.errors import CancelledError, NotFoundError, ValidationError
from kpidesk.io.mapping import EXISTING
from kpidesk.services.import_service import ImportService


def tracker(path: Path, rows: dict[str, list[float | None]], months: tuple[str, ...] = ("Jan", "Feb", "Mar"),
            title: str = "KPI tracker 2024") -> Path:
    """A KPI-rows × month-columns tracker as people make them: a title row, then the table."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Tracker"
    sheet.append([title])
    sheet.append(["Metric", *months])
    for label, values in rows.items():
        sheet.append([label, *values])
    book.save(path)
    return path


def snapshot(ws) -> list[tuple]:  # type: ignore[no-untyped-def]
    with ws.db.raw() as con:
        cur = con.cursor()
        cur.execute("SELECT kpi_id, period_start, segment, value, note, source, import_batch_id FROM measurement"
                    " ORDER BY kpi_id, period_start, segment")
        rows = cur.fetchall()
        cur.close()
    return [tuple(str(x) if isinstance(x, dt.date) else x for x in row) for row in rows]


def count(ws, table: str) -> int:  # type: ignore[no-untyped-def]
    with ws.db.raw() as con:
        cur = con.cursor()
        cur.execute(f"SELECT count(*) FROM {table}")
        n = cur.fetchone()[0]
        cur.close()
    return int(n)


@pytest.fixture
def service(workspace, product_with_kpis):  # type: ignore[no-untyped-def]
    return ImportService(workspace.db, workspace.catalog)


def test_apply_writes_values_batch_record_and_overwritten_values(workspace, service, product_with_kpis,
                                                                  tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, kpis = product_with_kpis
    workspace.measurements.record(kpis["nps"].id, "2024-02-01", 20, note="Feb survey")
    path = tracker(tmp_path / "t.xlsx", {"NPS": [31, 32, 33], "Sign ups": [100, 110, None]})
    plan = service.plan(path, product="Acme", sandbox=False)
    assert (plan.inserts, plan.updates, plan.unchanged, plan.missing_cells) == (4, 1, 0, 1)
    result = service.apply(plan)
    assert (result.inserted, result.updated, result.unchanged, result.rejected) == (4, 1, 0, 0)
    assert result.changes.kpi_ids == {kpis["nps"].id, kpis["signups"].id}
    batch = service.batches()[0]
    assert (batch.id, batch.file_name, batch.sheet, batch.layout, batch.product, batch.status) == (
        result.batch_id, "t.xlsx", "Tracker", "rows", "Acme", "applied")
    assert batch.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    with workspace.db.raw() as con:
        overwrite = con.execute("SELECT kpi_id, period_start, action, old_value, old_note, old_source"
                                " FROM import_overwrite").fetchall()
        mapping = con.execute("SELECT mapping FROM import_batch").fetchone()[0]
    # SQLite returns dates as text, PostgreSQL as dates; the JSON mapping as text or as a dict
    assert [(k, str(day), *rest) for k, day, *rest in overwrite] == [
        (kpis["nps"].id, "2024-02-01", "update", 20.0, "Feb survey", "manual")]
    mapping = mapping if isinstance(mapping, str) else json.dumps(mapping)
    assert '"NPS"' in mapping and '"nps"' in mapping  # the mapping used is kept with the batch
    series = workspace.measurements.series(kpis["nps"].id)
    assert series["value"].tolist() == [31.0, 32.0, 33.0]
    assert workspace.measurements.rows(kpis["nps"].id)[1].note == "Feb survey"  # empty file note keeps it


def test_reimporting_the_same_file_changes_nothing_and_says_so(workspace, service, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tracker(tmp_path / "t.xlsx", {"NPS": [31, 32, 33]})
    first = service.apply(service.plan(path, product="Acme", sandbox=False))
    before = snapshot(workspace)
    again = service.plan(path, product="Acme", sandbox=False)
    assert (again.inserts, again.updates, again.unchanged) == (0, 0, 3)
    assert again.already_imported == [first.batch_id]
    result = service.apply(again)
    assert result.batch_id is None
    assert "already imported (batch #1); importing it again changes nothing" in result.message
    assert snapshot(workspace) == before and count(workspace, "import_batch") == 1


def test_rollback_restores_overwritten_values_exactly_and_removes_inserted_ones(
        workspace, service, product_with_kpis, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, kpis = product_with_kpis
    workspace.measurements.record(kpis["nps"].id, "2024-01-01", 10, note="kept")
    workspace.measurements.record(kpis["churn_rate"].id, "2024-01-01", 2.5, segment="region:EU")
    before = snapshot(workspace)
    path = tracker(tmp_path / "t.xlsx", {"NPS": [11, 12, 13], "Churn": [0.03, 0.04, 0.05]})
    result = service.apply(service.plan(path, product="Acme", sandbox=False))
    assert (result.inserted, result.updated) == (5, 1)
    undo = service.rollback(result.batch_id)
    assert "5 value(s) removed, 1 restored" in undo.message
    assert snapshot(workspace) == before
    assert service.batches()[0].status == "rolled_back"
    with pytest.raises(ValidationError, match="already rolled back"):
        service.rollback(result.batch_id)
    with pytest.raises(NotFoundError, match="no import #99"):
        service.rollback(99)


def test_rollback_is_newest_first_and_keeps_values_re_recorded_by_hand(
        workspace, service, product_with_kpis, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, kpis = product_with_kpis
    first = service.apply(service.plan(tracker(tmp_path / "a.xlsx", {"NPS": [1, 2, 3]}), product="Acme",
                                       sandbox=False))
    second = service.apply(service.plan(tracker(tmp_path / "b.xlsx", {"NPS": [1, 2, 30]}), product="Acme",
                                        sandbox=False))
    assert (second.inserted, second.updated, second.unchanged) == (0, 1, 2)
    with pytest.raises(ValidationError, match=r"import #2 replaced some of its values. Roll back #2 first"):
        service.rollback(first.batch_id)
    service.rollback(second.batch_id)
    assert workspace.measurements.series(kpis["nps"].id)["value"].tolist() == [1.0, 2.0, 3.0]
    workspace.measurements.record(kpis["nps"].id, "2024-02-01", 99)  # a later edit by hand
    service.rollback(first.batch_id)
    series = workspace.measurements.series(kpis["nps"].id)
    assert series["value"].tolist() == [99.0]  # the hand-made value survives the rollback


def test_kpis_and_products_created_by_an_import_go_away_on_rollback(workspace, service, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tracker(tmp_path / "t.xlsx", {"Widgets shipped": [5, 6, 7], "MRR": [1000, 1100, 1200]})
    plan = service.plan(path, product="Gizmo", sandbox=False)
    assert plan.new_products == ["Gizmo"]
    assert sorted(k.key for k in plan.new_kpis) == ["mrr", "widgets_shipped"]
    kpis_before = count(workspace, "kpi")
    result = service.apply(plan)
    created = workspace.kpis.list("Gizmo")
    assert sorted((k.key, k.unit, k.catalog_key) for k in created) == [("mrr", "currency", "mrr"),
                                                                       ("widgets_shipped", "count", None)]
    assert result.changes.touches("kpi", "product")
    service.rollback(result.batch_id)
    assert count(workspace, "kpi") == kpis_before
    assert [p.name for p in workspace.products.list()] == ["Acme"]


def test_the_mapping_is_remembered_for_the_next_file_with_the_same_labels(workspace, service, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    plan = service.plan(tracker(tmp_path / "q1.xlsx", {"Score": [1, 2, 3], "Junk": [0, 0, 0]}), product="Acme",
                        sandbox=False)
    assert plan.decisions["Score"].action == "custom"
    plan = service.replan(plan, {"Score": replace(plan.decisions["Score"], action=EXISTING, kpi_key="nps"),
                                 "Junk": replace(plan.decisions["Junk"], action="ignore")})
    assert plan.ignored_cells == 3 and plan.inserts == 3
    service.apply(plan)
    # Next quarter: other months, same labels → the same decisions, marked as remembered.
    later = service.plan(tracker(tmp_path / "q2.xlsx", {"score": [4, 5, 6], "JUNK": [1, 1, 1]},
                                 months=("Apr", "May", "Jun")), product="Acme", sandbox=False)
    assert (later.decisions["score"].action, later.decisions["score"].kpi_key,
            later.decisions["score"].matched_by) == (EXISTING, "nps", "remembered")
    assert later.decisions["JUNK"].action == "ignore"


def test_cancel_during_the_write_rolls_everything_back(workspace, service, tmp_path) -> None:  # type: ignore[no-untyped-def]
    class CancelAfterFirstChunk:
        def __init__(self) -> None:
            self.reports: list[float] = []

        def report(self, fraction: float, text: str = "") -> None:
            self.reports.append(fraction)

        def cancelled(self) -> bool:
            return bool(self.reports)  # cancel once the first chunk of values is written

    import kpidesk.services.import_service as module

    path = tracker(tmp_path / "t.xlsx", {"NPS": [1, 2, 3], "Sign ups": [4, 5, 6]})
    plan = service.plan(path, product="Acme", sandbox=False)
    before = snapshot(workspace)
    old_chunk, module.WRITE_CHUNK = module.WRITE_CHUNK, 2  # 6 values → 3 chunks
    try:
        progress = CancelAfterFirstChunk()
        with pytest.raises(CancelledError, match="nothing was changed"):
            service.apply(plan, progress=progress)
    finally:
        module.WRITE_CHUNK = old_chunk
    assert progress.reports == [pytest.approx(2 / 6)]
    assert snapshot(workspace) == before and count(workspace, "import_batch") == 0


def test_a_kpi_created_between_preview_and_write_refuses_the_write_cleanly(workspace, service, tmp_path) -> None:  # type: ignore[no-untyped-def]
    plan = service.plan(tracker(tmp_path / "t.xlsx", {"Widgets shipped": [5, 6, 7]}), product="Acme",
                        sandbox=False)
    assert [k.key for k in plan.new_kpis] == ["widgets_shipped"]
    workspace.kpis.add_custom("Acme", "Widgets shipped")  # e.g. in another window, after the preview
    before = snapshot(workspace)
    with pytest.raises(ValidationError, match="changed since the preview of t.xlsx"):
        service.apply(plan)
    assert snapshot(workspace) == before and count(workspace, "import_batch") == 0


def test_a_sheet_per_product_export_imports_back_into_each_product(workspace, service, product_with_kpis,
                                                                    tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kpidesk.services.export_service import ExportService

    _, kpis = product_with_kpis
    other, _ = workspace.products.create("Beta")
    beta_nps, _ = workspace.kpis.add_from_catalog(other.id, "nps")
    workspace.measurements.record(kpis["nps"].id, "2024-01-01", 30)
    workspace.measurements.record(beta_nps.id, "2024-01-01", -20)  # same KPI name and period, other product
    path = tmp_path / "both.xlsx"
    ExportService(workspace.db, workspace.kpis).export(path, sheet_per_product=True)
    before = snapshot(workspace)
    with workspace.db.raw(write=True) as con:
        con.cursor().execute("DELETE FROM measurement")
    plan = service.plan(path, sandbox=False)
    assert plan.sheets == ["Acme", "Beta"] and plan.rejected == [] and plan.inserts == 2
    assert set(plan.values["segment"]) == {""}  # no sheet:<name> segments: the products differ
    service.apply(plan)
    assert [row[:4] for row in snapshot(workspace)] == [row[:4] for row in before]

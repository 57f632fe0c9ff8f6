"""An export says which selected KPIs it leaves out because they are computed, not stored."""

from __future__ import annotations

import openpyxl

from kpidesk.services.export_service import ExportSelection, ExportService
from kpidesk.services.workspace import Workspace


def _workspace(path):
    ws = Workspace.open(path)
    product, _ = ws.products.create("Mobile app")
    dau, _ = ws.kpis.add_from_catalog(product.id, "dau")
    ws.kpis.add_from_catalog(product.id, "mau")
    ws.kpis.add_from_catalog(product.id, "stickiness")  # derived: dau / mau * 100
    ws.measurements.record(dau.id, "2026-10-01", 1200)
    return ws


def test_exporting_everything_names_the_formula_kpis_left_out(tmp_path):
    with _workspace(tmp_path / "w.kpidesk.db") as ws:
        result = ExportService(ws.db, ws.kpis).export(tmp_path / "all.xlsx")
    assert result.rows == 1
    assert "Not in the file: Stickiness, computed from other KPIs rather than stored" in result.message
    sheet = openpyxl.load_workbook(tmp_path / "all.xlsx").active
    kpis = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert not any("Stickiness" in str(k) for k in kpis)


def test_a_selection_without_formula_kpis_says_nothing_more(tmp_path):
    with _workspace(tmp_path / "w.kpidesk.db") as ws:
        service = ExportService(ws.db, ws.kpis)
        result = service.export(tmp_path / "dau.csv", ExportSelection(kpis=["dau"]))
        assert "Not in the file" not in result.message
        assert service.computed_kpis(ExportSelection(products=["Mobile app"])) == \
            [k.name for k in ws.kpis.list() if k.formula]
        assert service.computed_kpis(ExportSelection(kpis=["stickiness"])) == [ws.kpis.resolve("stickiness").name]

"""Long layouts: a KPI *named* "Total revenue" is a KPI; only the period position makes a totals row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from kpidesk.io.layout import LONG, detect_layout
from kpidesk.io.reader import read_workbook
from kpidesk.io.records import to_records
from kpidesk.services.import_service import ImportService


def long_book(path: Path, rows: list[tuple]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Values"
    sheet.append(["Period", "KPI", "Value"])
    for row in rows:
        sheet.append(list(row))
    for cell in sheet["A"][1:]:
        if isinstance(cell.value, dt.datetime):
            cell.number_format = "yyyy-mm-dd"
    book.save(path)
    return path


JAN, FEB = dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1)


@pytest.mark.parametrize("period", [JAN, "2024-01"], ids=["date cells", "period labels"])
def test_kpis_whose_names_begin_with_total_are_imported_and_real_totals_rows_skipped(
        workspace, tmp_path, period) -> None:  # type: ignore[no-untyped-def]
    later = FEB if isinstance(period, dt.datetime) else "2024-02"
    path = long_book(tmp_path / "long.xlsx", [
        (period, "Total revenue", 1200.5),
        (period, "Total orders", 31),
        (period, "Sign ups", 7),
        (later, "Total revenue", 1300),
        (later, "Total orders", 35),
        (later, "Sign ups", 9),
        ("Total", None, 2500.5),          # a totals row: the period position says so
        (None, "Total", 66),              # a totals row without a period
        ("Average", "Sign ups", 8),
    ])
    workbook = read_workbook(path, sandbox=False)
    grid = workbook.sheets[0]
    layout = detect_layout(grid)
    assert layout.kind == LONG
    assert [r for r, _ in layout.skipped_rows] == [7, 8, 9]
    records = to_records(grid, layout, str(path))
    assert records.loc[records["skip"] == "", "kpi_label"].tolist() == [
        "Total revenue", "Total orders", "Sign ups"] * 2
    assert records.loc[records["skip"] != "", "row"].tolist() == [8, 9, 10]

    product, _ = workspace.products.create("Shop")
    for name, unit in (("Total revenue", "currency"), ("Total orders", "count"), ("Sign ups", "count")):
        workspace.kpis.add_custom(product.id, name, unit=unit)
    service = ImportService(workspace.db, workspace.catalog)
    plan = service.plan(path, product="Shop", sandbox=False)
    assert [(s.row, s.reason) for s in plan.skipped] == [(8, "totals/average row"), (9, "totals/average row"),
                                                        (10, "totals/average row")]
    assert not plan.rejected
    service.apply(plan)
    stored = {k.name: workspace.measurements.series(k.id)["value"].tolist()
              for k in workspace.kpis.list(product.id)}
    assert stored == {"Total revenue": [1200.5, 1300.0], "Total orders": [31.0, 35.0], "Sign ups": [7.0, 9.0]}


def test_a_sheet_holding_only_a_total_named_kpi_is_still_a_long_table(tmp_path) -> None:
    path = long_book(tmp_path / "only.xlsx", [(dt.datetime(2024, m, 1), "Total revenue", 100 * m)
                                              for m in range(1, 7)])
    grid = read_workbook(path, sandbox=False).sheets[0]
    layout = detect_layout(grid)
    assert layout.kind == LONG and not layout.skipped_rows
    records = to_records(grid, layout, str(path))
    assert (records["skip"] == "").all() and records["value"].tolist() == [100.0 * m for m in range(1, 7)]

"""The import's bulk write (``upsert_values``): every column lands as planned, on SQLite and PostgreSQL.

The write binds only the per-row columns and passes frequency, the empty
numerator/denominator and the batch as constants of one statement per
frequency; these tests pin that each row still gets its own note, its own
frequency, and that an overwritten ratio value loses the numerator/denominator
it no longer matches (and gets them back on rollback).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

from kpidesk.services.import_service import ImportService


def long_sheet(path: Path, rows: list[tuple]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Values"
    sheet.append(["Period", "KPI", "Segment", "Value", "Note"])
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def stored(ws) -> list[tuple]:  # type: ignore[no-untyped-def]
    with ws.db.raw() as con:
        cur = con.cursor()
        cur.execute("SELECT k.key, m.period_start, m.frequency, m.segment, m.value, m.numerator, m.denominator,"
                    " m.note, m.source, m.import_batch_id FROM measurement m JOIN kpi k ON k.id = m.kpi_id"
                    " ORDER BY k.key, m.period_start, m.segment")
        rows = cur.fetchall()
        cur.close()
    return [tuple(str(x) if isinstance(x, dt.date) else x for x in row) for row in rows]


def test_each_row_keeps_its_note_and_frequency_and_an_overwrite_drops_the_old_ratio_parts(
        workspace, product_with_kpis, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, kpis = product_with_kpis
    workspace.measurements.record(kpis["churn_rate"].id, "2024-02-01", 5.0, numerator=5, denominator=100,
                                  note="from billing")
    path = long_sheet(tmp_path / "long.xlsx", [
        ("2024-01", "Sign ups", "", 100, None),
        ("2024-02", "Sign ups", "", 110, "launch  week\nand a newsletter"),
        ("2024-02", "Sign ups", "channel:paid", 40, None),
        ("2024-Q1", "NPS", "", 31, "survey"),
        ("2024-Q2", "NPS", "", 35, None),
        ("2024-02", "Churn rate", "", 4.5, None),
        ("2024-03", "Churn rate", "", 4.0, "fixed"),
    ])
    service = ImportService(workspace.db, workspace.catalog)
    plan = service.plan(path, product="Acme", sandbox=False)
    assert not plan.rejected, [r.sentence() for r in plan.rejected]
    result = service.apply(plan)
    batch = result.batch_id
    assert (result.inserted, result.updated) == (6, 1)
    assert stored(workspace) == [
        # an empty note in the file keeps the stored note; the ratio parts of the old value are gone
        ("churn_rate", "2024-02-01", "month", "", 4.5, None, None, "from billing", "import", batch),
        ("churn_rate", "2024-03-01", "month", "", 4.0, None, None, "fixed", "import", batch),
        ("nps", "2024-01-01", "quarter", "", 31.0, None, None, "survey", "import", batch),
        ("nps", "2024-04-01", "quarter", "", 35.0, None, None, "", "import", batch),
        ("signups", "2024-01-01", "month", "", 100.0, None, None, "", "import", batch),
        ("signups", "2024-02-01", "month", "", 110.0, None, None, "launch  week\nand a newsletter", "import",
         batch),
        ("signups", "2024-02-01", "month", "channel:paid", 40.0, None, None, "", "import", batch),
    ]
    service.rollback(batch)
    assert stored(workspace) == [
        ("churn_rate", "2024-02-01", "month", "", 5.0, 5.0, 100.0, "from billing", "manual", None)]


def test_thousands_of_rows_with_scattered_notes_land_row_for_row(workspace, product_with_kpis, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """More rows than one staging statement holds (1,000), notes on a few of them, two segments."""
    start = dt.date(2015, 1, 1)
    lines = ["Period,KPI,Segment,Value,Note"]
    expected = []
    for i in range(2600):
        day = start + dt.timedelta(days=i // 2)
        segment = "region:EU" if i % 2 else ""
        note = f"note {i}" if i % 397 == 0 else ""
        lines.append(f"{day.isoformat()},Sign ups,{segment},{i},{note}")
        expected.append(("signups", day.isoformat(), "day", segment, float(i), None, None, note, "import"))
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    workspace.kpis.update(product_with_kpis[1]["signups"].id, frequency="day")
    service = ImportService(workspace.db, workspace.catalog)
    plan = service.plan(path, product="Acme", sandbox=False)
    assert not plan.rejected and plan.inserts == 2600
    result = service.apply(plan)
    got = stored(workspace)
    assert [row[:-1] for row in got] == sorted(expected, key=lambda r: (r[1], r[3]))
    assert {row[-1] for row in got} == {result.batch_id}

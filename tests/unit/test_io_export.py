"""The xlsx/csv writers: formats, safety against formulas and control characters, atomic writes."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kpidesk.errors import KpideskError, ValidationError
from kpidesk.io.export import (
    EXPORT_COLUMNS,
    atomic_write,
    clean_text,
    escape_csv_text,
    format_csv_number,
    sheet_title,
    unescape_csv_text,
    write_csv,
    write_xlsx,
)
from kpidesk.services.export_service import ExportSelection, ExportService


def frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["product", "kpi_name", "period_start", "segment", "value", "note", "unit"])


SAMPLE = frame([
    ("Acme", "Churn", dt.date(2024, 1, 1), "", 12.5, "", "percent"),
    ("Acme", "=HYPERLINK(\"http://evil\",\"x\")", dt.date(2024, 2, 1), "region:EU", -3.25, "@SUM(1)", "ratio"),
    ("Beta", "Revenue", dt.date(2024, 1, 1), "", 1234567.891, "bad\x00byte\x1fhere", "currency"),
    ("Beta", "Sign-ups", dt.date(2024, 3, 1), "", 42.0, "+1 call", "count"),
])


def test_xlsx_has_styled_frozen_filtered_header_dates_and_unit_formats(tmp_path: Path) -> None:
    path = write_xlsx(SAMPLE, tmp_path / "out.xlsx")
    sheet = openpyxl.load_workbook(path)["KPI values"]
    assert [c.value for c in sheet[1]] == list(EXPORT_COLUMNS)
    assert all(c.font.b for c in sheet[1]) and sheet["A1"].fill.fgColor.rgb.endswith("DDE3EA")
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:F5"
    assert isinstance(sheet["C2"].value, dt.datetime) and sheet["C2"].number_format == "yyyy-mm-dd"
    # percent: 12.5 points are stored as the fraction 0.125 with a percent format
    assert (sheet["E2"].value, sheet["E2"].number_format) == (0.125, "0.0#%")
    assert (sheet["E4"].value, sheet["E4"].number_format) == (1234567.891, "#,##0.00")
    assert sheet["E5"].number_format == "#,##0.##"


def test_xlsx_never_turns_text_into_a_formula(tmp_path: Path) -> None:
    path = write_xlsx(SAMPLE, tmp_path / "out.xlsx")
    sheet = openpyxl.load_workbook(path)["KPI values"]
    cell = sheet["B3"]
    assert cell.data_type == "s" and cell.value == "=HYPERLINK(\"http://evil\",\"x\")"
    assert sheet["F3"].data_type == "s" and sheet["F3"].value == "@SUM(1)"
    assert sheet["F5"].value == "+1 call"
    raw = __import__("zipfile").ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in raw  # no formula element anywhere in the sheet


def test_control_characters_are_replaced_not_a_crash(tmp_path: Path) -> None:
    path = write_xlsx(SAMPLE, tmp_path / "out.xlsx")
    assert openpyxl.load_workbook(path)["KPI values"]["F4"].value == "bad\ufffdbyte\ufffdhere"
    assert clean_text("tab\tnew\nline\rok") == "tab\tnew\nline\rok"  # these xlsx can hold
    assert clean_text("\x0b\x0c\ufffe") == "\ufffd\ufffd\ufffd"
    long_note = frame([("Acme", "NPS", dt.date(2024, 1, 1), "", 1.0, "x" * 40_000, "score")])
    cell = openpyxl.load_workbook(write_xlsx(long_note, tmp_path / "long.xlsx"))["KPI values"]["F2"].value
    assert len(cell) == 32_767 and cell.endswith("x…")  # Excel's cell limit


def test_csv_gets_the_owasp_quote_and_keeps_numbers_numeric(tmp_path: Path) -> None:
    path = write_csv(SAMPLE, tmp_path / "out.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads accents right
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == list(EXPORT_COLUMNS)
    assert rows[1] == ["Acme", "Churn", "2024-01-01", "", "12.5%", ""]
    assert rows[2] == ["Acme", "'=HYPERLINK(\"http://evil\",\"x\")", "2024-02-01", "region:EU", "-3.25", "'@SUM(1)"]
    assert rows[3][4:] == ["1234567.891", "bad\ufffdbyte\ufffdhere"]
    assert rows[4][4:] == ["42", "'+1 call"]


@pytest.mark.parametrize(("text", "escaped"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-x", "'-x"), ("@a", "'@a"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("'=x", "''=x"), ("''@x", "'''@x"), ("plain", "plain"), ("'quoted", "'quoted"), ("", ""), ("a=b", "a=b"),
])
def test_csv_escape_is_exactly_reversible(text: str, escaped: str) -> None:
    assert escape_csv_text(text) == escaped
    assert unescape_csv_text(escaped) == text


def test_csv_numbers_read_back_to_the_same_double() -> None:
    for value in (0.1 + 0.2, 1e308, 5e-324, -0.0, 3.1275878779739896e16, 42.0, -7.0):
        text = format_csv_number(value, "count")
        assert float(text) == value
    assert format_csv_number(42.0, "count") == "42"
    assert format_csv_number(12.5, "percent") == "12.5%"
    assert format_csv_number(float("nan"), "count") == ""


def test_sheet_per_product_and_safe_unique_sheet_titles(tmp_path: Path) -> None:
    path = write_xlsx(SAMPLE, tmp_path / "out.xlsx", sheet_per_product=True)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Acme", "Beta"]
    assert book["Beta"].max_row == 3 and book["Beta"].auto_filter.ref == "A1:F3"
    taken: set[str] = set()
    assert sheet_title("a/b:c*d?[e]", taken) == "a_b_c_d__e_"
    assert sheet_title("A_B_C_D__E_", taken) == "A_B_C_D__E_ (2)"  # sheet names are case-insensitive
    assert len(sheet_title("x" * 40, taken)) == 31


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "keep.csv"
    target.write_text("old content")

    def broken(path: str) -> None:
        Path(path).write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert target.read_text() == "old content"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]  # the temporary file is gone
    with pytest.raises(KpideskError, match="does not exist"):
        atomic_write(tmp_path / "missing" / "x.csv", broken)


def test_export_service_selects_products_kpis_periods_and_segments(workspace, product_with_kpis, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, kpis = product_with_kpis
    other, _ = workspace.products.create("Other")
    other_nps, _ = workspace.kpis.add_from_catalog(other.id, "nps")
    for month in (1, 2, 3):
        workspace.measurements.record(kpis["nps"].id, f"2024-{month:02d}-01", 30 + month)
        workspace.measurements.record(kpis["churn_rate"].id, f"2024-{month:02d}-01", 2.0, segment="region:EU")
    workspace.measurements.record(other_nps.id, "2024-01-01", 10)
    service = ExportService(workspace.db, workspace.kpis)
    everything = service.frame()
    assert len(everything) == 7
    only = service.frame(ExportSelection(products=["Acme"], kpis=["nps"], start=dt.date(2024, 2, 1)))
    assert only[["kpi_key", "value"]].values.tolist() == [["nps", 32.0], ["nps", 33.0]]
    seg = service.frame(ExportSelection(segments=["region:EU"]))
    assert set(seg["kpi_key"]) == {"churn_rate"} and len(seg) == 3
    result = service.export(tmp_path / "acme.csv", ExportSelection(products=["Acme"]))
    assert result.rows == 6 and "Exported 6 value(s) of 2 KPI(s)" in result.message
    with pytest.raises(ValidationError, match="use a .xlsx or .csv"):
        service.export(tmp_path / "acme.pdf")

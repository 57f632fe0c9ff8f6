"""Write the golden import files in tests/data/golden/ (run: python tests/data/make_golden.py).

Each file exercises one layout or quirk; tests/unit/test_io_golden.py asserts
what kpidesk reads from each, value by value. The files are committed; this
script documents exactly how they were made and can regenerate them.
"""

from __future__ import annotations

import codecs
import datetime as dt
import sys
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def long_basic(path: Path) -> None:
    """openpyxl, long layout with product, segment, note; a percent text and a percent format."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["Period", "KPI", "Value", "Segment", "Product", "Note"])
    ws.append([dt.date(2024, 1, 1), "MRR", 12000, None, "Alpha", None])
    ws.append([dt.date(2024, 2, 1), "MRR", 12500.5, None, "Alpha", "price change"])
    ws.append([dt.date(2024, 1, 1), "Churn rate", "2.5%", None, "Alpha", None])
    ws.append([dt.date(2024, 2, 1), "Churn rate", 0.021, None, "Alpha", None])
    ws["C5"].number_format = "0.0%"
    ws.append([dt.date(2024, 1, 1), "Signups", 340, "channel:paid", "Alpha", None])
    ws.append([dt.date(2024, 2, 1), "Signups", "n/a", "channel:paid", "Alpha", "tracking broken"])
    for row in ws.iter_rows(min_row=2, max_col=1):
        row[0].number_format = "yyyy-mm-dd"
    wb.save(path)


def wide_titles(path: Path) -> None:
    """openpyxl, wide layout below two title rows, a blank column, a Total row."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Report"
    ws["A1"] = "Acme KPI report"
    ws["A2"] = "Prepared by finance"
    ws.append([])
    ws.append(["Month", "MRR", None, "Active users", "NPS"])
    ws.append(["Jan 2024", 1000, None, 50, 31])
    ws.append(["Feb 2024", 1100, None, 55, 35.5])
    ws.append(["Mar 2024", "1,250", None, 61, None])
    ws.append(["Total", 3350, None, 166, None])
    wb.save(path)


def tracker_rows(path: Path) -> None:
    """openpyxl, KPI rows × month columns; year only in the merged title; section, target, YTD, average."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tracker"
    ws["A1"] = "KPI Tracker 2023"
    ws.merge_cells("A1:F1")
    ws.append([])
    ws.append(["Metric", "Target", "Jan", "Feb", "Mar", "YTD"])
    ws.append(["ACQUISITION", None, None, None, None, None])
    ws.append(["Signups", 100, 90, 95, 120, 305])
    ws.append(["Conversion", 0.05, 0.04, 0.045, 0.05, None])
    for col in "BCDE":
        ws[f"{col}6"].number_format = "0.0%"
    ws.append([])
    ws.append(["Average", None, 45, 47.5, 60, None])
    wb.save(path)


def merged_years(path: Path) -> None:
    """openpyxl, tracker whose header months sit under merged year cells (2024 | 2025)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Years"
    ws.append([None, "2024", None, "2025", None])
    ws.merge_cells("B1:C1")
    ws.merge_cells("D1:E1")
    ws.append(["Metric", "Nov", "Dec", "Jan", "Feb"])
    ws.append(["Revenue", 10, 11, 12, 13])
    ws.append(["Users", 1, 2, 3, 4])
    wb.save(path)


def merged_groups_wide(path: Path) -> None:
    """openpyxl, wide sheet with merged KPI group headers over repeated segment sub-headers."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "By region"
    ws.append([None, "Revenue", None, "Users", None])
    ws.merge_cells("B1:C1")
    ws.merge_cells("D1:E1")
    ws.append(["Month", "EU", "US", "EU", "US"])
    ws.append(["2024-01", 100, 200, 10, 20])
    ws.append(["2024-02", 110, 210, 11, 21])
    wb.save(path)


def shared_strings(path: Path) -> None:
    """xlsxwriter (shared strings table, cached formula results), long weekly data."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Weekly")
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["Week starting", "Metric", "Value"])
    rows = [
        (dt.datetime(2024, 1, 1), "Tickets", 40),
        (dt.datetime(2024, 1, 8), "Tickets", 42),
        (dt.datetime(2024, 1, 15), "Tickets", 39),
        (dt.datetime(2024, 1, 1), "CSAT", 4.5),
        (dt.datetime(2024, 1, 8), "CSAT", 4.25),
    ]
    for r, (day, metric, value) in enumerate(rows, start=1):
        ws.write_datetime(r, 0, day, date_format)
        ws.write_string(r, 1, metric)
        ws.write_number(r, 2, value)
    ws.write_datetime(6, 0, dt.datetime(2024, 1, 15), date_format)
    ws.write_string(6, 1, "CSAT")
    ws.write_formula(6, 2, "=AVERAGE(C5:C6)", None, 4.375)
    wb.close()


def libreoffice_ods(path: Path) -> None:
    """odfpy, LibreOffice-style spreadsheet: wide quarterly sheet, repeated empty cells."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Quarterly")
    table.addElement(TableColumn(numbercolumnsrepeated=3))

    def cell(value: object) -> TableCell:
        if isinstance(value, float | int):
            element = TableCell(valuetype="float", value=value)
            element.addElement(P(text=str(value)))
        elif isinstance(value, tuple):  # ("percentage", 0.25)
            element = TableCell(valuetype="percentage", value=value[1])
            element.addElement(P(text=f"{value[1] * 100:g}%"))
        else:
            element = TableCell(valuetype="string")
            element.addElement(P(text=str(value)))
        return element

    for values in [
        ["Quarter", "Revenue", "Margin"],
        ["2024-Q1", 1500.0, ("percentage", 0.25)],
        ["2024-Q2", 1750.5, ("percentage", 0.3)],
        ["Q3 2024", 1800.0, ("percentage", 0.275)],
    ]:
        row = TableRow()
        for value in values:
            row.addElement(cell(value))
        row.addElement(TableCell(numbercolumnsrepeated=1020))  # what LibreOffice writes to the sheet's edge
        table.addElement(row)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))


def text_files(folder: Path) -> None:
    """The odd delimited-text files."""
    (folder / "utf8_bom.csv").write_bytes(
        codecs.BOM_UTF8 + "Period,KPI,Value\n2024-01,Umsatz €,1200\n2024-01,Größe,3.5\n".encode()
    )
    (folder / "utf16le_tab.txt").write_bytes(
        codecs.BOM_UTF16_LE
        + "Week\tTickets\tCSAT\r\n2024-W01\t40\t4,5\r\n2024-W02\t38\t4,7\r\n".encode("utf-16-le")
    )
    (folder / "utf16be.csv").write_bytes(
        codecs.BOM_UTF16_BE + "Quarter,Revenue\n2024-Q1,100\n2024-Q2,120\n".encode("utf-16-be")
    )
    (folder / "cp1252.csv").write_bytes(
        'Month,KPI,Value\nMar 2024,Café visits,"€1,200.50"\nApr 2024,Café visits,"€1,300.00"\n'.encode(
            "cp1252"
        )
    )
    (folder / "semicolon_decimal_comma.csv").write_bytes(
        b"Monat;Umsatz;Conversion\nJan 2024;1.234,50;12,5 %\nFeb 2024;2.000,00;13,1 %\n"
    )
    (folder / "pipe.txt").write_bytes(
        b"date|metric|value|segment\n2024-03-15|Orders|(1,234)|region:EU\n2024-03-16|Orders|1,300|region:EU\n"
    )
    (folder / "period_labels.csv").write_bytes(
        b"Period,KPI,Value\n2024-03,A,1\nMar 2024,A,2\nMarch 2024,A,3\n2024-Q3,A,4\nQ3 2024,A,5\n"
        b"2024-W05,A,6\nFY2024,A,7\nH1 2024,A,8\n15/03/2024,A,9\n"
    )
    (folder / "values_quirks.csv").write_bytes(
        'Period,KPI,Value\n2024-01,V,"$1,234.50"\n2024-02,V,"(1,234)"\n2024-03,V,—\n2024-04,V,n/a\n'
        "2024-05,V,NA\n2024-06,V,\n2024-07,V,12%\n2024-08,V,12.5 %\n2024-09,V,EUR 99\n2024-10,V,abc\n"
        '2024-11,V,"1.234,5"\n2024-12,V,-7\n'.encode()
    )
    (folder / "excel_serials.csv").write_bytes(b"Date,Signups\n45292,10\n45323,12\n45352,15\n")
    (folder / "wide.tsv").write_bytes(b"Date\tVisits\tOrders\n2024-01-01\t100\t5\n2024-01-02\t120\t7\n")


def totals_rows(path: Path) -> None:
    """openpyxl, wide monthly sheet with blank rows inside the data and Total/Average rows."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Monthly"
    ws.append(["Month", "Orders", "Revenue"])
    ws.append([dt.date(2024, 1, 1), 10, 100])
    ws.append([])
    ws.append([dt.date(2024, 2, 1), 12, 120])
    ws.append([dt.date(2024, 3, 1), 14, 140])
    ws.append(["Total", 36, 360])
    ws.append(["Average", 12, 120])
    wb.save(path)


def dates_1904(path: Path) -> None:
    """openpyxl with the Mac 1904 date system."""
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    wb = openpyxl.Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.title = "Mac"
    ws.append(["Date", "Revenue"])
    for day, value in [(dt.date(2024, 1, 1), 5), (dt.date(2024, 2, 1), 6), (dt.date(2024, 3, 1), 7)]:
        ws.append([day, value])
        ws.cell(ws.max_row, 1).number_format = "yyyy-mm-dd"
    wb.save(path)


def serials_1904(path: Path) -> None:
    """openpyxl, 1904 date system, and the dates typed as plain serial numbers (no date format)."""
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    wb = openpyxl.Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.title = "Serials"
    ws.append(["Date", "Orders"])
    ws.append([43830, 3])  # 1904-01-01 + 43830 days = 2024-01-01
    ws.append([43861, 4])  # = 2024-02-01
    wb.save(path)


def formula_no_cache(path: Path) -> None:
    """openpyxl writes formulas without results: the importer must warn, not invent values."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Calc"
    ws.append(["Month", "Orders", "Double"])
    ws.append(["2024-01", 10, "=B2*2"])
    ws.append(["2024-02", 12, "=B3*2"])
    wb.save(path)


def multi_sheet(path: Path) -> None:
    """openpyxl, one tracker per year in sheets named by the year, plus a text-only sheet."""
    import openpyxl

    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "Read me"
    notes["A1"] = "This workbook holds one sheet per year."
    for year, values in (("2023", [1, 2, 3]), ("2024", [4, 5, 6])):
        ws = wb.create_sheet(year)
        ws.append(["KPI", "Jan", "Feb", "Mar"])
        ws.append(["Leads", *values])
    wb.save(path)


def tracker_date_headers(path: Path) -> None:
    """openpyxl, a tracker placed at C4 (blank rows/columns around it) with date cells as period headers."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Plan"
    ws["C2"] = "Quarterly KPIs"
    ws["C4"] = "KPI"
    for offset, day in enumerate([dt.date(2024, 1, 1), dt.date(2024, 4, 1), dt.date(2024, 7, 1)]):
        ws.cell(4, 4 + offset, day).number_format = "mmm-yy"
    for row, values in ((5, ["Revenue", 10, 11, 12]), (6, ["Churn", "5%", "4.5%", "n/a"])):
        for offset, value in enumerate(values):
            ws.cell(row, 3 + offset, value)
    wb.save(path)


def legacy_xls(folder: Path) -> None:
    """Excel 97-2003 .xls files (BIFF8, written by tests/data/biff8.py): 1900 and 1904 date systems."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from biff8 import write_xls

    rows = [
        ["Weekly helpdesk", None, None],
        ["Week", "Tickets", "Backlog"],
        [("date", 45292), 40, 12],  # 2024-01-01 in the 1900 system
        [("date", 45299), 38, 10.5],
        [("date", 45306), 45, None],
    ]
    write_xls(str(folder / "legacy.xls"), [("Queue", rows), ("Notes", [["Nothing to import here"]])])
    # In the 1904 system the same days are 1462 lower: 43830 = 2024-01-01.
    rows_1904 = [["Date", "Revenue"], [("date", 43830), 5], [("date", 43861), 6]]
    write_xls(str(folder / "legacy_1904.xls"), [("Mac", rows_1904)], date1904=True)


def macro_enabled(path: Path) -> None:
    """openpyxl saved as .xlsm (the macro-enabled container kpidesk reads like .xlsx)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Quarterly"
    ws.append(["Quarter", "Leads", "Win rate"])
    ws.append(["2024-Q1", 50, 0.2])
    ws.append(["2024-Q2", 60, 0.25])
    ws["C2"].number_format = "0%"
    ws["C3"].number_format = "0%"
    wb.save(path)


def main() -> int:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    long_basic(GOLDEN / "long_basic.xlsx")
    wide_titles(GOLDEN / "wide_titles.xlsx")
    tracker_rows(GOLDEN / "tracker_rows.xlsx")
    merged_years(GOLDEN / "merged_years.xlsx")
    merged_groups_wide(GOLDEN / "merged_groups_wide.xlsx")
    shared_strings(GOLDEN / "shared_strings.xlsx")
    libreoffice_ods(GOLDEN / "libreoffice.ods")
    totals_rows(GOLDEN / "totals_rows.xlsx")
    dates_1904(GOLDEN / "dates_1904.xlsx")
    serials_1904(GOLDEN / "serials_1904.xlsx")
    formula_no_cache(GOLDEN / "formula_no_cache.xlsx")
    multi_sheet(GOLDEN / "multi_sheet.xlsx")
    tracker_date_headers(GOLDEN / "tracker_date_headers.xlsx")
    legacy_xls(GOLDEN)
    macro_enabled(GOLDEN / "macro_enabled.xlsm")
    text_files(GOLDEN)
    print(f"wrote {len(list(GOLDEN.iterdir()))} files to {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

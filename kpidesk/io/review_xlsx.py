"""The review pack as an Excel workbook (openpyxl).

Sheets, in order:

* **Summary** — the headline table (current, previous, change, change %, target,
  status) with conditional formatting (status colours; the change is green when
  it moves the way the KPI wants and red otherwise), then the attention list,
  the open actions carried over and "what changed since the last review".
* **Movers** — the biggest movers with their one-line explanation and drivers.
* **Goals** — progress, pace, status, forecast and the SMART findings.
* **Actions**, **Notes** (the review notes, per-KPI notes and decisions).
* **Definitions** — each KPI's definition, formula and convention.
* one sheet per KPI — its values with targets, change vs the previous value
  and change %, and a native Excel line chart of the value and the target.

Every sheet prints landscape, fitted to one page wide, with the product and
period in the header and "Page n of m" in the footer. The file is written to a
temporary file next to the destination and renamed into place, so a failure
never leaves half a workbook behind.

Text typed by people (notes, actions, KPI names) is always stored as text:
openpyxl would otherwise turn a string that starts with ``=`` into a formula
(a note like ``=HYPERLINK("http://evil")`` must not become a live link).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpidesk.progress import Progress

if TYPE_CHECKING:
    from kpidesk.services.review_service import Headline, ReviewContent

#: goal statuses and RAG colours -> a traffic-light group for colouring
STATUS_GROUP = {
    "achieved": "good", "on_track": "good", "green": "good",
    "behind": "warn", "at_risk": "warn", "amber": "warn",
    "overdue": "bad", "missed": "bad", "red": "bad",
}
#: fill colours of the groups (light, readable with black text when printed)
GROUP_FILL = {"good": "C6EFCE", "warn": "FFEB9C", "bad": "FFC7CE"}
GROUP_FONT = {"good": "006100", "warn": "9C5700", "bad": "9C0006"}

_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def status_label(status: str) -> str:
    """'on_track' -> 'on track'; '' -> ''."""
    return status.replace("_", " ")


def format_value(value: float | None, unit: str, currency: str = "") -> str:
    """A value for people: '12.5 %', '1,234', 'EUR 1.2M', '4.32'."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if unit == "percent":
        return f"{value:.1f} %"
    if unit == "currency":
        size = abs(value)
        text = f"{value / 1e6:.2f}M" if size >= 1e6 else f"{value:,.0f}"
        return f"{currency} {text}".strip()
    if unit == "count" or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def format_signed(value: float, unit: str, currency: str = "") -> str:
    """A signed contribution: '+0.12 pp' for percent KPIs, '−52,900' / '+EUR 1.2M' otherwise; tiny is '±0'."""
    if not math.isfinite(value):
        return "–"
    if abs(value) < 0.0005:
        return "±0"
    sign = "+" if value > 0 else "−"
    if unit == "percent":
        return f"{sign}{abs(value):.3g} pp"
    return sign + format_value(abs(value), unit, currency)


def format_change(headline: Headline) -> str:
    """'+1.2 pp' for percent KPIs, else '+3.4 %' (relative) or '+12' when the base is 0."""
    if headline.change is None:
        return "–"
    if headline.unit == "percent":
        return f"{headline.change:+.1f} pp"
    if headline.change_pct is not None:
        return f"{headline.change_pct:+.1f} %"
    return f"{headline.change:+,.3g}"


def number_format(unit: str, currency: str = "") -> str:
    """An Excel number format for a KPI's unit (percent values are stored in points)."""
    if unit == "percent":
        return '0.0" %"'
    if unit == "currency":
        return f'#,##0 "{currency}"' if currency else "#,##0"
    if unit == "count":
        return "#,##0"
    return "#,##0.00"


def sheet_title(name: str, used: set[str]) -> str:
    """A valid, unique worksheet name (31 characters, none of []:*?/\\)."""
    base = _SHEET_BAD.sub("-", name).strip("' ") or "KPI"
    base = base[:31]
    title, n = base, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title.lower())
    return title


#: Excel's limit on the characters in one cell
CELL_LIMIT = 32_767


def clean_text(text: str) -> str:
    """Text an Excel cell accepts: control characters (pasted from terminals, PDFs) removed,
    cut to the 32,767-character cell limit with an ellipsis."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 1] + "…"


def _header_text(text: str) -> str:
    """Header/footer codes start with '&': a literal ampersand is written '&&'."""
    return text.replace("&", "&&")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class _Sheet:
    """Small writing helpers around one worksheet: text is always text."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.row = 1

    def text(self, row: int, col: int, value: Any, *, bold: bool = False) -> Any:
        cell = self.ws.cell(row=row, column=col)
        if value is None:
            return cell
        if isinstance(value, str):
            cell.value = clean_text(value)
            # a user's "=..." / "+..." / "-..." / "@..." stays text, never a formula
            cell.data_type = "s"
        else:
            cell.value = _finite(value)
        if bold:
            from openpyxl.styles import Font

            cell.font = Font(bold=True)
        return cell

    def line(self, values: Sequence[Any], *, bold: bool = False) -> int:
        for col, value in enumerate(values, start=1):
            self.text(self.row, col, value, bold=bold)
        self.row += 1
        return self.row - 1

    def heading(self, text: str, size: int = 12) -> None:
        from openpyxl.styles import Font

        cell = self.text(self.row, 1, text)
        cell.font = Font(bold=True, size=size)
        self.row += 1

    def table_header(self, values: Sequence[str]) -> int:
        from openpyxl.styles import Font, PatternFill

        row = self.line(values)
        for col in range(1, len(values) + 1):
            cell = self.ws.cell(row=row, column=col)
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = PatternFill("solid", fgColor="44546A")
        return row

    def widths(self, widths: Iterable[float]) -> None:
        from openpyxl.utils import get_column_letter

        for col, width in enumerate(widths, start=1):
            self.ws.column_dimensions[get_column_letter(col)].width = width

    def fit_rows(self, first: int, last: int, widths: Sequence[float]) -> None:
        """Row heights for wrapped text (spreadsheet apps do not always grow rows on their own).

        Lines of a cell = sum over its text lines of ceil(characters / column width);
        the row gets 15 points per line of its tallest cell.
        """
        for row in range(first, last + 1):
            lines = 1
            for col, width in enumerate(widths, start=1):
                value = self.ws.cell(row=row, column=col).value
                if isinstance(value, str) and value:
                    lines = max(lines, sum(max(1, math.ceil(len(part) / max(width - 2, 1)))
                                           for part in value.split("\n")))
            if lines > 1:
                from openpyxl.styles import Alignment

                self.ws.row_dimensions[row].height = 15 * lines
                for col in range(1, len(widths) + 1):  # a tall row reads from its top
                    cell = self.ws.cell(row=row, column=col)
                    cell.alignment = Alignment(wrap_text=cell.alignment.wrap_text, vertical="top",
                                               horizontal=cell.alignment.horizontal)

    def wrap(self, col: int, first: int, last: int) -> None:
        from openpyxl.styles import Alignment

        for row in range(first, last + 1):
            self.ws.cell(row=row, column=col).alignment = Alignment(wrap_text=True, vertical="top")


def write_review_xlsx(content: ReviewContent, path: str | Path, progress: Progress | None = None) -> Path:
    """Write the review pack workbook to ``path`` (atomically) and return the path."""
    from openpyxl import Workbook

    from kpidesk.storage.atomic import atomic_path

    path = Path(path)
    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    _summary(_Sheet(summary), content)
    _movers(_Sheet(wb.create_sheet("Movers")), content)
    _goals(_Sheet(wb.create_sheet("Goals")), content)
    _actions(_Sheet(wb.create_sheet("Actions")), content)
    _notes(_Sheet(wb.create_sheet("Notes")), content)
    _definitions(_Sheet(wb.create_sheet("Definitions")), content)
    used = {ws.title.lower() for ws in wb.worksheets}
    kpis = {k.id: k for k in content.kpis}
    total = max(len(content.headlines), 1)
    for n, headline in enumerate(content.headlines):
        if progress is not None:
            from kpidesk.errors import CancelledError

            if progress.cancelled():
                raise CancelledError("The review pack was cancelled; no file was written.")
            progress.report(n / total, f"Sheet for {headline.name}")
        title = sheet_title(headline.name if len({h.name for h in content.headlines}) == len(content.headlines)
                            else f"{headline.product} {headline.name}", used)
        _kpi_sheet(_Sheet(wb.create_sheet(title)), content, headline, kpis.get(headline.kpi_id))
    header = _header_text(f"{content.product} — review of {content.period.label}")
    for ws in wb.worksheets:
        _print_setup(ws, header)
    with atomic_path(path, what="the review workbook") as tmp:
        wb.save(tmp)
    if progress is not None:
        progress.report(1.0, "Workbook written")
    return path


def _print_setup(ws: Any, header: str) -> None:
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as needed
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.gridLines = False
    ws.oddHeader.left.text = header
    ws.oddHeader.right.text = "&A"  # the sheet name
    ws.oddFooter.center.text = "Page &P of &N"
    ws.oddFooter.right.text = _header_text(f"kpidesk · {dt.date.today():%d %b %Y}")


_HEADLINE_COLUMNS = ["Product", "KPI", "Unit", "Direction", "Current", "Previous", "Change", "Change %",
                     "Target", "Status"]


def _summary(s: _Sheet, c: ReviewContent) -> None:
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import Font, PatternFill

    s.heading(c.title, 14)
    compare = "same period last year" if c.compare_mode == "last_year" else "previous period"
    s.line([f"Period {c.period.label} ({c.period.start:%d %b %Y} – {c.period.end:%d %b %Y}), "
            f"compared with the {compare} {c.compare.label}. Prepared {c.today:%d %b %Y}."])
    s.row += 1
    s.heading("Headline KPIs")
    first = s.table_header(_HEADLINE_COLUMNS) + 1
    for h in c.headlines:
        row = s.line([h.product, h.name + (" (so far)" if h.partial else ""), h.unit, h.direction, h.current,
                      h.previous, h.change, None if h.change_pct is None else h.change_pct / 100, h.target,
                      status_label(h.status)])
        fmt = number_format(h.unit, h.currency)
        for col in (5, 6, 9):
            s.ws.cell(row=row, column=col).number_format = fmt
        # a percent KPI's change is in percentage points, not a percent of itself
        s.ws.cell(row=row, column=7).number_format = '+0.0" pp";-0.0" pp"' if h.unit == "percent" else fmt
        s.ws.cell(row=row, column=8).number_format = "+0.0%;-0.0%;0.0%"
    last = max(s.row - 1, first)
    # status colours: one rule per traffic-light group on the Status column
    for group, words in (("good", ["achieved", "on track", "green"]), ("warn", ["behind", "at risk", "amber"]),
                         ("bad", ["overdue", "missed", "red"])):
        condition = "OR(" + ",".join(f'$J{first}="{w}"' for w in words) + ")"
        s.ws.conditional_formatting.add(
            f"J{first}:J{last}",
            FormulaRule(formula=[condition], fill=PatternFill("solid", bgColor=GROUP_FILL[group]),
                        font=Font(color=GROUP_FONT[group])))
    # change colours: green when the change goes the KPI's way, red when it goes against it
    good = f'OR(AND($D{first}="up",$G{first}>0),AND($D{first}="down",$G{first}<0))'
    bad = f'OR(AND($D{first}="up",$G{first}<0),AND($D{first}="down",$G{first}>0))'
    for formula, group in ((good, "good"), (bad, "bad")):
        s.ws.conditional_formatting.add(
            f"G{first}:H{last}",
            FormulaRule(formula=[formula], fill=PatternFill("solid", bgColor=GROUP_FILL[group]),
                        font=Font(color=GROUP_FONT[group])))
    s.row += 1
    s.heading("Needs attention")
    if c.attention:
        header = s.table_header(["Product", "Subject", "Why"])
        s.ws.merge_cells(start_row=header, start_column=3, end_row=header, end_column=10)
        start = s.row
        for item in c.attention:
            row = s.line([item.product, item.subject, item.reason])
            # the reason reads across the table's width
            s.ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=10)
        s.wrap(2, start, s.row - 1)
        s.wrap(3, start, s.row - 1)
        s.fit_rows(start, s.row - 1, [14, 34, 100])
    else:
        s.line(["Nothing needs attention."])
    s.row += 1
    s.heading("Open actions carried over")
    if c.carried_actions:
        s.table_header(["Action", "Owner", "Due"])
        for item in c.carried_actions:
            s.line([item.text, item.owner, item.due_date])
    else:
        s.line(["None."])
    s.row += 1
    s.heading("Since the last review")
    for text in c.since_last:
        s.line([text])
    if c.annotations:
        s.row += 1
        s.heading("Annotations in the period")
        for note in c.annotations:
            s.line([note.date, note.text])
            s.ws.cell(row=s.row - 1, column=1).number_format = "yyyy-mm-dd"
    if c.anomalies:
        s.row += 1
        s.heading("Anomalies in the period")
        for anomaly in c.anomalies:
            s.line([anomaly.period, anomaly.note or f"{anomaly.kpi_key}: {anomaly.value:.4g}"])
            s.ws.cell(row=s.row - 1, column=1).number_format = "yyyy-mm-dd"
    s.widths([14, 34, 10, 10, 14, 14, 13, 10, 14, 12])
    s.ws.freeze_panes = "A5"


def _movers(s: _Sheet, c: ReviewContent) -> None:
    s.heading(f"Biggest movers, {c.period.label} vs {c.compare.label}")
    if not c.movers:
        s.line(["No movers: custom periods or KPIs without values in both periods."])
    for explanation in c.movers:
        s.row += 1
        row = s.line([explanation.kpi_name, explanation.headline])
        s.text(row, 1, explanation.kpi_name, bold=True)
        currency = next((h.currency for h in c.headlines if h.key == explanation.kpi_key), "")
        for driver in explanation.drivers[:5]:
            share = "" if driver.share is None or abs(driver.share) < 0.005 else f"{driver.share:.0%} of the change"
            s.line(["", f"  {driver.label}: {format_signed(driver.contribution, explanation.unit, currency)}", share])
        for note in explanation.context[:3]:
            s.line(["", f"  {note.day:%d %b %Y}: {note.text}"])
    s.widths([30, 90, 22])


def _goals(s: _Sheet, c: ReviewContent) -> None:
    # few, readable columns: everything descriptive goes into one wrapped "Details" cell, so the sheet
    # still prints legibly when fitted to one landscape page wide
    s.heading("Goals")
    s.table_header(["Goal", "Status", "Progress", "Expected by now", "Due", "Owner", "Details"])
    start = s.row
    for e in c.goals:
        findings = c.smart.get(e.goal.id or -1, [])
        details = [f"KPI: {e.kpi.name}"]
        if e.latest is not None:
            details.append(f"Latest: {format_value(e.latest[1], e.kpi.unit)} ({e.latest[0]:%b %Y})")
        details.append(f"Why: {e.reason}")
        if e.forecast is not None:
            details.append(f"Forecast: {e.forecast.summary()}")
        details += [f"SMART {f.letter} ({f.verdict.value}): {f.sentence}" for f in findings]
        row = s.line([e.goal.statement, status_label(e.status.value), e.progress, e.expected, e.goal.due,
                      e.goal.owner, "\n".join(details)])
        s.ws.cell(row=row, column=3).number_format = "0%"
        s.ws.cell(row=row, column=4).number_format = "0%"
        s.ws.cell(row=row, column=5).number_format = "yyyy-mm-dd"
        cell = s.ws.cell(row=row, column=2)
        group = STATUS_GROUP.get(e.status.value)
        if group:
            from openpyxl.styles import Font, PatternFill

            cell.fill = PatternFill("solid", fgColor=GROUP_FILL[group])
            cell.font = Font(color=GROUP_FONT[group])
    if not c.goals:
        s.line(["No goals for this product."])
    widths = [42, 11, 9, 9, 11, 14, 90]
    s.widths(widths)
    for col in (1, 7):
        s.wrap(col, start, s.row - 1)
    s.fit_rows(start, s.row - 1, widths)


def _actions(s: _Sheet, c: ReviewContent) -> None:
    names = {k.id: k.name for k in c.kpis}
    s.heading("Action items")
    s.table_header(["Action", "Owner", "Due", "Done", "KPI", "Carried over"])
    actions = [i for i in c.items if i.kind == "action"]
    for item in actions:
        row = s.line([item.text, item.owner, item.due_date, "yes" if item.done else "no",
                      names.get(item.kpi_id or -1, ""), "yes" if item.carried_from_id else ""])
        s.ws.cell(row=row, column=3).number_format = "yyyy-mm-dd"
    if not actions:
        s.line(["No action items yet."])
    s.wrap(1, 3, s.row)
    s.widths([60, 16, 12, 7, 26, 12])
    s.fit_rows(3, s.row - 1, [60, 16, 12, 7, 26, 12])


def _notes(s: _Sheet, c: ReviewContent) -> None:
    names = {k.id: k.name for k in c.kpis}
    s.heading("Notes")
    if c.review.notes:
        row = s.line([c.review.notes])
        s.ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)  # the notes read full width
        s.wrap(1, row, row)
        s.fit_rows(row, row, [130])
    s.row += 1
    s.table_header(["Kind", "KPI", "Text", "By"])
    start = s.row
    for item in c.items:
        if item.kind == "action":
            continue
        s.line([item.kind, names.get(item.kpi_id or -1, ""), item.text, item.updated_by])
    s.wrap(3, start, s.row)
    s.widths([10, 26, 80, 14])
    s.fit_rows(start, s.row - 1, [10, 26, 80, 14])


def _definitions(s: _Sheet, c: ReviewContent) -> None:
    s.heading("Definitions")
    s.table_header(["KPI", "Key", "Unit", "Direction", "Aggregation", "Definition", "Formula", "Convention"])
    start = s.row
    for kpi in c.kpis:
        s.line([kpi.name, kpi.key, kpi.unit + (f" ({kpi.currency})" if kpi.currency else ""), kpi.direction,
                kpi.aggregation, kpi.definition or "", kpi.formula_text or kpi.formula or "", kpi.convention or ""])
    for col in (1, 6, 7, 8):
        s.wrap(col, start, s.row)
    widths = [26, 20, 12, 10, 12, 50, 40, 30]
    s.widths(widths)
    s.fit_rows(start, s.row - 1, widths)


def _kpi_sheet(s: _Sheet, c: ReviewContent, h: Headline, kpi: Any) -> None:
    from openpyxl.chart import LineChart, Reference
    from openpyxl.styles import Font

    s.heading(f"{h.name} ({h.product})", 13)
    s.line([f"{c.period.label}: {format_value(h.current, h.unit, h.currency)}; "
            f"{c.compare.label}: {format_value(h.previous, h.unit, h.currency)}; change {format_change(h)}"
            + (f"; target {format_value(h.target, h.unit, h.currency)}" if h.target is not None else "")
            + (f"; status {status_label(h.status)}" if h.status else "")])
    if kpi is not None and kpi.definition:
        s.line([kpi.definition])
    series = c.series.get(h.kpi_id, [])
    if kpi is not None and kpi.frequency in ("day", "week") and series:
        # a daily KPI would fill ~1,000 rows (24 printed pages) for three years: the sheet shows months
        series = monthly(series, kpi.aggregation, kpi.unit)
        s.line([f"Monthly values ({kpi.aggregation} of the {kpi.frequency}ly values; the PDF chart shows them all)."])
    s.row += 1
    header = s.table_header(["Period", "Value", "Target", "Change", "Change %", "In review period"])
    schedule = sorted(c.targets.get(h.kpi_id, {}).items())
    fmt = number_format(h.unit, h.currency)
    previous: float | None = None
    for day, value in series:
        target = _target_on(schedule, day)
        change = None if previous is None else value - previous
        pct = None if previous in (None, 0) or change is None else change / abs(previous)  # type: ignore[arg-type]
        row = s.line([day, value, target, change, pct, "yes" if c.period.start <= day <= c.period.end else ""])
        s.ws.cell(row=row, column=1).number_format = "yyyy-mm"
        for col in (2, 3, 4):
            s.ws.cell(row=row, column=col).number_format = fmt
        s.ws.cell(row=row, column=5).number_format = "+0.0%;-0.0%;0.0%"
        if c.period.start <= day <= c.period.end:
            s.ws.cell(row=row, column=6).font = Font(bold=True)
        previous = value
    last = s.row - 1
    if series:
        chart = LineChart()
        chart.title = h.name
        chart.y_axis.title = h.unit + (f" ({h.currency})" if h.currency else "")
        chart.x_axis.number_format = "mmm yy"
        chart.height, chart.width = 8, 18
        data = Reference(s.ws, min_col=2, max_col=3 if schedule else 2, min_row=header, max_row=last)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(s.ws, min_col=1, min_row=header + 1, max_row=last))
        if schedule and len(chart.series) > 1:
            target_line = chart.series[1]
            target_line.graphicalProperties.line.dashStyle = "dash"
            target_line.graphicalProperties.line.solidFill = "C00000"
            target_line.smooth = False
        chart.series[0].graphicalProperties.line.solidFill = "2F5597"
        chart.series[0].smooth = False
        s.ws.add_chart(chart, "H5")
    else:
        s.line(["No values recorded up to the end of the period."])
    notes = [a for a in c.annotations if a.kpi_id in (None, h.kpi_id)]
    if notes:
        row = 22
        s.text(row, 8, "Annotations", bold=True)
        for n, note in enumerate(notes, start=1):
            s.text(row + n, 8, f"{note.date:%d %b %Y}: {note.text}")
    s.widths([11, 14, 14, 13, 10, 16])


def monthly(series: list[tuple[dt.date, float]], aggregation: str, unit: str) -> list[tuple[dt.date, float]]:
    """Daily or weekly values rolled up per calendar month with the KPI's own aggregation.

    A ratio KPI without its parts falls back to the mean (see ``aggregate_over``); a week is
    counted in the month it starts in.
    """
    from kpidesk.services.review_service import aggregate_over

    months: dict[dt.date, list[tuple[dt.date, float | None, float | None, float | None]]] = {}
    for day, value in series:
        months.setdefault(day.replace(day=1), []).append((day, value, None, None))
    out = []
    for month, rows in sorted(months.items()):
        value = aggregate_over(rows, aggregation, unit)
        if value is not None:
            out.append((month, value))
    return out


def _target_on(schedule: list[tuple[dt.date, float]], day: dt.date) -> float | None:
    """The target in force on ``day``: the latest scheduled target dated on or before it."""
    found = None
    for start, value in schedule:
        if start > day:
            break
        found = value
    return found

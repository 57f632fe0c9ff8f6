"""The review pack as a PDF: cover, contents, headlines, movers, a chart per KPI,
goals, actions, notes and definitions, with "Page n of m" on every page.

Layout is a simple flow of blocks (rich-text tables laid out by QTextDocument,
and charts drawn by :mod:`.chart`) on A4 portrait pages at 72 dpi, so one unit
is one point. It runs twice: a dry pass with no painter finds on which page
every section starts and how many pages there are, then the real pass paints,
so the table of contents and the page footers carry the right numbers.

Run as ``python -m kpidesk.gui.report.pdf_pack --review ID --out FILE``
(database from ``--db`` or ``KPIDESK_DB``); the command line does that with
``QT_QPA_PLATFORM=offscreen``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QIODevice, QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen, QTextDocument

from kpidesk.errors import CancelledError
from kpidesk.gui.report.chart import ChartSpec, ForecastBand, PaceLine, draw_chart
from kpidesk.io.review_xlsx import (
    GROUP_FILL,
    GROUP_FONT,
    STATUS_GROUP,
    format_change,
    format_signed,
    format_value,
    status_label,
)
from kpidesk.progress import Progress
from kpidesk.services.review_service import Headline, ReviewContent

PAGE_W, PAGE_H = 595.0, 842.0  # A4 in points
LEFT, RIGHT = 42.0, PAGE_W - 42.0
TOP, BOTTOM = 58.0, PAGE_H - 48.0
WIDTH = RIGHT - LEFT
CHART_H = (BOTTOM - TOP) / 2 - 80  # two charts, each with its title, caption and notes, per page

_CSS = """
body { font-family: sans-serif; font-size: 8.5pt; color: #222; }
h1 { font-size: 15pt; color: #1f3864; margin: 0 0 4pt 0; }
h2 { font-size: 11pt; color: #1f3864; margin: 6pt 0 3pt 0; }
p { margin: 0 0 3pt 0; }
table { border-collapse: collapse; }
th { background: #44546a; color: white; font-weight: bold; padding: 2pt 4pt; text-align: left; }
td { padding: 2pt 4pt; border-bottom: 1px solid #dddddd; vertical-align: top; }
td.num { text-align: right; }
.muted { color: #666666; }
"""


def _e(text: Any) -> str:
    """User text into HTML, escaped (a note is never markup)."""
    return html.escape("" if text is None else str(text))


def _status_cell(status: str) -> str:
    group = STATUS_GROUP.get(status)
    if not group:
        return f"<td>{_e(status_label(status))}</td>"
    return (f'<td style="background:#{GROUP_FILL[group]}; color:#{GROUP_FONT[group]}">'
            f"{_e(status_label(status))}</td>")


def _change_cell(h: Headline) -> str:
    colour = "" if h.good is None else ("#006100" if h.good else "#9c0006")
    style = f' style="color:{colour}"' if colour else ""
    return f'<td class="num"{style}>{_e(format_change(h))}</td>'


class _Flow:
    """Places blocks on pages; paints only when it has a painter (the second pass)."""

    def __init__(self, writer: QPdfWriter, painter: QPainter | None, header: str, total: int,
                 progress: Progress | None) -> None:
        self.writer = writer
        self.painter = painter
        self.header = header
        self.total = total
        self.page = 1
        self.y = TOP
        self.sections: list[tuple[str, int, int]] = []  # (title, level, page)
        self.progress = progress

    # -- pages -------------------------------------------------------------------------
    def new_page(self) -> None:
        if self.progress is not None and self.progress.cancelled():
            raise CancelledError("The PDF pack was cancelled; no file was written.")
        if self.painter is not None:
            self.writer.newPage()
        self.page += 1
        self.y = TOP
        self._decorate()

    def _decorate(self) -> None:
        """The running header and the page number of the current page."""
        p = self.painter
        if p is None:
            return
        p.save()
        font = QFont("sans-serif")
        font.setPointSizeF(7.5)
        p.setFont(font)
        p.setPen(QColor("#666666"))
        if self.page > 1:
            p.drawText(QRectF(LEFT, 22, WIDTH, 14), Qt.AlignmentFlag.AlignLeft, self.header)
            p.setPen(QPen(QColor("#bbbbbb"), 0.5))
            p.drawLine(LEFT, 38, RIGHT, 38)
            p.setPen(QColor("#666666"))
        p.drawText(QRectF(LEFT, PAGE_H - 34, WIDTH, 14), Qt.AlignmentFlag.AlignHCenter,
                   f"Page {self.page} of {self.total}")
        p.restore()

    def ensure(self, height: float) -> None:
        if self.y + height > BOTTOM and self.y > TOP:
            self.new_page()

    def section(self, title: str, *, level: int = 1, new_page: bool = True) -> None:
        if new_page and self.y > TOP:
            self.new_page()
        self.sections.append((title, level, self.page))
        if level == 1:
            self.html(f"<h1>{_e(title)}</h1>")

    # -- blocks ------------------------------------------------------------------------
    def document(self, body: str) -> QTextDocument:
        doc = QTextDocument()
        doc.documentLayout().setPaintDevice(self.writer)
        doc.setDefaultStyleSheet(_CSS)
        font = QFont("sans-serif")
        font.setPointSizeF(8.5)
        doc.setDefaultFont(font)
        doc.setDocumentMargin(0)
        doc.setHtml(f"<body>{body}</body>")
        doc.setTextWidth(WIDTH)
        return doc

    def html(self, body: str, gap: float = 4.0) -> None:
        doc = self.document(body)
        height = doc.size().height()
        if height > BOTTOM - TOP:
            self._paged(doc, gap)
            return
        self.ensure(height)
        if self.painter is not None:
            self.painter.save()
            self.painter.translate(LEFT, self.y)
            doc.drawContents(self.painter, QRectF(0, 0, WIDTH, height))
            self.painter.restore()
        self.y += height + gap

    def _paged(self, doc: QTextDocument, gap: float) -> None:
        """A block taller than a page (a very long note): QTextDocument paginates it itself,
        so no line is cut in half, and each page shows one slice."""
        page_height = BOTTOM - TOP
        if self.y > TOP:
            self.new_page()
        doc.setPageSize(QSizeF(WIDTH, page_height))
        pages = doc.pageCount()
        for n in range(pages):
            if n:
                self.new_page()
            if self.painter is not None:
                self.painter.save()
                self.painter.translate(LEFT, TOP - n * page_height)
                doc.drawContents(self.painter, QRectF(0, n * page_height, WIDTH, page_height))
                self.painter.restore()
        last = doc.documentLayout().documentSize().height() - (pages - 1) * page_height
        self.y = TOP + min(max(last, 0.0), page_height) + gap

    def table(self, headers: list[str], rows: list[str], *, widths: list[int] | None = None,
              numeric: set[int] | None = None) -> None:
        """A table that continues on the next page (header repeated) when it does not fit.

        Each piece is the most rows that fit in the room left (found by bisection over the
        row count), so no block outgrows a page and no header repeats mid-page.
        """
        head = "".join(f'<th width="{widths[n]}%">{_e(h)}</th>' if widths else f"<th>{_e(h)}</th>"
                       for n, h in enumerate(headers))

        def html_of(part: list[str]) -> str:
            return f'<table width="100%" cellspacing="0"><tr>{head}</tr>{"".join(part)}</table>'

        rest = list(rows)
        while rest:
            room = BOTTOM - self.y
            if self.document(html_of(rest)).size().height() <= room:
                self.html(html_of(rest), gap=2.0)
                return
            low, high = 0, len(rest)  # low rows fit, high rows do not
            while high - low > 1:
                middle = (low + high) // 2
                if self.document(html_of(rest[:middle])).size().height() <= room:
                    low = middle
                else:
                    high = middle
            if low == 0:
                if self.y == TOP:  # one row taller than a page: html() spreads it over pages
                    low = 1
                else:
                    self.new_page()
                    continue
            self.html(html_of(rest[:low]), gap=2.0)
            rest = rest[low:]
            if rest:
                self.new_page()
        if not rows:
            self.html(html_of([]), gap=2.0)

    def chart(self, spec: ChartSpec, caption: str, footnotes: list[str]) -> None:
        notes = "".join(f"<p class='muted'>{_e(n)}</p>" for n in footnotes[:4])
        doc = self.document(f"<h2>{_e(spec.title)}</h2><p>{_e(caption)}</p>")
        foot = self.document(notes) if notes else None
        height = doc.size().height() + CHART_H + (foot.size().height() if foot else 0) + 10
        self.ensure(height)
        if self.painter is not None:
            self.painter.save()
            self.painter.translate(LEFT, self.y)
            doc.drawContents(self.painter)
            self.painter.restore()
            draw_chart(self.painter, QRectF(LEFT, self.y + doc.size().height(), WIDTH, CHART_H), spec)
            if foot is not None:
                self.painter.save()
                self.painter.translate(LEFT, self.y + doc.size().height() + CHART_H + 2)
                foot.drawContents(self.painter)
                self.painter.restore()
        self.y += height


def write_review_pdf(content: ReviewContent, path: str | Path, progress: Progress | None = None) -> int:
    """Write the PDF pack atomically; return its page count."""
    from kpidesk.storage.atomic import atomic_path

    path = Path(path)
    header = f"{content.product} — review of {content.period.label}"
    with atomic_path(path, what="the review PDF") as tmp:
        # the dry pass measures against a writer into memory with the same page and resolution
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        dry = _Flow(_writer(buffer, content), None, header, 0, progress)
        _layout(dry, content, toc=[])
        writer = _writer(str(tmp), content)
        painter = QPainter(writer)
        try:
            flow = _Flow(writer, painter, header, dry.page, progress)
            _layout(flow, content, toc=dry.sections)
        finally:
            painter.end()
        pages = flow.page
    if progress is not None:
        progress.report(1.0, "PDF written")
    return pages


def _writer(target: str | QBuffer, content: ReviewContent) -> QPdfWriter:
    writer = QPdfWriter(target)
    writer.setResolution(72)  # one unit = one point
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(0, 0, 0, 0)))
    writer.setTitle(f"{content.product} — review of {content.period.label}")
    writer.setCreator("kpidesk")
    return writer


def _layout(flow: _Flow, c: ReviewContent, toc: list[tuple[str, int, int]]) -> None:
    _cover(flow, c)
    flow.new_page()
    _contents(flow, toc)
    steps: list[Callable[[_Flow, ReviewContent], None]] = [_headlines, _movers, _charts, _goals, _actions, _notes,
                                                           _definitions]
    for n, step in enumerate(steps):
        if flow.progress is not None and flow.painter is not None:
            flow.progress.report(n / len(steps), step.__name__.strip("_").capitalize())
        step(flow, c)


def _cover(flow: _Flow, c: ReviewContent) -> None:
    compare = "the same period last year" if c.compare_mode == "last_year" else "the previous period"
    flow._decorate()
    flow.y = 230
    flow.html(f"<p><span style='font-size:30pt; font-weight:bold; color:#1f3864'>{_e(c.product)}</span></p>"
              f"<p style='font-size:16pt'>Review of {_e(c.period.label)}</p>"
              f"<p style='font-size:10pt' class='muted'>{c.period.start:%d %b %Y} – {c.period.end:%d %b %Y}, "
              f"compared with {compare} ({_e(c.compare.label)})</p>"
              f"<p style='font-size:10pt' class='muted'>Prepared {c.today:%d %B %Y}</p>")
    flow.y += 30
    open_actions = sum(1 for i in c.items if i.kind == "action" and not i.done)
    flow.html(f"<p style='font-size:10pt'>{len(c.headlines)} KPIs · {len(c.goals)} goals · "
              f"{len(c.attention)} to look at · {open_actions} open action(s)</p>")
    if c.review.title:
        flow.html(f"<p style='font-size:11pt'>{_e(c.review.title)}</p>")


def _contents(flow: _Flow, toc: list[tuple[str, int, int]]) -> None:
    flow.html("<h1>Contents</h1>")
    rows = []
    for title, level, page in toc:
        indent = "&nbsp;" * 6 * (level - 1)
        weight = "bold" if level == 1 else "normal"
        rows.append(f"<tr><td style='font-weight:{weight}'>{indent}{_e(title)}</td>"
                    f"<td class='num'>{page}</td></tr>")
    # the dry pass has no entries yet: reserve the same room so both passes lay out alike
    if not toc:
        return
    flow.html(f"<table width='100%' cellspacing='0'>{''.join(rows)}</table>")


def _headlines(flow: _Flow, c: ReviewContent) -> None:
    flow.section("Headlines")
    compare = "same period last year" if c.compare_mode == "last_year" else "previous period"
    flow.html(f"<p>{_e(c.period.label)} compared with the {compare}, {_e(c.compare.label)}. "
              "Status is the KPI's goal status or its RAG colour; the change is green when it moves the way the "
              "KPI wants.</p>")
    portfolio = len({h.product for h in c.headlines}) > 1
    rows = []
    for h in c.headlines:
        name = (f"{h.product} · " if portfolio else "") + h.name + (" (so far)" if h.partial else "")
        rows.append(f"<tr><td>{_e(name)}</td><td class='num'>{_e(format_value(h.current, h.unit, h.currency))}</td>"
                    f"<td class='num'>{_e(format_value(h.previous, h.unit, h.currency))}</td>{_change_cell(h)}"
                    f"<td class='num'>{_e(format_value(h.target, h.unit, h.currency) if h.target is not None else '')}"
                    f"</td>{_status_cell(h.status)}</tr>")
    flow.table(["KPI", "Current", "Previous", "Change", "Target", "Status"], rows, widths=[38, 13, 13, 11, 13, 12])
    flow.html("<h2>Needs attention</h2>")
    if c.attention:
        flow.table(["Subject", "Why"], [f"<tr><td>{_e(a.subject)}</td><td>{_e(a.reason)}</td></tr>"
                                        for a in c.attention], widths=[40, 60])
    else:
        flow.html("<p>Nothing needs attention.</p>")
    flow.html("<h2>Open actions carried over</h2>")
    if c.carried_actions:
        flow.table(["Action", "Owner", "Due"], [f"<tr><td>{_e(i.text)}</td><td>{_e(i.owner)}</td>"
                                                f"<td>{_e(i.due_date or '')}</td></tr>" for i in c.carried_actions],
                   widths=[64, 20, 16])
    else:
        flow.html("<p>None.</p>")
    flow.html("<h2>Since the last review</h2>" + "".join(f"<p>{_e(line)}</p>" for line in c.since_last))
    if c.annotations:
        flow.html("<h2>Annotations in the period</h2>" + "".join(
            f"<p>{a.date:%d %b %Y}: {_e(a.text)}</p>" for a in c.annotations))
    if c.anomalies:
        flow.html("<h2>Anomalies in the period</h2>" + "".join(
            f"<p>{a.period:%d %b %Y}: {_e(a.note or a.kpi_key)}</p>" for a in c.anomalies))


def _movers(flow: _Flow, c: ReviewContent) -> None:
    flow.section("Biggest movers")
    if not c.movers:
        flow.html("<p>No movers (a custom period, or no KPI has values in both periods).</p>")
    for m in c.movers:
        drivers = "".join(f"<li>{_e(d.label)}: {_e(format_signed(d.contribution, m.unit))}"
                          + (f" ({d.share:.0%} of the change)" if d.share is not None and abs(d.share) >= 0.005
                             else "") + "</li>"
                          for d in m.drivers[:5])
        context = "".join(f"<li class='muted'>{n.day:%d %b %Y}: {_e(n.text)}</li>" for n in m.context[:3])
        flow.html(f"<h2>{_e(m.kpi_name)}</h2><p>{_e(m.headline)}</p>"
                  + (f"<ul>{drivers}{context}</ul>" if drivers or context else ""))


def chart_spec(c: ReviewContent, h: Headline) -> ChartSpec:
    """What the KPI's chart in the pack shows (see :mod:`.chart`)."""
    series = c.series.get(h.kpi_id, [])
    paces: list[PaceLine] = []
    bands: list[ForecastBand] = []
    for e in c.goals:
        if e.goal.kpi_key != h.key or c.goal_product.get(e.goal.id or -1, h.product) != h.product:
            continue
        goal = e.goal
        kind = goal.kind.value
        if kind in ("increase_to", "decrease_to") and e.target is not None and goal.baseline_value is not None:
            paces.append(PaceLine(goal.baseline_date or goal.start, goal.baseline_value, goal.due, e.target,
                                  goal.statement))
        elif kind in ("stay_above", "stay_below") and e.target is not None:
            paces.append(PaceLine(goal.start, e.target, goal.due, e.target, goal.statement))
        elif e.band is not None:
            for edge in e.band:
                paces.append(PaceLine(goal.start, edge, goal.due, edge, goal.statement))
        if e.forecast is not None and series:
            last_day, last_value = series[-1]
            bands.append(ForecastBand(last_day, last_value, e.forecast.due_period, e.forecast.value,
                                      e.forecast.low, e.forecast.high))
    kpi_product = next((k.product_id for k in c.kpis if k.id == h.kpi_id), None)
    window_start = c.period.end.replace(year=c.period.end.year - 3, day=1)  # the chart shows three years
    notes = [(a.date, a.text) for a in c.chart_annotations if a.date >= window_start
             and (a.kpi_id == h.kpi_id or (a.kpi_id is None and a.product_id in (None, kpi_product)))]
    return ChartSpec(title=h.name, unit=h.unit, currency=h.currency, series=series,
                     targets=sorted(c.targets.get(h.kpi_id, {}).items()),
                     period=(c.period.start, c.period.end), compare=(c.compare.start, c.compare.end),
                     paces=paces, forecasts=bands, annotations=notes)


def _charts(flow: _Flow, c: ReviewContent) -> None:
    flow.section("KPI charts")
    portfolio = len({h.product for h in c.headlines}) > 1
    listed = len(c.headlines) <= 24  # a long list of KPIs would push the contents over one page
    for n, h in enumerate(c.headlines):
        spec = chart_spec(c, h)
        if portfolio:
            spec.title = f"{h.product} · {h.name}"
        caption = (f"{c.period.label}: {format_value(h.current, h.unit, h.currency)} "
                   f"({format_change(h)} vs {c.compare.label})"
                   + (f"; target {format_value(h.target, h.unit, h.currency)}" if h.target is not None else "")
                   + (f"; {status_label(h.status)}" if h.status else ""))
        notes = [f"{k}. {d:%d %b %Y}: {t}" for k, (d, t) in enumerate(spec.annotations, start=1)]
        if n > 0:
            flow.ensure(CHART_H + 40)
        if listed:
            flow.sections.append((spec.title, 2, flow.page))
        flow.chart(spec, caption, notes)


def _goals(flow: _Flow, c: ReviewContent) -> None:
    flow.section("Goals")
    if not c.goals:
        flow.html("<p>No goals for this product.</p>")
    for e in c.goals:
        findings = c.smart.get(e.goal.id or -1, [])
        smart = "".join(f"<li><b>{_e(f.letter)}</b> {_e(f.verdict.value)}: {_e(f.sentence)}</li>" for f in findings)
        progress = "" if e.progress is None else f"progress {e.progress:.0%}"
        expected = "" if e.expected is None else f", expected by now {e.expected:.0%}"
        forecast = f"<p>Forecast: {_e(e.forecast.summary())}</p>" if e.forecast else ""
        flow.html(f"<table width='100%' cellspacing='0'><tr><td width='80%'><b>{_e(e.goal.statement)}</b><br>"
                  f"<span class='muted'>{_e(e.kpi.name)} · owner {_e(e.goal.owner or '—')} · due "
                  f"{e.goal.due:%d %b %Y} · {progress}{expected}</span></td>{_status_cell(e.status.value)}</tr>"
                  f"</table><p>{_e(e.reason)}</p>{forecast}"
                  + (f"<ul>{smart}</ul>" if smart else ""), gap=8)


def _actions(flow: _Flow, c: ReviewContent) -> None:
    flow.section("Actions")
    names = {k.id: k.name for k in c.kpis}
    actions = [i for i in c.items if i.kind == "action"]
    if not actions:
        flow.html("<p>No action items yet.</p>")
        return
    flow.table(["Action", "Owner", "Due", "Done", "KPI"],
               [f"<tr><td>{_e(i.text)}{' <i>(carried over)</i>' if i.carried_from_id else ''}</td>"
                f"<td>{_e(i.owner)}</td><td>{_e(i.due_date or '')}</td><td>{'yes' if i.done else 'no'}</td>"
                f"<td>{_e(names.get(i.kpi_id or -1, ''))}</td></tr>" for i in actions],
               widths=[50, 14, 12, 7, 17])


def _notes(flow: _Flow, c: ReviewContent) -> None:
    flow.section("Notes and decisions")
    names = {k.id: k.name for k in c.kpis}
    if c.review.notes:
        flow.html("".join(f"<p>{_e(line)}</p>" for line in c.review.notes.splitlines()))
    items = [i for i in c.items if i.kind != "action"]
    if items:
        flow.table(["Kind", "KPI", "Text"], [f"<tr><td>{_e(i.kind)}</td><td>{_e(names.get(i.kpi_id or -1, ''))}</td>"
                                             f"<td>{_e(i.text)}</td></tr>" for i in items], widths=[12, 24, 64])
    elif not c.review.notes:
        flow.html("<p>No notes or decisions yet.</p>")


def _definitions(flow: _Flow, c: ReviewContent) -> None:
    flow.section("Definitions")
    flow.table(["KPI", "Definition", "Formula", "Convention"],
               [f"<tr><td><b>{_e(k.name)}</b><br><span class='muted'>{_e(k.unit)}, {_e(k.direction)}, "
                f"{_e(k.aggregation)}</span></td><td>{_e(k.definition or '')}</td>"
                f"<td>{_e(k.formula_text or k.formula or '')}</td><td>{_e(k.convention or '')}</td></tr>"
                for k in c.kpis], widths=[22, 34, 28, 16])


def main(argv: list[str] | None = None) -> int:
    """Entry point of the child process the CLI runs; a user error prints one line and exits 1."""
    parser = argparse.ArgumentParser(prog="kpidesk.gui.report.pdf_pack")
    parser.add_argument("--db")
    parser.add_argument("--review", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--today")
    args = parser.parse_args(argv)
    from PySide6.QtGui import QGuiApplication

    from kpidesk.errors import KpideskError
    from kpidesk.paths import resolve_db_target
    from kpidesk.services.review_service import ReviewService
    from kpidesk.services.workspace import Workspace

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    try:
        today = dt.date.fromisoformat(args.today) if args.today else None
        with Workspace.open(resolve_db_target(args.db), read_only=True) as ws:
            content = ReviewService(ws.db).content(args.review, today=today)
        pages = write_review_pdf(content, args.out)
    except KpideskError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    del app
    print(f"{pages} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())

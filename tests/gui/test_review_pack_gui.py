"""The PDF review pack (offscreen Qt) and the Reviews page, on the demo workspace.

The PDF's page count follows from the layout: cover (1) + contents (1) +
headlines (1) + movers (1) + KPI charts (two per page: ceil(n / 2)) + goals,
actions, notes and definitions (one page each for the demo's short lists).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import subprocess
import sys
import unicodedata

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pypdf
import pytest
from PySide6.QtCore import Qt

from kpidesk.gui.report.chart import nice_ticks
from kpidesk.gui.report.pdf_pack import write_review_pdf
from kpidesk.gui.tasks import TaskRunner
from kpidesk.gui.views.reviews_page import ReviewsPage, default_period
from kpidesk.services.review_service import ReviewService

TODAY = dt.date(2026, 11, 25)
EVIL = '=HYPERLINK("http://example.com","x") <b>not bold</b>'


def _text(reader: pypdf.PdfReader, page: int) -> str:
    """A page's words, single-spaced, with typographic ligatures (ﬁ, ﬀ) spelt out."""
    return " ".join(unicodedata.normalize("NFKC", reader.pages[page].extract_text()).split())


@pytest.fixture
def runner(qtbot):  # type: ignore[no-untyped-def]
    runner = TaskRunner(progress_delay_ms=60_000)
    yield runner
    runner.cancel_all()
    runner.wait()


def test_pdf_pack_of_the_demo(demo_workspace, tmp_path, qapp) -> None:  # type: ignore[no-untyped-def]
    service = ReviewService(demo_workspace.db)
    product = demo_workspace.products.list()[0].name
    review, _ = service.create(product, "2026-Q3")
    service.add_item(review.id, "action", "Chase the SLA value for September", owner="Kim")
    service.add_item(review.id, "note", EVIL)
    content = service.content(review.id, today=TODAY)
    out = tmp_path / "pack.pdf"
    pages = write_review_pdf(content, out)
    reader = pypdf.PdfReader(out)
    n = len(content.headlines)
    assert pages == len(reader.pages) == 2 + 2 + math.ceil(n / 2) + 4
    cover = _text(reader, 0)
    assert product in cover and "Review of 2026-Q3" in cover and f"{n} KPIs" in cover
    contents = _text(reader, 1)
    for section in ("Headlines", "Biggest movers", "KPI charts", "Goals", "Actions", "Notes and decisions",
                    "Definitions"):
        assert section in contents
    assert f"Page 2 of {pages}" in contents
    headlines = _text(reader, 2)
    assert all(h.name in headlines for h in content.headlines)
    every = " ".join(_text(reader, p) for p in range(pages))
    assert all(f"Page {p} of {pages}" in every for p in range(1, pages + 1))
    assert "Chase the SLA value for September" in every
    assert "<b>not bold</b>" in every  # user text is shown as typed, never as markup
    assert all(e.goal.statement[:30] in every for e in content.goals)
    # the contents page gives the right page for the goals section
    goals_page = int(contents.split("Goals", 1)[1].split()[0])
    assert _text(reader, goals_page - 1).count("Goals") >= 1


def test_cli_pack_pdf_runs_the_renderer_headless(demo_db_file, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kpidesk.storage.db import backup_sqlite

    db = backup_sqlite(demo_db_file, tmp_path / "demo.db")
    env = dict(os.environ, KPIDESK_DB=str(db))
    env.pop("DISPLAY", None)
    run = [sys.executable, "-m", "kpidesk", "review"]
    subprocess.run([*run, "new", "--product", "Pulse", "--period", "2026-10"], env=env, check=True,
                   capture_output=True)
    done = subprocess.run([*run, "pack", "1", "--pdf", str(tmp_path / "p.pdf"), "--xlsx", str(tmp_path / "p.xlsx"),
                           "--today", "2026-11-25"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(pypdf.PdfReader(tmp_path / "p.pdf").pages) > 6 and (tmp_path / "p.xlsx").stat().st_size > 0
    missing = subprocess.run([*run, "pack", "99", "--pdf", str(tmp_path / "q.pdf")], env=env, capture_output=True,
                             text=True)
    assert missing.returncode == 1
    assert missing.stderr.strip().count("\n") == 0 and "Review #99 does not exist" in missing.stderr
    assert not (tmp_path / "q.pdf").exists()


def test_nice_ticks() -> None:
    assert nice_ticks(0, 100) == [0, 25, 50, 75, 100]
    assert nice_ticks(1.52, 2.78) == [1.5, 2.0, 2.5, 3.0]  # raw step 1.26 / 4 = 0.315 -> 0.5
    assert nice_ticks(-7, 7) == [-10, -5, 0, 5, 10]  # 14 / 4 = 3.5 -> 5
    assert default_period(dt.date(2026, 11, 25)) == "2026-Q3"
    assert default_period(dt.date(2026, 2, 1)) == "2025-Q4"


def test_reviews_page_flow(qtbot, demo_workspace, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page = ReviewsPage(demo_workspace, runner, today=TODAY)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        pass  # the list loads in the runner; its result arrives through the event loop
    assert page.review_list.count() == 0 and not page.pack_button.isEnabled()
    page.product_combo.setCurrentIndex(page.product_combo.findText("Pulse"))
    page.period_edit.setText("2026-Q3")
    with qtbot.waitSignal(page.loaded, timeout=20_000):
        page.new_review()
    assert page.review_list.count() == 1 and "Pulse · 2026-Q3" in page.review_list.item(0).text()
    assert page.content is not None and page.content.product == "Pulse"
    assert "Pulse — review of 2026-Q3" in page.title_label.text()
    # an action with an owner and a due date, then notes
    page.kind_combo.setCurrentIndex(page.kind_combo.findData("action"))
    page.text_edit.setText("Ask finance for the September numbers")
    page.owner_edit.setText("Ana")
    page.due_check.setChecked(True)
    with qtbot.waitSignal(page.loaded, timeout=20_000):
        page.add_item()
    assert page.items_table.rowCount() == 1
    assert page.items_table.item(0, 1).text() == "Ask finance for the September numbers"
    assert page.items_table.item(0, 2).text() == "Ana"
    page.notes_edit.setPlainText("Agreed to re-forecast Q4.")
    with qtbot.waitSignal(page.loaded, timeout=20_000):
        page.save_notes()
    # tick Done, edit the owner in place
    with qtbot.waitSignal(page.loaded, timeout=20_000):
        page.set_done(0, True)
    with qtbot.waitSignal(page.loaded, timeout=20_000):
        page.items_table.item(0, 2).setText("Bo")
    item = ReviewService(demo_workspace.db).items(page.content.review.id)[0]
    assert (item.done, item.owner) == (True, "Bo")
    assert page.items_table.item(0, 4).checkState() == Qt.CheckState.Checked
    assert ReviewService(demo_workspace.db).get(page.content.review.id).notes == "Agreed to re-forecast Q4."
    # the pack is written by the runner
    with qtbot.waitSignal(page.pack_written, timeout=60_000) as written:
        page.generate_pack(tmp_path / "pack.xlsx", tmp_path / "pack.pdf")
    assert [p.name for p in written.args[0]] == ["pack.xlsx", "pack.pdf"]
    reader = pypdf.PdfReader(tmp_path / "pack.pdf")
    text = " ".join(_text(reader, p) for p in range(len(reader.pages)))
    assert "Ask finance for the September numbers" in text and "Agreed to re-forecast Q4." in text


def test_a_note_longer_than_a_page_continues_on_the_next(demo_workspace, tmp_path, qapp) -> None:  # type: ignore[no-untyped-def]
    service = ReviewService(demo_workspace.db)
    review, _ = service.create("Ledger", "2026-10")
    short = write_review_pdf(service.content(review.id, today=TODAY), tmp_path / "short.pdf")
    service.add_item(review.id, "note", "start-of-note " + "minutes " * 4000 + "end-of-note")
    pages = write_review_pdf(service.content(review.id, today=TODAY), tmp_path / "long.pdf")
    reader = pypdf.PdfReader(tmp_path / "long.pdf")
    text = " ".join(_text(reader, p) for p in range(pages))
    assert pages >= short + 3  # 4,000 words do not fit on one page
    assert "start-of-note" in text and "end-of-note" in text and text.count("minutes") >= 4000

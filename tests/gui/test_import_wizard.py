"""The import wizard driven end to end with real files (xlsx written by openpyxl, csv),
a real SQLite workspace and part A's task runner: file → sheets → layout → mapping →
preview → import → undo. Every slow step runs on a worker thread."""

from __future__ import annotations

import datetime as dt
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from kpidesk.gui.models.import_preview_model import INSERT, REJECTED, UPDATE
from kpidesk.gui.tasks import TaskRunner
from kpidesk.gui.views.import_wizard import (
    PAGE_LAYOUT,
    PAGE_MAPPING,
    PAGE_PREVIEW,
    PAGE_SHEETS,
    PAGE_SUMMARY,
    ImportWizard,
)
from kpidesk.services.import_service import ImportService
from kpidesk.services.workspace import Workspace

WAIT = 30_000  # the sandboxed reader starts a child interpreter


@pytest.fixture
def workspace(tmp_path):
    ws = Workspace.open(tmp_path / "import.db")
    ws.products.create("Acme")
    ws.products.create("Beta")
    signups, _ = ws.kpis.add_custom("Acme", "Sign ups", key="sign_ups")
    ws.measurements.record(signups.id, dt.date(2024, 1, 1), 90)  # typed by hand; the file says 100
    yield ws
    ws.close()


@pytest.fixture
def runner(qtbot):
    runner = TaskRunner(progress_delay_ms=60_000)
    yield runner
    runner.cancel_all()
    runner.wait()


@pytest.fixture
def tracker(tmp_path):
    """A two-sheet workbook: a KPI-rows tracker with a title row and a totals row, and a notes sheet."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "KPIs 2024"
    sheet.append(["Monthly KPI tracker"])
    sheet.append([])
    sheet.append(["KPI", "Jan 2024", "Feb 2024", "Mar 2024"])
    sheet.append(["Sign ups", 100, 120, 130])
    sheet.append(["Net Promoter Score", 31, 35, "n/a"])
    sheet.append(["Churn rate", "5%", "4.5%", "abc"])
    sheet.append(["Mystery metric", 1, 2, 3])
    notes = book.create_sheet("Notes")
    notes.append(["Owner", "Who"])
    notes.append(["Ana", "PM"])
    path = tmp_path / "tracker.xlsx"
    book.save(path)
    return path


def series(ws, key):
    kpi = next(k for k in ws.kpis.list() if k.key == key)
    frame = ws.measurements.series(kpi.id)
    return dict(zip(frame["period_start"].dt.strftime("%Y-%m"), frame["value"], strict=True))


def go_next(qtbot, wizard, page_id):
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentId() == page_id, timeout=WAIT)


def test_whole_wizard_on_a_two_sheet_tracker(qtbot, workspace, runner, tracker, qtmodeltester):
    wizard = ImportWizard(workspace, runner)
    qtbot.addWidget(wizard)
    wizard.show()
    changes = []
    wizard.changed.connect(changes.append)

    # 1. file
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    qtbot.keyClicks(wizard.file_page.path_edit, str(tracker))
    wizard.file_page.product_combo.setEditText("Acme")
    go_next(qtbot, wizard, PAGE_SHEETS)

    # 2. sheets: the first sheet with data is ticked; the preview shows the grid
    page = wizard.sheets_page
    assert page.checked() == ["KPIs 2024"]
    assert page.grid_model.index(2, 1).data() == "Jan 2024"
    qtmodeltester.check(page.grid_model, force_py=True)
    go_next(qtbot, wizard, PAGE_LAYOUT)

    # 3. layout: a KPI-rows tracker under a title row
    layout_page = wizard.layout_page
    assert "rows layout, header on row 3" in layout_page.description.text()
    assert layout_page.grid_model.header_row == 2
    assert not layout_page.sheet_combo.isVisible()  # one sheet chosen
    go_next(qtbot, wizard, PAGE_MAPPING)

    # 4. mapping: "Sign ups" matched the existing KPI, NPS and churn come from the catalog,
    # the unknown label becomes a custom KPI
    mapping = wizard.mapping_page
    qtmodeltester.check(mapping.model, force_py=True)
    decisions = wizard.plan.decisions
    assert decisions["Sign ups"].action == "existing"
    assert decisions["Sign ups"].kpi_key == "sign_ups"
    assert decisions["Net Promoter Score"].action == "catalog"
    assert decisions["Mystery metric"].action == "custom"
    row = mapping.model.row_of("Mystery metric")
    assert mapping.model.index(row, 1).data() == "3"
    # the user ignores the mystery metric
    mapping.view.selectRow(row)
    mapping.action_combo.setCurrentIndex(mapping.action_combo.findData("ignore"))
    qtbot.mouseClick(mapping.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.plan.decisions["Mystery metric"].action == "ignore", timeout=WAIT)
    assert mapping.model.index(row, 2).data() == "ignored"
    assert wizard.plan.ignored_cells == 3
    # Back to the layout and Next again: the choice is kept
    wizard.back()
    assert wizard.currentId() == PAGE_LAYOUT
    go_next(qtbot, wizard, PAGE_MAPPING)
    assert wizard.plan.decisions["Mystery metric"].action == "ignore"
    go_next(qtbot, wizard, PAGE_PREVIEW)

    # 5. preview: Jan sign-ups 90 → 100 is an update, the rest inserts, two bad cells rejected
    preview = wizard.preview_page
    plan = wizard.plan
    # sign ups: Jan update + Feb, Mar inserts; NPS Jan, Feb (Mar "n/a" is missing); churn Jan, Feb
    assert (plan.inserts, plan.updates) == (6, 1)
    assert [r.reason for r in plan.rejected] == ["'abc' is not a number"]
    model = preview.model
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 8
    preview.filter_combo.setCurrentIndex(preview.filter_combo.findData(UPDATE))
    assert model.rowCount() == 1
    assert [model.index(0, c).data() for c in (0, 1, 3, 4, 6, 7)] == \
        ["changed", "KPIs 2024!B4", "Sign ups", "2024-01-01", "100", "90"]
    preview.filter_combo.setCurrentIndex(preview.filter_combo.findData(REJECTED))
    assert model.rowCount() == 1
    assert model.index(0, 1).data() == "KPIs 2024!D6"
    assert model.index(0, 8).data() == "'abc' is not a number"
    assert model.action_at(0) == REJECTED
    preview.filter_combo.setCurrentIndex(preview.filter_combo.findData(INSERT))
    assert model.rowCount() == 6
    assert series(workspace, "sign_ups") == {"2024-01": 90.0}  # nothing written yet
    assert wizard.button(QWizard.WizardButton.CommitButton).text().replace("&", "") == "Import"

    # 6. import in the runner
    go_next(qtbot, wizard, PAGE_SUMMARY)
    assert series(workspace, "sign_ups") == {"2024-01": 100.0, "2024-02": 120.0, "2024-03": 130.0}
    assert series(workspace, "churn_rate") == {"2024-01": 5.0, "2024-02": 4.5}
    assert "1 changed" in wizard.summary_page.text.text()
    assert {k: v.text() for k, v in wizard.summary_page.figures.items()} == \
        {"inserted": "6", "updated": "1", "unchanged": "0", "rejected": "1"}
    assert "row 6, column D: 'abc' is not a number" in wizard.summary_page.details.text()
    assert changes and changes[0].touches("measurement")
    assert not any(k.key == "mystery_metric" for k in workspace.kpis.list())

    # 7. undo this import: the hand-typed 90 is back, the catalog KPIs it created are gone
    summary = wizard.summary_page
    qtbot.mouseClick(summary.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: summary.undone, timeout=WAIT)
    assert series(workspace, "sign_ups") == {"2024-01": 90.0}
    assert {k.key for k in workspace.kpis.list()} == {"sign_ups"}
    assert "Rolled back import" in summary.message.text()
    assert not summary.undo_button.isEnabled()
    assert len(changes) == 2
    assert ImportService(workspace.db).batches()[0].status == "rolled_back"


def test_start_with_a_csv_skips_the_sheet_step_and_layout_can_be_overridden(qtbot, workspace, runner, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("Month;KPI;Value\n2024-01;Sign ups;100\n2024-02;Sign ups;110\n2024-03;Sign ups;\n",
                    encoding="utf-8-sig")
    wizard = ImportWizard(workspace, runner, product="Acme")
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.start_with(path)
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_LAYOUT, timeout=WAIT)  # one sheet: no sheet step
    layout_page = wizard.layout_page
    assert "long layout" in layout_page.description.text()
    # override: call it wide — the period column then carries KPI and value columns
    # (detection runs in the runner: wait for the description to follow)
    layout_page.kind_combo.setCurrentIndex(layout_page.kind_combo.findData("wide"))
    qtbot.waitUntil(lambda: "wide layout" in layout_page.description.text(), timeout=WAIT)
    assert "chosen by you" in layout_page.description.text()
    layout_page.kind_combo.setCurrentIndex(layout_page.kind_combo.findData(""))
    qtbot.waitUntil(lambda: "long layout" in layout_page.description.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: not layout_page.busy, timeout=WAIT)
    go_next(qtbot, wizard, PAGE_MAPPING)
    go_next(qtbot, wizard, PAGE_PREVIEW)
    # Jan 100 replaces 90 (update), Feb inserted, the empty Mar cell is simply missing
    assert (wizard.plan.inserts, wizard.plan.updates, len(wizard.plan.rejected)) == (1, 1, 0)
    go_next(qtbot, wizard, PAGE_SUMMARY)
    assert series(workspace, "sign_ups") == {"2024-01": 100.0, "2024-02": 110.0}

    # importing the same file again changes nothing: the Import button stays disabled
    wizard.start_with(path)
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_LAYOUT, timeout=WAIT)
    go_next(qtbot, wizard, PAGE_MAPPING)
    go_next(qtbot, wizard, PAGE_PREVIEW)
    assert not wizard.plan.changes_anything
    assert "already imported" in wizard.preview_page.summary.text()
    assert not wizard.button(QWizard.WizardButton.CommitButton).isEnabled()


def test_a_bad_file_is_a_dialog_and_the_wizard_stays_on_the_file_page(qtbot, workspace, runner, tmp_path,
                                                                      monkeypatch):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a zip file at all")
    shown = []
    monkeypatch.setattr("kpidesk.gui.views.import_wizard.common.error_dialog",
                        lambda parent, exc, **kw: shown.append(str(exc)))
    wizard = ImportWizard(workspace, runner)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.start_with(path)
    qtbot.waitUntil(lambda: bool(shown), timeout=WAIT)
    assert wizard.currentId() == 0
    assert "broken.xlsx" in shown[0]
    assert wizard.file_page.message.text() == shown[0]
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()  # fix the path and try again


def test_no_product_chosen_with_two_products_says_which(qtbot, workspace, runner, tracker, monkeypatch):
    shown = []
    monkeypatch.setattr("kpidesk.gui.views.import_wizard.common.error_dialog",
                        lambda parent, exc, **kw: shown.append(str(exc)))
    wizard = ImportWizard(workspace, runner)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path_edit.setText(str(tracker))
    wizard.file_page.product_combo.setEditText("")
    go_next(qtbot, wizard, PAGE_SHEETS)
    go_next(qtbot, wizard, PAGE_LAYOUT)
    wizard.next()
    qtbot.waitUntil(lambda: bool(shown), timeout=WAIT)
    assert "Say which product" in shown[0]
    assert "Acme, Beta" in shown[0]
    assert wizard.currentId() == PAGE_LAYOUT


def test_cancel_during_import_writes_nothing(qtbot, workspace, runner, tmp_path):
    """The write queues behind another write (one database writer); Stop before it starts
    must leave the database untouched and the wizard on the preview."""
    import threading

    path = tmp_path / "wide.csv"
    path.write_text("Month,Sign ups\n2024-02,120\n2024-03,130\n", encoding="utf-8")
    wizard = ImportWizard(workspace, runner, product="Acme")
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.start_with(path)
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_LAYOUT, timeout=WAIT)
    go_next(qtbot, wizard, PAGE_MAPPING)
    go_next(qtbot, wizard, PAGE_PREVIEW)

    release = threading.Event()
    runner.submit(lambda progress: release.wait(10), write=True, show_progress=False)  # holds the writer
    wizard.next()  # Import: queued behind the blocker
    page = wizard.preview_page
    assert page.busy
    assert page.busy_row.isVisibleTo(wizard)
    assert not wizard.button(QWizard.WizardButton.CommitButton).isEnabled()
    qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    release.set()
    qtbot.waitUntil(lambda: not page.busy, timeout=WAIT)
    assert wizard.currentId() == PAGE_PREVIEW
    assert page.message.text() == "Cancelled; nothing was changed."
    assert series(workspace, "sign_ups") == {"2024-01": 90.0}
    assert ImportService(workspace.db).batches() == []
    # and the user can still import afterwards
    go_next(qtbot, wizard, PAGE_SUMMARY)
    assert series(workspace, "sign_ups") == {"2024-01": 90.0, "2024-02": 120.0, "2024-03": 130.0}


def test_create_kpi_from_catalog_inline_and_several_sheets(qtbot, workspace, runner, tmp_path):
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Web"
    first.append(["Month", "Visitors", "Weird thing"])
    first.append([dt.datetime(2024, 1, 1), 1000, 5])
    first.append([dt.datetime(2024, 2, 1), 1100, 6])
    second = book.create_sheet("App")
    second.append(["Month", "Visitors"])
    second.append([dt.datetime(2024, 3, 1), 1200])
    path = tmp_path / "two.xlsx"
    book.save(path)

    wizard = ImportWizard(workspace, runner, product="Acme")
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.start_with(path)
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_SHEETS, timeout=WAIT)
    wizard.sheets_page.set_checked(["Web", "App"])
    go_next(qtbot, wizard, PAGE_LAYOUT)
    layout_page = wizard.layout_page
    assert layout_page.sheet_combo.isVisibleTo(wizard)
    assert [layout_page.sheet_combo.itemText(i) for i in range(2)] == ["Web", "App"]
    layout_page.sheet_combo.setCurrentIndex(1)
    assert "Sheet 'App': wide layout" in layout_page.description.text()
    go_next(qtbot, wizard, PAGE_MAPPING)

    # "Weird thing" → a new KPI from the catalog, chosen inline
    mapping = wizard.mapping_page
    mapping.view.selectRow(mapping.model.row_of("Weird thing"))
    mapping.action_combo.setCurrentIndex(mapping.action_combo.findData("catalog"))
    assert mapping.target_combo.isVisibleTo(wizard)
    mapping.target_combo.setCurrentIndex(mapping.target_combo.findData("nps"))
    qtbot.mouseClick(mapping.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.plan.decisions["Weird thing"].catalog_key == "nps", timeout=WAIT)
    assert wizard.plan.decisions["Weird thing"].matched_by == "user"
    go_next(qtbot, wizard, PAGE_PREVIEW)
    assert wizard.plan.sheets == ["Web", "App"]
    go_next(qtbot, wizard, PAGE_SUMMARY)
    assert series(workspace, "nps") == {"2024-01": 5.0, "2024-02": 6.0}
    # "Visitors" matched the catalog's "Website visits" (alias) on both sheets
    assert wizard.plan.decisions["Visitors"].catalog_key == "visits"
    assert series(workspace, "visits") == {"2024-01": 1000.0, "2024-02": 1100.0, "2024-03": 1200.0}


def test_bare_month_headers_need_the_year_the_user_gives(qtbot, workspace, runner, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Tracker"
    sheet.append(["KPI", "Jan", "Feb", "Mar"])
    sheet.append(["Sign ups", 100, 120, 130])
    path = tmp_path / "no-year.xlsx"
    book.save(path)
    wizard = ImportWizard(workspace, runner, product="Acme")
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.start_with(path)
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_LAYOUT, timeout=WAIT)
    page = wizard.layout_page
    assert "have no year" in page.notes.text()
    page.year_spin.setValue(2024)
    qtbot.waitUntil(lambda: "have no year" not in page.notes.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: not page.busy, timeout=WAIT)
    go_next(qtbot, wizard, PAGE_MAPPING)
    go_next(qtbot, wizard, PAGE_PREVIEW)
    # Jan 100 replaces the hand-typed 90; Feb and Mar are new
    assert wizard.view.counts == {"insert": 2, "update": 1, "unchanged": 0, "rejected": 0, "all": 3}
    go_next(qtbot, wizard, PAGE_SUMMARY)
    assert series(workspace, "sign_ups") == {"2024-01": 100.0, "2024-02": 120.0, "2024-03": 130.0}


def test_dropping_a_file_on_the_wizard_reads_it(qtbot, workspace, runner, tracker):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    wizard = ImportWizard(workspace, runner, product="Acme")
    qtbot.addWidget(wizard)
    wizard.show()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tracker))])
    enter = QDragEnterEvent(wizard.rect().center(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    wizard.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(wizard.rect().center()), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    wizard.dropEvent(drop)
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_SHEETS, timeout=WAIT)
    assert wizard.path == str(tracker)
    assert wizard.file_page.path_edit.text() == str(tracker)


def test_new_product_and_custom_kpi_are_created_and_undone(qtbot, workspace, runner, tmp_path):
    path = tmp_path / "gamma.csv"
    path.write_text("Month,Widgets shipped\n2024-01,40\n2024-02,44\n", encoding="utf-8")
    wizard = ImportWizard(workspace, runner)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path_edit.setText(str(path))
    wizard.file_page.product_combo.setEditText("Gamma")  # a product that does not exist yet
    go_next(qtbot, wizard, PAGE_LAYOUT)
    go_next(qtbot, wizard, PAGE_MAPPING)
    mapping = wizard.mapping_page
    mapping.view.selectRow(mapping.model.row_of("Widgets shipped"))
    mapping.action_combo.setCurrentIndex(mapping.action_combo.findData("custom"))
    assert mapping.name_edit.isVisibleTo(wizard)
    mapping.name_edit.setText("Units shipped")
    mapping.unit_combo.setCurrentIndex(mapping.unit_combo.findData("count"))
    qtbot.mouseClick(mapping.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.plan.decisions["Widgets shipped"].kpi_name == "Units shipped", timeout=WAIT)
    assert wizard.plan.new_products == ["Gamma"]
    assert [k.name for k in wizard.plan.new_kpis] == ["Units shipped"]
    go_next(qtbot, wizard, PAGE_PREVIEW)
    go_next(qtbot, wizard, PAGE_SUMMARY)
    assert "New products: Gamma." in wizard.summary_page.details.text()
    assert series(workspace, "units_shipped") == {"2024-01": 40.0, "2024-02": 44.0}
    summary = wizard.summary_page
    qtbot.mouseClick(summary.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: summary.undone, timeout=WAIT)
    assert "Gamma" not in {p.name for p in workspace.products.list()}
    assert "units_shipped" not in {k.key for k in workspace.kpis.list()}


def test_the_user_can_say_which_column_holds_the_kpi_names(qtbot, workspace, runner, tmp_path):
    """Detection takes the text column with the most distinct labels as the KPI column; here that is
    the person, not the KPI, and the user corrects it on the layout page."""
    path = tmp_path / "by-person.csv"
    path.write_text("Month,Person,Thing,Amount\n"
                    "2024-01,Ana,Sign ups,10\n2024-01,Bo,Visits,20\n2024-02,Cy,Sign ups,11\n2024-02,Di,Visits,21\n",
                    encoding="utf-8")
    wizard = ImportWizard(workspace, runner, product="Acme")
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.start_with(path)
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_LAYOUT, timeout=WAIT)
    page = wizard.layout_page
    kpi_combo = page.role_combos["kpi_col"]
    assert kpi_combo.isVisibleTo(wizard)
    assert not page.role_combos["label_col"].isVisibleTo(wizard)  # a long layout has no label column
    assert kpi_combo.itemText(0) == "as detected (B — Person)"
    kpi_combo.setCurrentIndex(kpi_combo.findData(2))
    qtbot.waitUntil(lambda: not page.busy and page.layouts["by-person"].kpi_col == 2, timeout=WAIT)
    assert page.role_combos["kpi_col"].currentText() == "C — Thing"  # the choice survives the re-detection
    go_next(qtbot, wizard, PAGE_MAPPING)
    assert set(wizard.plan.decisions) == {"Sign ups", "Visits"}
    assert wizard.plan.decisions["Sign ups"].kpi_key == "sign_ups"

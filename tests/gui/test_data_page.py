"""The Data page: import history from a real import, rollback with confirmation restores the
values exactly; data sources listed with their last error. Real SQLite in tmp_path."""

from __future__ import annotations

import datetime as dt
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pandas as pd
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from kpidesk.gui.models.data_tables_model import RowTableModel, batch_columns
from kpidesk.gui.tasks import TaskRunner
from kpidesk.gui.views.data_page import DataPage
from kpidesk.services.import_service import ImportService
from kpidesk.services.workspace import Workspace
from kpidesk.storage.models import DataSource


@pytest.fixture
def workspace(tmp_path):
    ws = Workspace.open(tmp_path / "data.db")
    ws.products.create("Acme")
    kpi, _ = ws.kpis.add_custom("Acme", "Sign ups", key="sign_ups")
    ws.measurements.record(kpi.id, dt.date(2024, 1, 1), 100)  # typed by hand before the import
    records = pd.DataFrame({
        "sheet": ["Data"] * 3, "row": [1, 2, 3], "column": [1, 1, 1],
        "kpi_label": ["Sign ups"] * 3,
        "period_start": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
        "frequency": ["month"] * 3, "value": [110.0, 120.0, 130.0],
    })
    service = ImportService(ws.db, ws.catalog)
    plan = service.plan_records(records, product="Acme", file_name="signups.xlsx", sha256="ab" * 32,
                                layout="long")
    # Jan replaces the hand-typed 100 (update), Feb and Mar are new (inserts)
    assert (plan.inserts, plan.updates) == (2, 1)
    service.apply(plan)
    with ws.db.session() as session:
        session.add(DataSource(product_id=1, name="Stripe export", path="/data/stripe.csv",
                               recipe="transactions", last_error="The file /data/stripe.csv is missing."))
        session.commit()
    yield ws
    ws.close()


@pytest.fixture
def runner(qtbot):
    runner = TaskRunner(progress_delay_ms=60_000)
    yield runner
    runner.cancel_all()
    runner.wait()


def values(ws):
    kpi = ws.kpis.list()[0]
    frame = ws.measurements.series(kpi.id)
    return dict(zip(frame["period_start"].dt.strftime("%Y-%m"), frame["value"], strict=True))


def test_lists_imports_and_sources(qtbot, workspace, runner, qtmodeltester):
    page = DataPage(workspace, runner)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.batches_model.rowCount() == 1, timeout=10_000)
    model = page.batches_model
    qtmodeltester.check(model, force_py=True)
    qtmodeltester.check(page.sources_model, force_py=True)
    headers = [model.headerData(c, Qt.Orientation.Horizontal)
               for c in range(model.columnCount())]
    row = {h: model.index(0, c).data() for c, h in enumerate(headers)}
    assert row["File"] == "signups.xlsx"
    assert row["New"] == "2"
    assert row["Changed"] == "1"
    assert row["Status"] == "applied"
    assert page.rollback_button.isEnabled()
    source_row = [page.sources_model.index(0, c).data() for c in range(page.sources_model.columnCount())]
    assert source_row[0] == "Stripe export"
    assert source_row[3] == "never"
    assert source_row[4] == "The file /data/stripe.csv is missing."


def test_rollback_asks_then_restores_exactly(qtbot, workspace, runner):
    assert values(workspace) == {"2024-01": 110.0, "2024-02": 120.0, "2024-03": 130.0}
    page = DataPage(workspace, runner)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.batches_model.rowCount() == 1, timeout=10_000)

    # Cancel changes nothing
    box = page.rollback_selected()
    assert "Roll back import #1 of signups.xlsx?" in box.text()
    assert "2 value(s) it added will be removed and 1 value(s)" in box.informativeText()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert values(workspace)["2024-01"] == 110.0

    box = page.rollback_selected()
    roll = next(b for b in box.buttons() if b.text() == "Roll back")
    with qtbot.waitSignal(page.changed, timeout=10_000) as changed:
        roll.click()
    assert changed.args[0].touches("measurement")
    # Jan gets the hand-typed 100 back; Feb and Mar are gone
    assert values(workspace) == {"2024-01": 100.0}
    qtbot.waitUntil(lambda: page.batches_model.rows and page.batches_model.rows[0].status == "rolled_back",
                    timeout=10_000)
    assert page.batches_model.index(0, 9).data().startswith("rolled back")
    assert not page.rollback_button.isEnabled()
    assert "Rolled back import #1 (signups.xlsx)" in page.status_label.text()


def test_rollback_refusal_is_a_dialog(qtbot, workspace, runner, monkeypatch):
    page = DataPage(workspace, runner)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.batches_model.rowCount() == 1, timeout=10_000)
    ImportService(workspace.db, workspace.catalog).rollback(1)  # someone else rolled it back meanwhile
    shown = []
    monkeypatch.setattr("kpidesk.gui.views.data_page.error_dialog",
                        lambda parent, exc, **kw: shown.append(str(exc)))
    page._rollback(1)
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    assert shown == ["Import #1 (signups.xlsx) was already rolled back."]


def test_empty_workspace_shows_empty_states(qtbot, tmp_path, runner):
    with Workspace.open(tmp_path / "empty.db") as ws:
        page = DataPage(ws, runner)
        qtbot.addWidget(page)
        page.show()
        with qtbot.waitSignal(page.loaded, timeout=10_000):
            pass
        assert page.imports_empty.isVisible()
        assert page.sources_empty.isVisible()
        assert not page.rollback_button.isEnabled()


def test_batch_columns_on_plain_rows(qtmodeltester):
    model = RowTableModel(batch_columns(str))
    qtmodeltester.check(model, force_py=True)


def test_refresh_a_real_data_source_and_show_its_error(qtbot, tmp_path, runner, monkeypatch):
    """A spend export feeds CAC; Refresh re-runs it after the file changed, and a vanished
    file shows up as a dialog and in the source's Problem column."""
    from kpidesk.services.source_service import SourceService

    export = tmp_path / "spend.csv"
    export.write_text("date,channel,amount,new_customers\n2024-01-05,paid,1000,10\n2024-02-05,paid,1200,12\n",
                      encoding="utf-8")
    with Workspace.open(tmp_path / "sources.db") as ws:
        ws.products.create("Acme")
        SourceService(ws.db, ws.catalog).add("Acme", export, "spend", name="Ad spend")
        cac = next(k for k in ws.kpis.list() if k.key == "cac")
        # CAC = spend / new customers: Feb 1200 / 12 = 100
        assert ws.measurements.series(cac.id)["value"].tolist() == [100.0, 100.0]

        page = DataPage(ws, runner)
        qtbot.addWidget(page)
        qtbot.waitUntil(lambda: page.sources_model.rowCount() == 1, timeout=10_000)
        qtmodel_row = [page.sources_model.index(0, c).data() for c in range(5)]
        assert qtmodel_row[:2] == ["Ad spend", "spend"]
        assert qtmodel_row[3] != "never"
        page.sources_view.selectRow(0)
        assert page.refresh_button.isEnabled()

        # Feb spend 1200 → 1500: CAC 1500 / 12 = 125
        export.write_text("date,channel,amount,new_customers\n2024-01-05,paid,1000,10\n2024-02-05,paid,1500,12\n",
                          encoding="utf-8")
        with qtbot.waitSignal(page.changed, timeout=30_000) as changed:
            qtbot.mouseClick(page.refresh_button, Qt.MouseButton.LeftButton)
        assert changed.args[0].touches("measurement")
        assert ws.measurements.series(cac.id)["value"].tolist() == [100.0, 125.0]
        assert "Ad spend" in page.status_label.text()

        shown = []
        monkeypatch.setattr("kpidesk.gui.views.data_page.error_dialog",
                            lambda parent, exc, **kw: shown.append(str(exc)))
        export.unlink()
        runner.wait()
        qtbot.waitUntil(lambda: not runner.busy, timeout=10_000)  # the reload after the refresh is in
        assert page.selected_source().name == "Ad spend"  # the selection survived the reload
        qtbot.mouseClick(page.refresh_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(shown), timeout=30_000)
        assert "Ad spend" in shown[0]
        qtbot.waitUntil(lambda: bool(page.sources_model.rows and page.sources_model.rows[0].last_error),
                        timeout=10_000)
        assert "spend.csv" in page.sources_model.index(0, 4).data()
        runner.wait()

"""GUI tests: offscreen Qt, Qt warnings fail the test, no leaked top-level windows."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_ENABLE_HIGHDPI_SCALING", "0")

import pytest


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory, monkeypatch):
    """QSettings and the data folder go to a temporary place, never the user's."""
    from PySide6.QtCore import QCoreApplication, QSettings

    folder = tmp_path_factory.mktemp("settings")
    QCoreApplication.setOrganizationName("kpidesk-tests")
    QCoreApplication.setApplicationName("kpidesk-tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    monkeypatch.setenv("KPIDESK_DATA_DIR", str(folder / "data"))


@pytest.fixture(autouse=True)
def _fail_on_qt_warnings(qtlog):
    """Any Qt warning (or worse) logged during the test fails it."""
    yield
    from PySide6.QtCore import QtMsgType

    bad = [r for r in qtlog.records if r.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg,
                                                   QtMsgType.QtFatalMsg)]
    # the offscreen platform reports it cannot do some window-manager things; not our warnings
    bad = [r for r in bad if "This plugin does not support" not in r.message]
    assert not bad, "Qt warnings: " + "; ".join(r.message for r in bad)


@pytest.fixture(autouse=True)
def _no_leaked_windows(qapp):
    """Top-level widgets a test leaves visible are a leak (dialogs not closed, windows not deleted)."""
    from PySide6.QtWidgets import QApplication

    before = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
    yield
    QApplication.processEvents()
    # free this test's Qt objects here, on the GUI thread: left to the cyclic garbage collector
    # they could be freed later inside a worker thread of another test (Qt then warns that
    # timers cannot be stopped from another thread)
    import gc

    gc.collect()
    leaked = [w for w in QApplication.topLevelWidgets() if w.isVisible() and id(w) not in before]
    for widget in leaked:
        widget.close()
    assert not leaked, "windows left open: " + ", ".join(type(w).__name__ for w in leaked)


@pytest.fixture
def app_theme(qapp):
    from kpidesk.gui import theme

    theme.apply(qapp, theme.LIGHT)
    return qapp


@pytest.fixture
def workspace(tmp_path):
    """A real SQLite workspace with two products and a few months of values."""
    import datetime as dt

    import pandas as pd

    from kpidesk.services.workspace import Workspace

    ws = Workspace.open(tmp_path / "ws.kpidesk.db")
    app, _ = ws.products.create("Mobile app")
    web, _ = ws.products.create("Web shop")
    revenue, _ = ws.kpis.add_from_catalog(app.id, "revenue")
    churn, _ = ws.kpis.add_from_catalog(app.id, "churn_rate")
    web_revenue, _ = ws.kpis.add_from_catalog(web.id, "revenue")
    months = [dt.date(2025, m, 1) for m in range(1, 13)]
    frame = pd.DataFrame({
        "kpi_id": [revenue.id] * 12 + [churn.id] * 12 + [web_revenue.id] * 12,
        "period_start": months * 3,
        # revenue rises 1000 → 2100 by 100 a month; churn falls 5.0 → 3.9; web revenue flat 500
        "value": [1000.0 + 100 * i for i in range(12)] + [5.0 - 0.1 * i for i in range(12)] + [500.0] * 12,
    })
    ws.measurements.record_many(frame)
    ws.ids = {"app": app.id, "web": web.id, "revenue": revenue.id, "churn": churn.id,  # type: ignore[attr-defined]
              "web_revenue": web_revenue.id}
    yield ws
    ws.close()

"""Defects found in a product manager's walkthrough of the app (demo-like data, real SQLite files):
each test drives the real widgets and failed before its fix."""

from __future__ import annotations

import datetime as dt
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from kpidesk.services.workspace import Workspace

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def workspace(tmp_path):
    ws = Workspace.open(tmp_path / "walk.db")
    ws.products.create("Pulse")
    signups, _ = ws.kpis.add_custom("Pulse", "New sign-ups", key="new_signups", unit="count", aggregation="sum")
    conversion, _ = ws.kpis.add_custom("Pulse", "Conversion rate", key="conversion", unit="percent",
                                       aggregation="mean")
    for month, value in enumerate([16_980, 17_250, 17_511], start=8):
        ws.measurements.record(signups.id, dt.date(2026, month, 1), value)
        ws.measurements.record(conversion.id, dt.date(2026, month, 1), 1.5 + month / 10)
    yield ws
    ws.close()


def test_goal_dialog_baseline_hint_is_a_plain_number(qtbot, workspace):
    """The baseline placeholder read "from the data: 1.751e+04 (Oct 2026)"."""
    from kpidesk.gui.views.goal_dialog import GoalDialog

    dialog = GoalDialog(workspace, None, today=TODAY)
    qtbot.addWidget(dialog)
    dialog.kpi_combo.setCurrentIndex(dialog.kpi_combo.findData(workspace.kpis.resolve("new_signups", "Pulse").id))
    dialog.start_date.setDate(TODAY)
    dialog.run_check()
    hint = dialog.baseline_edit.placeholderText()
    assert "17,511" in hint and "e+" not in hint, hint
    # a relative target resolves from that baseline, also written out in full
    dialog.target_mode.setCurrentIndex(dialog.target_mode.findData("percent"))
    dialog.target_edit.setText("+10%")
    dialog.run_check()
    assert dialog.resolved_label.text() == "= 19,262 (from the baseline 17,511)"

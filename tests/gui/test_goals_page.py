"""The Goals page on a real workspace: grouped by objective, status/progress/forecast shown,
goals created, checked in on and archived through the page. Real SQLite in tmp_path,
part A's real task runner (work on a worker thread, results on the GUI thread)."""

from __future__ import annotations

import datetime as dt
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from kpidesk.gui.models.goal_tree_model import GoalTreeModel, load_goal_board, number
from kpidesk.gui.tasks import TaskRunner
from kpidesk.gui.views.goals_page import GoalsPage
from kpidesk.services.changes import Changes
from kpidesk.services.goal_service import GoalService
from kpidesk.services.workspace import Workspace

TODAY = dt.date(2024, 7, 15)


@pytest.fixture
def workspace(tmp_path):
    ws = Workspace.open(tmp_path / "goals.db")
    ws.products.create("Onboard")
    completion, _ = ws.kpis.add_custom("Onboard", "Onboarding completion", key="onboarding_completion",
                                       unit="percent", aggregation="mean")
    churn, _ = ws.kpis.add_custom("Onboard", "Churn rate", key="churn_rate", unit="percent",
                                  direction="down", aggregation="mean")
    # completion Jan..Jun 2024: 30..35 (+1 a month); churn 5.0 → 4.0 (−0.2 a month)
    for month in range(1, 7):
        ws.measurements.record(completion.id, dt.date(2024, month, 1), 29 + month)
        ws.measurements.record(churn.id, dt.date(2024, month, 1), 5.2 - 0.2 * month)
    goals = GoalService(ws.db)
    objective, _ = goals.add_objective("Grow activation", product="Onboard")
    # baseline Dec? no: start Jan 1 → baseline is the first value (30); target 36 by 2024-12-31.
    goals.add(completion.id, statement="Increase onboarding completion to 36", kind="increase_to",
              target_value=36.0, start_date=dt.date(2024, 1, 1), due_date=dt.date(2024, 12, 31),
              objective_id=objective.id, owner="Ana")
    # churn must stay below 3 — it is at 4.0 in June: outside → at risk
    goals.add(churn.id, statement="Keep churn rate below 3", kind="stay_below", target_value=3.0,
              start_date=dt.date(2024, 1, 1), due_date=dt.date(2024, 12, 31),
              rationale="Churn eats the growth we pay for in acquisition")
    yield ws
    ws.close()


@pytest.fixture
def runner(qtbot):
    runner = TaskRunner(progress_delay_ms=60_000)
    yield runner
    runner.cancel_all()
    runner.wait()


def make_page(qtbot, workspace, runner):
    page = GoalsPage(workspace, runner, today=TODAY)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 or page.stack.currentIndex() == 1, timeout=10_000)
    return page


def test_load_goal_board_groups_and_evaluates(workspace):
    groups = load_goal_board(workspace, today=TODAY)
    assert [g.title for g in groups] == ["Grow activation", "Goals without an objective"]
    completion = groups[0].goals[0]
    # baseline 30 (Jan), target 36, latest 35 (Jun): progress (35−30)/(36−30) = 5/6 = 83 %;
    # expected by the end of June: 182 of 366 days = 49.7 %; pace 0.833/0.497 = 1.68 → on track
    ev = completion.evaluation
    assert ev.progress == pytest.approx(5 / 6)
    assert ev.expected == pytest.approx(182 / 366)
    assert ev.status.value == "on_track"
    # a perfect +1/month line: forecast for Dec = 35 + 6 = 41, reached in Jul (36)
    assert ev.forecast.value == pytest.approx(41.0)
    assert ev.forecast.reach_text() == "reached by Jul 2024"
    churn = groups[1].goals[0]
    assert churn.evaluation.status.value == "at_risk"  # 4.0 is above 3
    assert [f.letter for f in churn.findings] == ["S", "M", "A", "R", "T"]


def test_page_shows_goals_by_objective(qtbot, workspace, runner, qtmodeltester):
    page = make_page(qtbot, workspace, runner)
    model = page.model
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 2
    first = model.index(0, 0)
    assert model.data(first) == "Grow activation (1)"
    goal_index = model.index(0, 0, first)
    assert model.data(goal_index) == "Increase onboarding completion to 36"
    assert model.data(model.index(0, 2, first)) == "83%"
    assert model.data(model.index(0, 6, first)) == "2024-12-31"
    churn_status = model.index(0, 1, model.index(1, 0))
    assert model.data(churn_status) == "at risk"
    # forecast column filled for the open goal (6 monthly values ≥ the minimum)
    assert model.data(model.index(0, 4, first))
    # the first goal is selected and its detail shown, SMART findings included
    assert page.selected_goal().goal_id == 1
    assert page.detail.title.text() == "Increase onboarding completion to 36"
    assert page.detail.smart.badges["S"].text() in {"pass", "warn", "fail"}
    assert "Onboarding completion" in page.detail.smart.sentences["S"].text()
    assert page.detail.chance.text().endswith("%")


def test_new_goal_through_dialog_creates_objective_and_emits_changed(qtbot, workspace, runner):
    page = make_page(qtbot, workspace, runner)
    dialog = page.new_goal()
    qtbot.keyClicks(dialog.statement_edit, "Reduce churn rate to 3.5")
    dialog.kpi_combo.setCurrentIndex(dialog.kpi_combo.findText("Onboard — Churn rate"))
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("decrease_to"))
    qtbot.keyClicks(dialog.target_edit, "3.5")
    dialog.objective_combo.setEditText("Keep customers")
    with qtbot.waitSignal(page.changed, timeout=5000) as changed:
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)
    assert changed.args[0].touches("goal")
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=10_000)
    titles = [page.model.groups[i].title for i in range(3)]
    assert titles == ["Grow activation", "Keep customers", "Goals without an objective"]
    saved = next(g for g in GoalService(workspace.db).list() if g.statement == "Reduce churn rate to 3.5")
    assert saved.kind == "decrease_to"
    assert saved.target_value == 3.5
    assert saved.baseline_value == pytest.approx(4.0)  # June, the last month before the start (Jul 15)


def test_checkin_and_archive(qtbot, workspace, runner):
    page = make_page(qtbot, workspace, runner)
    dialog = page.checkin_selected()
    qtbot.keyClicks(dialog.value_edit, "35.5")
    dialog.confidence_spin.setValue(8)
    qtbot.keyClicks(dialog.note_edit, "Tooltip tour shipped")
    with qtbot.waitSignal(page.changed, timeout=5000):
        dialog.accept()
    qtbot.waitUntil(lambda: page.detail.checkins_model.rowCount() == 1, timeout=10_000)
    assert page.detail.checkins_model.index(0, 3).data() == "Tooltip tour shipped"
    assert page.detail.checkins_model.index(0, 2).data() == "8/10"

    box = page.archive_selected()
    with qtbot.waitSignal(page.changed, timeout=5000):
        box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10_000)
    assert page.model.groups[0].title == "Goals without an objective"


def test_empty_state(qtbot, tmp_path, runner):
    with Workspace.open(tmp_path / "empty.db") as ws:
        page = GoalsPage(ws, runner, today=TODAY)
        qtbot.addWidget(page)
        qtbot.waitSignal(page.loaded, timeout=10_000)
        qtbot.waitUntil(lambda: page.stack.currentIndex() == 1, timeout=10_000)
        assert "No goals yet" in page.empty_label.text()
        assert not page.edit_button.isEnabled()


def test_empty_tree_model_passes_modeltester(qtmodeltester):
    model = GoalTreeModel()
    qtmodeltester.check(model, force_py=True)
    assert model.row_at(model.index(0, 0)) is None


def test_product_filter_and_checkin_model(qtbot, workspace, runner, qtmodeltester):
    workspace.products.create("Other")
    page = make_page(qtbot, workspace, runner)
    page.refresh(Changes.of("product"))
    qtbot.waitUntil(lambda: page.product_combo.count() == 3, timeout=10_000)
    page.product_combo.setCurrentIndex(page.product_combo.findText("Other"))
    qtbot.waitUntil(lambda: page.stack.currentIndex() == 1, timeout=10_000)  # no goals on Other
    page.product_combo.setCurrentIndex(page.product_combo.findText("Onboard"))
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=10_000)
    GoalService(workspace.db).checkin(1, dt.date(2024, 7, 10), value=35.2, confidence=6, note="on it")
    page.reload()
    qtbot.waitUntil(lambda: page.detail.checkins_model.rowCount() == 1, timeout=10_000)
    qtmodeltester.check(page.detail.checkins_model, force_py=True)
    assert page.detail.checkins_model.index(0, 1).data() == "35.2"


@pytest.mark.parametrize(("value", "text"), [(18820.4, "18,820"), (133271.0, "133,271"), (92.07, "92.07"),
                                             (378.25, "378.2"), (0.0351, "0.0351"), (0.0, "0"), (-1250.0, "-1,250")])
def test_numbers_in_the_goal_table_have_no_exponent(value, text):
    assert number(value) == text

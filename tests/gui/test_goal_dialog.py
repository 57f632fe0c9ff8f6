"""The goal dialog: the SMART check runs live (debounced) as the user types, and saving
hands the typed fields to the caller. Real SQLite workspace in tmp_path."""

from __future__ import annotations

import datetime as dt
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from kpidesk.errors import ValidationError
from kpidesk.gui.views.goal_dialog import CHECK_DELAY_MS, GoalDialog, parse_number
from kpidesk.services.workspace import Workspace

TODAY = dt.date(2024, 7, 1)


@pytest.fixture
def workspace(tmp_path):
    ws = Workspace.open(tmp_path / "goals.db")
    ws.products.create("Onboard")
    kpi, _ = ws.kpis.add_custom("Onboard", "Onboarding completion", key="onboarding_completion",
                                unit="percent", aggregation="mean")
    # Jan..Jun 2024: 30, 31, 32, 33, 34, 35 (+1 point a month)
    for month, value in enumerate([30, 31, 32, 33, 34, 35], start=1):
        ws.measurements.record(kpi.id, dt.date(2024, month, 1), value)
    yield ws
    ws.close()


def verdicts(dialog: GoalDialog) -> dict[str, str]:
    return {f.letter: f.verdict.value for f in dialog.findings}


def test_live_smart_check_follows_typing(qtbot, workspace):
    dialog = GoalDialog(workspace, None, today=TODAY)
    qtbot.addWidget(dialog)
    # empty form: no statement → S fails, no target → M fails, no why → R fails
    assert verdicts(dialog)["S"] == "fail"
    assert verdicts(dialog)["M"] == "fail"
    assert verdicts(dialog)["R"] == "fail"
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Save).isEnabled()

    qtbot.keyClicks(dialog.statement_edit, "Increase onboarding completion to 37")
    qtbot.keyClicks(dialog.target_edit, "37")
    qtbot.keyClicks(dialog.rationale_edit, "Activation drives paid conversion for us")
    # nothing re-checked until the user pauses typing
    assert verdicts(dialog)["S"] == "fail"
    with qtbot.waitSignal(dialog.checked, timeout=CHECK_DELAY_MS * 8):
        pass
    found = verdicts(dialog)
    assert found["S"] == "pass"
    assert found["M"] == "pass"
    assert found["R"] == "pass"
    # 35 → 37 in a quarter is +0.67/month, below the +1/month seen: achievable
    assert found["A"] == "pass"
    assert dialog.smart_panel.badges["S"].text() == "pass"
    assert "Onboarding completion" in dialog.smart_panel.sentences["S"].text()
    assert dialog.buttons.button(QDialogButtonBox.StandardButton.Save).isEnabled()

    # an ask far beyond history: 35 → 80 in a quarter is 15 points/month vs +1 seen
    dialog.target_edit.clear()
    qtbot.keyClicks(dialog.target_edit, "80")
    with qtbot.waitSignal(dialog.checked, timeout=CHECK_DELAY_MS * 8):
        pass
    assert verdicts(dialog)["A"] == "fail"


def test_baseline_hint_and_relative_target(qtbot, workspace):
    dialog = GoalDialog(workspace, None, today=TODAY)
    qtbot.addWidget(dialog)
    # start 2024-07-01 → baseline is June's 35
    assert "35" in dialog.baseline_edit.placeholderText()
    assert "Jun 2024" in dialog.baseline_edit.placeholderText()
    dialog.target_mode.setCurrentIndex(dialog.target_mode.findData("percent"))
    qtbot.keyClicks(dialog.target_edit, "+25%")
    dialog.run_check()
    fields = dialog.fields()
    assert fields["target_value"] is None
    assert fields["relative_change"] == 25.0
    assert fields["relative_mode"] == "percent"
    # 35 × 1.25 = 43.75 is measurable (a numeric target resolves from the baseline)
    assert verdicts(dialog)["M"] == "pass"
    assert dialog.resolved_label.text() == "= 43.75 (from the baseline 35)"
    # 5 points on 35 → 40
    dialog.target_mode.setCurrentIndex(dialog.target_mode.findData("absolute"))
    dialog.target_edit.setText("5")
    dialog.run_check()
    assert dialog.resolved_label.text() == "= 40 (from the baseline 35)"


def test_band_kind_shows_band_fields_and_validates(qtbot, workspace):
    dialog = GoalDialog(workspace, None, today=TODAY)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("keep_in_band"))
    assert dialog.band_low_edit.isVisible()
    assert not dialog.target_edit.isVisible()
    qtbot.keyClicks(dialog.band_low_edit, "40")
    qtbot.keyClicks(dialog.band_high_edit, "30")
    dialog.run_check()
    assert "band low 40 must be below the band high 30" in dialog.problem
    assert dialog.problem_label.isVisible()


def test_bad_number_is_a_sentence_not_a_crash(qtbot, workspace):
    dialog = GoalDialog(workspace, None, today=TODAY)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.target_edit, "lots")
    dialog.run_check()
    assert dialog.problem == "Target: 'lots' is not a number."


def test_save_passes_fields_and_keeps_dialog_open_on_refusal(qtbot, workspace):
    calls = []

    def refuse(fields):
        calls.append(fields)
        raise ValidationError("Onboard already has a goal with that statement.")

    dialog = GoalDialog(workspace, None, today=TODAY, on_save=refuse)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.statement_edit, "Increase onboarding completion to 37")
    qtbot.keyClicks(dialog.target_edit, "37")
    qtbot.keyClicks(dialog.owner_edit, "Ana")
    dialog.objective_combo.setEditText("Grow activation")
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)
    assert calls
    fields = calls[0]
    assert fields["target_value"] == 37.0
    assert fields["kind"] == "increase_to"
    assert fields["owner"] == "Ana"
    assert fields["objective"] == "Grow activation"
    assert fields["start_date"] == TODAY
    assert fields["due_date"] == TODAY + dt.timedelta(days=91)
    assert dialog.result() == 0  # still open
    assert dialog.problem == "Onboard already has a goal with that statement."


def test_edit_loads_existing_goal(qtbot, workspace):
    kpi = workspace.kpis.list()[0]
    goal = {"kpi_id": kpi.id, "statement": "Keep completion above 30", "kind": "stay_above",
            "target_value": 30.0, "start_date": dt.date(2024, 1, 1), "due_date": dt.date(2024, 12, 31),
            "owner": "Bo", "rationale": "", "confidence": 7}
    dialog = GoalDialog(workspace, None, goal=goal, today=TODAY)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Edit goal"
    fields = dialog.fields()
    assert fields["kind"] == "stay_above"
    assert fields["target_value"] == 30.0
    assert fields["confidence"] == 7
    assert fields["due_date"] == dt.date(2024, 12, 31)


@pytest.mark.parametrize(("text", "number"), [("12,5", 12.5), ("1,234.5", 1234.5), ("+25%", 25.0),
                                              ("\u22123", -3.0), ("", None)])
def test_parse_number(text, number):
    assert parse_number(text, "Target") == number


def tab_order(start, count):
    """The widgets Tab visits from ``start`` (the focus chain, skipping what Tab skips)."""
    order, widget = [], start
    while len(order) < count:
        widget = widget.nextInFocusChain()
        if widget.isVisible() and widget.isEnabled() and widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            order.append(widget)
    return order


def test_keyboard_alone_fills_and_saves_a_goal(qtbot, workspace):
    """Tab visits the fields in reading order, and Enter in a field saves (the default button)."""
    saved = []
    dialog = GoalDialog(workspace, None, today=TODAY, on_save=lambda fields: saved.append(fields))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    order = tab_order(dialog.kpi_combo, 8)
    assert order[:4] == [dialog.statement_edit, dialog.kind_combo, dialog.target_mode, dialog.target_edit]
    assert dialog.baseline_edit in order and dialog.start_date in order
    qtbot.keyClicks(dialog.statement_edit, "Increase onboarding completion to 37")
    qtbot.keyClicks(dialog.target_edit, "37")
    qtbot.keyClick(dialog.target_edit, Qt.Key.Key_Return)
    assert len(saved) == 1
    assert saved[0]["target_value"] == 37.0
    assert saved[0]["statement"] == "Increase onboarding completion to 37"
    assert dialog.result() == dialog.DialogCode.Accepted


def test_edit_loads_a_relative_goal_in_units(qtbot, workspace):
    kpi = workspace.kpis.list()[0]
    goal = {"kpi_id": kpi.id, "statement": "Raise onboarding completion by 5 points", "kind": "increase_to",
            "target_value": None, "relative_change": 5.0, "relative_mode": "absolute",
            "start_date": dt.date(2024, 7, 1), "due_date": dt.date(2024, 12, 31)}
    dialog = GoalDialog(workspace, None, goal=goal, today=TODAY)
    qtbot.addWidget(dialog)
    fields = dialog.fields()
    assert (fields["target_value"], fields["relative_change"], fields["relative_mode"]) == (None, 5.0, "absolute")
    assert dialog.target_mode.currentText() == "Change in units"
    assert dialog.resolved_label.text() == "= 40 (from the baseline 35)"  # June's 35 + 5


def test_live_check_knows_a_percentage_cannot_pass_100(qtbot, workspace):
    """+200 % on the June baseline 35 % resolves to 105 %: not a value a completion rate can take.

    The saved goal's check (goal service) has said so all along; the live check in the
    dialog let it pass as measurable.
    """
    dialog = GoalDialog(workspace, None, today=TODAY)
    qtbot.addWidget(dialog)
    dialog.target_mode.setCurrentIndex(dialog.target_mode.findData("percent"))
    qtbot.keyClicks(dialog.target_edit, "+200%")
    dialog.run_check()
    measurable = next(f for f in dialog.findings if f.letter == "M")
    assert measurable.verdict.value == "fail"
    assert "outside the values Onboarding completion can take" in measurable.sentence

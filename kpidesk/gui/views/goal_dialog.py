"""Create or edit a goal, with the SMART check running live as the user types.

The dialog gathers the goal's fields into a plain dict named after the
``goal`` table's columns (``kpi_id``, ``statement``, ``kind``, ...). It does not
write: the caller passes ``on_save(fields) -> Changes`` (the goal service), and a
refused goal (a ``KpideskError``) keeps the dialog open with the sentence shown,
so the user can fix it without retyping.

The SMART check (:func:`kpidesk.domain.goals.check_smart`) is pure Python over
the KPI's series, a few hundred points at most, so it runs on the GUI thread —
but only after the user pauses typing for :data:`CHECK_DELAY_MS`, so a fast
typist never waits on it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kpidesk.domain.enums import GoalKind
from kpidesk.domain.goals import Goal, SmartFinding, Verdict, check_smart, validate_goal
from kpidesk.domain.goals.model import RELATIVE_ABSOLUTE, RELATIVE_PERCENT, default_baseline, resolve_target
from kpidesk.domain.periods import period_label
from kpidesk.errors import KpideskError
from kpidesk.gui.errors import error_dialog
from kpidesk.services.goal_service import kpi_info

#: Pause after the last keystroke before the SMART check runs again.
CHECK_DELAY_MS = 250

#: Verdict colours: readable on light and dark palettes (mid-tone fills, white text).
VERDICT_COLOURS = {
    Verdict.PASS: "#2e7d32",
    Verdict.WARN: "#b26a00",
    Verdict.FAIL: "#c62828",
}

TARGET_ABSOLUTE = "target"  # distinct from RELATIVE_ABSOLUTE ("absolute" change in units)


def parse_number(text: str, what: str) -> float | None:
    """A number typed by the user, or None when blank.

    Accepts a decimal comma when there is no point ("12,5"), thousands
    separators ("1,234.5"), a leading "+" and a trailing "%" (goal targets
    are typed the way they are said: "+25%").
    """
    cleaned = text.strip().replace("\u2212", "-").replace(" ", "").rstrip("%")
    if not cleaned:
        return None
    if "," in cleaned and "." not in cleaned and cleaned.count(",") == 1:
        cleaned = cleaned.replace(",", ".")
    cleaned = cleaned.replace(",", "")
    try:
        return float(cleaned)
    except ValueError:
        raise KpideskError(
            QDialog.tr("{0}: '{1}' is not a number.").format(what, text.strip())
        ) from None


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(qdate: QDate) -> dt.date:
    return dt.date(qdate.year(), qdate.month(), qdate.day())



def plain_number(value: float) -> str:
    """A number as a person writes it: 17,511 or 0.4213, never 1.751e+04 (four significant digits, at
    least the whole part)."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = min(10, max(0, 3 - math.floor(math.log10(abs(value)))))
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class SmartPanel(QFrame):
    """Five rows, one per SMART letter: a coloured verdict badge and the sentence."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(self)
        grid.setColumnStretch(2, 1)
        grid.setHorizontalSpacing(10)
        self.badges: dict[str, QLabel] = {}
        self.sentences: dict[str, QLabel] = {}
        names = {
            "S": self.tr("Specific"), "M": self.tr("Measurable"), "A": self.tr("Achievable"),
            "R": self.tr("Relevant"), "T": self.tr("Time-bound"),
        }
        for row, (letter, name) in enumerate(names.items()):
            badge = QLabel("–")
            badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
            badge.setMinimumWidth(44)
            title = QLabel(f"<b>{letter}</b> {name}")
            sentence = QLabel("")
            sentence.setWordWrap(True)
            sentence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(badge, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(title, row, 1, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(sentence, row, 2)
            self.badges[letter] = badge
            self.sentences[letter] = sentence

    def show_findings(self, findings: list[SmartFinding]) -> None:
        labels = {Verdict.PASS: self.tr("pass"), Verdict.WARN: self.tr("warn"), Verdict.FAIL: self.tr("fail")}
        for finding in findings:
            badge = self.badges[finding.letter]
            badge.setText(labels[finding.verdict])
            badge.setStyleSheet(
                f"background:{VERDICT_COLOURS[finding.verdict]}; color:white; border-radius:3px; padding:1px 4px;"
            )
            badge.setAccessibleName(f"{finding.name}: {finding.verdict.value}")
            self.sentences[finding.letter].setText(finding.sentence)

    def clear(self, sentence: str) -> None:
        for letter, badge in self.badges.items():
            badge.setText("–")
            badge.setStyleSheet("")
            self.sentences[letter].setText(sentence if letter == "S" else "")


class GoalDialog(QDialog):
    """Create (``goal=None``) or edit a goal.

    ``goal`` is a dict of the goal's fields (the ``goal`` table's column names)
    when editing; ``kpi_id`` preselects the KPI for a new goal; ``objectives``
    is a list of ``(id, title)`` to offer; ``today`` fixes the creation date
    the Time-bound check uses (tests).
    """

    checked = Signal(list)  # the SMART findings after each (debounced) check

    def __init__(
        self,
        workspace: Any,
        runner: Any = None,
        parent: QWidget | None = None,
        *,
        goal: dict[str, Any] | None = None,
        kpi_id: int | None = None,
        objectives: list[tuple[int, str]] | None = None,
        on_save: Callable[[dict[str, Any]], Any] | None = None,
        today: dt.date | None = None,
    ) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self._runner = runner  # the page contract; the live check is quick enough for the GUI thread
        self._on_save = on_save
        self._today = today or dt.date.today()
        self._editing = goal or {}
        self._series_cache: dict[int, list[tuple[dt.date, float]]] = {}
        self.findings: list[SmartFinding] = []
        self.problem = ""
        self.saved_changes: Any = None  # what on_save returned (the service's Changes)
        self.saved_fields: dict[str, Any] = {}
        self.setWindowTitle(self.tr("Edit goal") if goal else self.tr("New goal"))
        self.setMinimumWidth(760)

        self._build(objectives or [])
        self._load(goal, kpi_id)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(CHECK_DELAY_MS)
        self._timer.timeout.connect(self.run_check)
        self._connect_edits()
        self.baseline_date.setEnabled(bool(self.baseline_edit.text().strip()))
        self._update_target_widgets()
        self.run_check()

    # -- building ---------------------------------------------------------------------------------
    def _build(self, objectives: list[tuple[int, str]]) -> None:
        form = QFormLayout()
        self.form = form
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.kpi_combo = QComboBox()
        self.kpi_combo.setToolTip(self.tr("The KPI this goal is set on"))
        products = {p.id: p.name for p in self._workspace.products.list()}
        self._kpis: dict[int, Any] = {}
        for kpi in self._workspace.kpis.list():
            self._kpis[kpi.id] = kpi
            self.kpi_combo.addItem(f"{products.get(kpi.product_id, '?')} — {kpi.name}", kpi.id)
        form.addRow(self.tr("&KPI:"), self.kpi_combo)

        self.statement_edit = QLineEdit()
        self.statement_edit.setPlaceholderText(self.tr("e.g. Increase onboarding completion by 25% this quarter"))
        form.addRow(self.tr("&Statement:"), self.statement_edit)

        self.kind_combo = QComboBox()
        kinds = {
            GoalKind.INCREASE_TO: self.tr("Increase to"), GoalKind.DECREASE_TO: self.tr("Decrease to"),
            GoalKind.STAY_ABOVE: self.tr("Stay above"), GoalKind.STAY_BELOW: self.tr("Stay below"),
            GoalKind.KEEP_IN_BAND: self.tr("Keep within a band"),
        }
        for kind, label in kinds.items():
            self.kind_combo.addItem(label, kind.value)
        form.addRow(self.tr("K&ind:"), self.kind_combo)

        target_row = QHBoxLayout()
        self.target_mode = QComboBox()
        self.target_mode.addItem(self.tr("Target value"), TARGET_ABSOLUTE)
        self.target_mode.addItem(self.tr("Change in %"), RELATIVE_PERCENT)
        self.target_mode.addItem(self.tr("Change in units"), RELATIVE_ABSOLUTE)
        self.target_edit = QLineEdit()
        self.target_edit.setPlaceholderText(self.tr("e.g. 50"))
        target_row.addWidget(self.target_mode)
        target_row.addWidget(self.target_edit, 1)
        self.resolved_label = QLabel("")  # "= 43.75 (from the baseline 35)" for relative targets
        self.resolved_label.setObjectName("resolvedTarget")
        target_row.addWidget(self.resolved_label)
        self.target_label = QLabel(self.tr("&Target:"))
        self.target_label.setBuddy(self.target_mode)
        form.addRow(self.target_label, target_row)

        band_row = QHBoxLayout()
        self.band_low_edit = QLineEdit()
        self.band_low_edit.setPlaceholderText(self.tr("low"))
        self.band_high_edit = QLineEdit()
        self.band_high_edit.setPlaceholderText(self.tr("high"))
        band_row.addWidget(self.band_low_edit)
        band_row.addWidget(QLabel("–"))
        band_row.addWidget(self.band_high_edit)
        self.band_label = QLabel(self.tr("&Band:"))
        self.band_label.setBuddy(self.band_low_edit)
        form.addRow(self.band_label, band_row)

        baseline_row = QHBoxLayout()
        self.baseline_edit = QLineEdit()
        self.baseline_date = QDateEdit()
        self.baseline_date.setCalendarPopup(True)
        self.baseline_date.setDisplayFormat("yyyy-MM-dd")
        self.baseline_date.setEnabled(False)
        baseline_row.addWidget(self.baseline_edit, 1)
        baseline_row.addWidget(QLabel(self.tr("on")))
        baseline_row.addWidget(self.baseline_date)
        self.baseline_label = QLabel(self.tr("Base&line:"))
        self.baseline_label.setBuddy(self.baseline_edit)
        form.addRow(self.baseline_label, baseline_row)

        dates_row = QHBoxLayout()
        self.start_date = QDateEdit()
        self.due_date = QDateEdit()
        for edit in (self.start_date, self.due_date):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        dates_row.addWidget(self.start_date)
        dates_row.addWidget(QLabel(self.tr("to")))
        dates_row.addWidget(self.due_date)
        dates_row.addStretch(1)
        dates_label = QLabel(self.tr("St&art – due:"))
        dates_label.setBuddy(self.start_date)
        form.addRow(dates_label, dates_row)

        self.owner_edit = QLineEdit()
        form.addRow(self.tr("&Owner:"), self.owner_edit)

        self.objective_combo = QComboBox()
        self.objective_combo.setEditable(True)
        self.objective_combo.addItem("", None)
        for objective_id, title in objectives:
            self.objective_combo.addItem(title, objective_id)
        self.objective_combo.setToolTip(self.tr("The objective this goal serves (choose one or type a new title)"))
        form.addRow(self.tr("Ob&jective:"), self.objective_combo)

        self.rationale_edit = QPlainTextEdit()
        self.rationale_edit.setPlaceholderText(self.tr("Why this goal matters"))
        self.rationale_edit.setTabChangesFocus(True)
        self.rationale_edit.setFixedHeight(56)
        form.addRow(self.tr("&Why:"), self.rationale_edit)

        self.confidence_spin = QSpinBox()
        self.confidence_spin.setRange(0, 10)
        self.confidence_spin.setSpecialValueText(self.tr("not set"))
        self.confidence_spin.setMaximumWidth(120)
        self.confidence_spin.setToolTip(self.tr("How confident the team is, 1 (not at all) to 10 (certain)"))
        form.addRow(self.tr("&Confidence:"), self.confidence_spin)

        self.smart_panel = SmartPanel()
        self.problem_label = QLabel("")
        self.problem_label.setObjectName("goalProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(f"color:{VERDICT_COLOURS[Verdict.FAIL]};")
        self.problem_label.hide()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        smart_title = QLabel(self.tr("<b>SMART check</b> (updates as you type)"))
        layout.addWidget(smart_title)
        layout.addWidget(self.smart_panel)
        layout.addWidget(self.problem_label)
        layout.addStretch(1)  # a taller dialog grows here, not between the form's rows
        layout.addWidget(self.buttons)

    def _load(self, goal: dict[str, Any] | None, kpi_id: int | None) -> None:
        today = self._today
        if goal is None:
            if kpi_id is not None:
                self._select_data(self.kpi_combo, kpi_id)
            start = today
            due = today + dt.timedelta(days=91)
            self.start_date.setDate(_qdate(start))
            self.due_date.setDate(_qdate(due))
            return
        self._select_data(self.kpi_combo, goal["kpi_id"])
        self.statement_edit.setText(goal.get("statement") or "")
        self._select_data(self.kind_combo, str(goal.get("kind") or GoalKind.INCREASE_TO.value))
        if goal.get("target_value") is not None:
            self._select_data(self.target_mode, TARGET_ABSOLUTE)
            self.target_edit.setText(f"{goal['target_value']:g}")
        elif goal.get("relative_change") is not None:
            self._select_data(self.target_mode, goal.get("relative_mode") or RELATIVE_PERCENT)
            self.target_edit.setText(f"{goal['relative_change']:g}")
        for key, edit in (("band_low", self.band_low_edit), ("band_high", self.band_high_edit),
                          ("baseline_value", self.baseline_edit)):
            if goal.get(key) is not None:
                edit.setText(f"{goal[key]:g}")
        if goal.get("baseline_date"):
            self.baseline_date.setDate(_qdate(goal["baseline_date"]))
        self.start_date.setDate(_qdate(goal["start_date"]))
        self.due_date.setDate(_qdate(goal["due_date"]))
        self.owner_edit.setText(goal.get("owner") or "")
        if goal.get("objective_id") is not None:
            self._select_data(self.objective_combo, goal["objective_id"])
        elif goal.get("objective"):
            self.objective_combo.setEditText(goal["objective"])
        self.rationale_edit.setPlainText(goal.get("rationale") or "")
        self.confidence_spin.setValue(goal.get("confidence") or 0)

    @staticmethod
    def _select_data(combo: QComboBox, data: Any) -> None:
        index = combo.findData(data)
        if index >= 0:
            combo.setCurrentIndex(index)

    def _connect_edits(self) -> None:
        schedule = self.schedule_check
        for edit in (self.statement_edit, self.target_edit, self.band_low_edit, self.band_high_edit,
                     self.baseline_edit, self.owner_edit):
            edit.textChanged.connect(schedule)
        self.rationale_edit.textChanged.connect(schedule)
        for combo in (self.kpi_combo, self.kind_combo, self.target_mode):
            combo.currentIndexChanged.connect(schedule)
        self.objective_combo.editTextChanged.connect(schedule)
        self.objective_combo.currentIndexChanged.connect(schedule)
        self.start_date.dateChanged.connect(schedule)
        self.due_date.dateChanged.connect(schedule)
        self.confidence_spin.valueChanged.connect(schedule)
        self.kind_combo.currentIndexChanged.connect(self._update_target_widgets)
        self.target_mode.currentIndexChanged.connect(self._update_target_widgets)
        self.baseline_edit.textChanged.connect(
            lambda text: self.baseline_date.setEnabled(bool(text.strip()))
        )

    def _update_target_widgets(self) -> None:
        band = self.kind_combo.currentData() == GoalKind.KEEP_IN_BAND.value
        # hide whole form rows: hidden widgets alone leave their row's spacing (and the "–") behind
        self.form.setRowVisible(self.target_label, not band)
        self.form.setRowVisible(self.band_label, band)
        mode = self.target_mode.currentData()
        self.target_edit.setPlaceholderText(
            {TARGET_ABSOLUTE: self.tr("e.g. 50"), RELATIVE_PERCENT: self.tr("e.g. 25 (%)"),
             RELATIVE_ABSOLUTE: self.tr("e.g. 5")}[mode]
        )

    # -- the live check ---------------------------------------------------------------------------
    def schedule_check(self, *_: Any) -> None:
        """Restart the debounce timer: the check runs once the user pauses.

        Save is enabled meanwhile: the form may have become valid, and Save
        re-runs the check anyway before anything is written.
        """
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(True)
        self._timer.start()

    def current_kpi(self) -> Any:
        return self._kpis.get(self.kpi_combo.currentData())

    def _series(self, kpi_id: int) -> list[tuple[dt.date, float]]:
        """The KPI's total values, read once per KPI through the goal service (a plain
        query, no pandas: the dialog opens fast and the check stays on the GUI thread)."""
        if kpi_id not in self._series_cache:
            from kpidesk.services.goal_service import GoalService

            self._series_cache[kpi_id] = GoalService(self._workspace.db).series(kpi_id)
        return self._series_cache[kpi_id]

    def fields(self) -> dict[str, Any]:
        """The goal as typed, keyed by the ``goal`` table's columns (raises KpideskError on a bad number)."""
        kind = GoalKind(self.kind_combo.currentData())
        mode = self.target_mode.currentData()
        typed_target = parse_number(self.target_edit.text(), self.tr("Target"))
        baseline = parse_number(self.baseline_edit.text(), self.tr("Baseline"))
        objective_text = self.objective_combo.currentText().strip()
        objective_id = self.objective_combo.currentData()
        if objective_id is not None and self.objective_combo.itemText(self.objective_combo.currentIndex()) != objective_text:
            objective_id = None  # the user typed a new title over the chosen one
        band = kind is GoalKind.KEEP_IN_BAND
        return {
            "kpi_id": self.kpi_combo.currentData(),
            "statement": self.statement_edit.text().strip(),
            "kind": kind.value,
            "target_value": typed_target if (not band and mode == TARGET_ABSOLUTE) else None,
            "relative_change": typed_target if (not band and mode != TARGET_ABSOLUTE) else None,
            "relative_mode": mode if (not band and mode != TARGET_ABSOLUTE and typed_target is not None) else "",
            "band_low": parse_number(self.band_low_edit.text(), self.tr("Band low")) if band else None,
            "band_high": parse_number(self.band_high_edit.text(), self.tr("Band high")) if band else None,
            "baseline_value": baseline,
            "baseline_date": _pydate(self.baseline_date.date()) if baseline is not None else None,
            "start_date": _pydate(self.start_date.date()),
            "due_date": _pydate(self.due_date.date()),
            "owner": self.owner_edit.text().strip(),
            "objective_id": objective_id,
            "objective": objective_text,
            "rationale": self.rationale_edit.toPlainText().strip(),
            "confidence": self.confidence_spin.value() or None,
        }

    def domain_goal(self, fields: dict[str, Any]) -> Goal:
        kpi = self._kpis[fields["kpi_id"]]
        return Goal(
            kpi_key=kpi.key, kind=GoalKind(fields["kind"]), start=fields["start_date"], due=fields["due_date"],
            target_value=fields["target_value"], relative_change=fields["relative_change"],
            relative_mode=fields["relative_mode"], band_low=fields["band_low"], band_high=fields["band_high"],
            baseline_value=fields["baseline_value"], baseline_date=fields["baseline_date"],
            statement=fields["statement"], owner=fields["owner"], objective=fields["objective"],
            rationale=fields["rationale"], confidence=fields["confidence"],
        )

    def run_check(self) -> list[SmartFinding]:
        """Run the SMART check on the form as it stands now and show the findings."""
        self._timer.stop()
        kpi = self.current_kpi()
        if kpi is None:
            self.smart_panel.clear(self.tr("Create a KPI first: a goal is set on a KPI."))
            self._set_problem(self.tr("There is no KPI to set a goal on."))
            self.findings = []
            self.checked.emit([])
            return []
        info = kpi_info(kpi)  # with the values the KPI can take, as the saved goal's check has them
        series = self._series(kpi.id)
        self._show_baseline_hint(series, kpi)
        try:
            fields = self.fields()
            goal = self.domain_goal(fields)
        except KpideskError as exc:
            self._set_problem(exc.message)
            self.checked.emit(self.findings)
            return self.findings
        self._show_resolved_target(goal, series, kpi)
        created = self._editing.get("created") or self._today
        self.findings = check_smart(goal, info, series, created=created)
        self.smart_panel.show_findings(self.findings)
        try:
            validate_goal(goal)
        except KpideskError as exc:
            self._set_problem(exc.message)
        else:
            self._set_problem("")
        self.checked.emit(self.findings)
        return self.findings

    def _show_resolved_target(self, goal: Goal, series: list[tuple[dt.date, float]], kpi: Any) -> None:
        """For a relative target, the absolute value it comes to (resolve_target on the baseline)."""
        text = ""
        if goal.target_value is None and goal.relative_change is not None:
            with_baseline = goal.with_baseline(series, kpi.frequency)
            try:
                target = resolve_target(with_baseline)
            except KpideskError:
                target = None
            if target is not None and with_baseline.baseline_value is not None:
                text = self.tr("= {0} (from the baseline {1})").format(
                    plain_number(target), plain_number(with_baseline.baseline_value))
            else:
                text = self.tr("needs a baseline")
        self.resolved_label.setText(text)
        self.resolved_label.setVisible(bool(text))

    def _show_baseline_hint(self, series: list[tuple[dt.date, float]], kpi: Any) -> None:
        start = _pydate(self.start_date.date())
        found = default_baseline(series, start, kpi.frequency)
        if found is None:
            self.baseline_edit.setPlaceholderText(self.tr("no data yet: type the starting value"))
        else:
            self.baseline_edit.setPlaceholderText(
                self.tr("from the data: {0} ({1})").format(plain_number(found[1]),
                                                           period_label(found[0], kpi.frequency))
            )
            if not self.baseline_edit.text().strip():  # show the date the data's baseline comes from
                self.baseline_date.blockSignals(True)
                self.baseline_date.setDate(_qdate(found[0]))
                self.baseline_date.blockSignals(False)

    def _set_problem(self, text: str) -> None:
        self.problem = text
        self.problem_label.setText(text)
        self.problem_label.setVisible(bool(text))
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(not text)

    # -- saving -----------------------------------------------------------------------------------
    def accept(self) -> None:
        self.run_check()
        if self.problem:
            return
        fields = self.fields()
        if self._on_save is not None:
            try:
                self.saved_changes = self._on_save(fields)
            except KpideskError as exc:
                self._set_problem(exc.message)
                return
            except Exception as exc:  # a bug: tell the user, keep what they typed
                error_dialog(self, exc)
                return
        self.saved_fields = fields
        super().accept()

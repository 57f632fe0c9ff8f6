"""The Goals page: goals grouped by objective, with status, progress, pace, forecast
at the due date and its probability, the SMART findings and the check-ins.

Loading evaluates every goal (series, forecasts), so it runs in the task
runner; the page shows the last result until the new one arrives (newest
request wins, keyed ``"goals-page"``). Writes (new/edit goal, check-in,
archive) go through :class:`kpidesk.services.goal_service.GoalService`, then the
page emits ``changed`` with the service's :class:`Changes` and reloads.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QDate, QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QKeySequence, QPainter, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from kpidesk.errors import KpideskError
from kpidesk.gui.errors import error_dialog
from kpidesk.gui.models.goal_tree_model import (
    STATUS_COLOURS,
    CheckinTableModel,
    GoalRow,
    GoalTreeModel,
    ObjectiveGroup,
    ProgressRole,
    RowRole,
    chance_text,
    interval_text,
    load_goal_board,
)
from kpidesk.gui.views.goal_dialog import GoalDialog, SmartPanel, parse_number
from kpidesk.services.changes import Changes

#: Tables whose change makes the page reload.
WATCHED = ("goal", "checkin", "objective", "measurement", "kpi", "product", "target")


class ProgressDelegate(QStyledItemDelegate):
    """Paints the progress column as a slim bar with the percentage beside it.

    Painted by hand rather than with the style's progress bar: a native bar
    squeezed into a table row clips its own text.
    """

    TEXT_WIDTH = 44

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        fraction = index.data(ProgressRole)
        if fraction is None:
            super().paint(painter, option, index)
            return
        rect = QRect(option.rect)  # type: ignore[attr-defined]
        palette = option.palette  # type: ignore[attr-defined]
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if selected:
            painter.fillRect(rect, palette.highlight())
        bar = rect.adjusted(4, 0, -(self.TEXT_WIDTH + 6), 0)
        bar.setTop(rect.center().y() - 4)
        bar.setHeight(8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.mid())
        painter.drawRoundedRect(bar, 4, 4)
        filled = QRect(bar)
        filled.setWidth(round(bar.width() * max(0.0, min(1.0, float(fraction)))))
        if filled.width() > 0:
            painter.setBrush(palette.highlightedText() if selected else palette.highlight())
            painter.drawRoundedRect(filled, 4, 4)
        text_rect = QRect(bar.right() + 6, rect.top(), self.TEXT_WIDTH, rect.height())
        painter.setPen(palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text))
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                         f"{float(fraction):.0%}")
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(max(hint.width(), 130), hint.height())


class CheckinDialog(QDialog):
    """A dated check-in: value snapshot, confidence 1–10 and a note."""

    def __init__(self, goal_title: str, parent: QWidget | None = None, *, today: dt.date | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Check in"))
        day = today or dt.date.today()
        form = QFormLayout(self)
        form.addRow(QLabel(f"<b>{goal_title}</b>"))
        self.date_edit = QDateEdit()
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.setDate(QDate(day.year, day.month, day.day))
        self.value_edit = QLineEdit()
        self.value_edit.setPlaceholderText(self.tr("the KPI's value today (optional)"))
        self.confidence_spin = QSpinBox()
        self.confidence_spin.setRange(0, 10)
        self.confidence_spin.setSpecialValueText(self.tr("not set"))
        self.note_edit = QLineEdit()
        form.addRow(self.tr("&Date:"), self.date_edit)
        form.addRow(self.tr("&Value:"), self.value_edit)
        form.addRow(self.tr("&Confidence:"), self.confidence_spin)
        form.addRow(self.tr("&Note:"), self.note_edit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict[str, Any]:
        qd = self.date_edit.date()
        return {
            "day": dt.date(qd.year(), qd.month(), qd.day()),
            "value": parse_number(self.value_edit.text(), self.tr("Value")),
            "confidence": self.confidence_spin.value() or None,
            "note": self.note_edit.text().strip(),
        }


class GoalDetail(QWidget):
    """The right-hand panel: one goal in full, or one objective's summary."""

    checkin_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.title = QLabel()
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = QLabel()
        self.subtitle.setWordWrap(True)
        self.status = QLabel()
        self.status.setObjectName("goalStatus")
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        figures = QGridLayout()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setFormat("%p %")
        self.pace = QLabel()
        self.forecast = QLabel()
        self.forecast.setWordWrap(True)
        self.chance = QLabel()
        self.reach = QLabel()
        for row, (label, widget) in enumerate([
            (self.tr("Progress"), self.progress_bar), (self.tr("Pace"), self.pace),
            (self.tr("Forecast at due"), self.forecast), (self.tr("Chance of meeting it"), self.chance),
            (self.tr("Target reached"), self.reach),
        ]):
            figures.addWidget(QLabel(label), row, 0)
            figures.addWidget(widget, row, 1)
        figures.setColumnStretch(1, 1)

        self.smart_title = QLabel(self.tr("<b>SMART check</b>"))
        self.smart = SmartPanel()
        self.checkin_title = QLabel(self.tr("<b>Check-ins</b>"))
        self.checkins_model = CheckinTableModel(self)
        self.checkins = QTableView()
        self.checkins.setModel(self.checkins_model)
        self.checkins.verticalHeader().hide()
        self.checkins.horizontalHeader().setStretchLastSection(True)
        self.checkins.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.checkins.setMinimumHeight(120)
        self.no_checkins = QLabel(self.tr("No check-ins yet. A check-in records the value, the team's confidence "
                                          "and a note on a date; the history is kept."))
        self.no_checkins.setWordWrap(True)
        self.checkin_button = QPushButton(self.tr("Check &in…"))
        self.checkin_button.setToolTip(self.tr("Record today's value, confidence and a note for this goal"))
        self.checkin_button.clicked.connect(self.checkin_requested)

        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.status)
        layout.addWidget(self.reason)
        layout.addLayout(figures)
        layout.addWidget(self.smart_title)
        layout.addWidget(self.smart)
        checkin_header = QHBoxLayout()
        checkin_header.addWidget(self.checkin_title)
        checkin_header.addStretch(1)
        checkin_header.addWidget(self.checkin_button)
        layout.addLayout(checkin_header)
        layout.addWidget(self.no_checkins)
        layout.addWidget(self.checkins, 1)
        layout.addStretch(1)
        self._goal_widgets = [self.smart_title, self.smart, self.checkin_title, self.checkin_button]

    def _set_status(self, status: Any, text: str) -> None:
        colour = STATUS_COLOURS[status]
        self.status.setText(f"<span style='background:{colour}; color:white; padding:2px 8px;'>&nbsp;{text}&nbsp;</span>")

    def show_goal(self, row: GoalRow) -> None:
        ev = row.evaluation
        self.title.setText(ev.title)
        owner = row.fields.get("owner") or self.tr("no owner")
        self.subtitle.setText(
            self.tr("{0} · {1} · goal {2} · {3} → {4} · {5}").format(
                row.product, row.kpi_name, ev.goal_text, row.fields["start_date"].isoformat(),
                row.fields["due_date"].isoformat(), owner)
        )
        self._set_status(ev.status, self.tr(ev.status.label) + (self.tr(" (stale data)") if ev.stale else ""))
        self.reason.setText(ev.reason)
        self.progress_bar.setVisible(ev.progress is not None)
        if ev.progress is not None:
            self.progress_bar.setValue(round(max(0.0, min(1.0, ev.progress)) * 100))
            self.progress_bar.setFormat(f"{ev.progress:.0%}")
        expected = "" if ev.expected is None else self.tr(" ({0:.0%} expected by now)").format(ev.expected)
        self.pace.setText(("—" if ev.pace is None else f"{ev.pace:.0%}") + expected)
        if ev.forecast is None:
            self.forecast.setText(self.tr("— (needs at least a few values, and an open goal)"))
            self.chance.setText("—")
            self.reach.setText("—")
        else:
            fc = ev.forecast
            self.forecast.setText(interval_text(ev, row.unit, row.currency))
            self.chance.setText(chance_text(ev) or "—")
            self.reach.setText(fc.reach_text())
        self.smart.show_findings(row.findings)
        self.checkins_model.set_rows(row.checkins)
        for widget in self._goal_widgets:
            widget.setVisible(True)
        self.checkins.setVisible(bool(row.checkins))
        self.no_checkins.setVisible(not row.checkins)

    def show_group(self, group: ObjectiveGroup) -> None:
        summary = group.summary
        self.title.setText(group.title)
        self.subtitle.setText(self.tr("{0} goals").format(summary.goal_count))
        if summary.status is not None:
            self._set_status(summary.status, self.tr(summary.status.label))
        self.reason.setText(self.tr("An objective takes the status of its worst goal; its progress is the "
                                    "mean of its goals' progress."))
        self.progress_bar.setVisible(summary.average_progress is not None)
        if summary.average_progress is not None:
            self.progress_bar.setValue(round(summary.average_progress * 100))
            self.progress_bar.setFormat(f"{summary.average_progress:.0%}")
        counts = ", ".join(f"{n} {s.label}" for s, n in summary.counts.items())
        self.pace.setText(counts)
        for label in (self.forecast, self.chance, self.reach):
            label.setText("")
        for widget in [*self._goal_widgets, self.checkins, self.no_checkins]:
            widget.setVisible(False)


class GoalsPage(QWidget):
    """Goals grouped by objective; see the module docstring."""

    changed = Signal(object)
    loaded = Signal()

    def __init__(self, workspace: Any, runner: Any, parent: QWidget | None = None, *,
                 today: dt.date | None = None) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self._runner = runner
        self._today = today
        self._task: Any = None
        self.setObjectName("goalsPage")

        self.product_combo = QComboBox()
        self.product_combo.setToolTip(self.tr("Show the goals of one product or of all"))
        self.product_combo.setAccessibleName(self.tr("Product filter"))
        self.new_button = QPushButton(self.tr("&New goal…"))
        self.new_button.setToolTip(self.tr("Set a SMART goal on a KPI (Ctrl+Shift+G)"))
        self.edit_button = QPushButton(self.tr("&Edit…"))
        self.edit_button.setToolTip(self.tr("Edit the selected goal (Enter)"))
        self.archive_button = QPushButton(self.tr("&Archive"))
        self.archive_button.setToolTip(self.tr("Hide the selected goal from the list; its history is kept (Del)"))
        self.new_button.clicked.connect(self.new_goal)
        self.edit_button.clicked.connect(self.edit_selected)
        self.archive_button.clicked.connect(self.archive_selected)
        QShortcut(QKeySequence("Ctrl+Shift+G"), self, self.new_goal)

        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("&Product:"), buddy=self.product_combo))
        bar.addWidget(self.product_combo)
        bar.addStretch(1)
        bar.addWidget(self.new_button)
        bar.addWidget(self.edit_button)
        bar.addWidget(self.archive_button)

        self.model = GoalTreeModel(self)
        self.tree = QTreeView()
        # Del archives the selected goal, as the Archive button does (it asks first)
        archive = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.tree, self.archive_selected)
        archive.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.tree.setModel(self.model)
        self.tree.setItemDelegateForColumn(2, ProgressDelegate(self.tree))
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setAccessibleName(self.tr("Goals by objective"))
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, self.model.columnCount()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.selectionModel().currentChanged.connect(self._current_changed)
        self.tree.activated.connect(lambda index: self.edit_selected() if isinstance(self.model.row_at(index), GoalRow) else None)

        self.detail = GoalDetail()
        self.detail.checkin_requested.connect(self.checkin_selected)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.detail)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(scroll)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([640, 440])

        empty = QWidget()
        empty_layout = QVBoxLayout(empty)
        empty_layout.addStretch(1)
        self.empty_label = QLabel(self.tr(
            "<h3>No goals yet</h3><p>A goal says where a KPI should be, and by when — for example "
            "<i>“Increase onboarding completion by 25 % this quarter”</i>.<br>kpidesk checks that it is SMART "
            "and tells you whether you are on track.</p>"))
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        empty_button = QPushButton(self.tr("Set the first goal…"))
        empty_button.clicked.connect(self.new_goal)
        empty_layout.addWidget(self.empty_label)
        empty_layout.addWidget(empty_button, 0, Qt.AlignmentFlag.AlignHCenter)
        empty_layout.addStretch(2)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.splitter)
        self.stack.addWidget(empty)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

        self._fill_products()
        self.product_combo.currentIndexChanged.connect(lambda _: self.reload())
        self._update_buttons()
        self.reload()

    # -- services -----------------------------------------------------------------------------
    def _goals(self) -> Any:
        from kpidesk.services.goal_service import GoalService

        return GoalService(self._workspace.db)

    def today(self) -> dt.date:
        return self._today or dt.date.today()

    # -- loading ------------------------------------------------------------------------------
    def _fill_products(self) -> None:
        current = self.product_combo.currentData()
        self.product_combo.blockSignals(True)
        self.product_combo.clear()
        self.product_combo.addItem(self.tr("All products"), None)
        for product in self._workspace.products.list():
            self.product_combo.addItem(product.name, product.id)
        index = self.product_combo.findData(current)
        self.product_combo.setCurrentIndex(max(0, index))
        self.product_combo.blockSignals(False)

    def reload(self) -> None:
        """Evaluate the goals in the runner; the newest request wins."""
        workspace, today, product_id = self._workspace, self.today(), self.product_combo.currentData()
        self._task = self._runner.submit(
            lambda progress: load_goal_board(workspace, today=today, product_id=product_id),
            on_done=self._show_groups, on_error=self._load_failed, key="goals-page",
            title=self.tr("Evaluating goals"), show_progress=False,
        )

    def _load_failed(self, exc: BaseException) -> None:
        error_dialog(self, exc, title=self.tr("Goals could not be loaded"))
        self.loaded.emit()

    def _show_groups(self, groups: list[ObjectiveGroup]) -> None:
        selected = self.selected_goal()
        self.model.set_groups(groups)
        self.stack.setCurrentIndex(0 if groups else 1)
        self.tree.expandAll()
        target = self.model.index_of_goal(selected.goal_id) if selected else QModelIndex()
        if not target.isValid() and groups:
            target = self.model.index(0, 0, self.model.index(0, 0)) if groups[0].goals else self.model.index(0, 0)
        if target.isValid():
            self.tree.setCurrentIndex(target)
        self._update_buttons()
        self.loaded.emit()

    def refresh(self, changes: Changes) -> None:
        """Reload when ``changes`` touches goals or the data they are judged on."""
        if changes.touches("product"):
            self._fill_products()
        if changes.touches(*WATCHED):
            self.reload()

    # -- selection ----------------------------------------------------------------------------
    def selected_goal(self) -> GoalRow | None:
        item = self.model.row_at(self.tree.currentIndex())
        return item if isinstance(item, GoalRow) else None

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        item = current.data(RowRole) if current.isValid() else None
        if isinstance(item, GoalRow):
            self.detail.show_goal(item)
        elif isinstance(item, ObjectiveGroup):
            self.detail.show_group(item)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has_goal = self.selected_goal() is not None
        self.edit_button.setEnabled(has_goal)
        self.archive_button.setEnabled(has_goal)
        self.detail.checkin_button.setEnabled(has_goal)

    # -- writing ------------------------------------------------------------------------------
    def _emit(self, changes: Changes) -> None:
        self.changed.emit(changes)
        self.reload()

    def _objective_id(self, service: Any, fields: dict[str, Any]) -> int | None:
        """The chosen objective, or a new one when the user typed a title not in the list."""
        if fields.get("objective_id") is not None:
            return int(fields["objective_id"])
        title = (fields.get("objective") or "").strip()
        if not title:
            return None
        kpi = self._workspace.kpis.get(fields["kpi_id"])
        return service.find_or_add_objective(title, product=kpi.product_id).id

    def _save_goal(self, fields: dict[str, Any], goal_id: int | None) -> Changes:
        service = self._goals()
        values = {k: v for k, v in fields.items() if k not in ("kpi_id", "objective", "created")}
        values["objective_id"] = self._objective_id(service, fields)
        if goal_id is None:
            _row, changes = service.add(fields["kpi_id"], **values)
        else:
            _row, changes = service.update(goal_id, **values)
        return changes

    def _dialog(self, goal: dict[str, Any] | None, goal_id: int | None) -> GoalDialog:
        service = self._goals()
        objectives = [(o.id, o.title) for o in service.objectives()]
        current = self.selected_goal()
        dialog = GoalDialog(self._workspace, self._runner, self, goal=goal,
                            kpi_id=current.fields["kpi_id"] if current and goal is None else None,
                            objectives=objectives, today=self.today(),
                            on_save=lambda fields: self._save_goal(fields, goal_id))
        dialog.accepted.connect(lambda: self._emit(dialog.saved_changes or Changes.of("goal")))
        return dialog

    def new_goal(self) -> GoalDialog:
        """Open the goal dialog for a new goal (window-modal; returned for tests)."""
        dialog = self._dialog(None, None)
        dialog.open()
        return dialog

    def edit_selected(self) -> GoalDialog | None:
        row = self.selected_goal()
        if row is None:
            return None
        dialog = self._dialog(row.fields, row.goal_id)
        dialog.open()
        return dialog

    def checkin_selected(self) -> CheckinDialog | None:
        row = self.selected_goal()
        if row is None:
            return None
        dialog = CheckinDialog(row.title, self, today=self.today())

        def save() -> None:
            try:
                values = dialog.values()
                _checkin, changes = self._goals().checkin(row.goal_id, values.pop("day"), **values)
            except Exception as exc:
                error_dialog(self, exc, title=self.tr("Check-in not saved"))
                return
            self._emit(changes)

        dialog.accepted.connect(save)
        dialog.open()
        return dialog

    def archive_selected(self) -> QMessageBox | None:
        row = self.selected_goal()
        if row is None:
            return None
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Archive goal"),
                          self.tr("Archive “{0}”? It leaves the list; its history and check-ins are kept.")
                          .format(row.title),
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def done(result: int) -> None:
            if result != QMessageBox.StandardButton.Yes:
                return
            try:
                _row, changes = self._goals().archive(row.goal_id)
            except KpideskError as exc:
                error_dialog(self, exc)
                return
            self._emit(changes)

        box.finished.connect(done)
        box.open()
        return box

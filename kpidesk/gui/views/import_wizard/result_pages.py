"""Wizard steps 5 and 6: the preview of the plan (the dry run), then the summary with "Undo this import"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWizard,
)

from kpidesk.gui import theme
from kpidesk.gui.models.import_preview_model import (
    ALL,
    INSERT,
    REJECTED,
    UNCHANGED,
    UPDATE,
    PlanPreviewModel,
)
from kpidesk.gui.views.import_wizard.common import WorkPage, make_table

if TYPE_CHECKING:
    from kpidesk.gui.views.import_wizard.wizard import ImportWizard


class PreviewPage(WorkPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__(wizard)
        self.setTitle(self.tr("Preview"))
        self.setSubTitle(self.tr("Exactly what the import will do. Nothing has been written yet."))
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, self.tr("&Import"))
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.filter_combo = QComboBox()
        self.filter_combo.currentIndexChanged.connect(
            lambda _i: self.model.set_filter(self.filter_combo.currentData() or ALL)
        )
        self.model = PlanPreviewModel(self)
        self.view = make_table(self.model, self.tr("Planned values"))
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        show = QHBoxLayout()
        show_label = QLabel(self.tr("&Show:"))
        show_label.setBuddy(self.filter_combo)
        show.addWidget(show_label)
        show.addWidget(self.filter_combo)
        show.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.warnings)
        layout.addLayout(show)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.busy_row)

    def initializePage(self) -> None:
        view = self.wiz.view
        plan = view.plan
        self.summary.setText(view.summary)
        self.warnings.setText("\n".join(plan.warnings))
        self.warnings.setVisible(bool(plan.warnings))
        self.model.set_view(view)
        self.filter_combo.blockSignals(True)
        self.filter_combo.clear()
        counts = view.counts
        names = {
            ALL: self.tr("Everything"),
            INSERT: self.tr("New values"),
            UPDATE: self.tr("Changed values"),
            UNCHANGED: self.tr("Unchanged values"),
            REJECTED: self.tr("Rejected cells"),
        }
        for key, name in names.items():
            self.filter_combo.addItem(f"{name} ({counts[key]:,})", key)
        self.filter_combo.setCurrentIndex(0)
        self.filter_combo.blockSignals(False)
        self.model.set_filter(ALL)
        # narrow enough that Reason (why a cell is rejected) starts on screen at the wizard's smallest size
        for column, width in enumerate((64, 100, 90, 180, 84, 70, 80, 80)):
            self.view.setColumnWidth(column, width)
        self.show_message(
            "" if self.changes_anything() else self.tr("Nothing would change, so there is nothing to import.")
        )
        self.completeChanged.emit()

    def changes_anything(self) -> bool:
        view = self.wiz.view
        return view is not None and bool(view.counts.get(INSERT) or view.counts.get(UPDATE))

    def isComplete(self) -> bool:
        return self.changes_anything() and super().isComplete()

    def start_work(self) -> bool:
        service, plan = self.wiz.service(), self.wiz.plan

        def done(result: Any) -> None:
            self.wiz.result = result
            self.wiz.changed.emit(result.changes)

        self.run(
            lambda progress: service.apply(plan, progress=progress),
            done,
            title=self.tr("Importing {0}").format(plan.file_name),
            write=True,
        )
        return False


class SummaryPage(WorkPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__(wizard)
        self.setTitle(self.tr("Imported"))
        self.text = QLabel("")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.figures: dict[str, QLabel] = {}
        figures = QHBoxLayout()
        for key, caption in (("inserted", self.tr("new values")), ("updated", self.tr("changed")),
                             ("unchanged", self.tr("unchanged")), ("rejected", self.tr("rejected"))):
            number = QLabel("0")
            font = number.font()
            font.setPointSizeF(font.pointSizeF() * 2.2)
            font.setBold(True)
            number.setFont(font)
            box = QVBoxLayout()
            box.addWidget(number)
            box.addWidget(QLabel(caption))
            figures.addLayout(box)
            figures.addSpacing(36)
            self.figures[key] = number
        figures.addStretch(1)
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.undo_button = QPushButton(self.tr("&Undo this import"))
        self.undo_button.setToolTip(self.tr("Roll the import back exactly: new values removed, replaced values "
                                            "restored"))
        self.undo_button.clicked.connect(self.undo)
        hint = QLabel(self.tr("You can also roll it back later on the Data page."))
        theme.role(hint, theme.MUTED)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addSpacing(12)
        layout.addLayout(figures)
        layout.addSpacing(12)
        layout.addWidget(self.details)
        row = QHBoxLayout()
        row.addWidget(self.undo_button)
        row.addWidget(hint)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)
        layout.addWidget(self.message)
        layout.addWidget(self.busy_row)
        self.undone = False

    def initializePage(self) -> None:
        result, plan = self.wiz.result, self.wiz.plan
        self.undone = False
        self.text.setText(result.message)
        for key, label in self.figures.items():
            label.setText(f"{getattr(result, key):,}")
        lines = []
        if plan.new_kpis:
            lines.append(self.tr("New KPIs: {0}.").format(", ".join(k.name for k in plan.new_kpis)))
        if plan.new_products:
            lines.append(self.tr("New products: {0}.").format(", ".join(plan.new_products)))
        if plan.rejected:
            shown = [r.sentence() for r in plan.rejected[:5]]
            more = len(plan.rejected) - len(shown)
            lines.append(self.tr("Not imported: {0}").format("; ".join(shown))
                         + (self.tr(" … and {0} more.").format(more) if more else "."))
        self.details.setText("\n".join(lines))
        self.details.setVisible(bool(lines))
        self.undo_button.setEnabled(result.batch_id is not None)
        self.show_message("")

    def undo(self) -> None:
        service, batch_id = self.wiz.service(), self.wiz.result.batch_id
        if batch_id is None or self.busy:
            return

        def done(result: Any) -> None:
            self.undone = True
            self.undo_button.setEnabled(False)
            self.show_message(result.message)
            self.wiz.changed.emit(result.changes)

        self.run(
            lambda progress: service.rollback(batch_id, progress=progress),
            done,
            title=self.tr("Undoing the import"),
            write=True,
            advance=False,
        )


# ------------------------------------------------------------------------------------------ wizard

"""Wizard step 4: every label of the file and what it becomes (existing KPI, new from the catalog, custom, ignored)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from kpidesk.errors import KpideskError
from kpidesk.gui.models.import_preview_model import (
    MappingModel,
    prepare_view,
)
from kpidesk.gui.views.import_wizard.common import WorkPage, make_table

if TYPE_CHECKING:
    from kpidesk.gui.views.import_wizard.wizard import ImportWizard


class MappingPage(WorkPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__(wizard)
        self.setTitle(self.tr("Mapping"))
        self.setSubTitle(
            self.tr(
                "What each KPI of the file becomes. Matches were found by key, name and aliases; "
                "change any row below."
            )
        )
        self.model = MappingModel(self)
        self.view = make_table(self.model, self.tr("KPI mapping"))
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._load_editor(cur.row()))

        self.action_combo = QComboBox()
        self.action_combo.addItem(self.tr("Existing KPI"), "existing")
        self.action_combo.addItem(self.tr("New KPI from the catalog"), "catalog")
        self.action_combo.addItem(self.tr("New custom KPI"), "custom")
        self.action_combo.addItem(self.tr("Ignore these values"), "ignore")
        self.target_combo = QComboBox()
        self.target_combo.setMinimumContentsLength(28)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText(self.tr("name of the new KPI"))
        self.unit_combo = QComboBox()
        from kpidesk.domain.enums import Unit

        for unit in Unit:
            self.unit_combo.addItem(unit.value, unit.value)
        self.apply_button = QPushButton(self.tr("&Apply to this row"))
        self.apply_button.setToolTip(self.tr("Use this choice for the selected KPI of the file and re-plan"))
        self.apply_button.clicked.connect(self.apply_editor)
        self.action_combo.currentIndexChanged.connect(lambda _i: self._fill_targets())

        editor = QHBoxLayout()
        becomes = QLabel(self.tr("&Becomes:"))
        becomes.setBuddy(self.action_combo)
        editor.addWidget(becomes)
        editor.addWidget(self.action_combo)
        editor.addWidget(self.target_combo, 1)
        editor.addWidget(self.name_edit, 1)
        editor.addWidget(self.unit_combo)
        editor.addWidget(self.apply_button)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(editor)
        layout.addWidget(self.summary)
        layout.addWidget(self.message)
        layout.addWidget(self.busy_row)

    def initializePage(self) -> None:
        self._show_plan()
        if self.model.rowCount():
            self.view.selectRow(0)

    def _show_plan(self) -> None:
        view = self.wiz.view
        current = self.view.currentIndex().row()
        self.model.set_decisions(list(view.plan.decisions.values()), view.label_cells)
        if 0 <= current < self.model.rowCount():
            self.view.selectRow(current)
        self.summary.setText(view.summary)

    def _load_editor(self, row: int) -> None:
        decision = self.model.decision_at(row)
        if decision is None:
            return
        self.action_combo.blockSignals(True)
        self.action_combo.setCurrentIndex(max(0, self.action_combo.findData(decision.action)))
        self.action_combo.blockSignals(False)
        self._fill_targets(decision)

    def _fill_targets(self, decision: Any = None) -> None:
        decision = decision or self.model.decision_at(self.view.currentIndex().row())
        action = self.action_combo.currentData()
        self.target_combo.clear()
        self.target_combo.setVisible(action in ("existing", "catalog"))
        self.name_edit.setVisible(action == "custom")
        self.unit_combo.setVisible(action == "custom")
        if action == "existing":
            for kpi in self.wiz.product_kpis():
                self.target_combo.addItem(f"{kpi.name} ({kpi.key})", kpi.key)
        elif action == "catalog":
            for entry in sorted(self.wiz.workspace.catalog, key=lambda e: e.name.casefold()):
                self.target_combo.addItem(f"{entry.name} ({entry.key})", entry.key)
        if decision is not None:
            index = self.target_combo.findData(
                decision.catalog_key if action == "catalog" else decision.kpi_key
            )
            if index >= 0:
                self.target_combo.setCurrentIndex(index)
            self.name_edit.setText(decision.kpi_name or decision.label)
            self.unit_combo.setCurrentIndex(max(0, self.unit_combo.findData(decision.unit)))

    def editor_decision(self) -> Any:
        """The decision the editor row describes for the selected label."""
        from kpidesk.io.mapping import LabelDecision, slug

        current = self.model.decision_at(self.view.currentIndex().row())
        if current is None:
            return None
        action = self.action_combo.currentData()
        if action == "existing":
            kpi = next((k for k in self.wiz.product_kpis() if k.key == self.target_combo.currentData()), None)
            if kpi is None:
                raise KpideskError(
                    self.tr("Choose the existing KPI the values of “{0}” go to.").format(current.label)
                )
            return LabelDecision(current.label, action, kpi.key, kpi.name, unit=kpi.unit, matched_by="user")
        if action == "catalog":
            key = self.target_combo.currentData()
            if not key:
                raise KpideskError(
                    self.tr("Choose the catalog KPI to create for “{0}”.").format(current.label)
                )
            entry = self.wiz.workspace.catalog.get(key)
            taken = {k.key for k in self.wiz.product_kpis()}
            kpi_key = entry.key if entry.key not in taken else f"{entry.key}_2"
            return LabelDecision(
                current.label,
                action,
                kpi_key,
                entry.name,
                catalog_key=entry.key,
                unit=entry.unit.value,
                matched_by="user",
            )
        if action == "custom":
            name = self.name_edit.text().strip() or current.label
            return LabelDecision(
                current.label, action, slug(name), name, unit=self.unit_combo.currentData(), matched_by="user"
            )
        return LabelDecision(current.label, "ignore", matched_by="user")

    def apply_editor(self) -> None:
        try:
            decision = self.editor_decision()
        except KpideskError as exc:
            self.show_message(exc.message)
            return
        if decision is None:
            return
        self.replan({decision.label: decision})

    def replan(self, decisions: dict[str, Any]) -> None:
        """Re-plan with ``decisions`` changed (in the runner; the table updates when done)."""
        service, plan, records = self.wiz.service(), self.wiz.plan, self.wiz.records
        sheets, warnings = plan.sheets, plan.warnings

        def work(progress: Any) -> Any:
            new = service.replan(plan, decisions, records=records)
            new.sheets, new.warnings = sheets, warnings
            return new, prepare_view(new, records)

        def done(result: tuple[Any, Any]) -> None:
            self.wiz.plan, self.wiz.view = result
            self._show_plan()

        self.run(work, done, title=self.tr("Re-planning"), advance=False)

    def start_work(self) -> bool:
        return True

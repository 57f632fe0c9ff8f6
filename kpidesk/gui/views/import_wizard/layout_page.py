"""Wizard step 3: the detected layout of each sheet, shown with its reason and a preview, overridable."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kpidesk.gui.models.import_preview_model import (
    SheetPreviewModel,
    prepare_view,
)
from kpidesk.gui.views.import_wizard.common import (
    AUTO,
    PREVIEW_ROWS,
    WorkPage,
    detect_layouts,
    fit_columns,
    make_table,
)

if TYPE_CHECKING:
    from kpidesk.gui.views.import_wizard.wizard import ImportWizard


class LayoutPage(WorkPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__(wizard)
        self.setTitle(self.tr("Layout"))
        self.setSubTitle(
            self.tr("How the table is laid out. Check what was detected and correct it if needed.")
        )
        self.layouts: dict[str, Any] = {}
        self.sheet_combo = QComboBox()
        self.sheet_combo.currentIndexChanged.connect(lambda _i: self._show_sheet())
        self.kind_combo = QComboBox()
        self.kind_combo.addItem(self.tr("as detected"), AUTO)
        self.kind_combo.addItem(self.tr("long: one row per value (period, KPI, value)"), "long")
        self.kind_combo.addItem(self.tr("wide: one row per period, one column per KPI"), "wide")
        self.kind_combo.addItem(self.tr("rows: one row per KPI, one column per period"), "rows")
        self.header_spin = QSpinBox()
        self.header_spin.setRange(0, 1_048_576)
        self.header_spin.setSpecialValueText(self.tr("as detected"))
        self.year_spin = QSpinBox()
        self.year_spin.setRange(0, 2200)
        self.year_spin.setSpecialValueText(self.tr("as detected"))
        self.year_spin.setToolTip(
            self.tr('The year of month or quarter headers that do not name one ("Jan", "Q3")')
        )
        for widget in (self.kind_combo,):
            widget.currentIndexChanged.connect(lambda _i: self._override_changed())
        self.header_spin.valueChanged.connect(lambda _v: self._override_changed())
        self.year_spin.valueChanged.connect(lambda _v: self._override_changed())
        # which column plays which part; the roles shown depend on the layout kind
        self.role_combos: dict[str, QComboBox] = {}
        self.role_labels: dict[str, QLabel] = {}
        roles = {"period_col": self.tr("&Period column:"), "kpi_col": self.tr("&KPI column:"),
                 "value_col": self.tr("&Value column:"), "label_col": self.tr("KPI &names in:")}
        for role, text in roles.items():
            combo = QComboBox()
            combo.setMinimumContentsLength(18)
            combo.currentIndexChanged.connect(lambda _i: self._override_changed())
            label = QLabel(text)
            label.setBuddy(combo)
            self.role_combos[role], self.role_labels[role] = combo, label
        self.description = QLabel("")
        self.description.setWordWrap(True)
        self.description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.grid_model = SheetPreviewModel(self)
        self.grid = make_table(self.grid_model, self.tr("Sheet preview with the detected header"))

        form = QFormLayout()
        self.sheet_label = QLabel(self.tr("S&heet:"))
        self.sheet_label.setBuddy(self.sheet_combo)
        form.addRow(self.sheet_label, self.sheet_combo)
        form.addRow(self.tr("&Layout:"), self.kind_combo)
        header_row = QHBoxLayout()
        header_row.addWidget(self.header_spin)
        header_label = QLabel(self.tr("Year of bare &months:"))
        header_label.setBuddy(self.year_spin)
        header_row.addSpacing(16)
        header_row.addWidget(header_label)
        header_row.addWidget(self.year_spin)
        header_row.addStretch(1)
        header_label2 = QLabel(self.tr("Header &row:"))
        header_label2.setBuddy(self.header_spin)
        form.addRow(header_label2, header_row)
        roles_row = QHBoxLayout()
        self.role_boxes: dict[str, QWidget] = {}
        for role, combo in self.role_combos.items():
            box = QWidget()  # label + combo hidden together, so hidden roles leave no gap
            box_layout = QHBoxLayout(box)
            box_layout.setContentsMargins(0, 0, 12, 0)
            box_layout.addWidget(self.role_labels[role])
            box_layout.addWidget(combo)
            roles_row.addWidget(box)
            self.role_boxes[role] = box
        roles_row.addStretch(1)
        form.addRow(self.tr("Columns:"), roles_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.description)
        layout.addWidget(self.notes)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.busy_row)

    def initializePage(self) -> None:
        self.layouts = dict(self.wiz.layouts)  # detected on the worker by the previous page
        self.sheet_combo.blockSignals(True)
        self.sheet_combo.clear()
        self.sheet_combo.addItems(self.wiz.chosen)
        self.sheet_combo.blockSignals(False)
        multi = len(self.wiz.chosen) > 1
        self.sheet_combo.setVisible(multi)
        self.sheet_label.setVisible(multi)
        self._show_sheet()

    def current_sheet(self) -> str:
        return self.sheet_combo.currentText() or (self.wiz.chosen[0] if self.wiz.chosen else "")

    def _show_sheet(self) -> None:
        name = self.current_sheet()
        if not name:
            return
        override = self.wiz.overrides.get(name)
        for widget in (self.kind_combo, self.header_spin, self.year_spin):
            widget.blockSignals(True)
        self.kind_combo.setCurrentIndex(
            max(0, self.kind_combo.findData((override.kind if override else None) or AUTO))
        )
        self.header_spin.setValue(
            (override.header_row + 1) if override and override.header_row is not None else 0
        )
        self.year_spin.setValue(override.year if override and override.year else 0)
        for widget in (self.kind_combo, self.header_spin, self.year_spin):
            widget.blockSignals(False)
        self._present(name)

    def _fill_roles(self, name: str, layout: Any) -> None:
        """Offer every column of the header for each role the layout kind has; keep the user's choice."""
        override = self.wiz.overrides.get(name)
        wanted = {"long": ("period_col", "kpi_col", "value_col"), "wide": ("period_col",),
                  "rows": ("label_col",)}.get(layout.kind, ())
        for role, combo in self.role_combos.items():
            combo.blockSignals(True)
            combo.clear()
            detected = getattr(layout, role)
            detected_text = "—" if detected is None else self._column_name(layout, detected)
            combo.addItem(self.tr("as detected ({0})").format(detected_text), None)
            for col in range(len(layout.headers)):
                combo.addItem(self._column_name(layout, col), col)
            chosen = getattr(override, role, None) if override else None
            if chosen is not None:
                combo.setCurrentIndex(max(0, combo.findData(chosen)))
            combo.blockSignals(False)
            self.role_boxes[role].setVisible(role in wanted)

    @staticmethod
    def _column_name(layout: Any, col: int) -> str:
        from kpidesk.io.grid import column_letter

        header = layout.headers[col] if col < len(layout.headers) else ""
        return f"{column_letter(col)} — {header}" if header else column_letter(col)

    def _present(self, name: str) -> None:
        layout = self.layouts[name]
        self._fill_roles(name, layout)
        sheet = self.wiz.workbook.sheet(name)
        self.description.setText(layout.describe())
        lines = list(layout.notes) + [
            self.tr("Row {0} skipped: {1}").format(r + 1, why) for r, why in layout.skipped_rows[:8]
        ]
        if len(layout.skipped_rows) > 8:
            lines.append(self.tr("… and {0} more skipped rows").format(len(layout.skipped_rows) - 8))
        self.notes.setText("\n".join(lines))
        self.notes.setVisible(bool(lines))
        value_cols: set[int] = set()
        if layout.kind == "long" and layout.value_col is not None:
            value_cols = {layout.value_col}
        elif layout.kind == "wide":
            value_cols = set(layout.kpi_cols)
        elif layout.kind == "rows":
            value_cols = set(layout.period_cols)
        self.grid_model.set_grid(
            sheet.head(max(PREVIEW_ROWS, layout.header_row + 20)),
            header_row=layout.header_row,
            skipped=dict(layout.skipped_rows),
            value_cols=value_cols,
        )
        fit_columns(self.grid)
        unknown = layout.kind not in ("long", "wide", "rows")
        self.show_message(
            self.tr("The layout of this sheet was not recognised ({0}); choose one above.").format(
                layout.reason
            )
            if unknown
            else ""
        )

    def _override_changed(self) -> None:
        from kpidesk.io.layout import LayoutOverride

        name = self.current_sheet()
        kind = self.kind_combo.currentData() or None
        header = self.header_spin.value() - 1 if self.header_spin.value() else None
        year = self.year_spin.value() or None
        columns = {role: combo.currentData() for role, combo in self.role_combos.items()
                   if combo.isVisibleTo(self) and combo.currentData() is not None}
        self.wiz.overrides[name] = LayoutOverride(kind=kind, header_row=header, year=year, **columns)
        workbook, overrides = self.wiz.workbook, dict(self.wiz.overrides)

        def done(layouts: dict[str, Any]) -> None:
            self.layouts.update(layouts)
            self.wiz.layouts = dict(self.layouts)
            if self.current_sheet() == name:
                self._present(name)

        self.run(lambda progress: detect_layouts(workbook, [name], overrides), done,
                 title=self.tr("Finding the layout"), advance=False)

    def start_work(self) -> bool:
        wiz = self.wiz
        workbook, path, layouts, product = wiz.workbook, wiz.path, dict(self.layouts), wiz.product
        service = wiz.service()
        # choices the user made on the mapping page survive going Back and Next again
        kept = {label: d for label, d in wiz.plan.decisions.items() if d.matched_by == "user"} \
            if wiz.plan is not None and wiz.plan.file_path == path else {}

        def plan(progress: Any) -> tuple[Any, Any]:
            import pandas as pd

            from kpidesk.io.records import to_records
            from kpidesk.progress import check_cancelled
            from kpidesk.services.import_service import file_sha256

            parts = []
            for n, (name, layout) in enumerate(layouts.items()):
                progress.report(n / (len(layouts) + 1), f"Reading values of {name}")
                parts.append(to_records(workbook.sheet(name), layout, path))
                check_cancelled(progress)
            records = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
            progress.report(len(layouts) / (len(layouts) + 1), "Comparing with the stored values")
            kinds = sorted({layout.kind for layout in layouts.values()})
            result = service.plan_records(
                records,
                product=product or None,
                file_name=os.path.basename(path),
                file_path=path,
                sha256=file_sha256(path),
                layout="+".join(kinds),
                decisions=kept or None,
            )
            result.sheets = list(layouts)
            result.warnings[:0] = list(workbook.warnings) + [
                w for n in layouts for w in workbook.sheet(n).warnings
            ]
            return records, result, prepare_view(result, records)

        def done(result: tuple[Any, Any, Any]) -> None:
            wiz.records, wiz.plan, wiz.view = result

        self.run(plan, done, title=self.tr("Planning the import"))
        return False

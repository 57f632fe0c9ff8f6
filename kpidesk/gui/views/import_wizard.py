"""The import wizard: file → sheet(s) → layout → mapping → preview → import → summary.

It drives the import pipeline of :mod:`kpidesk.io` and
:class:`kpidesk.services.import_service.ImportService` step by step:

1. **File** — the path and the product the values belong to; *Next* reads the
   file (pre-flight + sandboxed parse) in the task runner.
2. **Sheets** — choose one or many (skipped when the file has one sheet).
3. **Layout** — detected per sheet (long / wide / KPI rows × period columns),
   shown with its reason and a preview grid; kind, header row and the year of
   bare month names can be overridden. *Next* turns the sheets into records
   and plans the import (dry run) in the runner.
4. **Mapping** — every label of the file and what it becomes: an existing KPI,
   a new KPI from the catalog, a new custom KPI, or ignored; each change
   re-plans in the runner.
5. **Preview** — inserts, updates (old → new), unchanged and rejected cells
   with their reasons, coloured and filterable. *Import* writes the plan in one
   transaction in the runner (``write=True``) with progress and Cancel.
6. **Summary** — what was written, and *Undo this import* (exact rollback).

Every slow step runs in the runner, never on the GUI thread; a page's *Next*
starts the work and the wizard moves on when it is done (the page shows a
progress bar and a Cancel button meanwhile). Errors are shown as a dialog with
the sentence and Details; a cancelled step writes nothing and stays put.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from kpidesk.errors import CancelledError, KpideskError
from kpidesk.gui import theme
from kpidesk.gui.errors import error_dialog
from kpidesk.gui.models.import_preview_model import (
    ALL,
    INSERT,
    REJECTED,
    UNCHANGED,
    UPDATE,
    MappingModel,
    PlanPreviewModel,
    SheetPreviewModel,
    prepare_view,
)
from kpidesk.services.changes import Changes

FILE_FILTER = "Spreadsheets (*.xlsx *.xlsm *.xls *.ods *.csv *.tsv *.txt);;All files (*)"
PREVIEW_ROWS = 40
AUTO = ""

PAGE_FILE, PAGE_SHEETS, PAGE_LAYOUT, PAGE_MAPPING, PAGE_PREVIEW, PAGE_SUMMARY = range(6)


def fit_columns(view: QTableView, limit: int = 260, rows: int = 60) -> None:
    """Columns as wide as the text of their first ``rows`` cells, but none wider than ``limit``.

    Measured from the model rather than with ``resizeColumnsToContents``, which
    only looks at rows inside the viewport and so sees none before the page shows.
    """
    model = view.model()
    bold = view.font()
    bold.setBold(True)
    metrics = QFontMetrics(bold)  # bold is the wider: header rows are bold
    for column in range(model.columnCount()):
        widest = metrics.horizontalAdvance(str(model.headerData(column, Qt.Orientation.Horizontal) or ""))
        for row in range(min(rows, model.rowCount())):
            text = model.index(row, column).data()
            if text:
                widest = max(widest, metrics.horizontalAdvance(str(text)))
        view.setColumnWidth(column, max(48, min(limit, widest + 18)))


def detect_layouts(workbook: Any, names: list[str], overrides: dict[str, Any]) -> dict[str, Any]:
    """The layout of each named sheet under the user's overrides (no Qt: runs in the task runner;
    detection scans whole columns, ~0.1 s for a 200,000-row sheet)."""
    from kpidesk.io.layout import LayoutOverride, detect_layout

    return {name: detect_layout(workbook.sheet(name), overrides.get(name) or LayoutOverride()) for name in names}


def _table(model: Any, name: str) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAccessibleName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(False)
    view.setWordWrap(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 6)
    return view


class WorkPage(QWizardPage):
    """A wizard page whose *Next* may start slow work in the runner.

    ``validatePage`` returns True only once the work is done: it starts the
    work and returns False; when the result arrives the page stores it and
    moves the wizard on. A progress bar with Cancel shows while it runs.
    """

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self._ready = False
        self.task: Any = None
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress_text = QLabel("")
        self.cancel_button = QPushButton(self.tr("S&top"))
        self.cancel_button.setToolTip(self.tr("Stop this step; nothing is written"))
        self.cancel_button.clicked.connect(self.cancel)
        self.busy_row = QWidget(self)  # parented: never a stray top-level window
        row = QHBoxLayout(self.busy_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress_text)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        self.busy_row.hide()
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("pageMessage")
        self.message.hide()

    @property
    def busy(self) -> bool:
        return self.task is not None

    def validatePage(self) -> bool:
        if self._ready:
            self._ready = False
            return True
        if self.task is not None:
            return False
        return self.start_work()

    def start_work(self) -> bool:
        """Start the page's work and return False, or return True when there is none."""
        return True

    def run(
        self,
        fn: Callable[[Any], Any],
        on_done: Callable[[Any], None],
        *,
        title: str,
        write: bool = False,
        advance: bool = True,
    ) -> None:
        self.show_message("")
        self.progress.setValue(0)
        self.progress_text.setText(title)
        self.busy_row.show()

        def done(result: Any) -> None:
            self._finish()
            try:
                on_done(result)
            except Exception as exc:  # a bug in presenting the result: still a dialog, never silent
                error_dialog(self, exc)
                return
            if advance:
                self._ready = True
                QTimer.singleShot(0, self.wiz.next)

        task = self.wiz.runner.submit(
            fn,
            on_done=done,
            on_error=lambda exc: None,
            key=f"import-{id(self)}",
            write=write,
            title=title,
            show_progress=False,
        )
        self.task = task
        task.progressed.connect(self._progressed)
        task.failed.connect(lambda exc: self._failed(exc, task.details))
        self.completeChanged.emit()  # Next/Import disabled while the work runs

    def _progressed(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        if text:
            self.progress_text.setText(text)

    def _finish(self) -> None:
        self.task = None
        self.busy_row.hide()
        self.completeChanged.emit()

    def _failed(self, exc: BaseException, details: str = "") -> None:
        self._finish()
        if isinstance(exc, CancelledError):
            self.show_message(exc.message)
            return
        self.show_message(exc.message if isinstance(exc, KpideskError) else self.tr("Something went wrong."))
        self.wiz.last_error = exc
        error_dialog(self, exc, details=details)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.progress_text.setText(self.tr("Stopping…"))

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def isComplete(self) -> bool:
        return self.task is None and super().isComplete()


# ------------------------------------------------------------------------------------------- pages


class FilePage(WorkPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__(wizard)
        self.setTitle(self.tr("Import a spreadsheet"))
        self.setSubTitle(
            self.tr(
                "Choose a workbook or CSV file (xlsx, xlsm, xls, ods, csv, tsv, txt) — or drop "
                "one here. Nothing is written until you confirm the preview."
            )
        )
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText(self.tr("path of the file to import"))
        self.path_edit.textChanged.connect(self.completeChanged)
        browse = QPushButton(self.tr("&Browse…"))
        browse.setToolTip(self.tr("Choose the file to import"))
        browse.clicked.connect(self.browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        self.product_combo = QComboBox()
        self.product_combo.setEditable(True)
        self.product_combo.setToolTip(
            self.tr("The product these values belong to; type a name to create one")
        )
        form = QFormLayout()
        file_label = QLabel(self.tr("&File:"))
        file_label.setBuddy(self.path_edit)
        form.addRow(file_label, path_row)
        form.addRow(self.tr("&Product:"), self.product_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addWidget(self.message)
        layout.addWidget(self.busy_row)

    def initializePage(self) -> None:
        current = self.product_combo.currentText()
        self.product_combo.clear()
        products = self.wiz.workspace.products.list()
        for product in products:
            self.product_combo.addItem(product.name, product.id)
        wanted = self.wiz.product_hint or current
        if wanted:
            self.product_combo.setEditText(wanted)
        elif not products:
            self.product_combo.setEditText("")

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Import a spreadsheet"), self.path_edit.text(), self.tr(FILE_FILTER)
        )
        if path:
            self.path_edit.setText(path)

    def isComplete(self) -> bool:
        return bool(self.path_edit.text().strip()) and super().isComplete()

    def start_work(self) -> bool:
        path = os.path.expanduser(self.path_edit.text().strip())
        sandbox = self.wiz.sandbox

        def read(progress: Any) -> Any:
            from kpidesk.io.reader import read_workbook

            workbook = read_workbook(path, progress=progress, sandbox=sandbox)
            chosen = [s.name for s in workbook.sheets if s.n_rows][:1] or [s.name for s in workbook.sheets][:1]
            return workbook, chosen, detect_layouts(workbook, chosen, {})

        def done(result: Any) -> None:
            workbook, chosen, layouts = result
            self.wiz.layouts = layouts
            self.wiz.path = path
            self.wiz.product = self.product_combo.currentText().strip()
            self.wiz.workbook = workbook
            self.wiz.chosen = chosen
            self.wiz.overrides = {}

        self.run(read, done, title=self.tr("Reading {0}").format(os.path.basename(path)))
        return False

    def nextId(self) -> int:
        book = self.wiz.workbook
        if book is not None and len(book.sheets) == 1:
            return PAGE_LAYOUT
        return PAGE_SHEETS


class SheetsPage(WorkPage):
    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__(wizard)
        self.setTitle(self.tr("Sheets"))
        self.setSubTitle(self.tr("Tick the sheets to import; each keeps its own layout."))
        self.sheet_list = QListWidget()
        self.sheet_list.setAccessibleName(self.tr("Sheets of the file"))
        self.sheet_list.itemChanged.connect(lambda _item: self.completeChanged.emit())
        self.sheet_list.currentRowChanged.connect(self._preview)
        self.grid_model = SheetPreviewModel(self)
        self.grid = _table(self.grid_model, self.tr("Sheet preview"))
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.sheet_list)
        splitter.addWidget(self.grid)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.busy_row)

    def initializePage(self) -> None:
        self.sheet_list.blockSignals(True)
        self.sheet_list.clear()
        for sheet in self.wiz.workbook.sheets:
            rows = self.tr("1 row") if sheet.n_rows == 1 else self.tr("{0} rows").format(f"{sheet.n_rows:,}")
            columns = self.tr("1 column") if sheet.n_cols == 1 else self.tr("{0} columns").format(sheet.n_cols)
            item = QListWidgetItem(f"{sheet.name}   ({rows} × {columns})")
            item.setData(Qt.ItemDataRole.UserRole, sheet.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if sheet.name in self.wiz.chosen else Qt.CheckState.Unchecked
            )
            self.sheet_list.addItem(item)
        self.sheet_list.blockSignals(False)
        self.sheet_list.setCurrentRow(0)
        self._preview(0)

    def _preview(self, row: int) -> None:
        item = self.sheet_list.item(row)
        if item is None:
            return
        sheet = self.wiz.workbook.sheet(item.data(Qt.ItemDataRole.UserRole))
        self.grid_model.set_grid(sheet.head(PREVIEW_ROWS))
        fit_columns(self.grid)

    def checked(self) -> list[str]:
        out = []
        for i in range(self.sheet_list.count()):
            item = self.sheet_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out

    def set_checked(self, names: list[str]) -> None:
        for i in range(self.sheet_list.count()):
            item = self.sheet_list.item(i)
            state = (
                Qt.CheckState.Checked
                if item.data(Qt.ItemDataRole.UserRole) in names
                else Qt.CheckState.Unchecked
            )
            item.setCheckState(state)

    def isComplete(self) -> bool:
        return bool(self.checked()) and super().isComplete()

    def start_work(self) -> bool:
        wiz = self.wiz
        chosen, workbook, overrides = self.checked(), wiz.workbook, dict(wiz.overrides)

        def done(layouts: dict[str, Any]) -> None:
            wiz.chosen, wiz.layouts = chosen, layouts

        self.run(lambda progress: detect_layouts(workbook, chosen, overrides), done,
                 title=self.tr("Finding the layout"))
        return False


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
        self.grid = _table(self.grid_model, self.tr("Sheet preview with the detected header"))

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
        self.view = _table(self.model, self.tr("KPI mapping"))
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
        self.view = _table(self.model, self.tr("Planned values"))
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
        for column, width in enumerate((80, 90, 110, 200, 90, 90, 90, 90)):
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


class ImportWizard(QWizard):
    """See the module docstring. ``changed`` carries the Changes of the import and of its undo."""

    changed = Signal(object)

    def __init__(
        self,
        workspace: Any,
        runner: Any,
        parent: QWidget | None = None,
        *,
        sandbox: bool = True,
        product: str = "",
    ) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.runner = runner
        self.sandbox = sandbox
        self.product_hint = product
        self.path = ""
        self.product = ""
        self.workbook: Any = None
        self.chosen: list[str] = []
        self.overrides: dict[str, Any] = {}
        self.records: Any = None
        self.plan: Any = None
        self.view: Any = None  # PlanView of the plan, prepared on the worker
        self.layouts: dict[str, Any] = {}
        self.result: Any = None
        self.last_error: BaseException | None = None
        self.setObjectName("importWizard")
        self.setWindowTitle(self.tr("Import"))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setAcceptDrops(True)
        self.setMinimumSize(980, 640)
        self.file_page = FilePage(self)
        self.sheets_page = SheetsPage(self)
        self.layout_page = LayoutPage(self)
        self.mapping_page = MappingPage(self)
        self.preview_page = PreviewPage(self)
        self.summary_page = SummaryPage(self)
        for page_id, page in enumerate(
            (
                self.file_page,
                self.sheets_page,
                self.layout_page,
                self.mapping_page,
                self.preview_page,
                self.summary_page,
            )
        ):
            self.setPage(page_id, page)
        self.setStartId(PAGE_FILE)

    def service(self) -> Any:
        from kpidesk.services.import_service import ImportService

        return ImportService(self.workspace.db, self.workspace.catalog)

    def product_kpis(self) -> list[Any]:
        """KPIs of the product the import goes to (all KPIs when it is new or named in the file)."""
        name = (self.plan.default_product if self.plan is not None else "") or self.product
        products = {p.name.casefold(): p.id for p in self.workspace.products.list()}
        product_id = products.get(name.casefold()) if name else None
        return self.workspace.kpis.list(product_id) if product_id else self.workspace.kpis.list()

    def start_with(self, path: str | os.PathLike[str]) -> None:
        """Start over on ``path`` and read it at once (the main window's drop handler calls this)."""
        self.restart()
        self.plan = self.view = self.result = None  # a new start forgets the last file's choices
        self.file_page.path_edit.setText(os.fspath(path))
        self.next()

    set_path = start_with  # the name the main window's drop handler looks for

    def current_work_page(self) -> WorkPage | None:
        page = self.currentPage()
        return page if isinstance(page, WorkPage) else None

    def reject(self) -> None:
        page = self.current_work_page()
        if page is not None and page.busy:
            page.cancel()  # stop the work first; the wizard stays open to show that nothing was written
            return
        super().reject()

    # -- drag and drop ---------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if len(urls) == 1 and urls[0].isLocalFile() and self.currentId() in (PAGE_FILE, PAGE_SUMMARY):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
            self.start_with(Path(urls[0].toLocalFile()))

    def import_changes(self) -> Changes:
        return self.result.changes if self.result is not None else Changes()

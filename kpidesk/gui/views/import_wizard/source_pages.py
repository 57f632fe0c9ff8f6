"""Wizard steps 1 and 2: the file (and the product it belongs to), then the sheet(s) to read."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
)

from kpidesk.gui.models.import_preview_model import (
    SheetPreviewModel,
)
from kpidesk.gui.views.import_wizard.common import (
    FILE_FILTER,
    PAGE_LAYOUT,
    PAGE_SHEETS,
    PREVIEW_ROWS,
    WorkPage,
    detect_layouts,
    fit_columns,
    make_table,
)

if TYPE_CHECKING:
    from kpidesk.gui.views.import_wizard.wizard import ImportWizard


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
        self.grid = make_table(self.grid_model, self.tr("Sheet preview"))
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
        # wide enough for "Channel Scorecard   (12 rows × 9 columns)" (it was cut off), at most 400 px
        metrics = self.sheet_list.fontMetrics()
        widest = max((metrics.horizontalAdvance(self.sheet_list.item(i).text())
                      for i in range(self.sheet_list.count())), default=0)
        self.sheet_list.setMinimumWidth(min(widest + 56, 400))
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

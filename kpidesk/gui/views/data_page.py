"""The Data page: the import history (with rollback) and the data sources (refresh,
last run, errors).

Reading the lists and every write (rollback, refresh) run in the task runner;
writes are submitted with ``write=True`` so they queue behind any other write
(one database writer). A rollback asks first, says what it will do, and is
exact: the import service restores every value the import replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kpidesk.gui.errors import error_dialog
from kpidesk.gui.models.data_tables_model import RowTableModel, batch_columns, source_columns
from kpidesk.services.changes import Changes

#: Row tints: rolled-back imports greyed, failing sources reddish (alpha keeps text readable in dark mode).
ROLLED_BACK_TINT = "#60808080"
ERROR_TINT = "#50c62828"
WATCHED = ("import_batch", "data_source", "measurement", "product")


@dataclass(frozen=True)
class DataLists:
    batches: list[Any]
    sources: list[Any]
    can_refresh: bool


def _source_service(workspace: Any) -> Any | None:
    """The data source service (metrics engine), or None in a build without it."""
    try:
        from kpidesk.services import source_service
    except ImportError:
        return None
    return source_service.SourceService(workspace.db, workspace.catalog)


def load_data_lists(workspace: Any) -> DataLists:
    """Imports (newest first) and data sources. Runs on a worker thread."""
    from kpidesk.services.import_service import ImportService

    batches = ImportService(workspace.db, workspace.catalog).batches()
    service = _source_service(workspace)
    if service is not None and hasattr(service, "list"):
        sources = list(service.list())
    else:
        from sqlmodel import select

        from kpidesk.storage.models import DataSource

        with workspace.db.session() as session:
            sources = list(session.exec(select(DataSource).order_by(DataSource.name)))
    return DataLists(batches, sources, service is not None and hasattr(service, "refresh"))


def _table(model: RowTableModel, name: str) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    view.setWordWrap(False)
    view.setAccessibleName(name)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return view


def _section(title: str, buttons: list[QWidget], empty: QWidget, view: QWidget) -> QWidget:
    """A titled block: heading and buttons on one line, the empty-state text, then the table."""
    section = QWidget()
    layout = QVBoxLayout(section)
    bar = QHBoxLayout()
    bar.addWidget(QLabel(title))
    bar.addStretch(1)
    for button in buttons:
        bar.addWidget(button)
    layout.addLayout(bar)
    layout.addWidget(empty)
    layout.addWidget(view, 1)
    layout.addStretch(0)
    return section


class DataPage(QWidget):
    """Imports and data sources; see the module docstring."""

    changed = Signal(object)
    loaded = Signal()
    import_requested = Signal()  # the main window opens the import wizard

    def __init__(self, workspace: Any, runner: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self._runner = runner
        self.setObjectName("dataPage")
        self.last_message = ""

        self.batches_model = RowTableModel(batch_columns(self.tr), self,
                                           tint=lambda b: ROLLED_BACK_TINT if b.status == "rolled_back" else None)
        self.batches_view = _table(self.batches_model, self.tr("Imports"))
        self.batches_view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.rollback_button = QPushButton(self.tr("&Roll back…"))
        self.rollback_button.setToolTip(self.tr("Undo the selected import exactly: values it added are removed, "
                                                "values it replaced are put back"))
        self.rollback_button.clicked.connect(self.rollback_selected)
        self.import_button = QPushButton(self.tr("&Import a file…"))
        self.import_button.setToolTip(self.tr("Import KPI values from a spreadsheet or CSV file"))
        self.import_button.clicked.connect(self.import_requested)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.batches_view, self.rollback_selected)

        self.sources_model = RowTableModel(source_columns(self.tr), self,
                                           tint=lambda s: ERROR_TINT if getattr(s, "last_error", "") else None)
        self.sources_view = _table(self.sources_model, self.tr("Data sources"))
        self.sources_view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.refresh_button = QPushButton(self.tr("Re&fresh"))
        self.refresh_button.setToolTip(self.tr("Re-run the selected data source's recipe on its file"))
        self.refresh_button.clicked.connect(self.refresh_selected_source)
        self.refresh_all_button = QPushButton(self.tr("Refresh &all"))
        self.refresh_all_button.setToolTip(self.tr("Re-run every data source whose file changed"))
        self.refresh_all_button.clicked.connect(self.refresh_all_sources)
        self._can_refresh = False

        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.imports_empty = QLabel(self.tr("No imports yet. Import a spreadsheet to bring in KPI values; "
                                            "every import can be rolled back here."))
        self.imports_empty.setWordWrap(True)
        self.sources_empty = QLabel(self.tr("No data sources yet. A data source turns a raw export (events, "
                                            "transactions, surveys…) into KPI values and refreshes when the file "
                                            "changes; add one with “kpidesk source add”."))
        self.sources_empty.setWordWrap(True)

        imports = _section(self.tr("<h3>Imports</h3>"), [self.import_button, self.rollback_button],
                           self.imports_empty, self.batches_view)
        sources = _section(self.tr("<h3>Data sources</h3>"), [self.refresh_button, self.refresh_all_button],
                           self.sources_empty, self.sources_view)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(imports)
        splitter.addWidget(sources)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status_label)
        self._update_buttons()
        self.reload()

    # -- loading ------------------------------------------------------------------------------
    def reload(self) -> None:
        workspace = self._workspace
        self._runner.submit(lambda progress: load_data_lists(workspace), on_done=self._show,
                            on_error=lambda exc: error_dialog(self, exc), key="data-page",
                            title=self.tr("Reading imports and data sources"), show_progress=False)

    def _show(self, lists: DataLists) -> None:
        selected = self.selected_batch()
        known = {b.id for b in self.batches_model.rows}
        self.batches_model.set_rows(lists.batches)
        source = self.selected_source()
        self.sources_model.set_rows(lists.sources)
        if source is not None:  # keep the user's place across reloads
            row = next((i for i, s in enumerate(lists.sources) if s.id == source.id), None)
            if row is not None:
                self.sources_view.selectRow(row)
        self._can_refresh = lists.can_refresh
        self.imports_empty.setVisible(not lists.batches)
        for label in (self.imports_empty, self.sources_empty):
            label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.batches_view.setVisible(bool(lists.batches))
        self.sources_empty.setVisible(not lists.sources)
        self.sources_view.setVisible(bool(lists.sources))
        if lists.batches:
            row = 0  # the newest import, unless the user's selection still stands and nothing new came in
            arrived = known and any(b.id not in known for b in lists.batches)
            if selected is not None and not arrived:
                row = next((i for i, b in enumerate(lists.batches) if b.id == selected.id), 0)
            self.batches_view.selectRow(row)
        self._update_buttons()
        self.loaded.emit()

    def refresh(self, changes: Changes) -> None:
        if changes.touches(*WATCHED):
            self.reload()

    # -- selection ----------------------------------------------------------------------------
    def selected_batch(self) -> Any | None:
        rows = self.batches_view.selectionModel().selectedRows()
        return self.batches_model.row_at(rows[0].row()) if rows else None

    def selected_source(self) -> Any | None:
        rows = self.sources_view.selectionModel().selectedRows()
        return self.sources_model.row_at(rows[0].row()) if rows else None

    def _update_buttons(self) -> None:
        batch = self.selected_batch()
        self.rollback_button.setEnabled(batch is not None and batch.status == "applied")
        has_sources = bool(self.sources_model.rows)
        self.refresh_button.setEnabled(self._can_refresh and self.selected_source() is not None)
        self.refresh_all_button.setEnabled(self._can_refresh and has_sources)
        if not self._can_refresh and has_sources:
            self.refresh_button.setToolTip(self.tr("Refreshing needs the metrics engine, which is not installed"))

    # -- writes -------------------------------------------------------------------------------
    def _finished(self, message: str, changes: Changes) -> None:
        self.last_message = message
        self.status_label.setText(message)
        self.changed.emit(changes)
        self.reload()

    def rollback_selected(self) -> QMessageBox | None:
        """Ask, then roll back the selected import in the runner (returns the question box)."""
        batch = self.selected_batch()
        if batch is None or batch.status != "applied":
            return None
        box = QMessageBox(
            QMessageBox.Icon.Question, self.tr("Roll back import"),
            self.tr("Roll back import #{0} of {1}?").format(batch.id, batch.file_name),
            QMessageBox.StandardButton.Cancel, self)
        box.setInformativeText(self.tr(
            "{0} value(s) it added will be removed and {1} value(s) it changed will get their earlier value "
            "back. KPIs the import created are removed when nothing else uses them.").format(
            f"{batch.inserted:,}", f"{batch.updated:,}"))
        roll = box.addButton(self.tr("Roll back"), QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def answered() -> None:
            if box.clickedButton() is roll:
                self._rollback(batch.id)

        box.finished.connect(lambda _result: answered())
        box.open()
        return box

    def _rollback(self, batch_id: int) -> None:
        workspace = self._workspace

        def work(progress: Any) -> Any:
            from kpidesk.services.import_service import ImportService

            return ImportService(workspace.db, workspace.catalog).rollback(batch_id, progress=progress)

        self._runner.submit(work, on_done=lambda result: self._finished(result.message, result.changes),
                            on_error=lambda exc: error_dialog(self, exc, title=self.tr("Rollback failed")),
                            write=True, title=self.tr("Rolling back import #{0}").format(batch_id))

    def refresh_selected_source(self) -> None:
        """Re-run the selected source now, even when its file did not change (the user asked)."""
        source = self.selected_source()
        if source is None:
            return
        source_id = source.id

        def work(progress: Any) -> tuple[str, Changes]:
            outcome, changes = self._sources().refresh(source_id, force=True, progress=progress)
            return outcome.message, changes | Changes.of("data_source")

        self._submit_refresh(work, self.tr("Refreshing {0}").format(source.name))

    def refresh_all_sources(self) -> None:
        """Re-run every source whose file changed since its last refresh."""
        def work(progress: Any) -> tuple[str, Changes]:
            outcomes, changes = self._sources().refresh_all(progress=progress)
            ran = [o for o in outcomes if o.refreshed]
            message = self.tr("{0} of {1} data sources refreshed ({2} values); the others had not changed.").format(
                len(ran), len(outcomes), f"{sum(o.values for o in ran):,}")
            return message, changes | Changes.of("data_source")

        self._submit_refresh(work, self.tr("Refreshing data sources"))

    def _sources(self) -> Any:
        service = _source_service(self._workspace)
        if service is None:
            from kpidesk.errors import KpideskError

            raise KpideskError("Data sources cannot be refreshed: the metrics engine is not installed.")
        return service

    def _submit_refresh(self, work: Any, title: str) -> None:
        def failed(exc: BaseException) -> None:
            error_dialog(self, exc, title=self.tr("Refresh failed"))
            self.reload()  # the source now shows its error

        self._runner.submit(work, on_done=lambda result: self._finished(*result), on_error=failed,
                            write=True, title=title)

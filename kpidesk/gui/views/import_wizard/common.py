"""The wizard's shared pieces: page numbers, the base page that runs its step in the task runner, table helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QWidget,
    QWizardPage,
)

from kpidesk.errors import CancelledError, KpideskError
from kpidesk.gui.errors import error_dialog

if TYPE_CHECKING:
    from kpidesk.gui.views.import_wizard.wizard import ImportWizard

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


def make_table(model: Any, name: str) -> QTableView:
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

"""The import wizard itself: the pages in order, the shared state between them, drag-and-drop of a file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QWidget,
    QWizard,
)

from kpidesk.gui.views.import_wizard.common import PAGE_FILE, PAGE_SUMMARY, WorkPage
from kpidesk.gui.views.import_wizard.layout_page import LayoutPage
from kpidesk.gui.views.import_wizard.mapping_page import MappingPage
from kpidesk.gui.views.import_wizard.result_pages import PreviewPage, SummaryPage
from kpidesk.gui.views.import_wizard.source_pages import FilePage, SheetsPage
from kpidesk.services.changes import Changes


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

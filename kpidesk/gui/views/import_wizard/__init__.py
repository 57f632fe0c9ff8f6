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

The pages live in the modules of this package, one or two steps each;
:class:`~kpidesk.gui.views.import_wizard.wizard.ImportWizard` puts them in order.
"""

from __future__ import annotations

from kpidesk.gui.views.import_wizard.common import (
    AUTO,
    FILE_FILTER,
    PAGE_FILE,
    PAGE_LAYOUT,
    PAGE_MAPPING,
    PAGE_PREVIEW,
    PAGE_SHEETS,
    PAGE_SUMMARY,
    PREVIEW_ROWS,
    WorkPage,
    detect_layouts,
    fit_columns,
)
from kpidesk.gui.views.import_wizard.layout_page import LayoutPage
from kpidesk.gui.views.import_wizard.mapping_page import MappingPage
from kpidesk.gui.views.import_wizard.result_pages import PreviewPage, SummaryPage
from kpidesk.gui.views.import_wizard.source_pages import FilePage, SheetsPage
from kpidesk.gui.views.import_wizard.wizard import ImportWizard

__all__ = [
    "AUTO",
    "FILE_FILTER",
    "PAGE_FILE",
    "PAGE_LAYOUT",
    "PAGE_MAPPING",
    "PAGE_PREVIEW",
    "PAGE_SHEETS",
    "PAGE_SUMMARY",
    "PREVIEW_ROWS",
    "FilePage",
    "ImportWizard",
    "LayoutPage",
    "MappingPage",
    "PreviewPage",
    "SheetsPage",
    "SummaryPage",
    "WorkPage",
    "detect_layouts",
    "fit_columns",
]

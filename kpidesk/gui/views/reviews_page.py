"""The Reviews page slot.

The review engineer provides ``ReviewPage(workspace, runner, parent=None)`` with
``refresh(changes)`` in ``kpidesk.gui.views.review_page``, ``kpidesk.gui.report.review_page``
or ``kpidesk.gui.report`` (see ``REVIEW_PAGE_MODULES`` in the main window); the
main window uses the first it finds. Until then this calm placeholder shows.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from kpidesk.gui.views.placeholder import PlaceholderPage


def create(workspace: Any, runner: Any, parent: QWidget | None = None) -> QWidget:
    page = PlaceholderPage(
        PlaceholderPage.tr("Reviews"),
        PlaceholderPage.tr("Review meetings — headlines, goals at risk, movers, decisions and action items — "
                           "will appear here."),
        parent,
    )
    page.setObjectName("reviewsPage")
    return page

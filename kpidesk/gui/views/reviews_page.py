"""The Reviews page slot.

The review engineer replaces this module's :func:`create` (or provides
``kpidesk.gui.views.review_page.ReviewPage(workspace, runner, parent)``, which the
main window prefers when it exists). Until then a calm placeholder shows.
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

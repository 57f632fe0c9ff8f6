"""Errors as a calm dialog: one clear sentence, and the details folded away.

A :class:`kpidesk.errors.KpideskError` is the user's business: its message is
shown as is. Anything else is a bug: the dialog says so plainly, the traceback
goes into "Details" and into the log — never only onto stderr.
"""

from __future__ import annotations

import logging
import traceback

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from kpidesk.errors import KpideskError

log = logging.getLogger(__name__)


def describe(exc: BaseException, details: str = "") -> tuple[str, str, bool]:
    """(sentence, details, is_bug) for an exception."""
    if isinstance(exc, KpideskError):
        return exc.message, exc.details or "", False
    text = details or "".join(traceback.format_exception(exc))
    sentence = (f"kpidesk ran into an internal problem ({type(exc).__name__}: {exc}). "
                "Nothing else was changed; the details below help to report it.")
    return sentence, text, True


def error_dialog(parent: QWidget | None, exc: BaseException, details: str = "",
                 title: str = "") -> QMessageBox:
    """Build and open (window-modal, non-blocking) the error dialog for ``exc``."""
    sentence, more, is_bug = describe(exc, details)
    if is_bug:
        log.error("internal error: %s", more)
    box = QMessageBox(parent)
    box.setObjectName("errorDialog")
    box.setIcon(QMessageBox.Icon.Critical if is_bug else QMessageBox.Icon.Warning)
    box.setWindowTitle(title or (box.tr("Internal error") if is_bug else box.tr("kpidesk")))
    box.setText(sentence)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if more:
        box.setDetailedText(more)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box

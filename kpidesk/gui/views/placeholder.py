"""A calm page for something not available yet (a page still being built, no data)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kpidesk.gui import theme


class PlaceholderPage(QWidget):
    """Title and one sentence, centred; ``refresh`` does nothing."""

    def __init__(self, title: str, sentence: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        heading = QLabel(title)
        theme.role(heading, theme.PAGE_TITLE)
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text = QLabel(sentence)
        theme.role(text, theme.MUTED)
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(heading)
        layout.addWidget(text)
        layout.addStretch(2)
        self.title, self.sentence = title, sentence

    def refresh(self, changes: Any = None) -> None:
        return None

"""First start on an empty database: three clear ways in."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kpidesk.gui import theme


class WelcomePage(QWidget):
    create_product = Signal()
    import_spreadsheet = Signal()
    open_demo = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomePage")
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        column = QVBoxLayout()
        column.addStretch(1)
        icon = QLabel()
        icon.setPixmap(theme.app_icon().pixmap(72, 72))
        icon.setAlignment(Qt.AlignmentFlag.AlignLeft)
        column.addWidget(icon)
        title = QLabel(self.tr("Welcome to kpidesk"))
        theme.role(title, theme.PAGE_TITLE)
        column.addWidget(title)
        text = QLabel(self.tr("Your KPIs, goals and reviews live in one local file.\n"
                              "This workspace is empty. Pick a way in:"))
        text.setWordWrap(True)
        column.addWidget(text)
        column.addSpacing(12)
        self.buttons: dict[str, QPushButton] = {}
        for name, label, tip, signal in (
            ("product", self.tr("&1  Create a product and pick its KPIs from the catalog"),
             self.tr("Start from scratch: name a product, choose KPIs, type in the first values."),
             self.create_product),
            ("import", self.tr("&2  Import a spreadsheet you already have…"),
             self.tr("Excel, LibreOffice or CSV: kpidesk detects the layout and maps the columns."),
             self.import_spreadsheet),
            ("demo", self.tr("&3  Open the demo workspace"),
             self.tr("Three products with two years of history, goals and annotations to explore."),
             self.open_demo),
        ):
            button = QPushButton(label)
            button.setObjectName("bigChoice")
            button.setStyleSheet(theme.BIG_CHOICE_STYLE)
            button.setToolTip(tip)
            button.setMinimumWidth(460)
            button.clicked.connect(signal.emit)
            column.addWidget(button)
            self.buttons[name] = button
        column.addStretch(2)
        outer.addLayout(column)
        outer.addStretch(1)

    def refresh(self, changes: Any = None) -> None:
        return None

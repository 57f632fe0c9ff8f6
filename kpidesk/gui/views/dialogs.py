"""Small dialogs: About (with versions), the KPI catalog, a new product with its KPIs."""

from __future__ import annotations

import html
import platform
import sys
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kpidesk import __version__
from kpidesk.gui import theme


def versions() -> list[tuple[str, str]]:
    """Name and version of kpidesk and the libraries it runs on (without importing the heavy ones)."""
    from importlib.metadata import PackageNotFoundError, version

    import PySide6
    from PySide6.QtCore import qVersion

    rows = [("kpidesk", __version__), ("Python", platform.python_version()), ("Qt", qVersion()),
            ("PySide6", PySide6.__version__)]
    for dist in ("pyqtgraph", "pandas", "numpy", "SQLAlchemy", "sqlmodel", "openpyxl", "python-calamine",
                 "statsmodels"):
        try:
            rows.append((dist, version(dist)))
        except PackageNotFoundError:
            rows.append((dist, "not installed"))
    rows.append(("Platform", f"{platform.system()} {platform.release()} ({sys.platform})"))
    return rows


class AboutDialog(QDialog):
    def __init__(self, db_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("About kpidesk"))
        layout = QVBoxLayout(self)
        icon = QLabel()
        icon.setPixmap(theme.app_icon().pixmap(64, 64))
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignHCenter)
        text = QLabel(self.tr("<h3>kpidesk {v}</h3><p>An offline desktop KPI tracker for product managers: "
                              "KPIs, SMART goals, spreadsheet import, reviews — in one local file.</p>"
                              "<p>Workspace: {db}</p>").format(v=__version__, db=html.escape(db_name)))
        text.setWordWrap(True)
        layout.addWidget(text)
        table = QTextBrowser()
        table.setObjectName("versions")
        rows = "".join(f"<tr><td><b>{html.escape(a)}</b></td><td>{html.escape(b)}</td></tr>" for a, b in versions())
        table.setHtml(f"<table cellspacing='3'>{rows}</table>")
        table.setMinimumSize(420, 220)
        layout.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)


class CatalogDialog(QDialog):
    """The built-in KPI catalog: name, definition, formula and conventions."""

    def __init__(self, catalog: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("KPI catalog"))
        self.resize(820, 560)
        layout = QVBoxLayout(self)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(self.tr("Filter the catalog"))
        self.filter.setClearButtonEnabled(True)
        layout.addWidget(self.filter)
        self.list = QListWidget()
        self.detail = QTextBrowser()
        for entry in catalog:
            item = QListWidgetItem(f"{entry.name}  ·  {entry.category.value} / {entry.stage.value}")
            item.setData(Qt.ItemDataRole.UserRole, entry)
            self.list.addItem(item)
        layout.addWidget(self.list, 2)
        layout.addWidget(self.detail, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.list.currentItemChanged.connect(self._show)
        self.filter.textChanged.connect(self._filter)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _filter(self, text: str) -> None:
        wanted = text.casefold()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(wanted not in item.text().casefold())

    def _show(self, item: QListWidgetItem | None) -> None:
        if item is None:
            self.detail.clear()
            return
        e = item.data(Qt.ItemDataRole.UserRole)
        conventions = "".join(f"<li>{html.escape(c)}</li>" for c in e.conventions)
        self.detail.setHtml(
            f"<h3>{html.escape(e.name)} <small>({e.key})</small></h3><p>{html.escape(e.definition)}</p>"
            f"<p><b>{self.tr('Formula')}:</b> {html.escape(e.formula)}</p>"
            f"<p><b>{self.tr('Unit')}:</b> {e.unit.value} · <b>{self.tr('Direction')}:</b> {e.direction.value} · "
            f"<b>{self.tr('Aggregation')}:</b> {e.aggregation.value}</p>"
            + (f"<p><b>{self.tr('Conventions')}:</b></p><ul>{conventions}</ul>" if conventions else ""))


class NewProductDialog(QDialog):
    """Name a product and tick the catalog KPIs it starts with."""

    def __init__(self, catalog: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("New product"))
        self.resize(760, 560)  # at 520 px every KPI's definition was cut off behind a horizontal scroll bar
        form = QFormLayout(self)
        self.name = QLineEdit()
        self.name.setPlaceholderText(self.tr("e.g. Mobile app"))
        self.description = QLineEdit()
        form.addRow(self.tr("&Name:"), self.name)
        form.addRow(self.tr("&Description:"), self.description)
        self.kpis = QListWidget()
        self.kpis.setToolTip(self.tr("Tick the KPIs to track; more can be added later"))
        for entry in catalog:
            item = QListWidgetItem(f"{entry.name} — {entry.definition}")
            item.setData(Qt.ItemDataRole.UserRole, entry.key)
            item.setToolTip(f"{entry.name}: {entry.definition}")  # the whole definition, however long
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            common = entry.key in {"revenue", "mrr", "churn_rate", "nps", "dau", "cac", "activation_rate"}
            item.setCheckState(Qt.CheckState.Checked if common else Qt.CheckState.Unchecked)
            self.kpis.addItem(item)
        form.addRow(self.tr("&KPIs:"), self.kpis)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def chosen_keys(self) -> list[str]:
        return [self.kpis.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.kpis.count())
                if self.kpis.item(i).checkState() == Qt.CheckState.Checked]


class RestoreDialog(QDialog):
    """Pick a backup to restore; each line says when, why and what it holds."""

    def __init__(self, backups: list[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Restore from backup"))
        self.resize(620, 380)
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr("The current content is backed up first, so a restore can itself be undone."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.list = QListWidget()
        for info in backups:
            item = QListWidgetItem(f"{info.created:%Y-%m-%d %H:%M}  ·  {info.reason}  ·  {info.counts_text()}")
            item.setData(Qt.ItemDataRole.UserRole, info.id)
            item.setToolTip(str(info.path))
            self.list.addItem(item)
        if not backups:
            placeholder = QListWidgetItem(self.tr("There are no backups of this workspace yet."))
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(placeholder)
        else:
            self.list.setCurrentRow(0)
        layout.addWidget(self.list, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.restore_button = buttons.addButton(self.tr("&Restore"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.restore_button.setEnabled(bool(backups))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def chosen_id(self) -> str:
        item = self.list.currentItem()
        value = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return str(value) if value else ""

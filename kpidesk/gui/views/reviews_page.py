"""The Reviews page: review meetings, their record, and the pack.

Left: the reviews, newest first, and a bar to create one (product or the
portfolio, period such as 2026-Q3 / 2026-10 / 2026-07-01..2026-09-15, compared
with the previous period or the same period last year). Right: the opened
review — its headlines, what needs attention, the notes, and the table of
notes, decisions and action items (text, owner and due date are edited in
place; "Done" is a check box). "Generate pack…" writes the Excel workbook and
the PDF in the task runner, never on the GUI thread. Every database read and
write goes through the runner as well.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kpidesk.gui import theme
from kpidesk.services.changes import Changes

WATCHED = ("review", "review_item", "product", "measurement", "goal", "target", "kpi")
_COLUMNS = ["Kind", "Text", "Owner", "Due", "Done", "KPI"]
_ITEM_ID = Qt.ItemDataRole.UserRole


def _review_label(review: Any, products: dict[int, str]) -> str:
    product = products.get(review.product_id, "Portfolio")
    compare = "vs last year" if review.compare == "last_year" else "vs previous"
    return f"{product} · {review.period_label} ({compare})"


def default_period(today: dt.date) -> str:
    """The last complete quarter: the one a quarterly review usually covers."""
    quarter = (today.month - 1) // 3  # 0-based quarter of today; the one before it is complete
    if quarter == 0:
        return f"{today.year - 1}-Q4"
    return f"{today.year}-Q{quarter}"


def write_pack(db: Any, review_id: int, xlsx: Path | None, pdf: Path | None, progress: Any,
               today: dt.date | None = None) -> list[Path]:
    """Compute the review content and write the pack files (runs on a worker thread)."""
    from kpidesk.io.review_xlsx import write_review_xlsx
    from kpidesk.services.review_service import ReviewService

    progress.report(0.02, "Collecting the review content")
    content = ReviewService(db).content(review_id, today=today)
    written = []
    if xlsx is not None:
        write_review_xlsx(content, xlsx)
        written.append(xlsx)
    progress.report(0.4, "Drawing the PDF")
    if pdf is not None:
        from kpidesk.gui.report.pdf_pack import write_review_pdf

        write_review_pdf(content, pdf, progress)
        written.append(pdf)
    return written


class ReviewsPage(QWidget):
    """See the module docstring."""

    changed = Signal(object)
    loaded = Signal()
    pack_written = Signal(list)

    def __init__(self, workspace: Any, runner: Any, parent: QWidget | None = None, *,
                 today: dt.date | None = None) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self._runner = runner
        self._today = today
        self._review_id: int | None = None
        self._versions: dict[int, int] = {}
        self._filling = False
        self.content: Any = None
        self.setObjectName("reviewsPage")

        # -- create bar --
        self.product_combo = QComboBox()
        self.product_combo.setAccessibleName(self.tr("Product of the new review"))
        self.period_edit = QLineEdit(default_period(self.today()))
        self.period_edit.setToolTip(self.tr("2026-Q3, 2026-10, 2026, or a range 2026-07-01..2026-09-15"))
        self.period_edit.setAccessibleName(self.tr("Period"))
        self.compare_combo = QComboBox()
        self.compare_combo.addItem(self.tr("vs previous period"), "previous")
        self.compare_combo.addItem(self.tr("vs same period last year"), "last_year")
        self.compare_combo.setToolTip(self.tr("What the review's changes are measured against"))
        self.new_button = QPushButton(self.tr("&New review"))
        self.new_button.setToolTip(self.tr("Start a review of this product and period: headlines, attention, "
                                           "movers, then notes, decisions and actions"))
        self.new_button.clicked.connect(self.new_review)
        bar = QHBoxLayout()
        product_caption = QLabel(self.tr("&Product:"))
        product_caption.setBuddy(self.product_combo)
        period_caption = QLabel(self.tr("Pe&riod:"))
        period_caption.setBuddy(self.period_edit)
        bar.addWidget(product_caption)
        bar.addWidget(self.product_combo)
        bar.addWidget(period_caption)
        bar.addWidget(self.period_edit)
        bar.addWidget(self.compare_combo)
        bar.addWidget(self.new_button)
        bar.addStretch(1)

        self.review_list = QListWidget()
        self.review_list.setAccessibleName(self.tr("Reviews"))
        self.review_list.currentItemChanged.connect(self._review_chosen)
        # an empty list said nothing: say what a review is and how to start one
        self.list_empty = QLabel(self.tr("No reviews yet. Pick a product and a period above, then "
                                         "“New review” to prepare the meeting."))
        self.list_empty.setWordWrap(True)
        self.list_empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.list_empty.setContentsMargins(8, 8, 8, 8)
        theme.role(self.list_empty, theme.MUTED)
        list_box = QWidget()
        list_layout = QVBoxLayout(list_box)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addWidget(self.list_empty)
        list_layout.addWidget(self.review_list, 1)

        # -- the opened review --
        self.title_label = QLabel(self.tr("<h3>No review open</h3><p>Create one above, or pick one on the left.</p>"))
        self.title_label.setWordWrap(True)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setPlaceholderText(self.tr("Notes for the meeting…"))
        self.notes_edit.setMaximumHeight(90)
        self.save_notes_button = QPushButton(self.tr("Save notes"))
        self.save_notes_button.setToolTip(self.tr("Keep the notes with this review"))
        self.save_notes_button.clicked.connect(self.save_notes)

        self.items_table = QTableWidget(0, len(_COLUMNS))
        self.items_table.setHorizontalHeaderLabels([self.tr(c) for c in _COLUMNS])
        self.items_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.items_table.setAccessibleName(self.tr("Notes, decisions and actions"))
        header = self.items_table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.items_table.itemChanged.connect(self._item_edited)
        remove = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.items_table, self.delete_selected)
        remove.setContext(Qt.ShortcutContext.WidgetShortcut)  # Del deletes the selected item, as the button does

        self.kind_combo = QComboBox()
        for kind, label in (("action", self.tr("Action")), ("decision", self.tr("Decision")),
                            ("note", self.tr("Note"))):
            self.kind_combo.addItem(label, kind)
        self.kind_combo.setToolTip(self.tr("Is the new item an action (with an owner), a decision or a note?"))
        self.text_edit = QLineEdit()
        self.text_edit.setPlaceholderText(self.tr("What was decided, or what needs doing"))
        self.owner_edit = QLineEdit()
        self.owner_edit.setPlaceholderText(self.tr("Owner"))
        self.owner_edit.setMaximumWidth(120)
        self.due_check = QCheckBox(self.tr("due"))
        self.due_check.setToolTip(self.tr("Give the action a due date"))
        self.due_edit = QDateEdit(QDate.currentDate().addDays(14))
        self.due_edit.setCalendarPopup(True)
        self.due_edit.setDisplayFormat("yyyy-MM-dd")
        self.kpi_combo = QComboBox()
        self.kpi_combo.setToolTip(self.tr("The KPI this item is about (optional)"))
        self.kpi_combo.setAccessibleName(self.tr("KPI of the item"))
        self.add_button = QPushButton(self.tr("&Add"))
        self.add_button.setToolTip(self.tr("Add this action, decision or note to the review (Enter in the text)"))
        self.add_button.clicked.connect(self.add_item)
        self.text_edit.returnPressed.connect(self.add_item)
        self.delete_button = QPushButton(self.tr("Delete item"))
        self.delete_button.setToolTip(self.tr("Delete the selected action, decision or note (Del)"))
        self.delete_button.clicked.connect(self.delete_selected)
        self.pack_button = QPushButton(self.tr("&Generate pack…"))
        self.pack_button.setToolTip(self.tr("Write the review pack: an Excel workbook and a PDF"))
        self.pack_button.clicked.connect(self.choose_pack_path)
        add_row = QHBoxLayout()
        for widget in (self.kind_combo, self.text_edit, self.owner_edit, self.due_check, self.due_edit,
                       self.kpi_combo, self.add_button):
            add_row.addWidget(widget)
        add_row.setStretchFactor(self.text_edit, 1)
        actions = QHBoxLayout()
        actions.addWidget(self.save_notes_button)
        actions.addWidget(self.delete_button)
        actions.addStretch(1)
        actions.addWidget(self.pack_button)

        # the summary scrolls on its own; a splitter lets the user give the record more room
        summary_scroll = QScrollArea()
        summary_scroll.setWidgetResizable(True)
        summary_scroll.setFrameShape(QFrame.Shape.NoFrame)
        summary_box = QWidget()
        summary_layout = QVBoxLayout(summary_box)
        summary_layout.setContentsMargins(0, 0, 0, 0)
        summary_layout.addWidget(self.title_label)
        summary_layout.addWidget(self.summary)
        summary_layout.addStretch(1)
        summary_scroll.setWidget(summary_box)
        record = QWidget()
        record_layout = QVBoxLayout(record)
        record_layout.setContentsMargins(0, 0, 0, 0)
        record_layout.addWidget(self.notes_edit)
        record_layout.addWidget(self.items_table, 1)
        record_layout.addLayout(add_row)
        record_layout.addLayout(actions)
        detail = QSplitter(Qt.Orientation.Vertical)
        detail.addWidget(summary_scroll)
        detail.addWidget(record)
        detail.setSizes([380, 420])
        self.detail = detail

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(list_box)
        splitter.addWidget(detail)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([260, 800])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)

        self._fill_products()
        self._enable(False)
        self.reload()

    def today(self) -> dt.date:
        return self._today or dt.date.today()

    def _service(self) -> Any:
        from kpidesk.services.review_service import ReviewService

        return ReviewService(self._workspace.db)

    def _enable(self, on: bool) -> None:
        for widget in (self.notes_edit, self.save_notes_button, self.items_table, self.kind_combo, self.text_edit,
                       self.owner_edit, self.due_check, self.due_edit, self.kpi_combo, self.add_button,
                       self.delete_button, self.pack_button):
            widget.setEnabled(on)

    def _fill_products(self) -> None:
        current = self.product_combo.currentData()
        self.product_combo.clear()
        self._products = {p.id: p.name for p in self._workspace.products.list()}
        for product_id, name in sorted(self._products.items(), key=lambda kv: kv[1].lower()):
            self.product_combo.addItem(name, product_id)
        self.product_combo.addItem(self.tr("Portfolio (all products)"), None)
        # keep the choice across refreshes; the first product (not the portfolio) when there was none
        index = self.product_combo.findData(current) if self.product_combo.property("chosen") else 0
        self.product_combo.setCurrentIndex(max(0, index))
        self.product_combo.setProperty("chosen", True)

    # -- loading ---------------------------------------------------------------------------
    def reload(self) -> None:
        """Reload the list of reviews (in the runner)."""
        service = self._service()
        self._runner.submit(lambda progress: service.list(), on_done=self._show_list, key="reviews-list",
                            title=self.tr("Loading reviews"), show_progress=False, owner=self)

    def _show_list(self, reviews: list[Any]) -> None:
        self.review_list.blockSignals(True)
        self.review_list.clear()
        selected = None
        for review in reviews:
            item = QListWidgetItem(_review_label(review, self._products))
            item.setData(_ITEM_ID, review.id)
            item.setToolTip(f"{review.period_start:%d %b %Y} – {review.period_end:%d %b %Y}")
            self.review_list.addItem(item)
            if review.id == self._review_id:
                selected = item
        self.review_list.blockSignals(False)
        self.list_empty.setVisible(not reviews)
        self.review_list.setVisible(bool(reviews))
        if selected is None and self.review_list.count():
            selected = self.review_list.item(0)
        if selected is not None:
            self.review_list.setCurrentItem(selected)
            if selected.data(_ITEM_ID) == self._review_id:
                self.open_review(self._review_id)
        else:
            self.loaded.emit()

    def _review_chosen(self, current: QListWidgetItem | None, _previous: Any = None) -> None:
        if current is not None:
            self.open_review(int(current.data(_ITEM_ID)))

    def open_review(self, review_id: int) -> None:
        """Load the review's content (in the runner) and show it."""
        self._review_id = review_id
        service, today = self._service(), self._today
        self._runner.submit(lambda progress: service.content(review_id, today=today), on_done=self._show_content,
                            key="review-content", title=self.tr("Preparing the review"), show_progress=False,
                            owner=self)

    def _show_content(self, content: Any) -> None:
        from kpidesk.io.review_xlsx import STATUS_GROUP, format_change, format_value, status_label

        if content.review.id != self._review_id:
            return
        self.content = content
        self.title_label.setText(f"<h3>{html.escape(content.title)}</h3>"
                                 f"<p>compared with {html.escape(content.compare.label)}</p>")
        # the palette's own good/warn/bad: fixed light-theme greens and reds were 2.5–2.8 : 1 on the dark base
        c = theme.colors()
        colours = {"good": c.good.name(), "warn": c.warn.name(), "bad": c.bad.name()}
        rows = []
        for h in content.headlines:
            colour = colours.get(STATUS_GROUP.get(h.status, ""), "")
            change_colour = "" if h.good is None else (colours["good"] if h.good else colours["bad"])
            rows.append(f"<tr><td>{html.escape(h.name)}</td>"
                        f"<td align='right'>{html.escape(format_value(h.current, h.unit, h.currency))}</td>"
                        f"<td align='right' style='color:{change_colour}'>{html.escape(format_change(h))}</td>"
                        f"<td style='color:{colour}'>{html.escape(status_label(h.status))}</td></tr>")
        attention = "".join(f"<li>{html.escape(a.subject)}: {html.escape(a.reason)}</li>"
                            for a in content.attention[:6])
        movers = "".join(f"<li>{html.escape(m.headline)}</li>" for m in content.movers[:5])
        self.summary.setText(
            "<table cellspacing='0' cellpadding='2'><tr><th align='left'>KPI</th><th>Current</th><th>Change</th>"
            f"<th align='left'>Status</th></tr>{''.join(rows)}</table>"
            + (f"<p><b>Needs attention</b></p><ul>{attention}</ul>" if attention else "")
            + (f"<p><b>Biggest movers</b></p><ul>{movers}</ul>" if movers else ""))
        self.notes_edit.setPlainText(content.review.notes)
        self.kpi_combo.clear()
        self.kpi_combo.addItem(self.tr("(no KPI)"), None)
        for kpi in content.kpis:
            self.kpi_combo.addItem(kpi.name, kpi.id)
        self._fill_items(content.items, {k.id: k.name for k in content.kpis})
        self._enable(True)
        self.loaded.emit()

    def _fill_items(self, items: list[Any], kpi_names: dict[int, str]) -> None:
        self._filling = True
        self.items_table.setRowCount(len(items))
        self._versions = {}
        for row, item in enumerate(items):
            self._versions[item.id] = item.version
            kind = QTableWidgetItem(item.kind + (" (carried)" if item.carried_from_id else ""))
            kind.setFlags(kind.flags() & ~Qt.ItemFlag.ItemIsEditable)
            kind.setData(_ITEM_ID, item.id)
            done = QTableWidgetItem()
            if item.kind == "action":
                done.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                done.setCheckState(Qt.CheckState.Checked if item.done else Qt.CheckState.Unchecked)
            else:
                done.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            kpi = QTableWidgetItem(kpi_names.get(item.kpi_id, ""))
            kpi.setFlags(kpi.flags() & ~Qt.ItemFlag.ItemIsEditable)
            cells = [kind, QTableWidgetItem(item.text), QTableWidgetItem(item.owner),
                     QTableWidgetItem(item.due_date.isoformat() if item.due_date else ""), done, kpi]
            for col, cell in enumerate(cells):
                self.items_table.setItem(row, col, cell)
        self.items_table.resizeColumnToContents(0)
        self._filling = False

    def refresh(self, changes: Changes) -> None:
        """Reload when ``changes`` touches reviews or the data they show."""
        if changes.touches("product"):
            self._fill_products()
        if changes.touches(*WATCHED):
            self.reload()

    # -- writing ---------------------------------------------------------------------------
    def _write(self, work: Any, title: str) -> None:
        def done(changes: Changes) -> None:
            self.changed.emit(changes)
            self.reload()

        self._runner.submit(lambda progress: work(), on_done=done, write=True, title=title, owner=self)

    def new_review(self) -> None:
        service = self._service()
        product, period, compare = (self.product_combo.currentData(), self.period_edit.text(),
                                    self.compare_combo.currentData())

        def work() -> Changes:
            review, changes = service.create(product, period, compare=compare)
            self._review_id = review.id
            return changes

        self._write(work, self.tr("Creating the review"))

    def save_notes(self) -> None:
        if self._review_id is None:
            return
        service, review_id, text = self._service(), self._review_id, self.notes_edit.toPlainText()
        self._write(lambda: service.set_notes(review_id, text), self.tr("Saving the notes"))

    def add_item(self) -> None:
        if self._review_id is None or not self.text_edit.text().strip():
            return
        service, review_id = self._service(), self._review_id
        kind, text, owner = self.kind_combo.currentData(), self.text_edit.text(), self.owner_edit.text()
        due = self.due_edit.date().toPython() if self.due_check.isChecked() else None
        kpi_id = self.kpi_combo.currentData()
        self.text_edit.clear()
        self._write(lambda: service.add_item(review_id, kind, text, owner=owner, due=due, kpi_id=kpi_id)[1],
                    self.tr("Adding"))

    def _item_edited(self, cell: QTableWidgetItem) -> None:
        if self._filling:
            return
        row, col = cell.row(), cell.column()
        item_id = int(self.items_table.item(row, 0).data(_ITEM_ID))
        fields: dict[str, Any]
        if col == 4:
            fields = {"done": cell.checkState() == Qt.CheckState.Checked}
        elif col == 1:
            fields = {"text": cell.text()}
        elif col == 2:
            fields = {"owner": cell.text()}
        elif col == 3:
            text = cell.text().strip()
            try:
                fields = {"due_date": dt.date.fromisoformat(text) if text else None}
            except ValueError:
                from kpidesk.errors import ValidationError
                from kpidesk.gui.errors import error_dialog

                error_dialog(self, ValidationError(f"'{text}' is not a date; write it like 2026-12-31."))
                self.reload()
                return
        else:
            return
        service, version = self._service(), self._versions.get(item_id)
        self._write(lambda: service.update_item(item_id, expected_version=version, **fields)[1],
                    self.tr("Saving"))

    def set_done(self, row: int, done: bool) -> None:
        """Tick (or untick) the Done box of the action on ``row``, as a click would."""
        self.items_table.item(row, 4).setCheckState(Qt.CheckState.Checked if done else Qt.CheckState.Unchecked)

    def delete_selected(self) -> None:
        row = self.items_table.currentRow()
        if row < 0:
            return
        item_id = int(self.items_table.item(row, 0).data(_ITEM_ID))
        service = self._service()
        self._write(lambda: service.delete_item(item_id), self.tr("Deleting"))

    # -- the pack ----------------------------------------------------------------------------
    def choose_pack_path(self) -> None:
        if self.content is None:
            return
        c = self.content
        suggested = f"{c.product} review {c.period.key}".replace("..", " to ").replace("/", "-") + ".xlsx"
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Save the review pack"), suggested,
                                              self.tr("Excel workbook (*.xlsx)"))
        if path:
            xlsx = Path(path).with_suffix(".xlsx")
            self.generate_pack(xlsx, xlsx.with_suffix(".pdf"))

    def generate_pack(self, xlsx: Path | None, pdf: Path | None) -> Any:
        """Write the pack in the runner; ``pack_written`` carries the written paths."""
        if self._review_id is None:
            return None
        db, review_id, today = self._workspace.db, self._review_id, self._today

        def done(paths: list[Path]) -> None:
            self.pack_written.emit(paths)
            window = self.window()
            bar = getattr(window, "statusBar", None)
            if callable(bar):
                bar().showMessage(self.tr("Review pack written: ") + ", ".join(p.name for p in paths), 8000)

        return self._runner.submit(lambda progress: write_pack(db, review_id, xlsx, pdf, progress, today),
                                   on_done=done, title=self.tr("Writing the review pack"), owner=self)


def create(workspace: Any, runner: Any, parent: QWidget | None = None) -> QWidget:
    """The Reviews page (the main window builds it through this function)."""
    return ReviewsPage(workspace, runner, parent)

"""KPI detail: the trend chart, the editable values, "Why did it move?", the definition."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kpidesk.domain.units import format_value
from kpidesk.gui import theme
from kpidesk.gui.charts.trend_chart import TrendChart
from kpidesk.gui.charts.waterfall import WaterfallChart
from kpidesk.gui.kpi_data import ChartData, allowed_granularities, date_of, load_chart
from kpidesk.gui.models.values_model import ValueRow, ValuesModel, read_value_rows
from kpidesk.gui.undo import AnnotationCommand, SetValueCommand
from kpidesk.gui.undo_push import push
from kpidesk.gui.units import unit_symbol
from kpidesk.services.changes import Changes

GRANULARITY_LABELS = {"day": "Day", "week": "Week", "month": "Month", "quarter": "Quarter", "year": "Year"}
RELEVANT = {"measurement", "kpi", "annotation", "target", "goal"}


class AddValueDialog(QDialog):
    def __init__(self, kpi_name: str, parent: QWidget | None = None, *, unit: str = "", currency: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Add a value to {name}").format(name=kpi_name))
        form = QFormLayout(self)
        self.date = QDateEdit(QDate.currentDate())
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.value = QLineEdit()
        symbol = unit_symbol(unit, currency)
        if unit == "percent":  # stored in percentage points: say so, 0.125 would be 0.125 %
            self.value.setPlaceholderText(self.tr("e.g. 12.5 for 12.5 %"))
        else:
            self.value.setPlaceholderText(self.tr("e.g. 1250 or 12.5"))
        self.note = QLineEdit()
        form.addRow(self.tr("&Period containing:"), self.date)
        form.addRow(self.tr("&Value ({unit}):").format(unit=symbol) if symbol else self.tr("&Value:"), self.value)
        form.addRow(self.tr("&Note:"), self.note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class KpiPage(QWidget):
    """Shows one KPI; :meth:`show_kpi` picks it."""

    status_message = Signal(str)
    error = Signal(object)

    def __init__(
        self,
        workspace: Any,
        runner: Any,
        undo_stack: QUndoStack | None = None,
        notify: Callable[[Changes], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("kpiPage")
        self.ws, self.runner = workspace, runner
        self.undo_stack = undo_stack or QUndoStack(self)
        self._notify = notify or (lambda changes: self.refresh(changes))
        self.kpi_id: int | None = None
        self.kpi: Any = None
        self.segment = ""
        self.chart_data: ChartData | None = None
        self.explanation: Any = None
        self._columns_sized = False
        self._build()

    # -- layout --------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 8)
        head = QHBoxLayout()
        self.title = QLabel(self.tr("Pick a KPI in the navigator or on the dashboard."))
        theme.role(self.title, theme.PAGE_TITLE)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head.addWidget(self.title, 1)
        self.headline = QLabel()
        theme.role(self.headline, theme.SECTION_TITLE)
        head.addWidget(self.headline)
        layout.addLayout(head)
        self.subtitle = QLabel()
        theme.role(self.subtitle, theme.MUTED)
        layout.addWidget(self.subtitle)
        controls = QHBoxLayout()
        self.granularity = QComboBox()
        self.granularity.setToolTip(self.tr("Show the series by day, week, month, quarter or year"))
        for key, label in GRANULARITY_LABELS.items():
            self.granularity.addItem(self.tr(label), key)
        caption = QLabel(self.tr("&Granularity:"))
        caption.setBuddy(self.granularity)
        controls.addWidget(caption)
        controls.addWidget(self.granularity)
        self.rolling = QCheckBox(self.tr("&Rolling mean"))
        self.rolling.setToolTip(self.tr("Trailing mean over a few periods"))
        self.forecast = QCheckBox(self.tr("&Forecast"))
        self.forecast.setToolTip(self.tr("Exponential-smoothing forecast with its 80 % interval"))
        self.forecast.setChecked(True)
        controls.addWidget(self.rolling)
        controls.addWidget(self.forecast)
        self.compare = QComboBox()
        self.compare.setToolTip(self.tr("Draw a second KPI on a second axis"))
        self.compare.setMinimumContentsLength(14)
        compare_caption = QLabel(self.tr("Co&mpare with:"))
        compare_caption.setBuddy(self.compare)
        controls.addWidget(compare_caption)
        controls.addWidget(self.compare)
        self.segment_chip = QPushButton()
        self.segment_chip.setToolTip(self.tr("The chart shows one segment; click to go back to the total"))
        self.segment_chip.hide()
        self.segment_chip.clicked.connect(lambda: self.set_segment(""))
        controls.addWidget(self.segment_chip)
        controls.addStretch(1)
        self.reset_button = QPushButton(self.tr("Reset &zoom"))
        self.reset_button.setToolTip(self.tr("Show the whole series again"))
        self.export_button = QPushButton(self.tr("&Export chart…"))
        self.export_button.setToolTip(self.tr("Save the chart as PNG or SVG"))
        controls.addWidget(self.reset_button)
        controls.addWidget(self.export_button)
        layout.addLayout(controls)
        # why a ticked overlay is missing ("A forecast needs at least 6 values; …"): it was computed and dropped
        self.chart_note = QLabel()
        self.chart_note.setWordWrap(True)
        theme.role(self.chart_note, theme.MUTED)
        self.chart_note.hide()
        layout.addWidget(self.chart_note)
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.chart = TrendChart()
        splitter.addWidget(self.chart)
        self.tabs = QTabWidget()
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)
        self.splitter = splitter
        # values
        values = QWidget()
        vbox = QVBoxLayout(values)
        vbox.setContentsMargins(0, 4, 0, 0)
        row = QHBoxLayout()
        self.add_button = QPushButton(self.tr("&Add value…"))
        self.add_button.setToolTip(self.tr("Record the value of a period (Ctrl+N in the table)"))
        self.delete_button = QPushButton(self.tr("&Delete"))
        self.delete_button.setToolTip(self.tr("Delete the selected values (Del); Ctrl+Z brings them back"))
        row.addWidget(self.add_button)
        row.addWidget(self.delete_button)
        row.addStretch(1)
        self.read_only_note = QLabel()
        theme.role(self.read_only_note, theme.MUTED)
        row.addWidget(self.read_only_note)
        vbox.addLayout(row)
        self.values_model = ValuesModel(self)
        self.table = QTableView()
        self.table.setModel(self.values_model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        vbox.addWidget(self.table)
        self.tabs.addTab(values, self.tr("&Values"))
        # why did it move
        why = QWidget()
        wbox = QVBoxLayout(why)
        self.why_headline = QLabel()
        self.why_headline.setWordWrap(True)
        wbox.addWidget(self.why_headline)
        wsplit = QSplitter(Qt.Orientation.Horizontal)
        self.waterfall = WaterfallChart()
        self.waterfall.setToolTip(self.tr("Click a bar to show that segment in the chart above"))
        self.drivers = QListWidget()
        self.drivers.setWordWrap(True)
        self.drivers.setToolTip(self.tr("Drivers, largest first; activate one to filter the chart to it"))
        wsplit.addWidget(self.waterfall)
        wsplit.addWidget(self.drivers)
        wsplit.setStretchFactor(0, 3)
        wsplit.setStretchFactor(1, 2)
        wbox.addWidget(wsplit, 1)
        self.tabs.addTab(why, self.tr("&Why did it move?"))
        # definition
        self.definition = QTextBrowser()
        self.definition.setOpenExternalLinks(False)
        self.tabs.addTab(self.definition, self.tr("De&finition"))
        # wiring
        self.granularity.currentIndexChanged.connect(lambda: self.reload_chart())
        # the compared KPI follows the granularity too (it stayed monthly under a quarterly series)
        self.granularity.currentIndexChanged.connect(lambda: self._compare_changed())
        self.rolling.toggled.connect(lambda: self._redraw())
        # a forecast fits several models: computed only while the box is ticked
        self.forecast.toggled.connect(
            lambda on: self.reload_chart(reset_view=False) if on else (self._redraw(), self._show_notes()))
        self.compare.currentIndexChanged.connect(self._compare_changed)
        self.reset_button.clicked.connect(self.chart.reset_view)
        self.export_button.clicked.connect(lambda: self.export_chart())
        self.chart.export_requested.connect(self.export_chart)
        self.chart.annotation_requested.connect(self.add_annotation)
        self.add_button.clicked.connect(self.add_value)
        self.delete_button.clicked.connect(self.delete_selected)
        self.values_model.edit_requested.connect(self._edit_requested)
        self.waterfall.bar_clicked.connect(self._driver_chosen)
        self.drivers.itemActivated.connect(lambda item: self._driver_chosen(self.drivers.row(item)))
        self.drivers.itemClicked.connect(lambda item: self._driver_chosen(self.drivers.row(item)))
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.delete_selected)
        # Ctrl+N in the table adds a value. Not a QShortcut: File > New workspace has Ctrl+N too, and
        # two matching shortcuts are "ambiguous" to Qt, so neither ran. The table claims the key first.
        self.table.installEventFilter(self)
        # Tab leaves the table (to the tabs) instead of walking its cells: arrows move between cells
        self.table.setTabKeyNavigation(False)
        self._set_enabled(False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.table and event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress)
                and isinstance(event, QKeyEvent) and event.matches(QKeySequence.StandardKey.New)):
            event.accept()
            if event.type() == QEvent.Type.KeyPress:
                self.add_value()
            return True
        return super().eventFilter(watched, event)

    def _set_enabled(self, enabled: bool) -> None:
        writable = enabled and not self.ws.db.read_only
        # no KPI: the prompt alone, not an empty chart whose legend lists six lines and whose axes
        # count seconds around 1970
        self.splitter.setVisible(enabled)
        if not enabled:
            self.chart_note.hide()
            self.title.setText(self.tr("Pick a KPI in the navigator or on the dashboard."))
            self.subtitle.clear()
            self.headline.clear()
        for widget in (
            self.granularity,
            self.rolling,
            self.forecast,
            self.compare,
            self.reset_button,
            self.export_button,
        ):
            widget.setEnabled(enabled)
        self.add_button.setEnabled(writable)
        self.delete_button.setEnabled(writable)
        self.values_model.read_only = not writable
        reason = self.ws.db.read_only_reason or self.tr("opened read-only")
        self.read_only_note.setText(
            self.tr("Editing is off: {r}").format(r=reason) if self.ws.db.read_only else ""
        )

    # -- showing a KPI ----------------------------------------------------------------
    def show_kpi(self, kpi_id: int) -> None:
        self.kpi_id = kpi_id
        self.kpi = self.ws.kpis.get(kpi_id)
        self.segment = ""
        self.segment_chip.hide()
        product = self.ws.products.get(self.kpi.product_id)
        self.title.setText(f"{product.name} · {self.kpi.name}")
        self.subtitle.setText(
            self.tr("{unit} · {direction} · stored per {freq} · aggregated by {agg}").format(
                # "currency" alone did not say which one
                unit=f"{self.kpi.unit} ({self.kpi.currency})" if self.kpi.unit == "currency" and self.kpi.currency
                else self.kpi.unit,
                freq=self.kpi.frequency,
                agg=self.kpi.aggregation,
                direction={
                    "up": self.tr("higher is better"),
                    "down": self.tr("lower is better"),
                    "band": self.tr("stay inside the band"),
                }.get(self.kpi.direction, self.kpi.direction),
            )
        )
        allowed = allowed_granularities(self.kpi.frequency)
        self.granularity.blockSignals(True)
        model = self.granularity.model()
        for i in range(self.granularity.count()):
            model.item(i).setEnabled(self.granularity.itemData(i) in allowed)  # type: ignore[attr-defined]
        self.granularity.setCurrentIndex(self.granularity.findData(self.kpi.frequency))
        self.granularity.blockSignals(False)
        self.compare.blockSignals(True)
        self.compare.clear()
        self.compare.addItem(self.tr("(nothing)"), 0)
        for other in self.ws.kpis.list():
            if other.id != kpi_id:
                name = (
                    other.name
                    if other.product_id == self.kpi.product_id
                    else f"{other.name} ({self._product_name(other.product_id)})"
                )
                self.compare.addItem(name, other.id)
        self.compare.blockSignals(False)
        self.chart.set_compare(None, None)  # the previous KPI's comparison must not stay on this chart
        self.definition.setHtml(self._definition_html())
        self._set_enabled(True)
        self.reload_chart()
        self.reload_values()

    def _product_name(self, product_id: int) -> str:
        return self.ws.products.get(product_id).name

    def _definition_html(self) -> str:
        k = self.kpi
        rows = [
            (self.tr("Definition"), k.definition),
            (self.tr("Formula"), k.formula_text),
            (self.tr("Derived from"), k.formula or ""),
            (self.tr("Convention"), k.convention),
            (self.tr("Category / stage"), f"{k.category} / {k.stage}"),
            (self.tr("Unit"), k.unit),
            (self.tr("Direction"), k.direction),
            (self.tr("Aggregation"), k.aggregation),
            (self.tr("Frequency"), k.frequency),
            (self.tr("Key"), k.key),
        ]
        body = "".join(
            f"<tr><td style='padding-right:16px'><b>{html.escape(a)}</b></td><td>{html.escape(b or '—')}</td></tr>"
            for a, b in rows
        )
        return f"<table cellspacing='4'>{body}</table>"

    def refresh(self, changes: Changes | None = None) -> None:
        if self.kpi_id is None:
            return
        if changes is not None and not changes.empty:
            if not changes.tables & RELEVANT:
                return
            if changes.kpi_ids and self.kpi_id not in changes.kpi_ids and "kpi" not in changes.tables:
                return
        try:
            self.kpi = self.ws.kpis.get(self.kpi_id)
        except Exception:
            self.kpi_id = None
            self._set_enabled(False)
            return
        self.definition.setHtml(self._definition_html())
        self.reload_chart(reset_view=False)
        self.reload_values()

    def reload_chart(self, *, reset_view: bool = True) -> None:
        if self.kpi_id is None:
            return
        kpi_id, gran, segment = self.kpi_id, self.granularity.currentData(), self.segment
        with_forecast = self.forecast.isChecked()
        self.runner.submit(
            lambda progress: load_chart(self.ws, kpi_id, gran, segment=segment, forecast=with_forecast,
                                        progress=progress),
            on_done=lambda data: self._chart_loaded(data, reset_view),
            key="kpi-chart",
            show_progress=False,
            owner=self,
            title=self.tr("Loading the chart"),
        )

    def _chart_loaded(self, data: ChartData, reset_view: bool) -> None:
        if data.kpi_id != self.kpi_id:
            return
        self.chart_data = data
        self._redraw(reset_view=reset_view)
        self._show_notes()
        if len(data.y):
            change = ""
            if len(data.y) > 1 and data.y[-2]:
                change = f"  {100 * (data.y[-1] - data.y[-2]) / abs(data.y[-2]):+.1f} %"
            self.headline.setText(f"{format_value(float(data.y[-1]), data.unit, data.currency)}{change}")
        else:
            self.headline.setText(self.tr("no values yet"))
        if not self.segment:
            self.reload_explanation()

    def _show_notes(self) -> None:
        notes = [] if self.chart_data is None else [
            note for note in self.chart_data.notes if self.forecast.isChecked() or "forecast" not in note.lower()]
        self.chart_note.setText(" ".join(notes))
        self.chart_note.setVisible(bool(notes))

    def _redraw(self, reset_view: bool = False) -> None:
        if self.chart_data is not None:
            self.chart.set_data(
                self.chart_data,
                show_rolling=self.rolling.isChecked(),
                show_forecast=self.forecast.isChecked(),
                reset_view=reset_view,
            )

    def reload_values(self) -> None:
        kpi_id = self.kpi_id
        if kpi_id is None:
            return

        def work(progress: Any) -> list[ValueRow]:
            return read_value_rows(self.ws, kpi_id)

        self.runner.submit(
            work,
            on_done=lambda rows: self._values_loaded(kpi_id, rows),
            key="kpi-values",
            show_progress=False,
            owner=self,
        )

    def _values_loaded(self, kpi_id: int, rows: list[ValueRow]) -> None:
        if kpi_id == self.kpi_id and self.kpi is not None:
            self.values_model.set_rows(rows, self.kpi.unit, self.kpi.currency, self.kpi.frequency, presorted=True)
            if not self._columns_sized:
                # measured on the first rows only: sizing to 40,000 rows would freeze the window
                header = self.table.horizontalHeader()
                header.setResizeContentsPrecision(50)
                for column in (0, 1, 2, 4, 5):  # the note (3) takes the rest
                    self.table.resizeColumnToContents(column)
                self._columns_sized = True

    # -- why did it move ----------------------------------------------------------------
    def reload_explanation(self) -> None:
        data, kpi = self.chart_data, self.kpi
        if data is None or kpi is None or not len(data.x):
            self.why_headline.setText(self.tr("Nothing to explain yet: this KPI has no values."))
            return
        period = date_of(float(data.x[-1]))
        freq = data.granularity
        kpi_id = kpi.id

        def work(progress: Any) -> Any:
            # imported here: pandas-heavy, and the GUI thread should not pay for the import
            from kpidesk.services.explain_service import ExplainService

            return ExplainService(self.ws.db).explain(kpi_id, period, frequency=freq)

        self.runner.submit(
            work,
            on_done=self._explained,
            on_error=self._explain_failed,
            key="kpi-explain",
            show_progress=False,
            owner=self,
        )

    def _explain_failed(self, exc: BaseException) -> None:
        message = getattr(exc, "message", None)
        self.why_headline.setText(message or self.tr("This move could not be explained ({e}).").format(e=exc))
        self.drivers.clear()

    def _explained(self, explanation: Any) -> None:
        self.explanation = explanation
        self.why_headline.setText(f"<b>{html.escape(explanation.headline)}</b>")
        self.drivers.clear()
        drivers = list(explanation.drivers)
        for driver in drivers:
            item = QListWidgetItem(driver.sentence)
            item.setToolTip(
                self.tr("Show only {s} in the chart").format(s=driver.segment)
                if driver.segment
                else driver.sentence
            )
            self.drivers.addItem(item)
        if not drivers:
            self.drivers.addItem(
                self.tr("No segments are recorded for this KPI, so there is nothing to break down.")
            )
        up_is_good = self.kpi is None or self.kpi.direction != "down"
        self.waterfall.set_bars(
            explanation.base_value,
            [d.contribution for d in drivers],
            [d.label for d in drivers],
            explanation.current_value,
            up_is_good=up_is_good,
            base_label=explanation.compare_label,
            current_label=explanation.period_label,
        )

    def _driver_chosen(self, index: int) -> None:
        if self.explanation is None:
            return
        drivers = list(self.explanation.drivers)
        if 0 <= index < len(drivers) and drivers[index].segment:
            self.set_segment(drivers[index].segment)

    def set_segment(self, segment: str) -> None:
        self.segment = segment
        self.segment_chip.setText(self.tr("Segment: {s}  ✕").format(s=segment))
        self.segment_chip.setVisible(bool(segment))
        self.reload_chart()

    # -- compare ----------------------------------------------------------------------------
    def _compare_changed(self) -> None:
        other = self.compare.currentData()
        if not other:
            self.chart.set_compare(None, None)
            return
        gran = self.granularity.currentData()
        self.runner.submit(
            lambda progress: load_chart(
                self.ws, other, gran, rolling=False, forecast=False, anomalies=False, progress=progress
            ),
            on_done=lambda d: self.chart.set_compare(d.x, d.y, d.name, d.unit, d.currency),
            key="kpi-compare",
            show_progress=False,
            owner=self,
        )

    # -- editing ------------------------------------------------------------------------------
    def _run(self, command: Any) -> bool:
        try:
            push(self.undo_stack, command)
        except Exception as exc:
            self.error.emit(exc)
            return False
        return True

    def _edit_requested(self, row: ValueRow, column: str, value: Any) -> None:
        if column == "value":
            text = str(value).strip()  # an emptied cell deletes the value
            command = SetValueCommand(
                self.ws,
                self._notify,
                self.kpi_id,
                row.period_start,
                text or None,
                segment=row.segment,
                expected_version=row.version,
                text=self.tr("Edit {p}").format(p=row.period_start) if text else self.tr("Delete value"),
            )
        else:
            if row.value is None:
                return
            command = SetValueCommand(
                self.ws,
                self._notify,
                self.kpi_id,
                row.period_start,
                row.value,
                segment=row.segment,
                expected_version=row.version,
                note=str(value),
                text=self.tr("Edit note"),
            )
        self._run(command)

    def add_value(self) -> None:
        if self.kpi is None or self.ws.db.read_only:
            return
        dialog = AddValueDialog(self.kpi.name, self, unit=self.kpi.unit, currency=self.kpi.currency or "")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def accepted() -> None:
            day = dialog.date.date().toPython()
            self.record_value(day, dialog.value.text(), note=dialog.note.text())

        dialog.accepted.connect(accepted)
        dialog.open()

    def record_value(self, day: dt.date, value: Any, *, note: str = "", segment: str = "") -> bool:
        from kpidesk.domain.periods import period_start

        start = period_start(day, self.kpi.frequency)
        return self._run(
            SetValueCommand(
                self.ws,
                self._notify,
                self.kpi_id,
                start,
                value,
                segment=segment,
                note=note,
                text=self.tr("Add value for {p}").format(p=start),
            )
        )

    def delete_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        if not rows or self.ws.db.read_only:
            return
        chosen = [self.values_model.row_at(r) for r in rows]
        self.undo_stack.beginMacro(self.tr("Delete {n} value(s)").format(n=len(chosen)))
        try:
            for row in chosen:
                if not self._run(
                    SetValueCommand(
                        self.ws, self._notify, self.kpi_id, row.period_start, None, segment=row.segment
                    )
                ):
                    break
        finally:
            self.undo_stack.endMacro()

    def add_annotation(self, x: float) -> None:
        if self.kpi_id is None:
            return
        if self.ws.db.read_only:
            self.status_message.emit(self.tr("This workspace is read-only; annotations cannot be added."))
            return
        day = date_of(x)
        text, ok = QInputDialog.getText(
            self,
            self.tr("Add annotation"),
            self.tr("Note for {d} (e.g. 'pricing change shipped'):").format(d=day),
        )
        if ok and text.strip():
            self.annotate(day, text.strip())

    def annotate(self, day: dt.date, text: str) -> bool:
        return self._run(AnnotationCommand(self.ws, self._notify, self.kpi_id, day, text))

    def export_chart(self, kind: str = "png") -> None:
        if self.kpi is None:
            return
        suggested = f"{self.kpi.key}.{kind}"
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Export chart"), suggested, self.tr("PNG image (*.png);;SVG drawing (*.svg)")
        )
        if path:
            self.chart.export(path)
            self.status_message.emit(self.tr("Chart saved to {p}").format(p=path))

"""Goals grouped by objective: the plain data of the Goals page and its Qt tree model.

:func:`load_goal_board` (no Qt; runs on a worker thread) reads every goal with
its KPI series and check-ins and evaluates it with the goal rules of
:mod:`kpidesk.domain.goals` — status, progress, pace, forecast at the due date,
probability, SMART findings. :class:`GoalTreeModel` shows the result: objectives
at the top level (status of their worst goal, mean progress), goals under them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from kpidesk.domain.goals import (
    GoalEvaluation,
    GoalStatus,
    ObjectiveSummary,
    SmartFinding,
    summarize_objective,
)
from kpidesk.domain.periods import period_label
from kpidesk.gui import theme
from kpidesk.gui.units import with_unit

#: Status colours, mid-tones that read on light and dark backgrounds.
STATUS_COLOURS = {
    GoalStatus.ACHIEVED: "#2e7d32",
    GoalStatus.ON_TRACK: "#43a047",
    GoalStatus.BEHIND: "#f9a825",
    GoalStatus.AT_RISK: "#e65100",
    GoalStatus.OVERDUE: "#8e24aa",
    GoalStatus.MISSED: "#c62828",
}

# status words as text on the palette's base: the badge colours above were 1.8–2.8 : 1 on the dark
# base (overdue, achieved) and 1.9 : 1 on white (behind); these keep the hues and read at ≥ 4.5 : 1
STATUS_TEXT_COLOURS = {
    False: {
        GoalStatus.ACHIEVED: "#1b5e20", GoalStatus.ON_TRACK: "#2e7d32", GoalStatus.BEHIND: "#8a5a00",
        GoalStatus.AT_RISK: "#b23c00", GoalStatus.OVERDUE: "#7b1fa2", GoalStatus.MISSED: "#c62828",
    },
    True: {
        GoalStatus.ACHIEVED: "#6fd39f", GoalStatus.ON_TRACK: "#81c784", GoalStatus.BEHIND: "#f0b44c",
        GoalStatus.AT_RISK: "#ff9a5c", GoalStatus.OVERDUE: "#d9a0ec", GoalStatus.MISSED: "#ff7b70",
    },
}


def status_text_colour(status: GoalStatus) -> QColor:
    """The colour of a status word written on the current palette's base (light or dark)."""
    return QColor(STATUS_TEXT_COLOURS[theme.colors().dark][status])


NO_OBJECTIVE = "Goals without an objective"

#: The model's own roles: the row object, and the progress fraction for the bar delegate.
RowRole = Qt.ItemDataRole.UserRole + 1
ProgressRole = Qt.ItemDataRole.UserRole + 2
StatusRole = Qt.ItemDataRole.UserRole + 3


@dataclass(frozen=True)
class CheckinRow:
    id: int
    date: dt.date
    value: float | None
    confidence: int | None
    note: str


@dataclass(frozen=True)
class GoalRow:
    """One goal as the page shows it."""

    goal_id: int
    fields: dict[str, Any]  # the goal table's columns (what the edit dialog loads)
    product: str
    kpi_name: str
    unit: str
    evaluation: GoalEvaluation
    findings: list[SmartFinding]
    checkins: list[CheckinRow] = field(default_factory=list)
    currency: str = ""

    @property
    def title(self) -> str:
        return self.evaluation.title


@dataclass(frozen=True)
class ObjectiveGroup:
    objective_id: int | None
    title: str
    summary: ObjectiveSummary
    goals: list[GoalRow]


def load_goal_board(workspace: Any, *, today: dt.date, product_id: int | None = None) -> list[ObjectiveGroup]:
    """Every goal evaluated as of ``today`` through the goal service, grouped by objective
    (objectives by title, the group of goals without an objective last; goals as the
    service orders them: product, due date)."""
    from kpidesk.services.goal_service import GoalService

    service = GoalService(workspace.db)
    products = {p.id: p.name for p in workspace.products.list(include_archived=True)}
    titles: dict[int, str] = {}
    grouped: dict[int | None, list[GoalRow]] = {}
    for stored in service.list(product_id):
        kpi = service.kpi_of(stored)
        if stored.objective_id is not None and stored.objective_id not in titles:
            titles[stored.objective_id] = service.objective_title(stored.objective_id)
        evaluation = service.evaluate(stored, today=today)
        findings = service.smart_check(stored)
        fields = stored.model_dump()
        fields["objective"] = titles.get(stored.objective_id, "") if stored.objective_id else ""
        fields["created"] = stored.created_at.date()
        checkins = [CheckinRow(c.id, c.date, c.value, c.confidence, c.note)
                    for c in reversed(service.checkins(stored.id))]
        grouped.setdefault(stored.objective_id, []).append(GoalRow(
            goal_id=stored.id, fields=fields, product=products.get(kpi.product_id, ""), kpi_name=kpi.name,
            unit=kpi.unit, evaluation=evaluation, findings=findings, checkins=checkins,
            currency=kpi.currency or "",
        ))
    groups = []
    for oid, rows in grouped.items():
        title = titles.get(oid, NO_OBJECTIVE) if oid is not None else NO_OBJECTIVE
        groups.append(ObjectiveGroup(oid, title, summarize_objective(title, [r.evaluation for r in rows]), rows))
    groups.sort(key=lambda g: (g.objective_id is None, g.title.casefold()))
    return groups


def number(value: float) -> str:
    """A KPI value for a table cell: thousands grouped and no exponent ("18,820", "92.7", "0.035")."""
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{value:.4g}" if size >= 0.001 or size == 0 else f"{value:.2e}"


def forecast_text(evaluation: GoalEvaluation, unit: str = "", currency: str = "") -> str:
    """The projected value for the due period, with its unit ("58.86 %" — a bare 58.86 said nothing);
    its 80 % interval is in the tooltip and the detail."""
    forecast = evaluation.forecast
    if forecast is None:
        return ""
    return with_unit(number(forecast.value), unit, currency)


def interval_text(evaluation: GoalEvaluation, unit: str = "", currency: str = "") -> str:
    forecast = evaluation.forecast
    if forecast is None:
        return ""
    def show(value: float) -> str:
        return with_unit(number(value), unit, currency)

    return f"{show(forecast.value)} (80 % interval {show(forecast.low)} – {show(forecast.high)})"


def chance_text(evaluation: GoalEvaluation) -> str:
    forecast = evaluation.forecast
    if forecast is None or forecast.probability is None:
        return ""
    return f"{forecast.probability:.0%}"


class GoalTreeModel(QAbstractItemModel):
    """Two levels: objectives (internal id 0), goals (internal id = 1 + objective row)."""

    COLUMNS = ("Goal", "Status", "Progress", "Pace", "Forecast", "Chance", "Due")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._groups: list[ObjectiveGroup] = []
        self._headers = [
            self.tr("Goal"), self.tr("Status"), self.tr("Progress"), self.tr("Pace"),
            self.tr("Forecast"), self.tr("Chance"), self.tr("Due"),
        ]
        self._header_tips = {
            2: self.tr("Share of the way from the baseline to the target"),
            3: self.tr("Progress against the progress expected by now (100 % = on schedule)"),
            4: self.tr("The KPI's projected value for the due period (trend of recent values)"),
            5: self.tr("Probability that the goal is met in the due period"),
        }

    def set_groups(self, groups: list[ObjectiveGroup]) -> None:
        self.beginResetModel()
        self._groups = list(groups)
        self.endResetModel()

    @property
    def groups(self) -> list[ObjectiveGroup]:
        return self._groups

    # -- structure ----------------------------------------------------------------------------
    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        if parent.internalId() == 0:
            return self.createIndex(row, column, parent.row() + 1)
        return QModelIndex()

    def parent(self, child: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not child.isValid():
            return QModelIndex()
        group = child.internalId()
        if group == 0:
            return QModelIndex()
        return self.createIndex(group - 1, 0, 0)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._groups)
        if parent.column() != 0:
            return 0
        if parent.internalId() == 0:
            return len(self._groups[parent.row()].goals)
        return 0

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._headers):
            return self._headers[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return self._header_tips.get(section)
        return None

    def row_at(self, index: QModelIndex) -> GoalRow | ObjectiveGroup | None:
        if not index.isValid():
            return None
        group = index.internalId()
        if group == 0:
            return self._groups[index.row()]
        return self._groups[group - 1].goals[index.row()]

    def index_of_goal(self, goal_id: int) -> QModelIndex:
        for g, group in enumerate(self._groups):
            for r, row in enumerate(group.goals):
                if row.goal_id == goal_id:
                    return self.index(r, 0, self.index(g, 0))
        return QModelIndex()

    # -- data ---------------------------------------------------------------------------------
    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self.row_at(QModelIndex(index))
        if role == RowRole:
            return item
        if isinstance(item, ObjectiveGroup):
            return self._group_data(item, index.column(), role)
        assert isinstance(item, GoalRow)
        return self._goal_data(item, index.column(), role)

    def _group_data(self, group: ObjectiveGroup, column: int, role: int) -> Any:
        summary = group.summary
        status = summary.status
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return f"{group.title} ({summary.goal_count})"
            if column == 1:
                return self.tr(status.label) if status else ""
            if column == 2:
                return "" if summary.average_progress is None else f"{summary.average_progress:.0%}"
            return None
        if role == ProgressRole and column == 2:
            return summary.average_progress
        if role == StatusRole:
            return status.value if status else None
        if role == Qt.ItemDataRole.ForegroundRole and column == 1 and status:
            return QBrush(status_text_colour(status))
        if role == Qt.ItemDataRole.FontRole and column == 0:
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return summary.line()
        return None

    def _goal_data(self, row: GoalRow, column: int, role: int) -> Any:
        ev = row.evaluation
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return ev.title
            if column == 1:
                return self.tr(ev.status.label) + (" ⚠" if ev.stale else "")
            if column == 2:
                return "" if ev.progress is None else f"{ev.progress:.0%}"
            if column == 3:
                return "" if ev.pace is None else f"{ev.pace:.0%}"
            if column == 4:
                return forecast_text(ev, row.unit, row.currency)
            if column == 5:
                return chance_text(ev)
            if column == 6:
                return row.fields["due_date"].isoformat()
            return None
        if role == ProgressRole and column == 2:
            return ev.progress
        if role == StatusRole:
            return ev.status.value
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            return QBrush(status_text_colour(ev.status))
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 4 and ev.forecast is not None:
                return interval_text(ev, row.unit, row.currency)
            if column == 0:
                return f"{ev.title}\n{row.product} · {row.kpi_name}\n{ev.reason}"
            return ev.reason
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (2, 3, 4, 5):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.AccessibleTextRole and column == 1:
            return f"{ev.status.label}: {ev.reason}"
        return None


def due_label(row: GoalRow) -> str:
    """"Sep 2024" style label of the goal's due period."""
    return period_label(row.fields["due_date"], row.evaluation.kpi.frequency)


class CheckinTableModel(QAbstractItemModel):
    """A flat table of one goal's check-ins, newest first."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[CheckinRow] = []
        self._headers = [self.tr("Date"), self.tr("Value"), self.tr("Confidence"), self.tr("Note")]

    def set_rows(self, rows: list[CheckinRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if parent.isValid() or not self.hasIndex(row, column, parent):
            return QModelIndex()
        return self.createIndex(row, column, 0)

    def parent(self, child: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        return QModelIndex()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 4

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < 4:
            return self._headers[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        row = self._rows[index.row()]
        return [
            row.date.isoformat(),
            "" if row.value is None else f"{row.value:,.4g}",
            "" if row.confidence is None else f"{row.confidence}/10",
            row.note,
        ][index.column()]

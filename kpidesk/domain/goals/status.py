"""Goal status: on track / behind / at risk / achieved / missed / overdue.

Rules (METRICS.md, "Goal status"), evaluated on the KPI series as of ``today``:

1. The deadline has passed (``today > due``):
   - the value for the due period is in → **achieved** if it meets the goal,
     else **missed**;
   - it is not in yet → **overdue** (the final result is still unknown).
2. Before the deadline, increase/decrease goals whose latest value already
   meets the target are **achieved**.
3. Otherwise ``pace = progress / expected progress`` for the latest period:
   **on track** at ``pace ≥ on_track`` (default 95 %), **behind** at
   ``pace ≥ behind`` (85 %), **at risk** below. With nothing expected yet
   (goal just started), on track unless the KPI moved the wrong way.
   Holding goals (stay above/below, keep in band) are on track while in,
   at risk while out.
4. Stale data — no value in the last two complete periods of the KPI's
   frequency — is flagged, and a goal that would be on track is reported as
   **behind**: kpidesk never calls a goal on track on data it does not have.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from kpidesk.domain.enums import Frequency, GoalKind
from kpidesk.domain.goals.forecast import DeadlineForecast, forecast_to_deadline, period_index
from kpidesk.domain.goals.model import (
    MOVING_KINDS,
    Goal,
    KpiInfo,
    Series,
    band_of,
    meets,
    num,
    resolve_target,
    signed,
    sorted_series,
)
from kpidesk.domain.goals.progress import expected_progress, pace, progress
from kpidesk.domain.goals.targets import TargetSchedule
from kpidesk.domain.periods import period_label, period_start
from kpidesk.errors import ValidationError

STALE_PERIODS = 2
FREQ_ADJECTIVE = {
    Frequency.DAY: "daily",
    Frequency.WEEK: "weekly",
    Frequency.MONTH: "monthly",
    Frequency.QUARTER: "quarterly",
    Frequency.YEAR: "yearly",
}


class GoalStatus(StrEnum):
    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    BEHIND = "behind"
    AT_RISK = "at_risk"
    OVERDUE = "overdue"
    MISSED = "missed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


#: Worst last: an objective takes the status of its worst goal.
SEVERITY = {
    GoalStatus.ACHIEVED: 0,
    GoalStatus.ON_TRACK: 1,
    GoalStatus.BEHIND: 2,
    GoalStatus.AT_RISK: 3,
    GoalStatus.OVERDUE: 4,
    GoalStatus.MISSED: 5,
}


@dataclass(frozen=True)
class StatusBands:
    """Pace thresholds: on track at ``pace ≥ on_track``, behind at ``pace ≥ behind``, else at risk."""

    on_track: float = 0.95
    behind: float = 0.85

    def __post_init__(self) -> None:
        if not 0 < self.behind <= self.on_track:
            raise ValidationError(
                f"Status bands must satisfy 0 < behind ({self.behind:g}) ≤ on track ({self.on_track:g})."
            )

    def classify(self, pace_value: float) -> GoalStatus:
        if pace_value >= self.on_track:
            return GoalStatus.ON_TRACK
        if pace_value >= self.behind:
            return GoalStatus.BEHIND
        return GoalStatus.AT_RISK


DEFAULT_BANDS = StatusBands()


def missing_periods(latest_period: dt.date | None, today: dt.date, kpi: KpiInfo, since: dt.date) -> int:
    """Complete periods with no value between the latest value and ``today``.

    Complete periods are those before the period containing ``today``. With no
    value at all, the count runs from the period containing ``since`` (the
    goal's start). Example (monthly, today 25 Nov): latest Aug → Sep and Oct
    missing → 2.
    """
    freq = kpi.freq
    current = period_index(today, freq)
    if latest_period is None:
        return max(0, current - period_index(since, freq))
    return max(0, current - period_index(latest_period, freq) - 1)


@dataclass(frozen=True)
class GoalEvaluation:
    """Everything the goal list, the dashboard and ``kpidesk status`` show about one goal."""

    goal: Goal
    kpi: KpiInfo
    status: GoalStatus
    reason: str
    target: float | None
    band: tuple[float, float] | None
    latest: tuple[dt.date, float] | None
    progress: float | None
    expected: float | None
    pace: float | None
    stale: bool
    missing: int
    forecast: DeadlineForecast | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.goal.statement or f"{self.kpi.name}: {self.goal.kind.value.replace('_', ' ')}"

    @property
    def goal_text(self) -> str:
        """The condition in words: "≥ 50", "≤ 3.5", "within 95–99"."""
        if self.band is not None:
            return f"within {num(self.band[0])}–{num(self.band[1])}"
        if self.target is None:
            return "no target"
        sign = "≥" if self.goal.kind in (GoalKind.INCREASE_TO, GoalKind.STAY_ABOVE) else "≤"
        return f"{sign} {num(self.target)}"


def _value_text(point: tuple[dt.date, float], kpi: KpiInfo) -> str:
    return f"{num(point[1])} ({period_label(point[0], kpi.freq)})"


def evaluate_goal(
    goal: Goal,
    kpi: KpiInfo,
    series: Series,
    today: dt.date,
    *,
    schedule: TargetSchedule | None = None,
    bands: StatusBands = DEFAULT_BANDS,
    with_forecast: bool = True,
) -> GoalEvaluation:
    """Status, progress, pace and forecast of ``goal`` on ``series`` as of ``today`` (module rules)."""
    goal = goal.with_baseline(series, kpi.frequency)
    freq = kpi.freq
    points = sorted_series(series)
    try:
        target = resolve_target(goal)
    except ValidationError:  # e.g. a percent change on a zero baseline: reported below, not raised
        target = None
    band = band_of(goal)
    due_period = period_start(goal.due, freq)
    start_period = period_start(goal.start, freq)
    # the value that settles a finished goal is the due period's, not a later one
    judged_points = [p for p in points if p[0] <= due_period]
    latest = judged_points[-1] if judged_points else None
    since_start = [p for p in judged_points if p[0] >= start_period]
    missing = missing_periods(points[-1][0] if points else None, today, kpi, goal.start)
    open_goal = today <= goal.due
    stale = open_goal and today >= goal.start and missing >= STALE_PERIODS

    forecast = None
    if with_forecast and open_goal:
        forecast = forecast_to_deadline(points, freq, goal.due, goal.kind, target, band=band,
                                        bounds=(kpi.low, kpi.high))

    prog = exp = pace_value = None
    if latest is not None:
        prog = progress(goal.kind, goal.baseline_value, target, latest[1], band)
        exp = expected_progress(goal, goal.baseline_value, target, latest[0], freq, schedule=schedule)
        pace_value = pace(prog, exp)

    def result(status: GoalStatus, reason: str) -> GoalEvaluation:
        return GoalEvaluation(
            goal, kpi, status, reason, target, band, latest, prog, exp, pace_value, stale, missing, forecast
        )

    goal_words = _goal_words(goal, target, band)
    if target is None and band is None:
        if goal.baseline_value == 0:
            # "the KPI has none" would be false: the baseline is there, it is zero
            why = "a change in percent of a baseline of 0 is still 0; set an absolute target instead."
        else:
            why = "a relative target needs a baseline value and the KPI has none."
        return result(GoalStatus.AT_RISK, f"The target cannot be worked out: {why}")

    if not open_goal:
        due_label = period_label(due_period, freq)
        if latest is not None and latest[0] == due_period:
            if meets(goal.kind, latest[1], target, band):
                return result(
                    GoalStatus.ACHIEVED, f"{due_label} closed at {num(latest[1])}, meeting the goal ({goal_words})."
                )
            return result(
                GoalStatus.MISSED,
                f"Due {goal.due.isoformat()} passed; {due_label} closed at {num(latest[1])}, "
                f"short of the goal ({goal_words}){_progress_tail(prog)}.",
            )
        last = f"the last value is {_value_text(latest, kpi)}" if latest else "there is no value"
        return result(
            GoalStatus.OVERDUE,
            f"Due {goal.due.isoformat()} passed and {due_label} has no value yet; {last} "
            f"vs the goal ({goal_words}). Record it to close the goal.",
        )

    if today < goal.start:
        base = "" if goal.baseline_value is None else f" from a baseline of {num(goal.baseline_value)}"
        return result(GoalStatus.ON_TRACK, f"Starts on {goal.start.isoformat()}{base}; goal {goal_words}.")
    if latest is None:
        return result(
            GoalStatus.AT_RISK,
            f"No value recorded for {kpi.name}, so progress towards the goal ({goal_words}) is unknown.",
        )

    stale_text = ""
    if stale:
        stale_text = (
            f" No value for {missing} {FREQ_ADJECTIVE[freq]} period{'s' if missing != 1 else ''} since "
            f"{period_label(points[-1][0], freq)}: the data is stale."
        )

    if goal.kind in MOVING_KINDS:
        if since_start and meets(goal.kind, latest[1], target, None):
            return result(
                GoalStatus.ACHIEVED,
                f"Reached: {_value_text(latest, kpi)} meets the goal ({goal_words}) before the due date.{stale_text}",
            )
        assert prog is not None
        assert exp is not None
        if pace_value is None:
            status = GoalStatus.ON_TRACK if prog >= 0 else GoalStatus.BEHIND
            reason = f"Just started: latest {_value_text(latest, kpi)}, goal {goal_words}."
        else:
            status = bands.classify(pace_value)
            reason = (
                f"Progress {prog:.0%} vs {exp:.0%} expected by {period_label(latest[0], freq)} "
                f"(pace {pace_value:.0%}); latest {num(latest[1])}, goal {goal_words}."
            )
            if status in (GoalStatus.BEHIND, GoalStatus.AT_RISK) and target is not None:
                reason += _catch_up(latest, target, due_period, freq, forecast)
    else:
        inside = meets(goal.kind, latest[1], target, band)
        status = GoalStatus.ON_TRACK if inside else GoalStatus.AT_RISK
        where = "inside" if inside else "outside"
        reason = f"Latest {_value_text(latest, kpi)} is {where} the goal ({goal_words})."

    if stale and status is GoalStatus.ON_TRACK:
        status = GoalStatus.BEHIND
        reason = reason + stale_text + " Not reported as on track until new values arrive."
    elif stale:
        reason += stale_text
    return result(status, reason)


def _goal_words(goal: Goal, target: float | None, band: tuple[float, float] | None) -> str:
    if band is not None:
        return f"within {num(band[0])}–{num(band[1])}"
    if target is None:
        return "no target"
    verb = {
        GoalKind.INCREASE_TO: "reach ≥",
        GoalKind.DECREASE_TO: "reach ≤",
        GoalKind.STAY_ABOVE: "stay ≥",
        GoalKind.STAY_BELOW: "stay ≤",
    }[goal.kind]
    return f"{verb} {num(target)}"


def _catch_up(
    latest: tuple[dt.date, float],
    target: float,
    due_period: dt.date,
    freq: Frequency,
    forecast: DeadlineForecast | None,
) -> str:
    """What it takes from here: ``(target − latest) / periods left`` per period, against the trend's slope.

    Example: latest 120 in June, target 160 in December → (160 − 120)/6 = +6.67 a month.
    """
    left = period_index(due_period, freq) - period_index(latest[0], freq)
    if left <= 0:
        return ""
    per = {Frequency.DAY: "day", Frequency.WEEK: "week", Frequency.MONTH: "month",
           Frequency.QUARTER: "quarter", Frequency.YEAR: "year"}[freq]
    needed = (target - latest[1]) / left
    trend = "" if forecast is None else f"; the trend gives {signed(forecast.slope)}"
    return f" Needs {signed(needed)} a {per} from here{trend}."


def _progress_tail(prog: float | None) -> str:
    return "" if prog is None else f" after {prog:.0%} of the way"

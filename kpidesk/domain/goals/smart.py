"""The SMART check: one finding per letter, each pass / warn / fail with a sentence.

- **Specific**: the statement names the KPI and the change.
- **Measurable**: a numeric target (or band), a KPI with a unit and data.
- **Achievable**: the rate of change the goal requires, against the best rate
  the KPI has shown over a window as long as the goal's horizon, and the
  forecast's probability of meeting the goal (see :mod:`.forecast`).
- **Relevant**: a linked objective or a rationale.
- **Time-bound**: start before due, due in the future when the goal is
  created, and a horizon long enough for the KPI's frequency to show progress.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from kpidesk.domain.enums import Direction
from kpidesk.domain.goals.forecast import forecast_to_deadline, period_index
from kpidesk.domain.goals.model import (
    MOVING_KINDS,
    Goal,
    KpiInfo,
    Series,
    band_of,
    direction_of,
    meets,
    num,
    resolve_target,
    signed,
    sorted_series,
)
from kpidesk.domain.goals.status import FREQ_ADJECTIVE
from kpidesk.domain.periods import period_start
from kpidesk.errors import KpideskError

#: Required rate above this multiple of the best observed rate fails Achievable.
FAIL_RATIO = 2.0
#: Forecast probabilities below these fail / warn Achievable.
FAIL_PROBABILITY = 0.1
WARN_PROBABILITY = 0.5
#: Horizons over this many days are too far out to steer by.
MAX_HORIZON_DAYS = 3 * 366

CHANGE_WORDS = {
    "increase", "raise", "grow", "lift", "improve", "boost", "double", "triple", "reach", "hit",
    "achieve", "get", "bring", "reduce", "decrease", "cut", "lower", "drop", "shrink", "halve",
    "keep", "stay", "maintain", "hold", "stabilise", "stabilize", "limit", "above", "below",
}


class Verdict(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class SmartFinding:
    letter: str  # S, M, A, R, T
    name: str  # Specific, Measurable, ...
    verdict: Verdict
    sentence: str

    def line(self) -> str:
        return f"{self.letter} {self.name:<11} {self.verdict.value:<4}  {self.sentence}"


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def check_specific(goal: Goal, kpi: KpiInfo) -> SmartFinding:
    """Pass when the statement names the KPI and the change; warn when one is missing; fail when empty.

    The KPI counts as named when the statement contains its name, its key
    (underscores read as spaces), or at least half of the name's words of four
    letters or more. The change counts as named by a change verb (increase,
    reduce, keep, ...) or a number.
    """
    text = goal.statement.strip()
    if not text:
        return SmartFinding("S", "Specific", Verdict.FAIL, "There is no statement; say what changes, "
                            f"e.g. \"Increase {kpi.name} to … by …\".")
    lowered = " ".join(_words(text))
    words = set(lowered.split())
    name_words = [w for w in _words(kpi.name) if len(w) >= 4]
    names_kpi = (
        " ".join(_words(kpi.name)) in lowered
        or " ".join(_words(kpi.key.replace("_", " "))) in lowered
        or (bool(name_words) and sum(w in words for w in name_words) * 2 >= len(name_words))
    )
    names_change = bool(words & CHANGE_WORDS) or bool(re.search(r"\d", text))
    if names_kpi and names_change:
        return SmartFinding("S", "Specific", Verdict.PASS, f"The statement names {kpi.name} and the change.")
    if not names_kpi and not names_change:
        return SmartFinding("S", "Specific", Verdict.FAIL,
                            f"The statement names neither the KPI ({kpi.name}) nor the change to make.")
    missing = f"the KPI ({kpi.name})" if not names_kpi else "the change (e.g. increase to 50, keep below 3 %)"
    return SmartFinding("S", "Specific", Verdict.WARN, f"The statement does not name {missing}.")


def check_measurable(goal: Goal, kpi: KpiInfo, series: Series) -> SmartFinding:
    """Fail without a numeric target or band; warn when the KPI has no unit or no data; else pass."""
    target = resolve_target(goal.with_baseline(series, kpi.frequency))
    band = band_of(goal)
    if target is None and band is None:
        why = (
            "the relative target has no baseline to apply to"
            if goal.relative_change is not None
            else "there is no numeric target"
        )
        return SmartFinding("M", "Measurable", Verdict.FAIL, f"Not measurable: {why}.")
    points = sorted_series(series)
    goal_text = f"{num(band[0])}–{num(band[1])}" if band else f"{num(target)}"
    outside = [v for v in ((band or ()) if band else (target,)) if v is not None and (
        (kpi.low is not None and v < kpi.low) or (kpi.high is not None and v > kpi.high))]
    if outside:
        limits = f"{num(kpi.low) if kpi.low is not None else '−∞'}–{num(kpi.high) if kpi.high is not None else '∞'}"
        return SmartFinding("M", "Measurable", Verdict.FAIL,
                            f"Not measurable: the target {goal_text} is outside the values {kpi.name} can take "
                            f"({limits} {kpi.unit}).")
    if not str(kpi.unit):
        return SmartFinding("M", "Measurable", Verdict.WARN, f"{kpi.name} has no unit; give it one so "
                            f"{goal_text} reads unambiguously.")
    if not points:
        return SmartFinding("M", "Measurable", Verdict.WARN,
                            f"{kpi.name} has no values yet; record the baseline so progress can be measured.")
    return SmartFinding(
        "M", "Measurable", Verdict.PASS,
        f"Measured by {kpi.name} ({kpi.unit}), {len(points)} values from {points[0][0].isoformat()} "
        f"to {points[-1][0].isoformat()}; target {goal_text}.",
    )


@dataclass(frozen=True)
class RateComparison:
    """The rate a moving goal needs against the best the KPI has done before."""

    required: float  # per period, signed in the good direction (positive = towards the target)
    best: float | None  # best observed, same sign convention; None without enough history
    window: int  # periods of the comparable window actually used
    horizon: int  # periods from baseline to due

    @property
    def ratio(self) -> float | None:
        if self.best is None or self.best <= 0:
            return None
        return self.required / self.best


def compare_rates(goal: Goal, kpi: KpiInfo, series: Series) -> RateComparison | None:
    """Required vs best observed rate of change for an increase/decrease goal.

    ``required = s · (target − baseline) / h`` per period, ``h`` = periods from
    the baseline's period to the due period, ``s`` = +1 for increase, −1 for
    decrease (so a positive number is a move towards the target).
    ``best = max over i of s · (y[i+w] − y[i]) / w`` over every pair of values
    ``w`` periods apart, with ``w = h`` when the history is long enough, else
    its longest span; ``y`` is first smoothed by a running median of three
    (:func:`_running_median`) so a single outlier cannot set the bar.
    Example: baseline 40 in June, target 50 in December → h = 6, required
    1.67/month; history 30, 31, 33, 34, 36, 37, 38 (monthly) with h = 6 →
    best (38 − 30)/6 = 1.33/month; ratio 1.25.
    """
    goal = goal.with_baseline(series, kpi.frequency)
    target = resolve_target(goal)
    if goal.kind not in MOVING_KINDS or target is None or goal.baseline_value is None:
        return None
    freq = kpi.freq
    sign = 1.0 if direction_of(goal.kind) is Direction.UP else -1.0
    base_day = goal.baseline_date or goal.start
    horizon = max(1, period_index(goal.due, freq) - period_index(base_day, freq))
    required = sign * (target - goal.baseline_value) / horizon
    by_index = _running_median({period_index(day, freq): value for day, value in sorted_series(series)})
    if len(by_index) < 2:
        return RateComparison(required, None, 0, horizon)
    span = max(by_index) - min(by_index)
    window = min(horizon, span)
    rates = [
        sign * (by_index[i + window] - value) / window
        for i, value in by_index.items()
        if i + window in by_index
    ]
    best = max(rates) if rates else None
    return RateComparison(required, best, window, horizon)


def _running_median(by_index: dict[int, float]) -> dict[int, float]:
    """Each inner value replaced by the median of itself and its two neighbours
    (ends kept), so one outlier month cannot set the "best observed" bar.
    A monotone series is unchanged: 30, 31, 33 → 30, 31, 33; 30, 45, 31 → 30, 31, 31.
    """
    keys = sorted(by_index)
    out = dict(by_index)
    for before, key, after in zip(keys, keys[1:], keys[2:], strict=False):
        out[key] = sorted((by_index[before], by_index[key], by_index[after]))[1]
    return out


def check_achievable(
    goal: Goal, kpi: KpiInfo, series: Series, *, probability: float | None = None
) -> SmartFinding:
    """Judge the ask against the KPI's own history and forecast (thresholds in the module constants).

    Increase/decrease goals: fail when the required rate is more than
    ``FAIL_RATIO`` × the best observed rate over a comparable window (or the
    KPI has never moved that way), or the forecast probability is below
    ``FAIL_PROBABILITY``; warn when the rate exceeds the best observed or the
    probability is below ``WARN_PROBABILITY``; a baseline that already meets
    the target warns (no stretch). Holding goals: share of past values that
    satisfy the condition (≥ 75 % pass, ≥ 40 % warn, else fail), with the
    probability rules above.
    ``probability`` defaults to the forecast to the deadline on ``series``.
    """
    goal = goal.with_baseline(series, kpi.frequency)
    target = resolve_target(goal)
    band = band_of(goal)
    freq = kpi.freq
    if probability is None:
        fc = forecast_to_deadline(series, freq, goal.due, goal.kind, target, band=band,
                                  bounds=(kpi.low, kpi.high))
        probability = fc.probability if fc else None
    prob_text = "" if probability is None else f"; forecast probability {probability:.0%}"
    unit = f"per {freq.value}"

    if goal.kind in MOVING_KINDS:
        rates = compare_rates(goal, kpi, series)
        if rates is None:
            return SmartFinding("A", "Achievable", Verdict.WARN, "Cannot judge: the goal has no baseline or target.")
        if rates.required <= 0:
            return SmartFinding("A", "Achievable", Verdict.WARN,
                                f"The baseline {num(goal.baseline_value)} already meets the target "
                                f"{num(target)}: the goal asks for no change.")
        # shown in the KPI's own direction: a decrease goal needs a negative rate
        sign = 1.0 if direction_of(goal.kind) is Direction.UP else -1.0
        need = f"Needs {signed(sign * rates.required)} {unit} over {rates.horizon} periods"
        if rates.best is None:
            verdict = Verdict.WARN
            if probability is not None and probability < FAIL_PROBABILITY:
                verdict = Verdict.FAIL
            return SmartFinding("A", "Achievable", verdict,
                                f"{need}; too little history to compare with{prob_text}.")
        best_text = f"best observed over {rates.window} periods is {signed(sign * rates.best)} {unit}"
        ratio = rates.ratio
        if ratio is None:
            sentence = f"{need}; {best_text}: the KPI has never moved that way{prob_text}."
            return SmartFinding("A", "Achievable", Verdict.FAIL, sentence)
        sentence = f"{need}; {best_text} ({ratio:.1f}× the best){prob_text}."
        if ratio <= FAIL_RATIO and probability is not None and probability < FAIL_PROBABILITY:
            sentence += " The rate has been seen before, but the KPI's trend does not get there."
        if ratio > FAIL_RATIO or (probability is not None and probability < FAIL_PROBABILITY):
            return SmartFinding("A", "Achievable", Verdict.FAIL, sentence)
        if ratio > 1.0 or (probability is not None and probability < WARN_PROBABILITY):
            return SmartFinding("A", "Achievable", Verdict.WARN, sentence)
        return SmartFinding("A", "Achievable", Verdict.PASS, sentence)

    points = sorted_series(series)[-12:]
    if not points:
        return SmartFinding("A", "Achievable", Verdict.WARN, "No history to judge whether the KPI can hold there.")
    held = sum(meets(goal.kind, value, target, band) for _, value in points)
    share = held / len(points)
    sentence = f"The condition held in {held} of the last {len(points)} periods{prob_text}."
    if share < 0.4 or (probability is not None and probability < FAIL_PROBABILITY):
        return SmartFinding("A", "Achievable", Verdict.FAIL, sentence)
    if share < 0.75 or (probability is not None and probability < WARN_PROBABILITY):
        return SmartFinding("A", "Achievable", Verdict.WARN, sentence)
    return SmartFinding("A", "Achievable", Verdict.PASS, sentence)


def check_relevant(goal: Goal) -> SmartFinding:
    """Pass with a linked objective or a rationale of five words or more; warn for a shorter rationale; fail with neither."""
    rationale = goal.rationale.strip()
    if goal.objective.strip():
        extra = " with a rationale" if rationale else ""
        return SmartFinding("R", "Relevant", Verdict.PASS, f"Serves the objective \"{goal.objective.strip()}\"{extra}.")
    if len(_words(rationale)) >= 5:
        return SmartFinding("R", "Relevant", Verdict.PASS, "No objective linked, but the rationale says why it matters.")
    if rationale:
        return SmartFinding("R", "Relevant", Verdict.WARN,
                            "The rationale is very short and no objective is linked; say why this goal matters.")
    return SmartFinding("R", "Relevant", Verdict.FAIL, "No objective and no rationale: nothing says why this goal matters.")


def check_time_bound(goal: Goal, kpi: KpiInfo, *, created: dt.date | None = None) -> SmartFinding:
    """Start before due; due after the creation day; at least 3 values of the KPI's frequency in the horizon.

    The horizon holds ``index(due) − index(start) + 1`` periods: one → fail
    (nothing to steer by), two → warn; over three years → warn.
    """
    created = created or goal.created or goal.start
    if goal.due <= goal.start:
        return SmartFinding("T", "Time-bound", Verdict.FAIL,
                            f"The due date {goal.due.isoformat()} is not after the start {goal.start.isoformat()}.")
    if goal.due <= created:
        return SmartFinding("T", "Time-bound", Verdict.FAIL,
                            f"The due date {goal.due.isoformat()} was already past when the goal was created "
                            f"({created.isoformat()}).")
    freq = kpi.freq
    periods = period_index(goal.due, freq) - period_index(period_start(goal.start, freq), freq) + 1
    adjective = FREQ_ADJECTIVE[freq]
    if periods <= 1:
        return SmartFinding("T", "Time-bound", Verdict.FAIL,
                            f"The goal fits inside a single {adjective} period of {kpi.name}: "
                            "there will be no value in between to steer by.")
    if periods == 2:
        return SmartFinding("T", "Time-bound", Verdict.WARN,
                            f"Only 2 {adjective} values of {kpi.name} fall in the horizon; progress will be hard to read.")
    if (goal.due - goal.start).days > MAX_HORIZON_DAYS:
        return SmartFinding("T", "Time-bound", Verdict.WARN,
                            "The horizon is over three years; set intermediate goals to steer by.")
    return SmartFinding("T", "Time-bound", Verdict.PASS,
                        f"From {goal.start.isoformat()} to {goal.due.isoformat()}: {periods} {adjective} values to steer by.")


def check_smart(
    goal: Goal,
    kpi: KpiInfo,
    series: Series,
    *,
    created: dt.date | None = None,
    probability: float | None = None,
) -> list[SmartFinding]:
    """The five findings S, M, A, R, T in order."""
    try:
        achievable = check_achievable(goal, kpi, series, probability=probability)
    except KpideskError as exc:  # e.g. a percent change on a zero baseline
        achievable = SmartFinding("A", "Achievable", Verdict.FAIL, exc.message)
    try:
        measurable = check_measurable(goal, kpi, series)
    except KpideskError as exc:
        measurable = SmartFinding("M", "Measurable", Verdict.FAIL, exc.message)
    return [
        check_specific(goal, kpi),
        measurable,
        achievable,
        check_relevant(goal),
        check_time_bound(goal, kpi, created=created),
    ]

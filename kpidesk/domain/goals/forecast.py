"""Forecast to the deadline: where the KPI's own trend puts it on the due date.

Model: a straight line ``y = a + b·x`` through the last ``window`` values,
``x`` being the period number (months count as equal steps whatever their
length). By default the line is robust (Theil–Sen: ``b`` = median of the
pairwise slopes, ``a`` = median of ``y − b·x``; spread ``s`` = root mean
square of the residuals, leaving out those beyond 4 robust σ = 4 · 1.4826 ·
MAD), because KPI histories carry outliers — one outage month at
70 % uptime would otherwise tilt the line and blow up the interval. With
``method="ols"`` it is ordinary least squares (``s² = SSE / (n − 2)``); for
normal noise both agree. The prediction for period ``x_h`` has the standard
error ``s · √(1 + 1/n + (x_h − x̄)² / Sxx)``: the spread of the data around its
trend plus the uncertainty of the line itself, which grows the further the
deadline lies.

The predictive distribution is taken as normal with that standard error,
widened by ``t₀.₉(n − 2) / z₀.₉`` so that short histories (few degrees of
freedom) give the wider interval a Student-t would. The 80 % interval is
``ŷ ± 1.2816 · se``; the probability of the goal is the predictive mass on the
good side of the target (inside the band for band goals).

Pure Python on purpose: a goal list evaluates dozens of goals on a page load
and this needs no pandas/statsmodels import.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from kpidesk.domain.enums import Direction, Frequency, GoalKind
from kpidesk.domain.goals.model import (
    Series,
    direction_of,
    meets,
    num,
    sorted_series,
)
from kpidesk.domain.periods import period_label, period_start

Z80 = 1.2815515655446004  # z such that Φ(z) = 0.9: the 80 % two-sided interval
MIN_POINTS = 3  # a line and a residual spread need at least three values
#: Values used for the trend, by frequency: about two years, three months of days.
WINDOWS = {Frequency.DAY: 90, Frequency.WEEK: 52, Frequency.MONTH: 24, Frequency.QUARTER: 12, Frequency.YEAR: 10}
MAD_TO_SD = 1.4826  # MAD × this estimates σ for normal noise

# one-sided 0.9 quantiles of Student's t by degrees of freedom (1..30); above 30 ≈ normal
_T90 = [
    3.078, 1.886, 1.638, 1.533, 1.476, 1.440, 1.415, 1.397, 1.383, 1.372,
    1.363, 1.356, 1.350, 1.345, 1.341, 1.337, 1.333, 1.330, 1.328, 1.325,
    1.323, 1.321, 1.319, 1.318, 1.316, 1.315, 1.314, 1.313, 1.311, 1.310,
]


def t_widening(df: int) -> float:
    """``t₀.₉(df) / z₀.₉``: how much wider a t interval is than a normal one."""
    if df < 1:
        return _T90[0] / Z80
    if df <= len(_T90):
        return _T90[df - 1] / Z80
    return 1.0


def normal_cdf(z: float) -> float:
    """Φ(z), the standard normal cumulative distribution."""
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def period_index(day: dt.date, frequency: Frequency | str) -> int:
    """The number of the period containing ``day``: consecutive periods differ by 1."""
    freq = Frequency(frequency)
    start = period_start(day, freq)
    if freq is Frequency.DAY:
        return start.toordinal()
    if freq is Frequency.WEEK:
        return (start.toordinal() - 1) // 7  # ordinal 1 (0001-01-01) is a Monday
    months = start.year * 12 + start.month - 1
    if freq is Frequency.MONTH:
        return months
    if freq is Frequency.QUARTER:
        return months // 3
    return start.year


def period_from_index(index: int, frequency: Frequency | str) -> dt.date:
    """The first day of period number ``index`` (inverse of :func:`period_index`)."""
    freq = Frequency(frequency)
    if freq is Frequency.DAY:
        return dt.date.fromordinal(index)
    if freq is Frequency.WEEK:
        return dt.date.fromordinal(index * 7 + 1)
    if freq is Frequency.YEAR:
        return dt.date(index, 1, 1)
    months = index * 3 if freq is Frequency.QUARTER else index
    return dt.date(months // 12, months % 12 + 1, 1)


@dataclass(frozen=True)
class TrendLine:
    """``y = intercept + slope · x`` over period numbers, with its fit statistics."""

    intercept: float
    slope: float
    n: int
    x_mean: float
    sxx: float
    residual_sd: float

    def value_at(self, x: float) -> float:
        return self.intercept + self.slope * x

    def prediction_se(self, x: float) -> float:
        """Standard error of a new observation at ``x`` (see module docstring), t-widened."""
        leverage = 1.0 + 1.0 / self.n + ((x - self.x_mean) ** 2 / self.sxx if self.sxx > 0 else 0.0)
        return self.residual_sd * math.sqrt(leverage) * t_widening(self.n - 2)


def fit_trend(xs: list[float], ys: list[float]) -> TrendLine:
    """Least-squares line through ``(xs, ys)``.

    ``b = Σ(x − x̄)(y − ȳ) / Σ(x − x̄)²``, ``a = ȳ − b·x̄``,
    ``s = √(Σ(y − a − b·x)² / (n − 2))``.
    Example: (0, 1), (1, 3), (2, 5) → b = 2, a = 1, s = 0.
    """
    n = len(xs)
    x_mean = sum(xs) / n
    y_mean = sum(ys) / n
    sxx = sum((x - x_mean) ** 2 for x in xs)
    sxy = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx if sxx > 0 else 0.0
    intercept = y_mean - slope * x_mean
    sse = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    residual_sd = math.sqrt(sse / (n - 2)) if n > 2 else 0.0
    return TrendLine(intercept, slope, n, x_mean, sxx, residual_sd)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def fit_robust_trend(xs: list[float], ys: list[float]) -> TrendLine:
    """Theil–Sen line through ``(xs, ys)`` with a MAD-based spread.

    ``b = median((yⱼ − yᵢ)/(xⱼ − xᵢ))`` over pairs with ``xᵢ ≠ xⱼ``;
    ``a = median(y − b·x)``; residuals ``r = y − a − b·x``; robust
    ``σ̂ = 1.4826 · median(|r − median(r)|)``; ``s = √(Σ r² / (k − 2))`` over the
    ``k`` residuals within ``4 σ̂`` of the median (``σ̂`` itself with fewer than 3).
    Example: (0, 0), (1, 1), (2, 2), (3, 3), (4, 40): of the ten pairwise slopes
    six are 1 → b = 1, a = median(0, 0, 0, 0, 36) = 0; residuals 0, 0, 0, 0, 36
    → MAD 0 → σ̂ = 0; only the four zero residuals are kept → s = 0.
    Least squares would give b = 8.2.
    """
    n = len(xs)
    slopes = [
        (ys[j] - ys[i]) / (xs[j] - xs[i])
        for i in range(n)
        for j in range(i + 1, n)
        if xs[j] != xs[i]
    ]
    slope = _median(slopes) if slopes else 0.0
    intercept = _median([y - slope * x for x, y in zip(xs, ys, strict=True)])
    residuals = [y - intercept - slope * x for x, y in zip(xs, ys, strict=True)]
    centre = _median(residuals)
    mad_sd = MAD_TO_SD * _median([abs(r - centre) for r in residuals])
    # the MAD alone is a noisy estimate of σ (37 % efficient) and makes the interval too narrow;
    # the root mean square of the residuals within 4 MAD-σ of the centre keeps the efficiency of
    # the standard deviation on clean data and still ignores the outliers
    kept = [r for r in residuals if abs(r - centre) <= 4 * mad_sd]
    spread = math.sqrt(sum(r * r for r in kept) / (len(kept) - 2)) if len(kept) > 2 else mad_sd
    x_mean = sum(xs) / n
    sxx = sum((x - x_mean) ** 2 for x in xs)
    return TrendLine(intercept, slope, n, x_mean, sxx, spread)


@dataclass(frozen=True)
class DeadlineForecast:
    """The KPI's projected value for the due period, and what it means for the goal."""

    due_period: dt.date
    value: float
    low: float  # 80 % interval
    high: float
    probability: float | None  # P(goal condition holds in the due period); None without a target
    reach_period: dt.date | None  # first period the trend meets the target; None: not before the deadline
    already_met: bool
    slope: float  # change per period of the fitted trend
    points: int
    frequency: Frequency

    def reach_text(self) -> str:
        """"reached by Mar 2026", "already met" or "not before the deadline"."""
        if self.already_met:
            return "already met"
        if self.reach_period is None:
            return "not before the deadline"
        return f"reached by {period_label(self.reach_period, self.frequency)}"

    def summary(self) -> str:
        """One line: value with interval, probability, and when the target is reached."""
        prob = "" if self.probability is None else f"; {self.probability:.0%} chance of meeting the goal"
        return (
            f"forecast {num(self.value)} (80 % interval {num(self.low)}–{num(self.high)}) for "
            f"{period_label(self.due_period, self.frequency)}{prob}; {self.reach_text()}"
        )


def goal_probability(
    kind: GoalKind, mean: float, se: float, target: float | None, band: tuple[float, float] | None
) -> float | None:
    """P(goal condition) under a normal predictive ``N(mean, se²)``.

    up: ``1 − Φ((target − mean)/se)``; down: ``Φ((target − mean)/se)``;
    band: ``Φ((high − mean)/se) − Φ((low − mean)/se)``. With ``se = 0`` the
    answer is 1 or 0 (the forecast is certain).
    """
    if kind is GoalKind.KEEP_IN_BAND:
        if band is None:
            return None
        if se <= 0:
            return 1.0 if band[0] <= mean <= band[1] else 0.0
        return normal_cdf((band[1] - mean) / se) - normal_cdf((band[0] - mean) / se)
    if target is None:
        return None
    if se <= 0:
        return 1.0 if meets(kind, mean, target, None) else 0.0
    z = (target - mean) / se
    return 1.0 - normal_cdf(z) if direction_of(kind) is Direction.UP else normal_cdf(z)


def forecast_to_deadline(
    series: Series,
    frequency: Frequency | str,
    due: dt.date,
    kind: GoalKind,
    target: float | None,
    *,
    band: tuple[float, float] | None = None,
    window: int | None = None,
    method: str = "robust",
    bounds: tuple[float | None, float | None] = (None, None),
) -> DeadlineForecast | None:
    """Project the KPI to the period containing ``due`` (see module docstring).

    Returns ``None`` with fewer than :data:`MIN_POINTS` values. The reach
    period is the first period ``x`` after the latest value with
    ``a + b·x`` meeting the target and ``x ≤ x_due``; it is only defined for
    increase/decrease goals. ``bounds`` (the values the KPI can take) clip the
    projected value and its interval.
    """
    freq = Frequency(frequency)
    points = sorted_series(series)[-(window or WINDOWS[freq]):]
    if len(points) < MIN_POINTS:
        return None
    xs = [float(period_index(day, freq)) for day, _ in points]
    ys = [value for _, value in points]
    line = fit_trend(xs, ys) if method == "ols" else fit_robust_trend(xs, ys)
    due_period = period_start(due, freq)
    x_due = float(period_index(due_period, freq))
    mean = line.value_at(x_due)
    se = line.prediction_se(x_due)
    probability = goal_probability(kind, mean, se, target, band)

    already_met = False
    reach: dt.date | None = None
    if kind in (GoalKind.INCREASE_TO, GoalKind.DECREASE_TO) and target is not None:
        if meets(kind, ys[-1], target, None):
            already_met = True
            reach = points[-1][0]
        elif line.slope != 0:
            x_star = (target - line.intercept) / line.slope
            first = max(math.ceil(x_star - 1e-9), int(xs[-1]) + 1)
            heading_right = (line.slope > 0) == (direction_of(kind) is Direction.UP)
            if heading_right and first <= x_due:
                reach = period_from_index(first, freq)
    def clip(value: float) -> float:
        # a KPI that cannot leave [low, high] (uptime ≤ 100 %) is not forecast outside it; the
        # probability needs no change: clipping only piles the tail mass onto the bound
        if bounds[0] is not None:
            value = max(bounds[0], value)
        if bounds[1] is not None:
            value = min(bounds[1], value)
        return value

    return DeadlineForecast(
        due_period=due_period,
        value=clip(mean),
        low=clip(mean - Z80 * se),
        high=clip(mean + Z80 * se),
        probability=probability,
        reach_period=reach,
        already_met=already_met,
        slope=line.slope,
        points=len(points),
        frequency=freq,
    )

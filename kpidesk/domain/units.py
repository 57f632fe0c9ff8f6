"""Units: the domain of values each unit admits, and how values are shown."""

from __future__ import annotations

import math

from kpidesk.domain.enums import Unit

# Default domains; a KPI's own min/max (from the catalog or the user) take precedence.
DEFAULT_BOUNDS: dict[Unit, tuple[float | None, float | None]] = {
    Unit.PERCENT: (0.0, 100.0),
    Unit.COUNT: (0.0, None),
    Unit.MONTHS: (None, None),
    Unit.DAYS: (0.0, None),
    Unit.HOURS: (0.0, None),
    Unit.MINUTES: (0.0, None),
    Unit.MS: (0.0, None),
    Unit.CURRENCY: (None, None),
    Unit.SCORE: (None, None),
    Unit.RATIO: (None, None),
}

UNIT_WORDS = {
    Unit.PERCENT: "a percentage",
    Unit.COUNT: "a count",
    Unit.DAYS: "a number of days",
    Unit.HOURS: "a number of hours",
    Unit.MINUTES: "a number of minutes",
    Unit.MS: "a duration in ms",
}


def bounds(unit: str, min_value: float | None = None, max_value: float | None = None) -> tuple[float | None, float | None]:
    low, high = DEFAULT_BOUNDS.get(Unit(unit), (None, None))
    return (low if min_value is None else min_value, high if max_value is None else max_value)


def domain_problem(value: float, unit: str, min_value: float | None = None,
                   max_value: float | None = None) -> str | None:
    """Why ``value`` is outside the unit's domain, or None when it fits."""
    if math.isnan(value) or math.isinf(value):
        return "is not a finite number"
    low, high = bounds(unit, min_value, max_value)
    what = UNIT_WORDS.get(Unit(unit), "this KPI")
    if low is not None and value < low:
        return f"{value:g} is below {low:g}, the lowest value {what} can take"
    if high is not None and value > high:
        return f"{value:g} is above {high:g}, the highest value {what} can take"
    return None


def format_value(value: float | None, unit: str, currency: str = "") -> str:
    """A compact display string: 12.5 %, €1,234, 1.2k, 3.4 months."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    u = Unit(unit)
    if u is Unit.PERCENT:
        return f"{value:,.1f} %"
    if u is Unit.CURRENCY:
        symbol = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}.get(currency, currency + " " if currency else "")
        return f"{symbol}{_compact(value)}"
    if u is Unit.COUNT:
        return _compact(value)
    if u is Unit.RATIO:
        return f"{value:,.2f}"
    if u is Unit.SCORE:
        return f"{value:,.1f}"
    suffix = {Unit.MONTHS: " mo", Unit.DAYS: " d", Unit.HOURS: " h", Unit.MINUTES: " min", Unit.MS: " ms"}[u]
    return f"{value:,.1f}{suffix}" if abs(value) < 1000 else f"{_compact(value)}{suffix}"


def _compact(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"{value / 1e9:,.2f}B"
    if magnitude >= 1e6:
        return f"{value / 1e6:,.2f}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:,.1f}k"
    if magnitude == int(magnitude):
        return f"{value:,.0f}"
    return f"{value:,.2f}"

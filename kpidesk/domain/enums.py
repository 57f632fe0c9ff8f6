"""Closed vocabularies of the data model, stored as their string values."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    FINANCIAL = "financial"
    CUSTOMER = "customer"
    OPERATIONAL = "operational"
    INTERNAL = "internal"


class Stage(StrEnum):
    ACQUISITION = "acquisition"
    ACTIVATION = "activation"
    RETENTION = "retention"
    REFERRAL = "referral"
    REVENUE = "revenue"
    NONE = "none"


class Direction(StrEnum):
    UP = "up"  # higher is better
    DOWN = "down"  # lower is better
    BAND = "band"  # stay inside a band


class Aggregation(StrEnum):
    SUM = "sum"
    MEAN = "mean"
    LAST = "last"
    MIN = "min"
    MAX = "max"
    RATIO = "ratio"  # recompute numerator / denominator, never average rates


class Frequency(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class Unit(StrEnum):
    CURRENCY = "currency"
    PERCENT = "percent"  # stored in percentage points: 12.5 means 12.5 %
    SCORE = "score"
    COUNT = "count"
    RATIO = "ratio"
    MONTHS = "months"
    DAYS = "days"
    HOURS = "hours"
    MINUTES = "minutes"
    MS = "ms"


class GoalKind(StrEnum):
    INCREASE_TO = "increase_to"
    DECREASE_TO = "decrease_to"
    STAY_ABOVE = "stay_above"
    STAY_BELOW = "stay_below"
    KEEP_IN_BAND = "keep_in_band"


class Provenance(StrEnum):
    MANUAL = "manual"
    IMPORT = "import"
    DATA_SOURCE = "data_source"
    DEMO = "demo"


class ReviewItemKind(StrEnum):
    NOTE = "note"
    DECISION = "decision"
    ACTION = "action"


def values(enum: type[StrEnum]) -> list[str]:
    """The stored string values of an enum, in declaration order."""
    return [member.value for member in enum]

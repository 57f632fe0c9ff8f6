"""The words a PM types for a goal: "by 25%", "within the next quarter".

``parse_change("25%")`` → ``(25.0, "percent")``; ``parse_change("5")`` or
``"5pp"`` → ``(5.0, "absolute")``. ``parse_horizon("next quarter", today)``
→ the (start, due) dates of the next calendar quarter.
"""

from __future__ import annotations

import datetime as dt
import re

from kpidesk.domain.enums import Frequency
from kpidesk.domain.goals.model import RELATIVE_ABSOLUTE, RELATIVE_PERCENT
from kpidesk.domain.periods import next_period_start, period_end, period_start
from kpidesk.errors import ValidationError

_UNITS = {
    "day": Frequency.DAY, "days": Frequency.DAY,
    "week": Frequency.WEEK, "weeks": Frequency.WEEK,
    "month": Frequency.MONTH, "months": Frequency.MONTH,
    "quarter": Frequency.QUARTER, "quarters": Frequency.QUARTER,
    "year": Frequency.YEAR, "years": Frequency.YEAR,
}
_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "six": 6, "twelve": 12}


def parse_change(text: str) -> tuple[float, str]:
    """A relative change: "25%" / "25 %" → percent of the baseline; "5", "5pp", "5 points" → absolute.

    The sign is dropped: the goal kind says the direction (see ``resolve_relative_target``).
    """
    value = text.strip().lower().replace("\u2212", "-")
    match = re.fullmatch(r"[+-]?\s*(\d+(?:[.,]\d+)?)\s*(%|percent|pp|points?|pts?)?", value)
    if not match:
        raise ValidationError(f"'{text}' is not a change; write e.g. 25% (of the baseline) or 5 (in the KPI's unit).")
    number = float(match.group(1).replace(",", "."))
    mode = RELATIVE_PERCENT if match.group(2) in ("%", "percent") else RELATIVE_ABSOLUTE
    return number, mode


def _add(day: dt.date, freq: Frequency, count: int) -> dt.date:
    """``day`` moved by ``count`` periods of ``freq`` (month ends clamp: 31 Jan + 1 month = 28/29 Feb)."""
    if freq is Frequency.DAY:
        return day + dt.timedelta(days=count)
    if freq is Frequency.WEEK:
        return day + dt.timedelta(weeks=count)
    months = {Frequency.MONTH: 1, Frequency.QUARTER: 3, Frequency.YEAR: 12}[freq] * count
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    last_day = period_end(dt.date(year, month + 1, 1), Frequency.MONTH).day
    return dt.date(year, month + 1, min(day.day, last_day))


def parse_horizon(text: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """Start and due dates from a phrase.

    - "next quarter" / "the next month" / "next year": the whole next
      calendar period (start = its first day, due = its last day);
    - "this quarter" / "this month" / "this year": from today to the end of
      the current period;
    - "3 months", "6 weeks", "a year" (optionally "within ..."/"in ..."): from
      today, due the day before the same date N units later.
    Examples (today 2026-05-10): next quarter → 2026-07-01..2026-09-30;
    this quarter → 2026-05-10..2026-06-30; 3 months → 2026-05-10..2026-08-09.
    """
    words = re.sub(r"\s+", " ", text.strip().lower())
    words = re.sub(r"^(within|in|over|during|by) ", "", words)
    words = re.sub(r"^the ", "", words)
    match = re.fullmatch(r"(next|this|current) (day|week|month|quarter|year)", words)
    if match:
        freq = _UNITS[match.group(2)]
        current = period_start(today, freq)
        if match.group(1) == "next":
            start = next_period_start(current, freq)
            return start, period_end(start, freq)
        return today, period_end(current, freq)
    match = re.fullmatch(r"(?:next )?(\d+|a|an|one|two|three|four|six|twelve) (days?|weeks?|months?|quarters?|years?)",
                         words)
    if match:
        raw = match.group(1)
        count = int(raw) if raw.isdigit() else _WORD_NUMBERS[raw]
        if count < 1:
            raise ValidationError(f"'{text}' is not a horizon: it must be at least one period long.")
        return today, _add(today, _UNITS[match.group(2)], count) - dt.timedelta(days=1)
    raise ValidationError(
        f"'{text}' is not a horizon kpidesk understands; write e.g. 'next quarter', 'this year' or '3 months', "
        "or give --start and --due dates."
    )

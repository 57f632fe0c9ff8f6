"""Which two periods an explanation compares.

``parse_period`` reads what a PM types: ``2026-Q3``, ``2026-03`` (a month),
``2026-W05`` (an ISO week), ``2026-03-05`` (a day), ``2026`` (a year).
``comparison_start`` gives the period it is compared with: the previous
period of the same length, or the same period one year earlier.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum

from kpidesk.domain.enums import Frequency
from kpidesk.domain.periods import next_period_start, period_start
from kpidesk.errors import ValidationError


class Compare(StrEnum):
    PREVIOUS = "previous"
    LAST_YEAR = "last-year"


_PATTERNS: list[tuple[re.Pattern[str], Frequency]] = [
    (re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE), Frequency.QUARTER),
    (re.compile(r"^(\d{4})-W(\d{1,2})$", re.IGNORECASE), Frequency.WEEK),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), Frequency.DAY),
    (re.compile(r"^(\d{4})-(\d{1,2})$"), Frequency.MONTH),
    (re.compile(r"^(\d{4})$"), Frequency.YEAR),
]


def parse_period(text: str) -> tuple[dt.date, Frequency]:
    """``"2026-Q3"`` → ``(2026-07-01, quarter)``; raises ValidationError on anything else."""
    cleaned = text.strip()
    for pattern, freq in _PATTERNS:
        match = pattern.match(cleaned)
        if not match:
            continue
        parts = [int(g) for g in match.groups()]
        try:
            if freq is Frequency.QUARTER:
                return dt.date(parts[0], 3 * parts[1] - 2, 1), freq
            if freq is Frequency.WEEK:
                return dt.date.fromisocalendar(parts[0], parts[1], 1), freq
            if freq is Frequency.DAY:
                return dt.date(*parts), freq
            if freq is Frequency.MONTH:
                return dt.date(parts[0], parts[1], 1), freq
            return dt.date(parts[0], 1, 1), freq
        except ValueError:
            break
    raise ValidationError(
        f"{text!r} is not a period kpidesk understands; write it like 2026-Q3, 2026-03, "
        "2026-W05, 2026-03-05 or 2026."
    )


def comparison_start(start: dt.date, frequency: Frequency | str, compare: Compare | str) -> dt.date:
    """Start of the period compared with the one starting at ``start``.

    PREVIOUS: the period just before, of the same frequency. LAST_YEAR: the
    same period one year earlier (for ISO weeks: the same week number).
    """
    freq = Frequency(frequency)
    mode = Compare(compare)
    if mode is Compare.LAST_YEAR:
        if freq is Frequency.WEEK:
            year, week, _ = start.isocalendar()
            week = min(week, dt.date(year - 1, 12, 28).isocalendar()[1])
            return dt.date.fromisocalendar(year - 1, week, 1)
        if freq is Frequency.DAY and start.month == 2 and start.day == 29:
            return dt.date(start.year - 1, 2, 28)
        return start.replace(year=start.year - 1)
    return period_start(start - dt.timedelta(days=1), freq)


def period_window(start: dt.date, frequency: Frequency | str) -> tuple[dt.date, dt.date]:
    """``(first day, first day of the next period)``: a half-open window."""
    return start, next_period_start(start, frequency)

"""Periods: every measurement is stored at the first day of its period.

A period is (period_start, frequency). Weeks are ISO weeks starting on Monday;
quarters start in January, April, July and October; a fiscal year is handled
by the analytics roll-up with a configurable first month.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

from kpidesk.domain.enums import Frequency


def period_start(day: dt.date, frequency: Frequency | str) -> dt.date:
    """The first day of the period of ``frequency`` that contains ``day``."""
    freq = Frequency(frequency)
    if isinstance(day, dt.datetime):
        day = day.date()
    if freq is Frequency.DAY:
        return day
    if freq is Frequency.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if freq is Frequency.MONTH:
        return day.replace(day=1)
    if freq is Frequency.QUARTER:
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


def next_period_start(start: dt.date, frequency: Frequency | str) -> dt.date:
    """The first day of the period after the one starting at ``start``."""
    freq = Frequency(frequency)
    if freq is Frequency.DAY:
        return start + dt.timedelta(days=1)
    if freq is Frequency.WEEK:
        return start + dt.timedelta(days=7)
    months = {Frequency.MONTH: 1, Frequency.QUARTER: 3, Frequency.YEAR: 12}[freq]
    total = start.year * 12 + (start.month - 1) + months
    return dt.date(total // 12, total % 12 + 1, 1)


def period_end(start: dt.date, frequency: Frequency | str) -> dt.date:
    """The last day (inclusive) of the period starting at ``start``."""
    return next_period_start(start, frequency) - dt.timedelta(days=1)


def period_label(start: dt.date, frequency: Frequency | str) -> str:
    """A short human label: 2024-03-05, 2024-W05, Mar 2024, 2024-Q3, 2024."""
    freq = Frequency(frequency)
    if freq is Frequency.DAY:
        return start.isoformat()
    if freq is Frequency.WEEK:
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if freq is Frequency.MONTH:
        return start.strftime("%b %Y")
    if freq is Frequency.QUARTER:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def period_starts(dates: "pd.Series", frequency: Frequency | str) -> "pd.Series":  # noqa: UP037
    """Vectorised :func:`period_start` over a datetime64 Series."""
    freq = Frequency(frequency)
    days = dates.dt.normalize()
    if freq is Frequency.DAY:
        return days
    if freq is Frequency.WEEK:
        return days - pd_to_timedelta(days.dt.weekday)
    code = {Frequency.MONTH: "M", Frequency.QUARTER: "Q", Frequency.YEAR: "Y"}[freq]
    return days.dt.to_period(code).dt.start_time


def pd_to_timedelta(day_counts: "pd.Series") -> "pd.Series":  # noqa: UP037
    import pandas as pd

    return pd.to_timedelta(day_counts, unit="D")


def parse_date(text: str | dt.date) -> dt.date:
    """An ISO date (YYYY-MM-DD), a month (YYYY-MM) or a date object; ValueError otherwise."""
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    value = str(text).strip()
    if len(value) == 7 and value[4] == "-":
        value += "-01"
    return dt.date.fromisoformat(value)

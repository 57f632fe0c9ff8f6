"""Partial periods: a period that has not ended yet is marked, never compared as complete."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kpidesk.domain.enums import Frequency
from kpidesk.domain.periods import next_period_start, period_label


def _as_date(value: dt.date | pd.Timestamp) -> dt.date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def is_partial(start: dt.date | pd.Timestamp, frequency: Frequency | str, as_of: dt.date) -> bool:
    """True when the period starting at ``start`` has not ended by ``as_of``.

    A period [start, next_start) is complete once as_of >= next_start - 1 day,
    i.e. the data of its last day is in ("March" is complete on 31 March).
    """
    start_d = _as_date(start)
    return _as_date(as_of) < next_period_start(start_d, frequency) - dt.timedelta(days=1)


def partial_mask(index: pd.DatetimeIndex, frequency: Frequency | str, as_of: dt.date) -> pd.Series:
    """Boolean Series over ``index``: True for each period not complete at ``as_of``."""
    flags = [is_partial(ts, frequency, as_of) for ts in index]
    return pd.Series(flags, index=index, dtype=bool, name="partial")


def so_far_label(start: dt.date | pd.Timestamp, frequency: Frequency | str, as_of: dt.date) -> str:
    """The period label, with "so far" and the days covered when it is partial.

    e.g. month 2024-03-01 as of 2024-03-12 → "Mar 2024 so far (12 of 31 days)".
    """
    start_d = _as_date(start)
    label = period_label(start_d, frequency)
    if not is_partial(start_d, frequency, as_of):
        return label
    total = (next_period_start(start_d, frequency) - start_d).days
    covered = max(0, min(total, (_as_date(as_of) - start_d).days + 1))
    return f"{label} so far ({covered} of {total} days)"

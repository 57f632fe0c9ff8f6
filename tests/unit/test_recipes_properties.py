"""Hypothesis: the interval-arithmetic engagement counts equal naive set counting.

Random small logs (users × days) are counted both ways: kpidesk's difference
arrays over deduplicated (user, day) keys, and plain Python sets per window.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from kpidesk.domain.recipes.events import EventLog, lifecycle, retention_matrix, rolling_active_users

START = dt.date(2024, 1, 29)  # a Monday, so weeks line up with day numbers
activity = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 40)), min_size=1, max_size=80)


def frame_of(pairs: list[tuple[int, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user": [f"u{u}" for u, _ in pairs],
            "timestamp": [
                pd.Timestamp(START + dt.timedelta(days=d)) + pd.Timedelta(hours=9) for _, d in pairs
            ],
        }
    )


@settings(max_examples=150, deadline=None)
@given(pairs=activity, window=st.integers(1, 12))
def test_rolling_active_users_equal_naive_sets(pairs: list[tuple[int, int]], window: int) -> None:
    log = EventLog.from_frame(frame_of(pairs))
    got = rolling_active_users(log, window).tolist()
    first = min(d for _, d in pairs)
    last = max(d for _, d in pairs)
    expected = [len({u for u, d in pairs if day - window < d <= day}) for day in range(first, last + 1)]
    assert got == expected


@settings(max_examples=150, deadline=None)
@given(pairs=activity)
def test_weekly_lifecycle_and_retention_equal_naive_sets(pairs: list[tuple[int, int]]) -> None:
    log = EventLog.from_frame(frame_of(pairs))
    week_of = {u: set() for u, _ in pairs}
    for u, d in pairs:
        week_of[u].add(d // 7)
    weeks = range(min(d for _, d in pairs) // 7, max(d for _, d in pairs) // 7 + 1)
    life = lifecycle(log, "week")
    first_week = {u: min(w) for u, w in week_of.items()}
    for position, week in enumerate(weeks):
        active = {u for u, w in week_of.items() if week in w}
        assert life["active"].iloc[position] == len(active)
        assert life["new"].iloc[position] == sum(first_week[u] == week for u in active)
        if position:
            before = {u for u, w in week_of.items() if week - 1 in w}
            assert life["returning"].iloc[position] == len(active & before)
            assert life["dormant"].iloc[position] == len(before - active)
    on = retention_matrix(log, "week").counts
    after = retention_matrix(log, "week", mode="on_or_after").counts
    for row, cohort in enumerate(weeks):
        members = [u for u in week_of if first_week[u] == cohort]
        for k in range(len(weeks) - row):
            assert on.iloc[row, k] == sum(cohort + k in week_of[u] for u in members)
            assert after.iloc[row, k] == sum(max(week_of[u]) >= cohort + k for u in members)

"""Event-log recipe: engagement KPIs from (user, timestamp, event) rows.

The log is reduced once to distinct (user, day) activity pairs held as
integer keys ``user × n_days + day`` (sorted by user, then day). Every
"distinct users over a window" count is then interval arithmetic on those
pairs: a user active on day d is counted in a trailing N-day window on days
d … d + N − 1, cut where their next active day takes over, so each day of
coverage is counted exactly once with a +1/−1 difference array and a cumsum.
No per-day distinct count is ever run.

Days are calendar days of the timestamps as given (naive local time).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from kpidesk.domain.enums import Frequency
from kpidesk.domain.recipes.base import (
    KpiOutput,
    PeriodTable,
    RecipeResult,
    day_numbers,
    period_table,
    require_columns,
    row_number,
    safe_ratio,
    series,
    to_datetime_column,
)
from kpidesk.errors import ValidationError

RECIPE = "events"
COLUMNS = ("user", "timestamp", "event")

# a boolean bitmap over all (user, day) cells dedupes in O(n) with no sort;
# above this many cells (bytes) the sort-based np.unique is used instead
_BITMAP_LIMIT = 600_000_000


def _dedupe_keys(keys: np.ndarray, space: int) -> np.ndarray:
    """Sorted distinct values of ``keys`` (all in 0..space−1)."""
    if space <= _BITMAP_LIMIT:
        seen = np.zeros(space, dtype=np.bool_)
        seen[keys] = True
        return np.flatnonzero(seen)
    return np.unique(keys)


def _user_codes(values: pd.Series | np.ndarray) -> tuple[np.ndarray, int]:
    """Integer codes 0..n−1 for user ids; dense integer ids are used as they are."""
    array = np.asarray(values)
    if array.dtype.kind in "iu" and len(array):
        low, high = int(array.min()), int(array.max())
        # dense integer ids (the common export case) need no hashing at all
        if high - low < max(4 * len(array), 1_000_000):
            return (array - low).astype(np.int64), high - low + 1
    codes, uniques = pd.factorize(array)
    if (codes < 0).any():
        raise ValidationError("The events recipe found an event without a user (column 'user').")
    return codes.astype(np.int64), len(uniques)


@dataclass(frozen=True)
class ActivityPairs:
    """Distinct (user, day) pairs sorted by user then day, as parallel int arrays."""

    user: np.ndarray
    day: np.ndarray  # 0-based from EventLog.first_day

    @cached_property
    def first_of_user(self) -> np.ndarray:
        """True where a pair is the user's first active day."""
        flags = np.ones(len(self.user), dtype=np.bool_)
        flags[1:] = self.user[1:] != self.user[:-1]
        return flags


class EventLog:
    """An event log reduced to integer arrays (user code, day, event code, time).

    Build it once with :meth:`from_frame` and pass it to every KPI function, so
    the (user, day) dedupe happens once.
    """

    def __init__(
        self,
        user: np.ndarray,
        n_users: int,
        day: np.ndarray,
        first_day: int,
        n_days: int,
        *,
        event_column: pd.Series | None = None,
        timestamps: pd.Series | None = None,
    ) -> None:
        self.user = user
        self.n_users = n_users
        self.day = day
        self.first_day = first_day
        self.n_days = n_days
        # event codes and exact times are only needed by some KPIs: decoded lazily
        self._event_column = event_column
        self._timestamps = timestamps
        self._pairs: dict[tuple[str, ...] | None, ActivityPairs] = {}

    @cached_property
    def _event_codes(self) -> tuple[np.ndarray, list[str]]:
        if self._event_column is None:
            raise ValidationError("This KPI needs an 'event' column in the event log.")
        column = self._event_column
        if isinstance(column.dtype, pd.CategoricalDtype):
            return column.cat.codes.to_numpy().astype(np.int32), [str(c) for c in column.cat.categories]
        codes, uniques = pd.factorize(column)
        return codes.astype(np.int32), [str(u) for u in uniques]

    @property
    def event(self) -> np.ndarray:
        """Event code of each row (see :attr:`event_names`)."""
        return self._event_codes[0]

    @property
    def event_names(self) -> list[str]:
        return self._event_codes[1]

    @cached_property
    def time_ns(self) -> np.ndarray:
        """Nanoseconds since the epoch of each row."""
        assert self._timestamps is not None
        return self._timestamps.to_numpy().astype("datetime64[ns]").astype(np.int64)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        start: pd.Timestamp | str | None = None,
        end: pd.Timestamp | str | None = None,
    ) -> EventLog:
        """Read ``user``, ``timestamp`` and (optional) ``event`` columns.

        ``start`` / ``end`` widen the day range (e.g. to include quiet days at
        the edges); by default it spans the first to the last event day.
        """
        require_columns(frame, RECIPE, ("user", "timestamp"))
        if len(frame) == 0:
            raise ValidationError("The events recipe needs at least one event.")
        if frame["user"].isna().any():
            row = int(np.flatnonzero(frame["user"].isna().to_numpy())[0])
            raise ValidationError(
                f"The events recipe found an event without a user (row {row_number(frame, row)})."
            )
        timestamps = to_datetime_column(frame, "timestamp", RECIPE)
        if timestamps.isna().any():
            row = int(np.flatnonzero(timestamps.isna().to_numpy())[0])
            raise ValidationError(
                f"The events recipe found an event without a timestamp (row {row_number(frame, row)})."
            )
        absolute_day = day_numbers(timestamps)
        first, last = int(absolute_day.min()), int(absolute_day.max())
        if start is not None:
            first = min(first, int(day_numbers(np.array([start], "datetime64[D]"))[0]))
        if end is not None:
            last = max(last, int(day_numbers(np.array([end], "datetime64[D]"))[0]))
        user, n_users = _user_codes(frame["user"])
        event_column = frame["event"] if "event" in frame.columns else None
        return cls(
            user,
            n_users,
            absolute_day - first,
            first,
            last - first + 1,
            event_column=event_column,
            timestamps=timestamps,
        )

    # ------------------------------------------------------------ helpers

    def event_mask(self, events: Iterable[str] | None) -> np.ndarray | None:
        """Boolean mask of rows whose event is in ``events`` (None: all rows)."""
        if events is None:
            return None
        wanted = set(events)
        codes = [i for i, name in enumerate(self.event_names) if name in wanted]
        return np.isin(self.event, np.asarray(codes, dtype=np.int32))

    def pairs(self, events: Iterable[str] | None = None) -> ActivityPairs:
        """Distinct (user, day) pairs of the rows whose event is in ``events``."""
        cache_key = None if events is None else tuple(sorted(set(events)))
        cached = self._pairs.get(cache_key)
        if cached is not None:
            return cached
        mask = self.event_mask(events)
        user = self.user if mask is None else self.user[mask]
        day = self.day if mask is None else self.day[mask]
        keys = _dedupe_keys(user * self.n_days + day, self.n_users * self.n_days)
        result = ActivityPairs(keys // self.n_days, keys % self.n_days)
        self._pairs[cache_key] = result
        return result

    @property
    def days(self) -> pd.DatetimeIndex:
        """The calendar of the log: every day from the first to the last."""
        return pd.DatetimeIndex((np.arange(self.n_days) + self.first_day).astype("datetime64[D]"))

    def periods(self, frequency: Frequency | str) -> PeriodTable:
        return period_table(self.first_day, self.n_days, frequency)

    def period_pairs(
        self, frequency: Frequency | str, events: Iterable[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray, PeriodTable]:
        """Distinct (user, period) pairs sorted by user then period."""
        table = self.periods(frequency)
        n = table.n_periods
        cache_key = None if events is None else tuple(sorted(set(events)))
        cached = self._pairs.get(cache_key)
        if cached is not None:
            user, period = cached.user, table.period_of_day[cached.day]
        else:
            # straight from the rows: the (user, period) bitmap is small (periods ≪ days),
            # so this skips building the much larger (user, day) one
            mask = self.event_mask(events)
            user = self.user if mask is None else self.user[mask]
            period = table.period_of_day[self.day if mask is None else self.day[mask]]
        keys = _dedupe_keys(user * n + period, self.n_users * n)
        return keys // n, keys % n, table


# ---------------------------------------------------------------- active users


def daily_active_users(log: EventLog, events: Iterable[str] | None = None) -> pd.Series:
    """DAU_d = number of distinct users with a qualifying event on day d."""
    pairs = log.pairs(events)
    return series(np.bincount(pairs.day, minlength=log.n_days), log.days, "dau")


def rolling_active_users(log: EventLog, window_days: int, events: Iterable[str] | None = None) -> pd.Series:
    """Distinct users active in the trailing window [d − N + 1, d] for each day d.

    A pair (u, d_i) covers days d_i … min(d_i + N, d_next) − 1, where d_next is
    u's next active day: the covered spans of one user never overlap, so
    count_d = Σ spans covering d, from a +1/−1 difference array.
    WAU: N = 7; MAU: N = 30. The first N − 1 days only see a partial window.
    """
    if window_days < 1:
        raise ValidationError(f"An active-user window must be at least 1 day, not {window_days}.")
    pairs = log.pairs(events)
    end = pairs.day + window_days
    same_user_next = np.zeros(len(pairs.day), dtype=np.bool_)
    same_user_next[:-1] = ~pairs.first_of_user[1:]
    next_day = np.empty_like(pairs.day)
    next_day[:-1] = pairs.day[1:]
    end = np.where(same_user_next, np.minimum(end, next_day), end)
    size = log.n_days + window_days + 1
    delta = np.bincount(pairs.day, minlength=size) - np.bincount(end, minlength=size)
    counts = np.cumsum(delta)[: log.n_days]
    return series(counts, log.days, f"active_{window_days}d")


def period_active_users(
    log: EventLog, frequency: Frequency | str, events: Iterable[str] | None = None
) -> pd.Series:
    """Distinct users with a qualifying event in each calendar period (e.g. calendar-month MAU)."""
    _user, period, table = log.period_pairs(frequency, events)
    return series(np.bincount(period, minlength=table.n_periods), table.starts, "active")


def stickiness(log: EventLog, *, mau_window: int = 30, events: Iterable[str] | None = None) -> pd.DataFrame:
    """Daily stickiness = 100 × DAU_d / MAU_d with MAU the rolling ``mau_window``-day count.

    Returns columns numerator (DAU), denominator (MAU) and value (percent).
    """
    dau = daily_active_users(log, events)
    mau = rolling_active_users(log, mau_window, events)
    return pd.DataFrame({"numerator": dau, "denominator": mau, "value": safe_ratio(dau, mau, 100.0)})


def monthly_stickiness(log: EventLog, events: Iterable[str] | None = None) -> pd.DataFrame:
    """Calendar-month stickiness = 100 × mean DAU over the month's days / calendar-month MAU.

    mean DAU = Σ_d DAU_d / days in month (days of the log only).
    """
    dau = daily_active_users(log, events)
    table = log.periods(Frequency.MONTH)
    dau_sum = np.bincount(table.period_of_day, weights=dau.to_numpy(), minlength=table.n_periods)
    n_days = np.bincount(table.period_of_day, minlength=table.n_periods)
    mean_dau = series(dau_sum / n_days, table.starts, "mean_dau")
    mau = period_active_users(log, Frequency.MONTH, events)
    return pd.DataFrame(
        {"numerator": mean_dau, "denominator": mau, "value": safe_ratio(mean_dau, mau, 100.0)}
    )


# ---------------------------------------------------------------- lifecycle


def lifecycle(log: EventLog, frequency: Frequency | str, events: Iterable[str] | None = None) -> pd.DataFrame:
    """Per period: active, new, returning, resurrecting and dormant users.

    For a user active in period p: new when p is their first active period,
    returning when they were also active in p − 1, resurrecting otherwise.
    Dormant in p: active in p − 1 but not in p (a positive count).
    churn_pct = 100 × dormant_p / active_{p−1}. active = new + returning + resurrecting.
    """
    user, period, table = log.period_pairs(frequency, events)
    n = table.n_periods
    first = np.ones(len(user), dtype=np.bool_)
    first[1:] = user[1:] != user[:-1]
    previous_active = np.zeros(len(user), dtype=np.bool_)
    previous_active[1:] = ~first[1:] & (period[1:] == period[:-1] + 1)
    # a pair whose next pair is the same user in p + 1 is "kept"; otherwise that
    # user goes dormant in p + 1 (if p + 1 is inside the log)
    kept_next = np.zeros(len(user), dtype=np.bool_)
    kept_next[:-1] = previous_active[1:]
    dormant_period = period[~kept_next] + 1
    dormant_period = dormant_period[dormant_period < n]
    active = np.bincount(period, minlength=n)
    frame = pd.DataFrame(
        {
            "active": active,
            "new": np.bincount(period[first], minlength=n),
            "returning": np.bincount(period[previous_active], minlength=n),
            "resurrecting": np.bincount(period[~first & ~previous_active], minlength=n),
            "dormant": np.bincount(dormant_period, minlength=n),
        },
        index=pd.DatetimeIndex(table.starts, name="period_start"),
    ).astype(np.float64)
    previous = frame["active"].shift(1)
    frame["churn_pct"] = safe_ratio(frame["dormant"], previous, 100.0)
    frame.loc[frame.index[0], ["returning", "resurrecting", "dormant"]] = np.nan  # no prior period seen
    return frame


# ---------------------------------------------------------------- cohorts


@dataclass
class CohortMatrix:
    """Cohort sizes, retained counts and retention % by (cohort start, periods since)."""

    sizes: pd.Series
    counts: pd.DataFrame
    percent: pd.DataFrame


def retention_matrix(
    log: EventLog,
    frequency: Frequency | str = Frequency.MONTH,
    *,
    cohort: str = "first_time",
    mode: str = "on",
    events: Iterable[str] | None = None,
) -> CohortMatrix:
    """Cohort retention: share of a cohort active k periods after joining it.

    cohort = "first_time": a user's cohort is the period of their first active
    day; "recurring": every active period of a user opens a cohort they belong
    to. mode = "on": counted at k when active in period c + k; "on_or_after":
    counted at k when active in any period ≥ c + k.
    percent[c, k] = 100 × counts[c, k] / size[c]; cells after the log's last
    period are missing. k = 0 is 100 % by definition.
    """
    if cohort not in ("first_time", "recurring"):
        raise ValidationError(f"Unknown cohort kind {cohort!r}: use first_time or recurring.")
    if mode not in ("on", "on_or_after"):
        raise ValidationError(f"Unknown retention mode {mode!r}: use on or on_or_after.")
    user, period, table = log.period_pairs(frequency, events)
    n = table.n_periods
    first = np.ones(len(user), dtype=np.bool_)
    first[1:] = user[1:] != user[:-1]
    last = np.ones(len(user), dtype=np.bool_)
    last[:-1] = first[1:]
    user_start = np.maximum.accumulate(np.where(first, np.arange(len(user)), 0))
    counts = np.zeros((n, n), dtype=np.int64)
    if not len(user):
        pass  # no qualifying activity: every cohort is empty
    elif cohort == "first_time":
        cohort_of = period[user_start]
        if mode == "on":
            flat = np.bincount(cohort_of * n + (period - cohort_of), minlength=n * n)
            counts = flat.reshape(n, n)
        else:
            c, k_last = cohort_of[last], period[last] - cohort_of[last]
            counts = _on_or_after(c, k_last, n)
    elif mode == "on_or_after":
        user_end = np.minimum.accumulate(np.where(last, np.arange(len(user)), len(user))[::-1])[::-1]
        counts = _on_or_after(period, period[user_end] - period, n)
    else:
        # pair (u, p) counts at k for every later pair (u, q): k = q − p.
        # Per user the pairs are contiguous; loop over the offset k, not rows.
        keys = user * n + period
        for k in range(n):
            target = keys + k
            pos = np.minimum(np.searchsorted(keys, target), len(keys) - 1)
            hit = (keys[pos] == target) & (period + k < n)
            counts[:, k] = np.bincount(period[hit], minlength=n)
    sizes = series(counts[:, 0], table.starts, "cohort_size")
    count_frame = pd.DataFrame(counts.astype(np.float64), index=sizes.index, columns=range(n))
    # cells beyond the end of the log are unknown, not zero
    horizon = n - np.arange(n)[:, None] > np.arange(n)[None, :]
    count_frame = count_frame.where(horizon)
    percent = count_frame.div(sizes.where(sizes > 0), axis=0) * 100.0
    return CohortMatrix(sizes, count_frame, percent)


def _on_or_after(cohort_of: np.ndarray, last_offset: np.ndarray, n: int) -> np.ndarray:
    """counts[c, k] = #members of c whose last active offset ≥ k (difference array per row)."""
    delta = np.zeros(n * (n + 1), dtype=np.int64)
    np.add.at(delta, cohort_of * (n + 1), 1)
    np.add.at(delta, cohort_of * (n + 1) + last_offset + 1, -1)
    return np.cumsum(delta.reshape(n, n + 1), axis=1)[:, :n]


# ---------------------------------------------------------------- usage


def usage_frequency(
    log: EventLog, frequency: Frequency | str, events: Iterable[str] | None = None
) -> pd.DataFrame:
    """Mean active days per active user = (user, day) pairs in the period / active users."""
    pairs = log.pairs(events)
    table = log.periods(frequency)
    days = np.bincount(table.period_of_day[pairs.day], minlength=table.n_periods)
    users = period_active_users(log, frequency, events)
    days_s = series(days, table.starts, "active_days")
    return pd.DataFrame({"numerator": days_s, "denominator": users, "value": safe_ratio(days_s, users)})


def feature_adoption(
    log: EventLog,
    feature_events: Iterable[str],
    frequency: Frequency | str,
    events: Iterable[str] | None = None,
) -> pd.DataFrame:
    """100 × users with a feature event in the period / active users in the period."""
    users = period_active_users(log, frequency, events)
    adopters = period_active_users(log, frequency, feature_events)
    return pd.DataFrame(
        {"numerator": adopters, "denominator": users, "value": safe_ratio(adopters, users, 100.0)}
    )


def _first_time_by_user(log: EventLog, mask: np.ndarray | None) -> pd.Series:
    user = log.user if mask is None else log.user[mask]
    times = log.time_ns if mask is None else log.time_ns[mask]
    first = np.full(log.n_users, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, user, times)
    return pd.Series(first)


def activation(
    log: EventLog, key_events: Iterable[str], within_days: float, frequency: Frequency | str
) -> pd.DataFrame:
    """Activation of new users, by the period in which they were first seen.

    A user is first seen at their earliest event of any kind (time f). They
    activate at the earliest key event at or after f; activated when that is at
    most ``within_days`` × 24 h after f. Per period of f:
    new_users, activated, rate_pct = 100 × activated / new_users, and
    median_hours = median of (activation − f) in hours over the activated users.
    """
    key_events = list(key_events)
    mask = log.event_mask(key_events)
    assert mask is not None
    first_seen = _first_time_by_user(log, None).to_numpy()
    present = first_seen != np.iinfo(np.int64).max
    # first key event at or after first seen: every event is ≥ first seen by
    # definition, so the earliest key event of the user is the one
    first_key = _first_time_by_user(log, mask).to_numpy()
    limit = round(within_days * 86_400 * 1e9)
    has_key = first_key != np.iinfo(np.int64).max
    delay = np.where(has_key, first_key - first_seen, np.iinfo(np.int64).max)
    activated = present & has_key & (delay <= limit)
    table = log.periods(frequency)
    seen_day = (
        first_seen[present].astype("datetime64[ns]").astype("datetime64[D]").astype(np.int64) - log.first_day
    )
    period_of_user = np.full(log.n_users, -1, dtype=np.int64)
    period_of_user[present] = table.period_of_day[seen_day]
    n = table.n_periods
    new_users = np.bincount(period_of_user[present], minlength=n)
    activated_count = np.bincount(period_of_user[activated], minlength=n)
    hours = pd.Series(delay[activated] / 3.6e12).groupby(period_of_user[activated]).median()
    frame = pd.DataFrame(
        {
            "new_users": new_users.astype(np.float64),
            "activated": activated_count.astype(np.float64),
            "median_hours": hours.reindex(range(n)).to_numpy(),
        },
        index=pd.DatetimeIndex(table.starts, name="period_start"),
    )
    frame["rate_pct"] = safe_ratio(frame["activated"], frame["new_users"], 100.0)
    return frame


def _funnel_reached(log: EventLog, steps: Sequence[str], window_hours: float) -> list[np.ndarray]:
    """For each step, the entry time t1 (ns) of every user who reached it (see :func:`funnel`)."""
    if len(steps) < 2:
        raise ValidationError("A funnel needs at least two steps.")
    window = round(window_hours * 3.6e12)
    frames = []
    for step in steps:
        mask = log.event_mask([step])
        assert mask is not None
        frames.append(
            pd.DataFrame({"user": log.user[mask], "t": log.time_ns[mask]}).sort_values("t", kind="stable")
        )
    entered = frames[0].groupby("user", sort=False)["t"].min()
    state = pd.DataFrame(
        {"user": entered.index.to_numpy(), "t1": entered.to_numpy(), "t": entered.to_numpy()}
    )
    reached = [state["t1"].to_numpy()]
    for step_frame in frames[1:]:
        state = state.sort_values("t", kind="stable")
        # earliest next-step event at or after the previous step, per user
        matched = pd.merge_asof(
            state,
            step_frame.rename(columns={"t": "t_next"}),
            left_on="t",
            right_on="t_next",
            by="user",
            direction="forward",
            allow_exact_matches=True,
        )
        ok = matched["t_next"].notna() & (matched["t_next"] <= matched["t1"] + window)
        state = pd.DataFrame(
            {
                "user": matched["user"][ok].to_numpy(),
                "t1": matched["t1"][ok].to_numpy(),
                "t": matched["t_next"][ok].to_numpy().astype(np.int64),
            }
        )
        reached.append(state["t1"].to_numpy())
    return reached


def funnel_by_period(
    log: EventLog, steps: Sequence[str], window_hours: float, frequency: Frequency | str
) -> pd.DataFrame:
    """Funnel by the period in which users entered it (their first ``steps[0]``).

    Columns: entered, completed (reached the last step), conversion_pct =
    100 × completed / entered, dropoff_pct = 100 − conversion_pct.
    """
    reached = _funnel_reached(log, steps, window_hours)
    table = log.periods(frequency)

    def per_period(t1: np.ndarray) -> np.ndarray:
        day = t1.astype("datetime64[ns]").astype("datetime64[D]").astype(np.int64) - log.first_day
        return np.bincount(table.period_of_day[day], minlength=table.n_periods).astype(np.float64)

    frame = pd.DataFrame(
        {"entered": per_period(reached[0]), "completed": per_period(reached[-1])},
        index=pd.DatetimeIndex(table.starts, name="period_start"),
    )
    frame = frame[frame["entered"] > 0]
    frame["conversion_pct"] = safe_ratio(frame["completed"], frame["entered"], 100.0)
    frame["dropoff_pct"] = 100.0 - frame["conversion_pct"]
    return frame


def funnel(log: EventLog, steps: Sequence[str], window_hours: float) -> pd.DataFrame:
    """Ordered funnel within a conversion window.

    A user enters at their first ``steps[0]`` event (time t1). Step k is reached
    at the earliest ``steps[k]`` event at or after the time step k − 1 was
    reached and at most ``window_hours`` after t1. Per step: users reaching it,
    conversion_pct = 100 × users_k / users_1 (overall), step_pct =
    100 × users_k / users_{k−1}, dropoff_pct = 100 − step_pct.
    """
    counts = [len(r) for r in _funnel_reached(log, steps, window_hours)]
    users = np.asarray(counts, dtype=np.float64)
    frame = pd.DataFrame({"step": list(steps), "users": users})
    frame["conversion_pct"] = 100.0 * users / users[0] if users[0] else np.nan
    previous = np.concatenate([[users[0]], users[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["step_pct"] = np.where(previous > 0, 100.0 * users / previous, np.nan)
    frame["dropoff_pct"] = 100.0 - frame["step_pct"]
    return frame


# ---------------------------------------------------------------- the recipe


def run(frame: pd.DataFrame, conventions: dict[str, object] | None = None) -> RecipeResult:
    """Compute the engagement set from an event log.

    Conventions (recorded on each KPI): ``mau`` = "rolling_30" (default) or
    "calendar_month"; ``period`` = frequency of period KPIs (default month);
    ``active_events`` = events that count as activity (default all);
    ``key_event`` + ``activation_days`` (default 7) for activation;
    ``feature_event`` for adoption; ``funnel_steps`` + ``funnel_window_hours``.
    """
    conv = dict(conventions or {})
    period = Frequency(str(conv.get("period", Frequency.MONTH)))
    mau_kind = str(conv.get("mau", "rolling_30"))
    if mau_kind not in ("rolling_30", "calendar_month"):
        raise ValidationError(f"Unknown MAU convention {mau_kind!r}: use rolling_30 or calendar_month.")
    active_events = conv.get("active_events")
    active = list(active_events) if isinstance(active_events, (list, tuple)) else None
    log = EventLog.from_frame(frame)
    result = RecipeResult(RECIPE, data_end=log.days[-1].date())
    scope = "all events" if active is None else "events " + ", ".join(active)
    day = Frequency.DAY
    dau = daily_active_users(log, active)
    result.outputs.append(KpiOutput("dau", day, dau, f"distinct users per day ({scope})"))
    result.outputs.append(
        KpiOutput(
            "wau",
            day,
            rolling_active_users(log, 7, active),
            f"distinct users over a rolling 7 days ({scope})",
        )
    )
    if mau_kind == "rolling_30":
        sticky = stickiness(log, events=active)
        result.outputs.append(
            KpiOutput("mau", day, sticky["denominator"], f"distinct users over a rolling 30 days ({scope})")
        )
        result.outputs.append(
            KpiOutput(
                "stickiness",
                day,
                sticky["value"],
                "DAU / rolling-30-day MAU",
                sticky["numerator"],
                sticky["denominator"],
            )
        )
    else:
        sticky = monthly_stickiness(log, active)
        result.outputs.append(
            KpiOutput(
                "mau", Frequency.MONTH, sticky["denominator"], f"distinct users per calendar month ({scope})"
            )
        )
        result.outputs.append(
            KpiOutput(
                "stickiness",
                Frequency.MONTH,
                sticky["value"],
                "mean DAU in the month / calendar-month MAU",
                sticky["numerator"],
                sticky["denominator"],
            )
        )
    life = lifecycle(log, period, active)
    result.tables["lifecycle"] = life
    result.outputs.append(KpiOutput("signups", period, life["new"], f"users first seen in the {period}"))
    result.outputs.append(
        KpiOutput(
            "resurrected_users",
            period,
            life["resurrecting"].dropna(),
            f"active this {period}, not the previous one, but seen before",
        )
    )
    result.outputs.append(
        KpiOutput("dormant_users", period, life["dormant"].dropna(), f"active last {period} and not this one")
    )
    result.outputs.append(
        KpiOutput(
            "returning_users",
            period,
            life["returning"].dropna(),
            f"active this {period} and the previous one",
        )
    )
    result.outputs.append(
        KpiOutput(
            "churn_rate",
            period,
            life["churn_pct"].dropna(),
            f"users active last {period} and not this one / users active last {period}",
            life["dormant"].dropna(),
            life["active"].shift(1).dropna(),
        )
    )
    usage = usage_frequency(log, period, active)
    result.outputs.append(
        KpiOutput(
            "usage_frequency",
            period,
            usage["value"],
            f"active days per active user in the {period}",
            usage["numerator"],
            usage["denominator"],
        )
    )
    retention_kind = str(conv.get("retention", "on"))
    cohort_kind = str(conv.get("cohort", "first_time"))
    cohorts = retention_matrix(log, period, cohort=cohort_kind, mode=retention_kind, events=active)
    result.tables["retention"] = cohorts.percent
    offset = int(conv.get("retention_period", 1))  # type: ignore[call-overload]
    if 0 < offset < cohorts.counts.shape[1]:
        retained = cohorts.counts[offset].dropna()
        sizes = cohorts.sizes.reindex(retained.index)
        keep = sizes > 0
        result.outputs.append(
            KpiOutput(
                "retention_rate",
                period,
                safe_ratio(retained[keep], sizes[keep], 100.0),
                f"share of the {period}'s {cohort_kind.replace('_', '-')} cohort active {offset} {period}(s) "
                f"later ({'on' if retention_kind == 'on' else 'on or after'}); dated at the cohort's {period}",
                retained[keep],
                sizes[keep],
            )
        )
    if conv.get("key_event"):
        days = float(conv.get("activation_days", 7))  # type: ignore[arg-type]
        act = activation(log, [str(conv["key_event"])], days, period)
        result.tables["activation"] = act
        result.outputs.append(
            KpiOutput(
                "activation_rate",
                period,
                act["rate_pct"],
                f"new users doing {conv['key_event']} within {days:g} days of first seen / new users",
                act["activated"],
                act["new_users"],
            )
        )
        result.outputs.append(
            KpiOutput(
                "time_to_activate",
                period,
                act["median_hours"].dropna(),
                "median hours from first seen to the key event",
            )
        )
    if conv.get("feature_event"):
        adoption = feature_adoption(log, [str(conv["feature_event"])], period, active)
        result.outputs.append(
            KpiOutput(
                "feature_adoption",
                period,
                adoption["value"],
                f"users doing {conv['feature_event']} / active users",
                adoption["numerator"],
                adoption["denominator"],
            )
        )
    steps = conv.get("funnel_steps")
    if isinstance(steps, (list, tuple)) and len(steps) >= 2:
        hours = float(conv.get("funnel_window_hours", 24 * 7))  # type: ignore[arg-type]
        names = [str(s) for s in steps]
        result.tables["funnel"] = funnel(log, names, hours)
        by_period = funnel_by_period(log, names, hours, period)
        label = " → ".join(names)
        result.outputs.append(
            KpiOutput(
                "conversion_rate",
                period,
                by_period["conversion_pct"],
                f"users completing {label} within {hours:g} h / users entering, by {period} of entry",
                by_period["completed"],
                by_period["entered"],
            )
        )
        result.outputs.append(
            KpiOutput(
                "funnel_dropoff",
                period,
                by_period["dropoff_pct"],
                f"1 − conversion of {label} within {hours:g} h, by {period} of entry",
                by_period["entered"] - by_period["completed"],
                by_period["entered"],
            )
        )
    return result

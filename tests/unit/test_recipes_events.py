"""Event-log recipe: tiny hand-computed logs, then ≥100k rows against DuckDB SQL."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kpidesk.domain.recipes.events import (
    EventLog,
    activation,
    daily_active_users,
    feature_adoption,
    funnel,
    funnel_by_period,
    lifecycle,
    monthly_stickiness,
    period_active_users,
    retention_matrix,
    rolling_active_users,
    run,
    stickiness,
    usage_frequency,
)
from kpidesk.errors import ValidationError

duckdb = pytest.importorskip("duckdb")


def tiny_log() -> pd.DataFrame:
    """Three users over 1–5 March 2024.

    ann: 1, 2, 5 March; bob: 1, 4 March; cyd: 5 March (twice, same day).
    """
    rows = [
        ("ann", "2024-03-01 09:00", "open"),
        ("ann", "2024-03-01 10:00", "buy"),
        ("bob", "2024-03-01 12:00", "open"),
        ("ann", "2024-03-02 08:00", "open"),
        ("bob", "2024-03-04 18:00", "view"),
        ("ann", "2024-03-05 07:00", "open"),
        ("cyd", "2024-03-05 11:00", "open"),
        ("cyd", "2024-03-05 23:00", "buy"),
    ]
    return pd.DataFrame(rows, columns=["user", "timestamp", "event"])


def test_dau_and_rolling_window_by_hand() -> None:
    """DAU 1–5 March: {ann, bob}=2, {ann}=1, {}=0, {bob}=1, {ann, cyd}=2.

    Rolling 3 days (d−2..d): 1st {ann,bob}=2; 2nd {ann,bob}=2; 3rd {ann,bob}=2;
    4th (2–4) {ann,bob}=2; 5th (3–5) {bob,ann,cyd}=3.
    """
    log = EventLog.from_frame(tiny_log())
    assert daily_active_users(log).tolist() == [2, 1, 0, 1, 2]
    assert rolling_active_users(log, 3).tolist() == [2, 2, 2, 2, 3]
    assert rolling_active_users(log, 1).tolist() == [2, 1, 0, 1, 2]
    sticky = stickiness(log, mau_window=3)
    assert sticky["value"].tolist() == pytest.approx([100, 50, 0, 50, 200 / 3])


def test_calendar_periods_and_monthly_stickiness_by_hand() -> None:
    """ISO week of 26 Feb (1–3 March): ann, bob = 2; week of 4 March: bob, ann, cyd = 3.

    March (days 1–5 of the log): DAU 2, 1, 0, 1, 2 → mean 6/5 = 1.2; MAU 3 → 40 %.
    """
    log = EventLog.from_frame(tiny_log())
    weeks = period_active_users(log, "week")
    assert weeks.to_dict() == {pd.Timestamp("2024-02-26"): 2.0, pd.Timestamp("2024-03-04"): 3.0}
    monthly = monthly_stickiness(log)
    assert monthly["numerator"].iloc[0] == pytest.approx(1.2)
    assert monthly["denominator"].iloc[0] == 3
    assert monthly["value"].iloc[0] == pytest.approx(40)


def test_event_filter_counts_only_qualifying_events() -> None:
    """Only 'buy' counts: ann on the 1st, cyd on the 5th."""
    log = EventLog.from_frame(tiny_log())
    assert daily_active_users(log, ["buy"]).tolist() == [1, 0, 0, 0, 1]


def test_lifecycle_weekly_by_hand() -> None:
    """ISO weeks: W09 = 26 Feb–3 Mar (1–3 March), W10 = 4–10 March.

    W09 active: ann, bob (both new). W10 active: ann, bob (returning), cyd (new).
    Dormant in W10: none. Churn W10 = 0 / 2.
    """
    life = lifecycle(EventLog.from_frame(tiny_log()), "week")
    assert life["active"].tolist() == [2, 3]
    assert life["new"].tolist() == [2, 1]
    assert life["returning"].iloc[1] == 2
    assert life["resurrecting"].iloc[1] == 0
    assert life["dormant"].iloc[1] == 0
    assert life["churn_pct"].iloc[1] == 0


def test_lifecycle_resurrecting_and_dormant_by_hand() -> None:
    """Months Jan–Apr. u1: Jan, Mar. u2: Jan, Feb, Apr. u3: Feb.

    Feb: u2 returning, u3 new, u1 dormant → churn 1/2 = 50 %.
    Mar: u1 resurrecting; u2 and u3 dormant → churn 2/2 = 100 %.
    Apr: u2 resurrecting, u1 dormant → churn 1/1.
    """
    rows = [
        ("u1", "2024-01-05"), ("u2", "2024-01-07"), ("u2", "2024-02-02"), ("u3", "2024-02-09"),
        ("u1", "2024-03-03"), ("u2", "2024-04-04"),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["user", "timestamp"])
    life = lifecycle(EventLog.from_frame(frame), "month")
    assert life["new"].tolist() == [2, 1, 0, 0]
    assert life["returning"].tolist()[1:] == [1, 0, 0]
    assert life["resurrecting"].tolist()[1:] == [0, 1, 1]
    assert life["dormant"].tolist()[1:] == [1, 2, 1]
    assert life["churn_pct"].tolist()[1:] == [50, 100, 100]


def test_retention_kinds_and_modes_by_hand() -> None:
    """Same log as above (u1: Jan, Mar; u2: Jan, Feb, Apr; u3: Feb).

    first_time, on: Jan cohort {u1,u2}: k0 2, k1 1 (u2 Feb), k2 1 (u1 Mar), k3 1 (u2 Apr);
    Feb cohort {u3}: 1, 0, 0.
    on_or_after: Jan: 2, 2, 2, 1; Feb: 1, 0, 0.
    recurring, on: cohorts are every active month: Jan {u1,u2} as above;
    Feb {u2,u3}: k0 2, k1 0, k2 1 (u2 Apr); Mar {u1}: 1, 0; Apr {u2}: 1.
    """
    rows = [
        ("u1", "2024-01-05"), ("u2", "2024-01-07"), ("u2", "2024-02-02"), ("u3", "2024-02-09"),
        ("u1", "2024-03-03"), ("u2", "2024-04-04"),
    ]  # fmt: skip
    log = EventLog.from_frame(pd.DataFrame(rows, columns=["user", "timestamp"]))
    on = retention_matrix(log, "month").counts
    assert on.iloc[0].tolist() == [2, 1, 1, 1]
    assert on.iloc[1].tolist()[:3] == [1, 0, 0]
    assert math.isnan(on.iloc[1, 3])  # beyond the end of the log
    after = retention_matrix(log, "month", mode="on_or_after").counts
    assert after.iloc[0].tolist() == [2, 2, 2, 1]
    assert after.iloc[1].tolist()[:3] == [1, 0, 0]
    recurring = retention_matrix(log, "month", cohort="recurring").counts
    assert recurring.iloc[1].tolist()[:3] == [2, 0, 1]
    assert recurring.iloc[2].tolist()[:2] == [1, 0]
    percent = retention_matrix(log, "month").percent
    assert percent.iloc[0].tolist() == [100, 50, 50, 50]
    with pytest.raises(ValidationError):
        retention_matrix(log, "month", mode="sometimes")
    empty = retention_matrix(EventLog.from_frame(tiny_log()), "month", cohort="recurring", events=["never"])
    assert empty.sizes.tolist() == [0]


def test_activation_funnel_adoption_usage_by_hand() -> None:
    """Key event 'buy' within 1 day: ann first seen 1 Mar 09:00, buys 10:00 (1 h);
    bob never buys; cyd first seen 5 Mar 11:00, buys 23:00 (12 h).
    March: 3 new, 2 activated → 66.67 %, median hours (1 + 12)/2 = 6.5.

    Funnel open → buy within 2 h: ann 09:00 → 10:00 yes; bob no buy; cyd 11:00 →
    23:00 too late → 3, 1: overall 33.3 %, drop-off 66.7 %.
    Adoption of 'view' in March: bob / 3 active = 33.3 %.
    Usage: active days ann 3, bob 2, cyd 1 → 6 / 3 = 2.
    """
    log = EventLog.from_frame(tiny_log())
    act = activation(log, ["buy"], 1, "month")
    assert act["new_users"].iloc[0] == 3
    assert act["activated"].iloc[0] == 2
    assert act["rate_pct"].iloc[0] == pytest.approx(200 / 3)
    assert act["median_hours"].iloc[0] == pytest.approx(6.5)
    steps = funnel(log, ["open", "buy"], 2)
    assert steps["users"].tolist() == [3, 1]
    assert steps["dropoff_pct"].iloc[1] == pytest.approx(200 / 3)
    assert feature_adoption(log, ["view"], "month")["value"].iloc[0] == pytest.approx(100 / 3)
    assert usage_frequency(log, "month")["value"].iloc[0] == 2
    with pytest.raises(ValidationError, match="two steps"):
        funnel(log, ["open"], 1)


def test_run_stores_lifecycle_retention_and_funnel_kpis() -> None:
    """Monthly, funnel open → buy within 2 h (see the activation test for the times):
    March entries ann, bob, cyd; only ann completes → conversion 33.3 %, drop-off 66.7 %.
    A single month: no month-1 retention can be known yet, so none is stored.
    """
    result = run(tiny_log(), {"funnel_steps": ["open", "buy"], "funnel_window_hours": 2})
    march = pd.Timestamp("2024-03-01")
    assert result.get("conversion_rate").values[march] == pytest.approx(100 / 3)
    assert result.get("funnel_dropoff").values[march] == pytest.approx(200 / 3)
    assert result.get("conversion_rate").denominator[march] == 3
    assert all(output.key != "retention_rate" for output in result.outputs)
    assert result.get("signups").values[march] == 3


def test_run_month_one_retention_by_hand() -> None:
    """u1: Jan, Mar; u2: Jan, Feb, Apr; u3: Feb. Month-1 retention ("on"):
    Jan cohort {u1, u2}: u2 active in Feb → 50 %; Feb cohort {u3}: 0 %; Mar cohort is empty.
    Lifecycle: resurrected in Mar (u1) and Apr (u2); dormant Feb 1, Mar 2, Apr 1.
    """
    rows = [
        ("u1", "2024-01-05"), ("u2", "2024-01-07"), ("u2", "2024-02-02"), ("u3", "2024-02-09"),
        ("u1", "2024-03-03"), ("u2", "2024-04-04"),
    ]  # fmt: skip
    result = run(pd.DataFrame(rows, columns=["user", "timestamp"]))
    retention = result.get("retention_rate").values
    assert retention.to_dict() == {pd.Timestamp("2024-01-01"): 50.0, pd.Timestamp("2024-02-01"): 0.0}
    assert result.get("resurrected_users").values.tolist() == [0, 1, 1]
    assert result.get("dormant_users").values.tolist() == [1, 2, 1]


def test_bad_input_is_refused_with_row() -> None:
    frame = tiny_log()
    frame.loc[3, "timestamp"] = "not a date"
    with pytest.raises(ValidationError, match=r"'not a date'.*row 4"):
        EventLog.from_frame(frame)
    with pytest.raises(ValidationError, match="needs a 'user' column"):
        EventLog.from_frame(frame.drop(columns="user"))


# ---------------------------------------------------------------- DuckDB cross-check

N_EVENTS = 120_000


@pytest.fixture(scope="module")
def big_events() -> pd.DataFrame:
    """120k events, 4,000 users joining over 200 days, decaying activity, string ids."""
    rng = np.random.default_rng(2024)
    n_users = 4_000
    join = rng.integers(0, 200, n_users)
    user = rng.integers(0, n_users, N_EVENTS)
    day = np.minimum(join[user] + rng.exponential(30, N_EVENTS).astype(int), 199)
    seconds = rng.integers(0, 86_400, N_EVENTS)
    ts = np.datetime64("2024-01-01T00:00:00", "s") + (day * 86_400 + seconds).astype("timedelta64[s]")
    events = rng.choice(["open", "view", "buy", "share"], N_EVENTS, p=[0.5, 0.3, 0.1, 0.1])
    return pd.DataFrame(
        {
            "user": np.char.add("u", user.astype(str)),
            "timestamp": ts.astype("datetime64[ns]"),
            "event": events,
        }
    )


@pytest.fixture(scope="module")
def con(big_events: pd.DataFrame):
    connection = duckdb.connect()
    connection.register("raw", big_events)
    connection.execute('CREATE TABLE ev AS SELECT "user" AS uid, "timestamp" AS ts, event FROM raw')
    connection.execute("CREATE TABLE days AS SELECT DISTINCT uid, CAST(ts AS DATE) AS d FROM ev")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def log(big_events: pd.DataFrame) -> EventLog:
    return EventLog.from_frame(big_events)


def sql_series(con, query: str) -> pd.Series:
    frame = con.execute(query).df()
    return pd.Series(frame.iloc[:, 1].to_numpy(dtype=float), index=pd.DatetimeIndex(frame.iloc[:, 0]))


def assert_same(mine: pd.Series, theirs: pd.Series, fill: float | None = 0.0) -> None:
    if fill is not None:
        theirs = theirs.reindex(mine.index, fill_value=fill)
    else:
        mine = mine.dropna()
        assert sorted(mine.index) == sorted(theirs.index)
        theirs = theirs.reindex(mine.index)
    np.testing.assert_allclose(mine.to_numpy(), theirs.to_numpy(), rtol=1e-9, atol=1e-9)


def test_big_dau_wau_mau_match_duckdb(log: EventLog, con) -> None:
    assert len(log.user) >= 100_000
    dau = sql_series(con, "SELECT d, count(*) FROM days GROUP BY d ORDER BY d")
    assert_same(daily_active_users(log), dau)
    for window in (7, 30):
        rolling = sql_series(
            con,
            f"""
            WITH cal AS (SELECT CAST(x AS DATE) AS d FROM generate_series(
                (SELECT min(d) FROM days)::TIMESTAMP, (SELECT max(d) FROM days)::TIMESTAMP, INTERVAL 1 DAY) t(x))
            SELECT cal.d, count(DISTINCT days.uid) FROM cal
            LEFT JOIN days ON days.d BETWEEN cal.d - {window - 1} AND cal.d
            GROUP BY cal.d ORDER BY cal.d
            """,
        )
        assert_same(rolling_active_users(log, window), rolling)
    calendar = sql_series(
        con, "SELECT date_trunc('month', d), count(DISTINCT uid) FROM days GROUP BY 1 ORDER BY 1"
    )
    assert_same(period_active_users(log, "month"), calendar)
    weeks = sql_series(con, "SELECT date_trunc('week', d), count(DISTINCT uid) FROM days GROUP BY 1")
    assert_same(period_active_users(log, "week"), weeks)
    mean_dau = sql_series(
        con,
        """WITH cal AS (SELECT CAST(x AS DATE) AS d FROM generate_series(
               (SELECT min(d) FROM days)::TIMESTAMP, (SELECT max(d) FROM days)::TIMESTAMP, INTERVAL 1 DAY) t(x)),
           daily AS (SELECT cal.d, count(days.uid) AS n FROM cal LEFT JOIN days USING (d) GROUP BY cal.d),
           monthly AS (SELECT date_trunc('month', d) AS m, count(DISTINCT uid) AS mau FROM days GROUP BY 1)
           SELECT m, 100.0 * avg(n) / any_value(mau) FROM daily JOIN monthly ON date_trunc('month', daily.d) = m
           GROUP BY m ORDER BY m""",
    )
    assert_same(monthly_stickiness(log)["value"], mean_dau)


def test_big_lifecycle_matches_duckdb(log: EventLog, con) -> None:
    frame = (
        con.execute(
            """
        WITH um AS (SELECT DISTINCT uid, date_trunc('month', d) AS m FROM days),
             first AS (SELECT uid, min(m) AS fm FROM um GROUP BY uid),
             flagged AS (
                SELECT um.uid, um.m, first.fm,
                       EXISTS (SELECT 1 FROM um p WHERE p.uid = um.uid AND p.m = um.m - INTERVAL 1 MONTH) AS prev
                FROM um JOIN first USING (uid))
        SELECT m, count(*) AS active, count(*) FILTER (WHERE m = fm) AS new,
               count(*) FILTER (WHERE prev) AS returning,
               count(*) FILTER (WHERE NOT prev AND m <> fm) AS resurrecting
        FROM flagged GROUP BY m ORDER BY m
        """
        )
        .df()
        .set_index("m")
    )
    dormant = con.execute(
        """
        WITH um AS (SELECT DISTINCT uid, date_trunc('month', d) AS m FROM days)
        SELECT um.m + INTERVAL 1 MONTH AS m, count(*) FROM um
        WHERE NOT EXISTS (SELECT 1 FROM um n WHERE n.uid = um.uid AND n.m = um.m + INTERVAL 1 MONTH)
          AND um.m < (SELECT max(m) FROM um)
        GROUP BY 1
        """
    ).df()
    life = lifecycle(log, "month")
    for column in ("active", "new"):
        assert_same(
            life[column], pd.Series(frame[column].to_numpy(float), index=pd.DatetimeIndex(frame.index))
        )
    for column in ("returning", "resurrecting"):
        theirs = pd.Series(frame[column].to_numpy(float), index=pd.DatetimeIndex(frame.index)).iloc[1:]
        assert_same(life[column].iloc[1:], theirs)
    dormant_sql = pd.Series(dormant.iloc[:, 1].to_numpy(float), index=pd.DatetimeIndex(dormant.iloc[:, 0]))
    assert_same(life["dormant"].iloc[1:], dormant_sql)


@pytest.mark.parametrize("cohort", ["first_time", "recurring"])
@pytest.mark.parametrize("mode", ["on", "on_or_after"])
def test_big_retention_matches_duckdb(log: EventLog, con, cohort: str, mode: str) -> None:
    cohorts = (
        "SELECT uid, min(m) AS c FROM um GROUP BY uid"
        if cohort == "first_time"
        else "SELECT uid, m AS c FROM um"
    )
    condition = "um.m = cohorts.c + to_months(k.k)" if mode == "on" else "um.m >= cohorts.c + to_months(k.k)"
    frame = con.execute(
        f"""
        WITH um AS (SELECT DISTINCT uid, date_trunc('month', d) AS m FROM days),
             cohorts AS ({cohorts}),
             k AS (SELECT range AS k FROM range(0, 7))
        SELECT cohorts.c, k.k, count(DISTINCT cohorts.uid) AS n
        FROM cohorts CROSS JOIN k JOIN um ON um.uid = cohorts.uid AND {condition}
        GROUP BY ALL
        """
    ).df()
    matrix = retention_matrix(log, "month", cohort=cohort, mode=mode).counts
    mine = matrix.stack().rename("n")
    mine = mine[mine > 0]
    theirs = pd.Series(
        frame["n"].to_numpy(float),
        index=pd.MultiIndex.from_arrays([pd.DatetimeIndex(frame["c"]), frame["k"].to_numpy()]),
    )
    assert len(mine) == len(theirs) > 20
    np.testing.assert_allclose(mine.to_numpy(), theirs.reindex(mine.index).to_numpy(), rtol=1e-9)


def test_big_usage_adoption_activation_funnel_match_duckdb(log: EventLog, con) -> None:
    usage = sql_series(
        con, "SELECT date_trunc('month', d), count(*) / count(DISTINCT uid) FROM days GROUP BY 1"
    )
    assert_same(usage_frequency(log, "month")["value"], usage, fill=None)
    adoption = sql_series(
        con,
        """SELECT date_trunc('month', ts) AS m,
                  100.0 * count(DISTINCT uid) FILTER (WHERE event = 'share') / count(DISTINCT uid)
           FROM ev GROUP BY 1""",
    )
    assert_same(feature_adoption(log, ["share"], "month")["value"], adoption, fill=None)
    act = (
        con.execute(
            """
        WITH f AS (SELECT uid, min(ts) AS fs FROM ev GROUP BY uid),
             k AS (SELECT uid, min(ts) AS kt FROM ev WHERE event = 'buy' GROUP BY uid)
        SELECT date_trunc('month', fs) AS m, count(*) AS new_users,
               count(*) FILTER (WHERE kt <= fs + INTERVAL 3 DAY) AS activated,
               median((epoch(kt) - epoch(fs)) / 3600.0) FILTER (WHERE kt <= fs + INTERVAL 3 DAY) AS hours
        FROM f LEFT JOIN k USING (uid) GROUP BY 1 ORDER BY 1
        """
        )
        .df()
        .set_index("m")
    )
    mine = activation(log, ["buy"], 3, "month")
    index = pd.DatetimeIndex(act.index)
    assert_same(mine["new_users"], pd.Series(act["new_users"].to_numpy(float), index=index))
    assert_same(mine["activated"], pd.Series(act["activated"].to_numpy(float), index=index))
    assert_same(mine["median_hours"].dropna(), pd.Series(act["hours"].to_numpy(float), index=index).dropna())
    counts = con.execute(
        """
        WITH s1 AS (SELECT uid, min(ts) AS t1 FROM ev WHERE event = 'open' GROUP BY uid),
             s2 AS (SELECT s1.uid, any_value(s1.t1) AS t1, min(e.ts) AS t2 FROM s1 JOIN ev e
                    ON e.uid = s1.uid AND e.event = 'view' AND e.ts >= s1.t1 AND e.ts <= s1.t1 + INTERVAL 48 HOUR
                    GROUP BY s1.uid),
             s3 AS (SELECT s2.uid, min(e.ts) AS t3 FROM s2 JOIN ev e
                    ON e.uid = s2.uid AND e.event = 'buy' AND e.ts >= s2.t2 AND e.ts <= s2.t1 + INTERVAL 48 HOUR
                    GROUP BY s2.uid)
        SELECT (SELECT count(*) FROM s1), (SELECT count(*) FROM s2), (SELECT count(*) FROM s3)
        """
    ).fetchone()
    steps = funnel(log, ["open", "view", "buy"], 48)
    assert steps["users"].tolist() == [float(c) for c in counts]
    assert counts[2] > 100
    by_month = con.execute(
        """
        WITH s1 AS (SELECT uid, min(ts) AS t1 FROM ev WHERE event = 'open' GROUP BY uid),
             s2 AS (SELECT s1.uid, any_value(s1.t1) AS t1, min(e.ts) AS t2 FROM s1 JOIN ev e
                    ON e.uid = s1.uid AND e.event = 'buy' AND e.ts >= s1.t1 AND e.ts <= s1.t1 + INTERVAL 24 HOUR
                    GROUP BY s1.uid)
        SELECT date_trunc('month', s1.t1) AS p, count(*) AS entered, count(s2.uid) AS completed,
               100.0 * count(s2.uid) / count(*) AS conversion
        FROM s1 LEFT JOIN s2 USING (uid) GROUP BY 1 ORDER BY 1
        """
    ).df()
    mine = funnel_by_period(log, ["open", "buy"], 24, "month")
    index = pd.DatetimeIndex(by_month["p"])
    assert_same(mine["entered"], pd.Series(by_month["entered"].to_numpy(float), index=index), fill=None)
    assert_same(
        mine["conversion_pct"], pd.Series(by_month["conversion"].to_numpy(float), index=index), fill=None
    )


def test_run_records_conventions(big_events: pd.DataFrame) -> None:
    result = run(
        big_events.head(5_000), {"key_event": "buy", "feature_event": "share", "mau": "calendar_month"}
    )
    keys = set(result.keys())
    assert {"dau", "wau", "mau", "stickiness", "signups", "returning_users", "churn_rate"} <= keys
    assert {"activation_rate", "time_to_activate", "feature_adoption", "usage_frequency"} <= keys
    assert result.get("mau").convention.startswith("distinct users per calendar month")
    assert result.get("stickiness").numerator is not None
    with pytest.raises(ValidationError, match="MAU convention"):
        run(big_events.head(10), {"mau": "fortnight"})

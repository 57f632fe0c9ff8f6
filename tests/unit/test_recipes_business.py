"""Transactions, spend, survey, referrals and releases recipes.

Each: a tiny hand-computed input, then ≥100,000 generated rows checked against
an independent SQL implementation run with DuckDB (values equal to 1e-9).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpidesk.domain.recipes import get_recipe
from kpidesk.domain.recipes import referrals as referrals_recipe
from kpidesk.domain.recipes import releases as releases_recipe
from kpidesk.domain.recipes import spend as spend_recipe
from kpidesk.domain.recipes import survey as survey_recipe
from kpidesk.domain.recipes import transactions as tx_recipe
from kpidesk.errors import ValidationError

duckdb = pytest.importorskip("duckdb")
N = 110_000


def sql_frame(query: str, **tables: pd.DataFrame) -> pd.DataFrame:
    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    frame = con.execute(query).df()
    con.close()
    return frame


def assert_series_equal(mine: pd.Series, frame: pd.DataFrame, column: str, key: str = "p") -> None:
    theirs = pd.Series(frame[column].to_numpy(float), index=pd.DatetimeIndex(frame[key]))
    mine = mine.dropna()
    theirs = theirs.dropna()
    assert sorted(mine.index) == sorted(theirs.index)
    assert len(mine) > 0
    np.testing.assert_allclose(mine.to_numpy(), theirs.reindex(mine.index).to_numpy(), rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------- transactions


def tiny_transactions() -> pd.DataFrame:
    """a pays 10 (Jan), 12 (Feb); b pays 20 (Jan), 15 (Feb); c pays 120 annual in Feb; d 30 in Jan only.

    Costs: 2 per payment of a, 5 of b, 30 of c, 6 of d.
    """
    return pd.DataFrame(
        {
            "customer": ["a", "a", "b", "b", "c", "d"],
            "date": ["2024-01-05", "2024-02-05", "2024-01-10", "2024-02-10", "2024-02-01", "2024-01-20"],
            "amount": [10, 12, 20, 15, 120, 30],
            "cost": [2, 2, 5, 5, 30, 6],
            "plan": ["monthly", "monthly", "monthly", "monthly", "annual", "monthly"],
        }
    )


def test_transactions_by_hand() -> None:
    """Revenue: Jan 10+20+30 = 60, Feb 12+15+120 = 147 → growth 145 %.

    MRR: Jan 10+20+30 = 60; Feb 12+15+120/12 = 37.
    Feb movements: a +2 expansion, b −5 contraction, d −30 churned, c +10 new.
    gross revenue churn = (30 + 5) / 60 = 58.33 %; net = (30 + 5 − 2) / 60 = 55 %.
    customer churn = 1 lost (d) / 3 active in Jan = 33.3 %.
    ARPU Jan = 60 / 3 = 20; Feb = 147 / 3 = 49.
    Gross margin Jan = (60 − 13) / 60 = 78.33 %.
    Repeat purchase Feb: a and b have 2 purchases to date, c 1 → 2/3 = 66.7 %.
    CLV (ARPU × margin / churn) Feb = 49 × ((147 − 37)/147) / (1/3) = 110.
    """
    result = tx_recipe.run(tiny_transactions())
    jan, feb = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")
    assert result.get("revenue").values.to_dict() == {jan: 60, feb: 147}
    assert result.get("revenue_growth").values[feb] == pytest.approx(145)
    moves = result.tables["mrr"]
    assert moves["mrr"].tolist() == pytest.approx([60, 37])
    assert moves.loc[feb, "expansion_mrr"] == pytest.approx(2)
    assert moves.loc[feb, "contraction_mrr"] == pytest.approx(5)
    assert moves.loc[feb, "churned_mrr"] == pytest.approx(30)
    assert moves.loc[feb, "new_mrr"] == pytest.approx(10)
    assert moves.loc[feb, "gross_revenue_churn"] == pytest.approx(35 / 60 * 100)
    assert moves.loc[feb, "net_revenue_churn"] == pytest.approx(55)
    assert result.get("churn_rate").values[feb] == pytest.approx(100 / 3)
    assert result.get("arpu").values.tolist() == pytest.approx([20, 49])
    assert result.get("gross_margin").values[jan] == pytest.approx(47 / 60 * 100)
    assert result.get("repeat_purchase_rate").values[feb] == pytest.approx(200 / 3)
    assert result.get("clv").values[feb] == pytest.approx(110)
    assert result.get("arr").values[jan] == 720
    assert result.get("new_customers").values.to_dict() == {jan: 3, feb: 1}  # a, b, d; then c
    assert result.get("cogs").values.to_dict() == {jan: 13, feb: 37}
    assert result.get("avg_lifetime").values[feb] == pytest.approx(3)  # 1 / (1/3) months


def test_year_over_year_growth_and_empty_months() -> None:
    """Jan 2023: 100, Jan 2024: 150 → YoY +50 %. The months between have revenue 0
    (no payments), and their growth vs last year is undefined (0 base) or absent.
    """
    frame = pd.DataFrame({"customer": ["a", "a"], "date": ["2023-01-10", "2024-01-10"], "amount": [100, 150]})
    result = tx_recipe.run(frame, {"growth": "year"})
    assert result.get("revenue").values.iloc[5] == 0
    assert len(result.get("revenue").values) == 13
    assert result.get("revenue_growth").values.to_dict() == {pd.Timestamp("2024-01-01"): 50.0}
    mom = tx_recipe.run(frame).get("revenue_growth").values
    assert mom[pd.Timestamp("2023-02-01")] == -100
    with pytest.raises(ValidationError, match="growth convention"):
        tx_recipe.run(frame, {"growth": "weekly"})


def test_clv_conventions_by_hand() -> None:
    """ARPU 50, churn 5 % → 1000; with margin 80 % → 800.

    Trailing 6-month churn over 4 %, 6 % = 5 % → ARPA 50 / 0.05 = 1000 for the second month.
    """
    idx = pd.date_range("2024-01-01", periods=2, freq="MS")
    arpu = pd.Series([50.0, 50.0], index=idx)
    assert tx_recipe.clv(arpu, pd.Series([5.0, 5.0], index=idx)).tolist() == pytest.approx([1000, 1000])
    margin = pd.Series([80.0, 80.0], index=idx)
    churn = pd.Series([5.0, 5.0], index=idx)
    assert tx_recipe.clv(arpu, churn, "margin_over_churn", gross_margin_pct=margin).iloc[0] == pytest.approx(
        800
    )
    trailing = tx_recipe.clv(arpu, pd.Series([4.0, 6.0], index=idx), "arpa_over_6m_churn")
    assert trailing.iloc[1] == pytest.approx(1000)
    with pytest.raises(ValidationError, match="Unknown CLV convention"):
        tx_recipe.clv(arpu, churn, "magic")


def test_transactions_refuse_bad_rows() -> None:
    frame = tiny_transactions()
    frame["amount"] = frame["amount"].astype(object)
    frame.loc[2, "amount"] = "twelve"
    with pytest.raises(ValidationError, match=r"'twelve' as a number \(column 'amount', row 3\)"):
        tx_recipe.run(frame)
    frame = tiny_transactions()
    frame.loc[0, "plan"] = "weekly"
    with pytest.raises(ValidationError, match="plan 'weekly'"):
        tx_recipe.run(frame)


@pytest.fixture(scope="module")
def big_transactions() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    customers = rng.integers(0, 6_000, N)
    days = rng.integers(0, 540, N)
    date = np.datetime64("2023-01-01") + days.astype("timedelta64[D]")
    amount = np.round(rng.gamma(2.0, 30.0, N), 2)
    amount[rng.random(N) < 0.02] *= -1  # refunds
    plan = rng.choice(["monthly", "quarterly", "annual"], N, p=[0.8, 0.1, 0.1])
    return pd.DataFrame(
        {
            "customer": customers,
            "date": date,
            "amount": amount,
            "cost": np.round(amount * rng.uniform(0.1, 0.6, N), 2),
            "plan": plan,
        }
    )


def test_big_transactions_match_duckdb(big_transactions: pd.DataFrame) -> None:
    tx = tx_recipe.prepare(big_transactions)
    assert len(tx) >= 100_000
    base = sql_frame(
        """
        SELECT date_trunc('month', date) AS p, sum(amount) AS revenue,
               count(DISTINCT customer) FILTER (WHERE amount > 0) AS paying,
               100 * (sum(amount) - sum(cost)) / sum(amount) AS margin
        FROM t GROUP BY 1 ORDER BY 1
        """,
        t=big_transactions,
    )
    assert_series_equal(tx_recipe.revenue(tx), base, "revenue")
    base["arpu"] = base["revenue"] / base["paying"]
    assert_series_equal(tx_recipe.arpu(tx)["value"], base, "arpu")
    assert_series_equal(tx_recipe.gross_margin(tx)["value"], base, "margin")
    mrr = sql_frame(
        """
        WITH pay AS (
            SELECT customer, date_trunc('month', date) AS m, amount,
                   CASE plan WHEN 'annual' THEN 12 WHEN 'quarterly' THEN 3 ELSE 1 END AS months
            FROM t),
        spread AS (
            SELECT customer, m + to_months(CAST(k AS INTEGER)) AS p, amount / months AS share
            FROM pay, range(0, 12) r(k) WHERE k < months),
        last_month AS (SELECT max(date_trunc('month', date)) AS lm FROM t),
        cm AS (SELECT customer, p, sum(share) AS v FROM spread, last_month WHERE p <= lm GROUP BY ALL),
        months AS (SELECT DISTINCT p FROM cm),
        customers AS (SELECT DISTINCT customer FROM cm),
        grid AS (
            SELECT c.customer, m.p, coalesce(cm.v, 0) AS v,
                   coalesce(prev.v, 0) AS a
            FROM customers c CROSS JOIN months m
            LEFT JOIN cm ON cm.customer = c.customer AND cm.p = m.p
            LEFT JOIN cm prev ON prev.customer = c.customer AND prev.p = m.p - INTERVAL 1 MONTH)
        SELECT p, sum(v) AS mrr,
               sum(CASE WHEN a > 0 AND v <= 0 THEN a ELSE 0 END) AS churned,
               sum(CASE WHEN a > 0 AND v > 0 AND v < a THEN a - v ELSE 0 END) AS contraction,
               sum(CASE WHEN a > 0 AND v > a THEN v - a ELSE 0 END) AS expansion,
               count(*) FILTER (WHERE a > 0 AND v <= 0) AS lost,
               count(*) FILTER (WHERE a > 0) AS start_customers,
               sum(a) AS start_mrr
        FROM grid GROUP BY p ORDER BY p
        """,
        t=big_transactions,
    )
    moves = tx_recipe.mrr_movements(tx)
    assert_series_equal(moves["mrr"], mrr, "mrr")
    mrr = mrr.iloc[1:]
    mrr["gross"] = 100 * (mrr["churned"] + mrr["contraction"]) / mrr["start_mrr"]
    mrr["net"] = 100 * (mrr["churned"] + mrr["contraction"] - mrr["expansion"]) / mrr["start_mrr"]
    mrr["churn"] = 100 * mrr["lost"] / mrr["start_customers"]
    assert_series_equal(moves["gross_revenue_churn"], mrr, "gross")
    assert_series_equal(moves["net_revenue_churn"], mrr, "net")
    assert_series_equal(moves["customer_churn"], mrr, "churn")
    repeat = sql_frame(
        """
        WITH per AS (SELECT customer, date_trunc('month', date) AS p, count(*) AS n FROM t WHERE amount > 0 GROUP BY ALL),
             cum AS (SELECT customer, p, sum(n) OVER (PARTITION BY customer ORDER BY p) AS to_date FROM per)
        SELECT p, 100.0 * count(*) FILTER (WHERE to_date >= 2) / count(*) AS rate FROM cum GROUP BY p ORDER BY p
        """,
        t=big_transactions,
    )
    assert_series_equal(tx_recipe.repeat_purchase_rate(tx)["value"], repeat, "rate")


# ---------------------------------------------------------------- spend


def test_spend_by_hand() -> None:
    """Jan: ads 100 (2 new, 4 conversions) + seo 50 (1 new, 1 conversion) → CAC 150/3 = 50, CPA 150/5 = 30;
    ads CAC 50, seo CAC 50. Feb: ads 80, 0 new → CAC missing.
    LTV:CAC with CLV 600 → 12; payback = 50 / (20 × 0.5) = 5 months.
    """
    frame = pd.DataFrame(
        {
            "date": ["2024-01-01", "2024-01-02", "2024-02-01"],
            "channel": ["ads", "seo", "ads"],
            "amount": [100, 50, 80],
            "new_customers": [2, 1, 0],
            "conversions": [4, 1, 0],
        }
    )
    result = spend_recipe.run(frame)
    jan = pd.Timestamp("2024-01-01")
    assert result.get("cac").values.dropna().to_dict() == {jan: 50.0}
    assert result.get("cac", "channel:ads").values.dropna().to_dict() == {jan: 50.0}
    assert result.get("cac", "channel:seo").values.dropna().to_dict() == {jan: 50.0}
    assert result.get("cpa").values.dropna().to_dict() == {jan: 30.0}
    # February has no CAC, but keeps its parts (80 spent, 0 new) for the quarter's CAC
    feb = pd.Timestamp("2024-02-01")
    assert pd.isna(result.get("cac").values[feb])
    assert (result.get("cac").numerator[feb], result.get("cac").denominator[feb]) == (80, 0)
    cac = result.get("cac").values
    assert spend_recipe.ltv_cac(pd.Series([600.0], index=[jan]), cac).iloc[0] == 12
    payback = spend_recipe.cac_payback(cac, pd.Series([20.0], index=[jan]), pd.Series([50.0], index=[jan]))
    assert payback.iloc[0] == 5
    assert result.get("marketing_spend").values.tolist() == [150, 80]
    assert result.get("marketing_spend", "channel:ads").values.tolist() == [100, 80]
    assert result.get("new_customers").values.tolist() == [3, 0]
    spend_only = spend_recipe.run(frame.drop(columns=["new_customers", "conversions"]))
    assert spend_only.keys() == ["marketing_spend"] * 3
    with pytest.raises(ValidationError, match="CAC needs new customers"):
        spend_recipe.cac(spend_recipe.prepare(frame.drop(columns=["new_customers"])))


def test_new_customers_from_a_table_by_hand() -> None:
    """x first seen 3 Jan via ads (and again 9 Feb: not new again); y 5 Feb via seo.

    Spend Jan ads 100, Feb seo 30 → CAC Jan ads 100/1, Feb seo 30/1.
    """
    new = spend_recipe.new_customers_from_table(
        pd.DataFrame(
            {
                "customer": ["x", "y", "x"],
                "date": ["2024-01-03", "2024-02-05", "2024-02-09"],
                "channel": ["ads", "seo", "seo"],
            }
        )
    )
    assert new["channel"].tolist() == ["ads", "seo"]
    spend = spend_recipe.prepare(
        pd.DataFrame({"date": ["2024-01-10", "2024-02-10"], "channel": ["ads", "seo"], "amount": [100, 30]})
    )
    cac = spend_recipe.cac(spend, new_customers=new, per_channel=True)["value"]
    assert cac[(pd.Timestamp("2024-01-01"), "ads")] == 100
    assert cac[(pd.Timestamp("2024-02-01"), "seo")] == 30


def test_big_spend_matches_duckdb() -> None:
    rng = np.random.default_rng(5)
    spend = pd.DataFrame(
        {
            "date": np.datetime64("2023-01-01") + rng.integers(0, 400, N).astype("timedelta64[D]"),
            "channel": rng.choice(["ads", "seo", "social", "email"], N),
            "amount": np.round(rng.uniform(0, 500, N), 2),
            "conversions": rng.integers(0, 5, N),
        }
    )
    new = pd.DataFrame(
        {
            "customer": rng.integers(0, 40_000, N),
            "date": np.datetime64("2023-01-01") + rng.integers(0, 400, N).astype("timedelta64[D]"),
            "channel": rng.choice(["ads", "seo", "social", "email"], N),
        }
    )
    # a customer whose first date appears twice (two channels) has no defined first
    # channel; drop those so both implementations face the same question
    first = new.groupby("customer")["date"].transform("min").eq(new["date"])
    tied = new[first].duplicated("customer", keep=False)
    new = new[~new["customer"].isin(new[first][tied]["customer"])]
    prepared = spend_recipe.prepare(spend)
    mine = spend_recipe.cac(
        prepared, new_customers=spend_recipe.new_customers_from_table(new), per_channel=True
    )
    theirs = sql_frame(
        """
        WITH firsts AS (SELECT customer, arg_min(channel, date) AS channel, min(date) AS date FROM n GROUP BY customer),
             nc AS (SELECT date_trunc('month', date) AS p, channel, count(*) AS k FROM firsts GROUP BY ALL),
             sp AS (SELECT date_trunc('month', date) AS p, channel, sum(amount) AS cost FROM s GROUP BY ALL)
        SELECT sp.p, sp.channel, cost / k AS cac FROM sp JOIN nc USING (p, channel) ORDER BY 1, 2
        """,
        s=spend,
        n=new,
    )
    got = mine["value"].dropna()
    expected = pd.Series(
        theirs["cac"].to_numpy(float),
        index=pd.MultiIndex.from_arrays([pd.DatetimeIndex(theirs["p"]), theirs["channel"].astype(str)]),
    )
    assert len(got) == len(expected) > 40
    np.testing.assert_allclose(got.to_numpy(), expected.reindex(got.index).to_numpy(), rtol=1e-9)
    cpa = sql_frame(
        "SELECT date_trunc('month', date) AS p, sum(amount) / sum(conversions) AS cpa FROM s GROUP BY 1",
        s=spend,
    )
    assert_series_equal(spend_recipe.cpa(prepared)["value"], cpa, "cpa")


# ---------------------------------------------------------------- survey


def test_survey_by_hand() -> None:
    """NPS answers in March: 10, 9, 8, 6, 0 → 2 promoters, 1 passive, 2 detractors: NPS 0.
    April: 9, 9, 7 → 66.67. CSAT answers 5, 4, 2 → 66.67 %; mean 11/3. CES 2, 3 → 2.5.
    """
    frame = pd.DataFrame(
        {
            "respondent": range(13),
            "date": ["2024-03-01"] * 5 + ["2024-04-02"] * 3 + ["2024-03-03"] * 3 + ["2024-03-04"] * 2,
            "question": ["nps"] * 8 + ["csat"] * 3 + ["ces"] * 2,
            "score": [10, 9, 8, 6, 0, 9, 9, 7, 5, 4, 2, 2, 3],
        }
    )
    result = survey_recipe.run(frame, {"nps_question": "nps", "csat_question": "csat", "ces_question": "ces"})
    assert result.get("nps").values.tolist() == pytest.approx([0, 200 / 3])
    table = result.tables["nps"]
    assert table["promoters"].tolist() == [2, 2]
    assert table["passives_pct"].iloc[0] == 20
    assert result.get("nps_promoters").values.iloc[0] == 40
    assert result.get("nps_detractors").values.iloc[0] == 40
    assert result.get("nps_passives").denominator.iloc[0] == 5
    assert result.get("csat").values.iloc[0] == pytest.approx(200 / 3)
    assert result.get("ces").values.iloc[0] == 2.5
    assert result.get("survey_responses", "measure:nps").values.tolist() == [5, 3]
    mean = survey_recipe.csat(survey_recipe.prepare(frame), question="csat", convention="mean")
    assert mean["value"].iloc[0] == pytest.approx(11 / 3)
    with pytest.raises(ValidationError, match="say which question"):
        survey_recipe.run(frame)
    frame.loc[0, "score"] = 11
    with pytest.raises(ValidationError, match=r"NPS score 11 outside 0–10 \(column 'score', row 1\)"):
        survey_recipe.run(frame, {"nps_question": "nps"})


def test_big_survey_matches_duckdb() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "respondent": rng.integers(0, 50_000, N),
            "date": np.datetime64("2023-01-01") + rng.integers(0, 500, N).astype("timedelta64[D]"),
            "score": rng.integers(0, 11, N),
        }
    )
    theirs = sql_frame(
        """SELECT date_trunc('month', date) AS p,
                  100.0 * (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6)) / count(*) AS nps,
                  count(*) AS n
           FROM s GROUP BY 1""",
        s=frame,
    )
    result = survey_recipe.run(frame, {"measure": "nps"})
    assert_series_equal(result.get("nps").values, theirs, "nps")
    assert_series_equal(result.get("survey_responses", "measure:nps").values, theirs, "n")
    csat_frame = frame.assign(score=frame["score"] % 5 + 1)
    csat_sql = sql_frame(
        "SELECT date_trunc('month', date) AS p, 100.0 * count(*) FILTER (WHERE score >= 4) / count(*) AS c,"
        " avg(score) AS m FROM s GROUP BY 1",
        s=csat_frame,
    )
    prepared = survey_recipe.prepare(csat_frame)
    assert_series_equal(survey_recipe.csat(prepared)["value"], csat_sql, "c")
    assert_series_equal(survey_recipe.ces(prepared)["value"], csat_sql, "m")


# ---------------------------------------------------------------- referrals


def test_referrals_by_hand() -> None:
    """Jan: ann sends 3 (1 converts), bob sends 1 (converts) → 4 invitations, 50 %,
    K = (4 invitations / 2 inviters) × 50 % = 1.0. Feb: ann 2, none converts → 0 %, K 0.
    """
    frame = pd.DataFrame(
        {
            "inviter": ["ann", "ann", "ann", "bob", "ann", "ann"],
            "invitee": list("uvwxyz"),
            "sent": ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-02-01", "2024-02-02"],
            "converted": ["2024-01-09", None, None, "2024-02-10", None, None],
        }
    )
    result = referrals_recipe.run(frame)
    assert result.get("referrals").values.tolist() == [4, 2]
    assert result.get("referral_conversion").values.tolist() == [50, 0]
    assert result.get("k_factor").values.tolist() == [1.0, 0.0]
    flags = frame.assign(converted=["yes", "no", "No", "Yes", "", "no"])
    assert referrals_recipe.run(flags).get("referral_conversion").values.tolist() == [50, 0]
    booleans = frame.assign(converted=[True, False, False, True, False, False])
    assert referrals_recipe.run(booleans).get("k_factor").values.tolist() == [1.0, 0.0]
    users = pd.Series([8.0, 4.0], index=pd.date_range("2024-01-01", periods=2, freq="MS"))
    assert (
        referrals_recipe.referral_metrics(referrals_recipe.prepare(frame), users=users)["k_factor"].iloc[0]
        == 0.25
    )


def test_big_referrals_match_duckdb() -> None:
    rng = np.random.default_rng(9)
    sent = np.datetime64("2023-01-01") + rng.integers(0, 400, N).astype("timedelta64[D]")
    converted = np.where(
        rng.random(N) < 0.3, sent + rng.integers(0, 30, N).astype("timedelta64[D]"), np.datetime64("NaT")
    )
    frame = pd.DataFrame({"inviter": rng.integers(0, 20_000, N), "sent": sent, "converted": converted})
    theirs = sql_frame(
        """SELECT date_trunc('month', sent) AS p, count(*) AS n,
                  100.0 * count(converted) / count(*) AS conv,
                  (count(*) * 1.0 / count(DISTINCT inviter)) * (count(converted) * 1.0 / count(*)) AS k
           FROM r GROUP BY 1""",
        r=frame,
    )
    result = referrals_recipe.run(frame)
    assert_series_equal(result.get("referrals").values, theirs, "n")
    assert_series_equal(result.get("referral_conversion").values, theirs, "conv")
    assert_series_equal(result.get("k_factor").values, theirs, "k")


# ---------------------------------------------------------------- releases


def test_releases_by_hand() -> None:
    """a: 2023-01-01 → 2023-03-01 (59 days); b: 2023-06-01 → 2024-01-15 (228 days); c not launched.
    Innovation (12 months) at end of Jan 2024: launches a (2023-03-01) and b both after 2023-01-31 → 100 %;
    at end of Mar 2024 a is older than 2023-03-31 → 1/2 = 50 %.
    """
    frame = pd.DataFrame(
        {
            "feature": ["a", "b", "c", "d"],
            "started": ["2023-01-01", "2023-06-01", "2024-01-01", "2024-02-01"],
            "launched": ["2023-03-01", "2024-01-15", None, "2024-03-10"],
        }
    )
    result = releases_recipe.run(frame)
    ttm = result.get("time_to_market").values
    assert ttm[pd.Timestamp("2023-03-01")] == 59
    assert ttm[pd.Timestamp("2024-01-01")] == 228
    rate = result.get("innovation_rate").values
    assert rate[pd.Timestamp("2024-01-01")] == 100
    assert rate[pd.Timestamp("2024-03-01")] == pytest.approx(200 / 3)  # b, d recent of a, b, d
    # revenue share: a earns 10, b 30, d 60 → end of March: (30 + 60) / 100 = 90 %
    frame["revenue"] = [10, 30, 0, 60]
    by_revenue = releases_recipe.run(frame, {"innovation": "revenue"}).get("innovation_rate").values
    assert by_revenue[pd.Timestamp("2024-03-01")] == pytest.approx(90)
    frame.loc[0, "launched"] = "2022-12-01"
    with pytest.raises(ValidationError, match="'a' launched before it started"):
        releases_recipe.run(frame)


def test_big_releases_match_duckdb() -> None:
    rng = np.random.default_rng(13)
    started = np.datetime64("2020-01-01") + rng.integers(0, 1400, N).astype("timedelta64[D]")
    launched = np.where(
        rng.random(N) < 0.8, started + rng.integers(0, 300, N).astype("timedelta64[D]"), np.datetime64("NaT")
    )
    frame = pd.DataFrame({"feature": np.arange(N), "started": started, "launched": launched})
    theirs = sql_frame(
        """SELECT date_trunc('month', launched) AS p, median(date_diff('day', started, launched)) AS d
           FROM r WHERE launched IS NOT NULL GROUP BY 1""",
        r=frame,
    )
    prepared = releases_recipe.prepare(frame)
    assert_series_equal(releases_recipe.time_to_market(prepared)["median_days"], theirs, "d")
    innovation = sql_frame(
        """WITH months AS (SELECT DISTINCT date_trunc('month', launched) AS p FROM r WHERE launched IS NOT NULL),
                ends AS (SELECT p, p + INTERVAL 1 MONTH - INTERVAL 1 DAY AS e FROM months)
           SELECT p, 100.0 * count(*) FILTER (WHERE launched > e - INTERVAL 12 MONTH) / count(*) AS rate
           FROM ends JOIN r ON r.launched <= e GROUP BY p""",
        r=frame,
    )
    assert_series_equal(releases_recipe.innovation_rate(prepared), innovation, "rate")
    frame["revenue"] = np.round(rng.uniform(0, 1000, N), 2)
    by_revenue = sql_frame(
        """WITH months AS (SELECT DISTINCT date_trunc('month', launched) AS p FROM r WHERE launched IS NOT NULL),
                ends AS (SELECT p, p + INTERVAL 1 MONTH - INTERVAL 1 DAY AS e FROM months)
           SELECT p, 100.0 * coalesce(sum(revenue) FILTER (WHERE launched > e - INTERVAL 12 MONTH), 0) / sum(revenue)
                  AS rate
           FROM ends JOIN r ON r.launched <= e GROUP BY p""",
        r=frame,
    )
    mine = releases_recipe.innovation_rate(releases_recipe.prepare(frame), weight="revenue")
    assert_series_equal(mine, by_revenue, "rate")


def test_registry() -> None:
    assert get_recipe("survey") is survey_recipe.run
    with pytest.raises(ValidationError, match="Unknown recipe 'magic'"):
        get_recipe("magic")

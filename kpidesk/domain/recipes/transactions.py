"""Transactions / subscriptions recipe: the revenue set from (customer, date, amount[, cost, plan]).

Shape: one row per payment (or order line). ``amount`` is the revenue of the
row (refunds negative), ``order`` (optional) the order or invoice it belongs
to, ``cost`` its cost of goods sold, ``plan`` the billing period of a
subscription payment: "monthly" (default), "quarterly" or "annual"/"yearly".

Monthly recurring revenue (MRR) convention: a payment on a plan of m months
contributes amount / m to each of the m months starting with the month of the
payment; a customer is *active* in a month when their MRR there is > 0.

Payments without a customer (guest checkouts in retail exports) count in
revenue and gross margin only; every per-customer KPI (MRR, ARPU, churn,
repeat purchase, CLV) uses the identified customers' payments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpidesk.domain.analytics.change import change_vs_last_year
from kpidesk.domain.analytics.rollup import period_keys
from kpidesk.domain.enums import Frequency
from kpidesk.domain.recipes.base import (
    KpiOutput,
    RecipeResult,
    full_periods,
    require_columns,
    row_number,
    safe_ratio,
    to_datetime_column,
    to_number_column,
)
from kpidesk.errors import ValidationError

RECIPE = "transactions"
PLAN_MONTHS = {"monthly": 1, "month": 1, "quarterly": 3, "quarter": 3, "annual": 12, "yearly": 12, "year": 12}
CLV_CONVENTIONS = ("arpu_over_churn", "margin_over_churn", "arpa_over_6m_churn")


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Validated copy with columns customer, date (day), amount, cost (NaN if absent), months."""
    require_columns(frame, RECIPE, ("customer", "date", "amount"))
    out = pd.DataFrame(
        {
            "customer": frame["customer"].to_numpy(),
            "date": to_datetime_column(frame, "date", RECIPE).dt.normalize().to_numpy(),
            "amount": to_number_column(frame, "amount", RECIPE).to_numpy(),
        }
    )
    if out["date"].isna().any() or out["amount"].isna().any():
        column = "date" if out["date"].isna().any() else "amount"
        row = int(np.flatnonzero(out[column].isna().to_numpy())[0])
        raise ValidationError(
            f"The transactions recipe found an empty {column} (row {row_number(frame, row)})."
        )
    # a purchase is an order (invoice) when the export says which rows belong together
    out["order"] = frame["order"].to_numpy() if "order" in frame.columns else np.arange(len(frame))
    out["cost"] = to_number_column(frame, "cost", RECIPE).to_numpy() if "cost" in frame.columns else np.nan
    if "plan" in frame.columns:
        plans = frame["plan"].astype("string").str.strip().str.lower().fillna("monthly")
        months = plans.map(PLAN_MONTHS)
        if months.isna().any():
            row = int(np.flatnonzero(months.isna().to_numpy())[0])
            raise ValidationError(
                f"The transactions recipe does not know the plan {frame['plan'].iloc[row]!r} (row {row_number(frame, row)}); "
                "use monthly, quarterly or annual."
            )
        out["months"] = months.to_numpy(dtype=np.int64)
    else:
        out["months"] = 1
    return out


def revenue(tx: pd.DataFrame, frequency: Frequency | str = Frequency.MONTH) -> pd.Series:
    """Revenue_p = Σ amount of the payments dated in period p (0 for a period without any)."""
    keys = period_keys(pd.DatetimeIndex(tx["date"]), frequency)
    out = tx["amount"].groupby(keys).sum()
    out = out.reindex(full_periods(out.index, frequency), fill_value=0.0)
    out.index.name = "period_start"
    return out.rename("revenue")


def growth(values: pd.Series) -> pd.Series:
    """Growth_t = 100 × (x_t − x_{t−1}) / x_{t−1}; missing when x_{t−1} = 0 or absent."""
    previous = values.shift(1)
    return safe_ratio(values - previous, previous, 100.0).iloc[1:]


def customer_mrr(tx: pd.DataFrame) -> pd.DataFrame:
    """MRR per (customer, month): Σ amount / m over the m months each payment covers.

    Returns a wide table: one row per customer, one column per month start
    (every month from the first to the last payment's month: later months are
    the future), 0 where nothing is due.
    """
    dates = pd.DatetimeIndex(tx["date"])
    month_number = np.asarray(dates.year, dtype=np.int64) * 12 + np.asarray(dates.month, dtype=np.int64) - 1
    first_number = int(month_number.min()) if len(tx) else 0
    offset = month_number - first_number
    months = tx["months"].to_numpy()
    share = tx["amount"].to_numpy() / months
    # one row per (payment, covered month): repeat each payment m times
    rep = np.repeat(np.arange(len(tx)), months)
    step = np.arange(len(rep)) - np.repeat(np.cumsum(months) - months, months)
    codes, customers = pd.factorize(tx["customer"])
    # months after the last payment's month are the future: not reported
    n_months = int(offset.max()) + 1 if len(tx) else 0
    keep = offset[rep] + step < n_months
    rep, step = rep[keep], step[keep]
    flat = np.bincount(
        codes[rep] * n_months + offset[rep] + step, weights=share[rep], minlength=len(customers) * n_months
    )
    index = (np.arange(n_months) + first_number - 1970 * 12).astype("datetime64[M]").astype("datetime64[us]")
    return pd.DataFrame(
        flat.reshape(len(customers), n_months),
        index=pd.Index(customers, name="customer"),
        columns=pd.DatetimeIndex(index, name="period_start"),
    )


def mrr_movements(tx: pd.DataFrame) -> pd.DataFrame:
    """Monthly MRR, active customers and movements between consecutive months.

    For each customer with MRR a (previous month) and b (this month):
    new = b if a = 0 < b; churned = a if a > 0 = b; expansion = b − a if 0 < a < b;
    contraction = a − b if 0 < b < a.
    gross_revenue_churn = 100 × (churned + contraction) / MRR_{t−1};
    net_revenue_churn = 100 × (churned + contraction − expansion) / MRR_{t−1};
    customer_churn = 100 × customers lost / active customers at t−1.
    """
    wide = customer_mrr(tx[tx["customer"].notna()])
    values = wide.to_numpy()
    prev = np.concatenate([np.zeros((values.shape[0], 1)), values[:, :-1]], axis=1)
    active = values > 0
    was = prev > 0
    frame = pd.DataFrame(
        {
            "mrr": values.sum(axis=0),
            "active_customers": active.sum(axis=0).astype(np.float64),
            "new_mrr": np.where(~was & active, values, 0).sum(axis=0),
            "churned_mrr": np.where(was & ~active, prev, 0).sum(axis=0),
            "expansion_mrr": np.where(was & active & (values > prev), values - prev, 0).sum(axis=0),
            "contraction_mrr": np.where(was & active & (values < prev), prev - values, 0).sum(axis=0),
            "lost_customers": (was & ~active).sum(axis=0).astype(np.float64),
        },
        index=wide.columns,
    )
    start_mrr = frame["mrr"].shift(1)
    start_customers = frame["active_customers"].shift(1)
    frame["gross_revenue_churn"] = safe_ratio(
        frame["churned_mrr"] + frame["contraction_mrr"], start_mrr, 100.0
    )
    frame["net_revenue_churn"] = safe_ratio(
        frame["churned_mrr"] + frame["contraction_mrr"] - frame["expansion_mrr"], start_mrr, 100.0
    )
    frame["customer_churn"] = safe_ratio(frame["lost_customers"], start_customers, 100.0)
    frame["arr"] = 12.0 * frame["mrr"]
    frame["arpa"] = safe_ratio(frame["mrr"], frame["active_customers"])
    return frame


def arpu(tx: pd.DataFrame, frequency: Frequency | str = Frequency.MONTH) -> pd.DataFrame:
    """ARPU_p = revenue_p / paying customers_p (distinct customers with a payment > 0 in p).

    Only identified customers' payments count (an anonymous payment has no "user").
    """
    tx = tx[tx["customer"].notna()]
    keys = period_keys(pd.DatetimeIndex(tx["date"]), frequency)
    rev = tx["amount"].groupby(keys).sum()
    paying = (
        tx.loc[tx["amount"].to_numpy() > 0, "customer"].groupby(keys[tx["amount"].to_numpy() > 0]).nunique()
    )
    paying = paying.reindex(rev.index, fill_value=0).astype(np.float64)
    out = pd.DataFrame({"numerator": rev, "denominator": paying, "value": safe_ratio(rev, paying)})
    out.index.name = "period_start"
    return out


def gross_margin(tx: pd.DataFrame, frequency: Frequency | str = Frequency.MONTH) -> pd.DataFrame:
    """Gross margin_p = 100 × (Σ amount − Σ cost) / Σ amount over the payments of p."""
    if tx["cost"].isna().all():
        raise ValidationError("Gross margin needs a 'cost' column in the transactions.")
    keys = period_keys(pd.DatetimeIndex(tx["date"]), frequency)
    sums = tx[["amount", "cost"]].groupby(keys).sum()
    profit = sums["amount"] - sums["cost"]
    out = pd.DataFrame(
        {
            "numerator": profit,
            "denominator": sums["amount"],
            "value": safe_ratio(profit, sums["amount"], 100.0),
        }
    )
    out.index.name = "period_start"
    return out


def repeat_purchase_rate(tx: pd.DataFrame, frequency: Frequency | str = Frequency.MONTH) -> pd.DataFrame:
    """100 × buyers in p with ≥ 2 purchases to date (up to the end of p) / buyers in p.

    A purchase is an order (distinct ``order`` value; each row when there is
    no order column) of an identified customer with amount > 0; an order
    spanning two periods counts in each.
    """
    buys = tx.loc[(tx["amount"] > 0) & tx["customer"].notna(), ["customer", "date", "order"]].copy()
    buys["period"] = period_keys(pd.DatetimeIndex(buys["date"]), frequency)
    per = buys.groupby(["customer", "period"], sort=True)["order"].nunique().rename("n").reset_index()
    per["to_date"] = per.groupby("customer")["n"].cumsum()
    buyers = per.groupby("period")["customer"].size().astype(np.float64)
    repeat = per[per["to_date"] >= 2].groupby("period")["customer"].size().reindex(buyers.index, fill_value=0)
    repeat = repeat.astype(np.float64)
    out = pd.DataFrame(
        {"numerator": repeat, "denominator": buyers, "value": safe_ratio(repeat, buyers, 100.0)}
    )
    out.index.name = "period_start"
    return out


def clv(
    arpu_series: pd.Series,
    churn_pct: pd.Series,
    convention: str = "arpu_over_churn",
    *,
    gross_margin_pct: pd.Series | None = None,
) -> pd.Series:
    """Customer lifetime value per period.

    - arpu_over_churn: ARPU_t / churn_t
    - margin_over_churn: ARPU_t × gross margin_t / churn_t
    - arpa_over_6m_churn: ARPA_t / mean(churn_{t−5} … churn_t) (trailing 6 months,
      at least 1 value)
    with churn and margin as fractions (percent / 100); churn 0 gives a missing value.
    """
    churn = churn_pct.astype(np.float64) / 100.0
    if convention == "arpu_over_churn":
        return safe_ratio(arpu_series, churn).dropna()
    if convention == "margin_over_churn":
        if gross_margin_pct is None:
            raise ValidationError("The margin CLV convention needs gross margin (a 'cost' column).")
        return safe_ratio(arpu_series * gross_margin_pct / 100.0, churn).dropna()
    if convention == "arpa_over_6m_churn":
        trailing = churn.rolling(6, min_periods=1).mean()
        return safe_ratio(arpu_series, trailing).dropna()
    raise ValidationError(f"Unknown CLV convention {convention!r}: use {', '.join(CLV_CONVENTIONS)}.")


def run(frame: pd.DataFrame, conventions: dict[str, object] | None = None) -> RecipeResult:
    """Compute the revenue set. Conventions: ``period`` (default month) for revenue,
    ARPU, margin and repeat purchase; ``clv`` (one of CLV_CONVENTIONS);
    ``revenue_churn`` = "gross" (default) or "net". MRR, churn and CLV are monthly.
    """
    conv = dict(conventions or {})
    period = Frequency(str(conv.get("period", Frequency.MONTH)))
    tx = prepare(frame)
    result = RecipeResult(RECIPE, data_end=pd.Timestamp(tx["date"].max()).date())
    month = Frequency.MONTH
    rev = revenue(tx, period)
    result.outputs.append(KpiOutput("revenue", period, rev, "sum of amounts in the period"))
    growth_kind = str(conv.get("growth", "previous"))
    if growth_kind == "previous":
        result.outputs.append(KpiOutput("revenue_growth", period, growth(rev), "(rev_t − rev_t−1) / rev_t−1"))
    elif growth_kind == "year":
        yoy = change_vs_last_year(rev, period)["pct_change"].dropna()
        result.outputs.append(
            KpiOutput("revenue_growth", period, yoy, "(rev_t − rev same period last year) / rev last year")
        )
    else:
        raise ValidationError(f"Unknown growth convention {growth_kind!r}: use previous or year.")
    moves = mrr_movements(tx)
    result.tables["mrr"] = moves
    result.outputs.append(KpiOutput("mrr", month, moves["mrr"], "payments spread over their plan months"))
    result.outputs.append(KpiOutput("arr", month, moves["arr"], "12 × MRR"))
    per_user = arpu(tx, period)
    result.outputs.append(
        KpiOutput(
            "arpu",
            period,
            per_user["value"],
            "revenue / paying customers",
            per_user["numerator"],
            per_user["denominator"],
        )
    )
    churn = moves["customer_churn"].iloc[1:]
    result.outputs.append(
        KpiOutput(
            "churn_rate",
            month,
            churn,
            "customers lost in the month / active at its start",
            moves["lost_customers"].iloc[1:],
            moves["active_customers"].shift(1).iloc[1:],
        )
    )
    lifetime = safe_ratio(pd.Series(100.0, index=churn.index), churn).dropna()
    result.outputs.append(KpiOutput("avg_lifetime", month, lifetime, "1 / monthly customer churn, in months"))
    kind = str(conv.get("revenue_churn", "gross"))
    if kind not in ("gross", "net"):
        raise ValidationError(f"Unknown revenue churn convention {kind!r}: use gross or net.")
    result.outputs.append(
        KpiOutput(
            "revenue_churn",
            month,
            moves[f"{kind}_revenue_churn"].iloc[1:],
            f"{kind}: (churned + contraction{' − expansion' if kind == 'net' else ''} MRR) / MRR at start",
        )
    )
    firsts = tx[(tx["amount"] > 0) & tx["customer"].notna()].groupby("customer")["date"].min()
    new = firsts.groupby(period_keys(pd.DatetimeIndex(firsts.to_numpy()), period)).size().astype(np.float64)
    # a period of the export in which nobody bought for the first time had 0 new customers,
    # not an unknown number (a gap would also hide it from changes and goals)
    new = new.reindex(rev.index, fill_value=0.0)
    new.index.name = "period_start"
    result.outputs.append(
        KpiOutput("new_customers", period, new, "customers whose first purchase is in the period")
    )
    margin = None
    if not tx["cost"].isna().all():
        cogs = tx["cost"].groupby(period_keys(pd.DatetimeIndex(tx["date"]), period)).sum()
        cogs.index.name = "period_start"
        result.outputs.append(KpiOutput("cogs", period, cogs, "sum of costs of the period's payments"))
        margin_frame = gross_margin(tx, period)
        margin = margin_frame["value"]
        result.outputs.append(
            KpiOutput(
                "gross_margin",
                period,
                margin,
                "(revenue − cost) / revenue",
                margin_frame["numerator"],
                margin_frame["denominator"],
            )
        )
    repeat = repeat_purchase_rate(tx, period)
    result.outputs.append(
        KpiOutput(
            "repeat_purchase_rate",
            period,
            repeat["value"],
            "buyers with ≥ 2 purchases to date / buyers in the period",
            repeat["numerator"],
            repeat["denominator"],
        )
    )
    convention = str(conv.get("clv", "arpu_over_churn" if margin is None else "margin_over_churn"))
    monthly_arpu = moves["arpa"] if convention == "arpa_over_6m_churn" else arpu(tx, month)["value"]
    monthly_margin = gross_margin(tx, month)["value"] if margin is not None else None
    value = clv(
        monthly_arpu.reindex(churn.index),
        churn,
        convention,
        gross_margin_pct=None if monthly_margin is None else monthly_margin.reindex(churn.index),
    )
    result.outputs.append(KpiOutput("clv", month, value, f"CLV convention {convention}"))
    return result

"""Spend recipe: CAC, CPA, LTV:CAC and CAC payback from (date, channel, amount) rows.

Shape: one row per spend line with ``date``, ``channel`` and ``amount``, and
optionally ``new_customers`` and ``conversions`` counts on the same rows (many
exports carry them per channel and day). New customers can also be passed as
their own table of (date[, channel], customer) rows — e.g. the first purchases
of a transactions export — via :func:`new_customers_from_table`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpidesk.domain.analytics.rollup import period_keys
from kpidesk.domain.enums import Frequency
from kpidesk.domain.recipes.base import (
    KpiOutput,
    RecipeResult,
    require_columns,
    safe_ratio,
    to_datetime_column,
    to_number_column,
)
from kpidesk.errors import ValidationError

RECIPE = "spend"


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Validated copy: date, channel ("" when absent), amount, new_customers, conversions."""
    require_columns(frame, RECIPE, ("date", "amount"))
    out = pd.DataFrame(
        {
            "date": to_datetime_column(frame, "date", RECIPE).dt.normalize().to_numpy(),
            "channel": frame["channel"].astype("string").fillna("").str.strip().to_numpy()
            if "channel" in frame.columns
            else "",
            "amount": to_number_column(frame, "amount", RECIPE).fillna(0.0).to_numpy(),
        }
    )
    for column in ("new_customers", "conversions"):
        out[column] = (
            to_number_column(frame, column, RECIPE).to_numpy() if column in frame.columns else np.nan
        )
    return out


def new_customers_from_table(customers: pd.DataFrame) -> pd.DataFrame:
    """Rows (date, channel, new_customers=1) from a table of new customers.

    ``customers`` has ``customer`` and ``date`` (first purchase or sign-up) and
    optionally ``channel``; a customer listed twice counts once, at the earliest date.
    """
    require_columns(customers, RECIPE, ("customer", "date"), "the new-customer table")
    dated = pd.DataFrame(
        {
            "customer": customers["customer"].to_numpy(),
            "date": to_datetime_column(customers, "date", RECIPE).dt.normalize().to_numpy(),
            "channel": customers["channel"].astype("string").fillna("").to_numpy()
            if "channel" in customers.columns
            else "",
        }
    )
    first = dated.sort_values("date", kind="stable").drop_duplicates("customer")
    return pd.DataFrame(
        {"date": first["date"].to_numpy(), "channel": first["channel"].to_numpy(), "new_customers": 1.0}
    )


def _by_period(frame: pd.DataFrame, column: str, frequency: Frequency | str, per_channel: bool) -> pd.Series:
    rows = frame[frame[column].notna()] if column != "amount" else frame
    keys = [period_keys(pd.DatetimeIndex(rows["date"]), frequency).rename("period_start")]
    if per_channel:
        keys.append(rows["channel"].rename("channel"))
    return rows[column].groupby(keys).sum()


def cac(
    spend: pd.DataFrame,
    frequency: Frequency | str = Frequency.MONTH,
    *,
    new_customers: pd.DataFrame | None = None,
    per_channel: bool = False,
) -> pd.DataFrame:
    """CAC_p = Σ spend_p / new customers_p (overall, or per channel when ``per_channel``).

    New customers come from ``new_customers`` (rows with date, channel,
    new_customers) if given, else from the spend rows' ``new_customers``
    column. Zero new customers gives a missing CAC.
    """
    source = spend if new_customers is None else new_customers
    if source["new_customers"].isna().all():
        raise ValidationError("CAC needs new customers: a 'new_customers' column or a new-customer table.")
    cost = _by_period(spend, "amount", frequency, per_channel)
    customers = _by_period(source, "new_customers", frequency, per_channel)
    index = cost.index.union(customers.index)
    cost, customers = cost.reindex(index, fill_value=0.0), customers.reindex(index, fill_value=0.0)
    return pd.DataFrame({"numerator": cost, "denominator": customers, "value": safe_ratio(cost, customers)})


def cpa(
    spend: pd.DataFrame, frequency: Frequency | str = Frequency.MONTH, *, per_channel: bool = False
) -> pd.DataFrame:
    """CPA_p = Σ spend_p / Σ conversions_p (any acquisition action); 0 conversions → missing."""
    if spend["conversions"].isna().all():
        raise ValidationError("CPA needs a 'conversions' column in the spend data.")
    cost = _by_period(spend, "amount", frequency, per_channel)
    conversions = _by_period(spend, "conversions", frequency, per_channel).reindex(cost.index, fill_value=0.0)
    return pd.DataFrame(
        {"numerator": cost, "denominator": conversions, "value": safe_ratio(cost, conversions)}
    )


def ltv_cac(clv: pd.Series, cac_series: pd.Series) -> pd.Series:
    """LTV:CAC_p = CLV_p / CAC_p (≥ 3 is the usual rule of thumb); periods present in both."""
    index = clv.index.intersection(cac_series.index)
    return safe_ratio(clv.reindex(index), cac_series.reindex(index)).dropna()


def cac_payback(
    cac_series: pd.Series, arpu: pd.Series, gross_margin_pct: pd.Series | None = None
) -> pd.Series:
    """Months to earn back CAC: CAC_p / (ARPU_p × gross margin_p); margin 100 % when not given.

    ARPU is monthly revenue per paying customer; margin in percent.
    """
    index = cac_series.index.intersection(arpu.index)
    margin = 1.0 if gross_margin_pct is None else gross_margin_pct.reindex(index) / 100.0
    return safe_ratio(cac_series.reindex(index), arpu.reindex(index) * margin).dropna()


def run(frame: pd.DataFrame, conventions: dict[str, object] | None = None) -> RecipeResult:
    """Marketing spend, and CAC when new customers are given, overall and per channel
    (segments ``channel:NAME``); CPA when conversions are given."""
    conv = dict(conventions or {})
    period = Frequency(str(conv.get("period", Frequency.MONTH)))
    spend = prepare(frame)
    result = RecipeResult(RECIPE, data_end=pd.Timestamp(spend["date"].max()).date())
    total_spend = _by_period(spend, "amount", period, per_channel=False)
    result.outputs.append(KpiOutput("marketing_spend", period, total_spend, "sum of spend lines"))
    for channel, part in _by_period(spend, "amount", period, per_channel=True).groupby(level="channel"):
        if channel:
            result.outputs.append(
                KpiOutput(
                    "marketing_spend",
                    period,
                    part.droplevel("channel"),
                    "sum of the channel's spend lines",
                    segment=f"channel:{channel}",
                )
            )
    if not spend["new_customers"].isna().all():
        counted = _by_period(spend, "new_customers", period, per_channel=False)
        result.outputs.append(KpiOutput("new_customers", period, counted, "new customers on the spend lines"))
        total = cac(spend, period)
        result.outputs.append(
            KpiOutput(
                "cac",
                period,
                total["value"],
                "spend / new customers",
                total["numerator"],
                total["denominator"],
            )
        )
        channels = cac(spend, period, per_channel=True)
        for channel, part in channels.groupby(level="channel"):
            if not channel:
                continue
            part = part.droplevel("channel")
            result.outputs.append(
                KpiOutput(
                    "cac",
                    period,
                    part["value"],
                    "channel spend / channel new customers",
                    part["numerator"],
                    part["denominator"],
                    segment=f"channel:{channel}",
                )
            )
    if not spend["conversions"].isna().all():
        per = cpa(spend, period)
        result.outputs.append(
            KpiOutput(
                "cpa",
                period,
                per["value"],
                "spend / conversions",
                per["numerator"],
                per["denominator"],
            )
        )
    return result

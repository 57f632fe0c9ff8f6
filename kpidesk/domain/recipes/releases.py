"""Releases recipe: time to market and innovation rate from (feature, started, launched).

Shape: one row per feature or product: ``feature``, ``started`` (work began)
and ``launched`` (empty while not launched).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpidesk.domain.analytics.rollup import period_keys
from kpidesk.domain.enums import Frequency
from kpidesk.domain.periods import next_period_start
from kpidesk.domain.recipes.base import (
    KpiOutput,
    RecipeResult,
    require_columns,
    row_number,
    to_datetime_column,
    to_number_column,
)
from kpidesk.errors import ValidationError

RECIPE = "releases"


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    require_columns(frame, RECIPE, ("feature", "started", "launched"))
    out = pd.DataFrame(
        {
            "feature": frame["feature"].to_numpy(),
            "started": to_datetime_column(frame, "started", RECIPE).dt.normalize().to_numpy(),
            "launched": to_datetime_column(frame, "launched", RECIPE).dt.normalize().to_numpy(),
            "revenue": to_number_column(frame, "revenue", RECIPE).to_numpy()
            if "revenue" in frame.columns
            else np.nan,
        }
    )
    backwards = out["launched"] < out["started"]
    if backwards.any():
        row = int(np.flatnonzero(backwards.to_numpy())[0])
        raise ValidationError(
            f"The releases recipe found {out['feature'].iloc[row]!r} launched before it started (row {row_number(frame, row)})."
        )
    return out


def time_to_market(releases: pd.DataFrame, frequency: Frequency | str = Frequency.MONTH) -> pd.DataFrame:
    """Per launch period: launches and median(launched − started) in days."""
    launched = releases.dropna(subset=["launched"])
    keys = period_keys(pd.DatetimeIndex(launched["launched"]), frequency).rename("period_start")
    days = (launched["launched"] - launched["started"]).dt.days.astype(np.float64)
    return pd.DataFrame(
        {"launches": days.groupby(keys).size().astype(np.float64), "median_days": days.groupby(keys).median()}
    )


def innovation_rate(
    releases: pd.DataFrame,
    frequency: Frequency | str = Frequency.MONTH,
    *,
    recent_months: int = 12,
    weight: str = "count",
) -> pd.Series:
    """Share of the launched portfolio that is recent, at the end of each period.

    For period p ending on day e: 100 × (features launched in (e − recent_months, e])
    / (features launched on or before e). With ``weight="revenue"`` each feature
    counts with its ``revenue`` (the revenue-share convention) instead of 1.
    Periods run from the first to the last launch.
    """
    if recent_months < 1:
        raise ValidationError(f"The innovation window must be at least 1 month, not {recent_months}.")
    if weight not in ("count", "revenue"):
        raise ValidationError(f"Unknown innovation weight {weight!r}: use count or revenue.")
    done = releases.dropna(subset=["launched"]).sort_values("launched", kind="stable")
    launched = done["launched"].to_numpy().astype("datetime64[D]")
    if weight == "revenue":
        if done["revenue"].isna().all():
            raise ValidationError("The revenue-share innovation rate needs a 'revenue' column.")
        weights = done["revenue"].fillna(0.0).to_numpy(dtype=np.float64)
    else:
        weights = np.ones(len(done))
    # cumulative[i] = total weight of the first i launches (in launch order)
    cumulative = np.concatenate([[0.0], np.cumsum(weights)])
    if not len(launched):
        return pd.Series(dtype=np.float64, name="innovation_rate")
    starts = pd.DatetimeIndex(sorted(set(period_keys(pd.DatetimeIndex(launched), frequency))))
    full = pd.date_range(
        starts[0],
        starts[-1],
        freq={"day": "D", "week": "W-MON", "month": "MS", "quarter": "QS", "year": "YS"}[
            Frequency(frequency).value
        ],
    )
    values = []
    for start in full:
        end = np.datetime64(next_period_start(start.date(), frequency), "D") - np.timedelta64(1, "D")
        window_start = np.datetime64((pd.Timestamp(end) - pd.DateOffset(months=recent_months)).date(), "D")
        total = cumulative[np.searchsorted(launched, end, side="right")]
        old = cumulative[np.searchsorted(launched, window_start, side="right")]
        values.append(100.0 * (total - old) / total if total else np.nan)
    out = pd.Series(values, index=pd.DatetimeIndex(full, name="period_start"), name="innovation_rate")
    return out


def run(frame: pd.DataFrame, conventions: dict[str, object] | None = None) -> RecipeResult:
    conv = dict(conventions or {})
    period = Frequency(str(conv.get("period", Frequency.MONTH)))
    months = int(conv.get("innovation_months", 12))  # type: ignore[call-overload]
    weight = str(conv.get("innovation", "count"))
    releases = prepare(frame)
    ttm = time_to_market(releases, period)
    result = RecipeResult(RECIPE, tables={"time_to_market": ttm})
    result.outputs.append(
        KpiOutput(
            "time_to_market",
            period,
            ttm["median_days"],
            "median days from start to launch of the features launched in the period",
        )
    )
    result.outputs.append(
        KpiOutput(
            "innovation_rate",
            period,
            innovation_rate(releases, period, recent_months=months, weight=weight),
            f"{'features' if weight == 'count' else 'revenue of features'} launched in the last {months} months"
            f" / {'all launched features' if weight == 'count' else 'revenue of all launched features'}",
        )
    )
    return result

"""Referrals recipe: invitations, referred conversion and K-factor from (inviter, invitee, sent, converted).

Shape: one row per invitation: ``inviter``, ``invitee`` (optional), ``sent``
(date sent) and ``converted`` (date the invitee signed up; empty if never).
Conversions are attributed to the period the invitation was *sent* (cohort
view), so a period's conversion can still rise while late sign-ups arrive.
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
)

RECIPE = "referrals"


_YES = {"true", "yes", "y", "1", "1.0", "converted", "x"}
_NO = {"false", "no", "n", "0", "0.0", ""}


def _converted_flags(frame: pd.DataFrame) -> np.ndarray | None:
    """True/False per row when ``converted`` is a yes/no column (not dates), else None."""
    column = frame["converted"]
    if pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=bool)
    text = column.astype("string").str.strip().str.casefold().fillna("")
    if len(text) and text.isin(_YES | _NO).all():
        return text.isin(_YES).to_numpy()
    return None


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Validated copy: inviter, sent, converted (the conversion date, or the sent
    date when the export only says yes/no; NaT when not converted)."""
    require_columns(frame, RECIPE, ("inviter", "sent"))
    sent = to_datetime_column(frame, "sent", RECIPE).to_numpy()
    if "converted" not in frame.columns:
        converted = np.full(len(frame), np.datetime64("NaT"))
    else:
        flags = _converted_flags(frame)
        if flags is not None:
            converted = np.where(flags, sent, np.datetime64("NaT"))
        else:
            converted = to_datetime_column(frame, "converted", RECIPE).to_numpy()
    return pd.DataFrame(
        {"inviter": frame["inviter"].to_numpy(), "sent": sent, "converted": converted}
    ).dropna(subset=["sent"])


def referral_metrics(
    invites: pd.DataFrame, frequency: Frequency | str = Frequency.MONTH, *, users: pd.Series | None = None
) -> pd.DataFrame:
    """Per period of sending: invitations, conversions, conversion_pct and k_factor.

    conversion_pct = 100 × converted invitations / invitations.
    K = invitations per user × conversion = conversions / users, where users is
    the number of distinct inviters in the period (default convention) or the
    given ``users`` series (e.g. active users) for the same periods.
    """
    keys = period_keys(pd.DatetimeIndex(invites["sent"]), frequency).rename("period_start")
    frame = pd.DataFrame(
        {
            "invitations": invites["inviter"].groupby(keys).size(),
            "conversions": invites["converted"].notna().groupby(keys).sum(),
            "inviters": invites["inviter"].groupby(keys).nunique(),
        }
    ).astype(np.float64)
    base = frame["inviters"] if users is None else users.reindex(frame.index).astype(np.float64)
    frame["conversion_pct"] = safe_ratio(frame["conversions"], frame["invitations"], 100.0)
    frame["k_factor"] = safe_ratio(frame["invitations"], base) * safe_ratio(
        frame["conversions"], frame["invitations"]
    )
    return frame


def run(frame: pd.DataFrame, conventions: dict[str, object] | None = None) -> RecipeResult:
    conv = dict(conventions or {})
    period = Frequency(str(conv.get("period", Frequency.MONTH)))
    invites = prepare(frame)
    table = referral_metrics(invites, period)
    result = RecipeResult(
        RECIPE, tables={"referrals": table}, data_end=pd.Timestamp(invites["sent"].max()).date()
    )
    result.outputs.append(KpiOutput("referrals", period, table["invitations"], "invitations sent"))
    result.outputs.append(
        KpiOutput(
            "referral_conversion",
            period,
            table["conversion_pct"],
            "converted invitations / invitations, by month sent",
            table["conversions"],
            table["invitations"],
        )
    )
    result.outputs.append(
        KpiOutput(
            "k_factor", period, table["k_factor"], "invitations per inviting user × invitation conversion"
        )
    )
    return result

"""Segmented demo data: revenue by region and plan, conversion and sign-ups by channel.

Called by the demo builder after the totals exist (``add_demo_segments(ws,
today=...)``). The segments split the existing totals exactly, so the
segment rows add up to what the dashboards show, and they carry a story the
"Why did it move?" panel can find:

- revenue: every product by region and by plan; in the latest recorded
  month the EU share drops (EU drives the change); Harbor's two new regions
  appear in the month of its "Expanded to two new regions" annotation;
- Harbor conversion rate by channel: in the latest recorded month a paid
  social campaign floods the funnel with low-converting visitors; every
  channel converts better than the month before while the total falls
  (Simpson's paradox, which the explanation shows as a mix effect); that
  month's total numerator is lowered so it converts 14 % worse than the
  month before, and an annotation marks the campaign;
- Ledger conversion rate and Pulse sign-ups by channel, with a slow mix drift.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from kpidesk.domain.enums import Provenance
from kpidesk.errors import NotFoundError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# kind, segment → share of the total at the start (before drift)
REGIONS = {
    "Pulse": {"EU": 0.38, "US": 0.41, "APAC": 0.14, "LATAM": 0.07},
    "Ledger": {"EU": 0.52, "UK": 0.21, "US": 0.27},
    "Harbor": {"EU": 0.46, "UK": 0.30, "US": 0.24},
}
PLANS = {
    "Pulse": {"Plus": 0.62, "Premium": 0.38},
    "Ledger": {"Starter": 0.22, "Pro": 0.51, "Business": 0.27},
    "Harbor": {"Buyer fee": 0.55, "Seller fee": 0.35, "Delivery": 0.10},
}
NEW_REGIONS = {"Harbor": ({"Nordics": 0.05, "Iberia": 0.04}, 20)}  # shares, month index they start
# conversion relative to the product's average, and the visitor mix at the start
CHANNEL_RATES = {"organic": 1.45, "paid": 0.42, "referral": 1.9, "email": 1.2}
CHANNEL_MIX = {"organic": 0.48, "paid": 0.27, "referral": 0.10, "email": 0.15}
SIGNUP_CHANNELS = {"organic": 0.44, "paid": 0.33, "referral": 0.15, "app store": 0.08}
# Harbor's campaign month: paid visitors' weight, and its total rate as a
# fraction of the month before (a plain fall, whatever the noise did).
CAMPAIGN_PAID_WEIGHT = 0.6
CAMPAIGN_RATE_VS_PREVIOUS = 0.86


def _softmax(logits: np.ndarray) -> np.ndarray:
    import numpy as np

    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _drifting_shares(shares: dict[str, float], n: int, rng: np.random.Generator, *,
                     shock: dict[str, float] | None = None, shock_from: int | None = None) -> np.ndarray:
    """Shares per month (rows) and segment (columns): a slow random walk on the
    log-shares plus a step ``shock`` (log-share change) from month ``shock_from``."""
    import numpy as np

    names = list(shares)
    logits = np.log(np.array([shares[k] for k in names]))[None, :].repeat(n, axis=0)
    logits = logits + np.cumsum(rng.normal(0, 0.025, (n, len(names))), axis=0)
    if shock and shock_from is not None:
        for name, step in shock.items():
            logits[shock_from:, names.index(name)] += step
    return _softmax(logits)


def _story_start(months: list[dt.date]) -> int | None:
    """Index of the month the demo's story starts: the latest recorded one, the
    period the KPI page explains first (it opens at the KPI's own frequency)."""
    return len(months) - 1 if len(months) >= 2 else None


def _kpi(ws: Any, product_id: int, key: str) -> Any | None:
    try:
        return ws.kpis.resolve(key, product_id)
    except NotFoundError:
        return None


def _totals(ws: Any, kpi: Any) -> pd.DataFrame:
    frame = ws.measurements.series(kpi.id)
    frame["period_start"] = frame["period_start"].dt.date
    return frame.sort_values("period_start").reset_index(drop=True)


def _split_additive(kpi_id: int, totals: pd.DataFrame, kind: str, shares: np.ndarray,
                    names: list[str]) -> list[dict[str, Any]]:
    """Rows that split each month's total by ``shares``; the last segment takes
    the rest so the segments add up to the total exactly."""
    import numpy as np

    rows = []
    for i, (day, total) in enumerate(zip(totals["period_start"], totals["value"], strict=True)):
        present = [j for j, s in enumerate(shares[i]) if s > 0]
        parts = np.round(total * shares[i, present], 2)
        parts[-1] = total - parts[:-1].sum()
        rows += [{"kpi_id": kpi_id, "period_start": day, "segment": f"{kind}:{names[j]}", "value": float(v)}
                 for j, v in zip(present, parts, strict=True)]
    return rows


def _revenue_rows(ws: Any, product: Any, rng: np.random.Generator) -> list[dict[str, Any]]:
    kpi = _kpi(ws, product.id, "revenue")
    if kpi is None:
        return []
    totals = _totals(ws, kpi)
    if totals.empty:
        return []
    months = list(totals["period_start"])
    story = _story_start(months)
    region_shares = dict(REGIONS.get(product.name, {"EU": 0.5, "US": 0.5}))
    added, start = NEW_REGIONS.get(product.name, ({}, 0))
    region_shares.update(added)
    regions = _drifting_shares(region_shares, len(months), rng, shock={"EU": -0.25}, shock_from=story)
    for name in added:  # a new region has no revenue before it opens
        regions[:start, list(region_shares).index(name)] = 0.0
    regions = regions / regions.sum(axis=1, keepdims=True)
    plan_shares = PLANS.get(product.name, {"Standard": 1.0})
    plans = _drifting_shares(plan_shares, len(months), rng)
    return (_split_additive(kpi.id, totals, "region", regions, list(region_shares))
            + _split_additive(kpi.id, totals, "plan", plans, list(plan_shares)))


def _signup_rows(ws: Any, product: Any, rng: np.random.Generator) -> list[dict[str, Any]]:
    kpi = _kpi(ws, product.id, "signups")
    if kpi is None or kpi.frequency != "month":
        return []
    totals = _totals(ws, kpi)
    if totals.empty:
        return []
    shares = _drifting_shares(SIGNUP_CHANNELS, len(totals), rng)
    return _split_additive(kpi.id, totals, "channel", shares, list(SIGNUP_CHANNELS))


def _conversion_rows(ws: Any, product: Any, rng: np.random.Generator, *, campaign: bool
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dt.date | None]:
    """Channel rows of a ratio KPI, and (campaign) the rewritten total rows.

    With weights w_c and relative rates m_c, channel c converts at
    r_c = R * m_c / sum(w m), so sum_c w_c r_c = R: the channels reproduce the
    total rate R exactly, whatever the mix.
    """
    import numpy as np

    kpi = _kpi(ws, product.id, "conversion_rate")
    if kpi is None:
        return [], [], None
    totals = _totals(ws, kpi).dropna(subset=["numerator", "denominator"])
    if totals.empty:
        return [], [], None
    months = list(totals["period_start"])
    story = _story_start(months) if campaign else None
    names = list(CHANNEL_MIX)
    mix = _drifting_shares(CHANNEL_MIX, len(months), rng)
    rel = np.array([CHANNEL_RATES[c] for c in names])
    total_rows = []
    campaign_day = None
    if story is not None:
        campaign_day = months[story]
        paid = names.index("paid")
        for i in range(story, len(months)):
            others = np.delete(np.arange(len(names)), paid)
            mix[i, others] *= (1 - CAMPAIGN_PAID_WEIGHT) / mix[i, others].sum()
            mix[i, paid] = CAMPAIGN_PAID_WEIGHT
    factor = 1.0
    if story is not None:
        before = totals.iloc[story - 1:story]
        during = totals.iloc[story:]
        factor = (CAMPAIGN_RATE_VS_PREVIOUS * before["numerator"].sum() / before["denominator"].sum()
                  / (during["numerator"].sum() / during["denominator"].sum()))
    rows = []
    for i, row in enumerate(totals.itertuples(index=False)):
        numerator, denominator = float(row.numerator), float(row.denominator)
        if story is not None and i >= story:
            numerator *= factor
            total_rows.append({"kpi_id": kpi.id, "period_start": row.period_start, "segment": "",
                               "value": 100 * numerator / denominator, "numerator": numerator,
                               "denominator": denominator})
        rate = numerator / denominator
        dens = np.round(denominator * mix[i])
        dens[-1] = denominator - dens[:-1].sum()
        nums = dens * rate * rel / float((dens / denominator) @ rel)
        for name, n, d in zip(names, nums, dens, strict=True):
            rows.append({"kpi_id": kpi.id, "period_start": row.period_start, "segment": f"channel:{name}",
                         "value": 100 * n / d, "numerator": float(n), "denominator": float(d)})
    return rows, total_rows, campaign_day


def add_demo_segments(ws: Any, *, today: dt.date | None = None, seed: int = 20261125) -> str:
    """Add the segmented demo data (module docstring) to a workspace that has the demo totals.

    Returns a one-line summary; an empty string when there was nothing to segment.
    """
    import numpy as np
    import pandas as pd

    del today  # the segments follow the totals' own dates
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    notes = []
    for product in ws.products.list():
        rows += _revenue_rows(ws, product, rng)
        rows += _signup_rows(ws, product, rng)
        channel_rows, total_rows, campaign_day = _conversion_rows(
            ws, product, rng, campaign=product.name == "Harbor")
        rows += channel_rows + total_rows
        if campaign_day is not None:
            notes.append((product, campaign_day + dt.timedelta(days=4)))
    if not rows:
        return ""
    frame = pd.DataFrame(rows)
    ws.measurements.record_many(frame, source=Provenance.DEMO.value)
    for product, day in notes:
        kpi = _kpi(ws, product.id, "conversion_rate")
        ws.annotations.add(day, "Paid social campaign launched (broad targeting)", kpi_id=kpi.id,
                           product_id=product.id)
    segments = frame.loc[frame["segment"] != "", "segment"]
    kinds = sorted({s.partition(":")[0] for s in segments})
    return f"Segments: {len(segments):,} values by {', '.join(kinds)}."

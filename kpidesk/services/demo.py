"""The demo workspace: three products, ~3 years of believable KPI history.

Every later screen, screenshot and test uses it, so it is deterministic (a
fixed seed, dates relative to ``today``) and it exercises what the app does:
trends, seasonality, a few anomalies, ratio KPIs with their numerator and
denominator, daily and monthly series, targets, goals and annotations.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import math
from dataclasses import dataclass

from kpidesk.domain.enums import Provenance
from kpidesk.domain.periods import next_period_start, period_start
from kpidesk.errors import ValidationError


@dataclass(frozen=True)
class DemoSeries:
    key: str
    base: float
    growth: float  # per month, relative (0.02 = +2 % a month)
    season: float = 0.0  # relative amplitude of a yearly cycle
    noise: float = 0.03  # relative
    low: float | None = None
    high: float | None = None
    ratio_of: float | None = None  # denominator level for ratio KPIs (value = num/den * scale)
    scale: float = 1.0  # 100 for percentages
    weekday: float = 0.0  # daily series: weekend dip, relative


PRODUCTS: dict[str, tuple[str, list[DemoSeries]]] = {
    "Pulse": ("Consumer habit-tracking app (iOS and Android).", [
        DemoSeries("dau", 18000, 0.025, season=0.06, noise=0.04, weekday=0.18),
        DemoSeries("mau", 61000, 0.022, season=0.05, noise=0.02),
        DemoSeries("signups", 9000, 0.02, season=0.12, noise=0.06),
        DemoSeries("downloads", 14000, 0.018, season=0.15, noise=0.07),
        DemoSeries("onboarding_completion", 0.52, 0.004, noise=0.03, ratio_of=9000, scale=100, high=0.95),
        DemoSeries("activation_rate", 0.38, 0.003, noise=0.04, ratio_of=9000, scale=100, high=0.9),
        DemoSeries("churn_rate", 0.071, -0.004, noise=0.05, ratio_of=50000, scale=100, high=0.5),
        DemoSeries("nps", 0.31, 0.004, noise=0.06, ratio_of=800, scale=100, high=0.9),
        DemoSeries("referrals", 2100, 0.02, season=0.1, noise=0.08),
        DemoSeries("k_factor", 0.34, 0.002, noise=0.05, ratio_of=60000),
        DemoSeries("load_time", 820, -0.006, noise=0.05, weekday=-0.05),
        DemoSeries("revenue", 54000, 0.028, season=0.1, noise=0.04),
    ]),
    "Ledger": ("B2B invoicing SaaS for small businesses.", [
        DemoSeries("mrr", 182000, 0.021, noise=0.01),
        DemoSeries("revenue", 176000, 0.021, season=0.03, noise=0.02),
        DemoSeries("new_customers", 140, 0.012, season=0.08, noise=0.1),
        DemoSeries("marketing_spend", 61000, 0.01, season=0.06, noise=0.05),
        DemoSeries("cac", 435, -0.002, noise=0.06, ratio_of=140),
        DemoSeries("clv", 5200, 0.006, noise=0.03),
        DemoSeries("churn_rate", 0.024, -0.002, noise=0.08, ratio_of=2800, scale=100, high=0.3),
        DemoSeries("gross_margin", 0.74, 0.0008, noise=0.01, ratio_of=176000, scale=100, high=0.95),
        DemoSeries("arpu", 66, 0.006, noise=0.02, ratio_of=2800),
        DemoSeries("csat", 0.86, 0.0005, noise=0.02, ratio_of=600, scale=100, high=0.99),
        DemoSeries("conversion_rate", 0.031, 0.001, noise=0.05, ratio_of=42000, scale=100, high=0.2),
        DemoSeries("uptime", 0.9991, 0.0, noise=0.0004, ratio_of=43200, scale=100, high=0.99999),
        DemoSeries("error_rate", 0.0042, -0.003, noise=0.12, ratio_of=1_200_000, scale=100, weekday=-0.1),
    ]),
    "Harbor": ("Marketplace for second-hand furniture (web).", [
        DemoSeries("visits", 420000, 0.015, season=0.18, noise=0.04),
        DemoSeries("conversion_rate", 0.019, 0.002, season=0.05, noise=0.04, ratio_of=420000, scale=100, high=0.2),
        DemoSeries("revenue", 310000, 0.017, season=0.2, noise=0.04),
        DemoSeries("repeat_purchase_rate", 0.27, 0.002, noise=0.03, ratio_of=8000, scale=100, high=0.9),
        DemoSeries("delivery_time", 6.2, -0.004, season=0.08, noise=0.04),
        DemoSeries("ces", 2.6, -0.003, noise=0.03, ratio_of=500, low=1, high=5),
        DemoSeries("time_to_market", 48, -0.01, noise=0.1),
        DemoSeries("employee_satisfaction", 3.8, 0.002, noise=0.03, low=1, high=5),
    ]),
}

ANNOTATIONS = [
    ("Pulse", "onboarding_completion", 14, "New onboarding flow shipped (3 steps instead of 5)"),
    ("Pulse", "dau", 8, "Push notification outage (2 days)"),
    ("Ledger", "cac", 10, "Paid search campaign paused"),
    ("Ledger", "mrr", 5, "Price increase for the Pro plan"),
    ("Harbor", "conversion_rate", 12, "Checkout redesign A/B test started"),
    ("Harbor", None, 20, "Expanded to two new regions"),
]


def _value(series: DemoSeries, months: float, rng, seasonal_phase: float) -> float:  # type: ignore[no-untyped-def]
    trend = (1 + series.growth) ** months
    season = 1 + series.season * math.sin(2 * math.pi * (seasonal_phase - 0.2))
    noise = 1 + rng.normal(0, series.noise)
    value = series.base * trend * season * noise
    if series.low is not None:
        value = max(series.low, value)
    if series.high is not None:
        value = min(series.high, value)
    return value


def build_demo(ws, *, today: dt.date | None = None, replace: bool = False, months: int = 34) -> str:  # type: ignore[no-untyped-def]
    """Fill ``ws`` (a Workspace) with the demo portfolio; returns a one-paragraph summary."""
    import numpy as np
    import pandas as pd

    if ws.products.list(include_archived=True) and not replace:
        raise ValidationError("This workspace already has products; use --replace to add the demo anyway, "
                              "or create the demo in a new file with --db.")
    today = today or dt.date.today()
    rng = np.random.default_rng(20240601)
    last_month = period_start(today, "month")
    first_month = last_month
    for _ in range(months):
        first_month = period_start(first_month - dt.timedelta(days=1), "month")
    frames = []
    kpi_count = 0
    for product_name, (description, series_list) in PRODUCTS.items():
        product, _ = ws.products.create(product_name, description)
        for series in series_list:
            kpi, _ = ws.kpis.add_from_catalog(product.id, series.key,
                                              currency="EUR" if series.key in _CURRENCY_KEYS else None)
            kpi_count += 1
            frames.append(_series_frame(kpi, series, first_month, last_month, today, rng))
    frame = pd.concat(frames, ignore_index=True)
    ws.measurements.record_many(frame, source=Provenance.DEMO.value)
    _annotate(ws, first_month)
    extras = []
    for module_name, function in (("kpidesk.services.demo_goals", "add_demo_goals"),
                                  ("kpidesk.services.demo_segments", "add_demo_segments")):
        if importlib.util.find_spec(module_name) is not None:
            result = getattr(importlib.import_module(module_name), function)(ws, today=today)
            if result:
                extras.append(str(result))
    summary = (f"Demo workspace ready in {ws.db.display_name}: {len(PRODUCTS)} products, {kpi_count} KPIs, "
               f"{len(frame):,} values from {first_month:%b %Y} to {today:%b %Y}.")
    return " ".join([summary, *extras])


_CURRENCY_KEYS = {"revenue", "mrr", "cac", "clv", "arpu", "marketing_spend"}


def _series_frame(kpi, series: DemoSeries, first_month: dt.date, last_month: dt.date, today: dt.date, rng):  # type: ignore[no-untyped-def]
    import pandas as pd

    rows = []
    daily = kpi.frequency == "day"
    day = period_start(first_month, kpi.frequency)
    # daily series run to yesterday, so the current month is partial on purpose ("November so far");
    # monthly and quarterly series stop at the last complete period, as a PM's workbook does
    end = today - dt.timedelta(days=1) if daily else period_start(last_month - dt.timedelta(days=1), kpi.frequency)
    if kpi.frequency == "quarter" and next_period_start(end, "quarter") > today:
        end = period_start(end - dt.timedelta(days=1), "quarter")
    anomaly_at = {int(rng.integers(6, 30)), int(rng.integers(6, 30))}
    index = 0
    while day <= end:
        months = (day.year - first_month.year) * 12 + day.month - first_month.month + (day.day - 1) / 30
        phase = (day.timetuple().tm_yday / 365.25)
        value = _value(series, months, rng, phase)
        if daily and series.weekday and day.weekday() >= 5:
            value *= 1 - series.weekday
        if not daily and index in anomaly_at:
            value *= 1.35 if index % 2 else 0.7
        if daily and index % 173 == 97:
            value *= 0.55
        row = {"kpi_id": kpi.id, "period_start": day, "value": value, "numerator": None, "denominator": None}
        if series.ratio_of is not None:
            denominator = round(series.ratio_of * (1.015 ** months) * (1 + rng.normal(0, 0.02)))
            if series.high is not None:
                value = min(value, series.high)
            row["denominator"] = float(denominator)
            # stored parts follow the app's convention value = num / den × (100 for percent, else 1):
            # NPS is a "score" with scale 100, so its numerator carries the ×100 itself
            unit_scale = 100.0 if kpi.unit == "percent" else 1.0
            row["numerator"] = value * series.scale / unit_scale * denominator
            row["value"] = value * series.scale
        rows.append(row)
        day = next_period_start(day, kpi.frequency)
        index += 1
    frame = pd.DataFrame(rows)
    frame["value"] = frame["value"].round(4 if series.scale == 1 and series.base < 10 else 2)
    if kpi.unit == "count":  # people and things come whole: "181.75 new customers" reads as a bug
        frame["value"] = frame["value"].round(0)
    return frame


def _annotate(ws, first_month: dt.date) -> None:  # type: ignore[no-untyped-def]
    for product_name, key, month_offset, text in ANNOTATIONS:
        product = ws.products.get(product_name)
        day = first_month
        for _ in range(month_offset):
            day = next_period_start(day, "month")
        day = day + dt.timedelta(days=9)
        kpi_id = ws.kpis.resolve(key, product.id).id if key else None
        ws.annotations.add(day, text, kpi_id=kpi_id, product_id=product.id)

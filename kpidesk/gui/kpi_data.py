"""What the KPI detail chart shows, computed off the GUI thread (no Qt here).

The series is read at its stored frequency and rolled up to the chosen
granularity with the KPI's own aggregation (a ratio KPI is recomputed from
numerator and denominator when they are stored). Forecast, anomalies and the
rolling mean come from :mod:`kpidesk.domain.analytics`; x values are seconds
since the epoch (UTC), which is what pyqtgraph's DateAxisItem reads.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kpidesk.domain.enums import Frequency
from kpidesk.errors import KpideskError
from kpidesk.progress import Progress, check_cancelled

log = logging.getLogger(__name__)
ORDER = [f.value for f in Frequency]
FORECAST_HORIZON = {"day": 28, "week": 12, "month": 6, "quarter": 4, "year": 2}
FORECAST_HISTORY = 240  # periods the forecast is fitted on
ANOMALY_HISTORY = 1500  # periods scanned for anomalies (about four years of days)
ROLLING_WINDOW = {"day": 7, "week": 4, "month": 3, "quarter": 4, "year": 3}


def to_seconds(days: Any) -> np.ndarray:
    """Dates / datetime64 / Timestamps → float seconds since 1970-01-01 UTC."""
    arr = np.asarray(days, dtype="datetime64[s]")
    return arr.astype("int64").astype("float64")


def date_of(seconds: float) -> dt.date:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).date()


def allowed_granularities(frequency: str) -> list[str]:
    """Granularities a KPI stored at ``frequency`` can be shown at (never finer)."""
    return ORDER[ORDER.index(frequency):]


@dataclass
class ChartData:
    kpi_id: int
    name: str
    unit: str
    currency: str
    direction: str
    granularity: str
    segment: str = ""
    x: np.ndarray = field(default_factory=lambda: np.empty(0))
    y: np.ndarray = field(default_factory=lambda: np.empty(0))
    rolling: np.ndarray | None = None
    target_x: np.ndarray = field(default_factory=lambda: np.empty(0))
    target_y: np.ndarray = field(default_factory=lambda: np.empty(0))
    pace: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1
    forecast_x: np.ndarray | None = None
    forecast_mean: np.ndarray | None = None
    forecast_low: np.ndarray | None = None
    forecast_high: np.ndarray | None = None
    anomaly_x: np.ndarray = field(default_factory=lambda: np.empty(0))
    anomaly_y: np.ndarray = field(default_factory=lambda: np.empty(0))
    annotations: list[tuple[float, str, int]] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why an overlay is missing, in words

    def target_at(self, seconds: float) -> float | None:
        """The target in force at ``seconds`` (step: the last target at or before it)."""
        if not len(self.target_x):
            return None
        i = int(np.searchsorted(self.target_x, seconds, side="right")) - 1
        return float(self.target_y[i]) if i >= 0 else None


def load_chart(ws: Any, kpi_id: int, granularity: str | None = None, *, segment: str = "",
               rolling: bool = True, forecast: bool = True, anomalies: bool = True,
               progress: Progress | None = None) -> ChartData:
    import pandas as pd

    from kpidesk.domain import analytics
    from kpidesk.storage.models import Target

    kpi = ws.kpis.get(kpi_id)
    gran = granularity if granularity in allowed_granularities(kpi.frequency) else kpi.frequency
    data = ChartData(kpi_id, kpi.name, kpi.unit, kpi.currency, kpi.direction, gran, segment)
    frame = ws.measurements.series(kpi_id, segment=None)
    data.segments = sorted(s for s in frame["segment"].unique() if s)
    frame = frame[frame["segment"] == segment].set_index("period_start").sort_index()
    check_cancelled(progress)
    if frame.empty:
        data.notes.append("No values yet.")
    else:
        if gran == kpi.frequency:
            series = frame["value"]
        else:  # the same numbers as `kpidesk metrics` and the review pack
            from kpidesk.services.metrics_service import roll_up_kpi

            series = roll_up_kpi(kpi, frame, gran, ws.catalog)
        series = series.dropna()
        data.x = to_seconds(series.index.to_numpy())
        data.y = series.to_numpy(dtype="float64")
        if rolling and len(series) >= 2:
            data.rolling = analytics.rolling_mean(series, ROLLING_WINDOW[gran]).to_numpy(dtype="float64")
        check_cancelled(progress)
        if anomalies and len(series) >= 8:
            try:
                # the recent past is where an anomaly needs attention; scanning decades of days
                # holds the GIL in pandas' rolling windows long enough to stutter the window
                recent = series.iloc[-ANOMALY_HISTORY:]
                found = analytics.detect_anomalies(recent, frequency=gran, window=min(28, max(3, len(recent) // 2)))
                if len(found):
                    data.anomaly_x = to_seconds(pd.DatetimeIndex(found["period_start"]).to_numpy())
                    data.anomaly_y = found["value"].to_numpy(dtype="float64")
            except KpideskError as exc:
                data.notes.append(exc.message)
        check_cancelled(progress)
        if forecast:
            try:
                # the recent past drives a short-horizon forecast; fitting decades of days only costs time
                result = analytics.forecast(series.iloc[-FORECAST_HISTORY:], gran, FORECAST_HORIZON[gran])
                table = result.table
                data.forecast_x = to_seconds(pd.DatetimeIndex(table.index).to_numpy())
                data.forecast_mean = table["mean"].to_numpy(dtype="float64")
                data.forecast_low = table["lower"].to_numpy(dtype="float64")
                data.forecast_high = table["upper"].to_numpy(dtype="float64")
            except KpideskError as exc:
                data.notes.append(exc.message)
    check_cancelled(progress)
    from sqlmodel import select

    with ws.db.session() as session:
        targets = list(session.exec(select(Target).where(Target.kpi_id == kpi_id, Target.segment == segment)
                                    .order_by(Target.period_start)))
    if targets:
        data.target_x = to_seconds([t.period_start for t in targets])
        data.target_y = np.array([t.value for t in targets], dtype="float64")
    data.pace = goal_pace(ws, kpi_id)
    kpi_product = kpi.product_id
    data.annotations = [(float(to_seconds([a.date])[0]), a.text, int(a.id))
                        for a in ws.annotations.list(kpi_id=kpi_id, product_id=kpi_product)]
    return data


def goal_pace(ws: Any, kpi_id: int) -> tuple[float, float, float, float] | None:
    """The first open goal's straight line from (start, baseline) to (due, target), if goals exist."""
    try:
        from kpidesk.storage.models import Goal
    except ImportError:
        return None
    from sqlmodel import select

    try:
        with ws.db.session() as session:
            goal = next(iter(session.exec(select(Goal).where(Goal.kpi_id == kpi_id, Goal.archived == False)  # noqa: E712
                                    .order_by(Goal.due_date))), None)
    except Exception:  # the goals table may not exist in an older file
        log.debug("no goal pace for KPI %s", kpi_id, exc_info=True)
        return None
    if goal is None:
        return None
    baseline, target = goal.baseline_value, goal.target_value
    if target is None and baseline is not None and goal.relative_change is not None:
        # "+25 %" is relative to the baseline; otherwise an absolute step
        target = (baseline * (1 + goal.relative_change / 100) if goal.relative_mode == "percent"
                  else baseline + goal.relative_change)
    start = goal.baseline_date or goal.start_date
    if baseline is None or target is None or start is None or goal.due_date is None:
        return None
    x0, x1 = to_seconds([start, goal.due_date])
    return float(x0), float(baseline), float(x1), float(target)

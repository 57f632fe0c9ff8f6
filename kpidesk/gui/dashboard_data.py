"""What a dashboard tile shows, computed off the GUI thread (no Qt here).

One query reads the latest values of every KPI total (segment ""), so a
200-KPI portfolio costs one round trip, not 200. For each KPI:

- latest = the value of the most recent period; previous = the one before;
- change % = 100 × (latest − previous) / |previous| (none when previous is 0);
- verdict: "good" when the change moves in the KPI's direction (up: rising,
  down: falling; band: latest inside [band_low, band_high]), "bad" against it,
  "neutral" for no change, "none" without two values;
- sparkline: the last :data:`SPARK_POINTS` values.

Goal status and the attention list come from the goals services when they are
installed; without them a tile shows the change verdict only.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from kpidesk.progress import Progress, check_cancelled

log = logging.getLogger(__name__)
SPARK_POINTS = 24


@dataclass(frozen=True)
class TileData:
    kpi_id: int
    product_id: int
    product: str
    key: str
    name: str
    category: str
    stage: str
    unit: str
    currency: str
    direction: str
    frequency: str
    latest: float | None = None
    latest_period: dt.date | None = None
    previous: float | None = None
    pct_change: float | None = None
    verdict: str = "none"
    spark: tuple[float, ...] = ()
    status: str = ""  # goal status word (on_track, at_risk, ...) or RAG (green/amber/red)
    status_text: str = ""
    attention: int = 0  # severity; 0 = not on the attention list
    attention_reason: str = ""
    catalog_key: str = ""

    @property
    def dot(self) -> str:
        """The colour word of the status dot: the goal status if any, else the verdict."""
        return self.status or self.verdict


@dataclass
class DashboardData:
    tiles: list[TileData] = field(default_factory=list)
    products: list[tuple[int, str]] = field(default_factory=list)

    def by_kpi(self) -> dict[int, TileData]:
        return {t.kpi_id: t for t in self.tiles}


def verdict(latest: float | None, previous: float | None, direction: str,
            band: tuple[float | None, float | None] = (None, None)) -> str:
    """good / bad / neutral / none, per the rule in the module docstring."""
    if latest is None:
        return "none"
    if direction == "band":
        low, high = band
        if low is None and high is None:
            return "neutral"
        inside = (low is None or latest >= low) and (high is None or latest <= high)
        return "good" if inside else "bad"
    if previous is None:
        return "none"
    if latest == previous:
        return "neutral"
    rising = latest > previous
    return "good" if rising == (direction == "up") else "bad"


def pct_change(latest: float | None, previous: float | None) -> float | None:
    if latest is None or previous is None or previous == 0:
        return None
    return 100.0 * (latest - previous) / abs(previous)


def load_dashboard(ws: Any, progress: Progress | None = None, *, with_status: bool = True) -> DashboardData:
    """Every active KPI as a :class:`TileData`, attention first.

    ``with_status=False`` skips goal status and the attention list (values and changes
    only: one query), so the dashboard can show tiles at once and add status after.
    """
    products = ws.products.list()
    names = {p.id: p.name for p in products}
    kpis = [k for k in ws.kpis.list() if k.product_id in names]
    check_cancelled(progress)
    history: dict[int, list[tuple[str, float]]] = defaultdict(list)
    with ws.db.raw() as dbapi:
        cur = dbapi.cursor()
        # window function: only the last SPARK_POINTS periods of each KPI come back
        cur.execute(
            "SELECT kpi_id, period_start, value FROM ("
            " SELECT kpi_id, period_start, value, ROW_NUMBER() OVER"
            " (PARTITION BY kpi_id ORDER BY period_start DESC) AS rn"
            " FROM measurement WHERE segment = '' AND value IS NOT NULL) AS recent"
            f" WHERE rn <= {SPARK_POINTS} ORDER BY kpi_id, period_start")
        for kpi_id, start, value in cur.fetchall():
            history[int(kpi_id)].append((str(start), float(value)))
        cur.close()
    check_cancelled(progress)
    tiles: list[TileData] = []
    for kpi in kpis:
        points = history.get(kpi.id, [])
        latest = points[-1][1] if points else None
        previous = points[-2][1] if len(points) > 1 else None
        tiles.append(TileData(
            kpi_id=kpi.id, product_id=kpi.product_id, product=names[kpi.product_id], key=kpi.key,
            name=kpi.name, category=kpi.category, stage=kpi.stage, unit=kpi.unit, currency=kpi.currency,
            direction=kpi.direction, frequency=kpi.frequency, latest=latest,
            latest_period=dt.date.fromisoformat(points[-1][0][:10]) if points else None,
            previous=previous, pct_change=pct_change(latest, previous),
            verdict=verdict(latest, previous, kpi.direction, (kpi.band_low, kpi.band_high)),
            spark=tuple(v for _, v in points), catalog_key=kpi.catalog_key or kpi.key,
        ))
    if with_status:
        tiles = _with_goal_status(ws, tiles)
    tiles.sort(key=lambda t: (-t.attention, t.product.casefold(), t.category, t.name.casefold()))
    return DashboardData(tiles, [(p.id, p.name) for p in products])


def with_status(ws: Any, data: DashboardData, progress: Progress | None = None) -> DashboardData:
    """``data`` with goal status and attention added, re-sorted (attention first)."""
    check_cancelled(progress)
    tiles = _with_goal_status(ws, list(data.tiles))
    tiles.sort(key=lambda t: (-t.attention, t.product.casefold(), t.category, t.name.casefold()))
    return DashboardData(tiles, data.products)


def _with_goal_status(ws: Any, tiles: list[TileData]) -> list[TileData]:
    """Goal status and attention from the status service, when it is installed."""
    if importlib.util.find_spec("kpidesk.services.status_service") is None:
        return tiles
    try:
        from kpidesk.services import status_service

        return status_overlay(status_service, ws, tiles)
    except Exception:  # the dashboard still shows values if the goals layer fails
        log.exception("goal status could not be computed")
        return tiles


def status_overlay(module: Any, ws: Any, tiles: list[TileData]) -> list[TileData]:
    """Apply goal status (worst goal of each KPI) and attention items from the status service."""
    report = module.StatusService(ws.db).report()
    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, tile in enumerate(tiles):
        by_key[(tile.product, tile.key)].append(i)
    out = list(tiles)
    worst: dict[int, tuple[int, str, str]] = {}
    severity = getattr(module, "SEVERITY", None) or {}
    for ev in report.evaluations:
        product = report.product_of_goal.get(ev.goal.id or -1, "") if hasattr(ev.goal, "id") else ""
        for i in by_key.get((product, ev.kpi.key), []) if product else [
                j for (p, k), js in by_key.items() if k == ev.kpi.key for j in js]:
            rank = severity.get(ev.status, list(type(ev.status)).index(ev.status))
            if i not in worst or rank > worst[i][0]:
                worst[i] = (rank, ev.status.value, f"Goal {ev.status.value.replace('_', ' ')}: {ev.reason}")
    for i, (_, status, text) in worst.items():
        out[i] = replace(out[i], status=status, status_text=text)
    for item in report.attention:
        for i in by_key.get((item.product, item.kpi_key), []):
            if item.severity > out[i].attention:
                out[i] = replace(out[i], attention=int(item.severity), attention_reason=item.reason)
            if getattr(item.kind, "value", item.kind) == "threshold" and not out[i].status:
                # no goal on this KPI: its RAG colour (the reason starts with it) is the status
                word = item.reason.split(" ", 1)[0].lower()
                if word in ("red", "amber"):
                    out[i] = replace(out[i], status=word)
    return out

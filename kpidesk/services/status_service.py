"""Where every goal and KPI stands today: the data of ``kpidesk status``, the dashboard and the review."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from kpidesk.domain.goals import (
    DEFAULT_BANDS,
    Anomaly,
    AttentionItem,
    GoalEvaluation,
    KpiSnapshot,
    ObjectiveSummary,
    StatusBands,
    attention_list,
    summarize_objective,
)
from kpidesk.services.goal_service import GoalService, kpi_info
from kpidesk.services.product_service import ProductService
from kpidesk.services.target_service import TargetService
from kpidesk.storage.db import Database
from kpidesk.storage.models import Kpi, Product

log = logging.getLogger(__name__)


@dataclass
class StatusReport:
    today: dt.date
    evaluations: list[GoalEvaluation]
    product_of_goal: dict[int, str]
    objectives: list[ObjectiveSummary]
    attention: list[AttentionItem]
    anomalies: list[Anomaly] = field(default_factory=list)


class StatusService:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.goals = GoalService(db)
        self.targets = TargetService(db)
        self._products = ProductService(db)

    def _kpis(self, product: str | int | None) -> list[tuple[Kpi, Product]]:
        from sqlmodel import select

        with self._db.session() as session:
            query = (select(Kpi, Product).join(Product, Product.id == Kpi.product_id)
                     .where(Kpi.archived == False, Product.archived == False)  # noqa: E712
                     .order_by(Product.name, Kpi.name))
            if product is not None:
                query = query.where(Product.id == self._products.get(product).id)
            return [(kpi, prod) for kpi, prod in session.exec(query)]

    def report(self, product: str | int | None = None, *, today: dt.date | None = None,
               bands: StatusBands = DEFAULT_BANDS, anomalies: list[Anomaly] | None = None,
               detect_anomalies: bool = True) -> StatusReport:
        """Goals with status and reasons, objectives (worst status, mean progress) and the attention list.

        ``anomalies`` come from the caller (the metrics engine); when ``None`` and
        ``detect_anomalies`` is set, they are detected here with
        ``kpidesk.domain.analytics.anomalies`` (robust z-score) if that module is present.
        """
        today = today or dt.date.today()
        rows = self.goals.list(product)
        evaluations: list[GoalEvaluation] = []
        product_of_goal: dict[int, str] = {}
        by_objective: dict[int, list[GoalEvaluation]] = {}
        for row in rows:
            ev = self.goals.evaluate(row, today=today, bands=bands)
            evaluations.append(ev)
            assert row.id is not None
            product_of_goal[row.id] = self.goals.product_of(self.goals.kpi_of(row)).name
            if row.objective_id is not None:
                by_objective.setdefault(row.objective_id, []).append(ev)
        objectives = [summarize_objective(self.goals.objective_title(oid), evs) for oid, evs in by_objective.items()]
        objectives.sort(key=lambda o: o.title)

        pairs = self._kpis(product)
        # one query each for every KPI's values and thresholds, not two per KPI
        series_of = self.goals.series_many([kpi for kpi, _ in pairs])
        thresholds = self.targets.thresholds_many([kpi for kpi, _ in pairs])
        snapshots = [KpiSnapshot(kpi_info(kpi), series_of[kpi.id], thresholds.get(kpi.id), prod.name)  # type: ignore[index]
                     for kpi, prod in pairs]
        if anomalies is None:
            anomalies = self._detect(pairs, series_of) if detect_anomalies else []
        items = attention_list(evaluations, snapshots, today, anomalies=anomalies, product_of_goal=product_of_goal)
        return StatusReport(today, evaluations, product_of_goal, objectives, items, anomalies)

    @staticmethod
    def _detect(kpis: list[tuple[Kpi, Product]], series_of: dict[int, list[tuple[dt.date, float]]]) -> list[Anomaly]:
        """Anomalies of each KPI's latest value, using the metrics engine when it is installed."""
        try:
            import pandas as pd

            from kpidesk.domain.analytics.anomalies import detect_anomalies
        except ImportError:  # the metrics engine is optional for the goal list
            return []
        found: list[Anomaly] = []
        for kpi, prod in kpis:
            points = series_of.get(kpi.id or -1, [])
            if len(points) < 8:
                continue
            series = pd.Series([v for _, v in points], index=pd.DatetimeIndex([d for d, _ in points]))
            window = 28 if kpi.frequency == "day" else 12
            try:
                flagged = detect_anomalies(series, window=window, frequency=kpi.frequency)
            except Exception:  # a detector bug must not hide the goal list
                log.exception("anomaly detection failed for %s", kpi.key)
                continue
            for record in flagged.to_dict("records"):
                day = pd.Timestamp(record["period_start"]).date()
                if day != points[-1][0]:
                    continue
                expected = record.get("expected")
                found.append(Anomaly(kpi.key, day, float(record["value"]),
                                     None if expected is None else float(expected),
                                     product=prod.name))
        return found

"""Goals, objectives and check-ins: storage + the goal rules of ``kpidesk.domain.goals``."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlmodel import select

from kpidesk.domain.enums import GoalKind
from kpidesk.domain.goals import (
    DEFAULT_BANDS,
    Goal,
    GoalEvaluation,
    KpiInfo,
    SmartFinding,
    StatusBands,
    check_smart,
    evaluate_goal,
    validate_goal,
)
from kpidesk.domain.goals.model import default_baseline
from kpidesk.domain.periods import next_period_start, parse_date, period_start
from kpidesk.errors import NotFoundError, ValidationError
from kpidesk.services.changes import Changes
from kpidesk.services.product_service import ProductService
from kpidesk.storage.db import Database
from kpidesk.storage.models import Checkin, Kpi, Measurement, Objective, Product, Target, utcnow
from kpidesk.storage.models import Goal as GoalRow
from kpidesk.storage.versioning import save_versioned

GOAL_FIELDS = {
    "statement", "kind", "baseline_value", "baseline_date", "target_value", "relative_change", "relative_mode",
    "band_low", "band_high", "start_date", "due_date", "owner", "objective_id", "rationale", "confidence",
}


def kpi_info(kpi: Kpi) -> KpiInfo:
    """The goal rules' view of a KPI, with the values it can take (unit defaults, or its own min/max)."""
    from kpidesk.domain.units import bounds

    low, high = bounds(kpi.unit, kpi.min_value, kpi.max_value)
    return KpiInfo(kpi.key, kpi.name, kpi.unit, kpi.direction, kpi.frequency, low, high)


def _date(value: Any, what: str) -> dt.date:
    try:
        return parse_date(value)
    except (TypeError, ValueError):
        raise ValidationError(f"The {what} '{value}' is not a date; use YYYY-MM-DD.") from None


def _kind(value: Any) -> GoalKind:
    try:
        return GoalKind(value)
    except ValueError:
        allowed = ", ".join(k.value for k in GoalKind)
        raise ValidationError(f"'{value}' is not a goal kind; use one of: {allowed}.") from None


class GoalService:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._products = ProductService(db)

    # -- reading ----------------------------------------------------------------
    def get(self, goal_id: int) -> GoalRow:
        with self._db.session() as session:
            row = session.get(GoalRow, goal_id)
        if row is None:
            raise NotFoundError(f"Goal #{goal_id} does not exist; see 'kpidesk goal list'.")
        return row

    def list(self, product: str | int | None = None, *, include_archived: bool = False) -> list[GoalRow]:
        """Goals ordered by product, due date and id; ``product`` restricts to one product."""
        with self._db.session() as session:
            query = (select(GoalRow).join(Kpi, Kpi.id == GoalRow.kpi_id).join(Product, Product.id == Kpi.product_id)
                     .order_by(Product.name, GoalRow.due_date, GoalRow.id))
            if product is not None:
                query = query.where(Kpi.product_id == self._products.get(product).id)
            if not include_archived:
                query = query.where(GoalRow.archived == False, Product.archived == False)  # noqa: E712
            return list(session.exec(query))

    def kpi_of(self, row: GoalRow) -> Kpi:
        with self._db.session() as session:
            kpi = session.get(Kpi, row.kpi_id)
        assert kpi is not None  # foreign key
        return kpi

    def product_of(self, kpi: Kpi) -> Product:
        with self._db.session() as session:
            product = session.get(Product, kpi.product_id)
        assert product is not None
        return product

    def series(self, kpi_id: int, *, checkins_of: int | None = None) -> list[tuple[dt.date, float]]:
        """The KPI's total (unsegmented) values, oldest first.

        With ``checkins_of`` a goal id, check-in values fill periods that have
        no measurement (a PM who typed the number at a check-in has measured it).
        """
        with self._db.session() as session:
            kpi = session.get(Kpi, kpi_id)
            if kpi is None:
                raise NotFoundError(f"KPI #{kpi_id} does not exist.")
            rows = session.exec(
                select(Measurement.period_start, Measurement.value)
                .where(Measurement.kpi_id == kpi_id, Measurement.segment == "", Measurement.value.is_not(None))  # type: ignore[union-attr]
                .order_by(Measurement.period_start)  # type: ignore[arg-type]
            ).all()
            values = {day: float(value) for day, value in rows}
            if kpi.formula and not rows:
                # a formula KPI stores nothing: its values are computed from its inputs
                values = self._formula_values(kpi)
            if checkins_of is not None:
                for checkin in session.exec(select(Checkin).where(Checkin.goal_id == checkins_of)
                                            .order_by(Checkin.date)):  # type: ignore[arg-type]
                    if checkin.value is not None:
                        values.setdefault(period_start(checkin.date, kpi.frequency), float(checkin.value))
        return sorted(values.items())

    def series_many(self, kpis: list[Kpi]) -> dict[int, list[tuple[dt.date, float]]]:
        """:meth:`series` of many KPIs in one query (a dashboard of 50 KPIs on a team server
        would otherwise pay 50 round trips)."""
        out: dict[int, list[tuple[dt.date, float]]] = {k.id: [] for k in kpis if k.id is not None}
        if not out:
            return out
        from kpidesk.storage.measurements import param_style

        with self._db.raw() as dbapi:
            p = param_style(dbapi)
            cur = dbapi.cursor()
            cur.execute("SELECT kpi_id, period_start, value FROM measurement WHERE segment = '' AND value IS NOT NULL"
                        f" AND kpi_id IN ({', '.join([p] * len(out))}) ORDER BY kpi_id, period_start", list(out))
            # in batches: one fetch of a whole portfolio holds the interpreter lock long enough
            # to freeze the window for a quarter of a second
            while batch := cur.fetchmany(5000):
                for kpi_id, day, value in batch:
                    out[kpi_id].append((day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day)[:10]),
                                        float(value)))
            cur.close()
        for kpi in kpis:
            if kpi.formula and kpi.id is not None and not out[kpi.id]:
                out[kpi.id] = sorted(self._formula_values(kpi).items())
        return out

    def _formula_values(self, kpi: Kpi) -> dict[dt.date, float]:
        """A formula KPI's values at its own frequency; none when its formula cannot be evaluated
        (an input with no values yet): the goal then says no value was recorded."""
        import math

        from kpidesk.domain.catalog import load_catalog
        from kpidesk.services.metrics_service import MetricsService

        try:
            computed, _ = MetricsService(self._db, load_catalog()).formula_series(kpi.id)  # type: ignore[arg-type]
        except ValidationError:
            return {}
        return {stamp.date(): float(value) for stamp, value in computed.items() if math.isfinite(value)}

    def schedule(self, kpi_id: int) -> dict[dt.date, float]:
        """The per-period targets of a KPI (total segment)."""
        with self._db.session() as session:
            rows = session.exec(select(Target.period_start, Target.value)
                                .where(Target.kpi_id == kpi_id, Target.segment == "")).all()
        return {day: float(value) for day, value in rows}

    def objective_title(self, objective_id: int | None) -> str:
        if objective_id is None:
            return ""
        with self._db.session() as session:
            objective = session.get(Objective, objective_id)
        return objective.title if objective else ""

    def to_domain(self, row: GoalRow) -> Goal:
        return Goal(
            kpi_key=self.kpi_of(row).key, kind=GoalKind(row.kind), start=row.start_date, due=row.due_date,
            target_value=row.target_value, relative_change=row.relative_change, relative_mode=row.relative_mode,
            band_low=row.band_low, band_high=row.band_high, baseline_value=row.baseline_value,
            baseline_date=row.baseline_date, statement=row.statement, owner=row.owner,
            objective=self.objective_title(row.objective_id), rationale=row.rationale,
            confidence=row.confidence, created=row.created_at.date(), id=row.id,
        )

    # -- evaluating -------------------------------------------------------------
    def evaluate(self, goal: int | GoalRow, *, today: dt.date | None = None,
                 bands: StatusBands = DEFAULT_BANDS) -> GoalEvaluation:
        """Status, progress, pace and forecast of one goal (``kpidesk.domain.goals.status`` rules)."""
        row = self.get(goal) if isinstance(goal, int) else goal
        kpi = self.kpi_of(row)
        return evaluate_goal(self.to_domain(row), kpi_info(kpi), self.series(kpi.id, checkins_of=row.id),
                             today or dt.date.today(), schedule=self.schedule(kpi.id) or None, bands=bands)

    def evaluate_all(self, product: str | int | None = None, *, today: dt.date | None = None,
                     bands: StatusBands = DEFAULT_BANDS) -> list[GoalEvaluation]:
        return [self.evaluate(row, today=today, bands=bands) for row in self.list(product)]

    def smart_check(self, goal: int | GoalRow) -> list[SmartFinding]:
        """The SMART findings of a saved goal, judged as of the day it was created (with the values
        of the periods that had ended by then; all values if none had)."""
        row = self.get(goal) if isinstance(goal, int) else goal
        kpi = self.kpi_of(row)
        created = row.created_at.date()
        # judge with the data there was then (periods that had ended): hindsight would flatter or
        # condemn a goal with numbers its author could not see
        series = self.series(kpi.id)
        known = [p for p in series if next_period_start(p[0], kpi.frequency) <= created]
        return check_smart(self.to_domain(row), kpi_info(kpi), known or series, created=created)

    def preview_smart(self, kpi_id: int, *, today: dt.date | None = None, **fields: Any) -> list[SmartFinding]:
        """SMART findings of a goal before it is saved (the goal dialog shows them as you type)."""
        goal, kpi = self._draft(kpi_id, fields)
        return check_smart(goal, kpi_info(kpi), self.series(kpi_id), created=today or dt.date.today())

    # -- writing ----------------------------------------------------------------
    def _draft(self, kpi_id: int, fields: dict[str, Any]) -> tuple[Goal, Kpi]:
        with self._db.session() as session:
            kpi = session.get(Kpi, kpi_id)
        if kpi is None:
            raise NotFoundError(f"KPI #{kpi_id} does not exist.")
        unknown = set(fields) - GOAL_FIELDS
        if unknown:
            raise ValidationError(f"These goal fields are unknown: {', '.join(sorted(unknown))}.")
        start = _date(fields.get("start_date"), "start date") if fields.get("start_date") else dt.date.today()
        if not fields.get("due_date"):
            raise ValidationError("A goal needs a due date.")
        due = _date(fields["due_date"], "due date")
        goal = Goal(
            kpi_key=kpi.key, kind=_kind(fields.get("kind", GoalKind.INCREASE_TO)), start=start, due=due,
            target_value=fields.get("target_value"), relative_change=fields.get("relative_change"),
            relative_mode=fields.get("relative_mode") or "", band_low=fields.get("band_low"),
            band_high=fields.get("band_high"), baseline_value=fields.get("baseline_value"),
            baseline_date=_date(fields["baseline_date"], "baseline date") if fields.get("baseline_date") else None,
            statement=(fields.get("statement") or "").strip(), owner=(fields.get("owner") or "").strip(),
            objective=self.objective_title(fields.get("objective_id")),
            rationale=(fields.get("rationale") or "").strip(), confidence=fields.get("confidence"),
        )
        validate_goal(goal)
        return goal, kpi

    def add(self, kpi_id: int, **fields: Any) -> tuple[GoalRow, Changes]:
        """Save a new goal. Fields are the ``goal`` table's (``start_date``, ``due_date``, ``kind``,
        ``target_value`` or ``relative_change`` + ``relative_mode``, ``band_low``/``band_high``, ...).

        The baseline is taken from the data when not given (last value of a period
        that ended before the start) and stored, so later corrections of old values
        do not silently move the goal. A relative target needs that baseline.
        """
        self._db.require_writable()
        goal, kpi = self._draft(kpi_id, fields)
        if goal.baseline_value is None:
            found = default_baseline(self.series(kpi_id), goal.start, kpi.frequency)
            if found is not None:
                goal = dataclasses.replace(goal, baseline_date=found[0], baseline_value=found[1])
        if goal.relative_change is not None and goal.target_value is None and goal.baseline_value is None:
            raise ValidationError(
                f"{kpi.name} has no value before {goal.start.isoformat()} to apply the relative change to; "
                "give a baseline value (--baseline) or an absolute target."
            )
        objective_id = fields.get("objective_id")
        if objective_id is not None:
            self.get_objective(objective_id)
        row = GoalRow(
            kpi_id=kpi_id, objective_id=objective_id, statement=goal.statement, kind=goal.kind.value,
            baseline_value=goal.baseline_value, baseline_date=goal.baseline_date, target_value=goal.target_value,
            relative_change=goal.relative_change,
            relative_mode=goal.relative_mode or ("percent" if goal.relative_change is not None else ""),
            band_low=goal.band_low, band_high=goal.band_high, start_date=goal.start, due_date=goal.due,
            owner=goal.owner, rationale=goal.rationale, confidence=goal.confidence, updated_by=self._db.user,
        )
        with self._db.session() as session:
            session.add(row)
            session.commit()
            session.refresh(row)
        return row, Changes.of("goal", message=f"Added goal #{row.id} on {kpi.name}.")

    def update(self, goal_id: int, *, expected_version: int | None = None, **fields: Any) -> tuple[GoalRow, Changes]:
        """Edit a goal; the edited goal is validated as a whole before anything is written.

        With ``expected_version`` (the version the user opened), the save is refused
        with who changed the goal and when if anyone saved it since (team workspaces).
        """
        self._db.require_writable()
        row = self.get(goal_id)
        current = {name: getattr(row, name) for name in GOAL_FIELDS}
        current.update(fields)
        self._draft(row.kpi_id, current)
        with self._db.session() as session:
            save_versioned(session, GoalRow, goal_id, row.version if expected_version is None else expected_version,
                           fields, user=self._db.user, what=f"Goal #{goal_id}")
            session.commit()
            stored = session.get(GoalRow, goal_id, populate_existing=True)
            assert stored is not None
        return stored, Changes.of("goal", message=f"Updated goal #{goal_id}.")

    def archive(self, goal_id: int, archived: bool = True) -> tuple[GoalRow, Changes]:
        self._db.require_writable()
        with self._db.session() as session:
            stored = session.get(GoalRow, goal_id)
            if stored is None:
                raise NotFoundError(f"Goal #{goal_id} does not exist; see 'kpidesk goal list'.")
            stored.archived = archived
            stored.version += 1
            stored.updated_at, stored.updated_by = utcnow(), self._db.user
            session.commit()
            session.refresh(stored)
        return stored, Changes.of("goal", message=f"{'Archived' if archived else 'Restored'} goal #{goal_id}.")

    # -- check-ins --------------------------------------------------------------
    def checkin(self, goal_id: int, day: str | dt.date | None = None, *, value: float | None = None,
                confidence: int | None = None, note: str = "") -> tuple[Checkin, Changes]:
        """Record a dated check-in (value snapshot, confidence 1–10, note); history is kept.

        The goal's confidence follows the latest check-in that gives one.
        """
        self._db.require_writable()
        row = self.get(goal_id)
        when = _date(day, "check-in date") if day else dt.date.today()
        if confidence is not None and not 1 <= confidence <= 10:
            raise ValidationError(f"Confidence must be between 1 and 10, not {confidence}.")
        if value is None and confidence is None and not note.strip():
            raise ValidationError("A check-in needs a value, a confidence or a note.")
        if value is not None:
            from kpidesk.domain.units import domain_problem

            kpi = self.kpi_of(row)
            problem = domain_problem(float(value), kpi.unit, kpi.min_value, kpi.max_value)
            if problem:
                raise ValidationError(f"Check-in value for {kpi.name}: {problem}.")
        checkin = Checkin(goal_id=goal_id, date=when, value=value, confidence=confidence, note=note.strip(),
                          updated_by=self._db.user)
        with self._db.session() as session:
            session.add(checkin)
            if confidence is not None:
                stored = session.get(GoalRow, goal_id)
                assert stored is not None
                stored.confidence = confidence
                stored.version += 1
                stored.updated_at = utcnow()
            session.commit()
            session.refresh(checkin)
        kpi = self.kpi_of(row)
        return checkin, Changes.of("checkin", "goal", kpi_ids={kpi.id},
                                   message=f"Checked in on goal #{goal_id} ({when.isoformat()}).")

    def checkins(self, goal_id: int) -> list[Checkin]:
        """Check-ins of a goal, oldest first."""
        self.get(goal_id)
        with self._db.session() as session:
            return list(session.exec(select(Checkin).where(Checkin.goal_id == goal_id)
                                     .order_by(Checkin.date, Checkin.id)))  # type: ignore[arg-type]

    # -- objectives -------------------------------------------------------------
    def add_objective(self, title: str, *, product: str | int | None = None, description: str = "",
                      period_start: dt.date | None = None, period_end: dt.date | None = None
                      ) -> tuple[Objective, Changes]:
        self._db.require_writable()
        if not title.strip():
            raise ValidationError("An objective needs a title.")
        product_id = self._products.get(product).id if product is not None else None
        objective = Objective(title=title.strip(), product_id=product_id, description=description,
                              period_start=period_start, period_end=period_end, updated_by=self._db.user)
        with self._db.session() as session:
            session.add(objective)
            session.commit()
            session.refresh(objective)
        return objective, Changes.of("objective", message=f"Added objective '{objective.title}'.")

    def get_objective(self, objective_id: int) -> Objective:
        with self._db.session() as session:
            objective = session.get(Objective, objective_id)
        if objective is None:
            raise NotFoundError(f"Objective #{objective_id} does not exist.")
        return objective

    def objectives(self, product: str | int | None = None) -> list[Objective]:
        with self._db.session() as session:
            query = select(Objective).order_by(Objective.title)
            if product is not None:
                query = query.where(Objective.product_id == self._products.get(product).id)
            return list(session.exec(query))

    def find_or_add_objective(self, ref: str, *, product: str | int | None = None) -> Objective:
        """An objective by id or (case-insensitive) title within the product; created when new."""
        if ref.isdigit():
            return self.get_objective(int(ref))
        wanted = ref.strip().casefold()
        for objective in self.objectives(product):
            if objective.title.casefold() == wanted:
                return objective
        return self.add_objective(ref, product=product)[0]

"""Review meetings: the record (notes, decisions, actions) and the content of the pack.

A review covers a product (or the whole portfolio) and a period (a month,
quarter, year or a custom ``start..end`` range) against a comparison period
(the previous period of the same length, or the same period last year).

Every number in the content is computed over the period with the KPI's own
aggregation (sum, mean, last, min, max; ratio KPIs recomputed from their
numerator and denominator), so a quarter of a daily KPI is what the KPI page
shows for that quarter. Open action items of the product's previous review are
carried into a new one until they are done.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import select

from kpidesk.domain.enums import Aggregation, Frequency, ReviewItemKind, Unit
from kpidesk.domain.periods import next_period_start, period_label
from kpidesk.errors import NotFoundError, ValidationError
from kpidesk.services.changes import Changes
from kpidesk.services.product_service import ProductService
from kpidesk.storage.db import Database
from kpidesk.storage.models import (
    Annotation,
    Goal,
    ImportBatch,
    Kpi,
    Measurement,
    Product,
    Review,
    ReviewItem,
    Target,
)
from kpidesk.storage.versioning import save_versioned

COMPARE_WORDS = {"previous": "previous period", "last_year": "same period last year"}


@dataclass(frozen=True)
class ReviewPeriod:
    key: str  # what is stored and typed: 2026-Q3, 2026-10, 2026-07-01..2026-09-15
    start: dt.date
    end: dt.date  # inclusive
    frequency: Frequency | None  # None for a custom range

    @property
    def label(self) -> str:
        """For people: 2026-Q3, Oct 2026, 01 Jul 2026 – 15 Sep 2026."""
        if self.frequency is None:
            return f"{self.start:%d %b %Y} – {self.end:%d %b %Y}"
        return period_label(self.start, self.frequency)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def parse_review_period(text: str) -> ReviewPeriod:
    """'2026-Q3', '2026-10', '2026', '2026-W05' or a custom '2026-07-01..2026-09-15'."""
    from kpidesk.domain.explain.compare import parse_period

    cleaned = text.strip()
    if ".." in cleaned:
        first, _, last = cleaned.partition("..")
        try:
            start, end = dt.date.fromisoformat(first.strip()), dt.date.fromisoformat(last.strip())
        except ValueError:
            raise ValidationError(f"'{text}' is not a date range; write it like 2026-07-01..2026-09-15.") from None
        if end < start:
            raise ValidationError(f"'{text}' ends before it starts.")
        return ReviewPeriod(f"{start.isoformat()}..{end.isoformat()}", start, end, None)
    start, freq = parse_period(cleaned)
    end = next_period_start(start, freq) - dt.timedelta(days=1)
    return ReviewPeriod(_key(start, freq), start, end, freq)


def _key(start: dt.date, freq: Frequency) -> str:
    if freq is Frequency.MONTH:
        return f"{start.year}-{start.month:02d}"
    if freq is Frequency.YEAR:
        return str(start.year)
    return period_label(start, freq)  # 2026-Q3, 2026-W05, 2026-03-05


def comparison_period(period: ReviewPeriod, compare: str) -> ReviewPeriod:
    """The previous period of the same length, or the same period one year earlier."""
    if compare == "last_year":
        start = _minus_years(period.start, 1)
        end = _minus_years(period.end + dt.timedelta(days=1), 1) - dt.timedelta(days=1)
    elif period.frequency is not None:
        end = period.start - dt.timedelta(days=1)
        from kpidesk.domain.periods import period_start

        start = period_start(end, period.frequency)
    else:
        end = period.start - dt.timedelta(days=1)
        start = end - dt.timedelta(days=period.days - 1)
    key = _key(start, period.frequency) if period.frequency else f"{start.isoformat()}..{end.isoformat()}"
    return ReviewPeriod(key, start, end, period.frequency)


def _minus_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def aggregate_over(rows: list[tuple[dt.date, float | None, float | None, float | None]], aggregation: str,
                   unit: str) -> float | None:
    """One value for a period from the KPI's stored values in it (period order).

    sum / mean / last / min / max as named; ratio = sum(numerator) / sum(denominator)
    (x100 for percent units) when every value carries its parts, else the mean.
    """
    values = [v for _, v, _, _ in rows if v is not None and math.isfinite(v)]
    if not values:
        return None
    agg = Aggregation(aggregation)
    if agg is Aggregation.RATIO:
        if all(n is not None and d is not None for _, _, n, d in rows):
            den = sum(d for _, _, _, d in rows if d is not None)
            num = sum(n for _, _, n, _ in rows if n is not None)
            if den:
                return num / den * _ratio_scale(rows, unit)
        return sum(values) / len(values)
    if agg is Aggregation.SUM:
        return float(sum(values))
    if agg is Aggregation.MEAN:
        return sum(values) / len(values)
    if agg is Aggregation.MIN:
        return min(values)
    if agg is Aggregation.MAX:
        return max(values)
    return values[-1]


def _ratio_scale(rows: list[tuple[dt.date, float | None, float | None, float | None]], unit: str) -> float:
    """How the stored values relate to numerator / denominator: x100 or x1.

    Read from the values themselves (NPS is a 'score' stored as (promoters - detractors)
    / responses x 100, so the unit alone does not tell); the unit decides only when no
    row shows it (percent -> 100, else 1).
    """
    for _, value, num, den in rows:
        if value and num and den:
            factor = value * den / num
            for scale in (100.0, 1.0):
                if abs(factor - scale) <= scale * 0.01:
                    return scale
    return 100.0 if unit == Unit.PERCENT else 1.0


@dataclass(frozen=True)
class Headline:
    kpi_id: int
    product: str
    key: str
    name: str
    unit: str
    currency: str
    direction: str
    current: float | None
    previous: float | None
    target: float | None
    status: str  # goal status or RAG colour, "" when neither applies
    partial: bool  # the period is not over yet ("so far")

    @property
    def change(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def change_pct(self) -> float | None:
        if self.change is None or not self.previous:
            return None
        return self.change / abs(self.previous) * 100

    @property
    def good(self) -> bool | None:
        """Whether the change moves the way this KPI wants (None: no change or a band KPI)."""
        if not self.change or self.direction == "band":
            return None
        return (self.change > 0) == (self.direction == "up")


@dataclass
class ReviewContent:
    review: Review
    product: str
    period: ReviewPeriod
    compare: ReviewPeriod
    compare_mode: str
    today: dt.date
    headlines: list[Headline] = field(default_factory=list)
    goals: list[Any] = field(default_factory=list)  # GoalEvaluation, with .smart findings attached below
    smart: dict[int, list[Any]] = field(default_factory=dict)  # goal id -> SmartFinding list
    goal_product: dict[int, str] = field(default_factory=dict)  # goal id -> product name
    movers: list[Any] = field(default_factory=list)  # explain.Explanation
    anomalies: list[Any] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)  # dated inside the period
    chart_annotations: list[Annotation] = field(default_factory=list)  # up to the period's end, for the charts
    attention: list[Any] = field(default_factory=list)  # AttentionItem
    carried_actions: list[ReviewItem] = field(default_factory=list)
    items: list[ReviewItem] = field(default_factory=list)
    since_last: list[str] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)
    series: dict[int, list[tuple[dt.date, float]]] = field(default_factory=dict)  # for the per-KPI sheets
    targets: dict[int, dict[dt.date, float]] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"{self.product} — review of {self.period.label}"


class ReviewService:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._products = ProductService(db)

    # -- the record ---------------------------------------------------------------
    def create(self, product: str | int | None, period: str, *, compare: str = "previous",
               title: str = "") -> tuple[Review, Changes]:
        """A new review; open actions of the product's latest earlier review are carried into it."""
        self._db.require_writable()
        compare = compare.replace("-", "_")
        if compare not in COMPARE_WORDS:
            raise ValidationError("Compare with 'previous' or 'last-year'.")
        parsed = parse_review_period(period)
        product_id = self._products.get(product).id if product is not None else None
        with self._db.session() as session:
            earlier = session.exec(
                select(Review).where(Review.product_id == product_id).order_by(Review.period_start.desc(),  # type: ignore[union-attr]
                                                                                Review.id.desc())  # type: ignore[union-attr]
            ).first()
            review = Review(product_id=product_id, title=title, period_label=parsed.key,
                            period_start=parsed.start, period_end=parsed.end, compare=compare,
                            updated_by=self._db.user)
            session.add(review)
            session.flush()
            carried = 0
            if earlier is not None:
                for item in session.exec(select(ReviewItem).where(
                        ReviewItem.review_id == earlier.id, ReviewItem.kind == ReviewItemKind.ACTION.value,
                        ReviewItem.done == False)):  # noqa: E712
                    session.add(ReviewItem(review_id=review.id, kind=item.kind, kpi_id=item.kpi_id, text=item.text,
                                           owner=item.owner, due_date=item.due_date, done=False,
                                           carried_from_id=item.id, updated_by=self._db.user))
                    carried += 1
            session.commit()
            session.refresh(review)
        message = f"Review of {parsed.label} created" + (f"; {carried} open action(s) carried over." if carried else ".")
        return review, Changes.of("review", "review_item", message=message)

    def get(self, review_id: int) -> Review:
        with self._db.session() as session:
            review = session.get(Review, review_id)
        if review is None:
            raise NotFoundError(f"Review #{review_id} does not exist; see 'kpidesk review list'.")
        return review

    def list(self, product: str | int | None = None) -> list[Review]:
        with self._db.session() as session:
            query = select(Review).order_by(Review.period_start.desc(), Review.id.desc())  # type: ignore[union-attr]
            if product is not None:
                query = query.where(Review.product_id == self._products.get(product).id)
            return list(session.exec(query))

    def items(self, review_id: int) -> list[ReviewItem]:
        with self._db.session() as session:
            return list(session.exec(select(ReviewItem).where(ReviewItem.review_id == review_id)
                                     .order_by(ReviewItem.kind, ReviewItem.id)))

    def add_item(self, review_id: int, kind: str, text: str, *, owner: str = "", due: dt.date | None = None,
                 kpi_id: int | None = None) -> tuple[ReviewItem, Changes]:
        self._db.require_writable()
        try:
            kind = ReviewItemKind(kind).value
        except ValueError:
            raise ValidationError("A review item is a note, a decision or an action.") from None
        if not text.strip():
            raise ValidationError(f"A {kind} needs some text.")
        self.get(review_id)
        with self._db.session() as session:
            item = ReviewItem(review_id=review_id, kind=kind, text=text.strip(), owner=owner.strip(), due_date=due,
                              kpi_id=kpi_id, updated_by=self._db.user)
            session.add(item)
            session.commit()
            session.refresh(item)
        return item, Changes.of("review_item", message=f"{kind.capitalize()} added.")

    def update_item(self, item_id: int, *, expected_version: int | None = None, **fields: Any) -> tuple[ReviewItem, Changes]:
        """Edit text, owner, due date or done; refused if someone changed it since ``expected_version``."""
        self._db.require_writable()
        allowed = {"text", "owner", "due_date", "done"}
        if set(fields) - allowed:
            raise ValidationError(f"A review item's {', '.join(sorted(set(fields) - allowed))} cannot be edited.")
        with self._db.session() as session:
            item = session.get(ReviewItem, item_id)
            if item is None:
                raise NotFoundError(f"Review item #{item_id} does not exist.")
            save_versioned(session, ReviewItem, item_id, expected_version or item.version, fields,
                           user=self._db.user, what=f"The {item.kind} '{item.text[:40]}'")
            session.commit()
            item = session.get(ReviewItem, item_id, populate_existing=True)
        return item, Changes.of("review_item", message="Review item updated.")  # type: ignore[return-value]

    def delete_item(self, item_id: int) -> Changes:
        self._db.require_writable()
        with self._db.session() as session:
            item = session.get(ReviewItem, item_id)
            if item is None:
                raise NotFoundError(f"Review item #{item_id} does not exist.")
            session.delete(item)
            session.commit()
        return Changes.of("review_item", message="Review item deleted.")

    def set_notes(self, review_id: int, notes: str) -> Changes:
        self._db.require_writable()
        with self._db.session() as session:
            review = session.get(Review, review_id)
            if review is None:
                raise NotFoundError(f"Review #{review_id} does not exist.")
            save_versioned(session, Review, review_id, review.version, {"notes": notes}, user=self._db.user,
                           what="The review notes")
            session.commit()
        return Changes.of("review", message="Notes saved.")

    # -- the content ----------------------------------------------------------------
    def content(self, review_id: int, *, today: dt.date | None = None, movers: int = 5) -> ReviewContent:
        """Everything the review pack shows, computed now (nothing is written)."""
        from kpidesk.services.explain_service import ExplainService
        from kpidesk.services.status_service import StatusService
        from kpidesk.services.target_service import TargetService

        review = self.get(review_id)
        today = today or dt.date.today()
        period = ReviewPeriod(review.period_label, review.period_start, review.period_end,
                              _frequency_of(review))
        compare = comparison_period(period, review.compare)
        with self._db.session() as session:
            product = session.get(Product, review.product_id) if review.product_id else None
            query = select(Kpi).join(Product).where(Kpi.archived == False, Product.archived == False)  # noqa: E712
            if product is not None:
                query = query.where(Kpi.product_id == product.id)
            kpis = list(session.exec(query.order_by(Product.name, Kpi.category, Kpi.name)))
            product_names = {p.id: p.name for p in session.exec(select(Product))}
        content = ReviewContent(review=review, product=product.name if product else "Portfolio", period=period,
                                compare=compare, compare_mode=review.compare, today=today, kpis=kpis)
        status = StatusService(self._db).report(product.id if product else None, today=min(today, period.end + dt.timedelta(days=1)))
        content.goals = status.evaluations
        content.attention = status.attention
        content.goal_product = dict(status.product_of_goal)
        from kpidesk.services.goal_service import GoalService

        goals_service = GoalService(self._db)
        for evaluation in status.evaluations:
            if evaluation.goal.id is not None:
                content.smart[evaluation.goal.id] = goals_service.smart_check(evaluation.goal.id)
        goal_status = {}
        for evaluation in status.evaluations:
            goal_status.setdefault(evaluation.kpi.key + "@" + status.product_of_goal.get(evaluation.goal.id or 0, ""),
                                   evaluation.status.value)
        targets = TargetService(self._db)
        # every KPI's whole history up to the period's end, in one query: the period's and the
        # comparison's values and the chart series all come from it
        rows_of = self._rows(kpis, dt.date.min, max(period.end, compare.end))
        computed = self._formula_rows([k for k in kpis if k.formula and not rows_of.get(k.id)])
        thresholds_of = targets.thresholds_many(kpis, as_of=period.end)
        for kpi in kpis:
            rows = rows_of.get(kpi.id) or computed.get(kpi.id, [])
            current = aggregate_over([r for r in rows if within(r[0], kpi.frequency, period)], kpi.aggregation,
                                     kpi.unit)
            previous = aggregate_over([r for r in rows if within(r[0], kpi.frequency, compare)], kpi.aggregation,
                                      kpi.unit)
            schedule = targets.schedule(kpi.id)
            target = period_target(schedule, kpi.aggregation, kpi.frequency, period)
            state = goal_status.get(f"{kpi.key}@{product_names[kpi.product_id]}", "")
            if not state and current is not None:
                thresholds = thresholds_of.get(kpi.id)
                state = thresholds.classify(current).value if thresholds else ""
            content.headlines.append(Headline(
                kpi.id, product_names[kpi.product_id], kpi.key, kpi.name, kpi.unit, kpi.currency, kpi.direction,
                current, previous, target, state, period.end >= today))
            content.series[kpi.id] = [(d, v) for d, v, _, _ in rows if v is not None and d <= period.end]
            content.targets[kpi.id] = schedule
        content.anomalies = _period_anomalies(kpis, content.series, period, product_names)
        if period.frequency is not None:
            try:
                content.movers = ExplainService(self._db).biggest_movers(
                    product.id if product else None, period.start,
                    compare=review.compare.replace("_", "-"),  # the explain engine spells it 'last-year'
                    frequency=period.frequency, top=movers)
            except Exception:  # an explanation that cannot be computed must not sink the pack
                import logging

                logging.getLogger(__name__).exception("explaining the movers failed")
        with self._db.session() as session:
            query = select(Annotation).where(Annotation.date >= period.start, Annotation.date <= period.end)
            if product is not None:
                query = query.where((Annotation.product_id == product.id)
                                    | Annotation.kpi_id.in_([k.id for k in kpis]))  # type: ignore[union-attr]
            content.annotations = list(session.exec(query.order_by(Annotation.date)))
            history = select(Annotation).where(Annotation.date <= period.end)
            if product is not None:
                history = history.where((Annotation.product_id == product.id)
                                        | Annotation.kpi_id.in_([k.id for k in kpis]))  # type: ignore[union-attr]
            content.chart_annotations = list(session.exec(history.order_by(Annotation.date)))
        content.items = self.items(review_id)
        content.carried_actions = [i for i in content.items if i.carried_from_id is not None and not i.done]
        content.since_last = self._since_last(review, kpis)
        return content

    def _rows(self, kpis: list[Kpi], start: dt.date, end: dt.date) -> dict[int, list[tuple[dt.date, Any, Any, Any]]]:
        out: dict[int, list[tuple[dt.date, Any, Any, Any]]] = {}
        if not kpis:
            return out
        with self._db.session() as session:
            rows = session.exec(
                select(Measurement.kpi_id, Measurement.period_start, Measurement.value, Measurement.numerator,
                       Measurement.denominator)
                .where(Measurement.kpi_id.in_([k.id for k in kpis]), Measurement.segment == "",  # type: ignore[union-attr]
                       Measurement.period_start >= start, Measurement.period_start <= end)
                .order_by(Measurement.kpi_id, Measurement.period_start))
            for kpi_id, day, value, num, den in rows:
                out.setdefault(kpi_id, []).append((day, value, num, den))
        return out

    def _formula_rows(self, kpis: list[Kpi]) -> dict[int, list[tuple[dt.date, Any, Any, Any]]]:
        """Values of formula KPIs (which store nothing), computed from their inputs at their own frequency."""
        if not kpis:
            return {}
        import math

        from kpidesk.domain.catalog import load_catalog
        from kpidesk.services.metrics_service import MetricsService

        metrics = MetricsService(self._db, load_catalog())
        out: dict[int, list[tuple[dt.date, Any, Any, Any]]] = {}
        for kpi in kpis:
            try:
                values, _flags = metrics.formula_series(kpi.id, kpi.frequency)
            except Exception:  # an input without values: the KPI simply has nothing to show
                continue
            out[kpi.id] = [(stamp.date(), float(v), None, None) for stamp, v in values.items()
                           if v is not None and math.isfinite(v)]
        return out

    def _since_last(self, review: Review, kpis: list[Kpi]) -> list[str]:
        """New data, goals, targets and imports since the previous review of the same product was created."""
        with self._db.session() as session:
            earlier = session.exec(select(Review).where(Review.product_id == review.product_id,
                                                        Review.created_at < review.created_at)
                                   .order_by(Review.created_at.desc())).first()  # type: ignore[union-attr]
            if earlier is None:
                return ["This is the first review of this product."]
            since = earlier.created_at
            ids = [k.id for k in kpis]
            values = session.exec(select(Measurement).where(Measurement.kpi_id.in_(ids),  # type: ignore[union-attr]
                                                            Measurement.updated_at > since)).all()
            goals = session.exec(select(Goal).where(Goal.kpi_id.in_(ids), Goal.created_at > since)).all()  # type: ignore[union-attr]
            targets = session.exec(select(Target).where(Target.kpi_id.in_(ids), Target.updated_at > since)).all()  # type: ignore[union-attr]
            imports = session.exec(select(ImportBatch).where(ImportBatch.created_at > since)).all()
        label = parse_review_period(earlier.period_label).label
        out = [f"Since the review of {label} ({since:%d %b %Y}):"]
        out.append(f"{len(values)} value(s) added or changed across {len({v.kpi_id for v in values})} KPI(s).")
        out.append(f"{len(goals)} new goal(s)" + (": " + "; ".join(g.statement for g in goals[:5]) if goals else "."))
        out.append(f"{len(targets)} target(s) set or changed.")
        out.append(f"{len(imports)} import(s)" + (": " + ", ".join(b.file_name for b in imports[:5]) if imports else "."))
        return out


def within(start: dt.date, frequency: str, period: ReviewPeriod) -> bool:
    """Whether a value's whole period (``start`` to the day before the next period) lies in ``period``.

    For calendar reviews this is every value stored in the period. For a custom range it keeps
    the current and the comparison range fair: in 2026-07-01..2026-09-15 a monthly KPI counts
    July and August (September runs past the 15th), and in the comparison range
    2026-04-15..2026-06-30 May and June (April starts before it) - two months against two.
    """
    if start < period.start or start > period.end:
        return False
    try:
        return next_period_start(start, frequency) - dt.timedelta(days=1) <= period.end
    except ValueError:  # an unknown frequency: judge by the start alone
        return True


def period_target(schedule: dict[dt.date, float], aggregation: str, frequency: str,
                  period: ReviewPeriod) -> float | None:
    """The target of the whole review period from a KPI's per-period target schedule.

    A target is in force from its date until the next one. For a summed KPI the
    period's target is the sum of the targets of the KPI's own periods in it
    (monthly target 650,000 visits -> a quarter's target of 3 x 650,000 =
    1,950,000); for every other aggregation it is the target in force at the
    end of the period. None when some KPI period in it has no target.
    """
    from kpidesk.domain.periods import period_start

    steps = sorted(schedule.items())
    if not steps:
        return None

    def in_force(day: dt.date) -> float | None:
        found = None
        for start, value in steps:
            if start > day:
                break
            found = value
        return found

    if aggregation != Aggregation.SUM.value:
        last = period_start(period.end, frequency)
        return in_force(last)
    total = 0.0
    day = period_start(period.start, frequency)
    if day < period.start:  # the KPI's period straddles the start: it is not wholly in the review period
        day = next_period_start(day, frequency)
    count = 0
    while next_period_start(day, frequency) - dt.timedelta(days=1) <= period.end:  # whole periods, as within()
        value = in_force(day)
        if value is None:
            return None
        total += value
        count += 1
        day = next_period_start(day, frequency)
    return total if count else None


def _period_anomalies(kpis: list[Kpi], series: dict[int, list[tuple[dt.date, float]]], period: ReviewPeriod,
                      product_names: dict[int | None, str]) -> list[Any]:
    """Every value inside the review period that the metrics engine flags as unusual.

    (The status report only judges each KPI's latest value; a review looks back over the whole period.)
    """
    try:
        import pandas as pd

        from kpidesk.domain.analytics.anomalies import detect_anomalies
        from kpidesk.domain.goals.attention import Anomaly
    except ImportError:
        return []
    found = []
    for kpi in kpis:
        points = series.get(kpi.id or -1, [])
        if len(points) < 8 or not any(period.start <= d <= period.end for d, _ in points):
            continue
        values = pd.Series([v for _, v in points], index=pd.DatetimeIndex([d for d, _ in points]))
        try:
            flagged = detect_anomalies(values, window=28 if kpi.frequency == "day" else 12, frequency=kpi.frequency)
        except Exception:  # a detector bug must not sink the pack
            import logging

            logging.getLogger(__name__).exception("anomaly detection failed for %s", kpi.key)
            continue
        for record in flagged.to_dict("records"):
            day = pd.Timestamp(record["period_start"]).date()
            if not period.start <= day <= period.end:
                continue
            expected = record.get("expected")
            expected = None if expected is None or not math.isfinite(float(expected)) else float(expected)
            side = record.get("side", "")
            note = f"{kpi.name}: {_num(float(record['value']))}" + (
                f", {side} the expected {_num(expected)}" if expected is not None else "")
            found.append(Anomaly(kpi.key, day, float(record["value"]), expected, note,
                                 product=product_names.get(kpi.product_id, "")))
    return sorted(found, key=lambda a: (a.period, a.kpi_key))


def _num(value: float) -> str:
    """39,250 / 385.1 / 0.3575: thousands separated, small values to four significant digits."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _frequency_of(review: Review) -> Frequency | None:
    """The review's period kind, recovered from its label (custom ranges have none)."""
    try:
        return parse_review_period(review.period_label).frequency
    except ValidationError:
        return None


def _anomaly_day(anomaly: Any) -> dt.date:
    for name in ("period", "day", "date", "period_start"):
        value = getattr(anomaly, name, None)
        if isinstance(value, dt.date):
            return value.date() if isinstance(value, dt.datetime) else value
    return dt.date.min

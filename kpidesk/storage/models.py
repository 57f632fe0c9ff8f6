"""The data model (DESIGN.md §2) as SQLModel tables.

Portable by construction: only types that behave the same on SQLite and
PostgreSQL (Integer, Float, String, Date, DateTime, JSON); enumerations are
strings guarded by CHECK constraints rather than native ENUM types, so a
migration never has to alter a type. Rows people edit carry ``version`` (for
optimistic concurrency in a team workspace) and ``updated_at``/``updated_by``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from kpidesk.domain.enums import (
    Aggregation,
    Category,
    Direction,
    Frequency,
    GoalKind,
    Provenance,
    ReviewItemKind,
    Stage,
    Unit,
    values,
)


def _in(column: str, enum: type) -> str:
    quoted = ", ".join(f"'{v}'" for v in values(enum))
    return f"{column} IN ({quoted})"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Audited(SQLModel):
    """Columns every editable row carries."""

    version: int = Field(default=1, nullable=False)
    created_at: dt.datetime = Field(default_factory=utcnow, nullable=False)
    updated_at: dt.datetime = Field(default_factory=utcnow, nullable=False)
    updated_by: str = Field(default="", max_length=120, nullable=False)


class Product(Audited, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True, nullable=False)
    description: str = Field(default="", nullable=False)
    archived: bool = Field(default=False, nullable=False)


class Objective(Audited, table=True):
    id: int | None = Field(default=None, primary_key=True)
    product_id: int | None = Field(default=None, foreign_key="product.id", ondelete="CASCADE")
    title: str = Field(max_length=300, nullable=False)
    description: str = Field(default="", nullable=False)
    period_start: dt.date | None = None
    period_end: dt.date | None = None


class Kpi(Audited, table=True):
    __table_args__ = (
        UniqueConstraint("product_id", "key", name="uq_kpi_product_key"),
        CheckConstraint(_in("category", Category), name="ck_kpi_category"),
        CheckConstraint(_in("stage", Stage), name="ck_kpi_stage"),
        CheckConstraint(_in("unit", Unit), name="ck_kpi_unit"),
        CheckConstraint(_in("direction", Direction), name="ck_kpi_direction"),
        CheckConstraint(_in("aggregation", Aggregation), name="ck_kpi_aggregation"),
        CheckConstraint(_in("frequency", Frequency), name="ck_kpi_frequency"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", nullable=False, index=True, ondelete="CASCADE")
    key: str = Field(max_length=80, nullable=False)
    name: str = Field(max_length=200, nullable=False)
    definition: str = Field(default="", nullable=False)
    formula_text: str = Field(default="", nullable=False)  # human formula / convention text
    category: str = Field(default=Category.CUSTOMER.value, max_length=20, nullable=False)
    stage: str = Field(default=Stage.NONE.value, max_length=20, nullable=False)
    unit: str = Field(default=Unit.COUNT.value, max_length=20, nullable=False)
    direction: str = Field(default=Direction.UP.value, max_length=10, nullable=False)
    aggregation: str = Field(default=Aggregation.SUM.value, max_length=10, nullable=False)
    frequency: str = Field(default=Frequency.MONTH.value, max_length=10, nullable=False)
    formula: str | None = Field(default=None)  # derived KPI expression over other KPI keys
    convention: str = Field(default="", nullable=False)
    catalog_key: str | None = Field(default=None, max_length=80)
    currency: str = Field(default="", max_length=8, nullable=False)
    min_value: float | None = None
    max_value: float | None = None
    band_low: float | None = None
    band_high: float | None = None
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    archived: bool = Field(default=False, nullable=False)


class ImportBatch(SQLModel, table=True):
    __tablename__ = "import_batch"
    __table_args__ = (
        CheckConstraint("status IN ('applied', 'rolled_back')", name="ck_batch_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    file_name: str = Field(max_length=500, nullable=False)
    file_path: str = Field(default="", nullable=False)
    sha256: str = Field(max_length=64, nullable=False, index=True)
    sheet: str = Field(default="", nullable=False)
    layout: str = Field(default="", max_length=20, nullable=False)
    mapping: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    product_id: int | None = Field(default=None, foreign_key="product.id", ondelete="SET NULL")
    inserted: int = Field(default=0, nullable=False)
    updated: int = Field(default=0, nullable=False)
    unchanged: int = Field(default=0, nullable=False)
    rejected: int = Field(default=0, nullable=False)
    status: str = Field(default="applied", max_length=20, nullable=False)
    created_at: dt.datetime = Field(default_factory=utcnow, nullable=False)
    created_by: str = Field(default="", max_length=120, nullable=False)
    rolled_back_at: dt.datetime | None = None


class DataSource(Audited, table=True):
    __tablename__ = "data_source"

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", nullable=False, ondelete="CASCADE")
    name: str = Field(max_length=200, nullable=False)
    path: str = Field(nullable=False)
    sheet: str = Field(default="", nullable=False)
    recipe: str = Field(max_length=40, nullable=False)
    mapping: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    conventions: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    file_hash: str = Field(default="", max_length=64, nullable=False)
    last_refresh: dt.datetime | None = None
    last_error: str = Field(default="", nullable=False)


class Measurement(Audited, table=True):
    __table_args__ = (
        UniqueConstraint("kpi_id", "period_start", "segment", name="uq_measurement_kpi_period_segment"),
        CheckConstraint(_in("frequency", Frequency), name="ck_measurement_frequency"),
        CheckConstraint(_in("source", Provenance), name="ck_measurement_source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kpi_id: int = Field(foreign_key="kpi.id", nullable=False, ondelete="CASCADE")
    period_start: dt.date = Field(nullable=False)
    frequency: str = Field(default=Frequency.MONTH.value, max_length=10, nullable=False)
    segment: str = Field(default="", max_length=200, nullable=False)  # "" = total; "kind:value"
    value: float | None = None
    numerator: float | None = None  # ratio KPIs: recomputed over longer periods
    denominator: float | None = None
    note: str = Field(default="", nullable=False)
    source: str = Field(default=Provenance.MANUAL.value, max_length=20, nullable=False)
    import_batch_id: int | None = Field(
        default=None, foreign_key="import_batch.id", index=True, ondelete="SET NULL"
    )
    data_source_id: int | None = Field(default=None, foreign_key="data_source.id", ondelete="SET NULL")


class ImportOverwrite(SQLModel, table=True):
    """What an import changed, so it can be rolled back exactly.

    ``action`` 'insert' rows are deleted on rollback; 'update' rows get their
    old value, note, numerator, denominator, source and batch back.
    """

    __tablename__ = "import_overwrite"
    __table_args__ = (CheckConstraint("action IN ('insert', 'update')", name="ck_overwrite_action"),)

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="import_batch.id", nullable=False, index=True, ondelete="CASCADE")
    kpi_id: int = Field(foreign_key="kpi.id", nullable=False, ondelete="CASCADE")
    period_start: dt.date = Field(nullable=False)
    segment: str = Field(default="", nullable=False)
    action: str = Field(max_length=10, nullable=False)
    old_value: float | None = None
    old_numerator: float | None = None
    old_denominator: float | None = None
    old_note: str = Field(default="", nullable=False)
    old_source: str = Field(default="", nullable=False)
    old_import_batch_id: int | None = None


class Target(Audited, table=True):
    __table_args__ = (UniqueConstraint("kpi_id", "period_start", "segment", name="uq_target_kpi_period"),)

    id: int | None = Field(default=None, primary_key=True)
    kpi_id: int = Field(foreign_key="kpi.id", nullable=False, index=True, ondelete="CASCADE")
    period_start: dt.date = Field(nullable=False)
    segment: str = Field(default="", max_length=200, nullable=False)
    value: float = Field(nullable=False)
    note: str = Field(default="", nullable=False)


class RagThreshold(Audited, table=True):
    """Green/amber boundaries for a KPI, effective from a date, read per its direction."""

    __tablename__ = "rag_threshold"
    __table_args__ = (UniqueConstraint("kpi_id", "effective_from", name="uq_rag_kpi_from"),)

    id: int | None = Field(default=None, primary_key=True)
    kpi_id: int = Field(foreign_key="kpi.id", nullable=False, index=True, ondelete="CASCADE")
    effective_from: dt.date = Field(nullable=False)
    green: float = Field(nullable=False)
    amber: float = Field(nullable=False)
    # for band KPIs: green inside [green, green_high], amber inside [amber, amber_high]
    green_high: float | None = None
    amber_high: float | None = None


class Goal(Audited, table=True):
    __table_args__ = (
        CheckConstraint(_in("kind", GoalKind), name="ck_goal_kind"),
        CheckConstraint("confidence IS NULL OR (confidence >= 1 AND confidence <= 10)", name="ck_goal_confidence"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kpi_id: int = Field(foreign_key="kpi.id", nullable=False, index=True, ondelete="CASCADE")
    objective_id: int | None = Field(default=None, foreign_key="objective.id", ondelete="SET NULL")
    statement: str = Field(default="", nullable=False)
    kind: str = Field(default=GoalKind.INCREASE_TO.value, max_length=20, nullable=False)
    baseline_value: float | None = None
    baseline_date: dt.date | None = None
    target_value: float | None = None
    # relative targets: "+25 %" is relative_change=25, relative_mode='percent'
    relative_change: float | None = None
    relative_mode: str = Field(default="", max_length=10, nullable=False)
    band_low: float | None = None
    band_high: float | None = None
    start_date: dt.date = Field(nullable=False)
    due_date: dt.date = Field(nullable=False)
    owner: str = Field(default="", max_length=200, nullable=False)
    rationale: str = Field(default="", nullable=False)
    confidence: int | None = None
    archived: bool = Field(default=False, nullable=False)


class Checkin(Audited, table=True):
    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="goal.id", nullable=False, index=True, ondelete="CASCADE")
    date: dt.date = Field(nullable=False)
    value: float | None = None
    confidence: int | None = None
    note: str = Field(default="", nullable=False)


class Annotation(Audited, table=True):
    id: int | None = Field(default=None, primary_key=True)
    product_id: int | None = Field(default=None, foreign_key="product.id", ondelete="CASCADE")
    kpi_id: int | None = Field(default=None, foreign_key="kpi.id", ondelete="CASCADE")
    date: dt.date = Field(nullable=False)
    text: str = Field(nullable=False)


class MappingProfile(Audited, table=True):
    __tablename__ = "mapping_profile"

    id: int | None = Field(default=None, primary_key=True)
    signature: str = Field(max_length=64, unique=True, nullable=False)
    name: str = Field(default="", nullable=False)
    layout: str = Field(default="", max_length=20, nullable=False)
    mapping: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    used_at: dt.datetime | None = None


class Review(Audited, table=True):
    __table_args__ = (CheckConstraint("compare IN ('previous', 'last_year')", name="ck_review_compare"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int | None = Field(default=None, foreign_key="product.id", ondelete="CASCADE")
    title: str = Field(default="", nullable=False)
    period_label: str = Field(max_length=40, nullable=False)
    period_start: dt.date = Field(nullable=False)
    period_end: dt.date = Field(nullable=False)
    compare: str = Field(default="previous", max_length=12, nullable=False)
    notes: str = Field(default="", nullable=False)


class ReviewItem(Audited, table=True):
    __tablename__ = "review_item"
    __table_args__ = (CheckConstraint(_in("kind", ReviewItemKind), name="ck_review_item_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", nullable=False, index=True, ondelete="CASCADE")
    kind: str = Field(max_length=10, nullable=False)
    kpi_id: int | None = Field(default=None, foreign_key="kpi.id", ondelete="SET NULL")
    text: str = Field(nullable=False)
    owner: str = Field(default="", max_length=200, nullable=False)
    due_date: dt.date | None = None
    done: bool = Field(default=False, nullable=False)
    carried_from_id: int | None = Field(default=None, foreign_key="review_item.id", ondelete="SET NULL")


Index("ix_annotation_kpi_date", Annotation.kpi_id, Annotation.date)  # type: ignore[arg-type]

ALL_TABLES = [
    Product, Objective, Kpi, ImportBatch, DataSource, Measurement, ImportOverwrite, Target,
    RagThreshold, Goal, Checkin, Annotation, MappingProfile, Review, ReviewItem,
]

"""Dated notes on a product or a KPI ("pricing change shipped")."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from kpidesk.errors import NotFoundError, ValidationError
from kpidesk.services.changes import Changes
from kpidesk.storage.db import Database
from kpidesk.storage.models import Annotation


class AnnotationService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, day: dt.date, text: str, *, kpi_id: int | None = None,
            product_id: int | None = None) -> tuple[Annotation, Changes]:
        self._db.require_writable()
        if not text.strip():
            raise ValidationError("An annotation needs some text.")
        if kpi_id is None and product_id is None:
            raise ValidationError("An annotation belongs to a product or a KPI.")
        with self._db.session() as session:
            note = Annotation(date=day, text=text.strip(), kpi_id=kpi_id, product_id=product_id,
                              updated_by=self._db.user)
            session.add(note)
            session.commit()
            session.refresh(note)
        return note, Changes.of("annotation", kpi_ids={kpi_id} if kpi_id else None, message="Annotation added.")

    def delete(self, annotation_id: int) -> Changes:
        self._db.require_writable()
        with self._db.session() as session:
            note = session.get(Annotation, annotation_id)
            if note is None:
                raise NotFoundError(f"Annotation #{annotation_id} does not exist.")
            session.delete(note)
            session.commit()
        return Changes.of("annotation", message="Annotation deleted.")

    def list(self, *, kpi_id: int | None = None, product_id: int | None = None,
             start: dt.date | None = None, end: dt.date | None = None) -> list[Annotation]:
        """Annotations of a KPI (and of its product when ``product_id`` is given too)."""
        with self._db.session() as session:
            query = select(Annotation).order_by(Annotation.date)
            if kpi_id is not None and product_id is not None:
                query = query.where((Annotation.kpi_id == kpi_id)
                                    | ((Annotation.product_id == product_id) & (Annotation.kpi_id.is_(None))))  # type: ignore[union-attr]
            elif kpi_id is not None:
                query = query.where(Annotation.kpi_id == kpi_id)
            elif product_id is not None:
                query = query.where(Annotation.product_id == product_id)
            if start is not None:
                query = query.where(Annotation.date >= start)
            if end is not None:
                query = query.where(Annotation.date <= end)
            return list(session.exec(query))

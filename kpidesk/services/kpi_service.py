"""KPIs of a product: add from the catalog or as custom, edit, list, resolve."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from kpidesk.domain.catalog import Catalog
from kpidesk.domain.enums import Aggregation, Category, Direction, Frequency, Stage, Unit
from kpidesk.errors import NotFoundError, ValidationError
from kpidesk.services.changes import Changes
from kpidesk.services.product_service import ProductService
from kpidesk.storage.db import Database
from kpidesk.storage.models import Kpi, Product, utcnow

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,79}$")
_ENUM_FIELDS: dict[str, type] = {
    "category": Category, "stage": Stage, "unit": Unit, "direction": Direction,
    "aggregation": Aggregation, "frequency": Frequency,
}
EDITABLE = {"name", "definition", "formula_text", "category", "stage", "unit", "direction", "aggregation",
            "frequency", "formula", "convention", "currency", "min_value", "max_value", "band_low",
            "band_high", "aliases", "archived"}


def slug(text: str) -> str:
    """A KPI key from a name: 'Net Promoter Score' -> 'net_promoter_score', 'Ümsatz' -> 'umsatz'.

    Accents are folded to their base letter (keys are ASCII so formulas can name
    them); a name with no Latin letter or digit at all (日本語) gives 'kpi'.
    """
    import unicodedata

    folded = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode("ascii")
    key = re.sub(r"[^a-z0-9]+", "_", folded).strip("_")
    if not key:
        return "kpi"
    if not key[0].isalpha():
        key = f"kpi_{key}"
    return key[:80]


class KpiService:
    def __init__(self, db: Database, catalog: Catalog) -> None:
        self._db = db
        self._catalog = catalog
        self._products = ProductService(db)

    @property
    def catalog(self) -> Catalog:
        return self._catalog

    def add_from_catalog(self, product: str | int, catalog_key: str, **overrides: Any) -> tuple[Kpi, Changes]:
        """Copy a catalog entry onto a product; ``overrides`` edit the copy (e.g. convention)."""
        entry = self._catalog.get(catalog_key)
        fields: dict[str, Any] = {
            "key": entry.key, "name": entry.name, "definition": entry.definition,
            "formula_text": entry.formula, "category": entry.category.value, "stage": entry.stage.value,
            "unit": entry.unit.value, "direction": entry.direction.value,
            "aggregation": entry.aggregation.value, "frequency": entry.frequency.value,
            "formula": entry.derived, "convention": entry.default_convention, "catalog_key": entry.key,
            "min_value": entry.min_value, "max_value": entry.max_value, "aliases": list(entry.aliases),
        }
        fields.update({k: v for k, v in overrides.items() if v is not None})
        return self._insert(product, fields)

    def add_custom(self, product: str | int, name: str, *, key: str | None = None, unit: str = "count",
                   direction: str = "up", aggregation: str = "sum", frequency: str = "month",
                   category: str = "customer", stage: str = "none", **extra: Any) -> tuple[Kpi, Changes]:
        if key is None and slug(name) == "kpi":
            # nothing of the name survives in a key (日本語): number it so a second one fits too
            taken = {k.key for k in self.list(product)}
            key = next(c for c in ("kpi", *(f"kpi_{n}" for n in range(2, 10_000))) if c not in taken)
        fields = {"key": key or slug(name), "name": name.strip(), "unit": unit, "direction": direction,
                  "aggregation": aggregation, "frequency": frequency, "category": category, "stage": stage,
                  **extra}
        return self._insert(product, fields)

    def _validate(self, fields: dict[str, Any]) -> None:
        for name, enum in _ENUM_FIELDS.items():
            if name in fields:
                try:
                    fields[name] = enum(fields[name]).value
                except ValueError:
                    allowed = ", ".join(m.value for m in enum)
                    raise ValidationError(f"'{fields[name]}' is not a valid {name}; use one of: {allowed}.") from None
        if "name" in fields and not str(fields["name"]).strip():
            raise ValidationError("A KPI needs a name.")
        low, high = fields.get("min_value"), fields.get("max_value")
        if low is not None and high is not None and low > high:
            raise ValidationError(f"The lowest allowed value ({low}) is above the highest ({high}).")

    def _insert(self, product: str | int, fields: dict[str, Any]) -> tuple[Kpi, Changes]:
        self._db.require_writable()
        owner = self._products.get(product)
        key = fields.get("key", "")
        if not _KEY.match(key or ""):
            raise ValidationError(
                f"'{key}' is not a valid KPI key: use lower-case letters, digits and _ (starting with a letter)."
            )
        self._validate(fields)
        with self._db.session() as session:
            kpi = Kpi(product_id=owner.id, updated_by=self._db.user, **fields)
            session.add(kpi)
            try:
                session.commit()
            except IntegrityError:
                raise ValidationError(f"{owner.name} already has a KPI with the key '{key}'.") from None
            session.refresh(kpi)
        return kpi, Changes.of("kpi", kpi_ids={kpi.id}, message=f"Added {kpi.name} to {owner.name}.")

    def update(self, kpi_id: int, *, expected_version: int | None = None, **fields: Any) -> tuple[Kpi, Changes]:
        self._db.require_writable()
        unknown = set(fields) - EDITABLE
        if unknown:
            raise ValidationError(f"These KPI fields cannot be edited: {', '.join(sorted(unknown))}.")
        self._validate(fields)
        with self._db.session() as session:
            kpi = session.get(Kpi, kpi_id)
            if kpi is None:
                raise NotFoundError(f"KPI #{kpi_id} does not exist.")
            if expected_version is not None and kpi.version != expected_version:
                from kpidesk.errors import ConflictError

                raise ConflictError(
                    f"{kpi.name} was changed by {kpi.updated_by or 'someone'} at {kpi.updated_at:%Y-%m-%d %H:%M}; "
                    "reload it before saving."
                )
            for key, value in fields.items():
                setattr(kpi, key, value)
            kpi.version += 1
            kpi.updated_at = utcnow()
            kpi.updated_by = self._db.user
            session.commit()
            session.refresh(kpi)
        return kpi, Changes.of("kpi", kpi_ids={kpi_id}, message=f"Updated {kpi.name}.")

    def get(self, kpi_id: int) -> Kpi:
        with self._db.session() as session:
            kpi = session.get(Kpi, kpi_id)
            if kpi is None:
                raise NotFoundError(f"KPI #{kpi_id} does not exist.")
            return kpi

    def list(self, product: str | int | None = None, *, include_archived: bool = False) -> list[Kpi]:
        with self._db.session() as session:
            query = select(Kpi).join(Product).order_by(Product.name, Kpi.category, Kpi.name)
            if product is not None:
                query = query.where(Kpi.product_id == self._products.get(product).id)
            if not include_archived:
                query = query.where(Kpi.archived == False, Product.archived == False)  # noqa: E712
            return list(session.exec(query))

    def resolve(self, ref: str | int, product: str | int | None = None) -> Kpi:
        """Find a KPI by id, key, name or alias; 'Product/key' picks the product.

        An ambiguous key (several products have it) is an error that lists them.
        """
        if isinstance(ref, int) or str(ref).isdigit():
            return self.get(int(ref))
        text = str(ref).strip()
        if product is None and "/" in text:
            product, text = (part.strip() for part in text.rsplit("/", 1))
        wanted = text.casefold()
        candidates = [k for k in self.list(product, include_archived=True)
                      if wanted in {k.key, k.name.casefold(), *(a.casefold() for a in k.aliases)}]
        exact = [k for k in candidates if k.key == text]
        candidates = exact or candidates
        if not candidates:
            where = f" in {self._products.get(product).name}" if product is not None else ""
            raise NotFoundError(f"There is no KPI '{ref}'{where}; see 'kpidesk kpi list'.")
        if len(candidates) > 1:
            with self._db.session() as session:
                names = sorted(f"{session.get(Product, k.product_id).name}/{k.key}" for k in candidates)  # type: ignore[union-attr]
            raise ValidationError(f"'{ref}' is ambiguous; say which one: {', '.join(names)}.")
        return candidates[0]

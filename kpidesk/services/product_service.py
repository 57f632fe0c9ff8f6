"""Products of the portfolio: create, rename, archive, list."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from kpidesk.errors import NotFoundError, ValidationError
from kpidesk.services.changes import Changes
from kpidesk.storage.db import Database
from kpidesk.storage.models import Product, utcnow


class ProductService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, name: str, description: str = "") -> tuple[Product, Changes]:
        self._db.require_writable()
        name = name.strip()
        if not name:
            raise ValidationError("A product needs a name.")
        if len(name) > 200:
            raise ValidationError("A product name can be at most 200 characters.")
        with self._db.session() as session:
            product = Product(name=name, description=description, updated_by=self._db.user)
            session.add(product)
            try:
                session.commit()
            except IntegrityError:
                raise ValidationError(f"A product named '{name}' already exists.") from None
            session.refresh(product)
        return product, Changes.of("product", message=f"Created product {name}.")

    def list(self, *, include_archived: bool = False) -> list[Product]:
        with self._db.session() as session:
            query = select(Product).order_by(Product.name)
            if not include_archived:
                query = query.where(Product.archived == False)  # noqa: E712
            return list(session.exec(query))

    def get(self, ref: str | int) -> Product:
        """A product by id or (case-insensitive) name."""
        with self._db.session() as session:
            if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
                product = session.get(Product, int(ref))
            else:
                product = next(iter(session.exec(select(Product).where(Product.name == ref.strip()))), None)
                if product is None:
                    wanted = ref.strip().casefold()
                    product = next((p for p in session.exec(select(Product)) if p.name.casefold() == wanted), None)
            if product is None:
                raise NotFoundError(f"There is no product '{ref}'; see 'kpidesk product list'.")
            return product

    def rename(self, ref: str | int, new_name: str) -> tuple[Product, Changes]:
        return self._update(ref, name=new_name.strip())

    def archive(self, ref: str | int, archived: bool = True) -> tuple[Product, Changes]:
        return self._update(ref, archived=archived)

    def _update(self, ref: str | int, **fields: object) -> tuple[Product, Changes]:
        self._db.require_writable()
        if "name" in fields and not fields["name"]:
            raise ValidationError("A product needs a name.")
        product_id = self.get(ref).id
        with self._db.session() as session:
            product = session.get(Product, product_id)
            assert product is not None
            for key, value in fields.items():
                setattr(product, key, value)
            product.version += 1
            product.updated_at = utcnow()
            product.updated_by = self._db.user
            try:
                session.commit()
            except IntegrityError:
                raise ValidationError(f"A product named '{fields.get('name')}' already exists.") from None
            session.refresh(product)
        return product, Changes.of("product", message=f"Updated product {product.name}.")

"""The services of one open workspace, built together (the composition used by CLI and GUI)."""

from __future__ import annotations

from pathlib import Path

from kpidesk.domain.catalog import Catalog, load_catalog
from kpidesk.services.annotation_service import AnnotationService
from kpidesk.services.kpi_service import KpiService
from kpidesk.services.measurement_service import MeasurementService
from kpidesk.services.product_service import ProductService
from kpidesk.storage.db import Database, open_database


class Workspace:
    """An open database plus the core services over it. Other services
    (goals, imports, reviews, ...) take ``workspace.db`` in their constructor."""

    def __init__(self, db: Database, catalog: Catalog | None = None) -> None:
        self.db = db
        self.catalog = catalog or load_catalog()
        self.products = ProductService(db)
        self.kpis = KpiService(db, self.catalog)
        self.measurements = MeasurementService(db)
        self.annotations = AnnotationService(db)

    @classmethod
    def open(cls, target: str | Path, *, read_only: bool = False, backup_dir: Path | None = None) -> Workspace:
        return cls(open_database(target, read_only=read_only, backup_dir=backup_dir))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

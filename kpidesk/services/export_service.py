"""Exporting a selection of KPI values to .xlsx or .csv (see :mod:`kpidesk.io.export`)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpidesk.errors import ValidationError
from kpidesk.progress import Progress, check_cancelled
from kpidesk.services.kpi_service import KpiService
from kpidesk.services.product_service import ProductService
from kpidesk.storage.db import Database
from kpidesk.storage.measurements import param_style

if TYPE_CHECKING:
    import pandas as pd

FORMATS = {".xlsx": "xlsx", ".csv": "csv", ".tsv": "csv", ".txt": "csv"}


@dataclass(frozen=True)
class ExportSelection:
    """What to export; empty sequences / None mean "all".

    ``products`` and ``kpis`` take names, keys or ids (a KPI may be
    "Product/key"); ``start``/``end`` bound ``period_start`` inclusively;
    ``segments`` lists segment values ("" is the total).
    """

    products: Sequence[str | int] = ()
    kpis: Sequence[str | int] = ()
    start: dt.date | None = None
    end: dt.date | None = None
    segments: Sequence[str] | None = None
    include_archived: bool = False


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    message: str


class ExportService:
    def __init__(self, db: Database, kpis: KpiService) -> None:
        self._db = db
        self._kpis = kpis
        self._products = ProductService(db)

    def frame(self, selection: ExportSelection | None = None) -> pd.DataFrame:
        """The selected values, one row each, sorted by product, KPI name, segment, period.

        Columns: product, kpi_id, kpi_key, kpi_name, unit, frequency,
        period_start (date), segment, value, note.
        """
        import pandas as pd

        selection = selection or ExportSelection()
        with self._db.raw() as con:
            p = param_style(con)
            sql = ("SELECT pr.name, k.id, k.key, k.name, k.unit, m.frequency, m.period_start, m.segment, m.value,"
                   " m.note FROM measurement m JOIN kpi k ON k.id = m.kpi_id JOIN product pr ON pr.id = k.product_id"
                   " WHERE 1 = 1")
            params: list[Any] = []
            if selection.products:
                ids = [self._products.get(ref).id for ref in selection.products]
                sql += f" AND pr.id IN ({', '.join([p] * len(ids))})"
                params += ids
            if selection.kpis:
                ids = [kpi.id for kpi in self._named_kpis(selection)]
                sql += f" AND k.id IN ({', '.join([p] * len(ids))})"
                params += ids
            if selection.start is not None:
                sql += f" AND m.period_start >= {p}"
                params.append(selection.start.isoformat())
            if selection.end is not None:
                sql += f" AND m.period_start <= {p}"
                params.append(selection.end.isoformat())
            if selection.segments is not None:
                sql += f" AND m.segment IN ({', '.join([p] * len(selection.segments))})"
                params += list(selection.segments)
            if not selection.include_archived and not selection.products and not selection.kpis:
                sql += " AND k.archived = 0 AND pr.archived = 0" if self._db.is_sqlite \
                    else " AND NOT k.archived AND NOT pr.archived"
            cur = con.cursor()
            cur.execute(sql, params)
            rows = cur.fetchall()
            cur.close()
        columns = ["product", "kpi_id", "kpi_key", "kpi_name", "unit", "frequency", "period_start", "segment",
                   "value", "note"]
        frame = pd.DataFrame.from_records(rows, columns=columns)
        frame["period_start"] = pd.to_datetime(frame["period_start"].astype(str).str.slice(0, 10)).dt.date
        frame["value"] = pd.to_numeric(frame["value"]).astype("float64")
        frame["note"] = frame["note"].fillna("")
        return frame.sort_values(["product", "kpi_name", "kpi_key", "segment", "period_start"],
                                 kind="stable").reset_index(drop=True)

    def export(self, target: str | os.PathLike[str], selection: ExportSelection | None = None, *,
               sheet_per_product: bool = False, progress: Progress | None = None) -> ExportResult:
        """Write the selection to ``target`` (.xlsx or .csv by its extension), atomically."""
        from kpidesk.io import export as writer

        path = Path(target)
        kind = FORMATS.get(path.suffix.lower())
        if kind is None:
            raise ValidationError(f"Cannot export to {path.name}: use a .xlsx or .csv file name.")
        check_cancelled(progress)
        frame = self.frame(selection)
        check_cancelled(progress)
        if kind == "xlsx":
            writer.write_xlsx(frame, path, sheet_per_product=sheet_per_product)
        else:
            writer.write_csv(frame, path, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        if progress is not None:
            progress.report(1.0, f"Wrote {path.name}")
        kpis = frame["kpi_id"].nunique()
        message = f"Exported {len(frame):,} value(s) of {kpis} KPI(s) to {path}."
        computed = self.computed_kpis(selection)
        if computed:
            names = ", ".join(computed[:5]) + (f" and {len(computed) - 5} more" if len(computed) > 5 else "")
            message += (f" Not in the file: {names}, computed from other KPIs rather than stored"
                        " (the review pack shows them).")
        return ExportResult(path, len(frame), message)

    def computed_kpis(self, selection: ExportSelection | None = None) -> list[str]:
        """Names of the selected formula KPIs: they have no stored values, so an export leaves them out.

        The export holds stored values only, which is what makes export → import
        the identity; a formula KPI (LTV:CAC, stickiness) is computed from its
        inputs wherever it is shown.
        """
        selection = selection or ExportSelection()
        if selection.kpis:
            chosen = self._named_kpis(selection)
        elif selection.products:
            chosen = [k for ref in selection.products
                      for k in self._kpis.list(ref, include_archived=selection.include_archived)]
        else:
            chosen = self._kpis.list(include_archived=selection.include_archived)
        return [k.name for k in chosen if k.formula]

    def _named_kpis(self, selection: ExportSelection) -> list[Any]:
        """The KPIs ``selection.kpis`` names (within its product when it names exactly one)."""
        product = selection.products[0] if len(selection.products) == 1 else None
        return [self._kpis.resolve(ref, product) for ref in selection.kpis]

"""Importing spreadsheets: read → records → mapping → plan (dry run) → one-transaction write → rollback.

The GUI wizard and ``kpidesk import`` drive the same calls::

    service = ImportService(workspace.db, workspace.catalog)
    plan = service.plan("tracker.xlsx", product="Acme")        # nothing written
    plan = service.replan(plan, {"Sign ups": decision})        # user edits the mapping
    result = service.apply(plan)                               # one transaction
    service.rollback(result.batch_id)                          # exact undo

The write (:meth:`ImportService.apply`) is one database transaction holding
the KPIs and products the import creates, the ``import_batch`` record (file
name, SHA-256, sheets, mapping, counts), one ``import_overwrite`` row per value
it replaced (old value, note, numerator, denominator, source, batch), and the
upserts. A crash or a kill at any moment leaves all of it or none of it.

Rollback puts every replaced value back from ``import_overwrite`` and deletes
the values the batch inserted (rows still carrying its ``import_batch_id``
and ``source = 'import'``: a value someone re-recorded by hand afterwards is
kept). KPIs and products the import created are removed when nothing else
uses them. A batch whose values a later import replaced is refused until
that later batch is rolled back: undo happens newest first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from kpidesk.domain.catalog import Catalog, load_catalog
from kpidesk.domain.enums import Provenance
from kpidesk.errors import NotFoundError, ValidationError
from kpidesk.io.mapping import (
    CATALOG,
    CUSTOM,
    IGNORE,
    KpiRef,
    LabelDecision,
    decisions_from_json,
    decisions_to_json,
    guess_unit,
    header_signature,
    suggest,
)
from kpidesk.io.plan import (
    INSERT,
    UNCHANGED,
    UPDATE,
    ImportPlan,
    NewKpi,
    TargetKpi,
    build_plan,
    standardise_records,
)
from kpidesk.progress import Progress, check_cancelled
from kpidesk.services.changes import Changes
from kpidesk.storage.db import Database
from kpidesk.storage.measurements import param_style, upsert_values
from kpidesk.storage.models import Kpi, Product, utcnow

if TYPE_CHECKING:
    import pandas as pd

WRITE_CHUNK = 50_000  # rows per upsert call between progress reports / cancel checks


@dataclass(frozen=True)
class BatchInfo:
    """One row of ``kpidesk imports list``."""

    id: int
    file_name: str
    sha256: str
    sheet: str
    layout: str
    product: str
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    status: str
    created_at: dt.datetime | str
    created_by: str
    rolled_back_at: dt.datetime | str | None


@dataclass(frozen=True)
class ImportResult:
    """What :meth:`ImportService.apply` did. ``batch_id`` is None when nothing changed."""

    batch_id: int | None
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    message: str
    changes: Changes = field(default_factory=Changes)


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _now_sql(dbapi: Any) -> Any:
    now = dt.datetime.now(dt.UTC)
    if param_style(dbapi) == "?":  # SQLite keeps UTC as naive text, as SQLAlchemy's DateTime does
        return now.replace(tzinfo=None).isoformat(sep=" ")
    return now


def _sql_value(dbapi: Any, value: Any) -> Any:
    sqlite = param_style(dbapi) == "?"
    if isinstance(value, list | dict):
        return json.dumps(value)
    if sqlite and isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if sqlite and isinstance(value, dt.date):
        return value.isoformat()
    if sqlite and isinstance(value, bool):
        return int(value)
    return value


def _insert_row(dbapi: Any, table: str, fields: Mapping[str, Any]) -> int:
    """INSERT one row on the raw connection (inside the caller's transaction); its new id."""
    p = param_style(dbapi)
    names = [k for k in fields if k != "id"]
    sql = (f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join([p] * len(names))}) RETURNING id")
    cur = dbapi.cursor()
    cur.execute(sql, [_sql_value(dbapi, fields[k]) for k in names])
    new_id = int(cur.fetchone()[0])
    cur.close()
    return new_id


class ImportService:
    def __init__(self, db: Database, catalog: Catalog | None = None) -> None:
        self._db = db
        self._catalog = catalog or load_catalog()

    # -- reading ----------------------------------------------------------------
    @staticmethod
    def prepare_reading(path: str | os.PathLike[str]) -> None:
        """Boot the sandboxed reader's child for ``path`` now, ahead of :meth:`plan`.

        ``kpidesk import`` calls this before it opens the workspace so the child's
        start-up (~0.1 s) overlaps that instead of delaying the read
        (:func:`kpidesk.io.sandbox.prestart`). Small text files are split in this
        process anyway, so they get no child.
        """
        from kpidesk.io.preflight import TEXT_EXTENSIONS, Limits
        from kpidesk.io.sandbox import prestart

        is_text = os.path.splitext(os.fspath(path))[1].lower() in TEXT_EXTENSIONS
        try:
            size = os.path.getsize(path)
        except OSError:
            return  # plan() reports the missing file
        if is_text and size <= Limits().inprocess_text_bytes:
            return
        prestart(("pandas",) if is_text else ())

    def read_records(self, path: str | os.PathLike[str], *, sheets: Sequence[str] | None = None,
                     layout: str | None = None, progress: Progress | None = None, sandbox: bool = True,
                     overrides: Mapping[str, Any] | None = None,
                     year: int | None = None) -> tuple[pd.DataFrame, str, list[str]]:
        """(records, layout kind, warnings) of a file via :mod:`kpidesk.io` (reader → layout → records).

        Without ``sheets`` every sheet whose layout is recognised is read; sheets
        that are empty or unrecognised are skipped with a warning. ``layout``
        forces the kind on every sheet; ``year`` places period headers without
        a year ("Jan", "Q3"); ``overrides`` maps a sheet name to a
        :class:`kpidesk.io.layout.LayoutOverride` (the wizard's column choices).
        """
        from kpidesk.io.reader import read_workbook

        workbook = read_workbook(path, sheets=list(sheets) if sheets else None, progress=progress,
                                 sandbox=sandbox)
        layouts, warnings = self.detect_layouts(workbook, layout=layout, year=year, overrides=overrides,
                                                strict=bool(sheets), progress=progress)
        records, kind, more = self.build_records(workbook, layouts)
        return records, kind, [*workbook.warnings, *warnings, *more]

    def detect_layouts(self, workbook: Any, *, layout: str | None = None, year: int | None = None,
                       overrides: Mapping[str, Any] | None = None, strict: bool = False,
                       progress: Progress | None = None) -> tuple[dict[str, Any], list[str]]:
        """The layout of every readable sheet ({sheet name: Layout}, warnings).

        A sheet whose first row is kpidesk's own export header gets exact columns
        (see :func:`_own_export_layout`). An unrecognised sheet is skipped with a
        warning, or refused when ``strict`` (the user named it) or when it is the only one.
        """
        from kpidesk.io.errors import FileProblem
        from kpidesk.io.layout import UNKNOWN, LayoutOverride, detect_layout

        layouts: dict[str, Any] = {}
        warnings: list[str] = []
        for grid in workbook.sheets:
            check_cancelled(progress)
            override = (overrides or {}).get(grid.name) or LayoutOverride(kind=layout, year=year)
            if _is_own_export(grid) and grid.name not in (overrides or {}):
                override = _own_export_layout()
            found = detect_layout(grid, override)
            warnings.extend(grid.warnings)
            if found.kind == UNKNOWN:
                if strict or len(workbook.sheets) == 1:
                    raise FileProblem(workbook.path, f"the layout of sheet {grid.name!r} was not recognised "
                                      f"({found.reason}); choose --layout long, wide or rows.", kind="layout")
                warnings.append(f"Sheet {grid.name!r} was skipped: {found.reason}.")
                continue
            warnings.extend(found.notes)
            layouts[grid.name] = found
        return layouts, warnings

    def build_records(self, workbook: Any, layouts: Mapping[str, Any]) -> tuple[pd.DataFrame, str, list[str]]:
        """(records, layout kind, warnings) of the given sheets under their layouts.

        The GUI wizard calls this after the user confirmed the layouts. On top of
        :func:`kpidesk.io.records.to_records`: kpidesk's own exports keep every row
        (a KPI called "Total revenue" is not a totals row); when several sheets
        hold the same KPIs for the same periods and have no segment column, each
        sheet's values get the segment ``sheet:<name>`` so they do not collide;
        a csv file's texts lose the export's anti-formula apostrophe
        (:func:`kpidesk.io.export.unescape_csv_text`).
        """
        import pandas as pd

        from kpidesk.io.errors import FileProblem
        from kpidesk.io.export import unescape_csv_text
        from kpidesk.io.records import to_records

        warnings: list[str] = []
        parts: list[pd.DataFrame] = []
        kinds: list[str] = []
        for name, found in layouts.items():
            grid = workbook.sheet(name)
            frame = to_records(grid, found, workbook.path)
            if _is_own_export(grid):
                frame["skip"] = ""
            if len(frame):
                parts.append(frame)
                kinds.append(found.kind)
        if not parts:
            raise FileProblem(workbook.path, "no sheet holds KPI values kpidesk can read "
                              "(every sheet is empty or has no period and value columns).", kind="empty")
        records = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        if len(parts) > 1:
            no_segment = records["segment"].fillna("") == ""
            key = ["product", "kpi_label", "period_start", "frequency"]  # one sheet per product is no clash
            cells = records.loc[no_segment, ["sheet", *key]].drop_duplicates()
            if bool(cells.duplicated(key).any()):
                records.loc[no_segment, "segment"] = "sheet:" + records.loc[no_segment, "sheet"].astype(str)
                warnings.append("Several sheets hold the same KPIs, so each sheet's values are kept apart "
                                "as the segment sheet:<sheet name>.")
        if workbook.format == "csv":
            for column in ("kpi_label", "segment", "note", "product"):
                # once per distinct text: a 200,000-row file has a handful of labels
                codes, uniques = pd.factorize(records[column], use_na_sentinel=False)
                fixed = [unescape_csv_text(t) if isinstance(t, str) and t.startswith("'") else t for t in uniques]
                if any(a is not b for a, b in zip(fixed, uniques, strict=True)):
                    records[column] = pd.Series(fixed, dtype=object).to_numpy()[codes]
        kind = kinds[0] if len(set(kinds)) == 1 else "mixed"
        return records, kind, warnings

    # -- planning -----------------------------------------------------------------
    def plan(self, path: str | os.PathLike[str], *, product: str | int | None = None,
             sheets: Sequence[str] | None = None, layout: str | None = None,
             decisions: Mapping[str, LabelDecision] | None = None, progress: Progress | None = None,
             sandbox: bool = True, overrides: Mapping[str, Any] | None = None,
             year: int | None = None) -> ImportPlan:
        """The dry run of importing ``path`` (nothing is written)."""
        path = os.fspath(path)
        if not os.path.exists(path):
            raise NotFoundError(f"There is no file {path}.")
        records, found_layout, warnings = self.read_records(path, sheets=sheets, layout=layout,
                                                            progress=progress, sandbox=sandbox,
                                                            overrides=overrides, year=year)
        check_cancelled(progress)
        plan = self.plan_records(records, product=product, file_name=os.path.basename(path), file_path=path,
                                 sha256=file_sha256(path), layout=found_layout, decisions=decisions)
        plan.warnings[:0] = warnings
        plan.read_options = {"sheets": list(sheets) if sheets else None, "layout": layout, "year": year,
                             "sandbox": sandbox, "overrides": dict(overrides or {})}
        return plan

    def replan(self, plan: ImportPlan, decisions: Mapping[str, LabelDecision],
               records: pd.DataFrame | None = None) -> ImportPlan:
        """The same file planned again with some label decisions changed by the user."""
        merged = {**plan.decisions, **{label: _as_user(d) for label, d in decisions.items()}}
        if records is None:
            return self.plan(plan.file_path, product=plan.default_product or None, decisions=merged,
                             **plan.read_options)
        return self.plan_records(records, product=plan.default_product or None, file_name=plan.file_name,
                                 file_path=plan.file_path, sha256=plan.sha256, layout=plan.layout,
                                 decisions=merged)

    def plan_records(self, records: pd.DataFrame, *, product: str | int | None = None, file_name: str = "",
                     file_path: str = "", sha256: str = "", layout: str = "",
                     decisions: Mapping[str, LabelDecision] | None = None) -> ImportPlan:
        """Plan from an already-read records table (see :mod:`kpidesk.io.plan` for its columns)."""
        rec = standardise_records(records)
        products = self._products()
        by_name = {p.name.casefold(): p for p in products}
        default_name, new_products = self._default_product(product, rec, products)
        if default_name and default_name.casefold() not in by_name and default_name not in new_products:
            new_products.append(default_name)
        named = [p for p in dict.fromkeys(rec["product"].tolist()) if p]
        canonical: dict[str, str] = {}
        for name in named:
            hit = by_name.get(name.strip().casefold())
            canonical[name] = hit.name if hit else name.strip()
            if hit is None and name.strip() not in new_products:
                new_products.append(name.strip())
        if canonical:
            rec["product"] = rec["product"].map(lambda p: canonical.get(p, p))
        involved = list(dict.fromkeys([default_name, *canonical.values()])) if default_name \
            else list(dict.fromkeys(canonical.values()))
        product_ids = {name: by_name[name.casefold()].id for name in involved if name.casefold() in by_name}
        kpis = self._kpis(list(product_ids.values()))
        refs = [KpiRef(k.key, k.name, tuple(k.aliases), k.unit) for k in kpis]
        catalog_refs = [KpiRef(e.key, e.name, e.aliases, e.unit.value) for e in self._catalog]

        labels = [x for x in dict.fromkeys(rec["kpi_label"].tolist()) if x]
        signature = header_signature(labels, layout)
        remembered = self._remembered(signature)
        suggested = suggest(labels, refs, catalog_refs, remembered=remembered)
        # Units and frequencies are only guessed for labels that become new custom KPIs.
        fresh = [label for label, d in suggested.items() if d.action == CUSTOM and d.matched_by == "new"]
        fresh_rows = rec[rec["kpi_label"].isin(fresh)] if fresh else rec.iloc[:0]
        for label, unit in _guess_units(fresh_rows).items():
            suggested[label] = replace(suggested[label], unit=unit)
        for label, decision in (decisions or {}).items():
            if label in suggested:
                suggested[label] = decision
        raw_reason = _raw_data_reason(rec, suggested)
        if raw_reason:
            # Raw records (transactions, survey answers) would become hundreds of junk KPIs or
            # thousands of clashing values: create nothing unless the user maps labels explicitly.
            for label, decision in suggested.items():
                if decision.action in (CATALOG, CUSTOM) and decision.matched_by not in ("user", "remembered"):
                    suggested[label] = replace(decision, action=IGNORE, note="raw records: not created")

        # Targets: every (product, key) pair the records reach.
        targets: dict[tuple[str, str], TargetKpi] = {}
        new_kpis: list[NewKpi] = []
        kpi_by_pk = {(k.product_id, k.key): k for k in kpis}
        label_freq = _label_frequencies(rec[rec["kpi_label"].isin(
            [label for label, d in suggested.items() if d.action == CUSTOM])])
        pairs = rec[["product", "kpi_label"]].drop_duplicates()
        for product_name, label in pairs.itertuples(index=False):
            decision = suggested.get(label)
            if decision is None or decision.action == IGNORE:
                continue
            owner = product_name or default_name
            if not owner:
                continue
            key = decision.kpi_key
            if (owner, key) in targets:
                continue
            existing = kpi_by_pk.get((product_ids.get(owner), key))
            if existing is not None:
                targets[(owner, key)] = TargetKpi(existing.id, owner, key, existing.name, existing.unit,
                                                  existing.frequency, existing.min_value, existing.max_value)
            elif decision.action in (CATALOG, CUSTOM):
                placeholder = -(len(new_kpis) + 1)
                if decision.action == CATALOG:
                    entry = self._catalog.get(decision.catalog_key)
                    new = NewKpi(placeholder, owner, key, entry.name, entry.unit.value, entry.frequency.value,
                                 entry.key)
                    low, high = entry.min_value, entry.max_value
                else:
                    freq = label_freq.get(label, "month")
                    new = NewKpi(placeholder, owner, key, decision.kpi_name or label, decision.unit, freq)
                    low = high = None
                new_kpis.append(new)
                targets[(owner, key)] = TargetKpi(placeholder, owner, key, new.name, new.unit, new.frequency,
                                                  low, high)
        real_ids = [t.kpi_id for t in targets.values() if t.kpi_id > 0]
        existing = self._existing(real_ids)
        plan = build_plan(rec, suggested, targets, existing, default_product=default_name,
                          file_name=file_name, file_path=file_path, sha256=sha256, layout=layout,
                          new_products=new_products, new_kpis=new_kpis, standardised=True)
        used_products = set(plan.values["product"].tolist()) if len(plan.values) else set()
        plan.new_products = [p for p in new_products if p in used_products]
        plan.signature = signature
        plan.already_imported = self._batches_with_hash(sha256) if sha256 else []
        if not default_name and not named:
            plan.warnings.append("No product was given; choose the product these values belong to.")
        if raw_reason:
            plan.warnings.append(raw_reason)
        return plan

    def _default_product(self, product: str | int | None, rec: pd.DataFrame,
                         products: list[Product]) -> tuple[str, list[str]]:
        if product is not None and str(product).strip():
            ref = str(product).strip()
            for p in products:
                if (ref.isdigit() and p.id == int(ref)) or p.name.casefold() == ref.casefold():
                    return p.name, []
            if ref.isdigit():
                raise NotFoundError(f"There is no product #{ref}; see 'kpidesk product list'.")
            return ref, [ref]
        if (rec["product"] != "").all() and len(rec):
            return "", []
        live = [p for p in products if not p.archived]
        if len(live) == 1:
            return live[0].name, []
        if not live:
            raise ValidationError("There is no product yet: name the product to import into (--product NAME).")
        names = ", ".join(p.name for p in live)
        raise ValidationError(f"Say which product these values belong to (--product NAME); products: {names}.")

    # -- database reads -------------------------------------------------------------
    def _products(self) -> list[Product]:
        from sqlmodel import select

        with self._db.session() as session:
            return list(session.exec(select(Product)))

    def _kpis(self, product_ids: list[int | None]) -> list[Kpi]:
        from sqlmodel import select

        ids = [i for i in product_ids if i is not None]
        if not ids:
            return []
        with self._db.session() as session:
            return list(session.exec(select(Kpi).where(Kpi.product_id.in_(ids))))  # type: ignore[attr-defined]

    def _existing(self, kpi_ids: list[int], dbapi: Any = None) -> pd.DataFrame:
        """Stored values of these KPIs (all segments) for the plan's comparison."""
        import pandas as pd

        columns = ["kpi_id", "period_start", "segment", "value", "note", "numerator", "denominator", "source",
                   "import_batch_id"]
        if not kpi_ids:
            return pd.DataFrame(columns=columns)

        def query(con: Any) -> list[tuple]:
            p = param_style(con)
            cur = con.cursor()
            cur.execute(f"SELECT {', '.join(columns)} FROM measurement WHERE kpi_id IN "
                        f"({', '.join([p] * len(kpi_ids))})", list(kpi_ids))
            rows = cur.fetchall()
            cur.close()
            return rows

        if dbapi is not None:
            rows = query(dbapi)
        else:
            with self._db.raw() as con:
                rows = query(con)
        frame = pd.DataFrame.from_records(rows, columns=columns)
        frame["period_start"] = frame["period_start"].astype(str).str.slice(0, 10)
        frame["note"] = frame["note"].fillna("").astype(str)
        frame["value"] = pd.to_numeric(frame["value"]).astype("float64")
        return frame

    def _remembered(self, signature: str) -> dict[str, LabelDecision]:
        with self._db.raw() as con:
            cur = con.cursor()
            cur.execute(f"SELECT mapping FROM mapping_profile WHERE signature = {param_style(con)}", [signature])
            row = cur.fetchone()
            cur.close()
        if row is None:
            return {}
        data = row[0] if isinstance(row[0], dict) else json.loads(row[0] or "{}")
        return decisions_from_json(data.get("decisions", {}))

    def _batches_with_hash(self, sha256: str) -> list[int]:
        with self._db.raw() as con:
            cur = con.cursor()
            cur.execute(f"SELECT id FROM import_batch WHERE sha256 = {param_style(con)} AND status = 'applied'"
                        " ORDER BY id", [sha256])
            ids = [int(r[0]) for r in cur.fetchall()]
            cur.close()
        return ids

    # -- writing --------------------------------------------------------------------
    def apply(self, plan: ImportPlan, *, progress: Progress | None = None) -> ImportResult:
        """Write the plan in one transaction; see :meth:`_apply`."""
        try:
            return self._apply(plan, progress=progress)
        except Exception as exc:
            # A KPI or product with the same key/name was created since the preview (another
            # window, a team member): the transaction rolled back; the user previews again.
            if type(exc).__name__ in ("IntegrityError", "UniqueViolation"):
                raise ValidationError(
                    f"The workspace changed since the preview of {plan.file_name} (a KPI or product it would "
                    "create now exists); nothing was written. Preview the import again.") from exc
            raise

    def _apply(self, plan: ImportPlan, *, progress: Progress | None = None) -> ImportResult:
        """Write the plan in one transaction (see the module docstring).

        Values are re-compared with the database inside the transaction, so a
        value someone changed since the dry run is still recorded exactly.
        Re-importing a file whose values are all stored already writes nothing
        and says so.
        """
        self._db.require_writable()
        check_cancelled(progress)
        rejected = len(plan.rejected)
        if plan.values.empty or not plan.changes_anything:
            message = plan.summary()
            return ImportResult(None, 0, 0, plan.unchanged, rejected, message, Changes.of(message=message))
        user = self._db.user
        with self._db.raw(write=True) as dbapi:
            product_ids, created_products = self._create_products(dbapi, plan)
            kpi_map, created_kpis = self._create_kpis(dbapi, plan, product_ids)
            values = plan.values
            if created_kpis:
                values = values.assign(kpi_id=values["kpi_id"].map(lambda k: kpi_map.get(k, k)))
            # Compare again inside the transaction: the database may have changed since the dry run.
            values = self._reclassify(dbapi, values)
            counts = values["action"].value_counts()
            inserted, updated = int(counts.get(INSERT, 0)), int(counts.get(UPDATE, 0))
            unchanged = len(values) - inserted - updated
            product_id = product_ids.get(plan.default_product) if plan.default_product else None
            mapping = {"decisions": decisions_to_json(plan.decisions), "signature": plan.signature,
                       "created_kpis": created_kpis, "created_products": created_products}
            batch_id = _insert_row(dbapi, "import_batch", {
                "file_name": plan.file_name[:500], "file_path": plan.file_path, "sha256": plan.sha256,
                "sheet": ", ".join(plan.sheets), "layout": plan.layout[:20], "mapping": mapping,
                "product_id": product_id, "inserted": inserted, "updated": updated, "unchanged": unchanged,
                "rejected": rejected, "status": "applied", "created_at": utcnow(), "created_by": user,
                "rolled_back_at": None})
            self._record_overwrites(dbapi, batch_id, values)
            # Sorted by the unique key, the index pages fill in order (fewer page splits and cache
            # misses). The sort runs on integer codes (ISO dates sort as their text does):
            # DataFrame.sort_values on the text columns took ~50 ms for 200k rows.
            import numpy as np
            import pandas as pd

            keep = (values["action"] != UNCHANGED).to_numpy()
            kpi_col = values["kpi_id"].to_numpy(dtype=np.int64)[keep]
            period_col = values["period_start"].to_numpy(dtype=object)[keep]
            segment_col = values["segment"].to_numpy(dtype=object)[keep]
            order = np.lexsort((pd.factorize(segment_col, sort=True)[0], pd.factorize(period_col, sort=True)[0],
                                kpi_col))
            value_col = values["value"].to_numpy(dtype=np.float64)[keep]
            note_col = values["note"].to_numpy(dtype=object)[keep]
            freq_codes, freq_names = pd.factorize(values["frequency"].to_numpy(dtype=object)[keep][order])
            total = len(order)
            written = 0
            # One upsert per frequency (a constant of its INSERT ... SELECT, see upsert_values), in
            # chunks: rows are built per chunk, as one tolist() over 200k values holds the
            # interpreter lock long enough to stall the window.
            for code, frequency in enumerate(freq_names):
                group = order[freq_codes == code]
                for start in range(0, len(group), WRITE_CHUNK):
                    check_cancelled(progress)
                    part = group[start:start + WRITE_CHUNK]
                    upsert_values(dbapi, kpi_col[part].tolist(), period_col[part].tolist(),
                                  segment_col[part].tolist(), value_col[part].tolist(), note_col[part].tolist(),
                                  frequency=str(frequency), source=Provenance.IMPORT.value, user=user,
                                  import_batch_id=batch_id)
                    written += len(part)
                    if progress is not None:
                        progress.report(min(1.0, written / max(total, 1)), f"Writing values {written:,}/{total:,}")
            self._remember(dbapi, plan)
            check_cancelled(progress)
        kpi_ids = {int(k) for k in np.unique(kpi_col)}
        message = (f"Imported {plan.file_name} as batch #{batch_id}: {inserted:,} new, {updated:,} changed, "
                   f"{unchanged:,} unchanged, {rejected:,} rejected.")
        tables = {"measurement", "import_batch"} | ({"kpi"} if created_kpis else set()) \
            | ({"product"} if created_products else set())
        return ImportResult(batch_id, inserted, updated, unchanged, rejected, message,
                            Changes.of(*tables, kpi_ids=kpi_ids, message=message, written=inserted + updated))

    def _reclassify(self, dbapi: Any, values: pd.DataFrame) -> pd.DataFrame:
        from kpidesk.io.plan import _classify

        real = [int(k) for k in values["kpi_id"].unique() if k > 0]
        existing = self._existing(real, dbapi)
        base = values.drop(columns=[c for c in ("old_value", "old_note", "action") if c in values.columns])
        out = _classify(base, existing)
        if existing.empty:
            return out
        extra = existing[["kpi_id", "period_start", "segment", "numerator", "denominator", "source",
                          "import_batch_id"]]
        merged = out.merge(extra, on=["kpi_id", "period_start", "segment"], how="left", sort=False)
        merged.index = out.index
        return merged

    def _record_overwrites(self, dbapi: Any, batch_id: int, values: pd.DataFrame) -> None:
        updates = values[values["action"] == UPDATE]
        if updates.empty:
            return
        p = param_style(dbapi)

        def clean(x: Any) -> Any:
            return None if x is None or (isinstance(x, float) and math.isnan(x)) else x

        rows = [(batch_id, int(r.kpi_id), r.period_start, r.segment, "update", clean(r.old_value),
                 clean(r.numerator), clean(r.denominator), r.old_note, clean(r.source) or "",
                 None if clean(r.import_batch_id) is None else int(r.import_batch_id))
                for r in updates.itertuples(index=False)]
        cur = dbapi.cursor()
        cur.executemany(
            "INSERT INTO import_overwrite (batch_id, kpi_id, period_start, segment, action, old_value,"
            " old_numerator, old_denominator, old_note, old_source, old_import_batch_id)"
            f" VALUES ({', '.join([p] * 11)})", rows)
        cur.close()

    def _create_products(self, dbapi: Any, plan: ImportPlan) -> tuple[dict[str, int], list[int]]:
        ids = {p.name: int(p.id) for p in self._products() if p.id is not None}
        created: list[int] = []
        for name in plan.new_products:
            if name in ids:
                continue
            fields = Product(name=name[:200], updated_by=self._db.user).model_dump()
            ids[name] = _insert_row(dbapi, "product", fields)
            created.append(ids[name])
        return ids, created

    def _create_kpis(self, dbapi: Any, plan: ImportPlan, product_ids: dict[str, int]) -> tuple[dict[int, int], list[int]]:
        mapping: dict[int, int] = {}
        created: list[int] = []
        for new in plan.new_kpis:
            fields: dict[str, Any]
            if new.catalog_key:
                entry = self._catalog.get(new.catalog_key)
                fields = {"key": new.key, "name": entry.name, "definition": entry.definition,
                          "formula_text": entry.formula, "category": entry.category.value,
                          "stage": entry.stage.value, "unit": entry.unit.value,
                          "direction": entry.direction.value, "aggregation": entry.aggregation.value,
                          "frequency": entry.frequency.value, "formula": entry.derived,
                          "convention": entry.default_convention, "catalog_key": entry.key,
                          "min_value": entry.min_value, "max_value": entry.max_value,
                          "aliases": list(entry.aliases)}
            else:
                aggregation = "mean" if new.unit in ("percent", "ratio", "score") else "sum"
                fields = {"key": new.key, "name": new.name[:200], "unit": new.unit, "frequency": new.frequency,
                          "aggregation": aggregation, "definition": f"Imported from {plan.file_name}."}
            model = Kpi(product_id=product_ids[new.product], updated_by=self._db.user, **fields)
            mapping[new.placeholder_id] = _insert_row(dbapi, "kpi", model.model_dump())
            created.append(mapping[new.placeholder_id])
        return mapping, created

    def _remember(self, dbapi: Any, plan: ImportPlan) -> None:
        """Store the label decisions under the header signature for the next file of this layout."""
        if not plan.signature:
            return
        p = param_style(dbapi)
        payload = json.dumps({"decisions": decisions_to_json(plan.decisions)})
        now = _now_sql(dbapi)
        cur = dbapi.cursor()
        cur.execute(f"UPDATE mapping_profile SET mapping = {p}, layout = {p}, used_at = {p}, updated_at = {p},"
                    f" version = version + 1 WHERE signature = {p}",
                    [payload, plan.layout[:20], now, now, plan.signature])
        if cur.rowcount == 0:
            cur.execute("INSERT INTO mapping_profile (signature, name, layout, mapping, used_at, version,"
                        f" created_at, updated_at, updated_by) VALUES ({', '.join([p] * 9)})",
                        [plan.signature, plan.file_name[:200], plan.layout[:20], payload, now, 1, now, now,
                         self._db.user])
        cur.close()

    # -- history and undo ------------------------------------------------------------
    def batches(self) -> list[BatchInfo]:
        """Every import, newest first."""
        with self._db.raw() as con:
            cur = con.cursor()
            cur.execute("SELECT b.id, b.file_name, b.sha256, b.sheet, b.layout, COALESCE(p.name, ''), b.inserted,"
                        " b.updated, b.unchanged, b.rejected, b.status, b.created_at, b.created_by,"
                        " b.rolled_back_at FROM import_batch b LEFT JOIN product p ON p.id = b.product_id"
                        " ORDER BY b.id DESC")
            rows = cur.fetchall()
            cur.close()
        return [BatchInfo(*row) for row in rows]

    def rollback(self, batch_id: int, *, progress: Progress | None = None) -> ImportResult:
        """Undo one applied import exactly (see the module docstring)."""
        self._db.require_writable()
        check_cancelled(progress)
        with self._db.raw(write=True) as dbapi:
            p = param_style(dbapi)
            cur = dbapi.cursor()
            cur.execute(f"SELECT status, file_name, mapping FROM import_batch WHERE id = {p}", [batch_id])
            row = cur.fetchone()
            if row is None:
                raise NotFoundError(f"There is no import #{batch_id}; see 'kpidesk imports list'.")
            status, file_name, mapping_raw = row
            if status != "applied":
                raise ValidationError(f"Import #{batch_id} ({file_name}) was already rolled back.")
            cur.execute("SELECT DISTINCT o.batch_id FROM import_overwrite o JOIN import_batch b ON b.id = o.batch_id"
                        f" WHERE o.old_import_batch_id = {p} AND b.status = 'applied' ORDER BY o.batch_id",
                        [batch_id])
            later = [int(r[0]) for r in cur.fetchall()]
            if later:
                raise ValidationError(
                    f"Import #{batch_id} ({file_name}) cannot be rolled back yet: import "
                    f"#{', #'.join(map(str, later))} replaced some of its values. Roll back "
                    f"#{later[-1]} first (newest first).")
            cur.execute("SELECT kpi_id, period_start, segment, old_value, old_numerator, old_denominator, old_note,"
                        f" old_source, old_import_batch_id FROM import_overwrite WHERE batch_id = {p}"
                        " AND action = 'update'", [batch_id])
            restores = cur.fetchall()
            check_cancelled(progress)
            now = _now_sql(dbapi)
            cur.executemany(
                f"UPDATE measurement SET value = {p}, numerator = {p}, denominator = {p}, note = {p}, source = {p},"
                f" import_batch_id = {p}, version = version + 1, updated_at = {p}, updated_by = {p}"
                f" WHERE kpi_id = {p} AND period_start = {p} AND segment = {p} AND import_batch_id = {p}"
                f" AND source = 'import'",
                [(r[3], r[4], r[5], r[6], r[7] or "manual", r[8], now, self._db.user, r[0], r[1], r[2], batch_id)
                 for r in restores])
            restored = len(restores)
            cur.execute(f"SELECT DISTINCT kpi_id FROM measurement WHERE import_batch_id = {p}", [batch_id])
            kpi_ids = {int(r[0]) for r in cur.fetchall()} | {int(r[0]) for r in restores}
            cur.execute(f"DELETE FROM measurement WHERE import_batch_id = {p} AND source = 'import'", [batch_id])
            deleted = cur.rowcount
            mapping = mapping_raw if isinstance(mapping_raw, dict) else json.loads(mapping_raw or "{}")
            for kpi_id in mapping.get("created_kpis", []):
                cur.execute(f"SELECT count(*) FROM measurement WHERE kpi_id = {p}", [kpi_id])
                in_use = cur.fetchone()[0]
                cur.execute(f"SELECT count(*) FROM goal WHERE kpi_id = {p}", [kpi_id])
                in_use += cur.fetchone()[0]
                if not in_use:
                    cur.execute(f"DELETE FROM kpi WHERE id = {p}", [kpi_id])
            for product_id in mapping.get("created_products", []):
                cur.execute(f"SELECT count(*) FROM kpi WHERE product_id = {p}", [product_id])
                if not cur.fetchone()[0]:
                    cur.execute(f"DELETE FROM product WHERE id = {p}", [product_id])
            cur.execute(f"UPDATE import_batch SET status = 'rolled_back', rolled_back_at = {p} WHERE id = {p}",
                        [now, batch_id])
            cur.close()
        message = (f"Rolled back import #{batch_id} ({file_name}): {deleted:,} value(s) removed, "
                   f"{restored:,} restored to their earlier value.")
        return ImportResult(batch_id, -deleted, restored, 0, 0, message,
                            Changes.of("measurement", "import_batch", "kpi", kpi_ids=kpi_ids, message=message))


def _is_own_export(grid: Any) -> bool:
    """True when the sheet's first row is exactly kpidesk's export header."""
    from kpidesk.io.export import EXPORT_COLUMNS

    return grid.n_cols >= len(EXPORT_COLUMNS) and tuple(
        grid.cell(0, c) for c in range(len(EXPORT_COLUMNS))) == EXPORT_COLUMNS


def _own_export_layout() -> Any:
    """Exact columns for kpidesk's own exports, and dates read as days: the plan snaps each
    date to its KPI's frequency, so a daily KPI's weekly-spaced dates are not moved to Mondays."""
    from kpidesk.io.layout import LayoutOverride

    return LayoutOverride(kind="long", header_row=0, product_col=0, kpi_col=1, period_col=2, segment_col=3,
                          value_col=4, note_col=5, frequency="day")


def _as_user(decision: LabelDecision) -> LabelDecision:
    return replace(decision, matched_by="user")


def _raw_data_reason(rec: pd.DataFrame, decisions: Mapping[str, LabelDecision]) -> str:
    """A sentence when the file holds raw records rather than KPI values, else "".

    Raw when more than half of the readable values share their (label, period,
    segment, product) with another row (e.g. 40 transactions on one day), or
    when at least 30 labels would become new KPIs and 80 % of them occur in a
    single row (one row per customer).
    """
    import pandas as pd

    new_labels = {label for label, d in decisions.items() if d.action in (CATALOG, CUSTOM)}
    if not new_labels:
        return ""
    valid = rec[rec["value"].notna() & rec["period_start"].notna() & (rec["skip"] == "")]
    if valid.empty:
        return ""
    sizes = valid.groupby(["kpi_label", "period_start", "segment", "product"], sort=False).size()
    crowded = int(sizes[sizes > 1].sum())
    if crowded > len(valid) / 2:
        top = sizes.idxmax()
        return (f"This file looks like raw records, not KPI values: {crowded:,} of {len(valid):,} values share "
                f"their period with other rows (e.g. {int(sizes.max()):,} rows of “{top[0]}” for "
                f"{pd.Timestamp(top[1]).date()}). No KPIs were created from it; compute KPIs from such a file "
                "with a data source and a metric recipe, or map its columns to existing KPIs.")
    counts = valid[valid["kpi_label"].isin(new_labels)].groupby("kpi_label").size()
    if len(counts) >= 30 and (counts == 1).sum() >= 0.8 * len(counts):
        return (f"This file looks like raw records, not KPI values: {len(counts):,} different names (such as "
                f"“{counts.index[0]}”) each appear in a single row, one per record. No KPIs were created from "
                "them; compute KPIs from such a file with a data source and a metric recipe.")
    return ""


def _guess_units(rec: pd.DataFrame) -> dict[str, str]:
    """A unit per label for new custom KPIs, from its values (see :func:`guess_unit`)."""
    import numpy as np

    out: dict[str, str] = {}
    has_currency = "currency" in rec.columns
    for label, group in rec.groupby("kpi_label", sort=False):
        values = group["value"].to_numpy(dtype=np.float64)
        finite = values[np.isfinite(values)]
        currency = bool(has_currency and group["currency"].notna().any() and (group["currency"] != "").any())
        fractions = bool(finite.size) and bool((abs(finite) <= 1.5).all())
        out[str(label)] = guess_unit(bool(group["is_percent"].any()), currency, bool((finite >= 0).all()),
                                     str(label), fractions)
    return out


def _label_frequencies(rec: pd.DataFrame) -> dict[str, str]:
    """The most common frequency of each label's periods (month when unknown; half → month)."""
    out: dict[str, str] = {}
    known = rec[rec["frequency"].isin(["day", "week", "month", "quarter", "year"])]
    for label, group in known.groupby("kpi_label", sort=False):
        out[str(label)] = str(group["frequency"].mode().iloc[0])
    return out


__all__ = ["BatchInfo", "ImportResult", "ImportService", "file_sha256"]

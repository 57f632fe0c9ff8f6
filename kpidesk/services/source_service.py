"""Data sources: a raw export + a recipe that turns it into KPI values, and its refresh.

A data source records the file, sheet, column mapping (recipe column → the
file's header), recipe and conventions. ``refresh`` re-reads the file only
when its SHA-256 changed (or when forced), runs the recipe, and replaces the
values this source wrote before with the new ones in one transaction, each
row carrying provenance ``data_source`` and the source's id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from kpidesk.domain.analytics.partial import is_partial
from kpidesk.domain.enums import Aggregation, Frequency, Provenance, Unit
from kpidesk.domain.periods import period_start
from kpidesk.domain.recipes import RECIPE_COLUMNS, RECIPE_NAMES, check_conventions, get_recipe
from kpidesk.errors import KpideskError, NotFoundError, ValidationError
from kpidesk.progress import Progress, check_cancelled
from kpidesk.services.changes import Changes
from kpidesk.services.kpi_service import KpiService
from kpidesk.services.product_service import ProductService
from kpidesk.storage.measurements import param_style, upsert_rows
from kpidesk.storage.models import DataSource, Kpi, utcnow

if TYPE_CHECKING:
    import pandas as pd

    from kpidesk.domain.catalog import Catalog
    from kpidesk.domain.recipes.base import RecipeResult
    from kpidesk.storage.db import Database

# other names exports commonly use for each recipe column (compared case- and
# punctuation-insensitively)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "user": ("user", "user_id", "userid", "distinct_id", "uid", "account_id", "member_id", "visitor_id"),
    "timestamp": ("timestamp", "time", "ts", "event_time", "datetime", "date", "created_at", "occurred_at"),
    "event": ("event", "event_name", "event_type", "action", "name"),
    "customer": ("customer", "customer_id", "client", "client_id", "account", "account_id", "customerid"),
    "date": ("date", "day", "order_date", "invoice_date", "payment_date", "created_at", "timestamp", "sent"),
    "amount": (
        "amount",
        "revenue",
        "value",
        "total",
        "total_price",
        "line_total",
        "sales",
        "price",
        "spend",
        "net_amount",
    ),
    "order": ("order", "order_id", "invoice", "invoice_no", "invoice_number", "receipt", "transaction_id"),
    "cost": ("cost", "cogs", "cost_of_goods", "unit_cost"),
    "plan": ("plan", "billing_period", "interval", "billing_interval"),
    "channel": ("channel", "source", "medium", "campaign_channel"),
    "new_customers": ("new_customers", "customers", "acquisitions", "new_users", "signups"),
    "conversions": ("conversions", "conversion", "leads", "actions"),
    "respondent": ("respondent", "respondent_id", "user", "user_id", "customer_id", "email"),
    "score": ("score", "rating", "answer", "response", "nps", "csat"),
    "question": ("question", "question_id", "survey", "metric"),
    "inviter": ("inviter", "referrer", "inviter_id", "referrer_id", "sender"),
    "invitee": ("invitee", "referee", "invitee_id", "referred", "recipient"),
    "sent": ("sent", "sent_at", "invited_at", "date", "invite_date"),
    "converted": ("converted", "converted_at", "signed_up", "signup_date", "accepted_at"),
    "feature": ("feature", "product", "name", "title", "epic"),
    "started": ("started", "start", "start_date", "started_at", "kickoff"),
    "launched": ("launched", "launch", "launch_date", "released", "release_date", "shipped"),
}

# KPIs some recipes produce that the catalog does not hold: how to create them
_SHARE = {"unit": Unit.PERCENT, "aggregation": Aggregation.RATIO, "category": "customer", "stage": "referral"}
_USERS = {"unit": Unit.COUNT, "aggregation": Aggregation.SUM, "category": "customer", "stage": "retention"}
EXTRA_KPIS: dict[str, dict[str, str]] = {
    "survey_responses": {
        "name": "Survey responses",
        "unit": Unit.COUNT,
        "aggregation": Aggregation.SUM,
        "category": "customer",
        "stage": "none",
    },
    "nps_promoters": {"name": "NPS promoters", **_SHARE},
    "nps_passives": {"name": "NPS passives", **_SHARE, "direction": "band"},
    "nps_detractors": {"name": "NPS detractors", **_SHARE, "direction": "down"},
    "resurrected_users": {"name": "Resurrected users", **_USERS},
    "dormant_users": {"name": "Dormant users", **_USERS, "direction": "down"},
}


def _norm(label: str) -> str:
    # the import mapping's normal form: "CustomerID", "customer_id" and
    # "Customer ID" are the same header
    from kpidesk.io.mapping import normalise

    return normalise(str(label))


def auto_mapping(recipe: str, headers: list[str], given: dict[str, str] | None = None) -> dict[str, str]:
    """Recipe column → file header: the user's ``given`` choices first, then exact
    names, then known synonyms. Each header is used at most once; a required
    column left unmapped raises ValidationError listing the headers."""
    required, optional = RECIPE_COLUMNS[recipe]
    by_norm = {_norm(h): h for h in headers}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for column, header in (given or {}).items():
        if column not in required + optional:
            raise ValidationError(
                f"The {recipe} recipe has no column {column!r}; its columns are {', '.join(required + optional)}."
            )
        if header not in headers:
            raise ValidationError(
                f"The file has no column {header!r} (mapped to {column!r}); it has: {', '.join(headers)}."
            )
        mapping[column] = header
        used.add(header)
    for column in required + optional:
        if column in mapping:
            continue
        for candidate in (column, *SYNONYMS.get(column, ())):
            header = by_norm.get(_norm(candidate))
            if header is not None and header not in used:
                mapping[column] = header
                used.add(header)
                break
    missing = [c for c in required if c not in mapping]
    if missing:
        raise ValidationError(
            f"The {recipe} recipe needs a {missing[0]!r} column and none of the file's columns "
            f"({', '.join(headers) or 'none'}) looks like it; map it with --map {missing[0]}=HEADER."
        )
    return mapping


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes (hex)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise KpideskError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    return digest.hexdigest()


TEXT_SUFFIXES = (".csv", ".tsv", ".txt")


def _read_text_frame(path: Path) -> pd.DataFrame:
    """A delimited text export read with pandas' C parser, in this process.

    Raw exports run to millions of rows, past the spreadsheet grid's cell
    limit; plain text parsing executes nothing from the file (the sandbox
    guards the zip/XML workbook formats). The delimiter is sniffed from the
    first lines, non-UTF-8 bytes are decoded as Windows-1252. The index holds
    the file's row numbers (header = row 1).
    """
    import pandas as pd

    from kpidesk.io.text_files import TextProblem, decode, sniff_delimiter

    with path.open("rb") as handle:
        sample = handle.read(256_000)
    if len(sample) == 256_000 and b"\n" in sample:
        sample = sample[: sample.rfind(b"\n") + 1]  # never cut a multi-byte character in two
    try:
        head = decode(sample)
    except TextProblem as exc:
        raise ValidationError(f"{path.name}: {exc.problem}") from None
    delimiter = sniff_delimiter(head.text, prefer_tab=path.suffix.lower() == ".tsv")
    encoding = head.encoding
    try:
        frame = pd.read_csv(
            path,
            sep=delimiter,
            encoding=encoding,
            encoding_errors="replace",
            skipinitialspace=True,
            skip_blank_lines=True,
            low_memory=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError, ValueError) as exc:
        raise ValidationError(
            f"{path.name}: cannot be read as a {delimiter!r}-separated table ({exc})."
        ) from None
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    frame = frame.dropna(how="all")
    frame.attrs["file_rows"] = True
    return frame


def read_frame(path: Path, sheet: str = "", progress: Progress | None = None) -> pd.DataFrame:
    """The sheet (or CSV) as a DataFrame: first non-empty row = headers, the rest = rows.

    Workbooks go through the sandboxed spreadsheet reader (the file is
    untrusted); delimited text goes straight to pandas (see :func:`_read_text_frame`).
    """
    import pandas as pd

    from kpidesk.io import read_workbook

    if path.suffix.lower() in TEXT_SUFFIXES:
        check_cancelled(progress)
        return _read_text_frame(path)

    book = read_workbook(path, sheets=[sheet] if sheet else None, progress=progress, detail=False)
    grid = book.sheet(sheet) if sheet else book.sheets[0]
    header_row = next(
        (r for r in range(min(grid.n_rows, 50)) if any(v is not None for v in grid.row_values(r))), None
    )
    if header_row is None:
        raise ValidationError(f"{path.name}: the sheet {grid.name!r} is empty.")
    headers: list[str] = []
    data: dict[str, Any] = {}
    for index, column in enumerate(grid.columns):
        label = grid.cell(header_row, index)
        if label is None:
            continue
        name = str(label).strip()
        if name in data:
            raise ValidationError(
                f"{path.name}: the column header {name!r} appears twice (sheet {grid.name!r})."
            )
        headers.append(name)
        data[name] = column.object_array(header_row + 1, grid.n_rows)
    # index = the file's 1-based row numbers, so recipe errors name the row the user sees
    frame = pd.DataFrame(data, columns=headers, index=pd.RangeIndex(header_row + 2, grid.n_rows + 1))
    frame = frame.dropna(how="all")
    frame.attrs["file_rows"] = True
    return frame


@dataclass(frozen=True)
class RefreshOutcome:
    source_id: int
    refreshed: bool  # False when the file had not changed
    values: int
    message: str


class SourceService:
    def __init__(self, db: Database, catalog: Catalog) -> None:
        self._db = db
        self._catalog = catalog
        self._products = ProductService(db)
        self._kpis = KpiService(db, catalog)

    # ------------------------------------------------------------ records

    def list(self, product: str | int | None = None) -> list[DataSource]:
        with self._db.session() as session:
            query = select(DataSource).order_by(DataSource.id)
            if product is not None:
                query = query.where(DataSource.product_id == self._products.get(product).id)
            return list(session.exec(query).all())

    def get(self, source_id: int) -> DataSource:
        with self._db.session() as session:
            source = session.get(DataSource, source_id)
        if source is None:
            raise NotFoundError(f"There is no data source with id {source_id}.")
        return source

    def add(
        self,
        product: str | int,
        path: str | Path,
        recipe: str,
        *,
        sheet: str = "",
        mapping: dict[str, str] | None = None,
        conventions: dict[str, Any] | None = None,
        name: str = "",
        progress: Progress | None = None,
    ) -> tuple[DataSource, Changes]:
        """Record a data source and run it once (so a bad file or mapping fails now)."""
        self._db.require_writable()
        if recipe not in RECIPE_NAMES:
            raise ValidationError(f"Unknown recipe {recipe!r}: use one of {', '.join(RECIPE_NAMES)}.")
        check_conventions(recipe, dict(conventions or {}))
        file = Path(path).expanduser().resolve()
        if not file.is_file():
            raise ValidationError(f"There is no file {file}.")
        owner = self._products.get(product)
        frame = read_frame(file, sheet, progress)
        resolved = auto_mapping(recipe, list(frame.columns), mapping)
        with self._db.session() as session:
            source = DataSource(
                product_id=owner.id,
                name=name or file.name,
                path=str(file),
                sheet=sheet,
                recipe=recipe,
                mapping=resolved,
                conventions=dict(conventions or {}),
                updated_by=self._db.user,
            )
            session.add(source)
            session.commit()
            session.refresh(source)
        try:
            _outcome, changes = self._run(source, frame, file_hash(file), progress)
        except KpideskError:
            # a source that cannot run is not kept half-made
            with self._db.session() as session:
                session.delete(session.get(DataSource, source.id))
                session.commit()
            raise
        return self.get(source.id), Changes.of(
            "data_source", message=f"Added data source {source.name}."
        ) | changes

    def remove(self, source_id: int) -> Changes:
        """Forget a data source; the values it wrote stay (their provenance keeps its id)."""
        self._db.require_writable()
        with self._db.session() as session:
            source = session.get(DataSource, source_id)
            if source is None:
                raise NotFoundError(f"There is no data source with id {source_id}.")
            session.delete(source)
            session.commit()
        return Changes.of("data_source", message=f"Removed data source {source_id}.")

    # ------------------------------------------------------------ refresh

    def refresh(
        self, source_id: int, *, force: bool = False, progress: Progress | None = None
    ) -> tuple[RefreshOutcome, Changes]:
        """Re-run the source when its file's hash changed (always when ``force``).

        On failure the error is recorded on the source (``last_error``) and raised.
        """
        self._db.require_writable()
        source = self.get(source_id)
        file = Path(source.path)
        try:
            digest = file_hash(file)
            if digest == source.file_hash and not force:
                return RefreshOutcome(source_id, False, 0, f"{source.name}: unchanged."), Changes()
            frame = read_frame(file, source.sheet, progress)
            return self._run(source, frame, digest, progress)
        except KpideskError as exc:
            self._record_error(source_id, exc.message)
            raise KpideskError(f"Data source {source.name} (id {source_id}): {exc.message}") from exc

    def refresh_all(
        self, *, force: bool = False, progress: Progress | None = None
    ) -> tuple[list[RefreshOutcome], Changes]:
        """Refresh every source; failures do not stop the others and are raised together at the end."""
        outcomes: list[RefreshOutcome] = []
        changes = Changes()
        failures: list[str] = []
        for source in self.list():
            check_cancelled(progress)
            try:
                outcome, change = self.refresh(source.id, force=force, progress=progress)  # type: ignore[arg-type]
            except KpideskError as exc:
                failures.append(exc.message)
                continue
            outcomes.append(outcome)
            changes = changes | change
        if failures:
            raise KpideskError(
                f"{len(failures)} of {len(failures) + len(outcomes)} data sources failed: "
                + " ".join(failures)
            )
        return outcomes, changes

    def _record_error(self, source_id: int, message: str) -> None:
        with self._db.session() as session:
            source = session.get(DataSource, source_id)
            if source is not None:
                source.last_error = message
                source.updated_at = utcnow()
                session.add(source)
                session.commit()

    def _kpi_for(self, product_id: int, key: str, frequency: Frequency, unit: str | None = None) -> Kpi:
        """The product's KPI for a recipe output, created from the catalog (or as a
        custom KPI) when missing. A measured KPI has no formula: a catalog formula
        (e.g. stickiness = dau / mau × 100) is dropped, since the values now come
        from the raw export itself."""
        with self._db.session() as session:
            kpi = session.exec(select(Kpi).where(Kpi.product_id == product_id, Kpi.key == key)).first()
        if kpi is not None:
            if kpi.formula:
                kpi, _ = self._kpis.update(kpi.id, formula=None)  # type: ignore[arg-type]
            if unit is not None and kpi.unit != unit:
                # a convention that changes the unit (CSAT as a mean score): a ratio is
                # rolled up ×100 only for percent, so a stale unit gives wrong quarters
                kpi, _ = self._kpis.update(kpi.id, unit=unit)  # type: ignore[arg-type]
            return kpi
        if key in self._catalog:
            kpi, _ = self._kpis.add_from_catalog(
                product_id, key, frequency=frequency.value, formula="", unit=unit
            )
            return kpi
        extra = EXTRA_KPIS.get(key, {"name": key.replace("_", " ").capitalize()})
        fields = {k: str(v) for k, v in extra.items() if k != "name"}
        kpi, _ = self._kpis.add_custom(
            product_id, extra["name"], key=key, frequency=frequency.value, **fields
        )
        return kpi

    def _run(
        self, source: DataSource, frame: pd.DataFrame, digest: str, progress: Progress | None
    ) -> tuple[RefreshOutcome, Changes]:
        import math

        check_cancelled(progress)
        _report(progress, 0.3, f"Computing {source.recipe} KPIs from {len(frame):,} rows…")
        mapping = auto_mapping(source.recipe, list(frame.columns), source.mapping)
        renamed = frame[list(mapping.values())].rename(columns={v: k for k, v in mapping.items()})
        renamed.attrs["file_rows"] = frame.attrs.get("file_rows", False)
        result: RecipeResult = get_recipe(source.recipe)(renamed, dict(source.conventions))
        check_cancelled(progress)
        _report(progress, 0.8, "Saving the values…")
        rows = []
        kpi_ids: set[int] = set()
        conventions: dict[int, str] = {}
        for output in result.outputs:
            kpi = self._kpi_for(source.product_id, output.key, output.frequency, output.unit)
            kpi_ids.add(kpi.id)  # type: ignore[arg-type]
            if not output.segment:
                conventions[kpi.id] = output.convention  # type: ignore[index]
            numerator = (
                output.numerator.reindex(output.values.index) if output.numerator is not None else None
            )
            denominator = (
                output.denominator.reindex(output.values.index) if output.denominator is not None else None
            )
            partial_start = None
            if result.data_end is not None and output.frequency is not Frequency.DAY:
                start = period_start(result.data_end, output.frequency)
                if is_partial(start, output.frequency, result.data_end):
                    partial_start = start
            for position, (stamp, value) in enumerate(output.values.items()):
                num = None if numerator is None else _number(numerator.iloc[position])
                den = None if denominator is None else _number(denominator.iloc[position])
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    if num is None or den is None:
                        continue
                    # a zero denominator has no rate, but its parts still count over a longer
                    # period: a month's spend with no new customer belongs in the quarter's CAC
                    value = None
                # the export ends inside this period: say so, it is not a complete value
                note = f"so far: data through {result.data_end}" if stamp.date() == partial_start else ""
                rows.append(
                    (
                        kpi.id,
                        stamp.date().isoformat(),
                        output.frequency.value,
                        output.segment,
                        None if value is None else float(value),
                        num,
                        den,
                        note,
                    )
                )
        with self._db.raw(write=True) as dbapi:
            cur = dbapi.cursor()
            # the previous run's values are replaced as a whole: a period that
            # vanished from the file must not linger
            cur.execute(f"DELETE FROM measurement WHERE data_source_id = {param_style(dbapi)}", (source.id,))
            cur.close()
            upsert_rows(
                dbapi, rows, source=Provenance.DATA_SOURCE.value, user=self._db.user, data_source_id=source.id
            )
        with self._db.session() as session:
            stored = session.get(DataSource, source.id)
            assert stored is not None
            stored.file_hash = digest
            stored.last_refresh = utcnow()
            stored.last_error = ""
            stored.version += 1
            stored.updated_at = utcnow()
            session.add(stored)
            for kpi_id, text in conventions.items():
                kpi = session.get(Kpi, kpi_id)
                if kpi is not None and kpi.convention != text:
                    kpi.convention = text  # the convention used is recorded on the KPI
                    session.add(kpi)
            session.commit()
        message = f"{source.name}: {len(rows)} values for {len(kpi_ids)} KPIs."
        _report(progress, 1.0, message)
        outcome = RefreshOutcome(source.id, True, len(rows), message)  # type: ignore[arg-type]
        return outcome, Changes.of(
            "measurement", "kpi", "data_source", kpi_ids=kpi_ids, message=message, measurements=len(rows)
        )


def _report(progress: Progress | None, fraction: float, text: str) -> None:
    if progress is not None:
        progress.report(fraction, text)


def _number(value: Any) -> float | None:
    import math

    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number

"""The dry run of an import: exactly what would be written, nothing written.

Input is the reader's long *records* table (one row per value cell, whatever
the sheet's layout) plus the label decisions (:mod:`kpidesk.io.mapping`) and
the target KPIs; output is an :class:`ImportPlan`: the rows to insert, the
rows to update (old → new), the unchanged rows, and the rejected cells with
sheet / row / column / reason. The GUI wizard and ``kpidesk import
--dry-run`` show it; :class:`kpidesk.services.import_service.ImportService`
writes it in one transaction.

Records columns (see :data:`kpidesk.io.records.RECORD_COLUMNS`, as made by
:func:`kpidesk.io.records.to_records`): ``sheet``, ``row`` (1-based) and
``column`` (letters) of the value cell, ``kpi_label``, ``period_start``
(datetime64, NaT when the period could not be read), ``frequency``,
``raw`` (the cell as read), ``value`` (float, NaN when missing/unreadable),
``is_percent`` (the cell carried a ``%``, or a percent number format),
``segment``, ``product``, ``note``, ``problem`` (why ``value`` or the period
could not be read; empty when fine), ``missing`` (an empty / "n/a" cell),
``skip`` (why the row is left out on purpose, e.g. a totals row; listed in
``ImportPlan.skipped``, never written).

Value rules, per target KPI:

- percent units are stored in percentage points. A value flagged
  ``is_percent`` is already in points ("12%" → 12; a reader that saw a
  percent number format passes the shown points). Plain numbers of a percent
  KPI are fractions when every plain number of that label in the file lies in
  [-1.5, 1.5] (0.12 → 12), else points (12 → 12). So "12%" and 0.12 land the same.
- a percent-flagged value on a ratio KPI becomes a fraction (12 % → 0.12);
  on any other non-percent KPI it is rejected (a percentage is not a count).
- the period is snapped to the coarser of the record's and the KPI's
  frequency (a date 2024-03-15 for a monthly KPI → 2024-03-01); half years
  are rejected (kpidesk has no half-year frequency).
- a value outside the unit's domain (a negative count, 120 % ...) is rejected.
- two cells landing on the same (KPI, period, segment) are both rejected,
  each naming the other cell: nothing is guessed.
- a file note that is empty keeps the note already stored.

An existing value equal to the new one (same float, same note) is
``unchanged`` and is not rewritten; re-importing a file is therefore a no-op.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kpidesk.io.mapping import IGNORE, LabelDecision

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

_FREQ_RANK = {"day": 0, "week": 1, "month": 2, "quarter": 3, "year": 4}
INSERT, UPDATE, UNCHANGED = "insert", "update", "unchanged"


@dataclass(frozen=True)
class TargetKpi:
    """A KPI values can land on: an existing one (``kpi_id`` > 0) or one the
    import will create (``kpi_id`` < 0, a placeholder replaced on write)."""

    kpi_id: int
    product: str
    key: str
    name: str
    unit: str
    frequency: str
    min_value: float | None = None
    max_value: float | None = None


@dataclass(frozen=True)
class NewKpi:
    """A KPI the import will create before writing values (``placeholder_id`` < 0)."""

    placeholder_id: int
    product: str
    key: str
    name: str
    unit: str
    frequency: str
    catalog_key: str = ""


@dataclass(frozen=True)
class Rejection:
    """A cell that will not be imported; ``row`` is 1-based, ``column`` letters (as the user sees them).

    Also used for cells skipped on purpose (``ImportPlan.skipped``, e.g. totals rows)."""

    sheet: str
    row: int
    column: str
    label: str
    raw: str
    reason: str

    @property
    def cell(self) -> str:
        return f"{self.column}{self.row}"

    def sentence(self) -> str:
        where = f"sheet {self.sheet!r}, " if self.sheet else ""
        return f"{where}row {self.row}, column {self.column}: {self.reason}"


@dataclass(frozen=True)
class PlanRow:
    """One value the plan writes or leaves alone (built on demand for previews)."""

    action: str
    sheet: str
    cell: str
    product: str
    kpi_key: str
    kpi_name: str
    period_start: dt.date
    frequency: str
    segment: str
    value: float
    old_value: float | None
    note: str


@dataclass
class ImportPlan:
    """Everything an import would do. Plain data; nothing here touches the database.

    ``values`` holds one row per accepted cell with columns ``kpi_id`` (< 0 for
    KPIs in ``new_kpis``), ``product``, ``kpi_key``, ``kpi_name``,
    ``period_start`` (ISO text), ``frequency``, ``segment``, ``value``, ``note``,
    ``old_value``, ``old_note``, ``action`` (insert / update / unchanged),
    ``sheet``, ``row``, ``column``. Use :meth:`rows` for dataclass views.
    """

    file_name: str
    file_path: str
    sha256: str
    sheets: list[str]
    layout: str
    decisions: dict[str, LabelDecision]
    values: pd.DataFrame
    rejected: list[Rejection] = field(default_factory=list)
    new_products: list[str] = field(default_factory=list)
    new_kpis: list[NewKpi] = field(default_factory=list)
    skipped: list[Rejection] = field(default_factory=list)
    missing_cells: int = 0
    ignored_cells: int = 0
    warnings: list[str] = field(default_factory=list)
    already_imported: list[int] = field(default_factory=list)
    signature: str = ""
    default_product: str = ""
    #: how the file was read (sheets, layout, year, sandbox), so a re-plan reads it the same way
    read_options: dict[str, Any] = field(default_factory=dict)

    def count(self, action: str) -> int:
        if self.values.empty:
            return 0
        return int((self.values["action"] == action).sum())

    @property
    def inserts(self) -> int:
        return self.count(INSERT)

    @property
    def updates(self) -> int:
        return self.count(UPDATE)

    @property
    def unchanged(self) -> int:
        return self.count(UNCHANGED)

    @property
    def changes_anything(self) -> bool:
        return bool(self.inserts or self.updates)

    def rows(self, action: str | None = None, limit: int | None = None) -> list[PlanRow]:
        """Dataclass views of the planned rows (all, or one action), in file order."""
        frame = self.values if action is None else self.values[self.values["action"] == action]
        if limit is not None:
            frame = frame.head(limit)
        out: list[PlanRow] = []
        for r in frame.itertuples(index=False):
            old = (
                None
                if r.old_value is None or (isinstance(r.old_value, float) and math.isnan(r.old_value))
                else float(r.old_value)
            )
            out.append(
                PlanRow(
                    r.action,
                    r.sheet,
                    f"{r.column}{int(r.row)}",
                    r.product,
                    r.kpi_key,
                    r.kpi_name,
                    dt.date.fromisoformat(r.period_start),
                    r.frequency,
                    r.segment,
                    float(r.value),
                    old,
                    r.note,
                )
            )
        return out

    def summary(self) -> str:
        """One paragraph for the user: what would change."""
        parts = [
            f"{self.inserts:,} new value(s)",
            f"{self.updates:,} changed",
            f"{self.unchanged:,} unchanged",
            f"{len(self.rejected):,} rejected",
        ]
        text = f"{self.file_name or 'The import'}: " + ", ".join(parts) + "."
        if self.skipped:
            text += f" {len(self.skipped):,} cell(s) of totals/average rows skipped."
        if self.ignored_cells:
            text += f" {self.ignored_cells:,} cell(s) of ignored labels skipped."
        if self.new_kpis:
            text += f" New KPIs: {', '.join(k.name for k in self.new_kpis)}."
        if self.new_products:
            text += f" New products: {', '.join(self.new_products)}."
        if not self.changes_anything and self.already_imported:
            text += (
                f" This file was already imported (batch #{self.already_imported[-1]}); "
                "importing it again changes nothing."
            )
        elif not self.changes_anything:
            text += " Nothing would change."
        return text


def round_significant(values: np.ndarray, digits: int = 15) -> np.ndarray:
    """Values rounded to ``digits`` significant digits (Excel's precision).

    Why: Excel keeps 2.57 % as the double nearest 0.0257, and 0.0257 × 100 is
    2.5700000000000003; rounding to 15 significant digits gives back the 2.57
    the user typed. Only applied to values scaled by 100.
    """
    import numpy as np

    return np.array([float(f"{x:.{digits}g}") for x in values.tolist()], dtype=np.float64)


def standardise_records(records: pd.DataFrame) -> pd.DataFrame:
    """The records with the columns the plan reads (:data:`kpidesk.io.records.RECORD_COLUMNS`), defaults filled in."""
    import numpy as np
    import pandas as pd

    out = records.copy(deep=False)  # pandas copies on write: the caller's frame stays as it was
    defaults: dict[str, Any] = {
        "sheet": "",
        "row": 0,
        "column": "",
        "frequency": "",
        "raw": None,
        "is_percent": False,
        "segment": "",
        "product": "",
        "note": "",
        "problem": "",
        "missing": False,
        "skip": "",
    }
    for column, default in defaults.items():
        if column not in out.columns:
            out[column] = default
    if "kpi_label" not in out.columns or "value" not in out.columns or "period_start" not in out.columns:
        raise ValueError("records need kpi_label, period_start and value columns")
    for column in (
        "sheet",
        "column",
        "kpi_label",
        "frequency",
        "segment",
        "product",
        "note",
        "problem",
        "skip",
    ):
        if pd.api.types.infer_dtype(out[column], skipna=False) != "string":  # already text: skip the copy
            out[column] = out[column].fillna("").astype(str)
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    out["is_percent"] = out["is_percent"].fillna(False).astype(bool)
    out["missing"] = out["missing"].fillna(False).astype(bool)
    out["row"] = out["row"].fillna(0).astype(np.int64)
    out["period_start"] = pd.to_datetime(out["period_start"], errors="coerce")
    return out.reset_index(drop=True)


def build_plan(
    records: pd.DataFrame,
    decisions: dict[str, LabelDecision],
    targets: dict[tuple[str, str], TargetKpi],
    existing: pd.DataFrame,
    *,
    default_product: str,
    file_name: str = "",
    file_path: str = "",
    sha256: str = "",
    layout: str = "",
    new_products: list[str] | None = None,
    new_kpis: list[NewKpi] | None = None,
    standardised: bool = False,
) -> ImportPlan:
    """Classify every record (see the module docstring for the rules).

    ``standardised``: ``records`` came from :func:`standardise_records` unchanged (no second copy).

    ``targets`` maps (product name, KPI key) to the KPI values land on;
    ``existing`` holds the stored values of those KPIs (columns ``kpi_id``,
    ``period_start`` ISO text, ``segment``, ``value``, ``note``).
    """
    import numpy as np
    import pandas as pd

    from kpidesk.domain.units import bounds
    from kpidesk.io.records import period_starts  # numpy, Monday-based weeks
    from kpidesk.io.values import looks_like_fractions

    rec = records if standardised else standardise_records(records)
    rejections: list[pd.DataFrame] = []

    def reject(mask: np.ndarray, reason: Any) -> None:
        """Record the cells under ``mask``; ``reason`` is a sentence, an array, or f(value) -> sentence."""
        if mask.any():
            part = rec.loc[mask, ["sheet", "row", "column", "kpi_label", "raw"]].copy()
            if callable(reason):
                part["reason"] = [reason(v) for v in values[mask]]
            else:
                part["reason"] = reason if isinstance(reason, str) else reason[mask]
            rejections.append(part)

    alive = np.ones(len(rec), dtype=bool)
    skip = rec["skip"].to_numpy() != ""
    skipped_parts: list[pd.DataFrame] = []
    if skip.any():
        part = rec.loc[skip, ["sheet", "row", "column", "kpi_label", "raw"]].copy()
        part["reason"] = rec.loc[skip, "skip"].to_numpy()
        skipped_parts.append(part)
    alive &= ~skip
    no_problem = rec["problem"].to_numpy() == ""
    missing = alive & no_problem & (rec["missing"].to_numpy() | rec["value"].isna().to_numpy())
    missing_cells = int(missing.sum())
    alive &= ~missing

    # Decisions per distinct label, then per distinct (product, label): never a Python loop per row.
    label_codes, label_uniques = pd.factorize(rec["kpi_label"], use_na_sentinel=False)
    u_decisions = [decisions.get(x) for x in label_uniques]
    actions = np.array([d.action if d else IGNORE for d in u_decisions] + [IGNORE], dtype=object)[label_codes]
    # Cells of ignored labels are counted, not judged: their problems are not the user's concern.
    ignored = alive & (actions == IGNORE)
    ignored_cells = int(ignored.sum())
    alive &= ~ignored
    has_problem = alive & ~no_problem
    reject(has_problem, rec["problem"].to_numpy())
    alive &= ~has_problem
    no_period = alive & rec["period_start"].isna().to_numpy()
    reject(no_period, "the period could not be read")
    alive &= ~no_period

    u_keys = np.array([d.kpi_key if d else "" for d in u_decisions] + [""], dtype=object)
    keys = u_keys[label_codes]
    products = rec["product"].to_numpy(dtype=object).copy()
    products[products == ""] = default_product
    product_codes, product_uniques = pd.factorize(pd.Series(products, dtype=object), use_na_sentinel=False)
    n_labels = max(len(label_uniques), 1)
    pair_codes, pair_uniques = pd.factorize(product_codes.astype(np.int64) * n_labels + label_codes)
    pairs = [(product_uniques[int(p) // n_labels], u_keys[int(p) % n_labels]) for p in pair_uniques]
    pair_target = [targets.get(p) for p in pairs]
    no_target_pairs = np.array([t is None for t in pair_target] + [False], dtype=bool)
    no_target = alive & no_target_pairs[pair_codes]
    if no_target.any():
        reasons = np.array([f"product {p!r} has no KPI {k!r}" for p, k in pairs] + [""], dtype=object)
        reject(no_target, reasons[pair_codes])
        alive &= ~no_target
    kpi_ids = np.array([t.kpi_id if t else 0 for t in pair_target] + [0], dtype=np.int64)[pair_codes]

    values = rec["value"].to_numpy(dtype=np.float64).copy()
    is_percent = rec["is_percent"].to_numpy()
    # Whether the cell was text ("12.5%") matters only for percent-flagged cells: test just those.
    raw_is_text = np.zeros(len(rec), dtype=bool)
    flagged_rows = np.flatnonzero(is_percent)
    if len(flagged_rows):
        raw = rec["raw"].to_numpy(dtype=object)[flagged_rows]
        raw_is_text[flagged_rows] = np.fromiter((type(x) is str for x in raw), dtype=bool, count=len(raw))
    frequencies = np.full(len(rec), "", dtype=object)
    days = rec["period_start"].to_numpy().astype("datetime64[D]")
    starts = np.full(len(rec), np.datetime64("NaT"), dtype="datetime64[D]")
    rec_freq = rec["frequency"].to_numpy(dtype=object)
    half = alive & (rec_freq == "half")
    reject(half, "half-year periods cannot be stored (kpidesk keeps day, week, month, quarter or year)")
    alive &= ~half

    def as_mask(index: np.ndarray) -> np.ndarray:
        mask = np.zeros(len(rec), dtype=bool)
        mask[index] = True
        return mask

    # Row indexes of each (product, label) pair, found once: the loop below works on
    # small index arrays, not on full-length masks per KPI.
    order = np.argsort(pair_codes, kind="stable")
    edges = np.searchsorted(pair_codes[order], np.arange(len(pair_target) + 1))
    for code, target in enumerate(pair_target):
        if target is None:
            continue
        index = order[edges[code]:edges[code + 1]]
        index = index[alive[index]]
        if not len(index):
            continue
        flagged = is_percent[index]
        if target.unit == "percent":
            plain = index[~flagged]
            # The reader scaled percent-formatted number cells by 100; "12.5%" texts are exact.
            scaled = index[flagged & ~raw_is_text[index]]
            if len(plain) and looks_like_fractions(values[plain]):
                values[plain] *= 100.0
                scaled = np.concatenate([scaled, plain])
            values[scaled] = round_significant(values[scaled])
        elif target.unit == "ratio":
            values[index[flagged]] = round_significant(values[index[flagged]] / 100.0)
        elif flagged.any():
            reject(as_mask(index[flagged]),
                   f"a percentage cannot be stored in {target.name}, which is measured as {target.unit}")
            alive[index[flagged]] = False
            index = index[~flagged]
        low, high = bounds(target.unit, target.min_value, target.max_value)
        below = values[index] < low if low is not None else np.zeros(len(index), dtype=bool)
        above = values[index] > high if high is not None else np.zeros(len(index), dtype=bool)
        name = target.name
        if below.any():
            reject(as_mask(index[below]),
                   lambda v, low=low, name=name: f"{v:g} is below {low:g}, the lowest value {name} can take")
        if above.any():
            reject(as_mask(index[above]),
                   lambda v, high=high, name=name: f"{v:g} is above {high:g}, the highest value {name} can take")
        alive[index[below | above]] = False
        index = index[~(below | above)]
        # Snap each record to the coarser of its own and the KPI's frequency.
        index_freq = rec_freq[index]
        for freq in set(index_freq.tolist()):
            sub = index[index_freq == freq]
            chosen = target.frequency
            if _FREQ_RANK.get(freq, -1) > _FREQ_RANK.get(target.frequency, 99):
                chosen = freq
            frequencies[sub] = chosen
            starts[sub] = period_starts(days[sub], chosen)

    kept = ["sheet", "row", "column", "segment", "note"]
    # (a new frame either way: pandas copies on write, so no .copy() of 200,000 rows up front)
    accepted = rec[kept] if alive.all() else rec.loc[alive, kept]
    accepted["kpi_id"] = kpi_ids[alive]
    accepted["product"] = products[alive]
    accepted["kpi_key"] = keys[alive]
    accepted["value"] = values[alive]
    accepted["frequency"] = frequencies[alive]
    # ISO text per distinct day, spread by code: datetime_as_string over every row costs ~0.09 s
    # for 200,000 rows, over the few thousand distinct days almost nothing.
    day_codes, day_uniques = pd.factorize(starts[alive].astype(np.int64))
    accepted["period_start"] = np.datetime_as_string(
        day_uniques.astype("datetime64[D]"), unit="D").astype(object)[day_codes]
    pair_names = np.array([t.name if t else "" for t in pair_target] + [""], dtype=object)
    accepted["kpi_name"] = pair_names[pair_codes[alive]]

    # The same test on integer codes (a day's code stands for its text): hashing ints is cheaper.
    dup = pd.DataFrame({"k": accepted["kpi_id"].to_numpy(), "d": day_codes,
                        "s": pd.factorize(accepted["segment"])[0]}).duplicated(keep=False).to_numpy()
    if dup.any():
        groups = accepted[dup].groupby(["kpi_id", "period_start", "segment"], sort=False)
        cells = {
            idx: [f"{c}{int(r)}" for r, c in zip(g["row"], g["column"], strict=True)] for idx, g in groups
        }
        reasons = []
        for r in accepted[dup].itertuples(index=False):
            here = f"{r.column}{int(r.row)}"
            others = [c for c in cells[(r.kpi_id, r.period_start, r.segment)] if c != here][:3]
            seg = f" ({r.segment})" if r.segment else ""
            reasons.append(
                f"{r.kpi_name or r.kpi_key} already has a value for {r.period_start}{seg} "
                f"in this file (cell {', '.join(others)}); remove one of them"
            )
        dup_index = accepted.index[dup]
        part = rec.loc[dup_index, ["sheet", "row", "column", "kpi_label", "raw"]].copy()
        part["reason"] = reasons
        rejections.append(part)
        accepted = accepted[~dup]

    accepted = _classify(accepted, existing)
    rejected = _rejections(rejections)
    return ImportPlan(
        file_name=file_name,
        file_path=file_path,
        sha256=sha256,
        sheets=list(dict.fromkeys(rec["sheet"].tolist())),
        layout=layout,
        decisions=dict(decisions),
        values=accepted.reset_index(drop=True),
        rejected=rejected,
        skipped=_rejections(skipped_parts),
        new_products=list(new_products or []),
        new_kpis=[k for k in (new_kpis or []) if (accepted["kpi_id"] == k.placeholder_id).any()],
        missing_cells=missing_cells,
        ignored_cells=ignored_cells,
        default_product=default_product,
    )


def _classify(accepted: pd.DataFrame, existing: pd.DataFrame) -> pd.DataFrame:
    """Add old_value / old_note / action by joining on (kpi_id, period_start, segment)."""
    import numpy as np

    if existing is None or existing.empty:
        accepted = accepted.assign(old_value=np.nan, old_note="", action=INSERT)
        accepted["note"] = accepted["note"].astype(str)
        return accepted
    old = existing[["kpi_id", "period_start", "segment", "value", "note"]].rename(
        columns={"value": "old_value", "note": "old_note"}
    )
    old = old.assign(_found=True)
    merged = accepted.merge(old, on=["kpi_id", "period_start", "segment"], how="left", sort=False)
    merged.index = accepted.index
    found = merged["_found"].fillna(False).astype(bool).to_numpy()
    merged["old_note"] = merged["old_note"].fillna("").astype(str)
    # An empty note in the file keeps the stored note.
    keep_note = found & (merged["note"].to_numpy() == "")
    merged.loc[keep_note, "note"] = merged.loc[keep_note, "old_note"]
    old_values = merged["old_value"].to_numpy(dtype=np.float64)
    same = (
        found & (old_values == merged["value"].to_numpy()) & (merged["note"] == merged["old_note"]).to_numpy()
    )
    action = np.where(found, UPDATE, INSERT).astype(object)
    action[same] = UNCHANGED
    merged["action"] = action
    return merged.drop(columns=["_found"])


def _rejections(parts: list[pd.DataFrame]) -> list[Rejection]:
    import pandas as pd

    if not parts:
        return []
    frame = pd.concat(parts)
    frame = frame.assign(_width=frame["column"].str.len()).sort_values(
        ["sheet", "row", "_width", "column"], kind="stable"
    )
    return [
        Rejection(
            str(r.sheet),
            int(r.row),
            str(r.column),
            str(r.kpi_label),
            "" if r.raw is None else str(r.raw),
            str(r.reason),
        )
        for r in frame.itertuples(index=False)
    ]

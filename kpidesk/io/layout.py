"""Layout detection: where the header is and which shape the table has.

Three shapes are recognised (``Layout.kind``):

- ``long``  one row per value: a period column, a KPI column, a value column,
  optionally product, segment and note columns;
- ``wide``  one row per period: a period column and one column per KPI;
- ``rows``  one row per KPI, one column per period (the "Jan Feb Mar …"
  tracker); a label column names the KPI.

Detection looks at the first 60 rows only. The header row is the first row,
below any title rows, with at least two text cells that is followed by a row
holding numbers; merged cells above or in the header spread their value over
the columns they cover (a merged "2024" above Jan…Dec gives those columns
their year). Blank rows and columns are ignored; rows whose label says
Total/Sum/Average/Mean/Median/YTD/Subtotal are skipped and listed in
``skipped_rows``; section headings (a label and no values) are skipped too.

Everything detected can be overridden with a :class:`LayoutOverride` (the
import wizard shows ``Layout.reason`` and ``Layout.notes`` and lets the user
change kind, header row, columns and the year of bare month names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from kpidesk.io.grid import SheetGrid, a1, column_letter
from kpidesk.io.period_labels import ParsedPeriod, PeriodProblem, find_year, parse_period
from kpidesk.io.values import is_missing_text

LONG, WIDE, ROWS, UNKNOWN = "long", "wide", "rows", "unknown"
SCAN_ROWS = 60

TOTAL_RE = re.compile(
    r"^\s*(grand\s+total|sub-?total|totals?|sum|overall|average|avg\.?|mean|median|ytd|year\s+to\s+date|"
    r"fy\s+total|all)\b",
    re.IGNORECASE,
)
_PERIOD_WORDS = (
    "period",
    "date",
    "month",
    "week",
    "quarter",
    "year",
    "day",
    "time",
    "as of",
    "fecha",
    "datum",
    "mois",
    "monat",
)
_KPI_WORDS = ("kpi", "metric", "measure", "indicator", "kennzahl", "series", "variable", "name", "item")
_VALUE_WORDS = ("value", "amount", "actual", "result", "number", "figure", "wert", "valeur", "count", "score")
_SEGMENT_WORDS = ("segment", "channel", "region", "country", "plan", "tier", "cohort", "market", "source")
_PRODUCT_WORDS = ("product", "app", "brand")
_NOTE_WORDS = ("note", "comment", "remark", "description")
#: Words stripped from period headers ("Q3 Actual" → "Q3"); a target/plan column is not a measured value.
_ACTUAL_WORDS = re.compile(r"\b(actuals?|act\.?|results?)\b", re.IGNORECASE)
_TARGET_WORDS = re.compile(r"\b(target|plan|budget|forecast|fcst|goal|prior|ly|vs\.?)\b", re.IGNORECASE)


@dataclass(slots=True)
class Layout:
    """A detected (or overridden) layout of one sheet. Rows/columns are 0-based.

    ``header_row`` is the header's row; data rows are ``data_start`` up to
    ``data_stop`` (exclusive). Column roles depend on ``kind``:
    long uses ``period_col``, ``kpi_col``, ``value_col``; wide uses
    ``period_col`` and ``kpi_cols`` (column → KPI label); rows uses
    ``label_col`` and ``period_cols`` (column → ParsedPeriod, or PeriodProblem
    when the header has no year). ``segment_col``, ``product_col``,
    ``note_col`` are optional in every kind. ``skipped_rows`` and
    ``skipped_cols`` list (index, reason) shown to the user. ``confidence`` is
    0..1 and ``reason`` one sentence on why this kind was chosen.
    """

    kind: str
    sheet: str
    header_row: int = 0
    data_start: int = 1
    data_stop: int = 0
    confidence: float = 0.0
    reason: str = ""
    headers: list[str] = field(default_factory=list)
    period_col: int | None = None
    kpi_col: int | None = None
    value_col: int | None = None
    label_col: int | None = None
    segment_col: int | None = None
    product_col: int | None = None
    note_col: int | None = None
    kpi_cols: dict[int, str] = field(default_factory=dict)
    period_cols: dict[int, ParsedPeriod | PeriodProblem] = field(default_factory=dict)
    col_segments: dict[int, str] = field(default_factory=dict)
    skipped_rows: list[tuple[int, str]] = field(default_factory=list)
    skipped_cols: list[tuple[int, str]] = field(default_factory=list)
    year_hint: int | None = None
    dayfirst: bool = True
    decimal: str = "."
    frequency: str | None = None
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One paragraph for the preview: kind, header row, columns used."""
        parts = [
            f"Sheet {self.sheet!r}: {self.kind} layout, header on row {self.header_row + 1} ({self.reason})"
        ]
        if self.kind == LONG:
            parts.append(
                f"period in {_letter(self.period_col)}, KPI in {_letter(self.kpi_col)}, "
                f"value in {_letter(self.value_col)}"
            )
        elif self.kind == WIDE:
            parts.append(f"period in {_letter(self.period_col)}, {len(self.kpi_cols)} KPI column(s)")
        elif self.kind == ROWS:
            parts.append(f"KPI names in {_letter(self.label_col)}, {len(self.period_cols)} period column(s)")
        return "; ".join(parts) + "."


def _letter(col: int | None) -> str:
    return "—" if col is None else column_letter(col)


@dataclass(frozen=True, slots=True)
class LayoutOverride:
    """What the user changed in the wizard; None keeps the detected choice.

    Setting ``kind`` or ``header_row`` re-runs detection under that constraint
    first; explicit columns then replace the detected ones. ``year`` places
    bare month/quarter headers; ``frequency`` forces the period frequency of
    date cells (else inferred from their spacing).
    """

    kind: str | None = None
    header_row: int | None = None
    data_stop: int | None = None
    year: int | None = None
    period_col: int | None = None
    kpi_col: int | None = None
    value_col: int | None = None
    label_col: int | None = None
    segment_col: int | None = None
    product_col: int | None = None
    note_col: int | None = None
    kpi_cols: tuple[int, ...] | None = None
    dayfirst: bool | None = None
    decimal: str | None = None
    frequency: str | None = None


# --------------------------------------------------------------------------- cell helpers


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _label(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _looks_numeric(value: Any, decimal: str) -> bool:
    if _is_number(value):
        return True
    if isinstance(value, str):
        from kpidesk.io.values import parse_number

        parsed = parse_number(value, decimal=decimal)
        return parsed.value is not None
    return False


def _has_word(label: str, words: tuple[str, ...]) -> bool:
    folded = label.casefold()
    return any(re.search(rf"(^|[^a-z]){re.escape(w)}($|[^a-z])", folded) for w in words)


# --------------------------------------------------------------------------- detection


def detect_layout(sheet: SheetGrid, override: LayoutOverride | None = None) -> Layout:
    """Detect the layout of ``sheet``; apply ``override`` (see :class:`LayoutOverride`)."""
    override = override or LayoutOverride()
    head = sheet.head(SCAN_ROWS)
    decimal = override.decimal or sheet.decimal
    if not any(any(v is not None and v != "" for v in row) for row in head):
        return Layout(UNKNOWN, sheet.name, data_stop=0, reason="the sheet is empty", decimal=decimal)
    header_row = override.header_row if override.header_row is not None else _find_header(head, decimal)
    headers = _header_labels(sheet, head, header_row)
    year_hint = override.year if override.year is not None else _year_hint(sheet, head, header_row)
    layout = Layout(
        UNKNOWN,
        sheet.name,
        header_row=header_row,
        data_start=header_row + 1,
        data_stop=sheet.n_rows,
        headers=headers,
        year_hint=year_hint,
        decimal=decimal,
        frequency=override.frequency,
    )
    layout.data_stop = (
        _find_data_stop(sheet, head, header_row) if override.data_stop is None else override.data_stop
    )
    column_years = _column_years(sheet, header_row)
    period_cols = _period_header_cols(headers, year_hint, column_years)
    profile = _profile_columns(head, header_row + 1, layout.data_stop, len(headers), decimal)
    _assign_optional_cols(layout, headers, profile)

    kind = override.kind
    if kind is None:
        kind = _choose_kind(layout, headers, profile, period_cols)
    else:
        layout.reason = "chosen by you"
        layout.confidence = 1.0
    layout.kind = kind
    if kind == ROWS:
        _fill_rows(layout, headers, profile, period_cols, override)
    elif kind == LONG:
        _fill_long(layout, headers, profile, override)
    elif kind == WIDE:
        groups = {c: t for c, t in _group_labels(sheet, header_row).items() if find_year(t) is None}
        _fill_wide(layout, headers, profile, groups)
    _apply_column_overrides(layout, override)
    if override.dayfirst is not None:
        layout.dayfirst = override.dayfirst
    else:
        layout.dayfirst = _infer_dayfirst(sheet, layout)
    _flag_rows(sheet, layout)
    return layout


def _find_header(head: list[list[Any]], decimal: str) -> int:
    """First row with ≥ 2 text cells, covering most of the columns used below, followed by data."""
    widths = [sum(1 for v in row if v is not None and v != "") for row in head]
    best = None
    for r, row in enumerate(head[:40]):
        texts = sum(1 for v in row if _is_text(v) or _is_date_like(v))
        if texts < 2 or texts < 0.5 * widths[r]:
            continue
        below = [head[i] for i in range(r + 1, min(r + 8, len(head))) if widths[i] > 0]
        if not below:
            continue
        data_width = max(widths[r + 1 : r + 8] or [0])
        has_numbers = any(sum(1 for v in row2 if _looks_numeric(v, decimal)) >= 1 for row2 in below[:5])
        if has_numbers and texts >= min(2, data_width) and texts >= 0.5 * data_width:
            return r
        if best is None and has_numbers:
            best = r
    if best is not None:
        return best
    return next((r for r, w in enumerate(widths) if w >= 2), 0)


def _is_date_like(value: Any) -> bool:
    import datetime as dt

    return isinstance(value, dt.date)


def _header_labels(sheet: SheetGrid, head: list[list[Any]], header_row: int) -> list[str]:
    """Header texts; a merged header cell gives its text to every column it spans.

    A merged group label in the row above (e.g. "Revenue" over "EU | US")
    is kept apart in ``_group_labels``; years there become column years.
    """
    labels = []
    for c in range(sheet.n_cols):
        value = sheet.merged_value_at(header_row, c) if sheet.merged else sheet.cell(header_row, c)
        labels.append(_label(value) if not _is_date_like(value) else value.isoformat())
    return labels


def _group_labels(sheet: SheetGrid, header_row: int) -> dict[int, str]:
    """Column → text of a merged cell spanning ≥ 2 columns in the row just above the header."""
    groups: dict[int, str] = {}
    if header_row == 0:
        return groups
    for r0, c0, r1, c1 in sheet.merged:
        if r0 <= header_row - 1 <= r1 and c1 > c0 and r1 < header_row:
            text = _label(sheet.cell(r0, c0))
            if text:
                for c in range(c0, c1 + 1):
                    groups[c] = text
    return groups


def _column_years(sheet: SheetGrid, header_row: int) -> dict[int, int]:
    years = {}
    for c, text in _group_labels(sheet, header_row).items():
        year = find_year(text)
        if year is not None:
            years[c] = year
    return years


def _year_hint(sheet: SheetGrid, head: list[list[Any]], header_row: int) -> int | None:
    """A year written in a title row above the header, else in the sheet name."""
    for row in head[:header_row]:
        for value in row:
            if isinstance(value, str):
                year = find_year(value)
                if year:
                    return year
    return find_year(sheet.name)


def _period_header_cols(
    headers: list[str], year_hint: int | None, column_years: dict[int, int]
) -> dict[int, ParsedPeriod | PeriodProblem | str]:
    """Header cells that name a period. Target/plan columns map to a skip reason (str)."""
    found: dict[int, ParsedPeriod | PeriodProblem | str] = {}
    for c, label in enumerate(headers):
        if not label:
            continue
        is_target = bool(_TARGET_WORDS.search(label))
        cleaned = " ".join(_TARGET_WORDS.sub(" ", _ACTUAL_WORDS.sub(" ", label)).split()) or label
        parsed = parse_period(cleaned, year_hint=column_years.get(c, year_hint))
        if parsed is None and cleaned != label:
            parsed = parse_period(label, year_hint=column_years.get(c, year_hint))
        if parsed is None:
            continue
        found[c] = f"“{label}” is a target/plan column, not a measured value" if is_target else parsed
    return found


@dataclass(slots=True)
class _ColumnProfile:
    non_empty: int = 0
    numbers: int = 0
    dates: int = 0
    periods: int = 0
    texts: int = 0
    distinct_texts: set[str] = field(default_factory=set)
    serials: int = 0


def _profile_columns(
    head: list[list[Any]], start: int, stop: int, width: int, decimal: str
) -> list[_ColumnProfile]:
    profiles = [_ColumnProfile() for _ in range(width)]
    for row in head[start : min(stop, len(head))]:
        # A Total/Average row says nothing about the column types. Only the row's first filled
        # cell (its label position) says so: "2024-01-31 | Total revenue | 1200" is a value row.
        first = next((v for v in row if v is not None and v != ""), None)
        if _is_text(first) and TOTAL_RE.match(first):
            continue
        for c, value in enumerate(row[:width]):
            if value is None or value == "":
                continue
            if isinstance(value, str) and is_missing_text(value):
                continue  # "n/a", "—": says nothing about what the column holds
            prof = profiles[c]
            prof.non_empty += 1
            digits = value.strip() if isinstance(value, str) else ""
            # Only ASCII digit strings count as whole numbers ('²'.isdigit() is true but float('²') fails).
            if digits.isascii() and digits.isdigit():
                if len(digits) in {6, 8} and isinstance(parse_period(digits), ParsedPeriod):
                    prof.periods += 1  # 202403, 20240315
                    continue
                if len(digits) <= 6:
                    value = float(digits)  # CSV whole numbers: years and Excel serial days count as periods
            if _is_date_like(value):
                prof.dates += 1
                prof.periods += 1
            elif _is_number(value):
                prof.numbers += 1
                if 1900 <= value <= 2100 and float(value).is_integer():
                    prof.periods += 1
                if 20_000 <= value <= 80_000 and float(value).is_integer():
                    prof.serials += 1
            elif isinstance(value, str):
                parsed = parse_period(value, year_hint=2000, allow_bare_year=True)
                if isinstance(parsed, ParsedPeriod):
                    prof.periods += 1
                elif _looks_numeric(value, decimal):
                    prof.numbers += 1
                else:
                    prof.texts += 1
                    prof.distinct_texts.add(value.strip().casefold())
    return profiles


def _assign_optional_cols(layout: Layout, headers: list[str], profile: list[_ColumnProfile]) -> None:
    for c, label in enumerate(headers):
        if not label or profile[c].numbers > profile[c].texts:
            continue
        if layout.product_col is None and _has_word(label, _PRODUCT_WORDS):
            layout.product_col = c
        elif layout.note_col is None and _has_word(label, _NOTE_WORDS):
            layout.note_col = c
        elif layout.segment_col is None and _has_word(label, _SEGMENT_WORDS):
            layout.segment_col = c


def _period_column(headers: list[str], profile: list[_ColumnProfile], exclude: set[int]) -> int | None:
    """The column whose values are periods (dates, period labels), preferring a period-like header."""
    best, best_score = None, 0.0
    for c, prof in enumerate(profile):
        if c in exclude or prof.non_empty == 0:
            continue
        share = prof.periods / prof.non_empty
        named = _has_word(headers[c], _PERIOD_WORDS)
        if named and prof.serials / prof.non_empty >= 0.8:
            share = 1.0  # Excel serial day numbers in a CSV "Date" column
        score = share + (0.5 if named else 0.0) - (0.01 * c)
        # A column named "Date"/"Month" may hold a few bad cells (they become row problems).
        if share >= (0.6 if named else 0.8) and score > best_score:
            best, best_score = c, score
    return best


def _choose_kind(
    layout: Layout, headers: list[str], profile: list[_ColumnProfile], period_cols: dict[int, Any]
) -> str:
    optional = {c for c in (layout.segment_col, layout.product_col, layout.note_col) if c is not None}
    real_period_cols = [c for c, p in period_cols.items() if not isinstance(p, str)]
    period_col = _period_column(headers, profile, optional)
    if len(real_period_cols) >= 2 or (real_period_cols and period_col is None):
        layout.confidence = min(1.0, 0.5 + 0.1 * len(real_period_cols))
        layout.reason = (
            f"{len(real_period_cols)} column header(s) are periods ({headers[real_period_cols[0]]}, …)"
        )
        return ROWS
    if period_col is None:
        layout.reason = "no column of dates or periods was found, and no header names a period"
        layout.confidence = 0.0
        return UNKNOWN
    numeric = [
        c
        for c, p in enumerate(profile)
        if c != period_col and c not in optional and p.non_empty and p.numbers >= 0.6 * p.non_empty
    ]
    texts = [
        c
        for c, p in enumerate(profile)
        if c != period_col and c not in optional and p.non_empty and p.texts >= 0.6 * p.non_empty
    ]
    kpi_named = [c for c in texts if _has_word(headers[c], _KPI_WORDS)]
    value_named = [c for c in numeric if _has_word(headers[c], _VALUE_WORDS)]
    if kpi_named or (texts and len(numeric) == 1):
        layout.reason = (
            f"column {column_letter(period_col)} holds periods, "
            f"{column_letter((kpi_named or texts)[0])} KPI names and "
            f"{column_letter((value_named or numeric or [period_col])[0])} values"
        )
        layout.confidence = 0.9 if kpi_named and value_named else 0.7
        return LONG
    if numeric:
        layout.reason = (
            f"column {column_letter(period_col)} holds periods and {len(numeric)} column(s) hold numbers"
        )
        layout.confidence = 0.85 if _has_word(headers[period_col], _PERIOD_WORDS) else 0.7
        return WIDE
    layout.reason = f"column {column_letter(period_col)} holds periods but no column holds numbers"
    return UNKNOWN


def _fill_rows(
    layout: Layout,
    headers: list[str],
    profile: list[_ColumnProfile],
    period_cols: dict[int, Any],
    override: LayoutOverride,
) -> None:
    for c, parsed in period_cols.items():
        if isinstance(parsed, str):
            layout.skipped_cols.append((c, parsed))
        else:
            layout.period_cols[c] = parsed
    exact = {
        c: p.start for c, p in layout.period_cols.items() if isinstance(p, ParsedPeriod) and p.exact_date
    }
    if exact:
        # Date cells as column headers (01/01/2024, 01/04/2024 …): the series frequency comes from
        # their spacing, and each date moves to the first day of its period.
        from kpidesk.domain.periods import period_start
        from kpidesk.io.period_labels import infer_date_frequency

        frequency = layout.frequency or infer_date_frequency(list(exact.values()))
        for c, day in exact.items():
            layout.period_cols[c] = ParsedPeriod(period_start(day, frequency), frequency)
    first_period = min(layout.period_cols, default=len(headers))
    optional = {layout.segment_col, layout.product_col, layout.note_col}
    candidates = [c for c in range(first_period) if profile[c].texts > 0 and c not in optional]
    # The KPI names: a text column whose header says so ("Metric", "KPI"), else the text column
    # with the most distinct labels (a "Unit" or "Area" column repeats a few values).
    named = [c for c in candidates if _has_word(headers[c], _KPI_WORDS)]
    best = (
        named[0] if named else max(candidates, key=lambda c: (len(profile[c].distinct_texts), -c), default=0)
    )
    layout.label_col = override.label_col if override.label_col is not None else best
    for c, label in enumerate(headers):
        if c == layout.label_col or c in layout.period_cols or c in optional or not label:
            continue
        if any(c == skipped for skipped, _ in layout.skipped_cols):
            continue
        layout.skipped_cols.append((c, f"“{label}” is not a period"))
    problems = [p for p in layout.period_cols.values() if isinstance(p, PeriodProblem)]
    if problems:
        layout.notes.append(
            f"{len(problems)} period header(s) such as “{headers[min(c for c, p in layout.period_cols.items() if isinstance(p, PeriodProblem))]}” "
            "have no year and none was found in the title or sheet name; choose the year."
        )
        layout.confidence = min(layout.confidence or 0.6, 0.6)


def _fill_long(
    layout: Layout, headers: list[str], profile: list[_ColumnProfile], override: LayoutOverride
) -> None:
    optional = {c for c in (layout.segment_col, layout.product_col, layout.note_col) if c is not None}
    layout.period_col = _period_column(headers, profile, optional)
    taken = optional | {layout.period_col}
    texts = [
        c for c, p in enumerate(profile) if c not in taken and p.non_empty and p.texts >= 0.6 * p.non_empty
    ]
    numeric = [
        c for c, p in enumerate(profile) if c not in taken and p.non_empty and p.numbers >= 0.6 * p.non_empty
    ]
    kpi_named = [c for c in texts if _has_word(headers[c], _KPI_WORDS)]
    value_named = [c for c in numeric if _has_word(headers[c], _VALUE_WORDS)]
    layout.kpi_col = (kpi_named or texts or [None])[0]
    layout.value_col = (value_named or numeric or [None])[0]
    used = taken | {layout.kpi_col, layout.value_col}
    for c, prof in enumerate(profile):
        if c not in used and prof.non_empty:
            label = headers[c] or f"column {column_letter(c)}"
            layout.skipped_cols.append((c, f"“{label}” is not used (one value column per row is imported)"))
    del override


def _fill_wide(
    layout: Layout, headers: list[str], profile: list[_ColumnProfile], groups: dict[int, str]
) -> None:
    """KPI columns of a wide sheet. Under a merged group header ("Revenue" over "EU | US"),
    sub-labels that repeat across groups are segments of the group's KPI; otherwise the
    group and sub-label are joined ("Revenue EU")."""
    optional = {c for c in (layout.segment_col, layout.product_col, layout.note_col) if c is not None}
    layout.period_col = _period_column(headers, profile, optional)
    subs_by_group: dict[str, set[str]] = {}
    for c, group in groups.items():
        if headers[c]:
            subs_by_group.setdefault(group, set()).add(headers[c].casefold())
    repeated = set.intersection(*subs_by_group.values()) if len(subs_by_group) >= 2 else set()
    for c, prof in enumerate(profile):
        if c == layout.period_col or c in optional or not prof.non_empty:
            continue
        label = headers[c] or f"Column {column_letter(c)}"
        if prof.numbers < 0.6 * prof.non_empty:
            layout.skipped_cols.append((c, f"“{label}” holds text, not numbers"))
            continue
        if TOTAL_RE.match(label) or TOTAL_RE.match(groups.get(c, "")):
            layout.skipped_cols.append((c, f"“{groups.get(c, label)}” is a total column"))
            continue
        if c in groups and label.casefold() in repeated:
            layout.kpi_cols[c] = groups[c]
            layout.col_segments[c] = label
        elif c in groups and groups[c] != label:
            layout.kpi_cols[c] = f"{groups[c]} {label}"
        else:
            layout.kpi_cols[c] = label
    if layout.col_segments:
        layout.notes.append("Merged group headers were read as KPIs and the columns under them as segments.")


def _apply_column_overrides(layout: Layout, override: LayoutOverride) -> None:
    for name in ("period_col", "kpi_col", "value_col", "label_col", "segment_col", "product_col", "note_col"):
        value = getattr(override, name)
        if value is not None:
            setattr(layout, name, value)
    if override.kpi_cols is not None:
        layout.kpi_cols = {
            c: layout.headers[c]
            if c < len(layout.headers) and layout.headers[c]
            else f"Column {column_letter(c)}"
            for c in override.kpi_cols
        }
    # A column the user chose is no longer "skipped".
    used = {
        layout.period_col,
        layout.kpi_col,
        layout.value_col,
        layout.label_col,
        layout.segment_col,
        layout.product_col,
        layout.note_col,
        *layout.kpi_cols,
        *layout.period_cols,
    }
    layout.skipped_cols = [(c, reason) for c, reason in layout.skipped_cols if c not in used]


def _find_data_stop(sheet: SheetGrid, head: list[list[Any]], header_row: int) -> int:
    """Where the table ends: after blank rows (two, or one before a one-cell title row)
    that are *not* followed by more rows of the same table.

    "More of the table" means one of the next three non-blank rows has two or
    more cells including a number, so a section heading ("RETENTION") or blank
    lines between months never cut data off, while a HIGHLIGHTS block or a
    second table's header below two blank rows does end it.
    """
    blank_run = 0
    seen_data = False
    for r in range(header_row + 1, sheet.n_rows):
        row = head[r] if r < len(head) else sheet.row_values(r)
        filled = [v for v in row if v is not None and v != ""]
        if not filled:
            blank_run += 1
            continue
        if seen_data and blank_run >= 1:
            single_title = len(filled) == 1 and _is_text(filled[0]) and not TOTAL_RE.match(filled[0])
            if (blank_run >= 2 or single_title) and not _table_continues(sheet, head, r):
                return r - blank_run
        blank_run = 0
        seen_data = True
        if r >= len(head):
            return sheet.n_rows  # past the scanned block: assume the table runs to the end
    return sheet.n_rows


def _table_continues(sheet: SheetGrid, head: list[list[Any]], start: int) -> bool:
    """True when one of the next three non-blank rows from ``start`` looks like table data."""
    seen = 0
    for r in range(start, min(sheet.n_rows, start + 30)):
        row = head[r] if r < len(head) else sheet.row_values(r)
        filled = [v for v in row if v is not None and v != ""]
        if not filled:
            continue
        seen += 1
        if len(filled) >= 2 and any(_looks_numeric(v, sheet.decimal) for v in filled):
            return True
        if seen >= 3:
            return False
    return False


def _infer_dayfirst(sheet: SheetGrid, layout: Layout) -> bool:
    """Day/month order of texts like 03/04/2024 in the period column: a part > 12 decides; default day first."""
    if layout.period_col is None:
        return True
    pattern = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}")
    column = sheet.columns[layout.period_col]
    for text in column.texts[:5000]:
        match = pattern.match(text)
        if match:
            first, second = int(match.group(1)), int(match.group(2))
            if first > 12:
                return True
            if second > 12:
                layout.notes.append("Dates such as 03/04/2024 were read month first (US style).")
                return False
    return True


def _flag_rows(sheet: SheetGrid, layout: Layout) -> None:
    """Totals/average rows and section headings inside the data block → skipped_rows."""
    label_col = {ROWS: layout.label_col, LONG: layout.period_col, WIDE: layout.period_col}.get(layout.kind)
    if label_col is None:
        return
    value_cols = (
        list(layout.period_cols)
        if layout.kind == ROWS
        else list(layout.kpi_cols)
        if layout.kind == WIDE
        else [layout.value_col]
    )
    value_cols = [c for c in value_cols if c is not None]
    if layout.kind != ROWS:
        _flag_totals(sheet, layout, label_col)
    else:
        for r in range(layout.data_start, min(layout.data_stop, layout.data_start + 5000)):
            label = sheet.cell(r, label_col)
            if isinstance(label, str) and TOTAL_RE.match(label):
                layout.skipped_rows.append((r, f"row {r + 1} is a totals/average row (“{label.strip()}”)"))
                continue
            if _is_text(label) and all(sheet.cell(r, c) in (None, "") for c in value_cols):
                layout.skipped_rows.append(
                    (r, f"row {r + 1} is a section heading (“{label.strip()}”) with no values")
                )
    if layout.skipped_rows:
        layout.notes.append(
            f"{len(layout.skipped_rows)} row(s) skipped (totals, averages or section headings)."
        )


def _flag_totals(sheet: SheetGrid, layout: Layout, label_col: int) -> None:
    """:func:`_flag_rows` for long and wide tables, on the column arrays (a cell-by-cell loop
    over 5,000 rows cost ~20 ms): a row whose period cell is a totals label ("Total",
    "Average"); in long tables also a row with no period whose KPI cell is one. A KPI *named*
    "Total revenue" next to a period is a KPI, not a totals row."""
    import numpy as np

    start, stop = layout.data_start, min(layout.data_stop, layout.data_start + 5000, sheet.n_rows)
    if stop <= start or label_col >= sheet.n_cols:
        return

    def totals(col: int) -> np.ndarray:
        column = sheet.columns[col]
        codes = column.codes[start:stop]
        hit = np.zeros(len(column.texts) + 1, dtype=bool)  # the extra slot: code -1, not text
        for code in np.unique(codes[codes >= 0]).tolist():
            hit[code] = bool(TOTAL_RE.match(column.texts[code]))
        return hit[codes]

    flagged = totals(label_col)
    cols = np.full(stop - start, label_col)
    kpi_col = layout.kpi_col
    if layout.kind == LONG and kpi_col is not None and kpi_col < sheet.n_cols:
        by_kpi = sheet.columns[label_col].empty_mask()[start:stop] & totals(kpi_col)
        flagged |= by_kpi
        cols[by_kpi] = kpi_col
    for i in np.flatnonzero(flagged).tolist():
        label = str(sheet.cell(start + i, int(cols[i])))
        layout.skipped_rows.append((start + i, f"row {start + i + 1} is a totals/average row (“{label.strip()}”)"))


def with_override(layout: Layout, **changes: Any) -> Layout:
    """A copy of ``layout`` with fields replaced (for callers editing a detected layout)."""
    return replace(layout, **changes)


__all__ = [
    "LONG",
    "ROWS",
    "UNKNOWN",
    "WIDE",
    "Layout",
    "LayoutOverride",
    "a1",
    "detect_layout",
    "with_override",
]

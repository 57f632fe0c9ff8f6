"""Shared pieces of the recipes: the output record, column checks, period tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kpidesk.domain.analytics.rollup import period_keys
from kpidesk.domain.enums import Frequency
from kpidesk.errors import ValidationError


@dataclass
class KpiOutput:
    """One KPI series produced by a recipe.

    ``values`` is indexed by period start at ``frequency``. ``convention`` is
    the plain-words rule used (recorded on the KPI and printed in exports).
    Ratio KPIs also carry their ``numerator`` and ``denominator`` so a longer
    period can be recomputed. ``segment`` is "" for the total or ``kind:value``.
    """

    key: str
    frequency: Frequency
    values: pd.Series
    convention: str
    numerator: pd.Series | None = None
    denominator: pd.Series | None = None
    segment: str = ""
    # the unit when a convention changes it from the catalog's (CSAT as a mean score is no percent)
    unit: str | None = None


@dataclass
class RecipeResult:
    """Everything a recipe computed: KPI series plus tables (cohorts, funnels…)."""

    recipe: str
    outputs: list[KpiOutput] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    # the last day the export covers: the period containing it may be partial
    data_end: dt.date | None = None

    def get(self, key: str, segment: str = "") -> KpiOutput:
        for output in self.outputs:
            if output.key == key and output.segment == segment:
                return output
        raise KeyError(key)

    def keys(self) -> list[str]:
        return [output.key for output in self.outputs]


def row_number(frame: pd.DataFrame, position: int) -> int:
    """The row a user sees for a 0-based position: the file's row number when the
    reader recorded it (``frame.attrs["file_rows"]``: the index holds them), else position + 1."""
    if frame.attrs.get("file_rows"):
        return int(frame.index[position])
    return position + 1


def require_columns(
    frame: pd.DataFrame, recipe: str, required: Iterable[str], source: str = "the data"
) -> None:
    """Refuse a frame that lacks a column the recipe needs, naming it."""
    missing = [name for name in required if name not in frame.columns]
    if missing:
        raise ValidationError(
            f"The {recipe} recipe needs a {missing[0]!r} column in {source}; "
            f"found: {', '.join(map(str, frame.columns)) or 'no columns'}."
        )


# serial day numbers as spreadsheets store dates (1 = 1900-01-01 … 2958465 = 9999-12-31)
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EXCEL_MAX = 2_958_465


def _numeric_dates(numbers: pd.Series) -> pd.Series:
    """Numbers as dates: spreadsheet serials, else Unix seconds or milliseconds."""
    present = numbers.dropna()
    high = float(present.abs().max()) if len(present) else 0.0
    if high <= _EXCEL_MAX:
        return _EXCEL_EPOCH + pd.to_timedelta(numbers, unit="D")
    unit = "s" if high < 1e11 else "ms" if high < 1e14 else "ns"
    return pd.to_datetime(numbers, unit=unit)


def to_datetime_column(frame: pd.DataFrame, column: str, recipe: str) -> pd.Series:
    """The column as naive datetimes; an unreadable value is refused with its row.

    Text dates are parsed with one inferred format (fast), falling back to
    per-value parsing for mixed formats; numbers are read as spreadsheet day
    serials (e.g. 45292 = 2024-01-01) or, when too large for that, Unix time.
    """
    import warnings

    values = frame[column]
    if not pd.api.types.is_datetime64_any_dtype(values):
        numbers = pd.to_numeric(values, errors="coerce")
        if values.notna().any() and numbers.notna().sum() == values.notna().sum():
            converted = _numeric_dates(numbers)
        else:
            with warnings.catch_warnings():
                # "could not infer format" is expected on mixed exports; handled below
                warnings.simplefilter("ignore", UserWarning)
                converted = pd.to_datetime(values, errors="coerce")
                if (converted.isna() & values.notna()).any():
                    converted = pd.to_datetime(values, errors="coerce", format="mixed")
        bad = converted.isna() & values.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValidationError(
                f"The {recipe} recipe cannot read {values.iloc[row]!r} as a date "
                f"(column {column!r}, row {row_number(frame, row)})."
            )
        values = converted
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    return values


def to_number_column(frame: pd.DataFrame, column: str, recipe: str) -> pd.Series:
    """The column as float64; a non-numeric value is refused with its row."""
    values = frame[column]
    converted = pd.to_numeric(values, errors="coerce").astype(np.float64)
    bad = converted.isna() & values.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValidationError(
            f"The {recipe} recipe cannot read {values.iloc[row]!r} as a number "
            f"(column {column!r}, row {row_number(frame, row)})."
        )
    return converted


def day_numbers(timestamps: pd.Series | np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of each timestamp (int64), whatever the time unit."""
    values = np.asarray(timestamps)
    return values.astype("datetime64[D]").astype(np.int64)


@dataclass(frozen=True)
class PeriodTable:
    """Maps day numbers first..first+n−1 to period positions and period starts."""

    first_day: int
    period_of_day: np.ndarray  # int64 position of each day's period
    starts: pd.DatetimeIndex  # start of each period position

    @property
    def n_periods(self) -> int:
        return len(self.starts)


def period_table(first_day: int, n_days: int, frequency: Frequency | str) -> PeriodTable:
    """Build the day → period lookup for a contiguous day range."""
    days = pd.DatetimeIndex((np.arange(n_days) + first_day).astype("datetime64[D]"))
    keys = period_keys(days, frequency)
    codes, uniques = pd.factorize(keys, sort=True)
    return PeriodTable(first_day, codes.astype(np.int64), pd.DatetimeIndex(uniques))


def full_periods(index: pd.Index, frequency: Frequency | str) -> pd.DatetimeIndex:
    """Every period start from the first to the last of ``index`` (none skipped)."""
    starts = pd.DatetimeIndex(index)
    if not len(starts):
        return starts
    code = {"day": "D", "week": "W-MON", "month": "MS", "quarter": "QS", "year": "YS"}[
        Frequency(frequency).value
    ]
    return pd.date_range(starts.min(), starts.max(), freq=code, name="period_start")


def series(values: np.ndarray | list[float], index: pd.DatetimeIndex, name: str) -> pd.Series:
    """A float KPI series indexed by period start."""
    out = pd.Series(np.asarray(values, dtype=np.float64), index=pd.DatetimeIndex(index), name=name)
    out.index.name = "period_start"
    return out


def safe_ratio(numerator: pd.Series, denominator: pd.Series, scale: float = 1.0) -> pd.Series:
    """scale × numerator / denominator, missing where the denominator is 0 or missing."""
    den = denominator.astype(np.float64)
    return scale * numerator.astype(np.float64) / den.where(den != 0)

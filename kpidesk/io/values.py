"""Cell values as people type them → numbers, with pure functions.

``parse_number`` turns one cell text into a :class:`ParsedNumber`; the rules:

- surrounding spaces, non-breaking and thin spaces are ignored; the Unicode
  minus ``−`` is a minus;
- ``""``, ``"-"``, ``"—"``, ``"–"``, ``"n/a"``, ``"NA"``, ``"N.A."``, ``"null"``,
  ``"none"``, ``"nan"``, ``"?"`` and Excel errors (``#N/A``, ``#DIV/0!``, ...) are
  *missing* (``value is None``, ``missing`` true);
- ``(1,234)`` is ``-1234`` (accounting negative); a leading ``+`` is allowed;
- a trailing (or leading) ``%`` makes ``is_percent`` true and keeps the number
  in percentage points: ``"12.5 %"`` → ``12.5`` with ``is_percent`` (kpidesk
  stores percent units in points, so ``"12%"`` and a plain ``0.12`` land the
  same once the caller applies :func:`to_percentage_points`);
- a currency symbol (``$ € £ ¥ ₹ ...``) or a common ISO code (``USD``, ``EUR``,
  ...) before or after the number is noted in ``currency`` and dropped;
- thousands separators: with ``decimal=","`` dots, spaces and apostrophes are
  thousands separators; with ``decimal="."`` commas, spaces and apostrophes are.
  When both ``,`` and ``.`` appear the rightmost is the decimal mark
  (``1,234.5`` and ``1.234,5``), whatever ``decimal`` says. With
  ``decimal=None`` (unknown) a lone ``,`` followed by
  exactly three digits groups thousands (``1,234`` → 1234, ``1,234,567``) and
  otherwise is a decimal comma (``12,5`` → 12.5); several dots group
  thousands (``1.234.567``), a single dot is a decimal point.

Everything here is pure (no I/O) and the vectorised variant
:func:`parse_number_array` parses each distinct text once, so a column of
200,000 cells costs one pass of pandas plus the distinct values.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

#: Texts that mean "no value" (compared after strip + casefold).
MISSING_TOKENS = frozenset(
    {
        "",
        "-",
        "--",
        "—",
        "–",
        "n/a",
        "na",
        "n.a.",
        "n.a",
        "#n/a",
        "null",
        "none",
        "nan",
        "?",
        "..",
        "…",
        "nil",
    }
)
#: Excel error literals; a cell holding one is missing, with a problem saying which.
EXCEL_ERRORS = frozenset(
    {"#n/a", "#div/0!", "#value!", "#ref!", "#name?", "#num!", "#null!", "#spill!", "#calc!"}
)

CURRENCY_SYMBOLS = (
    "R$",
    "US$",
    "A$",
    "C$",
    "$",
    "€",
    "£",
    "¥",
    "₹",
    "₽",
    "₩",
    "₺",
    "₪",
    "₫",
    "₴",
    "฿",
    "₦",
    "zł",
    "kr",
)
CURRENCY_CODES = frozenset(
    [
        "USD",
        "EUR",
        "GBP",
        "JPY",
        "CNY",
        "INR",
        "CHF",
        "CAD",
        "AUD",
        "NZD",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "CZK",
        "HUF",
        "RUB",
        "BRL",
        "MXN",
        "ZAR",
        "TRY",
        "KRW",
        "SGD",
        "HKD",
        "ILS",
        "AED",
        "SAR",
        "THB",
        "IDR",
        "MYR",
        "PHP",
        "VND",
        "UAH",
        "NGN",
        "ARS",
        "CLP",
        "COP",
        "PEN",
        "RON",
        "BGN",
        "ISK",
    ]
)

_SPACES = str.maketrans(
    {"\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2007": " ", "\u2212": "-", "\u2013": "-"}
)
_CODE_RE = re.compile(r"^([A-Z]{3})\s*(.+)$|^(.+?)\s*([A-Z]{3})$")
_PLAIN_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_GROUPED_COMMA_RE = re.compile(r"^\d{1,3}(,\d{3})+$")
_GROUPED_DOT_RE = re.compile(r"^\d{1,3}(\.\d{3})+$")


@dataclass(frozen=True, slots=True)
class ParsedNumber:
    """The outcome of parsing one cell.

    ``value`` is None when the cell is missing or unreadable; ``problem`` then
    says why for unreadable text (``missing`` cells have no problem).
    """

    value: float | None
    is_percent: bool = False
    currency: str | None = None
    missing: bool = False
    problem: str | None = None


MISSING = ParsedNumber(None, missing=True)


def is_missing_text(text: str) -> bool:
    """True when ``text`` is one of the tokens that mean "no value"."""
    return text.translate(_SPACES).strip().casefold() in MISSING_TOKENS


def parse_number(raw: Any, *, decimal: str | None = None) -> ParsedNumber:
    """Parse one cell (number, bool, None or text) into a :class:`ParsedNumber`.

    Numbers pass through (NaN → missing); bools are refused (a tick box is not a
    KPI value); text follows the rules in the module docstring.
    """
    if raw is None:
        return MISSING
    if isinstance(raw, bool):
        return ParsedNumber(None, problem=f"{raw} is a yes/no value, not a number")
    if isinstance(raw, int | float):
        value = float(raw)
        if math.isnan(value):
            return MISSING
        if math.isinf(value):
            return ParsedNumber(None, problem="the number is infinite")
        return ParsedNumber(value)
    if not isinstance(raw, str):
        return ParsedNumber(None, problem=f"{type(raw).__name__} {raw!s} is not a number")
    return _parse_text(raw, decimal)


def _parse_text(raw: str, decimal: str | None) -> ParsedNumber:
    text = raw.translate(_SPACES).strip()
    folded = text.casefold()
    if folded in MISSING_TOKENS:
        return MISSING
    if folded in EXCEL_ERRORS:
        return ParsedNumber(None, missing=True, problem=f"the cell holds the Excel error {text}")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    is_percent = False
    if text.endswith("%"):
        is_percent, text = True, text[:-1].strip()
    elif text.startswith("%"):
        is_percent, text = True, text[1:].strip()
    text, currency = _strip_currency(text)
    if text.startswith("(") and text.endswith(")") and not negative:
        negative, text = True, text[1:-1].strip()
    if text.startswith(("+", "-")):
        sign, body = text[0], text[1:].strip()
        negative = negative != (sign == "-")
        text, found = _strip_currency(body)
        currency = currency or found
    if text.endswith("%") and not is_percent:
        is_percent, text = True, text[:-1].strip()
    number = _parse_digits(text, decimal)
    if number is None:
        return ParsedNumber(None, problem=f"{raw.strip()!r} is not a number")
    if math.isinf(number):
        return ParsedNumber(None, problem=f"{raw.strip()!r} is too large")
    return ParsedNumber(-number if negative else number, is_percent=is_percent, currency=currency)


def _strip_currency(text: str) -> tuple[str, str | None]:
    for symbol in CURRENCY_SYMBOLS:
        if text.startswith(symbol):
            return text[len(symbol) :].strip(), symbol
        if text.endswith(symbol) and len(text) > len(symbol):
            return text[: -len(symbol)].strip(), symbol
    match = _CODE_RE.match(text)
    if match:
        code = match.group(1) or match.group(4)
        if code in CURRENCY_CODES:
            return (match.group(2) or match.group(3)).strip(), code
    return text, None


def _parse_digits(text: str, decimal: str | None) -> float | None:
    """Digits with optional grouping and one decimal mark → float, else None."""
    compact = text.replace(" ", "").replace("'", "").replace("_", "")
    if not compact:
        return None
    has_comma, has_dot = "," in compact, "." in compact
    if has_comma and has_dot:
        # Both marks: the rightmost is the decimal mark ("1,234.5", "1.234,5"), whatever the file says.
        comma_decimal = compact.rfind(",") > compact.rfind(".")
        compact = compact.replace(".", "").replace(",", ".") if comma_decimal else compact.replace(",", "")
    elif has_comma:
        grouped = _GROUPED_COMMA_RE.match(compact.lstrip("+-")) is not None
        compact = compact.replace(",", "") if grouped and decimal != "," else compact.replace(",", ".")
    elif (
        has_dot and (compact.count(".") > 1 or decimal == ",") and _GROUPED_DOT_RE.match(compact.lstrip("+-"))
    ):
        # "1.234.567", or "1.234" in a decimal-comma file: dots group thousands.
        compact = compact.replace(".", "")
    if not _PLAIN_RE.match(compact):
        return None
    return float(compact)


def to_percentage_points(value: float, *, is_percent: bool, fraction: bool) -> float:
    """A percent KPI's stored value (percentage points) from a parsed cell.

    Rule: a cell that carried ``%`` is already in points (``"12%"`` → 12).
    A plain number is a fraction when ``fraction`` is true (Excel keeps 12 %
    as 0.12) → ``value * 100``; otherwise it is taken as points.
    Example: 0.125 with fraction → 12.5; "12.5 %" → 12.5.
    """
    if is_percent or not fraction:
        return value
    return value * 100.0


def looks_like_fractions(values: np.ndarray) -> bool:
    """Heuristic for a percent KPI's plain numbers: all within [-1.5, 1.5] → fractions.

    Used when the cell carried no ``%`` (no number format reached us): a series of
    conversion rates 0.37, 0.41 is a fraction; 37, 41 is points. Empty → False.
    """
    import numpy as np

    finite = values[np.isfinite(values)]
    return bool(finite.size) and bool(np.all(np.abs(finite) <= 1.5))


@dataclass(frozen=True, slots=True)
class NumberArrays:
    """Vectorised parse of a column: aligned arrays of the same length.

    ``value`` float64 (NaN when missing or unreadable), ``is_percent`` bool,
    ``missing`` bool (empty / n/a / — ...), ``problem`` object (None or a reason
    for unreadable cells), ``currency`` object (None or the symbol/code seen).
    """

    value: np.ndarray
    is_percent: np.ndarray
    missing: np.ndarray
    problem: np.ndarray
    currency: np.ndarray


def parse_number_array(raw: np.ndarray, *, decimal: str | None = None) -> NumberArrays:
    """Parse an object (or float) array of cells; each distinct text is parsed once.

    Fast paths: a float64 array is taken as is (NaN = missing); plain decimal
    texts go through ``pandas.to_numeric``; every remaining distinct text goes
    through :func:`parse_number`.
    """
    import numpy as np
    import pandas as pd

    n = len(raw)
    if raw.dtype.kind in "fiu":
        value = raw.astype(np.float64, copy=True)
        missing = np.isnan(value)
        return NumberArrays(
            value,
            np.zeros(n, bool),
            missing,
            np.full(n, None, dtype=object),
            np.full(n, None, dtype=object),
        )
    series = pd.Series(raw, dtype=object, copy=False)
    value = np.full(n, np.nan)
    is_percent = np.zeros(n, bool)
    missing = np.zeros(n, bool)
    problem = np.full(n, None, dtype=object)
    currency = np.full(n, None, dtype=object)
    is_float = np.fromiter((type(x) is float or type(x) is int for x in raw), dtype=bool, count=n)
    if is_float.any():
        value[is_float] = raw[is_float].astype(np.float64)
        missing[is_float] = np.isnan(value[is_float])
    rest = ~is_float
    if rest.any() and decimal != ",":
        # pandas parses plain decimal text ("12.5", "-3e4") in C; grouping, %,
        # currency and missing tokens fall through to the slow path below.
        texts = series[rest]
        is_text = np.fromiter((type(x) is str for x in texts), dtype=bool, count=len(texts))
        fast = pd.to_numeric(texts.where(is_text, None), errors="coerce").to_numpy(dtype=np.float64)
        ok = np.isfinite(fast)
        idx = np.flatnonzero(rest)[ok]
        value[idx] = fast[ok]
        rest[idx] = False
    if rest.any():
        idx = np.flatnonzero(rest)
        codes, uniques = pd.factorize(series.iloc[idx], use_na_sentinel=False)
        parsed = [parse_number(u, decimal=decimal) for u in uniques]
        u_value = np.array([np.nan if p.value is None else p.value for p in parsed], dtype=np.float64)
        value[idx] = u_value[codes]
        is_percent[idx] = np.array([p.is_percent for p in parsed], dtype=bool)[codes]
        missing[idx] = np.array([p.missing for p in parsed], dtype=bool)[codes]
        problem[idx] = np.array([p.problem for p in parsed] + [None], dtype=object)[:-1][codes]
        currency[idx] = np.array([p.currency for p in parsed] + [None], dtype=object)[:-1][codes]
    return NumberArrays(value, is_percent, missing, problem, currency)


def parse_distinct_texts(
    texts: list[str], *, decimal: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(value, is_percent, problem, currency) arrays for a list of distinct cell texts.

    ``problem`` holds "" for readable and missing texts; ``currency`` the
    symbol or ISO code seen ("" for none). Plain decimal texts
    ("12.5", "-3e4"; with ``decimal=","`` also "12,5") are converted by
    ``pandas.to_numeric`` in C; the rest go through :func:`parse_number`.
    A CSV column of 200,000 distinct numbers thus costs one vectorised pass.
    """
    import numpy as np
    import pandas as pd

    n = len(texts)
    value = np.full(n, np.nan)
    is_percent = np.zeros(n, bool)
    problem = np.full(n, "", dtype=object)
    currency = np.full(n, "", dtype=object)
    if n == 0:
        return value, is_percent, problem, currency
    series = pd.Series(texts, dtype=object)
    if decimal == ",":
        plain = ~series.str.contains(".", regex=False)
        candidates = series[plain].str.replace(",", ".", regex=False)
    else:
        # "1,234" is NaN for to_numeric and falls through to parse_number: no filter needed.
        plain = pd.Series(np.ones(n, bool))
        candidates = series
    fast = pd.to_numeric(candidates, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    done = np.zeros(n, bool)
    ok = np.isfinite(fast)
    positions = np.flatnonzero(plain.to_numpy())[ok]
    value[positions] = fast[ok]
    done[positions] = True
    for i in np.flatnonzero(~done).tolist():
        parsed = parse_number(texts[i], decimal=decimal)
        if parsed.value is not None:
            value[i] = parsed.value
        is_percent[i] = parsed.is_percent
        if parsed.problem and not parsed.missing:
            problem[i] = parsed.problem
        if parsed.currency:
            currency[i] = parsed.currency
    return value, is_percent, problem, currency

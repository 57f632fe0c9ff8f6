"""Period labels and dates as found in spreadsheets → (period start, frequency).

Pure functions. A period is the first day of the period plus its frequency
(``kpidesk.domain.periods``). Recognised forms (case-insensitive):

==================  ===========================  ==========
form                examples                     frequency
==================  ===========================  ==========
ISO date            2024-03-15, 2024/03/15       day
day/month/year      15/03/2024, 15.03.2024       day (``dayfirst``)
month name dates    15 Mar 2024, Mar 15, 2024    day
month               2024-03, 03/2024, Mar 2024,  month
                    March 2024, Mar-24, 2024 Mar
quarter             2024-Q3, Q3 2024, Q3-24,     quarter
                    3Q24
ISO week            2024-W05, W05 2024,          week (Monday of ISO week)
                    Week 5 2024
year                FY2024, FY 24, CY2024, 2024  year
compact dates       20240315, 202403             day, month
half year           H1 2024, 2024-H2             ``half`` (not a kpidesk
                                                 frequency; caller decides)
bare month          Jan, January, Mär, janv.     month, needs ``year_hint``
bare quarter/half   Q3, H1, W5, Week 12          needs ``year_hint``
==================  ===========================  ==========

Excel serial day numbers: :func:`excel_serial_to_date` for both the 1900
system (day 1 = 1900-01-01, with Lotus' phantom 1900-02-29 as day 60) and the
1904 system (day 0 = 1904-01-01).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from typing import Any

HALF = "half"  # H1/H2: six-month period; kpidesk has no such frequency

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        "jan january janv januar enero gennaio jän",
        "feb february févr fevr février februar febrero febbraio",
        "mar march mars märz mär marz marzo",
        "apr april avr avril abril aprile",
        "may mai mayo maggio",
        "jun june juin juni junio giugno",
        "jul july juil juillet juli julio luglio",
        "aug august août aout agosto",
        "sep sept september septembre septiembre settembre",
        "oct october octobre oktober okt octubre ottobre",
        "nov november novembre noviembre",
        "dec december déc decembre décembre dezember dez diciembre dicembre",
    ],
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number

_MONTH_ALT = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_YEAR = r"(\d{4}|'?\d{2})"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"), "ymd"),
    (re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})(?: \d{1,2}:\d{2}(?::\d{2})?)?$"), "dmy_or_mdy"),
    (re.compile(rf"^(\d{{1,2}})[-\s]({_MONTH_ALT})\.?[-\s,]+(\d{{4}})$"), "d_mon_y"),
    (re.compile(rf"^({_MONTH_ALT})\.?\s+(\d{{1,2}}),?\s+(\d{{4}})$"), "mon_d_y"),
    (re.compile(r"^(\d{4})(?:[-/.]m?|m)(\d{1,2})$"), "y_m"),
    (re.compile(r"^(\d{1,2})[-/.](\d{4})$"), "m_y"),
    (re.compile(rf"^({_MONTH_ALT})\.?[-\s/,]*{_YEAR}$"), "mon_y"),
    (re.compile(rf"^(\d{{4}})[-\s/]*({_MONTH_ALT})\.?$"), "y_mon"),
    (re.compile(r"^(?:fy\s*)?(\d{4})[-\s/]*q([1-4])$"), "y_q"),
    (re.compile(rf"^q([1-4])(?:[-\s/]*(?:fy)?\s*){_YEAR}$"), "q_y"),
    (re.compile(rf"^([1-4])q[-\s/]*{_YEAR}$"), "q_y"),  # finance style: 1Q24, 3Q 2024
    (re.compile(r"^(\d{4})[-\s]*w(?:k|eek)?\s*(\d{1,2})$"), "y_w"),
    (re.compile(rf"^w(?:k|eek)?\s*(\d{{1,2}})[-\s/,]+{_YEAR}$"), "w_y"),
    (re.compile(r"^(\d{4})[-\s]*h([12])$"), "y_h"),
    (re.compile(rf"^h([12])[-\s/]*{_YEAR}$"), "h_y"),
    (re.compile(rf"^(?:fy|cy)\s*{_YEAR}$"), "fy"),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), "ymd_basic"),  # 20240315
    (re.compile(r"^(\d{4})(\d{2})$"), "ym_basic"),  # 202403
    (re.compile(r"^(\d{4})$"), "year"),
    (re.compile(rf"^({_MONTH_ALT})\.?$"), "mon"),
    (re.compile(r"^q([1-4])$"), "q_only"),
    (re.compile(r"^w(?:k|eek)?\s*(\d{1,2})$"), "w_only"),
    (re.compile(r"^h([12])$"), "h_only"),
]


@dataclass(frozen=True, slots=True)
class ParsedPeriod:
    """A recognised period: ``start`` (first day) and ``frequency``.

    ``frequency`` is a ``kpidesk.domain.enums.Frequency`` value or ``"half"``.
    ``exact_date`` is true when the source was a single day (a date cell or a
    full date text): the caller may then infer the series frequency from the
    spacing of the dates (:func:`infer_date_frequency`).
    """

    start: dt.date
    frequency: str
    exact_date: bool = False


@dataclass(frozen=True, slots=True)
class PeriodProblem:
    """A label that looks like a period but cannot be placed (e.g. "Jan" with no year)."""

    reason: str
    month: int | None = None


def _year(text: str) -> int:
    text = text.lstrip("'")
    year = int(text)
    # Two-digit years: 00-69 → 2000s, 70-99 → 1900s (the spreadsheet convention).
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_period(
    raw: Any, *, year_hint: int | None = None, dayfirst: bool = True, allow_bare_year: bool = True
) -> ParsedPeriod | PeriodProblem | None:
    """Parse a cell into a period; None when it does not look like one.

    ``year_hint`` places bare month names ("Jan"); without it they give a
    :class:`PeriodProblem`. ``dayfirst`` resolves 03/04/2024 (True: 3 April).
    Integers 1900-2100 are years only when ``allow_bare_year``.
    """
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, dt.datetime):
        return ParsedPeriod(raw.date(), "day", exact_date=True)
    if isinstance(raw, dt.date):
        return ParsedPeriod(raw, "day", exact_date=True)
    if isinstance(raw, int | float):
        if allow_bare_year and float(raw).is_integer() and 1900 <= raw <= 2100:
            return ParsedPeriod(dt.date(int(raw), 1, 1), "year")
        return None
    if not isinstance(raw, str):
        return None
    text = " ".join(raw.replace("\u00a0", " ").strip().casefold().split())
    if not text or len(text) > 40:
        return None
    for pattern, kind in _PATTERNS:
        match = pattern.match(text)
        if match:
            return _build(kind, match.groups(), year_hint, dayfirst, allow_bare_year)
    return None


def _build(
    kind: str, g: tuple[str, ...], year_hint: int | None, dayfirst: bool, allow_bare_year: bool
) -> ParsedPeriod | PeriodProblem | None:
    if kind in {"ymd_basic", "ym_basic"} and not 1900 <= int(g[0]) <= 2100:
        return None
    if kind == "ym_basic":
        return ParsedPeriod(dt.date(int(g[0]), int(g[1]), 1), "month") if 1 <= int(g[1]) <= 12 else None
    if kind in {"ymd", "ymd_basic"}:
        day = _safe_date(int(g[0]), int(g[1]), int(g[2]))
        return ParsedPeriod(day, "day", exact_date=True) if day else None
    if kind == "dmy_or_mdy":
        a, b, year = int(g[0]), int(g[1]), _year(g[2])
        day_n, month_n = (a, b) if dayfirst else (b, a)
        if month_n > 12 and day_n <= 12:
            day_n, month_n = month_n, day_n
        day = _safe_date(year, month_n, day_n)
        return ParsedPeriod(day, "day", exact_date=True) if day else None
    if kind == "d_mon_y":
        day = _safe_date(int(g[2]), _MONTHS[g[1]], int(g[0]))
        return ParsedPeriod(day, "day", exact_date=True) if day else None
    if kind == "mon_d_y":
        day = _safe_date(int(g[2]), _MONTHS[g[0]], int(g[1]))
        return ParsedPeriod(day, "day", exact_date=True) if day else None
    if kind in {"y_m", "m_y"}:
        year, month = (int(g[0]), int(g[1])) if kind == "y_m" else (int(g[1]), int(g[0]))
        return ParsedPeriod(dt.date(year, month, 1), "month") if 1 <= month <= 12 else None
    if kind == "mon_y":
        return ParsedPeriod(dt.date(_year(g[1]), _MONTHS[g[0]], 1), "month")
    if kind == "y_mon":
        return ParsedPeriod(dt.date(int(g[0]), _MONTHS[g[1]], 1), "month")
    if kind in {"y_q", "q_y"}:
        year, quarter = (int(g[0]), int(g[1])) if kind == "y_q" else (_year(g[1]), int(g[0]))
        return ParsedPeriod(dt.date(year, 3 * (quarter - 1) + 1, 1), "quarter")
    if kind in {"y_w", "w_y"}:
        year, week = (int(g[0]), int(g[1])) if kind == "y_w" else (_year(g[1]), int(g[0]))
        try:
            return ParsedPeriod(dt.date.fromisocalendar(year, week, 1), "week")
        except ValueError:
            return None
    if kind in {"y_h", "h_y"}:
        year, half = (int(g[0]), int(g[1])) if kind == "y_h" else (_year(g[1]), int(g[0]))
        return ParsedPeriod(dt.date(year, 1 if half == 1 else 7, 1), HALF)
    if kind == "fy":
        return ParsedPeriod(dt.date(_year(g[0]), 1, 1), "year")
    if kind == "year":
        year = int(g[0])
        return ParsedPeriod(dt.date(year, 1, 1), "year") if allow_bare_year and 1900 <= year <= 2100 else None
    if kind == "mon":
        month = _MONTHS[g[0]]
        if year_hint is None:
            return PeriodProblem(f"{g[0].title()} has no year; choose the year", month=month)
        return ParsedPeriod(dt.date(year_hint, month, 1), "month")
    if kind == "w_only":
        week = int(g[0])
        if year_hint is None:
            return PeriodProblem(f"week {week} has no year; choose the year")
        try:
            return ParsedPeriod(dt.date.fromisocalendar(year_hint, week, 1), "week")
        except ValueError:
            return None
    if kind in {"q_only", "h_only"}:
        number = int(g[0])
        if year_hint is None:
            return PeriodProblem(f"{kind[0].upper()}{number} has no year; choose the year")
        if kind == "q_only":
            return ParsedPeriod(dt.date(year_hint, 3 * (number - 1) + 1, 1), "quarter")
        return ParsedPeriod(dt.date(year_hint, 1 if number == 1 else 7, 1), HALF)
    return None


_YEAR_IN_TEXT = re.compile(r"(?<![\d])(?:fy\s*'?)?((?:19|20)\d{2})(?![\d])", re.IGNORECASE)


def find_year(text: Any) -> int | None:
    """The first plausible year (1900-2099) written in a title or sheet name, else None.

    "KPI tracker FY2024" → 2024; "Budget 2023 v2" → 2023; "Q3" → None.
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        return int(text) if float(text).is_integer() and 1900 <= text <= 2099 else None
    if not isinstance(text, str):
        return None
    match = _YEAR_IN_TEXT.search(text)
    return int(match.group(1)) if match else None


def excel_serial_to_date(serial: float, *, date1904: bool = False) -> dt.date | None:
    """An Excel serial day number → date; None outside 1900-01-01 .. 9999-12-31.

    1900 system: serial 1 = 1900-01-01; Excel counts a non-existent 1900-02-29
    as serial 60, so serials ≥ 61 are one day ahead: date = 1899-12-30 + serial
    (serial 45352 → 2024-03-01); serials 1..59 use 1899-12-31 + serial.
    1904 system: date = 1904-01-01 + serial (serial 43890 → 2024-03-01).
    The fraction (time of day) is dropped.
    """
    whole = int(serial // 1)
    if date1904:
        base, limit = dt.date(1904, 1, 1), 2_957_003
    else:
        if whole < 1:
            return None
        base = dt.date(1899, 12, 30) if whole >= 61 else dt.date(1899, 12, 31)
        limit = 2_958_465
        if whole == 60:
            return None  # 1900-02-29 never existed
    if whole < 0 or whole > limit:
        return None
    return base + dt.timedelta(days=whole)


def infer_date_frequency(dates: list[dt.date]) -> str:
    """The frequency of a series of single dates, from their spacing.

    Rule: take the distinct sorted dates; with fewer than two, "day" unless
    the one date is a 1st of a month ("month"). Otherwise the median gap g
    in days: g ≤ 1 → day; 6 ≤ g ≤ 8 → week; 27 ≤ g ≤ 32 → month; 88 ≤ g ≤ 93 →
    quarter; 360 ≤ g ≤ 370 → year; anything else → day (keep every date).
    All-first-of-month dates with a larger gap keep month/quarter/year.
    """
    distinct = sorted(set(dates))
    if len(distinct) < 2:
        return "month" if distinct and distinct[0].day == 1 else "day"
    gaps = sorted((b - a).days for a, b in itertools.pairwise(distinct))
    gap = gaps[len(gaps) // 2]
    if gap <= 1:
        return "day"
    if 6 <= gap <= 8:
        return "week"
    if 27 <= gap <= 32:
        return "month"
    if 88 <= gap <= 93:
        return "quarter"
    if 360 <= gap <= 370:
        return "year"
    return "day"

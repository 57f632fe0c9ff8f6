"""The words a PM types for a goal: "by 25%", "within the next quarter".

``parse_change("25%")`` → ``(25.0, "percent")``; ``parse_change("5")`` or
``"5pp"`` → ``(5.0, "absolute")``. ``parse_horizon("next quarter", today)``
→ the (start, due) dates of the next calendar quarter.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from kpidesk.domain.enums import Frequency, GoalKind
from kpidesk.domain.goals.model import RELATIVE_ABSOLUTE, RELATIVE_PERCENT
from kpidesk.domain.periods import next_period_start, period_end, period_start
from kpidesk.errors import ValidationError

_UNITS = {
    "day": Frequency.DAY, "days": Frequency.DAY,
    "week": Frequency.WEEK, "weeks": Frequency.WEEK,
    "month": Frequency.MONTH, "months": Frequency.MONTH,
    "quarter": Frequency.QUARTER, "quarters": Frequency.QUARTER,
    "year": Frequency.YEAR, "years": Frequency.YEAR,
}
_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "six": 6, "twelve": 12}


def parse_change(text: str) -> tuple[float, str]:
    """A relative change: "25%" / "25 %" → percent of the baseline; "5", "5pp", "5 points" → absolute.

    The sign is dropped: the goal kind says the direction (see ``resolve_relative_target``).
    """
    value = text.strip().lower().replace("\u2212", "-")
    match = re.fullmatch(r"[+-]?\s*(\d+(?:[.,]\d+)?)\s*(%|percent|pp|points?|pts?)?", value)
    if not match:
        raise ValidationError(f"'{text}' is not a change; write e.g. 25% (of the baseline) or 5 (in the KPI's unit).")
    number = float(match.group(1).replace(",", "."))
    mode = RELATIVE_PERCENT if match.group(2) in ("%", "percent") else RELATIVE_ABSOLUTE
    return number, mode


def _add(day: dt.date, freq: Frequency, count: int) -> dt.date:
    """``day`` moved by ``count`` periods of ``freq`` (month ends clamp: 31 Jan + 1 month = 28/29 Feb)."""
    if freq is Frequency.DAY:
        return day + dt.timedelta(days=count)
    if freq is Frequency.WEEK:
        return day + dt.timedelta(weeks=count)
    months = {Frequency.MONTH: 1, Frequency.QUARTER: 3, Frequency.YEAR: 12}[freq] * count
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    last_day = period_end(dt.date(year, month + 1, 1), Frequency.MONTH).day
    return dt.date(year, month + 1, min(day.day, last_day))


def parse_horizon(text: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """Start and due dates from a phrase.

    - "next quarter" / "the next month" / "next year": the whole next
      calendar period (start = its first day, due = its last day);
    - "this quarter" / "this month" / "this year": from today to the end of
      the current period;
    - "3 months", "6 weeks", "a year" (optionally "within ..."/"in ..."): from
      today, due the day before the same date N units later.
    Examples (today 2026-05-10): next quarter → 2026-07-01..2026-09-30;
    this quarter → 2026-05-10..2026-06-30; 3 months → 2026-05-10..2026-08-09.
    """
    words = re.sub(r"\s+", " ", text.strip().lower())
    words = re.sub(r"^(within|in|over|during|by) ", "", words)
    words = re.sub(r"^the ", "", words)
    match = re.fullmatch(r"(next|this|current) (day|week|month|quarter|year)", words)
    if match:
        freq = _UNITS[match.group(2)]
        current = period_start(today, freq)
        if match.group(1) == "next":
            start = next_period_start(current, freq)
            return start, period_end(start, freq)
        return today, period_end(current, freq)
    match = re.fullmatch(r"(?:next )?(\d+|a|an|one|two|three|four|six|twelve) (days?|weeks?|months?|quarters?|years?)",
                         words)
    if match:
        raw = match.group(1)
        count = int(raw) if raw.isdigit() else _WORD_NUMBERS[raw]
        if count < 1:
            raise ValidationError(f"'{text}' is not a horizon: it must be at least one period long.")
        return today, _add(today, _UNITS[match.group(2)], count) - dt.timedelta(days=1)
    raise ValidationError(
        f"'{text}' is not a horizon kpidesk understands; write e.g. 'next quarter', 'this year' or '3 months', "
        "or give --start and --due dates."
    )


_UP_VERBS = ("increase", "raise", "grow", "lift", "boost")
_DOWN_VERBS = ("reduce", "decrease", "cut", "lower", "drop", "shrink")
_HOLD_VERBS = ("keep", "hold", "maintain")
_NUMBER = r"[€$£]?\s*[+-]?\d[\d,]*(?:\.\d+)?\s*[km]?\s*(?:%|percent|pp|points?|pts?)?"
_MONTHS = {name: i for i, name in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}


@dataclass(frozen=True)
class ParsedStatement:
    """The parts of a goal sentence (see :func:`parse_statement`)."""

    kind: GoalKind
    kpi_text: str
    start: dt.date
    due: dt.date
    target_value: float | None = None
    relative_change: float | None = None
    relative_mode: str = ""
    band_low: float | None = None
    band_high: float | None = None


def _amount(text: str) -> float:
    """A number as people type it: "€1,200", "12.5%", "3k", "2.5m" → 1200, 12.5, 3000, 2500000."""
    cleaned = re.sub(r"[€$£\s]|%|percent|pp|points?|pts?", "", text.lower()).replace(",", "")
    scale = 1.0
    if cleaned.endswith("k"):
        cleaned, scale = cleaned[:-1], 1e3
    elif cleaned.endswith("m"):
        cleaned, scale = cleaned[:-1], 1e6
    return float(cleaned) * scale


def _deadline(text: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """(start, due) from the time part: a horizon phrase, "by 2026-12-31", "by 2026-12",
    "by December 2026" / "by December" (the next one), "by the end of the quarter/year"."""
    words = text.strip().lower().rstrip(".")
    by = re.fullmatch(r"by (?:the )?end of (?:the |this )?(month|quarter|year)", words)
    if by:
        return parse_horizon(f"this {by.group(1)}", today)
    by = re.fullmatch(r"by (\d{4}-\d{2}(?:-\d{2})?)", words)
    if by:
        day = dt.date.fromisoformat(by.group(1) + ("-01" if len(by.group(1)) == 7 else ""))
        due = period_end(day, Frequency.MONTH) if len(by.group(1)) == 7 else day
        return today, due
    by = re.fullmatch(r"by (?:the end of )?([a-z]+)(?: (\d{4}))?", words)
    if by and by.group(1) in _MONTHS:
        month = _MONTHS[by.group(1)]
        year = int(by.group(2)) if by.group(2) else today.year + (month < today.month)
        return today, period_end(dt.date(year, month, 1), Frequency.MONTH)
    return parse_horizon(words, today)


def parse_statement(text: str, today: dt.date) -> ParsedStatement:
    """Read a goal sentence a PM would write.

    Forms: "<Increase|Raise|Grow…> <KPI> by <change>|to <value> <when>",
    "<Reduce|Cut|Lower…> <KPI> by <change>|to <value> <when>",
    "<Keep|Hold|Maintain> <KPI> above|below <value> <when>",
    "<Keep…> <KPI> between <low> and <high> <when>". ``<change>`` is 25% (of the
    baseline) or 5 / 5pp (in the KPI's unit); ``<when>`` is "within the next
    quarter", "in 3 months", "by 2026-12-31", "by December", "by the end of the
    year". Example: "Increase onboarding completion by 25% within the next
    quarter" → increase, "onboarding completion", +25 % relative, next quarter.
    Raises ValidationError naming the part it could not read.
    """
    sentence = re.sub(r"\s+", " ", text.strip().rstrip("."))
    lowered = sentence.lower()
    verb = lowered.split(" ", 1)[0]
    # the time part is the longest tail that reads as a deadline ("by 25% within …" does not, so
    # "within the next quarter" is taken, not "next quarter")
    cuts = [m.start() for m in re.finditer(r"\s(?=(?:within|in|over|during|by|this|next) )", sentence,
                                           re.IGNORECASE)]
    start = due = None
    body = sentence
    for cut in cuts:
        try:
            start, due = _deadline(sentence[cut + 1:], today)
        except (ValidationError, ValueError):
            continue
        body = sentence[:cut]
        break
    if start is None or due is None:
        raise ValidationError(f"'{text}' does not say when (or not in words kpidesk reads); end it with e.g. "
                              "'within the next quarter', 'in 3 months' or 'by 2026-12-31'.")
    rest = body[len(verb):].strip()
    if verb in _UP_VERBS + _DOWN_VERBS:
        kind = GoalKind.INCREASE_TO if verb in _UP_VERBS else GoalKind.DECREASE_TO
        match = re.fullmatch(rf"(.+?) (by|to|from {_NUMBER} to) ({_NUMBER})", rest, re.IGNORECASE)
        if not match:
            raise ValidationError(f"'{body}' does not say the change; write '{verb} <KPI> by 25%' or "
                                  f"'{verb} <KPI> to 50'.")
        kpi_text, how, amount = match.group(1), match.group(2).lower(), match.group(3)
        if how == "by":
            change, mode = parse_change(re.sub(r"[€$£]", "", amount))
            return ParsedStatement(kind, kpi_text.strip(), start, due, relative_change=change, relative_mode=mode)
        return ParsedStatement(kind, kpi_text.strip(), start, due, target_value=_amount(amount))
    if verb in _HOLD_VERBS:
        band = re.fullmatch(rf"(.+?) between ({_NUMBER}) and ({_NUMBER})", rest, re.IGNORECASE)
        if band:
            low, high = sorted((_amount(band.group(2)), _amount(band.group(3))))
            return ParsedStatement(GoalKind.KEEP_IN_BAND, band.group(1).strip(), start, due, band_low=low,
                                   band_high=high)
        side = re.fullmatch(rf"(.+?) (above|over|at least|below|under|at most) ({_NUMBER})", rest, re.IGNORECASE)
        if side:
            kind = GoalKind.STAY_ABOVE if side.group(2).lower() in ("above", "over", "at least") else GoalKind.STAY_BELOW
            return ParsedStatement(kind, side.group(1).strip(), start, due, target_value=_amount(side.group(3)))
        raise ValidationError(f"'{body}' does not say where to keep the KPI; write 'keep <KPI> above 30', "
                              "'below 3%' or 'between 95 and 99'.")
    raise ValidationError(f"'{text}' does not start with a change verb; start with increase, reduce or keep.")

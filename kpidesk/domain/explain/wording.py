"""Numbers and segments in the PM's words: "−41,300 €", "+0.6 pp", "Pro plan".

Conventions: amounts are rounded to three significant figures (a review reads
"−41,300 €", not "−41,312.07 €"); changes of a percent KPI are in percentage
points ("pp"); a minus sign is the typographic U+2212; shares are whole
percents of the change.
"""

from __future__ import annotations

import math

MINUS = "\u2212"

# Kinds whose value names itself ("EU"); others read better with the kind
# after the value ("Pro plan", "paid channel").
SELF_NAMING_KINDS = frozenset({"region", "country", "market", "city", "geo", "segment", "team"})

PREFIX_CURRENCIES = frozenset({"$", "£", "US$", "A$", "C$"})

# ISO codes stored on a KPI, shown as the symbol a PM writes.
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹", "": "€"}

UNIT_SUFFIX = {
    "months": " months",
    "days": " days",
    "hours": " h",
    "minutes": " min",
    "ms": " ms",
}


def segment_label(segment: str) -> str:
    """``"region:EU"`` → ``"EU"``, ``"plan:Pro"`` → ``"Pro plan"``, ``""`` → ``"Total"``."""
    if segment == "":
        return "Total"
    if segment.startswith("("):  # the (unsegmented) remainder
        return "unsegmented"
    kind, sep, value = segment.partition(":")
    if not sep:
        return segment
    if kind.lower() in SELF_NAMING_KINDS:
        return value
    return f"{value} {kind}"


def segment_kind(segment: str) -> str:
    """``"region:EU"`` → ``"region"``; the total ``""`` and unkinded values → ``""``."""
    kind, sep, _ = segment.partition(":")
    return kind if sep else ""


def round_significant(value: float, digits: int = 3) -> tuple[float, int]:
    """``value`` rounded to ``digits`` significant figures, and the decimals to print."""
    if value == 0 or not math.isfinite(value):
        return value, 0
    magnitude = math.floor(math.log10(abs(value)))
    decimals = digits - 1 - magnitude
    rounded = round(value, decimals)
    # Rounding can carry into a new digit (99.96 → 100.0): recount.
    if rounded != 0 and math.floor(math.log10(abs(rounded))) != magnitude:
        decimals -= 1
        rounded = round(value, decimals)
    return rounded, max(decimals, 0)


def format_number(value: float, *, signed: bool = False, digits: int = 3) -> str:
    """Three significant figures, thousands separators, U+2212 minus, optional plus."""
    if not math.isfinite(value):
        return "n/a"
    rounded, decimals = round_significant(value, digits)
    text = f"{abs(rounded):,.{decimals}f}"
    if "." in text:  # "0.500" reads as false precision: "0.5"
        text = text.rstrip("0").rstrip(".")
    if rounded < 0:
        return MINUS + text
    return ("+" + text) if signed and rounded > 0 else text


def format_amount(value: float, unit: str, *, signed: bool = False, change: bool = False,
                  currency: str = "€", digits: int | None = None) -> str:
    """A value or a change in the KPI's unit: ``"41,300 €"``, ``"+0.6 pp"``, ``"12.5 %"``.

    Changes get three significant figures, levels four (a level of 169,900
    must not read 170,000 next to a change of −30,100).
    """
    number = format_number(value, signed=signed, digits=digits or (3 if change else 4))
    if unit == "currency":
        # "$41,300" and "£41,300" lead with the symbol; "41,300 €" / "41,300 CHF" trail it.
        if currency in PREFIX_CURRENCIES:
            sign = number[0] if number[0] in (MINUS, "+") else ""
            return f"{sign}{currency}{number[len(sign):]}"
        return f"{number} {currency}"
    if unit == "percent":
        return f"{number} pp" if change else f"{number} %"
    return number + UNIT_SUFFIX.get(unit, "")


def format_share(share: float | None) -> str:
    """A share of the change as a whole percent: ``"73 %"`` (``"n/a"`` when undefined)."""
    if share is None or not math.isfinite(share):
        return "n/a"
    text = f"{abs(share) * 100:.0f} %"
    return (MINUS + text) if round(share * 100) < 0 else text


def format_relative(value: float | None) -> str:
    """A relative change with one decimal: ``"−8.2 %"``."""
    if value is None or not math.isfinite(value):
        return "n/a"
    text = f"{abs(value) * 100:.1f} %"
    if round(value * 1000) < 0:
        return MINUS + text
    return ("+" + text) if round(value * 1000) > 0 else text


def currency_symbol(code: str) -> str:
    """``"EUR"`` → ``"€"``; an unknown code is shown as itself; no code means €."""
    return CURRENCY_SYMBOLS.get(code.strip().upper(), code.strip())

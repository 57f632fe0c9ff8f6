"""How the GUI writes a unit next to a bare number (axis titles, form labels, table cells)."""

from __future__ import annotations

UNIT_SYMBOLS = {"percent": "%", "ms": "ms", "days": "days", "hours": "h", "minutes": "min", "months": "months"}
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}


def unit_symbol(unit: str, currency: str = "") -> str:
    """What to write after a bare number of this unit: "%", "€", "ms"; "" for counts, scores and ratios."""
    return CURRENCY_SYMBOLS.get(currency, currency) if unit == "currency" else UNIT_SYMBOLS.get(unit, "")


def with_unit(number: str, unit: str, currency: str = "") -> str:
    """A formatted number with its unit: "58.86 %", "€126,500", "4.9 days"; a count stays bare."""
    symbol = unit_symbol(unit, currency)
    if not number or not symbol:
        return number
    if unit == "currency" and symbol in CURRENCY_SYMBOLS.values():
        return f"-{symbol}{number[1:]}" if number.startswith("-") else f"{symbol}{number}"
    return f"{number} {symbol}"

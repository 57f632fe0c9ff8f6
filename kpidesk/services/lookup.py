"""Small lookups and checks the services share."""

from __future__ import annotations

import math
from typing import Any

from kpidesk.errors import NotFoundError, ValidationError
from kpidesk.storage.db import Database
from kpidesk.storage.models import Kpi


def get_kpi(db: Database, kpi_id: int) -> Kpi:
    """The KPI row, or a clear NotFoundError."""
    with db.session() as session:
        kpi = session.get(Kpi, kpi_id)
    if kpi is None:
        raise NotFoundError(f"KPI #{kpi_id} does not exist.")
    return kpi


def to_number(value: Any, what: str) -> float:
    """A finite float from a number or its text ("12.5", "\u22123"); ValidationError naming ``what`` otherwise."""
    if isinstance(value, bool):
        raise ValidationError(f"{what}: {value!r} is not a number.")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip().replace("\u2212", "-")
        try:
            number = float(text)
        except ValueError:
            raise ValidationError(f"{what}: '{value}' is not a number.") from None
    if math.isnan(number) or math.isinf(number):
        raise ValidationError(f"{what}: '{value}' is not a finite number.")
    return number

"""Recipes: KPI series computed from raw exports (pure pandas/numpy, no Qt, no database).

Each recipe module documents the shape of its input (canonical column names,
mapped from the user's headers by the import mapping machinery) and has a
``run(frame, conventions) -> RecipeResult`` entry point. The conventions used
are written on every KPI output so that exports can print them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from kpidesk.errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd

    from kpidesk.domain.recipes.base import RecipeResult

RECIPE_NAMES = ("events", "transactions", "spend", "survey", "referrals", "releases")

# canonical input columns of each recipe: (required, optional)
RECIPE_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "events": (("user", "timestamp"), ("event",)),
    "transactions": (("customer", "date", "amount"), ("order", "cost", "plan")),
    "spend": (("date", "amount"), ("channel", "new_customers", "conversions")),
    "survey": (("date", "score"), ("respondent", "question")),
    "referrals": (("inviter", "sent"), ("invitee", "converted")),
    "releases": (("feature", "started", "launched"), ("revenue",)),
}


def get_recipe(name: str) -> Callable[[pd.DataFrame, dict[str, object] | None], RecipeResult]:
    """The ``run(frame, conventions)`` function of a recipe, by name."""
    if name not in RECIPE_NAMES:
        raise ValidationError(f"Unknown recipe {name!r}: use one of {', '.join(RECIPE_NAMES)}.")
    return importlib.import_module(f"kpidesk.domain.recipes.{name}").run

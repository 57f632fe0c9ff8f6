"""Recipes: KPI series computed from raw exports (pure pandas/numpy, no Qt, no database).

Each recipe module documents the shape of its input (canonical column names,
mapped from the user's headers by the import mapping machinery) and has a
``run(frame, conventions) -> RecipeResult`` entry point. The conventions used
are written on every KPI output so that exports can print them.
"""

from __future__ import annotations

RECIPE_NAMES = ("events", "transactions", "spend", "survey", "referrals", "releases")

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


# conventions each recipe understands (KEY=VALUE on the command line), default first
RECIPE_CONVENTIONS: dict[str, str] = {
    "events": "period=month|week|day, mau=rolling_30|calendar_month, active_events=a,b, key_event=E, "
    "activation_days=7, feature_event=E, funnel_steps=a,b,c, funnel_window_hours=168, "
    "cohort=first_time|recurring, retention=on|on_or_after, retention_period=1",
    "transactions": "period=month, growth=previous|year, revenue_churn=gross|net, "
    "clv=arpu_over_churn|margin_over_churn|arpa_over_6m_churn",
    "spend": "period=month",
    "survey": "measure=nps|csat|ces (or nps_question=Q, csat_question=Q, ces_question=Q), csat=top2|mean, "
    "csat_scale_max=5, ces_scale_max=7, period=month",
    "referrals": "period=month",
    "releases": "period=month, innovation_months=12, innovation=count|revenue",
}


CONVENTION_KEYS: dict[str, frozenset[str]] = {
    "events": frozenset(
        {
            "period",
            "mau",
            "active_events",
            "key_event",
            "activation_days",
            "feature_event",
            "funnel_steps",
            "funnel_window_hours",
            "cohort",
            "retention",
            "retention_period",
        }
    ),
    "transactions": frozenset({"period", "growth", "revenue_churn", "clv"}),
    "spend": frozenset({"period"}),
    "survey": frozenset(
        {
            "period",
            "measure",
            "nps_question",
            "csat_question",
            "ces_question",
            "csat",
            "csat_scale_max",
            "ces_scale_max",
        }
    ),
    "referrals": frozenset({"period"}),
    "releases": frozenset({"period", "innovation_months", "innovation"}),
}


def check_conventions(recipe: str, conventions: dict[str, object]) -> None:
    """Refuse a convention name the recipe does not know (a typo would be silently ignored)."""
    unknown = sorted(set(conventions) - CONVENTION_KEYS[recipe])
    if unknown:
        known = ", ".join(sorted(CONVENTION_KEYS[recipe]))
        raise ValidationError(f"The {recipe} recipe has no convention {unknown[0]!r}; it knows: {known}.")


def get_recipe(name: str) -> Callable[[pd.DataFrame, dict[str, object] | None], RecipeResult]:
    """The ``run(frame, conventions)`` function of a recipe, by name."""
    if name not in RECIPE_NAMES:
        raise ValidationError(f"Unknown recipe {name!r}: use one of {', '.join(RECIPE_NAMES)}.")
    return importlib.import_module(f"kpidesk.domain.recipes.{name}").run

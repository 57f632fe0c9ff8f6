"""Survey recipe: NPS, CSAT, CES and response counts from (respondent, date, score[, question]).

Which answers feed which measure: with a ``question`` column the conventions
``nps_question`` / ``csat_question`` / ``ces_question`` name the questions;
without one, the convention ``measure`` ("nps", "csat" or "ces") says what
the whole file is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpidesk.domain.analytics.rollup import period_keys
from kpidesk.domain.enums import Frequency
from kpidesk.domain.recipes.base import (
    KpiOutput,
    RecipeResult,
    require_columns,
    row_number,
    safe_ratio,
    to_datetime_column,
    to_number_column,
)
from kpidesk.errors import ValidationError

RECIPE = "survey"
SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Validated copy: respondent, date, score, question ("" when absent); empty scores dropped."""
    require_columns(frame, RECIPE, ("date", "score"))
    out = pd.DataFrame(
        {
            "respondent": frame["respondent"].to_numpy()
            if "respondent" in frame.columns
            else np.arange(len(frame)),
            "date": to_datetime_column(frame, "date", RECIPE).dt.normalize().to_numpy(),
            "score": to_number_column(frame, "score", RECIPE).to_numpy(),
            "question": frame["question"].astype("string").fillna("").to_numpy()
            if "question" in frame.columns
            else "",
            "row": [row_number(frame, i) for i in range(len(frame))],
        }
    )
    return out[out["score"].notna()]


def _answers(
    survey: pd.DataFrame, measure: str, question: str | None, scale: tuple[float, float]
) -> pd.DataFrame:
    rows = survey if question is None else survey[survey["question"] == question]
    low, high = scale
    bad = (rows["score"] < low) | (rows["score"] > high)
    if bad.any():
        first = rows[bad].iloc[0]
        raise ValidationError(
            f"The survey recipe found the {measure.upper()} score {first['score']:g} outside {low:g}–{high:g} "
            f"(column 'score', row {int(first['row'])})."
        )
    return rows


def nps(
    survey: pd.DataFrame, frequency: Frequency | str = Frequency.MONTH, *, question: str | None = None
) -> pd.DataFrame:
    """NPS_p = 100 × (promoters − detractors) / responses on the 0–10 scale.

    Promoters answer 9–10, passives 7–8, detractors 0–6. Columns: responses,
    promoters, passives, detractors, promoters_pct, passives_pct,
    detractors_pct, value (−100..100).
    """
    rows = _answers(survey, "nps", question, SCALES["nps"])
    keys = period_keys(pd.DatetimeIndex(rows["date"]), frequency).rename("period_start")
    score = rows["score"]
    frame = pd.DataFrame(
        {
            "responses": score.groupby(keys).size(),
            "promoters": (score >= 9).groupby(keys).sum(),
            "passives": ((score >= 7) & (score < 9)).groupby(keys).sum(),
            "detractors": (score <= 6).groupby(keys).sum(),
        }
    ).astype(np.float64)
    for part in ("promoters", "passives", "detractors"):
        frame[f"{part}_pct"] = safe_ratio(frame[part], frame["responses"], 100.0)
    frame["value"] = frame["promoters_pct"] - frame["detractors_pct"]
    return frame


def csat(
    survey: pd.DataFrame,
    frequency: Frequency | str = Frequency.MONTH,
    *,
    question: str | None = None,
    convention: str = "top2",
    scale: tuple[float, float] = (1, 5),
) -> pd.DataFrame:
    """CSAT_p: "top2" = 100 × answers in the top two points of the scale (4–5 on 1–5) / responses;
    "mean" = mean score."""
    rows = _answers(survey, "csat", question, scale)
    keys = period_keys(pd.DatetimeIndex(rows["date"]), frequency).rename("period_start")
    responses = rows["score"].groupby(keys).size().astype(np.float64)
    if convention == "mean":
        total = rows["score"].groupby(keys).sum()
        return pd.DataFrame(
            {"numerator": total, "denominator": responses, "value": safe_ratio(total, responses)}
        )
    if convention != "top2":
        raise ValidationError(f"Unknown CSAT convention {convention!r}: use top2 or mean.")
    satisfied = (rows["score"] >= scale[1] - 1).groupby(keys).sum().astype(np.float64)
    return pd.DataFrame(
        {"numerator": satisfied, "denominator": responses, "value": safe_ratio(satisfied, responses, 100.0)}
    )


def ces(
    survey: pd.DataFrame,
    frequency: Frequency | str = Frequency.MONTH,
    *,
    question: str | None = None,
    scale: tuple[float, float] = (1, 7),
) -> pd.DataFrame:
    """CES_p = mean answer on the chosen scale (1–5 or 1–7; lower = less effort by convention)."""
    rows = _answers(survey, "ces", question, scale)
    keys = period_keys(pd.DatetimeIndex(rows["date"]), frequency).rename("period_start")
    total = rows["score"].groupby(keys).sum()
    responses = rows["score"].groupby(keys).size().astype(np.float64)
    return pd.DataFrame({"numerator": total, "denominator": responses, "value": safe_ratio(total, responses)})


def run(frame: pd.DataFrame, conventions: dict[str, object] | None = None) -> RecipeResult:
    """NPS / CSAT / CES per period as the conventions select, with response counts."""
    conv = dict(conventions or {})
    period = Frequency(str(conv.get("period", Frequency.MONTH)))
    survey = prepare(frame)
    result = RecipeResult(RECIPE, data_end=pd.Timestamp(survey["date"].max()).date())
    has_questions = bool((survey["question"] != "").any())
    wanted: list[tuple[str, str | None]] = []
    for measure in ("nps", "csat", "ces"):
        question = conv.get(f"{measure}_question")
        if question:
            wanted.append((measure, str(question)))
    if not wanted:
        measure = str(conv.get("measure", "nps"))
        if measure not in SCALES:
            raise ValidationError(f"Unknown survey measure {measure!r}: use nps, csat or ces.")
        if has_questions:
            raise ValidationError(
                "The survey has a 'question' column: say which question is NPS, CSAT or CES "
                "(conventions nps_question, csat_question, ces_question)."
            )
        wanted.append((measure, None))
    for measure, question in wanted:
        about = f" (question {question!r})" if question else ""
        if measure == "nps":
            table = nps(survey, period, question=question)
            result.tables["nps"] = table
            # parts for a longer period: NPS = Σ 100 × (promoters − detractors) / Σ responses
            # (unit "score", so the ×100 lives in the numerator)
            result.outputs.append(
                KpiOutput(
                    "nps",
                    period,
                    table["value"],
                    "% promoters (9–10) − % detractors (0–6)" + about,
                    100.0 * (table["promoters"] - table["detractors"]),
                    table["responses"],
                )
            )
            responses = table["responses"]
            for part, label in (("promoters", "9–10"), ("passives", "7–8"), ("detractors", "0–6")):
                result.outputs.append(
                    KpiOutput(
                        f"nps_{part}",
                        period,
                        table[f"{part}_pct"],
                        f"share of answers {label}" + about,
                        table[part],
                        table["responses"],
                    )
                )
        elif measure == "csat":
            kind = str(conv.get("csat", "top2"))
            scale = (1.0, float(conv.get("csat_scale_max", 5)))  # type: ignore[arg-type]
            table = csat(survey, period, question=question, convention=kind, scale=scale)
            label = "share of the top two answers" if kind == "top2" else "mean score"
            result.outputs.append(
                KpiOutput(
                    "csat",
                    period,
                    table["value"],
                    f"{label} on 1–{scale[1]:g}" + about,
                    table["numerator"],
                    table["denominator"],
                    unit="percent" if kind == "top2" else "score",
                )
            )
            responses = table["denominator"]
        else:
            scale = (1.0, float(conv.get("ces_scale_max", 7)))  # type: ignore[arg-type]
            table = ces(survey, period, question=question, scale=scale)
            result.outputs.append(
                KpiOutput(
                    "ces",
                    period,
                    table["value"],
                    f"mean answer on 1–{scale[1]:g}" + about,
                    table["numerator"],
                    table["denominator"],
                )
            )
            responses = table["denominator"]
        result.outputs.append(
            KpiOutput(
                "survey_responses",
                period,
                responses,
                f"{measure.upper()} answers" + about,
                segment=f"measure:{measure}",
            )
        )
        if len(wanted) == 1:
            # one measure: its answers are the survey's responses, so the KPI has a total
            # (with only the segment, 'show' and 'trend' of survey_responses printed nothing)
            result.outputs.append(
                KpiOutput("survey_responses", period, responses, f"{measure.upper()} answers" + about)
            )
    return result

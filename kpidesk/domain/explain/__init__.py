"""Explain the movement: where a KPI's change between two periods came from.

Three decompositions, each adding up exactly to the change it explains:

- :func:`decompose_additive` — a KPI that is the sum of its segments
  (revenue by region): each segment's contribution ``c_i - b_i`` and share.
- :func:`decompose_ratio` — a ratio KPI ``scale * sum N / sum D``
  (conversion, ARPU, churn rate): shift-share into rate effect, mix effect and
  interaction, per segment. Simpson's paradox reads as a mix effect.
- :func:`shapley_attribution` — a formula KPI ``f(inputs)`` (``clv / cac``):
  each input's Shapley value, exact up to 8 inputs.

:func:`explain_frame` runs them for many KPIs at once from one measurement
table and returns :class:`Explanation` records: a ``headline`` sentence, the
``breakdowns`` (best segment kind first), each with ranked ``drivers`` (one
``sentence`` each, small ones grouped as "other"), and the annotations and
anomalies dated inside either period (``context``).

For the GUI "Why did it move?" panel (all plain data, no Qt here):

- ``explanation.headline`` is the caption; ``explanation.notes`` lists why a
  split was not possible (show them in muted text).
- ``waterfall(explanation, breakdown)`` gives the bars ``(label, start,
  end)``: the comparison value, one floating bar per driver, the current
  value. Colour a bar by ``end > start`` (mind the KPI's direction).
- ``explanation.breakdowns`` offers a kind selector (``breakdown.kind``:
  ``"region"``, ``"plan"``, ``"inputs"``...); its ``drivers`` fill the list
  beside the chart, ``driver.sentence`` is the tooltip/text.
- A click on a driver with ``driver.segment`` set (``"region:EU"``) filters
  the trend chart to that stored segment; drivers of kind OTHER carry the
  grouped labels in ``driver.members``; INTERACTION / INPUT have no segment.
- ``explanation.context`` holds :class:`ContextNote` (``day``, ``text``,
  ``source`` "annotation" / "anomaly", ``period`` "current" / "comparison")
  to list beside the drivers.

For the review workbook, ``explanation_rows(explanation)`` gives every
segment's exact numbers as rows under ``TABLE_HEADERS``.

Get explanations through ``kpidesk.services.explain_service.ExplainService``
(it reads the workspace; this package never touches storage):

- ``ExplainService(db).explain(kpi, "2026-Q3")`` or ``.explain(kpi_id,
  some_date, frequency="month")``; ``compare="last-year"``, ``by="region"``,
  ``anomalies=False`` to skip the anomaly check. Slow-ish (tens of ms):
  run it off the GUI thread.
- ``.explain_many(kpis, period)`` does many KPIs in one read and one pass;
  ``.biggest_movers(product, period, top=5)`` picks the KPIs with the largest
  relative change and explains them (the review pack).
- When a period has no value, ``explanation.change`` is NaN, the headline
  says which period is missing and there are no breakdowns.
"""

from kpidesk.domain.explain.additive import decompose_additive
from kpidesk.domain.explain.batch import KpiSpec, Window, explain_frame
from kpidesk.domain.explain.compare import Compare, comparison_start, parse_period
from kpidesk.domain.explain.drivers import build_explanation, make_breakdown, waterfall
from kpidesk.domain.explain.model import (
    AdditiveDecomposition,
    Breakdown,
    ContextNote,
    Driver,
    DriverKind,
    Explanation,
    InputContribution,
    Method,
    RatioDecomposition,
    RatioSegment,
    SegmentContribution,
    SegmentStatus,
    ShapleyAttribution,
)
from kpidesk.domain.explain.shapley import shapley_attribution
from kpidesk.domain.explain.shift_share import decompose_ratio
from kpidesk.domain.explain.table import HEADERS as TABLE_HEADERS
from kpidesk.domain.explain.table import explanation_rows

__all__ = [
    "TABLE_HEADERS",
    "AdditiveDecomposition",
    "Breakdown",
    "Compare",
    "ContextNote",
    "Driver",
    "DriverKind",
    "Explanation",
    "InputContribution",
    "KpiSpec",
    "Method",
    "RatioDecomposition",
    "RatioSegment",
    "SegmentContribution",
    "SegmentStatus",
    "ShapleyAttribution",
    "Window",
    "build_explanation",
    "comparison_start",
    "decompose_additive",
    "decompose_ratio",
    "explain_frame",
    "explanation_rows",
    "make_breakdown",
    "parse_period",
    "shapley_attribution",
    "waterfall",
]

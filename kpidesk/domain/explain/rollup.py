"""Roll both compared periods up per (KPI, segment) in one groupby.

Input is one long table of measurements (the shape storage reads into
pandas): columns ``kpi``, ``period_start``, ``segment``, ``value`` and, for
ratio KPIs, ``numerator`` and ``denominator``. Each KPI is described by a
:class:`KpiSpec`; the value of a period follows the KPI's aggregation:

- ``sum``: sum of the values in the period;
- ``last``: the last value in the period (stocks such as MRR);
- ``mean`` / ``min`` / ``max``: over the period's values;
- numerators and denominators are always summed, so a ratio is recomputed
  over the period (``scale * sum N / sum D``), never averaged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from kpidesk.domain.enums import Aggregation, Frequency
from kpidesk.domain.explain.compare import Compare, comparison_start, period_window
from kpidesk.domain.periods import period_label

if TYPE_CHECKING:
    import pandas as pd

RATIO_LIKE = {Aggregation.RATIO, Aggregation.MEAN, Aggregation.MIN, Aggregation.MAX}


@dataclass(frozen=True)
class KpiSpec:
    """What the explainer needs to know about one KPI.

    ``formula`` (a callable over a dict of input values) and ``inputs`` (the
    input KPI keys) make it a formula KPI explained by Shapley attribution;
    the inputs' totals must be in the same table.
    """

    key: str
    name: str
    unit: str
    aggregation: str = Aggregation.SUM.value
    formula: Callable[[dict[str, float]], float] | None = None
    inputs: tuple[str, ...] = ()
    input_labels: Mapping[str, str] = field(default_factory=dict)
    # The same formula over arrays (optional): one call for all Shapley points.
    vectorised: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None

    @property
    def scale(self) -> float:
        """N/D times this is the stored value: 100 for percent KPIs (percentage points)."""
        return 100.0 if self.unit == "percent" else 1.0


@dataclass(frozen=True)
class Window:
    """The two compared periods as half-open date windows, with their labels."""

    current: tuple[dt.date, dt.date]
    comparison: tuple[dt.date, dt.date]
    current_label: str
    comparison_label: str

    @classmethod
    def of(cls, start: dt.date, frequency: Frequency | str, compare: Compare | str) -> Window:
        """The period starting at ``start`` and the one it is compared with."""
        base = comparison_start(start, frequency, compare)
        return cls(period_window(start, frequency), period_window(base, frequency),
                   period_label(start, frequency), period_label(base, frequency))

    def inclusive(self, which: str) -> tuple[dt.date, dt.date]:
        start, end = self.current if which == "current" else self.comparison
        return start, end - dt.timedelta(days=1)


def rollup(frame: pd.DataFrame, window: Window, specs: Mapping[str, KpiSpec]) -> pd.DataFrame:
    """One row per (kpi, segment) with value / numerator / denominator in both periods.

    Columns: ``kpi, segment, value_0, value_1, num_0, num_1, den_0, den_1,
    has_nd_0, has_nd_1, present_0, present_1`` (0 = comparison, 1 = current).
    The value follows the KPI's aggregation (module docstring).
    """
    import pandas as pd

    days = pd.to_datetime(frame["period_start"])
    which = np.full(len(frame), -1, dtype=np.int8)
    for code, (start, end) in ((0, window.comparison), (1, window.current)):
        inside = ((days >= pd.Timestamp(start)) & (days < pd.Timestamp(end))).to_numpy()
        which[inside] = code
    keep = which >= 0
    cols = ["kpi", "segment", "value"] + [c for c in ("numerator", "denominator") if c in frame]
    part = frame.loc[keep, cols].copy()
    part["w"] = which[keep]
    part["_day"] = days[keep].to_numpy()
    if "numerator" not in part:
        part["numerator"] = np.nan
        part["denominator"] = np.nan
    part = part.sort_values("_day", kind="stable")
    part["has_nd"] = part["numerator"].notna() & part["denominator"].notna()
    grouped = part.groupby(["kpi", "segment", "w"], sort=False, observed=True)
    agg = grouped.agg(
        v_sum=("value", "sum"), v_last=("value", "last"), v_mean=("value", "mean"),
        v_min=("value", "min"), v_max=("value", "max"),
        num=("numerator", "sum"), den=("denominator", "sum"),
        has_nd=("has_nd", "all"), v_n=("value", "count"),
    ).reset_index()
    aggregation = agg["kpi"].map({k: s.aggregation for k, s in specs.items()}).fillna("sum")
    agg["value"] = agg["v_sum"]
    for name, column in (("last", "v_last"), ("mean", "v_mean"), ("min", "v_min"), ("max", "v_max")):
        chosen = (aggregation == name).to_numpy()
        agg.loc[chosen, "value"] = agg.loc[chosen, column]
    # a period whose rows carry no value (a ratio with a zero denominator) has no value, not 0
    agg.loc[agg["v_n"].to_numpy() == 0, "value"] = np.nan
    agg["present"] = True
    wide = agg.pivot(index=["kpi", "segment"], columns="w",
                     values=["value", "num", "den", "has_nd", "present"])
    wide.columns = [f"{name}_{w}" for name, w in wide.columns]
    for name in ("value", "num", "den", "has_nd", "present"):
        for w in (0, 1):
            if f"{name}_{w}" not in wide:
                wide[f"{name}_{w}"] = np.nan
    for name in ("has_nd", "present"):
        for w in (0, 1):
            wide[f"{name}_{w}"] = wide[f"{name}_{w}"].astype("boolean").fillna(False).astype(bool)
    return wide.reset_index()


def coverage(frame: pd.DataFrame, window: Window) -> dict[str, tuple[int, int]]:
    """Per KPI, how many distinct recorded periods fall in the comparison and the current window.

    A current quarter with one month recorded against a full comparison
    quarter is not like for like for a summed KPI; the explanation says so.
    """
    import pandas as pd

    days = pd.to_datetime(frame["period_start"])
    counts: dict[str, list[int]] = {}
    for code, (start, end) in ((0, window.comparison), (1, window.current)):
        inside = (days >= pd.Timestamp(start)) & (days < pd.Timestamp(end))
        per_kpi = days[inside].groupby(frame.loc[inside, "kpi"]).nunique()
        for kpi, n in per_kpi.items():
            counts.setdefault(str(kpi), [0, 0])[code] = int(n)
    return {k: (v[0], v[1]) for k, v in counts.items()}

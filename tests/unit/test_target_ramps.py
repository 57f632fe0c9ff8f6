"""Per-period target ramps and RAG thresholds."""

from __future__ import annotations

import datetime as dt

import pytest

from kpidesk.domain.enums import Direction, Frequency
from kpidesk.domain.goals.targets import (
    Rag,
    RagThresholds,
    linear_ramp,
    periods_between,
    stepped_ramp,
    target_for,
)
from kpidesk.errors import ValidationError

D = dt.date


def test_linear_ramp_equal_steps() -> None:
    # Jan–Apr, 100 → 130: 100, 110, 120, 130
    ramp = linear_ramp(D(2026, 1, 15), D(2026, 4, 2), Frequency.MONTH, 100, 130)
    assert ramp == {D(2026, 1, 1): 100, D(2026, 2, 1): 110, D(2026, 3, 1): 120, D(2026, 4, 1): 130}
    assert linear_ramp(D(2026, 1, 1), D(2026, 1, 31), Frequency.MONTH, 100, 130) == {D(2026, 1, 1): 130}


def test_linear_ramp_weekly_and_quarterly() -> None:
    weekly = linear_ramp(D(2026, 1, 5), D(2026, 1, 26), Frequency.WEEK, 0, 3)
    assert list(weekly.values()) == [0, 1, 2, 3]
    assert list(weekly) == [D(2026, 1, 5), D(2026, 1, 12), D(2026, 1, 19), D(2026, 1, 26)]
    quarterly = linear_ramp(D(2026, 1, 1), D(2026, 12, 31), Frequency.QUARTER, 10, 40)
    assert quarterly == {D(2026, 1, 1): 10, D(2026, 4, 1): 20, D(2026, 7, 1): 30, D(2026, 10, 1): 40}


def test_stepped_ramp_quarterly_steps_in_monthly_targets() -> None:
    # Jan–Dec, 100 → 160 in 4 steps: Jan–Mar 100, Apr–Jun 120, Jul–Sep 140, Oct–Dec 160
    ramp = stepped_ramp(D(2026, 1, 1), D(2026, 12, 1), Frequency.MONTH, 100, 160, steps=4)
    assert [ramp[D(2026, m, 1)] for m in range(1, 13)] == [100] * 3 + [120] * 3 + [140] * 3 + [160] * 3
    flat = stepped_ramp(D(2026, 1, 1), D(2026, 3, 1), Frequency.MONTH, 100, 160, steps=1)
    assert set(flat.values()) == {160}
    # 5 periods in 2 steps: blocks ⌊i·2/5⌋ = 0,0,0,1,1
    uneven = stepped_ramp(D(2026, 1, 1), D(2026, 5, 1), Frequency.MONTH, 0, 10, steps=2)
    assert list(uneven.values()) == [0, 0, 0, 10, 10]


def test_ramp_errors() -> None:
    with pytest.raises(ValidationError, match="ends"):
        periods_between(D(2026, 5, 1), D(2026, 1, 1), Frequency.MONTH)
    with pytest.raises(ValidationError, match="cannot have 13 steps"):
        stepped_ramp(D(2026, 1, 1), D(2026, 12, 1), Frequency.MONTH, 0, 1, steps=13)
    with pytest.raises(ValidationError, match="at least one step"):
        stepped_ramp(D(2026, 1, 1), D(2026, 12, 1), Frequency.MONTH, 0, 1, steps=0)


def test_target_for_looks_up_the_period() -> None:
    ramp = linear_ramp(D(2026, 1, 1), D(2026, 4, 1), Frequency.MONTH, 100, 130)
    assert target_for(ramp, D(2026, 3, 17), Frequency.MONTH) == 120
    assert target_for(ramp, D(2026, 6, 17), Frequency.MONTH) is None


def test_rag_higher_is_better() -> None:
    rag = RagThresholds(Direction.UP, green=40, amber=30)
    assert rag.classify(40) is Rag.GREEN  # boundary counts as the better colour
    assert rag.classify(35) is Rag.AMBER
    assert rag.classify(30) is Rag.AMBER
    assert rag.classify(29.9) is Rag.RED
    assert rag.describe() == "green ≥ 40, amber ≥ 30"


def test_rag_lower_is_better() -> None:
    rag = RagThresholds(Direction.DOWN, green=3, amber=5)
    assert rag.classify(2.5) is Rag.GREEN
    assert rag.classify(4) is Rag.AMBER
    assert rag.classify(5.1) is Rag.RED
    assert rag.describe() == "green ≤ 3, amber ≤ 5"


def test_rag_band() -> None:
    rag = RagThresholds(Direction.BAND, green=95, amber=90, green_high=105, amber_high=110)
    assert rag.classify(100) is Rag.GREEN
    assert rag.classify(92) is Rag.AMBER
    assert rag.classify(108) is Rag.AMBER
    assert rag.classify(89) is Rag.RED
    assert rag.classify(111) is Rag.RED
    assert rag.describe() == "green 95–105, amber 90–110"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"direction": Direction.UP, "green": 30, "amber": 40}, "must not be below"),
        ({"direction": Direction.DOWN, "green": 6, "amber": 5}, "must not be above"),
        ({"direction": Direction.BAND, "green": 95, "amber": 90}, "needs green and amber ranges"),
        ({"direction": Direction.BAND, "green": 85, "amber": 90, "green_high": 105, "amber_high": 110}, "inside"),
    ],
)
def test_rag_refuses_inconsistent_thresholds(kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RagThresholds(**kwargs)

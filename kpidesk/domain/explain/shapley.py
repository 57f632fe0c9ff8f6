"""Shapley attribution of a formula KPI's change to its inputs.

For ``y = f(x_1 .. x_n)`` moving from the comparison inputs ``a`` to the
current inputs ``b``, let ``v(S)`` be ``f`` evaluated with the inputs in ``S``
at their current value and the others at their comparison value. Input ``i``
gets

    phi_i = sum over S not containing i of
            |S|! (n - |S| - 1)! / n!  *  (v(S + {i}) - v(S))

its marginal effect averaged over every order in which the inputs could have
moved. The phi_i add up to ``v(all) - v(none) = f(b) - f(a)`` (efficiency);
an input that did not move gets exactly 0; inputs that enter the formula
symmetrically get the same share. Exact enumeration costs ``2**n`` formula
evaluations, so it is used up to ``max_exact`` (8) inputs; above that,
``samples`` random orderings are averaged; each ordering telescopes to the
full change, so the sampled values still add up exactly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from kpidesk.domain.explain.model import InputContribution, ShapleyAttribution
from kpidesk.errors import ValidationError

Formula = Callable[[dict[str, float]], float]
# The same formula over arrays: every input an array of points, one result per point.
VectorFormula = Callable[[dict[str, np.ndarray]], np.ndarray]
MAX_EXACT_INPUTS = 8


def _evaluate(formula: Formula, point: dict[str, float], moved: Sequence[str]) -> float:
    """Evaluate the formula and refuse a value that is not a finite number."""
    try:
        value = float(formula(point))
    except (ZeroDivisionError, OverflowError, ValueError) as err:
        raise _undefined(moved, str(err)) from err
    if not math.isfinite(value):
        raise _undefined(moved, "the result is not a finite number")
    return value


def _undefined(moved: Sequence[str], reason: str) -> ValidationError:
    where = (f"with {', '.join(moved)} at the current value and the other inputs at the "
             "comparison value") if moved else "at the comparison values"
    return ValidationError(
        f"The formula cannot be evaluated {where} ({reason}), so its change cannot be "
        "split between its inputs."
    )


def shapley_attribution(
    formula: Formula,
    names: Sequence[str],
    base: Mapping[str, float],
    current: Mapping[str, float],
    *,
    max_exact: int = MAX_EXACT_INPUTS,
    samples: int = 2000,
    seed: int = 0,
    vectorised: VectorFormula | None = None,
) -> ShapleyAttribution:
    """Each input's Shapley value of ``formula(current) - formula(base)``.

    ``formula`` takes a dict of every name in ``names`` to a float and
    returns a float; ``base`` / ``current`` hold the inputs in the comparison
    / current period. Inputs come back largest |contribution| first; ``share``
    is contribution / change (None when the value did not move). Raises
    ValidationError when the formula is undefined at a point the attribution
    needs (for instance a division by an input that is 0 in one period).
    ``vectorised``, when given, is the same formula over arrays; the exact
    path then evaluates all ``2**n`` points in one call.
    """
    names = list(dict.fromkeys(names))
    missing = [n for n in names if n not in base or n not in current]
    if missing:
        raise ValidationError(
            f"Input {missing[0]!r} has no value in both periods, so the formula's change "
            "cannot be split between its inputs."
        )
    n = len(names)
    a = {k: float(base[k]) for k in names}
    b = {k: float(current[k]) for k in names}
    if n <= max_exact:
        phi, v_none, v_all = _exact(formula, names, a, b, vectorised)
        exact = True
    else:
        phi, v_none, v_all = _sampled(formula, names, a, b, samples=samples, seed=seed)
        exact = False
    change = v_all - v_none
    inputs = [
        InputContribution(name, a[name], b[name], float(phi[i]),
                          float(phi[i] / change) if change != 0 else None)
        for i, name in enumerate(names)
    ]
    inputs.sort(key=lambda x: (-abs(x.contribution), x.name))
    return ShapleyAttribution(v_none, v_all, change, tuple(inputs), exact)


def _exact(formula: Formula, names: list[str], a: dict[str, float], b: dict[str, float],
           vectorised: VectorFormula | None) -> tuple[np.ndarray, float, float]:
    n = len(names)
    size = 1 << n
    masks = np.arange(size)
    if vectorised is not None:
        # Point ``mask`` has input i at its current value when bit i is set.
        points = {k: np.where(masks >> i & 1, b[k], a[k]) for i, k in enumerate(names)}
        values = np.asarray(vectorised(points), dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            moved = [names[i] for i in range(n) if bad[0] >> i & 1]
            raise _undefined(moved, "a division by zero or a missing value")
    else:
        values = np.empty(size)
        for mask in range(size):
            moved = [names[i] for i in range(n) if mask >> i & 1]
            point = {k: (b[k] if mask >> i & 1 else a[k]) for i, k in enumerate(names)}
            values[mask] = _evaluate(formula, point, moved)
    popcount = np.array([bin(m).count("1") for m in range(size)])
    # weight[k] = k! (n-k-1)! / n!: the chance that exactly the k inputs of a
    # given coalition move before input i in a random ordering.
    weight = np.array([math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n)
                       for k in range(n)]) if n else np.array([])
    phi = np.zeros(n)
    for i in range(n):
        without = masks[(masks >> i & 1) == 0]
        phi[i] = float(np.sum(weight[popcount[without]] * (values[without | 1 << i] - values[without])))
    return phi, float(values[0]), float(values[size - 1])


def _sampled(formula: Formula, names: list[str], a: dict[str, float], b: dict[str, float], *,
             samples: int, seed: int) -> tuple[np.ndarray, float, float]:
    rng = random.Random(seed)
    n = len(names)
    phi = np.zeros(n)
    v_none = _evaluate(formula, dict(a), [])
    v_all = _evaluate(formula, dict(b), names)
    order = list(range(n))
    for _ in range(samples):
        rng.shuffle(order)
        point = dict(a)
        previous = v_none
        moved: list[str] = []
        for i in order:
            point[names[i]] = b[names[i]]
            moved.append(names[i])
            # The last step lands on v_all exactly, so each ordering sums to the change.
            value = v_all if len(moved) == n else _evaluate(formula, point, moved)
            phi[i] += value - previous
            previous = value
    return phi / samples, v_none, v_all

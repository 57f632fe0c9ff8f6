"""Hypothesis: random valid formulas agree with a plain-Python reference evaluator.

Expressions are generated as small trees, rendered to text, evaluated by
kpidesk over pandas Series, and compared position by position with a
reference written with Python floats and lists (None = missing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from kpidesk.domain.formula import evaluate_formula

N = 8
NAMES = ("a", "b", "c")


@dataclass(frozen=True)
class Node:
    kind: str
    args: tuple[object, ...]


def render(node: Node) -> str:
    k, a = node.kind, node.args
    if k == "name":
        return str(a[0])
    if k == "num":
        return repr(a[0])
    if k == "neg":
        return f"-({render(a[0])})"
    if k in "+-*/":
        return f"({render(a[0])} {k} {render(a[1])})"
    if k in ("min", "max"):
        return f"{k}({', '.join(render(x) for x in a)})"
    if k in ("abs", "round"):
        return f"{k}({render(a[0])})"
    return f"{k}({render(a[0])}, {a[1]})"  # lag / rolling_mean


def reference(node: Node, data: dict[str, list[float | None]]) -> tuple[list[float | None], list[bool]]:
    """Plain-Python semantics; returns values and division-by-zero flags."""
    k, a = node.kind, node.args
    none_flags = [False] * N
    if k == "name":
        return list(data[a[0]]), none_flags  # type: ignore[index]
    if k == "num":
        return [float(a[0])] * N, none_flags  # type: ignore[arg-type]
    if k == "neg":
        v, f = reference(a[0], data)  # type: ignore[arg-type]
        return [None if x is None else -x for x in v], f
    if k in "+-*/":
        lv, lf = reference(a[0], data)  # type: ignore[arg-type]
        rv, rf = reference(a[1], data)  # type: ignore[arg-type]
        out: list[float | None] = []
        flags = [x or y for x, y in zip(lf, rf, strict=False)]
        for i, (x, y) in enumerate(zip(lv, rv, strict=False)):
            if k == "/" and y == 0:
                flags[i] = flags[i] or x is not None
                out.append(None)
            elif x is None or y is None:
                out.append(None)
            else:
                out.append(x + y if k == "+" else x - y if k == "-" else x * y if k == "*" else x / y)
        return out, flags
    if k in ("min", "max"):
        parts = [reference(x, data) for x in a]  # type: ignore[arg-type]
        flags = [any(p[1][i] for p in parts) for i in range(N)]
        vals = []
        for i in range(N):
            items = [p[0][i] for p in parts]
            vals.append(None if any(x is None for x in items) else (min if k == "min" else max)(items))
        return vals, flags
    v, f = reference(a[0], data)  # type: ignore[arg-type]
    if k == "abs":
        return [None if x is None else abs(x) for x in v], f
    if k == "round":
        return [None if x is None else float(round(x)) for x in v], f
    n = a[1]
    if k == "lag":
        return [None] * min(n, N) + v[: max(0, N - n)], f  # type: ignore[operator]
    out = []
    for i in range(N):
        window = v[i - n + 1 : i + 1] if i - n + 1 >= 0 else None  # type: ignore[operator]
        out.append(None if window is None or any(x is None for x in window) else sum(window) / n)  # type: ignore[arg-type]
    return out, f


names = st.sampled_from(NAMES).map(lambda name: Node("name", (name,)))
numbers = st.one_of(st.integers(0, 20), st.sampled_from([0.5, 1.25, 2.0, 0.1])).map(
    lambda v: Node("num", (v,))
)
# rolling_mean reads integer-valued inputs only: pandas' online window sum is
# then exact, so the comparison can demand equality instead of a tolerance
rolling_input = st.one_of(
    names, names.flatmap(lambda x: st.integers(1, 3).map(lambda n: Node("lag", (x, n))))
)


def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.tuples(st.sampled_from("+-*/"), children, children).map(lambda t: Node(t[0], (t[1], t[2]))),
        children.map(lambda x: Node("neg", (x,))),
        children.map(lambda x: Node("abs", (x,))),
        children.map(lambda x: Node("round", (x,))),
        st.tuples(st.sampled_from(["min", "max"]), st.lists(children, min_size=2, max_size=3)).map(
            lambda t: Node(t[0], tuple(t[1]))
        ),
        st.tuples(children, st.integers(1, 3)).map(lambda t: Node("lag", (t[0], t[1]))),
        st.tuples(rolling_input, st.integers(1, 3)).map(lambda t: Node("rolling_mean", (t[0], t[1]))),
    )


expressions = st.recursive(st.one_of(names, numbers), extend, max_leaves=12)
column = st.lists(st.one_of(st.none(), st.integers(-5, 5).map(float)), min_size=N, max_size=N)


@settings(max_examples=300, deadline=None)
@given(tree=expressions, a=column, b=column, c=column)
def test_random_formulas_match_the_reference(tree: Node, a: list, b: list, c: list) -> None:
    data = {"a": a, "b": b, "c": c}
    idx = pd.date_range("2024-01-01", periods=N, freq="MS")
    series = {k: pd.Series([math.nan if x is None else x for x in v], index=idx) for k, v in data.items()}
    text = render(tree)
    result = evaluate_formula(text, series)
    expected, flags = reference(tree, data)
    got = result.values.tolist()
    for position, (g, e) in enumerate(zip(got, expected, strict=False)):
        if e is None:
            assert math.isnan(g), (text, position)
        else:
            assert g == e or math.isclose(g, e, rel_tol=1e-12), (text, position, g, e)
    # a period is flagged when a division by zero happened and the result is missing
    expected_flags = [f and e is None for f, e in zip(flags, expected, strict=False)]
    assert result.division_by_zero.tolist() == expected_flags, text

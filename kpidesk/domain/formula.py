"""Formula (derived) KPIs: a safe parser and evaluator over aligned KPI series.

A formula is an arithmetic expression over other KPIs' keys, e.g. ``clv / cac``,
``(revenue - cogs) / revenue`` or ``dau / mau``. It is parsed with :mod:`ast`
and every node is checked against a closed whitelist before anything else
happens; evaluation walks the checked tree itself. Nothing is ever handed to
``eval``, ``exec``, ``compile``-then-run, ``pandas.eval``/``query`` or numexpr,
because those execute code.

Grammar: numbers, KPI keys (``[a-z][a-z0-9_]*``), ``+ - * /``, parentheses,
unary minus/plus, and the functions ``min(a, b, …)``, ``max(a, b, …)``,
``abs(x)``, ``round(x[, digits])``, ``lag(x, n)`` (value n periods earlier) and
``rolling_mean(x, n)`` (trailing mean over n periods). ``n`` and ``digits`` are
integer literals. Division by zero gives a missing value and sets a flag.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kpidesk.errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd

MAX_LENGTH = 500
MAX_DEPTH = 32
MAX_NODES = 400
MAX_ABS_NUMBER = 1e15
MAX_WINDOW = 1000
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,79}")  # the KPI key rule

# name → (min args, max args or None); the last argument of lag / rolling_mean
# and round is an integer literal, not a series
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "min": (2, None),
    "max": (2, None),
    "abs": (1, 1),
    "round": (1, 2),
    "lag": (2, 2),
    "rolling_mean": (2, 2),
}
_INTEGER_ARG_FUNCTIONS = {"lag", "rolling_mean", "round"}


class FormulaError(ValidationError):
    """A formula that cannot be saved; ``column`` points at the offending part (1-based)."""

    def __init__(self, formula: str, reason: str, column: int | None = None) -> None:
        where = f" at column {column}" if column is not None else ""
        super().__init__(f"Formula {_clip(formula)!r}: {reason}{where}.")
        self.formula = formula
        self.reason = reason
        self.column = column


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Formula:
    """A checked formula: its text, its parsed tree and the KPI keys it reads."""

    text: str
    tree: ast.Expression
    names: frozenset[str]


def _lead(text: str) -> int:
    """Leading blanks: the tree is parsed from the stripped text, the user sees them."""
    return len(text) - len(text.lstrip())


def _column(node: ast.AST, text: str) -> int | None:
    """1-based column of ``node`` in the formula as typed."""
    offset = getattr(node, "col_offset", None)
    return None if offset is None else offset + 1 + _lead(text)


def _prescan(text: str) -> None:
    """Refuse what could hurt the Python parser itself before calling it.

    Deep nesting can exhaust the parser's stack, so nesting depth is counted on
    the raw text first; the length cap bounds the size of everything else.
    """
    if not text.strip():
        raise FormulaError(text, "the formula is empty")
    if len(text) > MAX_LENGTH:
        raise FormulaError(text, f"the formula is {len(text)} characters long; the limit is {MAX_LENGTH}")
    depth = 0
    for position, char in enumerate(text, start=1):
        if char in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise FormulaError(text, f"brackets are nested more than {MAX_DEPTH} deep", position)
        elif char in ")]}":
            depth -= 1
        elif not (char.isascii() and (char.isalnum() or char in " \t_+-*/().,")):
            raise FormulaError(text, f"the character {char!r} is not allowed", position)


def _check_integer_literal(text: str, node: ast.expr, func: str) -> None:
    if not (isinstance(node, ast.Constant) and type(node.value) is int):
        raise FormulaError(text, f"the last argument of {func}() must be a whole number", _column(node, text))
    low = 0 if func == "round" else 1
    if not low <= node.value <= MAX_WINDOW:
        raise FormulaError(
            text, f"the last argument of {func}() must be between {low} and {MAX_WINDOW}", _column(node, text)
        )


def _check(text: str, node: ast.AST, names: set[str], depth: int, count: list[int]) -> None:
    count[0] += 1
    if count[0] > MAX_NODES:
        raise FormulaError(text, f"the formula has more than {MAX_NODES} parts")
    if depth > MAX_DEPTH:
        raise FormulaError(text, f"the formula is nested more than {MAX_DEPTH} deep", _column(node, text))
    if isinstance(node, ast.Constant):
        value = node.value
        # bool is an int subclass; True/False are not numbers a PM means
        if type(value) not in (int, float):
            raise FormulaError(text, f"only numbers are allowed, not {value!r}", _column(node, text))
        if not abs(value) <= MAX_ABS_NUMBER:
            raise FormulaError(text, f"the number {_clip(str(value), 20)} is too large", _column(node, text))
        return
    if isinstance(node, ast.Name):
        if not KEY_PATTERN.fullmatch(node.id) or not isinstance(node.ctx, ast.Load):
            raise FormulaError(text, f"{node.id!r} is not a KPI key", _column(node, text))
        if node.id in FUNCTIONS:
            raise FormulaError(text, f"{node.id} is a function and needs brackets", _column(node, text))
        names.add(node.id)
        return
    if isinstance(node, ast.BinOp):
        if not isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            symbol = {ast.Pow: "**", ast.FloorDiv: "//", ast.Mod: "%"}.get(type(node.op), "this operator")
            raise FormulaError(text, f"{symbol} is not allowed (use + - * /)", _column(node, text))
        _check(text, node.left, names, depth + 1, count)
        _check(text, node.right, names, depth + 1, count)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise FormulaError(text, "only a leading minus or plus is allowed", _column(node, text))
        _check(text, node.operand, names, depth + 1, count)
        return
    if isinstance(node, ast.Call):
        func = node.func
        if not isinstance(func, ast.Name) or func.id not in FUNCTIONS:
            label = func.id if isinstance(func, ast.Name) else "this call"
            allowed = ", ".join(sorted(FUNCTIONS))
            raise FormulaError(text, f"unknown function {label!r} (allowed: {allowed})", _column(node, text))
        if node.keywords:
            raise FormulaError(text, f"{func.id}() takes no named arguments", _column(node, text))
        low, high = FUNCTIONS[func.id]
        n = len(node.args)
        if n < low or (high is not None and n > high):
            wanted = str(low) if low == high else f"{low} or more" if high is None else f"{low} to {high}"
            raise FormulaError(text, f"{func.id}() takes {wanted} arguments, not {n}", _column(node, text))
        series_args = node.args
        if func.id in _INTEGER_ARG_FUNCTIONS and (func.id != "round" or n == 2):
            _check_integer_literal(text, node.args[-1], func.id)
            series_args = node.args[:-1]
        for arg in series_args:
            if isinstance(arg, ast.Starred):
                raise FormulaError(text, "* unpacking is not allowed", _column(arg, text))
            _check(text, arg, names, depth + 1, count)
        return
    kind = type(node).__name__
    raise FormulaError(text, f"this kind of expression ({kind}) is not allowed", _column(node, text))


def parse_formula(text: str) -> Formula:
    """Parse and check a formula; raise :class:`FormulaError` pointing at the offending part."""
    if not isinstance(text, str):
        raise FormulaError(str(text), "a formula must be text")
    _prescan(text)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        column = None if exc.offset is None else exc.offset + _lead(text)
        raise FormulaError(text, f"syntax error ({exc.msg})", column) from None
    except (ValueError, RecursionError, MemoryError):
        raise FormulaError(text, "the formula cannot be read") from None
    names: set[str] = set()
    _check(text, tree.body, names, 0, [0])
    return Formula(text, tree, frozenset(names))


# ---------------------------------------------------------------- evaluation


@dataclass
class FormulaResult:
    """Evaluated series and, per period, whether a division by zero made it missing."""

    values: pd.Series
    division_by_zero: pd.Series


class _Evaluator:
    def __init__(self, frame: pd.DataFrame) -> None:
        import numpy as np
        import pandas as pd

        self.np = np
        self.pd = pd
        self.frame = frame
        self.zero_division = pd.Series(False, index=frame.index)

    def visit(self, node: ast.AST) -> pd.Series:
        pd, np = self.pd, self.np
        index = self.frame.index
        if isinstance(node, ast.Constant):
            return pd.Series(float(node.value), index=index)
        if isinstance(node, ast.Name):
            return self.frame[node.id].astype(np.float64)
        if isinstance(node, ast.UnaryOp):
            operand = self.visit(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            left, right = self.visit(node.left), self.visit(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            zero = right == 0
            self.zero_division |= zero & left.notna()
            return left / right.where(~zero)
        assert isinstance(node, ast.Call)
        assert isinstance(node.func, ast.Name)
        name = node.func.id
        if name in ("min", "max"):
            stacked = np.column_stack([self.visit(arg).to_numpy() for arg in node.args])
            # a missing input makes the result missing (no silent skip of gaps)
            reduce = np.min if name == "min" else np.max
            return pd.Series(reduce(stacked, axis=1), index=index)
        if name == "abs":
            return self.visit(node.args[0]).abs()
        if name == "round":
            digits = node.args[1].value if len(node.args) == 2 else 0  # type: ignore[attr-defined]
            return self.visit(node.args[0]).round(digits)
        periods = node.args[1].value  # type: ignore[attr-defined]
        inner = self.visit(node.args[0])
        if name == "lag":
            return inner.shift(periods)
        return inner.rolling(periods, min_periods=periods).mean()


def evaluate_formula(formula: Formula | str, series: Mapping[str, pd.Series]) -> FormulaResult:
    """Evaluate over KPI series aligned on their period index.

    The inputs are aligned on the union of their indexes (sorted); a period
    missing in one input is missing in the result of every operation using it.
    x / 0 is missing, with ``division_by_zero`` True for that period.
    lag(x, n)_t = x_{t−n}; rolling_mean(x, n)_t = (x_{t−n+1} + … + x_t) / n
    (positions in the aligned index); round(x, d) rounds half to even.
    """
    import pandas as pd

    parsed = parse_formula(formula) if isinstance(formula, str) else formula
    missing = sorted(parsed.names - set(series))
    if missing:
        raise FormulaError(parsed.text, f"no values for {', '.join(missing)}")
    frame = pd.DataFrame({name: series[name] for name in sorted(parsed.names)})
    if not parsed.names:
        index = next(iter(series.values())).index if series else pd.DatetimeIndex([])
        frame = pd.DataFrame(index=index)
    frame = frame.sort_index()
    evaluator = _Evaluator(frame)
    values = evaluator.visit(parsed.tree.body)
    return FormulaResult(values, evaluator.zero_division & values.isna())


# ---------------------------------------------------------------- dependencies


def _find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    white, grey, black = 0, 1, 2
    state = dict.fromkeys(graph, white)
    stack: list[str] = []

    def visit(key: str) -> list[str] | None:
        state[key] = grey
        stack.append(key)
        for dep in sorted(graph.get(key, ())):
            if dep not in graph:
                continue
            if state[dep] == grey:
                return [*stack[stack.index(dep) :], dep]
            if state[dep] == white:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[key] = black
        return None

    for key in sorted(graph):
        if state[key] == white:
            found = visit(key)
            if found:
                return found
    return None


def _name_column(formula: Formula, name: str) -> int | None:
    """1-based column of the first use of ``name`` in the formula text."""
    uses = [node for node in ast.walk(formula.tree) if isinstance(node, ast.Name) and node.id == name]
    if not uses:
        return None
    return min(node.col_offset for node in uses) + 1 + _lead(formula.text)


def resolve_order(formulas: Mapping[str, str | Formula], known_keys: Iterable[str]) -> list[str]:
    """Order formula KPIs so that each comes after the formula KPIs it reads.

    ``formulas`` maps a KPI key to its formula; ``known_keys`` are the KPIs with
    stored values. An unknown key or a cycle (a → b → a) raises FormulaError
    naming it.
    """
    parsed = {key: parse_formula(f) if isinstance(f, str) else f for key, f in formulas.items()}
    known = set(known_keys) | set(parsed)
    for key, formula in parsed.items():
        unknown = sorted(formula.names - known)
        if unknown:
            raise FormulaError(
                formula.text,
                f"unknown KPI {unknown[0]!r} in the formula of {key!r}",
                _name_column(formula, unknown[0]),
            )
    graph = {key: formula.names & set(parsed) for key, formula in parsed.items()}
    cycle = _find_cycle(graph)
    if cycle:
        raise FormulaError(
            parsed[cycle[0]].text, "the formulas refer to each other in a circle: " + " → ".join(cycle)
        )
    order: list[str] = []
    done: set[str] = set()

    def place(key: str) -> None:
        if key in done:
            return
        for dep in sorted(graph[key]):
            place(dep)
        done.add(key)
        order.append(key)

    for key in sorted(parsed):
        place(key)
    return order


def validate_formula(
    key: str, text: str, known_keys: Iterable[str], other_formulas: Mapping[str, str] | None = None
) -> Formula:
    """Check a formula at save time: syntax, whitelist, known names, no cycle.

    ``known_keys`` are all KPI keys of the product; ``other_formulas`` the
    formulas of the other derived KPIs (so a cycle through them is found).
    """
    parsed = parse_formula(text)
    if key in parsed.names:
        raise FormulaError(text, f"the formula of {key!r} refers to itself")
    formulas: dict[str, str | Formula] = dict(other_formulas or {})
    formulas[key] = parsed
    resolve_order(formulas, set(known_keys) | {key})
    return parsed


def evaluate_all(formulas: Mapping[str, str], series: Mapping[str, pd.Series]) -> dict[str, FormulaResult]:
    """Evaluate every formula KPI in dependency order, feeding results forward."""
    available = dict(series)
    results: dict[str, FormulaResult] = {}
    for key in resolve_order(formulas, series.keys()):
        result = evaluate_formula(formulas[key], available)
        results[key] = result
        available[key] = result.values
    return results

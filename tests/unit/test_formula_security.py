"""Formula safety: a payload corpus is refused with 0 code executed.

An audit hook (PEP 578) counts code execution (``exec`` events fire for every
code object run by eval/exec), imports, process creation and file opening
while each payload is parsed and, if it got that far, evaluated. ``compile``
events are expected: ``ast.parse`` compiles to a tree, never to runnable code.
"""

from __future__ import annotations

import sys

import pandas as pd
import pytest

from kpidesk.domain.formula import FormulaError, evaluate_formula, parse_formula

PAYLOADS = [
    "__import__('os').system('touch /tmp/kpidesk_pwned')",
    "__import__",
    "__builtins__",
    "__builtins__.__dict__['eval']('1')",
    "revenue.__class__",
    "revenue.__class__.__mro__[1].__subclasses__()",
    "().__class__.__bases__[0].__subclasses__()",
    "[].__class__.__base__.__subclasses__()",
    "revenue.real",
    "revenue.to_csv('/tmp/kpidesk_pwned')",
    "pd.read_csv('/etc/passwd')",
    "np.ctypeslib",
    "os.system('id')",
    "eval('1+1')",
    "exec('import os')",
    "compile('1', 'x', 'eval')",
    "open('/etc/passwd').read()",
    "getattr(revenue, 'values')",
    "globals()",
    "locals()",
    "vars()",
    "dir()",
    "type(revenue)",
    "breakpoint()",
    "input()",
    "'{0.__class__}'.format(revenue)",
    "'{.__globals__}'.format(min)",
    "'%s' % revenue",
    "f'{revenue}'",
    "f'{__import__(\"os\").getcwd()}'",
    "lambda: 1",
    "(lambda x: x)(revenue)",
    "[x for x in (1, 2)]",
    "(x for x in (1, 2))",
    "{x: 1 for x in (1, 2)}",
    "{x for x in (1, 2)}",
    "(y := revenue)",
    "revenue if cogs else 1",
    "revenue and cogs",
    "not revenue",
    "revenue[0]",
    "revenue[::-1]",
    "[1, 2, 3]",
    "(1, 2)",
    "{'a': 1}",
    "'text'",
    "b'bytes'",
    "True",
    "None",
    "...",
    "9 ** 9 ** 9",
    "10 ** 100",
    "1e999",
    "9" * 400,
    "(" * 200 + "1" + ")" * 200,
    "-" * 300 + "1",
    "abs(" * 60 + "1" + ")" * 60,
    "+".join(["revenue"] * 100),
    "revenue @ cogs",
    "revenue << 2",
    "revenue ^ 1",
    "~revenue",
    "revenue == cogs",
    "revenue; import os",
    "import os",
    "revenue\nimport os",
    "min(*[revenue, cogs])",
    "max(**{'a': 1})",
    "round(revenue, ndigits=__import__('os'))",
    "lag(revenue, __import__('os'))",
    "abs.__self__",
    "min.__self__.open",
    "\u0435val('1')",  # Cyrillic e: a look-alike name
    "revenue\x00",
    "await revenue",
    "yield revenue",
    "print(revenue)",
    "help()",
]

_WATCHED = (
    "exec",
    "import",
    "os.system",
    "subprocess.Popen",
    "os.exec",
    "os.spawn",
    "open",
    "os.posix_spawn",
)


class _AuditCounter:
    """Counts watched audit events while ``armed``; a hook cannot be removed, so it is gated."""

    def __init__(self) -> None:
        self.armed = False
        self.events: list[tuple[str, tuple[object, ...]]] = []

    def __call__(self, event: str, args: tuple[object, ...]) -> None:
        if self.armed and event.startswith(_WATCHED):
            self.events.append((event, args))


_COUNTER = _AuditCounter()
sys.addaudithook(_COUNTER)


def test_corpus_is_large_enough() -> None:
    assert len(PAYLOADS) >= 50
    assert len(set(PAYLOADS)) == len(PAYLOADS)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_is_refused_with_no_code_executed(payload: str, tmp_path: object) -> None:
    import numpy as np  # noqa: F401 - loaded before arming, so its lazy imports do not count

    series = {
        "revenue": pd.Series([1.0, 2.0], index=pd.date_range("2024-01-01", periods=2, freq="MS")),
        "cogs": pd.Series([1.0, 1.0], index=pd.date_range("2024-01-01", periods=2, freq="MS")),
    }
    _COUNTER.events.clear()
    _COUNTER.armed = True
    try:
        with pytest.raises(FormulaError):
            parse_formula(payload)
        with pytest.raises(FormulaError):
            evaluate_formula(payload, series)
    finally:
        _COUNTER.armed = False
    assert _COUNTER.events == []


def test_the_audit_hook_does_see_execution() -> None:
    """The counter is live: a real eval while armed is recorded (so 0 above means 0)."""
    _COUNTER.events.clear()
    _COUNTER.armed = True
    try:
        eval("1 + 1")  # the one deliberate eval, to prove the detector works
    finally:
        _COUNTER.armed = False
    assert any(event == "exec" for event, _ in _COUNTER.events)

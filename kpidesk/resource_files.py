"""Access to files in ``resources/`` (shipped as the ``kpidesk.resources`` package).

``importlib.resources`` finds them in a wheel install, an editable install and
a PyInstaller bundle alike, so nothing here builds paths from ``__file__``.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable


def resource(*parts: str) -> Traversable:
    node = resources.files("kpidesk.resources")
    for part in parts:
        node = node / part
    return node


def read_text(*parts: str) -> str:
    return resource(*parts).read_text(encoding="utf-8")


def read_bytes(*parts: str) -> bytes:
    return resource(*parts).read_bytes()

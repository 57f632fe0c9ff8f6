"""Packages are listed here because ``resources/`` (top level) ships as ``kpidesk.resources``.

Its sub-folders (icons, styles, ...) are listed as packages too, so setuptools
copies their files as package data without warning that they look importable.
"""

from pathlib import Path

from setuptools import find_packages, setup

resource_dirs = sorted(
    "kpidesk.resources" + "".join(f".{part}" for part in path.relative_to("resources").parts)
    for path in Path("resources").rglob("*")
    if path.is_dir() and "__pycache__" not in path.parts
)

setup(
    packages=[*find_packages(include=["kpidesk", "kpidesk.*"]), "kpidesk.resources", *resource_dirs],
    package_dir={"kpidesk.resources": "resources"},
)

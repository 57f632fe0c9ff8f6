"""Packages are listed here because ``resources/`` (top level) ships as ``kpidesk.resources``."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["kpidesk", "kpidesk.*"]), "kpidesk.resources"],
    package_dir={"kpidesk.resources": "resources"},
)

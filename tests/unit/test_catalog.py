"""The KPI catalog: complete per METRICS.md, validated, readable when installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kpidesk.domain.catalog import load_catalog, parse_catalog
from kpidesk.errors import KpideskError

# every KPI of ../shared/METRICS.md's table
METRICS_MD_KEYS = {
    "revenue", "revenue_growth", "mrr", "arpu", "gross_margin", "profit_margin", "roi", "cac", "cpa", "clv",
    "ltv_cac", "cac_payback", "rnd_spend", "nps", "csat", "ces", "churn_rate", "revenue_churn",
    "retention_rate", "avg_lifetime", "returning_users", "dau", "wau", "mau", "stickiness", "usage_frequency",
    "time_in_app", "feature_adoption", "signups", "downloads", "visits", "activation_rate", "time_to_activate",
    "onboarding_completion", "conversion_rate", "funnel_dropoff", "referrals", "referral_conversion", "k_factor",
    "load_time", "uptime", "error_rate", "delivery_time", "time_to_market", "innovation_rate",
    "employee_satisfaction", "productivity",
}


def test_catalog_holds_every_metrics_md_kpi_with_all_fields() -> None:
    catalog = load_catalog()
    assert len(catalog) >= 45
    assert {e.key for e in catalog} >= METRICS_MD_KEYS
    for entry in catalog:
        assert entry.name and entry.definition and entry.formula, entry.key


@pytest.mark.parametrize(
    ("key", "unit", "direction", "aggregation", "stage"),
    [
        ("nps", "score", "up", "ratio", "referral"),
        ("churn_rate", "percent", "down", "ratio", "retention"),
        ("cac", "currency", "down", "ratio", "acquisition"),
        ("dau", "count", "up", "mean", "retention"),
        ("stickiness", "percent", "up", "ratio", "retention"),
        ("rnd_spend", "currency", "band", "sum", "none"),
        ("time_to_market", "days", "down", "mean", "none"),
    ],
)
def test_catalog_fields_follow_metrics_md(key: str, unit: str, direction: str, aggregation: str, stage: str) -> None:
    entry = load_catalog().get(key)
    assert (entry.unit, entry.direction, entry.aggregation, entry.stage) == (unit, direction, aggregation, stage)


def test_conventions_are_offered_where_practitioners_disagree() -> None:
    catalog = load_catalog()
    assert len(catalog.get("clv").conventions) == 3
    assert "rolling 30 days" in catalog.get("mau").conventions
    assert catalog.get("nps").min_value == -100 and catalog.get("nps").max_value == 100
    assert catalog.get("ltv_cac").derived == "clv / cac"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[kpi]]\nkey = "x"\nname = "X"\n', "lacks definition"),
        ('[[kpi]]\nkey = "Bad Key"\nname="X"\ndefinition="d"\nformula="f"\ncategory="customer"\nstage="none"\n'
         'unit="count"\ndirection="up"\naggregation="sum"\nfrequency="month"\n', "lower_snake_case"),
        ('[[kpi]]\nkey = "x"\nname="X"\ndefinition="d"\nformula="f"\ncategory="customer"\nstage="none"\n'
         'unit="parsecs"\ndirection="up"\naggregation="sum"\nfrequency="month"\n', "parsecs"),
        ("[[kpi]\n", "not valid TOML"),
    ],
)
def test_broken_catalog_is_refused_with_the_entry_named(toml: str, message: str) -> None:
    with pytest.raises(KpideskError, match=message):
        parse_catalog(toml, "test.toml")


LOAD = "from kpidesk.domain.catalog import load_catalog; print(len(load_catalog()))"


def test_resources_load_in_this_install_from_any_directory(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", LOAD], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert int(out.stdout) == len(load_catalog())


@pytest.mark.slow
def test_resources_load_from_a_built_wheel(tmp_path: Path) -> None:
    """A normal (non-editable) install: build the wheel, install it into a folder, load from there."""
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(root)],
                   check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("kpidesk-*.whl"))
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    assert (target / "kpidesk" / "resources" / "catalog.toml").is_file()
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONNOUSERSITE": "1"}
    script = f"import kpidesk, sys; assert kpidesk.__file__.startswith({str(target)!r}), kpidesk.__file__; {LOAD}"
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {script}"],
                         cwd=tmp_path, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == len(load_catalog())

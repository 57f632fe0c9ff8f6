"""The command line end to end, in a subprocess, as a user runs it."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest


def kpidesk(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "kpidesk", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=120)


def test_version_and_help() -> None:
    from kpidesk import __version__

    out = kpidesk("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"kpidesk {__version__}"
    helped = kpidesk("--help")
    assert helped.returncode == 0
    for command in ("init", "product", "kpi", "catalog", "record", "show", "demo"):
        assert command in helped.stdout


def test_cli_never_imports_qt(tmp_path: Path) -> None:
    code = ("import sys; from kpidesk.cli.main import main; main(['--db', sys.argv[1], 'catalog', 'list']);"
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'kpidesk.gui'))];"
            "assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.db")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_catalog_list_and_show() -> None:
    out = kpidesk("catalog", "list", "--csv")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    keys = {row["key"] for row in rows}
    assert len(rows) >= 45
    assert {"nps", "csat", "ces", "churn_rate", "retention_rate", "dau", "mau", "stickiness", "cac", "clv",
            "ltv_cac", "arpu", "gross_margin", "revenue_growth", "conversion_rate", "funnel_dropoff",
            "time_to_market", "feature_adoption", "k_factor"} <= keys
    shown = kpidesk("catalog", "show", "ltv_cac")
    assert "clv / cac" in shown.stdout and "Direction:    up" in shown.stdout
    missing = kpidesk("catalog", "show", "ebitda")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "kpidesk: 'ebitda' is not in the KPI catalog; see 'kpidesk catalog list' for the keys."


def test_a_session_from_init_to_show(tmp_path: Path) -> None:
    db = str(tmp_path / "my.db")
    assert kpidesk("--db", db, "init").returncode == 0
    assert kpidesk("product", "add", "Pulse", "--db", db).returncode == 0
    added = kpidesk("kpi", "add", "--product", "Pulse", "--from-catalog", "churn_rate", "--db", db)
    assert added.returncode == 0, added.stderr
    custom = kpidesk("kpi", "add", "Tickets closed", "--product", "Pulse", "--unit", "count", "--db", db)
    assert "tickets_closed" in custom.stdout
    for day, value in (("2024-01-10", "5.5"), ("2024-02-03", "4.9"), ("2024-03-28", "4.1")):
        result = kpidesk("record", "churn_rate", day, value, "--db", db)
        assert result.returncode == 0, result.stderr
    assert "Mar 2024: 4.1 %" in result.stdout
    kpidesk("record", "churn_rate", "2024-03-01", "6", "--segment", "plan:free", "--note", "free tier", "--db", db)
    table = kpidesk("show", "churn_rate", "--db", db)
    assert table.returncode == 0
    assert "Feb 2024" in table.stdout and "4.9 %" in table.stdout
    as_csv = kpidesk("show", "churn_rate", "--from", "2024-02-01", "--segment", "all", "--csv", "--db", db)
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows == [["period_start", "segment", "value"], ["2024-02-01", "", "4.9"], ["2024-03-01", "", "4.1"],
                    ["2024-03-01", "plan:free", "6.0"]]
    listed = kpidesk("kpi", "list", "--csv", "--db", db)
    assert "Pulse,churn_rate,Customer churn rate,percent,down,month" in listed.stdout


def test_environment_variable_and_default_location(tmp_path: Path) -> None:
    env_db = tmp_path / "env.db"
    kpidesk("product", "add", "FromEnv", env={"KPIDESK_DB": str(env_db)})
    assert env_db.exists()
    data_dir = tmp_path / "data"
    result = kpidesk("product", "add", "Default", env={"KPIDESK_DATA_DIR": str(data_dir), "KPIDESK_DB": ""})
    assert result.returncode == 0, result.stderr
    assert (data_dir / "workspace.kpidesk.db").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["record", "churn_rate", "2024-13-01", "3"], "'2024-13-01' is not a date"),
        (["record", "churn_rate", "2024-01-01", "lots"], "'lots' is not a number"),
        (["record", "churn_rate", "2024-01-01", "140"], "above 100"),
        (["record", "mrr", "2024-01-01", "1"], "no KPI 'mrr'"),
        (["show", "churn_rate", "--from", "last week"], "Dates are written YYYY-MM-DD"),
        (["product", "add", "Pulse"], "already exists"),
        (["kpi", "add", "--product", "Nope", "--from-catalog", "nps"], "no product 'Nope'"),
    ],
)
def test_errors_are_one_clear_line_and_non_zero(tmp_path: Path, args: list[str], message: str) -> None:
    db = str(tmp_path / "e.db")
    kpidesk("product", "add", "Pulse", "--db", db)
    kpidesk("kpi", "add", "--product", "Pulse", "--from-catalog", "churn_rate", "--db", db)
    result = kpidesk(*args, "--db", db)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_damaged_database_is_one_line_too(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_text("this is a text file")
    result = kpidesk("product", "list", "--db", str(bad))
    assert result.returncode == 1
    assert "not a SQLite database" in result.stderr and "Traceback" not in result.stderr
    assert bad.read_text() == "this is a text file"


def test_demo_then_show(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.db")
    made = kpidesk("demo", "--db", db)
    assert made.returncode == 0, made.stderr
    assert "3 products" in made.stdout
    shown = kpidesk("show", "Ledger/mrr", "--db", db)
    assert shown.returncode == 0 and "Monthly recurring revenue" in shown.stdout and "€" in shown.stdout
    again = kpidesk("demo", "--db", db)
    assert again.returncode == 1 and "already has products" in again.stderr

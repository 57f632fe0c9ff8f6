"""Data sources end to end: real CSV / xlsx files, a real SQLite workspace, the CLI."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpidesk.errors import KpideskError, ValidationError
from kpidesk.services.source_service import SourceService, auto_mapping
from kpidesk.storage.measurements import param_style, read_series


def write_events_csv(path: Path, days: int = 40, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 600
    frame = pd.DataFrame(
        {
            "Member ID": rng.integers(0, 60, n),
            "Event Time": (
                pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, days * 86_400, n), unit="s")
            ).strftime("%Y-%m-%d %H:%M:%S"),
            "Action": rng.choice(["open", "buy"], n),
        }
    )
    frame.to_csv(path, index=False)
    return frame


def kpi_id(workspace, key: str) -> int:
    return next(k.id for k in workspace.kpis.list("App") if k.key == key)


@pytest.fixture
def service(workspace):
    workspace.products.create("App")
    return SourceService(workspace.db, workspace.catalog)


def test_add_maps_columns_runs_the_recipe_and_keeps_provenance(workspace, service, tmp_path: Path) -> None:
    """DAU stored for each day equals the distinct members of that day in the CSV."""
    raw = write_events_csv(tmp_path / "events.csv")
    sticky, _ = workspace.kpis.add_from_catalog("App", "stickiness")
    assert sticky.formula == "dau / mau * 100"
    source, changes = service.add(
        "App",
        tmp_path / "events.csv",
        "events",
        mapping={"user": "Member ID"},
        conventions={"key_event": "buy"},
    )
    assert source.mapping == {"user": "Member ID", "timestamp": "Event Time", "event": "Action"}
    assert source.file_hash and source.last_error == ""
    assert changes.counts["measurements"] > 0
    dau = read_series(workspace.db, kpi_id(workspace, "dau"))
    expected = (
        raw.assign(day=pd.to_datetime(raw["Event Time"]).dt.normalize()).groupby("day")["Member ID"].nunique()
    )
    assert dau.set_index("period_start")["value"].to_dict() == expected.astype(float).to_dict()
    with workspace.db.raw() as con:
        rows = con.execute("SELECT DISTINCT source, data_source_id FROM measurement").fetchall()
    assert rows == [("data_source", source.id)]
    kpis = {k.key: k for k in workspace.kpis.list("App")}
    assert kpis["activation_rate"].convention.startswith("new users doing buy within 7 days")
    assert kpis["stickiness"].convention == "DAU / rolling-30-day MAU"
    assert not kpis["stickiness"].formula  # measured from the export now, not derived
    # the export ends inside April: April's monthly values say they are partial
    last_day = pd.to_datetime(raw["Event Time"]).max().date()
    assert last_day.month == 4
    with workspace.db.raw() as con:
        cursor = con.cursor()
        cursor.execute(
            f"SELECT period_start, note FROM measurement WHERE kpi_id = {param_style(con)} ORDER BY period_start",
            (kpi_id(workspace, "signups"),),
        )
        notes = [(str(day), note) for day, note in cursor.fetchall()]
    assert notes == [("2024-03-01", ""), ("2024-04-01", f"so far: data through {last_day}")]
    # analysis months later still treats April as partial: the export ended inside it
    from kpidesk.services.metrics_service import MetricsService

    analysis = MetricsService(workspace.db, workspace.catalog).analyse(
        kpi_id(workspace, "signups"), as_of=dt.date(2025, 1, 1)
    )
    assert analysis.partial.tolist() == [False, True]
    assert analysis.vs_previous["verdict"].iloc[-1] == "partial"


class Recorder:
    """A Progress that records reports and can cancel after the first one."""

    def __init__(self, cancel: bool = False) -> None:
        self.reports: list[tuple[float, str]] = []
        self.cancel = cancel

    def report(self, fraction: float, text: str = "") -> None:
        self.reports.append((fraction, text))

    def cancelled(self) -> bool:
        return self.cancel and bool(self.reports)


def test_progress_is_reported_and_cancel_writes_nothing(workspace, service, tmp_path: Path) -> None:
    from kpidesk.errors import CancelledError

    path = tmp_path / "events.csv"
    write_events_csv(path)
    progress = Recorder()
    service.add("App", path, "events", progress=progress)
    assert [f for f, _ in progress.reports] == [0.3, 0.8, 1.0]
    assert progress.reports[0][1] == "Computing events KPIs from 600 rows…"
    with pytest.raises(CancelledError):
        service.add("App", path, "events", name="second", progress=Recorder(cancel=True))
    assert [s.name for s in service.list()] == ["events.csv"]


def test_refresh_skips_unchanged_files_and_replaces_old_values(workspace, service, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    write_events_csv(path, days=40)
    source, _ = service.add("App", path, "events")
    outcome, changes = service.refresh(source.id)
    assert not outcome.refreshed
    assert changes.empty
    dau_id = kpi_id(workspace, "dau")
    before = read_series(workspace.db, dau_id)
    assert before["period_start"].max() >= pd.Timestamp("2024-04-05")
    write_events_csv(path, days=10, seed=2)  # a shorter export: later days must disappear
    outcome, changes = service.refresh(source.id)
    assert outcome.refreshed
    assert dau_id in changes.kpi_ids
    after = read_series(workspace.db, dau_id)
    assert after["period_start"].max() <= pd.Timestamp("2024-03-10")
    assert service.get(source.id).file_hash != source.file_hash


def test_refresh_failure_is_recorded_and_the_old_values_stay(workspace, service, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    write_events_csv(path)
    source, _ = service.add("App", path, "events")
    dau_id = kpi_id(workspace, "dau")
    count = len(read_series(workspace.db, dau_id))
    with path.open("a") as handle:
        handle.write("5,yesterday-ish,open\n")
    with pytest.raises(
        KpideskError, match=r"cannot read 'yesterday-ish' as a date \(column 'timestamp', row 602\)"
    ):
        service.refresh(source.id)
    assert "yesterday-ish" in service.get(source.id).last_error
    assert len(read_series(workspace.db, dau_id)) == count
    with pytest.raises(KpideskError, match="1 of 1 data sources failed"):
        service.refresh_all()


def test_transactions_from_an_xlsx_sheet(workspace, service, tmp_path: Path) -> None:
    """Revenue per month from the 'Payments' sheet: Jan 10 + 20 = 30, Feb 12."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Notes"
    sheet = book.create_sheet("Payments")
    sheet.append(["Customer ID", "Invoice Date", "Net Amount"])
    for row in (["a", "2024-01-05", 10], ["b", "2024-01-20", 20], ["a", "2024-02-05", 12]):
        sheet.append([row[0], pd.Timestamp(row[1]).to_pydatetime(), row[2]])
    path = tmp_path / "payments.xlsx"
    book.save(path)
    source, _ = service.add("App", path, "transactions", sheet="Payments")
    assert source.mapping == {"customer": "Customer ID", "date": "Invoice Date", "amount": "Net Amount"}
    revenue = read_series(workspace.db, kpi_id(workspace, "revenue")).set_index("period_start")["value"]
    assert revenue.to_dict() == {pd.Timestamp("2024-01-01"): 30.0, pd.Timestamp("2024-02-01"): 12.0}
    arpu = read_series(workspace.db, kpi_id(workspace, "arpu")).set_index("period_start")
    assert arpu.loc[pd.Timestamp("2024-01-01"), ["value", "numerator", "denominator"]].tolist() == [15, 30, 2]


def test_mapping_errors_name_the_headers(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"needs a 'user' column .*--map user=HEADER"):
        auto_mapping("events", ["Who", "When"])
    with pytest.raises(ValidationError, match="no column 'Nope'"):
        auto_mapping("events", ["user", "timestamp"], {"event": "Nope"})
    assert auto_mapping("survey", ["Date", "NPS"]) == {"date": "Date", "score": "NPS"}


def test_unknown_convention_is_refused(service, tmp_path: Path) -> None:
    write_events_csv(tmp_path / "events.csv")
    with pytest.raises(ValidationError, match="no convention 'muu'; it knows: activation_days"):
        service.add("App", tmp_path / "events.csv", "events", conventions={"muu": "calendar_month"})
    assert service.list() == []


def test_a_bad_source_is_not_kept(workspace, service, tmp_path: Path) -> None:
    path = tmp_path / "survey.csv"
    pd.DataFrame({"date": ["2024-01-01"], "score": [14]}).to_csv(path, index=False)
    with pytest.raises(ValidationError, match="NPS score 14 outside 0–10"):
        service.add("App", path, "survey")
    assert service.list() == []


def run_cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KPIDESK_DB": str(db)}
    return subprocess.run(
        [sys.executable, "-m", "kpidesk", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_source_add_and_refresh_quiet_on_success(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    events = tmp_path / "events.csv"
    write_events_csv(events)
    assert run_cli("init", db=db).returncode == 0
    assert run_cli("product", "add", "App", db=db).returncode == 0
    added = run_cli(
        "source",
        "add",
        str(events),
        "--recipe",
        "events",
        "--product",
        "App",
        "--convention",
        "key_event=buy",
        "--convention",
        "funnel_steps=open,buy",
        db=db,
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("Added data source 1 (events.csv, recipe events)")
    quiet = run_cli("refresh", "--all", db=db)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    listed = run_cli("source", "list", "--csv", db=db)
    assert "events.csv,events" in listed.stdout and ",ok," in listed.stdout
    with events.open("a") as handle:
        handle.write("5,not a date,open\n")
    failed = run_cli("refresh", "--all", db=db)
    assert failed.returncode != 0
    assert failed.stdout == ""
    assert failed.stderr.strip().startswith(
        "kpidesk: 1 of 1 data sources failed: Data source events.csv (id 1)"
    )
    assert run_cli("refresh", "9", db=db).returncode != 0
    assert run_cli("refresh", db=db).returncode != 0
    trend = run_cli("trend", "dau", "--product", "App", "--period", "week", "--as-of", "2024-03-20", db=db)
    assert trend.returncode == 0, trend.stderr
    assert "2024-W12 so far (3 of 7 days)" in trend.stdout
    assert "\nTrend: " in trend.stdout
    fiscal = run_cli(
        "trend",
        "signups",
        "--product",
        "App",
        "--period",
        "fiscal_year",
        "--fiscal-year-start",
        "3",
        "--as-of",
        "2024-03-20",
        db=db,
    )
    assert fiscal.returncode == 0, fiscal.stderr
    assert "FY from Mar 2024 so far (20 of 365 days)" in fiscal.stdout
    bad = run_cli("formula", "set", "signups", "dau / mau + foo(1)", "--product", "App", db=db)
    assert bad.returncode == 1
    assert bad.stderr.strip().endswith(
        "unknown function 'foo' (allowed: abs, lag, max, min, rolling_mean, round) at column 13."
    )
    good = run_cli("formula", "set", "signups", "dau / mau * 100", "--product", "App", db=db)
    assert (good.returncode, good.stdout) == (0, "")


def test_formula_kpi_across_two_sources(workspace, service, tmp_path: Path) -> None:
    """LTV:CAC (catalog formula clv / cac) from a transactions source (CLV) and a spend source (CAC).

    Payments: Jan a 50, b 50, c 50; Feb a 50, b 50 (c churned).
    Feb: churn 1/3, ARPU 100/2 = 50 → CLV (ARPU / churn) = 150.
    Spend Feb 300 for 2 new customers → CAC 150 → LTV:CAC = 1.0.
    """
    from kpidesk.services.metrics_service import MetricsService

    payments = tmp_path / "payments.csv"
    pd.DataFrame(
        {
            "customer": ["a", "b", "c", "a", "b"],
            "date": ["2024-01-03", "2024-01-04", "2024-01-05", "2024-02-03", "2024-02-04"],
            "amount": [50, 50, 50, 50, 50],
        }
    ).to_csv(payments, index=False)
    spend = tmp_path / "spend.csv"
    pd.DataFrame(
        {
            "date": ["2024-02-01", "2024-02-15"],
            "channel": ["ads", "seo"],
            "amount": [200, 100],
            "new_customers": [1, 1],
        }
    ).to_csv(spend, index=False)
    service.add("App", payments, "transactions", conventions={"clv": "arpu_over_churn"})
    service.add("App", spend, "spend")
    ltv_cac, _ = workspace.kpis.add_from_catalog("App", "ltv_cac")
    metrics = MetricsService(workspace.db, workspace.catalog)
    values, flags = metrics.formula_series(ltv_cac.id, "month")
    assert values.dropna().to_dict() == {pd.Timestamp("2024-02-01"): pytest.approx(1.0)}
    assert not flags.any()


def test_semicolon_windows_1252_csv_and_a_binary_file(workspace, service, tmp_path: Path) -> None:
    """A European export: ';' separated, Windows-1252 text, day-first dates.

    March answers 10, 9, 3 → NPS (2 − 1) / 3 = 33.3.
    """
    path = tmp_path / "umfrage.csv"
    path.write_bytes(
        "Befragter;Datum;Wert\nZoë;2024-03-01;10\nJürgen;2024-03-02;9\nAnaïs;2024-03-03;3\n".encode("cp1252")
    )
    source, _ = service.add(
        "App", path, "survey", mapping={"respondent": "Befragter", "date": "Datum", "score": "Wert"}
    )
    assert source.mapping["score"] == "Wert"
    nps = read_series(workspace.db, kpi_id(workspace, "nps"))
    assert nps["value"].tolist() == pytest.approx([100 / 3])
    binary = tmp_path / "data.csv"
    binary.write_bytes(b"\x00\x01\x02\x00" * 2000)
    with pytest.raises(ValidationError, match="data.csv: it contains binary data"):
        service.add("App", binary, "survey")

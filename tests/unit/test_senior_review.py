"""Regression tests for defects found in the senior review of landed code.

Each test failed before its fix; the docstring gives the hand computation.
"""

from __future__ import annotations

import pandas as pd
import pytest

from kpidesk.domain.enums import Aggregation, Unit
from kpidesk.services.metrics_service import MetricsService


def test_demo_ratio_kpis_store_parts_consistent_with_their_unit(demo_workspace) -> None:  # type: ignore[no-untyped-def]
    """Every ratio KPI of the demo: value = num / den × (100 for percent, else 1).

    Rolling a ratio KPI up recomputes Σ num / Σ den with that unit scale; the
    demo's NPS (unit "score") stored num / den = 0.31 for a value of 31, so a
    quarter of Pulse NPS printed 0.31 and explain said "+0.0344" for +3.4 points.
    """
    ws = demo_workspace
    checked = 0
    for kpi in ws.kpis.list():
        if kpi.aggregation != Aggregation.RATIO.value:
            continue
        frame = ws.measurements.series(kpi.id).dropna(subset=["numerator", "denominator"])
        if frame.empty:
            continue
        scale = 100.0 if kpi.unit == Unit.PERCENT.value else 1.0
        recomputed = frame["numerator"] / frame["denominator"] * scale
        assert (recomputed - frame["value"]).abs().max() < 0.01 * max(1.0, frame["value"].abs().max()), kpi.key
        checked += 1
    assert checked >= 5
    nps = ws.kpis.resolve("Pulse/nps")
    quarters = MetricsService(ws.db, ws.catalog).series(nps.id, "quarter")
    monthly = ws.measurements.series(nps.id)["value"]
    assert monthly.min() <= quarters.iloc[0] <= monthly.max()


def _survey_workspace(tmp_path, scores: list[int], conventions: dict[str, str]):  # type: ignore[no-untyped-def]
    from kpidesk.services.source_service import SourceService
    from kpidesk.services.workspace import Workspace

    dates = ["2024-01-05", "2024-01-20", "2024-02-03", "2024-03-10", "2024-03-11", "2024-03-12"]
    pd.DataFrame({"date": dates[: len(scores)], "score": scores}).to_csv(tmp_path / "survey.csv", index=False)
    ws = Workspace.open(tmp_path / "w.db")
    ws.products.create("App")
    SourceService(ws.db, ws.catalog).add("App", tmp_path / "survey.csv", "survey", conventions=conventions)
    return ws


def test_survey_nps_quarter_is_recomputed_from_answers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Answers Jan: 10, 0 (NPS 0); Feb: 9 (NPS 100); Mar: 3, 5, 8 (NPS −66.7).

    Q1 over the 6 answers: promoters 2, detractors 3 → 100 × (2 − 3) / 6 = −16.67,
    not the mean of the monthly NPS (0 + 100 − 66.7) / 3 = 11.1 the roll-up gave
    when the recipe stored no parts.
    """
    ws = _survey_workspace(tmp_path, [10, 0, 9, 3, 5, 8], {"measure": "nps"})
    kpi = ws.kpis.resolve("App/nps")
    notes: list[str] = []
    quarter = MetricsService(ws.db, ws.catalog).series(kpi.id, "quarter", notes=notes)
    assert quarter.iloc[0] == pytest.approx(-100 / 6)
    assert notes == []
    ws.close()


def test_survey_csat_mean_is_a_score_and_rolls_up_to_the_mean(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """CSAT as a mean: Jan 5, 3 (4.0); Feb 4 (4.0); Mar 2, 1, 4 (2.33).

    Q1 = (5 + 3 + 4 + 2 + 1 + 4) / 6 = 19 / 6 = 3.167 on the 1–5 scale; the KPI
    kept the catalog's percent unit, so the roll-up multiplied by 100 (316.7).
    """
    ws = _survey_workspace(tmp_path, [5, 3, 4, 2, 1, 4], {"measure": "csat", "csat": "mean"})
    kpi = ws.kpis.resolve("App/csat")
    assert kpi.unit == "score"
    quarter = MetricsService(ws.db, ws.catalog).series(kpi.id, "quarter")
    assert quarter.iloc[0] == pytest.approx(19 / 6)
    ws.close()


@pytest.mark.parametrize("target", ["inf", "nan", "-inf"])
def test_goal_with_a_non_finite_target_is_refused_and_status_keeps_working(tmp_path, capsys, target) -> None:  # type: ignore[no-untyped-def]
    """``goal add --increase-to inf`` stored the goal, then crashed (OverflowError) and
    every later ``goal list`` / ``status`` crashed too; NaN was stored as a goal nobody can judge."""
    from kpidesk.cli.main import main

    db = str(tmp_path / "w.db")
    assert main(["--db", db, "product", "add", "App"]) == 0
    assert main(["--db", db, "kpi", "add", "revenue", "--product", "App"]) == 0
    assert main(["--db", db, "record", "App/revenue", "2026-01", "100"]) == 0
    capsys.readouterr()
    code = main(["--db", db, "goal", "add", "App/revenue", f"--increase-to={target}", "--due", "2027-12-31"])
    err = capsys.readouterr().err
    assert code != 0
    assert "finite number" in err and "internal error" not in err
    assert main(["--db", db, "status"]) == 0


def test_change_vs_previous_period_skips_over_no_gap(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Revenue Mar 2025 = 100, Jan 2026 = 100, Mar 2026 = 150 (no value in between).

    "Change vs previous period" for Mar 2026 must be empty (February is
    missing), not +50 % against January; Jan 2026 is not "0 % vs Mar 2025".
    The year-on-year change of Mar 2026 stays 100 × (150 − 100) / 100 = 50 %.
    """
    import datetime as dt

    from kpidesk.services.workspace import Workspace

    ws = Workspace.open(tmp_path / "w.db")
    ws.products.create("App")
    kpi, _ = ws.kpis.add_from_catalog("App", "revenue")
    for month, value in (("2025-03", 100), ("2026-01", 100), ("2026-03", 150)):
        ws.measurements.record(kpi.id, month, value)
    result = MetricsService(ws.db, ws.catalog).analyse(kpi.id, as_of=dt.date(2026, 11, 1))
    prev = result.vs_previous
    assert prev["abs_change"].isna().all()
    assert prev["verdict"].tolist() == ["neutral", "neutral", "neutral"]
    assert result.vs_last_year["pct_change"].iloc[-1] == pytest.approx(50.0)
    ws.close()


def test_change_vs_previous_with_frequency_uses_the_calendar_period_before() -> None:
    """Quarters Q1 = 10, Q3 = 20, Q4 = 15: Q3 has no previous quarter; Q4 vs Q3 = −5 (−25 %)."""
    from kpidesk.domain.analytics import change_vs_previous

    s = pd.Series([10.0, 20.0, 15.0], index=pd.to_datetime(["2026-01-01", "2026-07-01", "2026-10-01"]))
    out = change_vs_previous(s, "up", frequency="quarter")
    assert out["abs_change"].isna().tolist() == [True, True, False]
    assert out["pct_change"].iloc[-1] == pytest.approx(-25.0)
    assert out["verdict"].iloc[-1] == "bad"


def test_flat_series_with_float_noise_is_no_anomaly() -> None:
    """Eleven months at exactly 5 then 5.0000001 (float noise of a roll-up): the MAD is 0,
    and the noise scored +inf and was reported as an anomaly "5.00 vs expected 5.00".
    A real jump (5 → 50) on the same flat history is still flagged."""
    from kpidesk.domain.analytics import detect_anomalies

    idx = pd.date_range("2025-01-01", periods=12, freq="MS")
    noise = pd.Series([5.0] * 11 + [5.0000001], index=idx)
    assert detect_anomalies(noise, frequency="month", window=6).empty
    jump = pd.Series([5.0] * 11 + [50.0], index=idx)
    found = detect_anomalies(jump, frequency="month", window=6)
    assert found["period_start"].tolist() == [idx[-1]]


def test_a_huge_forecast_horizon_is_a_clear_error_not_a_crash() -> None:
    """``kpidesk trend revenue --forecast 100000`` crashed with "year 10000 is out of range"."""
    from kpidesk.domain.analytics import forecast
    from kpidesk.errors import ValidationError

    s = pd.Series(range(1, 13), index=pd.date_range("2025-01-01", periods=12, freq="MS"), dtype=float)
    with pytest.raises(ValidationError, match="at most 120 periods"):
        forecast(s, "month", 100_000)
    assert len(forecast(s, "month", 120).table) == 120


def test_spend_month_without_new_customers_still_counts_in_the_quarter_cac(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """Spend Jan 1,000 / 10 new, Feb 1,000 / 0 new, Mar 1,000 / 20 new.

    Q1 CAC = (1,000 + 1,000 + 1,000) / (10 + 0 + 20) = 100. February has no CAC
    of its own, and the recipe dropped the month with its spend, so the quarter
    read 2,000 / 30 = 66.67. Explaining March against February must say
    February has no value (not "0 € → 50 €").
    """
    from kpidesk.cli.main import main
    from kpidesk.services.source_service import SourceService
    from kpidesk.services.workspace import Workspace

    (tmp_path / "spend.csv").write_text(
        "date,amount,new_customers\n2026-01-10,1000,10\n2026-02-10,1000,0\n2026-03-10,1000,20\n"
    )
    ws = Workspace.open(tmp_path / "w.db")
    ws.products.create("App")
    SourceService(ws.db, ws.catalog).add("App", tmp_path / "spend.csv", "spend")
    kpi = ws.kpis.resolve("App/cac")
    metrics = MetricsService(ws.db, ws.catalog)
    assert metrics.series(kpi.id, "quarter").tolist() == pytest.approx([100.0])
    monthly = metrics.series(kpi.id)
    assert monthly.iloc[0] == pytest.approx(100.0) and monthly.iloc[2] == pytest.approx(50.0)
    assert pd.isna(monthly.iloc[1])
    ws.close()
    capsys.readouterr()
    assert main(["--db", str(tmp_path / "w.db"), "explain", "App/cac", "--period", "2026-03"]) == 0
    out = capsys.readouterr().out
    assert "no value for Feb 2026" in out and "0 €" not in out


@pytest.mark.parametrize("green", ["nan", "inf"])
def test_rag_threshold_that_is_not_a_number_is_refused(tmp_path, capsys, green) -> None:  # type: ignore[no-untyped-def]
    """``target rag --green nan`` crashed with an IntegrityError traceback; inf was stored."""
    from kpidesk.cli.main import main

    db = str(tmp_path / "w.db")
    assert main(["--db", db, "product", "add", "App"]) == 0
    assert main(["--db", db, "kpi", "add", "--from-catalog", "revenue", "--product", "App"]) == 0
    capsys.readouterr()
    assert main(["--db", db, "target", "rag", "App/revenue", "--green", green, "--amber", "200"]) != 0
    err = capsys.readouterr().err
    assert "finite number" in err and "internal error" not in err


def test_formula_lag_after_a_missing_month_is_missing_not_the_month_before_the_gap(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Revenue Jan 100, Feb —, Mar 150, Apr 165; mom = (revenue − lag(revenue, 1)) / lag(revenue, 1) × 100.

    Mar has no previous month: missing (it read +50 % against January);
    Apr = (165 − 150) / 150 × 100 = 10 %.
    """
    from kpidesk.services.workspace import Workspace

    ws = Workspace.open(tmp_path / "w.db")
    ws.products.create("App")
    revenue, _ = ws.kpis.add_from_catalog("App", "revenue")
    for month, value in (("2026-01", 100), ("2026-03", 150), ("2026-04", 165)):
        ws.measurements.record(revenue.id, month, value)
    mom, _ = ws.kpis.add_custom("App", "Revenue MoM", key="mom", unit="percent",
                                formula="(revenue - lag(revenue, 1)) / lag(revenue, 1) * 100")
    values = MetricsService(ws.db, ws.catalog).series(mom.id)
    assert list(values.index.strftime("%Y-%m")) == ["2026-01", "2026-03", "2026-04"]
    assert values.isna().tolist() == [True, True, False]
    assert values.iloc[-1] == pytest.approx(10.0)
    ws.close()


def test_large_move_from_a_negative_value_reads_the_right_way() -> None:
    """Net revenue (higher is better) from −100 to −50: (−50 − (−100)) / |−100| = +50 %, good.

    It was computed as −50 / −100 − 1 = −50 % and reported "down 50 % (bad)".
    """
    import datetime as dt

    from kpidesk.domain.goals.attention import KpiSnapshot, kpi_items
    from kpidesk.domain.goals.model import KpiInfo

    kpi = KpiInfo("net", "Net revenue", "currency", "up", "month")
    snap = KpiSnapshot(kpi, [(dt.date(2026, 9, 1), -100.0), (dt.date(2026, 10, 1), -50.0)])
    [move] = [i for i in kpi_items(snap, dt.date(2026, 11, 5)) if i.kind.value == "move"]
    assert move.reason.startswith("up 50%") and "(good)" in move.reason


def test_percent_increase_of_a_negative_baseline_moves_up() -> None:
    """Operating profit baseline −100, "increase by 25 %": target −100 + 0.25 × 100 = −75.

    It resolved to −100 × 1.25 = −125, below the baseline, so the goal read as
    achieved on day one. "Decrease by 10 %" of −100 is −110.
    """
    from kpidesk.domain.enums import GoalKind
    from kpidesk.domain.goals.model import resolve_relative_target

    assert resolve_relative_target(GoalKind.INCREASE_TO, -100.0, 25, "percent") == pytest.approx(-75.0)
    assert resolve_relative_target(GoalKind.DECREASE_TO, -100.0, 10, "percent") == pytest.approx(-110.0)
    assert resolve_relative_target(GoalKind.INCREASE_TO, 40.0, 25, "percent") == pytest.approx(50.0)


def test_relative_goal_on_a_zero_baseline_says_so() -> None:
    """Revenue baseline 0, "increase by 10 %": no target can be derived (0 × 1.1 = 0).

    The status said "the KPI has none" (no baseline), which is false: it has 0.
    """
    import datetime as dt

    from kpidesk.domain.enums import GoalKind
    from kpidesk.domain.goals.model import Goal, KpiInfo
    from kpidesk.domain.goals.status import GoalStatus, evaluate_goal

    goal = Goal("revenue", GoalKind.INCREASE_TO, dt.date(2026, 11, 1), dt.date(2027, 6, 30),
                relative_change=10, relative_mode="percent")
    ev = evaluate_goal(goal, KpiInfo("revenue", "Revenue"), [(dt.date(2026, 10, 1), 0.0)], dt.date(2026, 11, 25))
    assert ev.status is GoalStatus.AT_RISK
    assert "baseline of 0" in ev.reason and "has none" not in ev.reason


def test_show_of_a_formula_kpi_points_at_trend(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """``kpidesk show App/cac`` on a formula KPI said "has no values in that range"
    although trend computes them (a formula KPI stores no values)."""
    from kpidesk.cli.main import main

    db = str(tmp_path / "w.db")
    for argv in (["product", "add", "App"],
                 ["kpi", "add", "--from-catalog", "marketing_spend", "--product", "App"],
                 ["kpi", "add", "--from-catalog", "new_customers", "--product", "App"],
                 ["kpi", "add", "--from-catalog", "cac", "--product", "App"],
                 ["formula", "set", "App/cac", "marketing_spend / new_customers"],
                 ["record", "App/marketing_spend", "2026-01", "1000"],
                 ["record", "App/new_customers", "2026-01", "10"]):
        assert main(["--db", db, *argv]) == 0
    capsys.readouterr()
    assert main(["--db", db, "show", "App/cac"]) == 0
    err = capsys.readouterr().err
    assert "computed by its formula" in err and "kpidesk trend App/cac" in err


def test_transactions_month_without_a_first_purchase_has_zero_new_customers() -> None:
    """a buys in Jan, Feb, Mar; b first buys in Mar. New customers: Jan 1, Feb 0, Mar 1
    (February was missing from the series instead of 0)."""
    from kpidesk.domain.recipes import transactions

    frame = pd.DataFrame({"customer": ["a", "a", "a", "b"],
                          "date": ["2026-01-05", "2026-02-05", "2026-03-05", "2026-03-06"],
                          "amount": [10, 10, 10, 20]})
    new = transactions.run(frame).get("new_customers").values
    assert new.to_dict() == {pd.Timestamp("2026-01-01"): 1.0, pd.Timestamp("2026-02-01"): 0.0,
                             pd.Timestamp("2026-03-01"): 1.0}


def test_goal_on_a_formula_kpi_sees_its_computed_values(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """CAC = marketing_spend / new_customers: Sep 1,000 / 10 = 100, Oct 1,200 / 20 = 60.

    A goal "reduce CAC to 40" said "No value recorded" (a formula KPI stores no
    values). Baseline Sep 100 (the last value before the 1 Oct start), latest Oct 60:
    progress (60 − 100) / (40 − 100) = 66.7 %.
    """
    import datetime as dt

    from kpidesk.services.goal_service import GoalService
    from kpidesk.services.workspace import Workspace

    ws = Workspace.open(tmp_path / "w.db")
    ws.products.create("App")
    spend, _ = ws.kpis.add_from_catalog("App", "marketing_spend")
    new, _ = ws.kpis.add_from_catalog("App", "new_customers")
    cac, _ = ws.kpis.add_from_catalog("App", "cac", formula="marketing_spend / new_customers")
    for month, s, n in (("2026-09", 1000, 10), ("2026-10", 1200, 20)):
        ws.measurements.record(spend.id, month, s)
        ws.measurements.record(new.id, month, n)
    goals = GoalService(ws.db)
    row, _ = goals.add(cac.id, kind="decrease_to", target_value=40, start_date="2026-10-01", due_date="2027-03-31")
    ev = goals.evaluate(row, today=dt.date(2026, 11, 5))
    assert ev.latest == (dt.date(2026, 10, 1), pytest.approx(60.0))
    assert ev.goal.baseline_value == pytest.approx(100.0)
    assert ev.progress == pytest.approx(40 / 60)
    ws.close()


def test_survey_responses_has_a_total_for_a_single_measure(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Six NPS answers (Jan 2, Feb 1, Mar 3): survey_responses totals 2, 1, 3 (it was only
    stored under the segment measure:nps, so the KPI's own series was empty)."""
    ws = _survey_workspace(tmp_path, [10, 0, 9, 3, 5, 8], {"measure": "nps"})
    kpi = ws.kpis.resolve("App/survey_responses")
    assert ws.measurements.series(kpi.id)["value"].tolist() == [2.0, 1.0, 3.0]
    ws.close()


def test_trend_of_a_monthly_kpi_by_week_is_refused(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """``trend revenue --period week`` on a monthly KPI put each whole month on the week of
    its 1st ("2026-W09 150") as if it were that week's revenue."""
    from kpidesk.cli.main import main

    db = str(tmp_path / "w.db")
    for argv in (["product", "add", "App"], ["kpi", "add", "--from-catalog", "revenue", "--product", "App"],
                 ["record", "App/revenue", "2026-03", "150"]):
        assert main(["--db", db, *argv]) == 0
    capsys.readouterr()
    assert main(["--db", db, "trend", "App/revenue", "--period", "week"]) != 0
    assert "recorded by month" in capsys.readouterr().err
    assert main(["--db", db, "trend", "App/revenue", "--period", "quarter", "--as-of", "2026-11-01"]) == 0


def test_custom_kpi_keys_from_unicode_names(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """'Ümsatz/Tag' got the key 'msatz_tag' (the Ü dropped); '日本語' got 'kpi_' and a
    second CJK-named KPI was refused as a duplicate key."""
    from kpidesk.services.kpi_service import slug
    from kpidesk.services.workspace import Workspace

    assert slug("Ümsatz/Tag") == "umsatz_tag"
    assert slug("Straße") == "strasse"
    assert slug("Net Promoter Score") == "net_promoter_score"
    assert slug("2nd step") == "kpi_2nd_step"
    ws = Workspace.open(tmp_path / "w.db")
    ws.products.create("Café ☕")
    first, _ = ws.kpis.add_custom("Café ☕", "日本語")
    second, _ = ws.kpis.add_custom("Café ☕", "中文")
    assert (first.key, second.key) == ("kpi", "kpi_2")
    assert ws.kpis.resolve("Café ☕/kpi_2").name == "中文"
    ws.close()


def test_revenue_growth_can_be_negative_or_above_100(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Revenue fell 5 % in January and rose 150 % in February: both were refused
    ("-5 is below 0, the lowest value a percentage can take")."""
    from kpidesk.services.workspace import Workspace

    ws = Workspace.open(tmp_path / "w.db")
    ws.products.create("App")
    kpi, _ = ws.kpis.add_from_catalog("App", "revenue_growth")
    ws.measurements.record(kpi.id, "2026-01", -5)
    ws.measurements.record(kpi.id, "2026-02", 150)
    assert ws.measurements.series(kpi.id)["value"].tolist() == [-5.0, 150.0]
    ws.close()

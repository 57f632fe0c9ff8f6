"""The review record, its content and the Excel pack, on real workspaces (no Qt).

The hand-made workspace (``small``) has one product with two monthly KPIs:

* sign-ups (sum): Apr 100, May 110, Jun 120, Jul 130, Aug 140, Sep 150
  -> Q3 = 130 + 140 + 150 = 420, Q2 = 100 + 110 + 120 = 330, change +90
  (+27.3 %: 90 / 330); monthly target 135 from Jul -> Q3 target 3 x 135 = 405.
* churn (percent, mean, direction down): Q2 5, 5, 5 -> 5.0; Q3 4, 4, 4.6 -> 4.2,
  change -0.8 pp, which is good for a KPI that should go down.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kpidesk.errors import ValidationError
from kpidesk.io.review_xlsx import format_change, format_value, sheet_title, write_review_xlsx
from kpidesk.services.review_service import (
    ReviewPeriod,
    ReviewService,
    comparison_period,
    parse_review_period,
    period_target,
)

TODAY = dt.date(2026, 11, 25)
EVIL = '=HYPERLINK("http://example.com/x","click")'


@pytest.fixture
def small(workspace):  # type: ignore[no-untyped-def]
    return _fill(workspace)


def _fill(workspace):  # type: ignore[no-untyped-def]
    workspace.products.create("Acme")
    signups, _ = workspace.kpis.add_custom("Acme", "Sign-ups", key="signups", unit="count", aggregation="sum")
    churn, _ = workspace.kpis.add_custom("Acme", "Churn rate", key="churn", unit="percent", aggregation="mean",
                                         direction="down")
    for n, month in enumerate(range(4, 10)):
        workspace.measurements.record(signups.id, dt.date(2026, month, 1), 100 + 10 * n)
        workspace.measurements.record(churn.id, dt.date(2026, month, 1), [5, 5, 5, 4, 4, 4.6][n])
    from kpidesk.services.target_service import TargetService

    TargetService(workspace.db).set(signups.id, dt.date(2026, 7, 1), 135)
    return workspace, signups, churn


def test_periods_parse_and_compare() -> None:
    q3 = parse_review_period("2026-Q3")
    assert (q3.start, q3.end) == (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    assert comparison_period(q3, "previous").key == "2026-Q2"
    assert comparison_period(q3, "last_year").key == "2025-Q3"
    october = parse_review_period("2026-10")
    assert comparison_period(october, "previous").key == "2026-09"
    custom = parse_review_period("2026-07-01..2026-07-10")  # 10 days -> the 10 days before
    before = comparison_period(custom, "previous")
    assert (before.start, before.end) == (dt.date(2026, 6, 21), dt.date(2026, 6, 30))
    with pytest.raises(ValidationError, match="ends before"):
        parse_review_period("2026-07-10..2026-07-01")


def test_period_target_sums_monthly_targets_of_a_summed_kpi() -> None:
    q3 = parse_review_period("2026-Q3")
    schedule = {dt.date(2026, 1, 1): 100.0, dt.date(2026, 8, 1): 150.0}
    # Jul 100 + Aug 150 + Sep 150 = 400 for a sum; the end-of-period target (150) otherwise
    assert period_target(schedule, "sum", "month", q3) == 400.0
    assert period_target(schedule, "mean", "month", q3) == 150.0
    assert period_target({dt.date(2026, 8, 1): 1.0}, "sum", "month", q3) is None  # July has no target
    # a custom range counts whole months only, like the values: Jul 100 + Aug 150 (September runs past the 15th)
    assert period_target(schedule, "sum", "month", parse_review_period("2026-07-01..2026-09-15")) == 250.0
    assert period_target({}, "last", "month", ReviewPeriod("x", q3.start, q3.end, None)) is None


def test_headlines_and_actions_carried_over(small) -> None:  # type: ignore[no-untyped-def]
    ws, _signups, churn = small
    service = ReviewService(ws.db)
    q2, _ = service.create("Acme", "2026-Q2")
    _open_action, _ = service.add_item(q2.id, "action", "Call the top 10 churned customers", owner="Ana",
                                      due=dt.date(2026, 7, 15), kpi_id=churn.id)
    closed, _ = service.add_item(q2.id, "action", "Fix the sign-up form")
    service.update_item(closed.id, done=True)
    q3, changes = service.create("Acme", "2026-Q3")
    assert "1 open action(s) carried over" in changes.message
    content = service.content(q3.id, today=TODAY)
    by_key = {h.key: h for h in content.headlines}
    assert by_key["signups"].current == 420 and by_key["signups"].previous == 330
    assert by_key["signups"].change == 90 and by_key["signups"].change_pct == pytest.approx(27.27, abs=0.01)
    assert by_key["signups"].target == 405
    assert by_key["churn"].current == pytest.approx(4.2) and by_key["churn"].change == pytest.approx(-0.8)
    assert by_key["churn"].good is True and format_change(by_key["churn"]) == "-0.8 pp"
    assert [a.text for a in content.carried_actions] == ["Call the top 10 churned customers"]
    assert content.carried_actions[0].owner == "Ana" and content.carried_actions[0].kpi_id == churn.id
    assert content.since_last[0].startswith("Since the review of 2026-Q2")


def test_update_item_refuses_a_stale_version(small) -> None:  # type: ignore[no-untyped-def]
    from kpidesk.errors import ConflictError

    ws, _, _ = small
    service = ReviewService(ws.db)
    review, _ = service.create("Acme", "2026-Q3")
    item, _ = service.add_item(review.id, "action", "Ship it", owner="Bo")
    service.update_item(item.id, expected_version=item.version, owner="Cy")
    with pytest.raises(ConflictError):
        service.update_item(item.id, expected_version=item.version, owner="Di")


def test_xlsx_pack_reads_back(small, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws, signups, _ = small
    service = ReviewService(ws.db)
    review, _ = service.create("Acme", "2026-Q3")
    service.set_notes(review.id, "+1 from sales: " + EVIL)
    service.add_item(review.id, "note", EVIL, kpi_id=signups.id)
    service.add_item(review.id, "decision", "@channel keep the paid budget")
    service.add_item(review.id, "note", "pasted\x07 from a terminal\x1b[0m " + "x" * 40_000)
    service.add_item(review.id, "action", "-10% cost review", owner="=Ana", due=dt.date(2026, 12, 1))
    out = write_review_xlsx(service.content(review.id, today=TODAY), tmp_path / "pack.xlsx")
    assert not list(tmp_path.glob(".*tmp"))  # the temporary file was renamed into place
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:6] == ["Summary", "Movers", "Goals", "Actions", "Notes", "Definitions"]
    assert {"Sign-ups", "Churn rate"} <= set(wb.sheetnames)
    summary = wb["Summary"]
    rows = {r[1]: r for r in summary.iter_rows(values_only=True) if r[0] == "Acme"}
    assert rows["Sign-ups"][4:9] == (420, 330, 90, pytest.approx(90 / 330), 405)
    assert len(summary.conditional_formatting) >= 2  # status colours and change colours
    # the per-KPI sheet: the six months with the target in force from July, and a line chart of value + target
    sheet = wb["Sign-ups"]
    table = [r for r in sheet.iter_rows(values_only=True) if isinstance(r[0], dt.datetime)]
    assert [r[1] for r in table] == [100, 110, 120, 130, 140, 150]
    assert [r[2] for r in table] == [None, None, None, 135, 135, 135]
    assert table[1][3] == 10 and table[1][4] == pytest.approx(0.1)
    charts = sheet._charts
    assert len(charts) == 1 and len(charts[0].series) == 2
    # user text never became a formula anywhere in the workbook
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
    texts = [c.value for r in wb["Notes"].iter_rows() for c in r if c.value]
    assert EVIL in texts and "@channel keep the paid budget" in texts
    pasted = next(t for t in texts if t.startswith("pasted"))  # control characters dropped, cut to Excel's limit
    assert pasted.startswith("pasted from a terminal[0m x") and len(pasted) == 32_767 and pasted.endswith("…")
    actions = [r for r in wb["Actions"].iter_rows(values_only=True) if r[0] == "-10% cost review"]
    assert actions[0][1] == "=Ana" and actions[0][3] == "no"
    with zipfile.ZipFile(out) as archive:
        xml = "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
    assert "<f>" not in xml  # no formula element at all in the saved sheets
    # print setup
    assert summary.page_setup.orientation == "landscape" and summary.page_setup.fitToWidth == 1
    assert "Acme" in summary.oddHeader.left.text and "&P" in summary.oddFooter.center.text


def test_demo_workspace_pack(demo_workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = ReviewService(demo_workspace.db)
    product = demo_workspace.products.list()[0].name
    review, _ = service.create(product, "2026-Q3")
    content = service.content(review.id, today=TODAY)
    assert content.headlines and all(h.current is not None for h in content.headlines)
    assert content.goals and content.kpis
    # anomalies are the flagged values inside the quarter (the demo has some), each named by its KPI
    assert all(dt.date(2026, 7, 1) <= a.period <= dt.date(2026, 9, 30) for a in content.anomalies)
    assert all(a.note.startswith(next(k.name for k in content.kpis if k.key == a.kpi_key)) for a in content.anomalies)
    out = write_review_xlsx(content, tmp_path / "demo.xlsx")
    wb = openpyxl.load_workbook(out)
    kpi_sheets = wb.sheetnames[6:]
    assert len(kpi_sheets) == len(content.headlines)
    assert all(len(wb[name]._charts) == 1 for name in kpi_sheets)
    goals = [r[0] for r in wb["Goals"].iter_rows(min_row=3, values_only=True) if r[0]]
    assert sorted(goals) == sorted(e.goal.statement for e in content.goals)
    definitions = {r[0]: r for r in wb["Definitions"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert {k.name for k in content.kpis} == set(definitions)


def test_sheet_titles_and_formatting() -> None:
    used: set[str] = {"summary"}
    assert sheet_title("Summary", used) == "Summary (2)"
    assert sheet_title("Delivery / production time: [p90]?", used) == "Delivery - production time- -p9"
    long = "x" * 40
    assert sheet_title(long, used) == "x" * 31 and sheet_title(long, used) == "x" * 27 + " (2)"
    assert format_value(12.345, "percent") == "12.3 %"
    assert format_value(1_736_644.6, "currency", "EUR") == "EUR 1.74M"
    assert format_value(None, "count") == "–"


def test_cli_review_flow(sqlite_target: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from kpidesk.cli.main import main
    from kpidesk.services.workspace import Workspace

    with Workspace.open(sqlite_target) as ws:
        _fill(ws)
    db = sqlite_target
    assert main(["--db", db, "review", "new", "--product", "Acme", "--period", "2026-Q3",
                 "--compare", "last-year"]) == 0
    review_id = int(capsys.readouterr().out.split("#", 1)[1].split(":", 1)[0])
    assert main(["--db", db, "review", "action", str(review_id), "Chase churn", "--owner", "Ana",
                 "--due", "2026-12-01", "--kpi", "churn"]) == 0
    item_id = int(capsys.readouterr().out.split("#", 1)[1].split(":", 1)[0])
    assert main(["--db", db, "review", "done", str(item_id)]) == 0
    assert main(["--db", db, "review", "show", str(review_id), "--today", "2026-11-25"]) == 0
    shown = capsys.readouterr().out
    assert "compared with 2025-Q3" in shown and "Chase churn (Ana, due 2026-12-01, done)" in shown
    assert main(["--db", db, "review", "pack", str(review_id), "--xlsx", str(tmp_path / "p.xlsx")]) == 0
    assert openpyxl.load_workbook(tmp_path / "p.xlsx")["Actions"]["A3"].value == "Chase churn"
    assert main(["--db", db, "review", "action", str(review_id), "x", "--due", "soon"]) == 1
    assert "not a date" in capsys.readouterr().err


def test_daily_values_roll_up_to_months_on_the_kpi_sheet() -> None:
    from kpidesk.io.review_xlsx import monthly

    days = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(59)]  # 31 January + 28 February days
    series = [(d, 1.0 if d.month == 1 else 2.0) for d in days]
    # sum: January 31 x 1 = 31, February 28 x 2 = 56; mean: 1 and 2; last: the month's last value
    assert monthly(series, "sum", "count") == [(dt.date(2026, 1, 1), 31.0), (dt.date(2026, 2, 1), 56.0)]
    assert monthly(series, "mean", "count") == [(dt.date(2026, 1, 1), 1.0), (dt.date(2026, 2, 1), 2.0)]
    assert monthly([(dt.date(2026, 3, 2), 5.0), (dt.date(2026, 3, 30), 7.0)], "last", "count") == [
        (dt.date(2026, 3, 1), 7.0)]


def test_ratio_kpis_keep_the_scale_of_their_stored_values() -> None:
    from kpidesk.services.review_service import aggregate_over

    day = dt.date(2026, 7, 1)
    # NPS stored as (promoters - detractors) / responses x 100: 30 = 300 / 1000 x 100 and 40 = 200 / 500 x 100;
    # the quarter is (300 + 200) / (1000 + 500) x 100 = 33.33 even though the unit is 'score', not percent
    nps = [(day, 30.0, 300.0, 1000.0), (day, 40.0, 200.0, 500.0)]
    assert aggregate_over(nps, "ratio", "score") == pytest.approx(33.333, abs=0.001)
    # a plain ratio (coefficient) stored as num / den: (3 + 1) / (10 + 10) = 0.2
    assert aggregate_over([(day, 0.3, 3.0, 10.0), (day, 0.1, 1.0, 10.0)], "ratio", "ratio") == pytest.approx(0.2)
    # without parts the mean of the values: (30 + 40) / 2 = 35
    assert aggregate_over([(day, 30.0, None, None), (day, 40.0, None, None)], "ratio", "score") == 35.0


def test_last_year_review_explains_its_movers(demo_workspace) -> None:  # type: ignore[no-untyped-def]
    service = ReviewService(demo_workspace.db)
    review, _ = service.create("Ledger", "2026-10", compare="last-year")
    content = service.content(review.id, today=TODAY)
    assert content.compare.key == "2025-10"
    assert content.movers and all("2025" in m.headline for m in content.movers)


def test_custom_ranges_count_whole_kpi_periods_only(small) -> None:  # type: ignore[no-untyped-def]
    """2026-07-01..2026-09-15 vs 2026-04-15..2026-06-30: sign-ups July + August = 130 + 140 = 270
    against May + June = 110 + 120 = 230 (September runs past the 15th, April starts before the 15th)."""
    ws, _, _ = small
    service = ReviewService(ws.db)
    review, _ = service.create("Acme", "2026-07-01..2026-09-15")
    content = service.content(review.id, today=TODAY)
    signups = next(h for h in content.headlines if h.key == "signups")
    assert (signups.current, signups.previous) == (270, 230)


def test_formula_kpis_appear_in_the_review_with_computed_values(workspace) -> None:  # type: ignore[no-untyped-def]
    """LTV:CAC stores nothing (clv / cac): the review computes it, e.g. Aug 1200/400 = 3.0, Sep 1300/325 = 4.0."""
    from kpidesk.services.review_service import ReviewService

    product, _ = workspace.products.create("Ledger")
    ids = {key: workspace.kpis.add_from_catalog(product.id, key)[0].id for key in ("clv", "cac", "ltv_cac")}
    for day, clv, cac in (("2026-08-01", 1200, 400), ("2026-09-01", 1300, 325)):
        workspace.measurements.record(ids["clv"], day, clv)
        workspace.measurements.record(ids["cac"], day, cac)
    reviews = ReviewService(workspace.db)
    review, _ = reviews.create("Ledger", "2026-09")
    content = reviews.content(review.id, today=dt.date(2026, 10, 15))
    ratio = next(h for h in content.headlines if h.key == "ltv_cac")
    assert ratio.current == pytest.approx(4.0) and ratio.previous == pytest.approx(3.0)
    assert [v for _, v in content.series[ids["ltv_cac"]]] == pytest.approx([3.0, 4.0])

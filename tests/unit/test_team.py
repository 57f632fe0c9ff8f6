"""Team workspace on a real PostgreSQL server (KPIDESK_TEST_PG_URL; .ci/run starts one)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from kpidesk.errors import ConflictError, DatabaseError, KpideskError
from kpidesk.services.workspace import Workspace
from kpidesk.storage.copy import copy_workspace, table_checksums
from kpidesk.storage.db import open_database
from tests.conftest import PG_URL, drop_pg_database, fresh_pg_database, pg_admin_connect


@pytest.fixture
def pg_url():  # type: ignore[no-untyped-def]
    """An empty database on the PostgreSQL test server (skips where none is configured)."""
    if not PG_URL:
        pytest.skip("no PostgreSQL test server (KPIDESK_TEST_PG_URL is not set; .ci/run sets it)")
    name, url = fresh_pg_database()
    yield url
    drop_pg_database(name)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kpidesk", *args], capture_output=True, text=True, timeout=300)


def login_role(url: str, *, member_of: str) -> str:
    """A new login role in ``member_of``; returns a URL that connects as it (no password: trust auth)."""
    name = f"u_{uuid.uuid4().hex[:10]}"
    with pg_admin_connect() as con:
        con.execute(f"CREATE ROLE {name} LOGIN IN ROLE {member_of}")
    return make_url(url).set(username=name).render_as_string(hide_password=False)


def test_without_the_team_extra_a_url_gives_one_line(tmp_path: Path) -> None:
    code = textwrap.dedent("""
        import sys
        sys.modules["psycopg"] = None  # as if the 'team' extra were not installed
        from kpidesk.cli.main import main
        raise SystemExit(main(["product", "list", "--db", "postgresql://ann:secret@db.example/kpis"]))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == "kpidesk: A PostgreSQL workspace needs the 'team' extra: pip install 'kpidesk[team]'."


def test_unreachable_server_is_one_line_without_the_password() -> None:
    with pytest.raises(DatabaseError) as caught:
        open_database("postgresql://ann:s3cret@127.0.0.1:1/kpis")
    assert "Cannot reach the team workspace at postgresql://ann@127.0.0.1:1/kpis" in str(caught.value)
    assert "s3cret" not in str(caught.value)


@pytest.mark.timeout(30)
def test_a_server_that_never_answers_gives_up_within_the_connect_timeout() -> None:
    """A socket that accepts but never speaks (a hung server): the app must say so, not hang."""
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    import time

    from kpidesk.storage import db as db_module

    assert db_module.CONNECT_TIMEOUT_S < 5  # libpq's wait, leaving room for the rest of opening
    began = time.monotonic()
    try:
        with pytest.raises(DatabaseError, match="Cannot reach the team workspace"):
            open_database(f"postgresql://ann@127.0.0.1:{port}/kpis")
    finally:
        silent.close()
    print(f"hung server reported after {time.monotonic() - began:.1f} s")


def test_team_init_dry_run_prints_sql_and_changes_nothing(pg_url: str) -> None:
    result = run_cli("team", "init", pg_url, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE measurement" in result.stdout and "CREATE ROLE kpidesk_viewer" in result.stdout
    with psycopg.connect(make_url(pg_url).render_as_string(hide_password=False)) as con:
        assert con.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0


def _every_write(con: psycopg.Connection, table: str) -> list[str]:
    return [f"INSERT INTO {table} DEFAULT VALUES", f"UPDATE {table} SET id = id", f"DELETE FROM {table}"]


def test_the_server_refuses_every_write_of_a_viewer(pg_url: str) -> None:
    assert run_cli("team", "init", pg_url).returncode == 0
    with Workspace.open(pg_url) as ws:
        product, _ = ws.products.create("Shared")
        kpi, _ = ws.kpis.add_from_catalog(product.id, "nps")
        ws.measurements.record(kpi.id, "2024-01-01", 10)
    viewer_url = login_role(pg_url, member_of="kpidesk_viewer")
    from kpidesk.storage.models import ALL_TABLES

    refused = 0
    with psycopg.connect(viewer_url.replace("postgresql://", "postgresql://", 1), autocommit=True) as con:
        for model in ALL_TABLES:
            table = model.__tablename__
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone() is not None  # reading is allowed
            for statement in _every_write(con, table):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    con.execute(statement)
                refused += 1
    assert refused == 3 * len(ALL_TABLES)
    with Workspace.open(viewer_url) as ws:
        assert ws.db.read_only and "may only read" in ws.db.read_only_reason
        assert [p.name for p in ws.products.list()] == ["Shared"]
        with pytest.raises(KpideskError, match="may only read"):
            ws.measurements.record(kpi.id, "2024-02-01", 11)
    editor_url = login_role(pg_url, member_of="kpidesk_editor")
    with Workspace.open(editor_url) as ws:
        assert not ws.db.read_only
        row, _ = ws.measurements.record(kpi.id, "2024-02-01", 11)
        assert row.updated_by.startswith("u_")  # the audit column names the database user


RACER = textwrap.dedent("""
    import json, sys
    from kpidesk.errors import ConflictError
    from kpidesk.services.workspace import Workspace
    url, measurement_id, me = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    wins, losses = [], 0
    with Workspace.open(url) as ws:
        for i in range(100):
            row = ws.measurements.get(measurement_id)
            try:
                ws.measurements.edit(measurement_id, value=float(i), note=f"{me}-{i}", expected_version=row.version)
                wins.append(row.version)
            except ConflictError as exc:
                assert "was changed by" in str(exc)
                losses += 1
    print(json.dumps({"wins": wins, "losses": losses}))
""")


def test_two_people_racing_never_overwrite_silently(pg_url: str) -> None:
    import json

    with Workspace.open(pg_url) as ws:
        product, _ = ws.products.create("Race")
        kpi, _ = ws.kpis.add_from_catalog(product.id, "revenue")
        row, _ = ws.measurements.record(kpi.id, "2024-01-01", 1)
    procs = [subprocess.Popen([sys.executable, "-c", RACER, pg_url, str(row.id), who], stdout=subprocess.PIPE,
                              text=True) for who in ("ann", "bob")]
    results = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    wins = [v for r in results for v in r["wins"]]
    losses = sum(r["losses"] for r in results)
    assert len(wins) + losses == 200
    assert len(wins) == len(set(wins)), "two saves landed on the same version: a silent overwrite"
    with Workspace.open(pg_url) as ws:
        final = ws.measurements.get(row.id)
    assert final.version == 1 + len(wins)  # every successful save is in the chain, none lost
    print(f"race: {len(wins)} saves, {losses} conflicts reported, 0 silent overwrites")


BULK = textwrap.dedent("""
    import sys, pandas as pd
    from kpidesk.services.workspace import Workspace
    url, kpi_id, value = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    with Workspace.open(url) as ws:
        days = pd.date_range("2000-01-01", periods=20000, freq="D")
        ws.measurements.record_many(pd.DataFrame({"kpi_id": kpi_id, "period_start": days, "value": value}))
""")


def test_two_bulk_imports_of_the_same_rows_serialise(pg_url: str) -> None:
    with Workspace.open(pg_url) as ws:
        product, _ = ws.products.create("Bulk")
        kpi, _ = ws.kpis.add_custom(product.id, "Clicks", frequency="day")
    procs = [subprocess.Popen([sys.executable, "-c", BULK, pg_url, str(kpi.id), str(v)]) for v in (1, 2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    with Workspace.open(pg_url) as ws:
        values = set(ws.measurements.series(kpi.id)["value"])
    assert values in ({1.0}, {2.0}), f"the two imports interleaved: {values}"


def test_others_changes_move_the_change_token(pg_url: str) -> None:
    with Workspace.open(pg_url) as mine, Workspace.open(pg_url) as theirs:
        before = mine.db.change_token()
        theirs.products.create("Made elsewhere")
        assert mine.db.change_token() > before


def test_db_copy_round_trip_sqlite_postgres_sqlite_on_the_demo(demo_db_file: Path, tmp_path: Path,
                                                                pg_url: str) -> None:
    assert run_cli("db", "copy", str(demo_db_file), pg_url).returncode == 0
    refused = run_cli("db", "copy", str(demo_db_file), pg_url)
    assert refused.returncode == 1 and "not empty" in refused.stderr and "--replace" in refused.stderr
    back = tmp_path / "snapshot.db"
    result = run_cli("db", "copy", pg_url, str(back))
    assert result.returncode == 0, result.stderr
    with open_database(demo_db_file, read_only=True) as a, open_database(back, read_only=True) as b, \
            open_database(pg_url) as c:
        original = table_checksums(a)
        assert original == table_checksums(b) == table_checksums(c)
        assert sum(t.rows for t in original) > 4000


names = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)
values = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)


@pytest.mark.skipif(not PG_URL, reason="no PostgreSQL test server (KPIDESK_TEST_PG_URL)")
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(product_names=st.lists(names, min_size=1, max_size=3, unique_by=lambda n: n.strip().casefold() or 'x'),
       series=st.lists(st.tuples(st.dates(dt.date(1990, 1, 1), dt.date(2090, 12, 31)), values), max_size=30),
       note=names)
def test_db_copy_round_trip_on_generated_workspaces(tmp_path: Path, product_names: list[str],
                                                     series: list[tuple[dt.date, float]], note: str) -> None:
    folder = tmp_path / uuid.uuid4().hex
    with Workspace.open(folder / "a.db", backup_dir=folder) as ws:
        for name in product_names:
            product, _ = ws.products.create(name.strip() or "x", note)
            kpi, _ = ws.kpis.add_custom(product.id, f"{name} metric", key="metric", unit="currency",
                                        frequency="day")
            frame = pd.DataFrame(series, columns=["period_start", "value"]).drop_duplicates("period_start")
            if len(frame):
                ws.measurements.record_many(frame.assign(kpi_id=kpi.id, note=note))
            ws.annotations.add(dt.date(2024, 1, 1), note, kpi_id=kpi.id)
    name, url = fresh_pg_database()
    try:
        with open_database(folder / "a.db", read_only=True) as src, open_database(url) as pg:
            copy_workspace(src, pg)
        with open_database(url) as pg, open_database(folder / "b.db", backup_dir=folder) as back:
            copy_workspace(pg, back)
        with open_database(folder / "a.db", read_only=True) as a, open_database(folder / "b.db") as b:
            assert table_checksums(a) == table_checksums(b)
    finally:
        drop_pg_database(name)


def test_versioned_edit_conflict_names_who_and_when(workspace, product_with_kpis) -> None:  # type: ignore[no-untyped-def]
    _, kpis = product_with_kpis
    row, _ = workspace.measurements.record(kpis["revenue"].id, "2024-01-01", 5)
    workspace.measurements.edit(row.id, value=6, expected_version=row.version)
    with pytest.raises(ConflictError, match=r"was changed by .* at \d{4}-\d\d-\d\d .*not saved"):
        workspace.measurements.edit(row.id, value=7, expected_version=row.version)


def test_goal_and_target_saves_are_versioned(workspace, product_with_kpis) -> None:  # type: ignore[no-untyped-def]
    """Two people open the same goal / target; the second save is refused, naming who and when."""
    from kpidesk.services.goal_service import GoalService
    from kpidesk.services.target_service import TargetService

    _, kpis = product_with_kpis
    kpi_id = kpis["nps"].id
    workspace.measurements.record(kpi_id, "2026-01-01", 30)
    goals = GoalService(workspace.db)
    goal, _ = goals.add(kpi_id, statement="Raise NPS to 45 by the end of 2026", kind="increase_to",
                        target_value=45, start_date="2026-01-01", due_date="2026-12-31", rationale="loyalty")
    seen = goal.version
    goals.update(goal.id, expected_version=seen, owner="ann")
    with pytest.raises(ConflictError, match=r"Goal #\d+ was changed by"):
        goals.update(goal.id, expected_version=seen, owner="bob")
    assert goals.get(goal.id).owner == "ann"
    targets = TargetService(workspace.db)
    targets.set(kpi_id, "2026-03-01", 40)
    targets.set(kpi_id, "2026-03-01", 41, expected_version=1)
    with pytest.raises(ConflictError, match="target of Net Promoter Score for 2026-03-01 was changed by"):
        targets.set(kpi_id, "2026-03-01", 42, expected_version=1)
    assert targets.schedule(kpi_id)[dt.date(2026, 3, 1)] == 41

"""Fixtures shared by every test: an isolated data folder and real workspaces.

Every test gets its own ``KPIDESK_DATA_DIR`` so nothing touches the user's
real data folder, and workspaces are real SQLite files in ``tmp_path``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REAL_WORLD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real-world"


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path_factory.mktemp("kpidesk-data")
    monkeypatch.setenv("KPIDESK_DATA_DIR", str(data))
    monkeypatch.delenv("KPIDESK_DB", raising=False)
    return data


PG_URL = os.environ.get("KPIDESK_TEST_PG_URL", "")


def pg_admin_connect():  # type: ignore[no-untyped-def]
    """An autocommit psycopg connection to the test server's maintenance database."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    return psycopg.connect(dbname="postgres", user=url.username or "postgres",
                           host=url.query.get("host") or url.host, port=url.port, autocommit=True)


def fresh_pg_database() -> tuple[str, str]:
    """Create an empty database on the test server; returns (name, URL)."""
    from sqlalchemy.engine import make_url

    name = f"kpidesk_t_{uuid.uuid4().hex[:12]}"
    with pg_admin_connect() as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return name, make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(name: str) -> None:
    with pg_admin_connect() as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a fresh test workspace lives: a SQLite file, and (when a test server is
    configured through KPIDESK_TEST_PG_URL, as .ci/run does) an empty PostgreSQL database.
    Every test that uses ``workspace`` runs on both backends."""
    if request.param == "sqlite":
        yield str(tmp_path / "workspace.db")
        return
    if not PG_URL:
        pytest.skip("no PostgreSQL test server (KPIDESK_TEST_PG_URL is not set; .ci/run sets it)")
    name, url = fresh_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture
def sqlite_target(tmp_path: Path) -> str:
    """A workspace file for tests about SQLite itself (pragmas, files on disk)."""
    return str(tmp_path / "workspace.db")


@pytest.fixture
def workspace(db_target: str) -> Iterator:
    from kpidesk.services.workspace import Workspace

    ws = Workspace.open(db_target)
    yield ws
    ws.close()


@pytest.fixture
def product_with_kpis(workspace):  # type: ignore[no-untyped-def]
    """A product 'Acme' with NPS (score), churn (percent), sign-ups (count) and revenue."""
    product, _ = workspace.products.create("Acme")
    kpis = {key: workspace.kpis.add_from_catalog(product.id, key)[0]
            for key in ("nps", "churn_rate", "signups", "revenue")}
    return product, kpis


@pytest.fixture(scope="session")
def demo_db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo workspace built once per session; tests copy it before writing."""
    import datetime as dt

    from kpidesk.services.demo import build_demo
    from kpidesk.services.workspace import Workspace

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    with Workspace.open(path, backup_dir=path.parent / "backups") as ws:
        build_demo(ws, today=dt.date(2026, 11, 25))
    return path


@pytest.fixture
def demo_workspace(demo_db_file: Path, tmp_path: Path) -> Iterator:
    """A private copy of the demo workspace (safe to change)."""
    from kpidesk.services.workspace import Workspace
    from kpidesk.storage.db import backup_sqlite

    copy = backup_sqlite(demo_db_file, tmp_path / "demo-copy.db")
    ws = Workspace.open(copy)
    yield ws
    ws.close()


@pytest.fixture
def real_world() -> Path:
    """The shared real-world spreadsheets; tests using them skip when the folder is absent."""
    if not REAL_WORLD.is_dir():
        pytest.skip("../shared/data/real-world is not present")
    return REAL_WORLD

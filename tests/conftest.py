"""Fixtures shared by every test: an isolated data folder and real workspaces.

Every test gets its own ``KPIDESK_DATA_DIR`` so nothing touches the user's
real data folder, and workspaces are real SQLite files in ``tmp_path``.
"""

from __future__ import annotations

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


@pytest.fixture
def db_target(tmp_path: Path) -> str:
    """Where a fresh test workspace lives (a SQLite file; the team suite adds PostgreSQL)."""
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

"""Team workspace in the window: others' changes are noticed; the URL dialog keeps no password."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from kpidesk.gui.team import ChangeWatcher, OpenTeamDialog, latest_snapshot


def test_watcher_notices_a_commit_from_another_process(qtbot, db_target) -> None:  # type: ignore[no-untyped-def]
    """The other writer is a second connection (PostgreSQL) or a second process (SQLite's file)."""
    import subprocess
    import sys

    from kpidesk.services.workspace import Workspace

    workspace = Workspace.open(db_target)
    watcher = ChangeWatcher(workspace.db, interval_ms=100)
    watcher.start()
    qtbot.waitUntil(lambda: watcher._last is not None, timeout=5000)
    if db_target.startswith("postgresql"):
        from kpidesk.services.workspace import Workspace

        with Workspace.open(db_target) as other, qtbot.waitSignal(watcher.changed, timeout=5000):
            other.products.create("Made by a colleague")
    else:
        # our own writes count too on SQLite (the watcher has its own connection): refresh is harmless
        code = "import sys; from kpidesk.services.workspace import Workspace\n" \
               "import sqlite3; c = sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE product SET description='x'\");" \
               " c.commit()"
        workspace.products.create("Mine")
        with qtbot.waitSignal(watcher.changed, timeout=5000):
            subprocess.run([sys.executable, "-c", code, db_target], check=True)
    watcher.stop()
    workspace.close()


def test_url_dialog_strips_the_password(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = OpenTeamDialog(url="postgresql://ann:s3cret@db.example/kpis")
    qtbot.addWidget(dialog)
    assert dialog.url() == "postgresql://ann@db.example/kpis"
    dialog.url_edit.setText("mysql://nope")
    assert not dialog.ok_button.isEnabled()
    assert "postgresql://" in dialog.problem.text()


def test_latest_snapshot_is_the_newest_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import time

    assert latest_snapshot() is None
    folder = tmp_path / "data" / "snapshots"
    monkeypatch.setenv("KPIDESK_DATA_DIR", str(tmp_path / "data"))
    folder.mkdir(parents=True)
    (folder / "old.db").write_bytes(b"x")
    time.sleep(0.01)
    newest = folder / "team.db"
    newest.write_bytes(b"y")
    os.utime(folder / "old.db", (1, 1))
    assert latest_snapshot() == newest


def test_window_opens_a_team_workspace_and_refreshes_on_others_changes(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import PG_URL, drop_pg_database, fresh_pg_database

    if not PG_URL:
        pytest.skip("no PostgreSQL test server (KPIDESK_TEST_PG_URL is not set; .ci/run sets it)")
    from kpidesk.app import open_workspace
    from kpidesk.gui.main_window import MainWindow
    from kpidesk.services.workspace import Workspace

    name, url = fresh_pg_database()
    try:
        window = MainWindow(None, opener=lambda target, ro: open_workspace(target, ro, None))
        qtbot.addWidget(window)
        assert window.open_team(url)
        assert url.split("?")[0].rsplit("/", 1)[1] in window.windowTitle()
        assert window._watcher is not None
        window._watcher._timer.setInterval(100)
        qtbot.waitUntil(lambda: window._watcher._last is not None, timeout=5000)
        with Workspace.open(url) as other, qtbot.waitSignal(window.changes_applied, timeout=5000):
            other.products.create("Added by a colleague")
        assert any(r.startswith("postgresql") for r in window.recent_files())
        window._watcher.stop()
        window.runner.cancel_all()
        window.runner.wait(5000)
        window.ws.close()
    finally:
        drop_pg_database(name)


def test_unreachable_team_server_offers_the_latest_snapshot(qtbot, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    from kpidesk.app import open_workspace
    from kpidesk.gui.main_window import MainWindow
    from kpidesk.services.workspace import Workspace

    monkeypatch.setenv("KPIDESK_DATA_DIR", str(tmp_path / "data"))
    snapshot = tmp_path / "data" / "snapshots" / "team.db"
    Workspace.open(snapshot).close()
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    window = MainWindow(None, opener=lambda target, ro: open_workspace(target, ro, None))
    qtbot.addWidget(window)
    assert window.open_team("postgresql://ann@127.0.0.1:1/kpis")
    assert "Cannot reach the team workspace" in asked[0] and "team.db" in asked[0]
    assert window.ws.db.read_only and window.ws.db.path == snapshot.resolve()
    window.runner.cancel_all()
    window.runner.wait(5000)
    window.ws.close()

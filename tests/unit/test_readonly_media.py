"""Read-only media and permissions: the workspace opens read-only with the reason, edits are refused
with it, reading and backing up still work. The checks run in a child process; as root the child
drops the capabilities that let root ignore file permissions (``setpriv``), and a further test
uses a real read-only mount."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")

CHILD = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from kpidesk.errors import KpideskError
    from kpidesk.services.backup_service import BackupService
    from kpidesk.services.workspace import Workspace

    out = {}
    try:
        ws = Workspace.open(sys.argv[1])
    except KpideskError as exc:
        print(json.dumps({"open_error": exc.message}))
        raise SystemExit(0)
    out["read_only"] = ws.db.read_only
    out["reason"] = ws.db.read_only_reason
    out["products"] = [p.name for p in ws.products.list()]
    service = BackupService(ws.db, backup_dir=Path(sys.argv[2]))
    out["banner"] = service.read_only_banner()
    try:
        ws.products.create("Not allowed")
        out["write"] = "written"
    except KpideskError as exc:
        out["write"] = type(exc).__name__ + ": " + exc.message
    out["backup_counts"] = service.backup_now().counts
    out["check_ok"] = service.check_database().ok
    ws.close()
    print(json.dumps(out))
""")


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder an unprivileged child can reach (pytest's tmp folders are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="kpidesk-ro-"))
    folder.chmod(0o755)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)


def _make_workspace(folder: Path) -> Path:
    from kpidesk.services.workspace import Workspace

    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "w.db"
    with Workspace.open(db, backup_dir=folder.parent / "mig-backups") as ws:
        ws.products.create("Pulse")
    return db


def _unprivileged() -> list[str]:
    """A command prefix under which file permissions apply (root normally bypasses them)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]


def _run(db: Path, backups: Path, data: Path) -> dict:  # type: ignore[type-arg]
    for path in (backups, data):
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o777)
    env = {**os.environ, "KPIDESK_DATA_DIR": str(data)}
    done = subprocess.run([*_unprivileged(), sys.executable, "-c", CHILD, str(db), str(backups)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_read_only_file_opens_read_only_with_the_reason(shared_dir: Path) -> None:
    db = _make_workspace(shared_dir / "ws")
    (shared_dir / "ws").chmod(0o777)  # the folder is writable, only the file is not
    db.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    result = _run(db, shared_dir / "backups", shared_dir / "data")
    assert result["read_only"] is True
    assert "file is read-only" in result["reason"]
    assert result["products"] == ["Pulse"]
    assert result["write"].startswith("ReadOnlyError") and "file is read-only" in result["write"]
    assert "open read-only" in result["banner"] and "file is read-only" in result["banner"]
    assert result["backup_counts"]["products"] == 1 and result["check_ok"] is True


def test_read_only_folder_opens_read_only_with_the_reason(shared_dir: Path) -> None:
    db = _make_workspace(shared_dir / "ws")
    db.chmod(0o644)
    (shared_dir / "ws").chmod(0o555)  # e.g. a colleague's share: readable, not writable
    before = db.read_bytes()
    result = _run(db, shared_dir / "backups", shared_dir / "data")
    assert result["read_only"] is True
    assert "folder" in result["reason"] and "cannot be written" in result["reason"]
    assert result["products"] == ["Pulse"]
    assert result["write"].startswith("ReadOnlyError")
    assert result["backup_counts"]["products"] == 1
    assert db.read_bytes() == before
    assert sorted(p.name for p in (shared_dir / "ws").iterdir()) == ["w.db"]  # no -wal/-shm could be made


def test_database_on_a_read_only_mount(tmp_path: Path) -> None:
    """A real read-only medium (a tmpfs remounted read-only), where even root cannot write."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a file system")
    mount = tmp_path / "medium"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=False).returncode:
        pytest.skip("cannot mount tmpfs here")
    try:
        db = _make_workspace(mount / "ws")
        assert subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=False).returncode == 0
        from kpidesk.errors import ReadOnlyError
        from kpidesk.services.workspace import Workspace

        with Workspace.open(db) as ws:
            assert ws.db.read_only and "read-only disk" in ws.db.read_only_reason
            assert [p.name for p in ws.products.list()] == ["Pulse"]
            with pytest.raises(ReadOnlyError, match="read-only disk"):
                ws.products.create("Nope")
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_cannot_create_a_workspace_in_a_read_only_folder(shared_dir: Path) -> None:
    folder = shared_dir / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    code = ("import sys\nfrom kpidesk.errors import KpideskError\nfrom kpidesk.storage.db import open_database\n"
            "try:\n    open_database(sys.argv[1])\nexcept KpideskError as exc:\n    print(exc.message)\n")
    data = shared_dir / "data"
    data.mkdir()
    done = subprocess.run([*_unprivileged(), sys.executable, "-c", code, str(folder / "new.db")],
                          capture_output=True, text=True, env={**os.environ, "KPIDESK_DATA_DIR": str(data)},
                          timeout=60, check=False)
    assert "new.db cannot be created" in done.stdout and "cannot be written" in done.stdout, done.stderr

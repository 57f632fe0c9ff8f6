"""The desktop bundle: built from a clean environment, it behaves like the installed package.

Marked slow: it runs packaging/build.sh (a fresh virtual environment plus
PyInstaller, a few minutes). Set KPIDESK_BUNDLE to a built bundle's folder to
reuse one instead of building.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle() -> Path:
    given = os.environ.get("KPIDESK_BUNDLE")
    if given:
        return Path(given)
    result = subprocess.run(["bash", str(ROOT / "packaging" / "build.sh")], capture_output=True, text=True,
                            timeout=1500)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "bundle size:" in result.stdout and "build time:" in result.stdout
    print(result.stdout[-300:])
    return ROOT / "packaging" / "dist" / "kpidesk"


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_bundle_answers_like_the_installed_package(bundle: Path, tmp_path: Path) -> None:
    frozen = [str(bundle / "kpidesk")]
    installed = [sys.executable, "-m", "kpidesk"]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert run([*frozen, "--version"], tmp_path).stdout == run([*installed, "--version"], tmp_path).stdout
    made_frozen = run([*frozen, "demo", "--db", "demo.db"], tmp_path / "a")
    made_installed = run([*installed, "demo", "--db", "demo.db"], tmp_path / "b")
    assert made_frozen.returncode == 0, made_frozen.stderr
    assert made_frozen.stdout == made_installed.stdout
    for args in (["show", "Ledger/mrr"], ["catalog", "list"], ["kpi", "list", "--product", "Pulse"]):
        a = run([*frozen, *args, "--db", "demo.db"], tmp_path / "a")
        b = run([*installed, *args, "--db", "demo.db"], tmp_path / "b")
        assert a.returncode == 0, a.stderr
        assert a.stdout == b.stdout, args
    assert (bundle / "_internal" / "kpidesk" / "resources" / "catalog.toml").is_file()
    # a spreadsheet import runs the sandboxed reader: the bundle re-runs itself as the child process
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Month", "Net Promoter Score", "Website visits"])
    sheet.append(["2026-09", 31, 1200])
    sheet.append(["2026-10", 35, 1350])
    for folder in ("a", "b"):
        book.save(tmp_path / folder / "tracker.xlsx")
    a = run([*frozen, "import", "tracker.xlsx", "--product", "Pulse", "--yes", "--db", "demo.db"], tmp_path / "a")
    b = run([*installed, "import", "tracker.xlsx", "--product", "Pulse", "--yes", "--db", "demo.db"], tmp_path / "b")
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout


def test_bundle_gui_starts_offscreen_on_the_demo_and_quits(bundle: Path, tmp_path: Path) -> None:
    run([str(bundle / "kpidesk"), "demo", "--db", "demo.db"], tmp_path)
    shown = subprocess.run([str(bundle / "kpidesk"), "--db", "demo.db"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=10,
                           env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "KPIDESK_SMOKE_TEST": "1"})
    assert shown.returncode == 0, shown.stderr
    assert "SHOWN demo.db" in shown.stdout


def test_bundle_is_lean(bundle: Path) -> None:
    internal = bundle / "_internal"
    names = {p.name for p in internal.iterdir()}
    for unwanted in ("pytest", "hypothesis", "duckdb", "polars", "_pytest"):
        assert unwanted not in names, unwanted
    qt = internal / "PySide6"
    assert not list(qt.glob("QtQuick*")) and not list(qt.glob("QtQml*"))


def test_desktop_integration_files_validate() -> None:
    desktop = ROOT / "packaging" / "linux" / "org.kpidesk.KpiDesk.desktop"
    metainfo = ROOT / "packaging" / "linux" / "org.kpidesk.KpiDesk.metainfo.xml"
    assert "Icon=org.kpidesk.KpiDesk" in desktop.read_text()
    for size in (16, 32, 48, 128, 256):
        assert (ROOT / "resources" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "org.kpidesk.KpiDesk.png").is_file()
    validator = shutil.which("desktop-file-validate")
    if validator:
        result = subprocess.run([validator, str(desktop)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
    appstream = shutil.which("appstreamcli")
    if appstream:
        result = subprocess.run([appstream, "validate", "--no-net", str(metainfo)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr

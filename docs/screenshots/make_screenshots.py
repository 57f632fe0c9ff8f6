"""Screenshots of every page on the demo workspace, light and dark, at 1440×900.

Run under Xvfb (a real X server, so fonts and window sizes are what users see):

    xvfb-run -s "-screen 0 1440x900x24" .venv/bin/python docs/screenshots/make_screenshots.py

Writes docs/screenshots/<page>-<light|dark>.png. The demo workspace is built
in a temporary folder with ``kpidesk demo``'s builder, dated to a fixed day so
the pictures do not change from run to run.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TODAY = dt.date(2026, 11, 20)


def start_app(prefix: str):  # type: ignore[no-untyped-def]
    """(app, tmp): the application on a private data folder and private settings under a new ``tmp``."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["KPIDESK_DATA_DIR"] = str(tmp / "data")
    from PySide6.QtCore import QCoreApplication, QSettings

    QCoreApplication.setOrganizationName("kpidesk-screenshots")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp / "settings"))
    from kpidesk.app import make_application

    return make_application(["kpidesk"]), tmp


def main() -> int:
    app, tmp = start_app("kpidesk-shots-")
    from PySide6.QtCore import QSettings

    from kpidesk.gui import theme
    from kpidesk.gui.main_window import MainWindow
    from kpidesk.services.demo import build_demo
    from kpidesk.services.workspace import Workspace

    db = tmp / "demo.kpidesk.db"
    with Workspace.open(db) as ws:
        build_demo(ws, today=TODAY)
        add_an_import(ws, tmp)
        review_id = add_a_review(ws)
    empty = tmp / "empty.kpidesk.db"
    only = sys.argv[1:]
    for mode in (theme.LIGHT, theme.DARK):
        theme.apply(app, mode)
        window = MainWindow(QSettings())
        window.resize(1440, 900)
        window.show()
        ws = Workspace.open(db)
        window.set_workspace(ws)
        wait(app, window)
        shots = {
            "dashboard": lambda w: w.show_page("dashboard"),
            "portfolio": lambda w: (w.show_page("dashboard"), w.dashboard.by_kpi.setChecked(True)),
            "kpi": lambda w: open_kpi(w, "Ledger", "mrr"),
            "kpi-why": lambda w: (open_kpi(w, "Pulse", "revenue"), w.kpi_page.tabs.setCurrentIndex(1)),
            "goals": lambda w: (w.dashboard.by_kpi.setChecked(False), w.show_page("goals")),
            "data": lambda w: w.show_page("data"),
            "reviews": lambda w: (w.show_page("reviews"), open_review(w, review_id)),
        }
        for name, action in shots.items():
            if only and name not in only:
                continue
            action(window)
            wait(app, window)
            save(window, f"{name}-{mode}")
        window.close()
        ws.close()
        ws2 = Workspace.open(empty)
        window = MainWindow(QSettings())
        window.resize(1440, 900)
        window.show()
        window.set_workspace(ws2)
        wait(app, window)
        if not only or "welcome" in only:
            save(window, f"welcome-{mode}")
        window.close()
        ws2.close()
    app.processEvents()
    return 0


def add_an_import(ws, tmp: Path) -> None:  # type: ignore[no-untyped-def]
    """One real import, so the Data page shows its history (and its rollback button)."""
    from kpidesk.services.import_service import ImportService

    sheet = tmp / "harbor-weekly-tracker.csv"
    sheet.write_text("month,kpi,value\n2026-09-01,Website visits,655000\n2026-10-01,Website visits,671500\n"
                     "2026-11-01,Website visits,662600\n2026-11-01,Conversion rate,1.7\n", encoding="utf-8")
    service = ImportService(ws.db, ws.catalog)
    service.apply(service.plan(sheet, product="Harbor"))


def add_a_review(ws) -> int | None:  # type: ignore[no-untyped-def]
    """A review of the last full quarter with a decision and an action, if the review service exists."""
    try:
        from kpidesk.services.review_service import ReviewService
    except ImportError:
        return None
    service = ReviewService(ws.db)
    review, _ = service.create("Pulse", "2026-Q3")
    service.set_notes(review.id, "Sign-ups behind pace since the August campaign ended; revenue on track.")
    service.add_item(review.id, "decision", "Restart the referral campaign in November")
    service.add_item(review.id, "action", "Draft the onboarding experiment", owner="Sam",
                     due=TODAY + dt.timedelta(days=14))
    return review.id


def open_review(window, review_id: int | None) -> None:  # type: ignore[no-untyped-def]
    page = window.pages["reviews"]
    if review_id is not None and hasattr(page, "open_review"):
        page.open_review(review_id)


def open_kpi(window, product: str, key: str) -> None:  # type: ignore[no-untyped-def]
    kpi = window.ws.kpis.resolve(key, product)
    window.open_kpi(kpi.id)


def wait(app, window, rounds: int = 40) -> None:  # type: ignore[no-untyped-def]
    import time

    for _ in range(rounds):
        app.processEvents()
        time.sleep(0.02)
    window.runner.wait(30000)
    for _ in range(rounds):
        app.processEvents()
        time.sleep(0.02)


def save(window, name: str) -> None:  # type: ignore[no-untyped-def]
    path = HERE / f"{name}.png"
    window.grab().save(str(path))
    print("wrote", path)


if __name__ == "__main__":
    raise SystemExit(main())

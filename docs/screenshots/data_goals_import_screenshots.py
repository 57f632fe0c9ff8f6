"""Screenshots of the Goals page, the goal dialog, the import wizard and the Data page on the
demo workspace (plus two data sources and an imported tracker), light and dark, 1440×900.

    xvfb-run -a -s "-screen 0 1440x900x24" .venv/bin/python docs/screenshots/data_goals_import_screenshots.py

Writes goals_*.png, import_*.png and data_*.png next to this script (or into the folder given).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import sys
import time
from pathlib import Path

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
TODAY = dt.date(2026, 11, 20)


def wait(app, runner=None, rounds=30):
    for _ in range(rounds):
        app.processEvents()
        time.sleep(0.02)
    if runner is not None:
        runner.wait(30000)
    for _ in range(rounds):
        app.processEvents()
        time.sleep(0.02)


def until(app, cond, timeout=30):
    end = time.time() + timeout
    while not cond() and time.time() < end:
        app.processEvents()
        time.sleep(0.02)
    wait(app, rounds=10)


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from make_screenshots import start_app

    app, tmp = start_app("kpidesk-shots-b-")
    import openpyxl
    from PySide6.QtCore import QSettings

    from kpidesk.errors import KpideskError
    from kpidesk.gui import theme
    from kpidesk.gui.main_window import MainWindow
    from kpidesk.gui.views import import_wizard as iw
    from kpidesk.services.demo import build_demo
    from kpidesk.services.workspace import Workspace

    db = tmp / "demo.kpidesk.db"
    with Workspace.open(db) as ws:
        build_demo(ws, today=TODAY)
        product = ws.products.list()[0].name
        # two data sources: one healthy, one whose export has since gone missing
        from kpidesk.services.source_service import SourceService

        spend = tmp / "ad-spend-2026.csv"
        lines = ["date,channel,amount,new_customers"]
        for month in range(1, 11):
            lines.append(f"2026-{month:02d}-05,paid,{9000 + 350 * month},{80 + 4 * month}")
            lines.append(f"2026-{month:02d}-05,social,{3000 + 120 * month},{31 + month}")
        spend.write_text("\n".join(lines) + "\n", encoding="utf-8")
        gone = tmp / "survey-export.csv"
        gone.write_text("date,channel,amount,new_customers\n2026-01-05,paid,100,1\n", encoding="utf-8")
        sources = SourceService(ws.db, ws.catalog)
        sources.add(product, spend, "spend", name="Ad spend (Google + Meta)")
        extra, _ = sources.add(ws.products.list()[1].name, gone, "spend", name="Partner spend")
        gone.unlink()
        with contextlib.suppress(KpideskError):  # the failure is recorded on the source as its last error
            sources.refresh(extra.id, force=True)
    # a tracker to import: KPI rows × months, a title row, a totals row and one bad cell
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "KPIs 2026"
    sheet.append(["Monthly KPI tracker — " + product])
    sheet.append([])
    sheet.append(["KPI", "Jul 2026", "Aug 2026", "Sep 2026", "Oct 2026", "Nov 2026"])
    sheet.append(["Monthly active users", 41200, 42900, 44100, 45800, 47300])
    sheet.append(["Net Promoter Score", 31, 33, "n/a", 36, 38])
    sheet.append(["Churn rate", "4.1%", "3.9%", "3.8%", "abc", "3.5%"])
    sheet.append(["Support tickets", 310, 295, 288, 270, 262])
    sheet.append(["Total", 41541, 43227, 44388, 46106, 47603])
    notes = book.create_sheet("Notes")
    notes.append(["Owner", "Ana"])
    tracker = tmp / "kpi-tracker-2026.xlsx"
    book.save(tracker)

    for mode in (theme.LIGHT, theme.DARK):
        theme.apply(app, mode)
        window = MainWindow(QSettings())
        window.resize(1440, 900)
        window.show()
        ws = Workspace.open(db)
        window.set_workspace(ws)
        wait(app, window.runner)
        goals = window.pages["goals"]
        goals._today = TODAY
        window.show_page("goals")
        goals.reload()
        wait(app, window.runner)
        # pick an at-risk goal for the detail panel when there is one
        model = goals.model
        for g in range(model.rowCount()):
            parent = model.index(g, 0)
            for r in range(model.rowCount(parent)):
                row = model.row_at(model.index(r, 0, parent))
                if row.evaluation.status.value in ("at_risk", "behind"):
                    goals.tree.setCurrentIndex(model.index(r, 0, parent))
                    break
        wait(app)
        window.grab().save(str(OUT / f"goals_page-{mode}.png"))

        dialog = goals.edit_selected()
        dialog.resize(820, dialog.sizeHint().height())
        wait(app)
        dialog.grab().save(str(OUT / f"goals_dialog-{mode}.png"))
        dialog.reject()
        wait(app)
        # a new, weak goal: the live check shows what is missing
        dialog = goals.new_goal()
        dialog.statement_edit.setText("Grow it a lot")
        dialog.target_mode.setCurrentIndex(dialog.target_mode.findData("percent"))
        dialog.target_edit.setText("+80%")
        dialog.run_check()
        dialog.resize(820, dialog.sizeHint().height())
        wait(app)
        dialog.grab().save(str(OUT / f"goals_dialog_new-{mode}.png"))
        dialog.reject()
        wait(app)

        # import wizard: read, layout, mapping, preview, then import and summary
        wizard = iw.ImportWizard(ws, window.runner, window, product=product)
        wizard.resize(1100, 720)
        wizard.show()
        wizard.start_with(tracker)
        steps = (("sheets", iw.PAGE_SHEETS), ("layout", iw.PAGE_LAYOUT), ("mapping", iw.PAGE_MAPPING),
                 ("preview", iw.PAGE_PREVIEW), ("summary", iw.PAGE_SUMMARY))
        for i, (name, page) in enumerate(steps):
            if i:
                wizard.next()
            until(app, lambda w=wizard, p=page: w.currentId() == p)
            wizard.grab().save(str(OUT / f"import_{name}-{mode}.png"))
        wizard.close()
        wait(app, window.runner)

        window.show_page("data")
        window.pages["data"].reload()
        wait(app, window.runner)
        window.grab().save(str(OUT / f"data_page-{mode}.png"))
        # undo the import so the dark run starts from the same demo
        from kpidesk.services.import_service import ImportService

        for batch in ImportService(ws.db).batches():
            if batch.status == "applied" and batch.file_name == tracker.name:
                ImportService(ws.db).rollback(batch.id)
        window.close()
        wait(app, window.runner)
        ws.close()
    print("wrote", sorted(p.name for p in OUT.glob("*_*-*.png")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

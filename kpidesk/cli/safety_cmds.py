"""Data-safety commands: backup now|list|restore|settings, db check, export-all, import-all."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from kpidesk.cli.common import open_workspace, print_table
from kpidesk.paths import resolve_db_target


class _Dots:
    """Progress on stderr for long backups and exports (only on a terminal)."""

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._last = -1

    def report(self, fraction: float, text: str = "") -> None:
        percent = int(fraction * 100)
        if self._tty and percent != self._last:
            self._last = percent
            print(f"\r{percent:3d}% {text[:60]:<60}", end="" if percent < 100 else "\n", file=sys.stderr)

    def cancelled(self) -> bool:
        return False


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backup", help="back up the workspace, list backups, restore one")
    bsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = bsub.add_parser("now", help="make a backup now (SQLite online backup into the backups folder)")
    a.set_defaults(handler=cmd_backup_now)
    a = bsub.add_parser("list", help="list the backups of this workspace with their counts")
    a.add_argument("--json", action="store_true", help="machine-readable output")
    a.set_defaults(handler=cmd_backup_list)
    a = bsub.add_parser("restore", help="restore a backup (the current content is backed up first)")
    a.add_argument("id", help="backup id from 'kpidesk backup list' (a unique prefix, or 'latest')")
    a.set_defaults(handler=cmd_backup_restore)
    a = bsub.add_parser("settings", help="show or change the backup schedule and durability")
    a.add_argument("--keep-all-hours", type=int)
    a.add_argument("--daily-days", type=int)
    a.add_argument("--weekly-days", type=int)
    a.add_argument("--monthly-months", type=int, help="0 keeps one backup a month forever")
    a.add_argument("--hourly-minutes", type=int, help="auto-backup after this much editing (0 = off)")
    a.add_argument("--on-close", choices=["yes", "no"])
    a.add_argument("--synchronous", choices=["NORMAL", "FULL"],
                   help="FULL waits for the disk on every commit: slower, survives a power cut")
    a.set_defaults(handler=cmd_backup_settings)

    p = sub.add_parser("db", help="the database file")
    dsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = dsub.add_parser("check", help="run SQLite's integrity and foreign-key checks and explain the result")
    a.set_defaults(handler=cmd_db_check)

    p = sub.add_parser("export-all", help="write the whole workspace to one readable .xlsx workbook")
    p.add_argument("out", help="workbook to write (.xlsx)")
    p.set_defaults(handler=cmd_export_all)
    p = sub.add_parser("import-all", help="load a workbook from export-all into an empty workspace")
    p.add_argument("workbook", help="workbook written by export-all")
    p.set_defaults(handler=cmd_import_all)


def _service(workspace: Any) -> Any:
    from kpidesk.services.backup_service import BackupService

    return BackupService(workspace.db)


def cmd_backup_now(args: argparse.Namespace) -> int:
    with open_workspace(args, read_only=True) as ws:  # a backup only reads the workspace
        info = _service(ws).backup_now("manual", _Dots())
    print(f"Backup {info.id} saved to {info.path} ({info.counts_text()}).")
    return 0


def cmd_backup_list(args: argparse.Namespace) -> int:
    from kpidesk.paths import backups_dir
    from kpidesk.storage.backup import list_backups

    # listing works even when the workspace itself is too damaged to open
    path = Path(resolve_db_target(getattr(args, "db", None))).expanduser().resolve()
    backups = list_backups(path, backups_dir())
    if args.json:
        print(json.dumps([b.to_dict() for b in backups], indent=2))
        return 0
    if not backups:
        print(f"No backups of {path.name} yet in {backups_dir()}.")
        return 0
    rows = [(b.id, f"{b.created:%Y-%m-%d %H:%M}", b.reason, b.counts.get("products", 0), b.counts.get("kpis", 0),
             b.counts.get("measurements", 0), b.counts.get("goals", 0), f"{b.size / 1024:,.0f} KB")
            for b in backups]
    print_table(["id", "created", "reason", "products", "KPIs", "values", "goals", "size"], rows,
                align_right=(3, 4, 5, 6, 7))
    return 0


def cmd_backup_restore(args: argparse.Namespace) -> int:
    from kpidesk.paths import backups_dir
    from kpidesk.storage.integrity import DamagedDatabaseError

    path = Path(resolve_db_target(getattr(args, "db", None))).expanduser().resolve()
    try:
        with open_workspace(args) as ws:
            _safety, changes = _service(ws).restore(args.id, _Dots())
        print(changes.message)
        return 0
    except DamagedDatabaseError:
        pass  # the current file cannot be opened: put the backup in its place, keeping the damaged file aside
    from kpidesk.services.backup_service import restore_over_damaged

    chosen, aside = restore_over_damaged(path, args.id, backup_dir=backups_dir())
    where = f" The damaged file was kept, unchanged, as {aside.name}." if aside else ""
    print(f"Restored the backup of {chosen.created:%Y-%m-%d %H:%M} ({chosen.counts_text()}) to {path.name}.{where}")
    return 0


def cmd_backup_settings(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from kpidesk.storage.backup import load_settings, save_settings, settings_path

    settings = load_settings()
    changes = {"keep_all_hours": args.keep_all_hours, "daily_days": args.daily_days,
               "weekly_days": args.weekly_days, "monthly_months": args.monthly_months,
               "hourly_minutes": args.hourly_minutes, "synchronous": args.synchronous,
               "backup_on_close": None if args.on_close is None else args.on_close == "yes"}
    changed = {k: v for k, v in changes.items() if v is not None}
    for key, value in changed.items():
        setattr(settings, key, value)
    if changed:
        save_settings(settings)
        print(f"Saved to {settings_path()}.")
    for key, value in asdict(settings).items():
        if key != "cloud_warned":
            print(f"{key} = {value}")
    return 0


def cmd_db_check(args: argparse.Namespace) -> int:
    from kpidesk.storage.integrity import DamagedDatabaseError

    try:
        with open_workspace(args, read_only=True) as ws:
            report = _service(ws).check_database()
    except DamagedDatabaseError as exc:
        print(f"{exc.message}", file=sys.stdout)
        return 1
    print(report.text())
    return 0 if report.ok else 1


def cmd_export_all(args: argparse.Namespace) -> int:
    from kpidesk.services.workspace_export import export_all

    with open_workspace(args, read_only=True) as ws:
        summary = export_all(ws.db, Path(args.out), _Dots())
    print(summary.message)
    return 0


def cmd_import_all(args: argparse.Namespace) -> int:
    from kpidesk.services.workspace_export import import_all

    with open_workspace(args) as ws:
        summary = import_all(ws.db, Path(args.workbook), _Dots())
    print(summary.message)
    return 0 if summary.identical else 1

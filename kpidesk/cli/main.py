"""The ``kpidesk`` command line. No Qt is imported unless the GUI is asked for."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
from collections.abc import Sequence

from kpidesk import __version__
from kpidesk.errors import KpideskError

log = logging.getLogger("kpidesk")

# Command modules owned by the capabilities that add them; each has register(subparsers).
COMMAND_MODULES = [
    "kpidesk.cli.core_cmds",
    "kpidesk.cli.import_cmds",
    "kpidesk.cli.metrics_cmds",
    "kpidesk.cli.goal_cmds",
    "kpidesk.cli.explain_cmds",
    "kpidesk.cli.review_cmds",
    "kpidesk.cli.safety_cmds",
    "kpidesk.cli.team_cmds",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kpidesk",
        description="Track your products' KPIs, SMART goals and reviews in one local file. "
                    "With no command, the desktop app starts.",
    )
    parser.add_argument("--version", action="version", version=f"kpidesk {__version__}")
    parser.add_argument("--db", help="database file or URL (default: KPIDESK_DB, then the file in your data folder)")
    parser.add_argument("--read-only", action="store_true", help="open the database without changing it")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        if importlib.util.find_spec(name) is None:
            continue
        importlib.import_module(name).register(sub)
    return parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    """Let --db / --read-only also follow the subcommand (kpidesk show nps --db x.db)."""
    for action in ("--db", "--read-only"):
        if action in parser._option_string_actions:
            continue
        if action == "--db":
            parser.add_argument("--db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        else:
            parser.add_argument("--read-only", action="store_true", default=argparse.SUPPRESS,
                                help=argparse.SUPPRESS)
    for sub_action in parser._actions:
        if isinstance(sub_action, argparse._SubParsersAction):
            for child in sub_action.choices.values():
                _add_common(child)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_common(child)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        return _start_gui(args)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.parse_args([*(argv or sys.argv[1:]), "--help"])
        return 2
    try:
        return int(handler(args) or 0)
    except KpideskError as exc:
        print(f"kpidesk: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kpidesk: interrupted; nothing more was changed.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: one line for the user, the traceback in the log
        path = _log_bug()
        print(f"kpidesk: internal error ({type(exc).__name__}: {exc}). Details were saved to {path}.",
              file=sys.stderr)
        return 70


def _log_bug() -> str:
    import traceback

    from kpidesk.paths import data_dir

    try:
        folder = data_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "kpidesk-errors.log"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(traceback.format_exc() + "\n")
        return str(path)
    except OSError:
        return "(nowhere: the data folder is not writable)"


def _start_gui(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("kpidesk.app") is None:
        print("kpidesk: the desktop app is not available in this build.", file=sys.stderr)
        return 1
    app = importlib.import_module("kpidesk.app")
    return int(app.run(db=args.db, read_only=args.read_only))


if __name__ == "__main__":
    raise SystemExit(main())

"""Entry point of the frozen bundle: the same ``kpidesk`` command as the installed package."""

import multiprocessing

from kpidesk.cli.main import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # the sandboxed spreadsheet readers run in child processes
    raise SystemExit(main())

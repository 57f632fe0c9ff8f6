"""Entry point of the frozen bundle: the same ``kpidesk`` command as the installed package.

The sandboxed spreadsheet reader re-runs this executable as its child process
(``sys.executable --kpidesk-read-child ...``, see ``kpidesk.io.sandbox``), so
that flag is dispatched before the command line is parsed.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    if len(sys.argv) > 1 and sys.argv[1] == "--kpidesk-read-child":
        from kpidesk.io.sandbox import child_main

        raise SystemExit(child_main(sys.argv[2:]))
    from kpidesk.cli.main import main

    raise SystemExit(main())

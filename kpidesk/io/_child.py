"""``python -m kpidesk.io._child REQUEST RESULT``: the sandbox child (see kpidesk.io.sandbox)."""

import sys

from kpidesk.io.sandbox import child_main

if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))

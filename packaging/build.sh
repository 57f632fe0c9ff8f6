#!/usr/bin/env bash
# Build the one-folder desktop bundle from a clean virtual environment.
# Result: packaging/dist/kpidesk/kpidesk (run it, or install it with packaging/install-desktop.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD="$HERE/build"
PYTHON=${PYTHON:-python3}
start=$(date +%s)
rm -rf "$BUILD/venv" "$BUILD/work" "$HERE/dist"
mkdir -p "$BUILD"
"$PYTHON" -m venv "$BUILD/venv"
"$BUILD/venv/bin/python" -m pip install -q --upgrade pip
# a normal (non-editable) install with only the run-time dependencies: no test or dev packages
"$BUILD/venv/bin/python" -m pip install -q "$ROOT" "pyinstaller>=6.10"
"$BUILD/venv/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath "$HERE/dist" --workpath "$BUILD/work" "$HERE/kpidesk.spec"
end=$(date +%s)
size=$(du -sm "$HERE/dist/kpidesk" | cut -f1)
echo "bundle: $HERE/dist/kpidesk/kpidesk"
echo "bundle size: ${size} MB"
echo "build time: $((end - start)) s"

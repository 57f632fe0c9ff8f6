#!/usr/bin/env bash
# Install the built bundle for the current user and register it with the desktop:
# the app lands in ~/.local/opt/kpidesk, the command in ~/.local/bin/kpidesk, and
# the launcher, icons and AppStream metadata where desktops look for them.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUNDLE="$HERE/dist/kpidesk"
[ -x "$BUNDLE/kpidesk" ] || { echo "Build first: packaging/build.sh" >&2; exit 1; }
PREFIX=${PREFIX:-$HOME/.local}
APP_ID=org.kpidesk.KpiDesk
mkdir -p "$PREFIX/opt" "$PREFIX/bin" "$PREFIX/share/applications" "$PREFIX/share/metainfo"
rm -rf "$PREFIX/opt/kpidesk"
cp -a "$BUNDLE" "$PREFIX/opt/kpidesk"
ln -sf "$PREFIX/opt/kpidesk/kpidesk" "$PREFIX/bin/kpidesk"
sed "s|^Exec=kpidesk|Exec=$PREFIX/bin/kpidesk|" "$HERE/linux/$APP_ID.desktop" > "$PREFIX/share/applications/$APP_ID.desktop"
cp "$HERE/linux/$APP_ID.metainfo.xml" "$PREFIX/share/metainfo/"
for dir in "$ROOT"/resources/icons/hicolor/*/apps; do
  size=$(basename "$(dirname "$dir")")
  mkdir -p "$PREFIX/share/icons/hicolor/$size/apps"
  cp "$dir/$APP_ID.png" "$PREFIX/share/icons/hicolor/$size/apps/"
done
mkdir -p "$PREFIX/share/icons/hicolor/scalable/apps"
cp "$ROOT/resources/icons/kpidesk.svg" "$PREFIX/share/icons/hicolor/scalable/apps/$APP_ID.svg"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$PREFIX/share/applications" || true
echo "Installed: $PREFIX/bin/kpidesk and the 'kpidesk' launcher in your application menu."

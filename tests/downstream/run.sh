#!/usr/bin/env bash
# Builds and runs tests/downstream twice: with cordon as a Meson subproject, and against the
# cordon.pc of a `meson install --destdir` of the main build.
#   tests/downstream/run.sh SOURCE_ROOT BUILD_DIR
set -euo pipefail
src=$(cd "$1" && pwd) build=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "--- downstream with cordon as a subproject"
cp -r "$src/tests/downstream" "$work/sub"
mkdir -p "$work/sub/subprojects"
ln -s "$src" "$work/sub/subprojects/cordon"
meson setup "$work/sub/build" "$work/sub" --wrap-mode=nofallback --force-fallback-for=cordon >/dev/null
ninja -C "$work/sub/build" >/dev/null
meson test -C "$work/sub/build" --print-errorlogs downstream | grep -E "downstream +OK"

echo "--- downstream against the installed cordon.pc (meson install --destdir)"
meson install -C "$build" --destdir "$work/root" >/dev/null
pc=$(dirname "$(find "$work/root" -name cordon.pc | head -n 1)")
[ -f "$pc/cordon.pc" ] || { echo "cordon.pc was not installed"; exit 1; }
for f in include/cordon/cordon.hpp include/cordon/mxc_json.hpp bin/cordon share/cordon/mxc-config-0.6.0-alpha.schema.json; do
  [ -e "$(find "$work/root" -path "*/$f" | head -n 1)" ] || { echo "not installed: $f"; exit 1; }
done
[ -n "$(find "$work/root" -name 'cordon-backend-bubblewrap.so')" ] || { echo "backend module not installed"; exit 1; }
cp -r "$src/tests/downstream" "$work/pc"
PKG_CONFIG_PATH="$pc" PKG_CONFIG_SYSROOT_DIR="$work/root" \
  meson setup "$work/pc/build" "$work/pc" --wrap-mode=nofallback >/dev/null
grep -q "cordon found: YES" "$work/pc/build/meson-logs/meson-log.txt" || grep -q "Run-time dependency cordon found: YES" "$work/pc/build/meson-logs/meson-log.txt"
ninja -C "$work/pc/build" >/dev/null
meson test -C "$work/pc/build" --print-errorlogs downstream | grep -E "downstream +OK"
echo "downstream: both ways OK"

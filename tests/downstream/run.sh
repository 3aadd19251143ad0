#!/usr/bin/env bash
# Builds tests/downstream every way an embedder can consume cordon, in compiled and header-only mode,
# and runs each program once for real (the executor comes from MXC_BIN_DIR):
#   1. plain g++ with `pkg-config --cflags --libs cordon` / `cordon-header-only` of an installed tree
#   2. Meson dependency() found through those installed .pc files
#   3. cordon as a Meson subproject (whose own tests must not join the parent's test list)
# The installed tree comes from a lean, unsanitized build (the documented lean install), made here.
# Every build here is -O0 without debug info (a sixth less compile time than -g): they check that
# each route builds and runs, not how it debugs.
#   tests/downstream/run.sh SOURCE_ROOT WORK_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
mkdir -p "$2"; work=$(cd "$2" && pwd)
rm -rf "$work/root" "$work/pc" "$work/sub"
t0=$(date +%s)
lap() { echo "    ($(( $(date +%s) - t0 )) s)"; }

run_both() {  # run_both DIR PLUGIN_DIR: each program prints downstream-ok after a real sandboxed run
  for exe in "$1/downstream" "$1/downstream-header-only"; do
    out=$("$exe" "$2") || { echo "FAILED: $exe (exit $?)"; exit 1; }
    [ "$out" = downstream-ok ] || { echo "FAILED: $exe printed '$out'"; exit 1; }
    echo "    ok: ${exe#$work/}"
  done
}

echo "--- lean install: -Dtests=disabled -Dbench=false -Dexamples=false -Dcli=false"
lean="$work/lean"
if [ -f "$lean/build.ninja" ]; then meson setup --reconfigure --wrap-mode=nofallback "$lean" "$src" >/dev/null
else meson setup --wrap-mode=nofallback -Dtests=disabled -Dbench=false -Dexamples=false -Dcli=false \
    -Doptimization=0 -Ddebug=false "$lean" "$src" >/dev/null; fi
ninja -C "$lean" >/dev/null
meson install -C "$lean" --destdir "$work/root" >/dev/null
pcdir=$(dirname "$(find "$work/root" -name cordon.pc | head -n 1)")
plugins=$(dirname "$(find "$work/root" -name cordon-backend-bubblewrap.so | head -n 1)")
for f in include/cordon/cordon.hpp include/cordon/impl/mxc_json.hpp include/cordon/build_config.hpp \
         libcordon.a cordon-header-only.pc share/cordon/mxc-config-0.6.0-alpha.schema.json; do
  [ -n "$(find "$work/root" -path "*/$f" | head -n 1)" ] || { echo "not installed: $f"; exit 1; }
done
[ -z "$(find "$work/root" -name meson.build)" ] || { echo "meson.build files were installed"; exit 1; }
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$work/root"
lap

echo "--- 1. g++ \$(pkg-config --cflags --libs cordon | cordon-header-only)"
mkdir -p "$work/gxx"
g++ -std=c++17 -O0 "$src/tests/downstream/main.cpp" -o "$work/gxx/downstream" $(pkg-config --cflags --libs cordon) &
g++ -std=c++17 -O0 "$src/tests/downstream/main.cpp" -o "$work/gxx/downstream-header-only" \
  $(pkg-config --cflags --libs cordon-header-only)
wait $!
run_both "$work/gxx" "$plugins"
lap

echo "--- 2. Meson dependency() through the installed .pc files"
cp -r "$src/tests/downstream" "$work/pc"
meson setup "$work/pc/build" "$work/pc" --wrap-mode=nofallback -Ddebug=false >/dev/null
grep -q "Run-time dependency cordon found: YES" "$work/pc/build/meson-logs/meson-log.txt"
grep -q "Run-time dependency cordon-header-only found: YES" "$work/pc/build/meson-logs/meson-log.txt"
ninja -C "$work/pc/build" >/dev/null
run_both "$work/pc/build" "$plugins"
lap

echo "--- 3. cordon as a Meson subproject"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
cp -r "$src/tests/downstream" "$work/sub"
mkdir -p "$work/sub/subprojects"
ln -s "$src" "$work/sub/subprojects/cordon"
# unity: the lean build above already compiles each of cordon's files alone
meson setup "$work/sub/build" "$work/sub" --wrap-mode=nofallback --force-fallback-for=cordon,cordon-header-only \
  -Dunity=on -Dunity_size=8 -Ddebug=false >/dev/null
ninja -C "$work/sub/build" downstream downstream-header-only subprojects/cordon/backends/bubblewrap/cordon-backend-bubblewrap.so >/dev/null
listed=$(meson introspect "$work/sub/build" --tests)
[ "$listed" = "[]" ] || { echo "cordon's own tests joined the parent's test list: $listed"; exit 1; }
echo "    ok: no cordon tests in the parent's test list"
run_both "$work/sub/build" "$work/sub/build/subprojects/cordon/backends/bubblewrap"
lap
echo "downstream: every way OK"

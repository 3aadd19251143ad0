#!/usr/bin/env bash
# What cordon adds to the MXC executor, each pair interleaved in one run so machine load hits both
# alike (numbers for issue notes; never a test):
#   1. `cordon run -- true` (a whole CLI call: verification, ceiling, clamp, run) against the real
#      lxc-exec run directly on the same config, with the network off;
#   2. a kept Runner (embedders, `cordon mcp`) per run, against the same executor started directly.
#
#   bench/run_overhead.sh [--iterations N] [--bench PATH] [--cordon PATH]
#
# As root both sides run as `nobody` (cordon never starts the executor as root; setpriv wraps both
# commands, so both pay for it), with the executor copied where that user can run it. The
# verification cache lives in a private directory of the run (warm after the warm-up runs).
# Prints `uptime` first: on a shared machine the load is part of the result.
set -euo pipefail
cd "$(dirname "$0")/.."

iterations=100
bench=${CORDON_BENCH:-build/bench/cordon-bench}
cordon=build/tools/cordon
while [ $# -gt 0 ]; do
  case "$1" in
    --iterations) iterations=$2; shift 2 ;;
    --bench) bench=$2; shift 2 ;;
    --cordon) cordon=$2; shift 2 ;;
    [0-9]*) iterations=$1; shift ;;  # the old positional form
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_overhead.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
for f in "$bench" "$cordon"; do
  [ -x "$f" ] || { echo "run_overhead.sh: $f is not built (ninja -C build)" >&2; exit 2; }
done
cordon=$(cd "$(dirname "$cordon")" && pwd)/$(basename "$cordon")
eval "$(scripts/setup_sandbox.sh --print-env 2>/dev/null)"
exe="$MXC_BIN_DIR/x64/lxc-exec"; [ -x "$exe" ] || exe="$MXC_BIN_DIR/lxc-exec"

work=$(mktemp -d "${TMPDIR:-/tmp}/cordon-overhead.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
mkdir -p "$work/bin/x64" "$work/grant" "$work/xdg"
cp "$exe" "$work/bin/x64/lxc-exec"  # root-owned 0755 (as root): trusted, and runnable by nobody
chmod 755 "$work/bin" "$work/bin/x64" "$work/bin/x64/lxc-exec"
as=()
if [ "$(id -u)" -eq 0 ]; then
  chown nobody "$work/grant" "$work/xdg"
  as=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
fi
base_env=(env -i PATH=/usr/bin:/bin)
cordon_env=("${base_env[@]}" "MXC_BIN_DIR=$work/bin" "XDG_CACHE_HOME=$work/xdg" "CORDON_READWRITE_PATHS=$work/grant")

# The exact config cordon hands to lxc-exec (bind check included), for the direct side.
"${as[@]}" "${cordon_env[@]}" "$cordon" run --rw "$work/grant" --dry-run -- true | sed -n 's/^config: //p' \
  > "$work/config.json"
chmod 644 "$work/config.json"
sleep 0.2  # the copied executor's ctime settles, so the verification cache can remember it

echo "load: $(uptime)"
echo "executor: $exe ($(sha256sum "$exe" | cut -c1-16)...), $(nproc) CPUs"
"$bench" compare --iterations "$iterations" --warmup 3 \
  lxc-exec-direct "${as[@]}" "${base_env[@]}" "$work/bin/x64/lxc-exec" --config "$work/config.json" ::: \
  cordon-run "${as[@]}" "${cordon_env[@]}" "$cordon" run --rw "$work/grant" -- true
"${as[@]}" "${cordon_env[@]}" "$cordon" probe --json | grep -o '"verified":"[a-z]*"' | sed 's/^/cordon run executor check: /'

# A kept Runner in this process (as root: the sandbox runs as nobody, the default runAs).
MXC_BIN_DIR="$work/bin" "$bench" runner --dir "$work/grant" --iterations "$iterations"
echo "load: $(uptime)"

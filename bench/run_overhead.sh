#!/usr/bin/env bash
# Median wall time of `cordon run -- true` against the real lxc-exec run directly on the same
# config, interleaved in one run so both see the same machine state.
#   bench/run_overhead.sh [ITERATIONS]      (after scripts/demo.sh or scripts/test.sh built ./build)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50}
eval "$(scripts/setup_sandbox.sh --print-env)"
cordon=build/tools/cordon
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CORDON_READWRITE_PATHS=$work

# the exact config cordon would hand to lxc-exec
config=$("$cordon" run --rw "$work" --dry-run -- true | sed -n 's/^config: //p')
printf '%s' "$config" > "$work/config.json"
exe="$MXC_BIN_DIR/x64/lxc-exec"; [ -x "$exe" ] || exe="$MXC_BIN_DIR/lxc-exec"

now() { date +%s%N; }
direct=() cordon_runs=()
for _ in $(seq "$n"); do
  t0=$(now); env -i PATH=/usr/bin:/bin "$exe" --config "$work/config.json" >/dev/null; t1=$(now)
  "$cordon" run --rw "$work" -- true >/dev/null; t2=$(now)
  direct+=($(( (t1 - t0) / 1000 ))) cordon_runs+=($(( (t2 - t1) / 1000 )))
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
md=$(median "${direct[@]}") mc=$(median "${cordon_runs[@]}")
awk -v n="$n" -v d="$md" -v c="$mc" 'BEGIN {
  printf "{\"op\":\"run-overhead\",\"iterations\":%d,\"lxc_exec_direct_median_us\":%d,\"cordon_run_median_us\":%d,\"overhead_us\":%d,\"ratio\":%.2f}\n", n, d, c, c - d, c / d }'

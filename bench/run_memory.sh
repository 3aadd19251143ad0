#!/usr/bin/env bash
# Peak RSS of `cordon run` on an output flood against `cordon run -- true`, interleaved in one run
# (numbers for issue notes; never a test). The goal: flood <= baseline + 1.5 x the output cap.
#
#   bench/run_memory.sh [--mb N] [--iterations N] [--bench PATH] [--cordon PATH]
#
# Peak RSS is wait4()'s ru_maxrss: the largest process of the command's tree, which is cordon
# itself (lxc-exec and the sandbox stay below it; the lxc-exec line of run_overhead.sh shows its
# size). For each output cap (1 MiB, the default, and 16 MiB) it measures the default streaming
# mode (output to /dev/null) and --json, which must hold the whole result before printing it,
# each with the flood on stdout and on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

mb=200
iterations=3
bench=${CORDON_BENCH:-build/bench/cordon-bench}
cordon=build/tools/cordon
while [ $# -gt 0 ]; do
  case "$1" in
    --mb) mb=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    --bench) bench=$2; shift 2 ;;
    --cordon) cordon=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_memory.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
for f in "$bench" "$cordon"; do
  [ -x "$f" ] || { echo "run_memory.sh: $f is not built (ninja -C build)" >&2; exit 2; }
done
cordon=$(cd "$(dirname "$cordon")" && pwd)/$(basename "$cordon")
eval "$(scripts/setup_sandbox.sh --print-env 2>/dev/null)"
work=$(mktemp -d "${TMPDIR:-/tmp}/cordon-memory.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
mkdir "$work/grant"
[ "$(id -u)" -ne 0 ] || chown nobody "$work/grant"  # as root the sandbox runs as nobody
export CORDON_READWRITE_PATHS="$work/grant"
bytes=$((mb * 1000 * 1000))
# base64 of random bytes: valid UTF-8 text, so --json prints it as a string, not as base64 again
flood="head -c $bytes /dev/urandom | base64 -w0"

echo "load: $(uptime)"
for cap in 1048576 16777216; do
  for mode in stream json; do
    for stream in stdout stderr; do
      flags=(--output-limit "$cap")
      [ "$mode" = stream ] || flags+=(--json)
      redirect=""
      [ "$stream" = stdout ] || redirect=" >&2"
      out=$("$bench" compare --iterations "$iterations" --warmup 1 \
        true "$cordon" run "${flags[@]}" --rw "$work/grant" -- true ::: \
        flood "$cordon" run "${flags[@]}" --rw "$work/grant" -- sh -c "$flood$redirect" 2>/dev/null)
      base=$(printf '%s\n' "$out" | sed -n 's/.*"name":"true".*"maxrss_kb_max":\([0-9]*\).*/\1/p')
      peak=$(printf '%s\n' "$out" | sed -n 's/.*"name":"flood".*"maxrss_kb_max":\([0-9]*\).*/\1/p')
      awk -v cap="$cap" -v mode="$mode" -v stream="$stream" -v base="$base" -v peak="$peak" -v mb="$mb" 'BEGIN {
        extra = (peak - base) * 1024; printf "{\"op\":\"memory\",\"mode\":\"%s\",\"stream\":\"%s\",\"output_limit\":%d,\"flood_mb\":%d,\"baseline_kb\":%d,\"flood_peak_kb\":%d,\"extra_x_cap\":%.2f,\"within_1_5x\":%s}\n",
          mode, stream, cap, mb, base, peak, extra / cap, (extra <= 1.5 * cap) ? "true" : "false" }'
    done
  done
done
echo "load: $(uptime)"

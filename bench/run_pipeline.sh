#!/usr/bin/env bash
# cordon's clamp pipeline next to a Python implementation of the same steps (os.path.realpath
# containment + json + jsonschema), on the same generated files in the same run (numbers for issue
# notes; never a test).
#
#   bench/run_pipeline.sh [--bench PATH/TO/cordon-bench] [--iterations N] [--py-iterations N] [--rounds N]
#   (iterations per round)
#
# Builds a private temporary tree (real directories and symlinks, one escaping), a ceiling and a
# request with 12 paths, env, cwd and timeout; prints both JSON lines and the ratio. The tree holds
# its own usr/ and etc/: clamp searches every granted tree for Unix sockets (and so does the
# reference), and the host's /usr/lib would make both a benchmark of walking 200,000 entries.
set -euo pipefail
cd "$(dirname "$0")/.."

bench=${CORDON_BENCH:-build/bench/cordon-bench}
iterations=4000
py_iterations=400
rounds=5
while [ $# -gt 0 ]; do
  case "$1" in
    --bench) bench=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    --py-iterations) py_iterations=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_pipeline.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[ -x "$bench" ] || { echo "run_pipeline.sh: no cordon-bench at $bench (ninja -C build bench/cordon-bench, or --bench)" >&2; exit 2; }
python3 -c 'import jsonschema' 2>/dev/null || { echo "run_pipeline.sh: python3 lacks jsonschema" >&2; exit 2; }

work=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/cordon-pipeline-bench.XXXXXX")" && pwd -P)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/home/me/{proj/src/lib,proj/build,docs/notes,.ssh} "$work"/opt/tools/bin "$work"/srv/data \
  "$work"/usr/lib "$work"/etc
ln -s "$work/home/me/proj/src" "$work/home/me/src-link"
ln -s "$work/srv/data" "$work/home/me/proj/escape"
: > "$work/home/me/docs/notes/todo.txt"

cat > "$work/ceiling.json" <<EOF
{"readwritePaths": ["$work/home/me/proj", "$work/home/me/scratch"],
 "readonlyPaths": ["$work/home/me/docs", "$work/opt/tools", "$work/usr"],
 "timeout": 30000, "network": {"defaultPolicy": "block"}, "env": {"allow": ["LANG", "LC_*", "TERM"]}}
EOF
cat > "$work/request.json" <<EOF
{"version": "0.6.0-alpha",
 "process": {"commandLine": "make -C src", "cwd": "$work/home/me/proj/src", "timeout": 0,
             "env": ["LANG=C.UTF-8", "LC_ALL=C", "TERM=xterm", "LD_PRELOAD=/tmp/x.so", "HOME=/root"]},
 "filesystem": {"readwritePaths": ["$work/home/me/proj/src", "$work/home/me/src-link/lib", "$work/home/me/proj/build",
                                   "$work/home/me/proj/escape", "$work/home/me/docs/notes", "$work/home/me/.ssh",
                                   "$work/home/me/proj/new/file.o"],
                "readonlyPaths": ["$work/home/me/docs/notes/todo.txt", "$work/opt/tools/bin", "$work/usr/lib", "$work/home/me",
                                  "$work/etc"]}}
EOF

# Interleaved: `rounds` rounds, each running both once (who goes first alternates), so machine load
# falls on both alike; the ratio of each round, and their median, is printed.
echo "load: $(uptime)"
ratios=()
for round in $(seq "$rounds"); do
  run_cordon() { "$bench" pipeline --ceiling "$work/ceiling.json" --request "$work/request.json" --iterations "$iterations"; }
  run_python() { python3 bench/pipeline_reference.py --ceiling "$work/ceiling.json" --request "$work/request.json" \
    --iterations "$py_iterations"; }
  if [ $((round % 2)) -eq 1 ]; then cordon=$(run_cordon); python=$(run_python)
  else python=$(run_python); cordon=$(run_cordon); fi
  c_us=$(printf '%s' "$cordon" | sed -nE 's/.*"us_per_op":([0-9.e+-]+).*/\1/p')
  p_us=$(printf '%s' "$python" | sed -nE 's/.*"us_per_op":([0-9.e+-]+).*/\1/p')
  ratio=$(awk -v a="$p_us" -v b="$c_us" 'BEGIN { printf "%.2f", a / b }')
  ratios+=("$ratio")
  echo "round $round: $cordon $python ratio $ratio"
done
py_version=$(python3 -c 'import sys, jsonschema, importlib.metadata as m; print(sys.version.split()[0], "jsonschema", m.version("jsonschema"))')
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
echo "load: $(uptime)"
echo "python $py_version; cordon is ${median}x faster per request (median of $rounds interleaved rounds: ${ratios[*]})"

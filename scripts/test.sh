#!/usr/bin/env bash
# The README's test command (and the only thing .ci/run calls): installs what it needs, then builds
# and runs every suite. Stages can be picked for local work: scripts/test.sh native fuzz
#   native      the whole test suite, built once with AddressSanitizer + UndefinedBehaviorSanitizer
#   downstream  a consumer of a lean install and of a subproject, compiled and header-only mode
#   cpp20       every public header, the CLI, examples, backends and benchmarks as C++20, -Werror
#   fuzz        every libFuzzer target at once, for CORDON_FUZZ_SECONDS (default 60)
#   windows     plain mingw-w64 cross build, Windows tests under wine, wxc-exec.exe conformance
#   plain       (not in the default list) the suite without sanitizers, in ./build
# When native runs with others, the others run beside it in a second test.sh at the lowest CPU
# priority: the native tests mostly wait on real processes, and the other builds fill the idle
# cores. CORDON_CI_SERIAL=1 runs the stages one after another instead.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
table= beside_of_native=  # table: the file that collects one "stage wall cpu result" line per stage
if [ "${1:-}" = --beside ]; then table=$2 beside_of_native=1; shift 2; fi  # how test.sh starts its second self
stages=("$@")
# windows first among those beside native: the biggest build; fuzz last: it runs for a fixed time
[ ${#stages[@]} -gt 0 ] || stages=(native windows cpp20 downstream fuzz)
jobs=${CORDON_JOBS:-$(nproc)}

started=${CORDON_TEST_STARTED:-$(date +%s)}; export CORDON_TEST_STARTED=$started  # "at N s" of the whole run
step() { printf '\n=== %s (at %d s) ===\n' "$*" $(( $(date +%s) - started )); }

scripts/install-deps.sh
# The pinned, verified MXC executors (a no-op when cached): the default SDK (1.0.1), whose
# MXC_BIN_DIR reaches every meson test, and SDK 0.9.0, whose executor runs the integration tests
# once more (sdk_090_tests) so that the previous SDK and its contracts stay tested.
mxc_env=$(scripts/setup_sandbox.sh --strict --print-env)
mxc090_env=$(scripts/setup_sandbox.sh --strict --sdk 0.9.0 --print-env)
mxc090_bin_dir=$(eval "$mxc090_env"; printf '%s' "$MXC_BIN_DIR")
eval "$mxc_env"
export CORDON_REQUIRE_EXECUTOR=1  # integration tests fail, rather than skip, without the executor
sdk_090_tests=(executor-real posix-runner-real integration-bubblewrap integration-run-cli integration-hostile cli
  integration-terminal demo-matrix mcp-sandbox-real)

setup() {  # setup DIR [meson args...]: configure once, reconfigure when options change
  local dir=$1; shift
  # nofallback: on this machine every dependency comes from Debian, never from subprojects/
  if [ -f "$dir/build.ninja" ]; then meson setup --reconfigure --wrap-mode=nofallback "$dir" "$@" >/dev/null
  else meson setup --wrap-mode=nofallback "$dir" "$@" >/dev/null; fi
}

# The suite runs once, sanitized: every test doubles as an ASan/UBSan check, and CI builds the
# heavy headers once instead of twice. -O0 with line tables only (-g1): sanitizer reports keep
# file:line, and the build costs a ninth of -O2 -g (measured on tests/egress_rules_test.cpp:
# 104 s -> 11 s of CPU). The sanitizer-canary test proves the sanitizers still report. A unity
# build (eight files per translation unit) parses the heavy headers an eighth as often: the whole
# build took 430 s of CPU instead of ~800. Each file alone is compiled by the downstream lean
# build (src/, the POSIX backends); the rest (CLI, proxy, processcontainer, tests) only in unity
# builds here, and file by file in a default build (the README's).
# clang with lld: the build takes half of gcc's CPU (293 s against 587, the same unity build);
# gcc still compiles everything but the tests in the cpp20, windows and downstream stages.
# (lld: GNU ld took minutes per sanitized backend module.)
stage_native() {
  step "native build with AddressSanitizer + UndefinedBehaviorSanitizer (clang, C++17, -O0 -g1), every test"
  # a build dir configured with another compiler is made afresh (meson keeps a dir's compiler)
  [ ! -f build-asan/build.ninja ] || grep -q '^ command = clang++ ' build-asan/build.ninja || rm -rf build-asan
  CXX=clang++ CXX_LD=lld setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false \
    -Doptimization=0 -Ddebug=false -Dcpp_args=-g1 -Dunity=on -Dunity_size=8
  ninja -C build-asan -j "$jobs"
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    meson test -C build-asan --print-errorlogs --num-processes "$jobs" --timeout-multiplier 3
  step "the integration tests again, with lxc-exec from SDK 0.9.0 (contract 0.9.0-alpha)"
  MXC_BIN_DIR=$mxc090_bin_dir UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    meson test -C build-asan --print-errorlogs --num-processes "$jobs" --timeout-multiplier 3 --logbase testlog-sdk090 \
    "${sdk_090_tests[@]}"
}

stage_plain() {
  step "native build without sanitizers, every test"
  setup build
  ninja -C build -j "$jobs"
  meson test -C build --print-errorlogs --num-processes "$jobs"
  MXC_BIN_DIR=$mxc090_bin_dir meson test -C build --print-errorlogs --num-processes "$jobs" --logbase testlog-sdk090 \
    "${sdk_090_tests[@]}"
}

stage_downstream() {
  step "downstream: a lean install used through pkg-config and Meson, and a subproject; both modes"
  tests/downstream/run.sh "$root" build-downstream
}

stage_cpp20() {
  step "C++20 build of every public header (odr test), CLI, examples, backends, benchmarks; -Werror"
  # A compile check: -O0 without debug info (optimisation-dependent warnings are the mingw stage's),
  # as a unity build (the CLI's 25 files cost 2 translation units); each file alone is compiled by
  # the downstream lean build (src/, the POSIX backends).
  setup build-cpp20 -Dcpp_std=c++20 -Dwerror=true -Ddebug=false -Doptimization=0 -Dunity=on -Dunity_size=8
  ninja -C build-cpp20 -j "$jobs" tests/odr_test tools/cordon bench/cordon-bench examples/demo_matrix \
    examples/embed_minimal examples/policy_unit_test backends/bubblewrap/cordon-backend-bubblewrap.so \
    backends/seatbelt/cordon-backend-seatbelt.so
  meson test -C build-cpp20 odr example-policy-unit-test --print-errorlogs
}

stage_fuzz() {
  step "libFuzzer targets, all at once for ${CORDON_FUZZ_SECONDS:-60} s"
  # unity: libcordon's eight files in one translation unit, 96 s of CPU instead of 161 (measured);
  # each file alone is compiled by the downstream lean build
  CXX=clang++ setup build-fuzz -Dfuzz=enabled -Dtests=disabled -Dcli=false -Dbench=false -Dexamples=false \
    -Dbackends=false -Doptimization=1 -Ddebug=false -Dcpp_args=-g1 -Dunity=on -Dunity_size=8
  ninja -C build-fuzz -j "$jobs"
  local targets=() pids=() names=() rc=0
  for target in build-fuzz/fuzz/fuzz_*; do
    [ -f "$target" ] && [ -x "$target" ] && targets+=("$target")
  done
  [ ${#targets[@]} -gt 0 ] || { echo "no fuzz targets were built"; return 1; }
  # All at once: the run takes the fuzzing time once, and the cores are shared by every target
  # (five on two cores: about 2/5 of a core-second each per second).
  for target in "${targets[@]}"; do
    fuzz_one "$target" & pids+=($!); names+=("$(basename "$target")")
  done
  for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
  for name in "${names[@]}"; do
    echo "--- $name"; grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "build-fuzz/$name.log" || true
  done
  return "$rc"
}

fuzz_one() {  # fuzz_one TARGET: runs it for CORDON_FUZZ_SECONDS with its seeds; the log says why it failed
  local target=$1 name corpus seeds=()
  name=$(basename "$target")
  corpus="build-fuzz/corpus-$name"
  mkdir -p "$corpus"
  # read-only seed folders: the project's own, plus the shared reference corpus when present
  [ -d "$root/fuzz/seeds/${name#fuzz_}" ] && seeds+=("$root/fuzz/seeds/${name#fuzz_}")
  [ "$name" = fuzz_mxc_json ] && [ -d "$root/../shared/reference/mxc/corpus" ] && seeds+=("$root/../shared/reference/mxc/corpus")
  if ! "$target" -max_total_time="${CORDON_FUZZ_SECONDS:-60}" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 "$corpus" "${seeds[@]}" > "build-fuzz/$name.log" 2>&1; then
    tail -n 40 "build-fuzz/$name.log"; echo "$name found a crash (log: build-fuzz/$name.log)"; return 1
  fi
}

stage_windows() {
  step "Windows: mingw-w64 cross build, processcontainer tests under wine, wxc-exec.exe 0.7.0/0.9.0/1.0.1 conformance"
  scripts/install-deps.sh --windows
  scripts/setup_sandbox.sh --strict --platform win32 --sdk 0.7.0 --sdk 0.9.0 --sdk 1.0.1 >/dev/null
  # -O1 -Werror: the warnings that need the optimiser's data flow (maybe-uninitialized and the
  # like; -O2's range-based ones are given up: -O1 costs about two thirds of -O2's compile time,
  # measured on proxy/session.cpp, 19.5 s against 30.1 s), no debug info (wine shows no lines), a
  # unity build of eight files: 350 s of CPU for every target instead of about 500 (it was the
  # longest stage, 757 s beside native)
  setup build-mingw --cross-file cross/x86_64-w64-mingw32.txt -Dwerror=true -Ddebug=false -Doptimization=1 \
    -Dunity=on -Dunity_size=8
  # a plain ninja: every default target (the CLI and the examples included; the demo itself can only
  # run on a real Windows machine) must build for Windows
  ninja -C build-mingw -j "$jobs"
  # One prefix per build dir, a persistent wineserver, and wine's own services started here with
  # their output on /dev/null: services started by a test would inherit meson's pipes and hold them.
  export WINEPREFIX=$root/build-mingw/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  mkdir -p "$WINEPREFIX"
  wineserver -p </dev/null >/dev/null 2>&1
  if [ -f "$WINEPREFIX/system.reg" ]; then wine cmd /c exit </dev/null >/dev/null 2>&1
  else wineboot -i </dev/null >/dev/null 2>&1; fi
  wine reg add 'HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug' /v Debugger /t REG_SZ /d false /f \
    </dev/null >/dev/null 2>&1
  local rc=0
  meson test -C build-mingw --suite processcontainer --print-errorlogs --num-processes 1 || rc=$?
  meson test -C build-mingw executor-win header-only domains proxy-smoke --print-errorlogs --num-processes 1 || rc=$?
  wineserver -k || true
  return "$rc"
}

[ -n "$table" ] || { table=$(mktemp); trap 'rm -f "$table"' EXIT; }
stage_cpu() {  # stage_cpu FILE: CPU seconds (user + system) in the output of `times` in FILE
  awk 'function sec(t,  m){ m = t; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", t); sub(/s$/, "", t); return m * 60 + t }
    { total += sec($1) + sec($2) } END { printf "%d", total }' "$1" 2>/dev/null || echo "?"
}

build_dir_of() {  # the build directory whose meson test logs belong to stage $1 (none: fuzz, downstream)
  case $1 in native) echo build-asan ;; plain) echo build ;; cpp20) echo build-cpp20 ;; windows) echo build-mingw ;; esac
}

# run_stages STAGE...: each in a subshell with errexit, even after one fails, so one run shows every
# failure and the whole time table
run_stages() {
  local s t0 rc dir
  for s in "$@"; do
    dir=$(build_dir_of "$s"); [ -z "$dir" ] || rm -f "$dir"/meson-logs/testlog*.json  # this run's only
    t0=$(date +%s)
    # The stage's CPU is what its subshell and that subshell's children used (`times` as it exits):
    # this shell's own child counters would also count a stage beside it that ended meanwhile.
    set +e; ( set -e; trap 'times > "$table.times.$s"' EXIT; "stage_$s" ); rc=$?; set -e
    echo "$s $(( $(date +%s) - t0 )) $(stage_cpu "$table.times.$s") $([ $rc = 0 ] && echo ok || echo FAILED)" >> "$table"
    rm -f "$table.times.$s"
  done
}

if [ -n "$beside_of_native" ]; then run_stages "${stages[@]}"; exit 0; fi  # the parent reports
beside=()
if [ ${#stages[@]} -gt 1 ] && [[ " ${stages[*]} " == *" native "* ]] && [ -z "${CORDON_CI_SERIAL:-}" ]; then
  for s in "${stages[@]}"; do [ "$s" = native ] || beside+=("$s"); done
fi
if [ ${#beside[@]} -gt 0 ]; then
  mkdir -p build-logs
  echo "test.sh: ${beside[*]} run beside native, at the lowest CPU priority; their log follows native's"
  # In its own process group (job control on for this one launch), so that whatever it left running
  # ends with this script; in this session, because the scheduler weighs nice only within a session
  # (autogroups): with setsid the two halves shared the cores equally.
  set -m
  nice -n 19 "$0" --beside "$table" "${beside[@]}" < /dev/null > build-logs/beside.log 2>&1 &
  beside_pid=$!
  set +m
  trap 'kill -- "-$beside_pid" 2>/dev/null || true; rm -f "$table"' EXIT  # errexit holds in traps too
  run_stages native
  wait "$beside_pid" || true
  step "the log of ${beside[*]}, which ran beside native"
  cat build-logs/beside.log
else
  run_stages "${stages[@]}"
fi

echo
echo "test.sh: stage times (s, wall and CPU of $(nproc) cores${beside[*]:+; ${beside[*]} ran beside native}):"
printf '  %-11s %6s %6s  %s\n' stage wall cpu result
failed=()
for s in "${stages[@]}"; do
  line=$(grep "^$s " "$table" || echo "$s - - FAILED")
  printf '  %-11s %6s %6s  %s\n' $line
  [ "${line##* }" = ok ] || failed+=("$s")
done
if [ ${#failed[@]} -gt 0 ]; then
  for s in "${failed[@]}"; do
    dir=$(build_dir_of "$s")
    if [ -n "$dir" ] && compgen -G "$dir/meson-logs/testlog*.json" > /dev/null; then
      echo "test.sh: what failed in stage $s:"; scripts/failed-tests.py "$dir"/meson-logs/testlog*.json
    fi
  done
  echo "test.sh: FAILED stages: ${failed[*]} (after $(( $(date +%s) - started )) s)"; exit 1
fi
echo "test.sh: all stages passed in $(( $(date +%s) - started )) s: ${stages[*]}"

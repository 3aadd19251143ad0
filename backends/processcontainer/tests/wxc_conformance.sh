#!/usr/bin/env bash
# Microsoft's Windows parser as the judge: every config the processcontainer tests handed to
# wxc-exec (EMITTED_DIR/*.json) and the Windows-style reference corpus files go through the real
# wxc-exec.exe of SDK 0.7.0 and 0.9.0 (--dry-run under wine, ../shared/tools/wine-wxc/wxc-dry-run)
# and through cordon's own validate() (cordon-verdict.exe, under wine). Then the real executors,
# verified against their pins, are launched through the backend (processcontainer_test.exe's
# "the real wxc-exec.exe" case): wine cannot host AppContainer, so they must fail closed.
#   wxc_conformance.sh EMITTED_DIR CORDON_VERDICT_EXE PROCESSCONTAINER_TEST_EXE
# Agreement:
#   * an emitted config must be accepted outright (exit 0) by both executors;
#   * a corpus file cordon calls valid must not be rejected by the parser ("Request error"); a
#     runner-level refusal (e.g. the dry run's probe of a UNC path that does not exist) is not a
#     parse verdict;
#   * a corpus file cordon calls invalid must be rejected by 0.9.0; 0.7.0's parser ignores unknown
#     nested keys and accepts containments outside the enum, so there it must be rejected unless
#     ../shared/reference/mxc/corpus/parse-verdicts.tsv records lxc-exec 0.7.0 (the same parser)
#     accepting it too.
# Executors: $CORDON_WXC_EXEC_0_7_0 / $CORDON_WXC_EXEC_0_9_0, else the cache of
#   scripts/setup_sandbox.sh --platform win32 --sdk 0.7.0 --sdk 0.9.0
# Exit 77 (meson's skip) with the reason when ../shared, an executor, wine or the emitted configs
# are absent; a missing executor fails instead when CORDON_REQUIRE_EXECUTOR=1.
set -uo pipefail
emitted_dir=$(cd "$1" 2>/dev/null && pwd) || { echo "SKIP: $1 does not exist: run the processcontainer-wine test first"; exit 77; }
verdict_exe=$2
test_exe=$3
source_dir=${CORDON_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
shared=${CORDON_SHARED_DIR:-$source_dir/../shared}
skip() { echo "SKIP: $*"; exit 77; }
# Executors missing: a skip, unless the caller requires them (scripts/test.sh sets CORDON_REQUIRE_EXECUTOR=1).
need() { [ "${CORDON_REQUIRE_EXECUTOR:-}" = 1 ] && { echo "FAIL: $*"; exit 1; }; skip "$@"; }

dry_run=$shared/tools/wine-wxc/wxc-dry-run
corpus=$shared/reference/mxc/corpus
[ -f "$dry_run" ] || skip "$dry_run is absent (../shared not checked out)"
[ -d "$corpus" ] || skip "$corpus is absent"
command -v wine >/dev/null || skip "wine is not installed (scripts/install-deps.sh --windows)"

cache=${CORDON_MXC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cordon/mxc}
declare -A exe
for sdk in 0.7.0 0.9.0; do
  var=CORDON_WXC_EXEC_${sdk//./_}
  exe[$sdk]=${!var:-$cache/$sdk/bin/x64/wxc-exec.exe}
  [ -f "${exe[$sdk]}" ] || need "wxc-exec.exe of SDK $sdk not found at ${exe[$sdk]}; run: scripts/setup_sandbox.sh --platform win32 --sdk 0.7.0 --sdk 0.9.0"
done

shopt -s nullglob
emitted=("$emitted_dir"/*.json)
[ ${#emitted[@]} -gt 0 ] || skip "no emitted configs in $emitted_dir: run the processcontainer-wine test first (meson test --suite processcontainer)"
windows_corpus=()
for f in "$corpus"/*.json; do
  case "$(basename "$f")" in *windows*|*unc*|*extended_prefix*|*appcontainer*|*processcontainer*) windows_corpus+=("$f") ;; esac
done

export WXC_WINE_CACHE=${WXC_WINE_CACHE:-${TMPDIR:-/tmp}/cordon-wxc-wine}
export WINEDEBUG=-all
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0; failed=0
# parse verdict of one executor run: accepted | rejected | refused (runner level, not a parse verdict)
verdict() {
  local rc=$1 log=$2
  if [ "$rc" -eq 0 ]; then echo accepted
  elif [ "$rc" -eq 1 ] && grep -q '^Request error' "$log"; then echo rejected
  else echo refused; fi
}

check() {  # check KIND FILE
  local kind=$1 file=$2 name cordon ok line sdk rc v lax
  name=$(basename "$file" .json)
  if wine "$verdict_exe" "$file" >"$work/cordon.log" 2>&1; then cordon=valid; else cordon=invalid; fi
  line="$kind $name: cordon=$cordon"
  ok=1
  for sdk in 0.7.0 0.9.0; do
    "$dry_run" "${exe[$sdk]}" "$file" >"$work/$sdk.log" 2>&1
    rc=$?
    v=$(verdict "$rc" "$work/$sdk.log")
    line+=" wxc-$sdk=$v(rc $rc)"
    if [ "$kind" = emitted ]; then
      [ "$cordon" = valid ] && [ "$v" = accepted ] || ok=0
    elif [ "$cordon" = valid ]; then
      [ "$v" != rejected ] || ok=0
    elif [ "$v" != rejected ]; then
      lax=$(awk -F'\t' -v n="$name" '$1 == n {print $2}' "$corpus/parse-verdicts.tsv")
      if [ "$sdk" = 0.7.0 ] && [ "$lax" = accept ]; then line+="[lax 0.7.0 parser, as lxc-exec 0.7.0]"; else ok=0; fi
    fi
  done
  if [ $ok -eq 1 ]; then
    passed=$((passed + 1)); echo "ok    $line"
  else
    failed=$((failed + 1)); echo "FAIL  $line"
    for sdk in 0.7.0 0.9.0; do sed "s/^/      [$sdk] /" "$work/$sdk.log" | head -n 12; done
    sed 's/^/      [cordon] /' "$work/cordon.log" | head -n 5
  fi
}

for f in "${emitted[@]}"; do check emitted "$f"; done
for f in "${windows_corpus[@]}"; do check corpus "$f"; done
echo "wxc-exec conformance: ${#emitted[@]} emitted + ${#windows_corpus[@]} corpus configs, each through SDK 0.7.0 and 0.9.0"

# The dry runs left each executor next to its stub DLLs in $WXC_WINE_CACHE/exe-<digest>/.
real=""
for sdk in 0.7.0 0.9.0; do
  copy=$WXC_WINE_CACHE/exe-$(sha256sum "${exe[$sdk]}" | cut -c1-16)/wxc-exec.exe
  real+="${real:+;}$sdk=Z:$(printf '%s' "$copy" | tr / '\\')"
done
if CORDON_REAL_WXC_EXECS=$real wine "$test_exe" -tc='the real wxc-exec*' >"$work/real.log" 2>&1; then
  passed=$((passed + 1)); echo "ok    real wxc-exec 0.7.0 and 0.9.0 verified, launched through the backend, failed closed"
else
  failed=$((failed + 1)); echo "FAIL  real wxc-exec launched through the backend"; sed 's/^/      /' "$work/real.log" | tail -n 40
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

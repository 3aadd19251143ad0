#!/usr/bin/env bash
# Microsoft's Windows parser as the judge: every config the processcontainer tests handed to
# wxc-exec (EMITTED_DIR/*.json) and the Windows-style reference corpus files go through the real
# wxc-exec.exe of SDK 0.7.0, 0.9.0 and 1.0.1 (--dry-run under wine, ../shared/tools/wine-wxc/wxc-dry-run)
# and through cordon's own validate() (cordon-verdict.exe, under wine). Then the real executors,
# verified against their pins, are launched through the backend (processcontainer_test.exe's
# "the real wxc-exec.exe" case): wine cannot host AppContainer, so they must fail closed.
#   wxc_conformance.sh EMITTED_DIR CORDON_VERDICT_EXE PROCESSCONTAINER_TEST_EXE
# Agreement:
#   * an emitted config (cordon emits 1.0.0 for SDK 1.0.1) must be accepted outright (exit 0) by
#     every executor whose SDK accepts its contract (pins.hpp), and 1.0.1 must be one of them; the
#     same config declared 0.9.0-alpha (a superset of 1.0.0, what cordon emits for SDK 0.9.0) must
#     be accepted by 0.9.0 and 1.0.1;
#   * a corpus file cordon calls valid must not be rejected by the parser ("Request error"); a
#     runner-level refusal (e.g. the dry run's probe of a UNC path that does not exist) is not a
#     parse verdict;
#   * a corpus file cordon calls invalid must be rejected; 0.7.0's parser ignores unknown nested
#     keys and accepts containments outside the enum, so there it must be rejected unless
#     ../shared/reference/mxc/corpus/parse-verdicts.tsv records lxc-exec 0.7.0 (the same parser)
#     accepting it too. corpus/ (0.6.0-alpha) is judged by 0.7.0 and 0.9.0, corpus-1.0.0/ by 1.0.1.
# Executors: $CORDON_WXC_EXEC_0_7_0 / _0_9_0 / _1_0_1, else the cache of
#   scripts/setup_sandbox.sh --platform win32 --sdk 0.7.0 --sdk 0.9.0 --sdk 1.0.1
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
corpus10=$shared/reference/mxc/corpus-1.0.0
[ -f "$dry_run" ] || skip "$dry_run is absent (../shared not checked out)"
[ -d "$corpus" ] && [ -d "$corpus10" ] || skip "$corpus or $corpus10 is absent"
command -v wine >/dev/null || skip "wine is not installed (scripts/install-deps.sh --windows)"

cache=${CORDON_MXC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cordon/mxc}
sdks=(0.7.0 0.9.0 1.0.1)
declare -A exe contracts
for sdk in "${sdks[@]}"; do
  var=CORDON_WXC_EXEC_${sdk//./_}
  exe[$sdk]=${!var:-$cache/$sdk/bin/x64/wxc-exec.exe}
  [ -f "${exe[$sdk]}" ] || need "wxc-exec.exe of SDK $sdk not found at ${exe[$sdk]}; run: scripts/setup_sandbox.sh --platform win32 --sdk 0.7.0 --sdk 0.9.0 --sdk 1.0.1"
  # the contracts its executors accept, as pins.hpp states them
  contracts[$sdk]=" $("$source_dir/scripts/setup_sandbox.sh" --list-pins | awk -F'\t' -v v="$sdk" '$1 == "release" && $2 == v {print $5}') "
done
accepts() { [[ "${contracts[$1]}" == *" $2 "* ]]; }  # accepts SDK CONTRACT
version_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("version",""))' "$1" 2>/dev/null; }

shopt -s nullglob
emitted=("$emitted_dir"/*.json)
[ ${#emitted[@]} -gt 0 ] || skip "no emitted configs in $emitted_dir: run the processcontainer-wine test first (meson test --suite processcontainer)"
windows_corpus=() windows_corpus10=()
for f in "$corpus"/*.json; do
  case "$(basename "$f")" in *windows*|*unc*|*extended_prefix*|*appcontainer*|*processcontainer*) windows_corpus+=("$f") ;; esac
done
for f in "$corpus10"/*.json; do
  case "$(basename "$f")" in *appcontainer*|*processcontainer*|*isolation_session*|*wslc*) windows_corpus10+=("$f") ;; esac
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

dry() {  # dry SDK FILE: the executor's parse verdict, with its output in $work/SDK.log
  local rc attempt
  for attempt in 1 2 3; do
    "$dry_run" "${exe[$1]}" "$2" >"$work/$1.log" 2>&1
    rc=$?
    # A failure without a single word is wine not starting the program, not a verdict: seen once
    # in a CI run (wxc-exec 0.9.0, rc 1, no output; the same config accepted on every rerun).
    [ "$rc" -ne 0 ] && [ ! -s "$work/$1.log" ] || break
  done
  echo "$(verdict "$rc" "$work/$1.log")(rc $rc)"
}

report() {  # report OK LINE SDK...
  local ok=$1 line=$2 sdk; shift 2
  if [ "$ok" -eq 1 ]; then passed=$((passed + 1)); echo "ok    $line"; return; fi
  failed=$((failed + 1)); echo "FAIL  $line"
  for sdk in "$@"; do [ -f "$work/$sdk.log" ] && sed "s/^/      [$sdk] /" "$work/$sdk.log" | head -n 12; done
  sed 's/^/      [cordon] /' "$work/cordon.log" | head -n 5
}

check_emitted() {  # check_emitted FILE [LABEL]: every SDK that accepts its contract accepts it outright
  local file=$1 name version cordon ok=1 line sdk v judged=""
  name=${2:-$(basename "$file" .json)}
  version=$(version_of "$file")
  if wine "$verdict_exe" "$file" >"$work/cordon.log" 2>&1; then cordon=valid; else cordon=invalid; fi
  line="emitted $name ($version): cordon=$cordon"
  [ "$cordon" = valid ] || ok=0
  accepts 1.0.1 "$version" || { ok=0; line+=" [not a contract wxc-exec 1.0.1 accepts]"; }
  for sdk in "${sdks[@]}"; do
    accepts "$sdk" "$version" || continue
    v=$(dry "$sdk" "$file"); judged+=" $sdk"
    line+=" wxc-$sdk=$v"
    [[ "$v" == accepted* ]] || ok=0
  done
  # shellcheck disable=SC2086
  report "$ok" "$line" $judged
}

check_corpus() {  # check_corpus FILE SDK...: cordon (as strictly as the last SDK) against each parser
  local file=$1 name cordon ok=1 line sdk v lax; shift
  name=$(basename "$file" .json)
  if wine "$verdict_exe" --sdk "${@: -1}" "$file" >"$work/cordon.log" 2>&1; then cordon=valid; else cordon=invalid; fi
  line="corpus $name: cordon=$cordon"
  for sdk in "$@"; do
    v=$(dry "$sdk" "$file")
    line+=" wxc-$sdk=$v"
    if [ "$cordon" = valid ]; then
      [[ "$v" != rejected* ]] || ok=0
    elif [[ "$v" != rejected* ]]; then
      lax=$(awk -F'\t' -v n="$name" '$1 == n {print $2}' "$corpus/parse-verdicts.tsv")
      if [ "$sdk" = 0.7.0 ] && [ "$lax" = accept ]; then line+="[lax 0.7.0 parser, as lxc-exec 0.7.0]"; else ok=0; fi
    fi
  done
  report "$ok" "$line" "$@"
}

for f in "${emitted[@]}"; do
  check_emitted "$f"
  # the same config for SDK 0.9.0: declared 0.9.0-alpha (1.0.0 is 0.9.0-alpha without its aliases)
  if [ "$(version_of "$f")" = 1.0.0 ]; then
    sed -E '0,/"version":"1\.0\.0"/s//"version":"0.9.0-alpha"/' "$f" > "$work/as-0.9.0-alpha.json"
    check_emitted "$work/as-0.9.0-alpha.json" "$(basename "$f" .json)@0.9.0-alpha"
  fi
done
for f in "${windows_corpus[@]}"; do check_corpus "$f" 0.7.0 0.9.0; done
for f in "${windows_corpus10[@]}"; do check_corpus "$f" 1.0.1; done
echo "wxc-exec conformance: ${#emitted[@]} emitted configs (each also as 0.9.0-alpha), ${#windows_corpus[@]} + ${#windows_corpus10[@]} corpus configs, through wxc-exec 0.7.0, 0.9.0 and 1.0.1"

# The dry runs left each executor next to its stub DLLs in $WXC_WINE_CACHE/exe-<digest>/.
real=""
for sdk in "${sdks[@]}"; do
  copy=$WXC_WINE_CACHE/exe-$(sha256sum "${exe[$sdk]}" | cut -c1-16)/wxc-exec.exe
  real+="${real:+;}$sdk=Z:$(printf '%s' "$copy" | tr / '\\')"
done
if CORDON_REAL_WXC_EXECS=$real wine "$test_exe" -tc='the real wxc-exec*' >"$work/real.log" 2>&1; then
  passed=$((passed + 1)); echo "ok    real wxc-exec 0.7.0, 0.9.0 and 1.0.1 verified, launched through the backend, failed closed"
else
  failed=$((failed + 1)); echo "FAIL  real wxc-exec launched through the backend"; sed 's/^/      /' "$work/real.log" | tail -n 40
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

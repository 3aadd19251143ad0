#!/usr/bin/env bash
# Installs the pinned, verified MXC executor(s) into cordon's cache and tells you MXC_BIN_DIR (Linux, macOS).
#
#   scripts/setup_sandbox.sh                       SDK 1.0.1 (cordon's default) for this OS and CPU
#   eval "$(scripts/setup_sandbox.sh --print-env)" the same, then export MXC_BIN_DIR in this shell
#   scripts/setup_sandbox.sh --sdk 0.9.0           the previous SDK (contracts 0.6.0-alpha to 0.9.0-alpha)
#   scripts/setup_sandbox.sh --sdk 0.9.0 --sdk 1.0.1 --platform win32   wxc-exec.exe for wine tests
#
# Options: --sdk VERSION (repeatable; default: cordon's default_sdk_version), --platform
# linux|win32|darwin (repeatable; default: this OS), --arch x64|arm64 (repeatable; default: this
# CPU), --strict (fail with exit 1 instead of printing what to do and exiting 0), --print-env
# (stdout is only `export MXC_BIN_DIR=...`, for eval), --list-pins (print the pin rows this script
# reads and exit), --help.
#
# The pins are read from include/cordon/pins.hpp, the one place they are written down. Each SDK is
# fetched with `npm pack` into a private temporary folder, the tarball and every executor are
# checked against their pinned SHA-256 and size *before* anything is moved into
#   ${CORDON_MXC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cordon/mxc}/<sdk>/bin/<arch>/<executor>
# (the npm package's own layout, so MXC_BIN_DIR=<cache>/<sdk>/bin). Files already in place are
# re-hashed and kept when they match: a second run does no network work. On Linux it also makes
# sure bubblewrap (bwrap), which lxc-exec runs, is installed.
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
pins_header="$here/../include/cordon/pins.hpp"
caps_header="$here/../include/cordon/capabilities.hpp"
cache_root=${CORDON_MXC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cordon/mxc}

strict=0
print_env=0
list_pins=0
sdks=()
platforms=()
arches=()

log() { printf 'setup_sandbox: %s\n' "$*" >&2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

# A failure: say what to do; exit 1 only with --strict (the script is safe to run in any setup step).
fail() {
  log "ERROR: $*"
  if [ "$strict" -eq 1 ]; then exit 1; fi
  log "continuing without a verified executor (cordon will report 'unavailable'); rerun with --strict to make this fatal"
  exit 0
}

while [ $# -gt 0 ]; do
  case "$1" in
    --sdk) [ $# -ge 2 ] || { log "--sdk needs a VERSION"; exit 2; }; sdks+=("$2"); shift 2 ;;
    --sdk=*) sdks+=("${1#--sdk=}"); shift ;;
    --platform) [ $# -ge 2 ] || { log "--platform needs linux|win32|darwin"; exit 2; }; platforms+=("$2"); shift 2 ;;
    --platform=*) platforms+=("${1#--platform=}"); shift ;;
    --arch) [ $# -ge 2 ] || { log "--arch needs x64|arm64"; exit 2; }; arches+=("$2"); shift 2 ;;
    --arch=*) arches+=("${1#--arch=}"); shift ;;
    --strict) strict=1; shift ;;
    --print-env) print_env=1; shift ;;
    --list-pins) list_pins=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) log "unknown option '$1' (try --help)"; exit 2 ;;
  esac
done

[ -r "$pins_header" ] || fail "cannot read the pin manifest $pins_header (run this script from a cordon source tree)"

# --- the pin manifest, parsed from the header's rows (format guarded by tests/executor_test.cpp) ---
executor_rows=$(sed -nE 's/^[[:space:]]*\{"([0-9][^"]*)", "(linux|win32|darwin)", Arch::(x64|arm64), "([^"]+)", "([0-9a-f]{64})", ([0-9]+)\},[[:space:]]*$/executor\t\1\t\2\t\3\t\4\t\5\t\6/p' "$pins_header")
release_rows=$(sed -nE 's/^[[:space:]]*\{"([0-9][^"]*)", "([0-9a-f]*)", ([0-9]+), "([^"]*)"\},[[:space:]]*$/release\t\1\t\2\t\3\t\4/p' "$pins_header")
if [ "$list_pins" -eq 1 ]; then
  printf '%s\n' "$release_rows" "$executor_rows"
  exit 0
fi
[ -n "$executor_rows" ] && [ -n "$release_rows" ] || fail "no pin rows found in $pins_header"

default_sdk=$(sed -nE 's/.*default_sdk_version = "([^"]+)".*/\1/p' "$caps_header" 2>/dev/null | head -n1)
[ ${#sdks[@]} -gt 0 ] || sdks=("${default_sdk:-1.0.1}")

host_os() {
  case "$(uname -s)" in
    Linux) echo linux ;;
    Darwin) echo darwin ;;
    MINGW*|MSYS*|CYGWIN*) echo win32 ;;
    *) echo unknown ;;
  esac
}
normalize_arch() {  # the same spellings as cordon::normalize_arch
  case "$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" in
    x64|amd64|x86_64) echo x64 ;;
    arm64|aarch64) echo arm64 ;;
    *) echo "" ;;
  esac
}
[ ${#platforms[@]} -gt 0 ] || platforms=("$(host_os)")
if [ ${#arches[@]} -eq 0 ]; then
  a=$(normalize_arch "$(uname -m)")
  [ -n "$a" ] || fail "no MXC executor is published for CPU architecture '$(uname -m)' (only x64 and arm64)"
  arches=("$a")
else
  for i in "${!arches[@]}"; do
    a=$(normalize_arch "${arches[$i]}")
    [ -n "$a" ] || { log "unknown --arch '${arches[$i]}' (x64 or arm64)"; exit 2; }
    arches[$i]=$a
  done
fi
for p in "${platforms[@]}"; do
  case "$p" in linux|win32|darwin) ;; *) log "unknown --platform '$p' (linux, win32 or darwin)"; exit 2 ;; esac
done

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}
size_of() { wc -c < "$1" | tr -d ' '; }
# matches FILE SHA256 SIZE: the file's digest and size are the pinned ones
matches() { [ -f "$1" ] && [ "$(size_of "$1")" = "$3" ] && [ "$(sha256_of "$1")" = "$2" ]; }

# --- which files are wanted, and which are not yet in place ---
wanted=()   # rows: sdk \t arch \t file \t sha256 \t size
for sdk in "${sdks[@]}"; do
  release=$(printf '%s\n' "$release_rows" | awk -F'\t' -v v="$sdk" '$2 == v')
  [ -n "$release" ] || fail "SDK version '$sdk' is not pinned in include/cordon/pins.hpp (pinned: $(printf '%s\n' "$release_rows" | awk -F'\t' '$3 != "" {printf "%s ", $2}'))"
  [ -n "$(printf '%s' "$release" | cut -f3)" ] || fail "SDK $sdk is recorded but not installable: its executors accept none of cordon's config contracts"
  for p in "${platforms[@]}"; do
    for a in "${arches[@]}"; do
      row=$(printf '%s\n' "$executor_rows" | awk -F'\t' -v v="$sdk" -v o="$p" -v a="$a" '$2 == v && $3 == o && $4 == a')
      if [ -z "$row" ]; then
        fail "cordon pins no $p/$a executor of SDK $sdk (the package ships none)"
      fi
      wanted+=("$(printf '%s' "$row" | cut -f2,4,5,6,7)")
    done
  done
done

missing_sdks=()
for w in "${wanted[@]}"; do
  IFS=$'\t' read -r sdk a file sha size <<< "$w"
  dest="$cache_root/$sdk/bin/$a/$file"
  if matches "$dest" "$sha" "$size"; then
    log "ok: $dest (SDK $sdk, sha256 $sha)"
  else
    [ -e "$dest" ] && log "replacing $dest: it does not match the pinned sha256 $sha"
    [[ " ${missing_sdks[*]-} " == *" $sdk "* ]] || missing_sdks+=("$sdk")
  fi
done

# --- fetch, verify, then move into place (only what is missing) ---
if [ ${#missing_sdks[@]} -gt 0 ]; then
  command -v npm >/dev/null 2>&1 || fail "npm is not installed: install Node.js and npm (Debian: 'apt-get install nodejs npm'), then rerun $0"
  work=$(mktemp -d "${TMPDIR:-/tmp}/cordon-setup.XXXXXX")
  chmod 700 "$work"
  trap 'rm -rf "$work"' EXIT
  for sdk in "${missing_sdks[@]}"; do
    IFS=$'\t' read -r _ _ tgz_sha tgz_size _ <<< "$(printf '%s\n' "$release_rows" | awk -F'\t' -v v="$sdk" '$2 == v')"
    log "fetching @microsoft/mxc-sdk@$sdk with npm pack"
    mkdir -p "$work/$sdk"
    if ! (cd "$work/$sdk" && npm pack "@microsoft/mxc-sdk@$sdk" --silent >/dev/null 2>"$work/$sdk.npm.log"); then
      sed 's/^/  npm: /' "$work/$sdk.npm.log" >&2 || true
      fail "npm pack @microsoft/mxc-sdk@$sdk failed (network or registry problem?); fix it and rerun $0"
    fi
    tgz="$work/$sdk/microsoft-mxc-sdk-$sdk.tgz"
    [ -f "$tgz" ] || fail "npm pack produced no $tgz"
    matches "$tgz" "$tgz_sha" "$tgz_size" ||
      fail "the downloaded package does not match its pin: sha256 $(sha256_of "$tgz") (expected $tgz_sha), $(size_of "$tgz") bytes (expected $tgz_size); refusing it"
    for w in "${wanted[@]}"; do
      IFS=$'\t' read -r wsdk a file sha size <<< "$w"
      [ "$wsdk" = "$sdk" ] || continue
      member="package/bin/$a/$file"
      tar -xzf "$tgz" -C "$work/$sdk" "$member" 2>/dev/null || fail "the SDK $sdk package has no $member"
      got="$work/$sdk/$member"
      # The check that matters: the executor's own digest, before it goes anywhere it could be run from.
      matches "$got" "$sha" "$size" ||
        fail "$member of SDK $sdk does not match its pin: sha256 $(sha256_of "$got") (expected $sha); refusing it"
      dest_dir="$cache_root/$sdk/bin/$a"
      mkdir -p "$dest_dir"
      staged="$dest_dir/.$file.$$.tmp"
      cp "$got" "$staged"
      chmod 0755 "$staged"
      matches "$staged" "$sha" "$size" || { rm -f "$staged"; fail "copy of $file into $dest_dir was altered"; }
      mv -f "$staged" "$dest_dir/$file"  # atomic: readers see the old file or the verified new one
      log "installed: $dest_dir/$file (SDK $sdk, sha256 $sha)"
    done
  done
fi

# --- lxc-exec runs bubblewrap; make sure it is there (Linux hosts only) ---
if [ "$(host_os)" = linux ] && ! command -v bwrap >/dev/null 2>&1; then
  log "installing bubblewrap (lxc-exec runs bwrap)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! command -v apt-get >/dev/null 2>&1 ||
     ! { DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null 2>&1 ||
         { $sudo apt-get update -qq >/dev/null 2>&1 &&
           DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null 2>&1; }; }; then
    fail "bubblewrap is not installed and could not be installed; install the 'bubblewrap' package with your package manager"
  fi
fi

bin_dir="$cache_root/${sdks[0]}/bin"  # MXC_BIN_DIR: the first SDK named (the default one when none is)
if [ "$print_env" -eq 1 ]; then
  printf 'export MXC_BIN_DIR=%q\n' "$bin_dir"
else
  log "done. Executors verified under $cache_root; to use SDK ${sdks[0]}:"
  printf 'export MXC_BIN_DIR=%q\n' "$bin_dir"
fi

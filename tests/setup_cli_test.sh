#!/usr/bin/env bash
# shellcheck disable=SC2015  # pass/fail always succeed, so A && pass || fail is exact
# `cordon setup` and the cache in the executor resolution, through real processes: it verifies
# before it places anything, does no network work the second time, refuses a tampered package; in a
# new shell (no MXC_BIN_DIR) verify, probe and run find what it placed, and the pin check still
# applies to it. Exit 77 (skip) when npm cannot fetch the package at all, with the reason.
set -uo pipefail
exe=${CORDON_EXE:?run through meson test}
src=${CORDON_SOURCE_DIR:?run through meson test}
work=$(mktemp -d "${TMPDIR:-/tmp}/cordon-setup-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

arch=$(uname -m); case "$arch" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; esac
sdk=$(sed -nE 's/.*default_sdk_version = "([^"]+)".*/\1/p' "$src/include/cordon/capabilities.hpp")
read -r want_sha want_size <<< "$("$src/scripts/setup_sandbox.sh" --list-pins |
  awk -F'\t' -v v="$sdk" -v a="$arch" '$1 == "executor" && $2 == v && $3 == "linux" && $4 == a {print $6, $7}')"
[ -n "$want_sha" ] || { echo "SKIP: no linux/$arch pin for SDK $sdk"; exit 77; }

# A shell without MXC_BIN_DIR: what a user has after `cordon setup` in a new terminal.
fresh() { env -u MXC_BIN_DIR -u XDG_CACHE_HOME "$@"; }
# An npm that records every call and fails: proof that a run did no network work.
mkdir -p "$work/fakebin"
printf '#!/bin/sh\necho "npm $*" >> "$NPM_CALLS"\nexit 42\n' > "$work/fakebin/npm"
chmod +x "$work/fakebin/npm"
export NPM_CALLS="$work/npm-calls"
offline() { PATH="$work/fakebin:$PATH" "$@"; }

# --- usage errors exit 2
for bad in "--platform beos" "--arch i686" "--bogus" "--sdk" "stray"; do
  # shellcheck disable=SC2086
  out=$(CORDON_MXC_CACHE="$work/c0" "$exe" setup $bad 2>&1); rc=$?
  [ "$rc" -eq 2 ] && [[ "$out" == *"Try 'cordon setup --help'"* ]] && pass "usage error '$bad' exits 2" || fail "usage '$bad': rc=$rc $out"
done

# --- SDKs that are not installable: exit 1, nothing created
out=$(CORDON_MXC_CACHE="$work/c1" "$exe" setup --sdk 0.0.1 2>&1); rc=$?
[ "$rc" -eq 1 ] && [[ "$out" == *"'0.0.1' is not pinned"* ]] && pass "unpinned SDK exits 1" || fail "unpinned SDK: rc=$rc $out"
out=$(CORDON_MXC_CACHE="$work/c1" "$exe" setup --platform darwin --arch x64 2>&1); rc=$?
[ "$rc" -eq 1 ] && [[ "$out" == *"pins no darwin/x64 executor"* ]] && pass "an executor the package does not ship exits 1" || fail "darwin/x64: rc=$rc $out"
[ ! -e "$work/c1" ] && pass "nothing created for a refused SDK" || fail "cache created for a refused SDK"

# --- npm failing (no network) or missing: exit 1 saying what to do; nothing installed
out=$(CORDON_MXC_CACHE="$work/c2" offline "$exe" setup 2>&1); rc=$?
[ "$rc" -eq 1 ] && [[ "$out" == *"npm pack @microsoft/mxc-sdk@$sdk failed"* ]] && pass "npm failure exits 1" || fail "npm failure: rc=$rc $out"
mkdir -p "$work/nonpm"
ln -s "$(command -v tar)" "$work/nonpm/tar"
out=$(CORDON_MXC_CACHE="$work/c2" PATH="$work/nonpm" "$exe" setup 2>&1); rc=$?
[ "$rc" -eq 1 ] && [[ "$out" == *"npm is not installed"* ]] && pass "missing npm exits 1" || fail "missing npm: rc=$rc $out"
[ -z "$(find "$work/c2" -type f 2>/dev/null)" ] && pass "nothing installed after npm failed" || fail "files installed after npm failed"

# --- a package whose bytes differ from the pin is refused before anything is placed
mkdir -p "$work/evil/package/bin/$arch"
cp /bin/true "$work/evil/package/bin/$arch/lxc-exec"
tar -czf "$work/evil.tgz" -C "$work/evil" package
printf '#!/bin/sh\necho "npm $*" >> "$NPM_CALLS"\ncp "%s" "./microsoft-mxc-sdk-%s.tgz"\n' "$work/evil.tgz" "$sdk" > "$work/fakebin/npm"
out=$(CORDON_MXC_CACHE="$work/c3" offline "$exe" setup 2>&1); rc=$?
[ "$rc" -eq 1 ] && [[ "$out" == *"does not match its pin"* ]] && pass "tampered package refused" || fail "tampered package: rc=$rc $out"
[ -z "$(find "$work/c3" -type f 2>/dev/null)" ] && pass "nothing placed from a tampered package" || fail "tampered package placed files"
printf '#!/bin/sh\necho "npm $*" >> "$NPM_CALLS"\nexit 42\n' > "$work/fakebin/npm"

# --- the real package into a fresh cache (real npm; its own cache may serve the tarball)
cache="$work/cache"
out=$(CORDON_MXC_CACHE="$cache" "$exe" setup 2>&1); rc=$?
if [ "$rc" -ne 0 ]; then
  if [[ "$out" == *"npm pack"*"failed"* ]] || [[ "$out" == *"npm is not installed"* ]]; then
    echo "SKIP: npm cannot fetch @microsoft/mxc-sdk@$sdk here, so the real install is not tested:"
    echo "$out"
    exit 77
  fi
  fail "first run: rc=$rc $out"
fi
placed="$cache/$sdk/bin/$arch/lxc-exec"
[[ "$out" == *"installed: $placed (SDK $sdk, sha256 $want_sha)"* ]] && pass "first run says what it installed" || fail "first run said: $out"
[ "$(sha256sum "$placed" | cut -d' ' -f1)" = "$want_sha" ] && [ "$(wc -c < "$placed")" -eq "$want_size" ] &&
  pass "the placed lxc-exec is the pinned one" || fail "placed file does not match the pin"
[ "$(stat -c %a "$placed")" = 755 ] && pass "placed 0755" || fail "mode $(stat -c %a "$placed")"
[ -z "$(find "$cache" -name '.*.tmp')" ] && pass "no staging leftovers" || fail "staging files left behind"

# --- second run: no npm call, file untouched; --print-env prints only the export line
: > "$NPM_CALLS"
before=$(stat -c '%i %Y' "$placed")
out=$(CORDON_MXC_CACHE="$cache" offline "$exe" setup 2>&1); rc=$?
[ "$rc" -eq 0 ] && [[ "$out" == *"ok: $placed"* ]] && pass "second run: ok" || fail "second run: rc=$rc $out"
[ ! -s "$NPM_CALLS" ] && pass "second run did not call npm" || fail "second run called npm: $(cat "$NPM_CALLS")"
[ "$(stat -c '%i %Y' "$placed")" = "$before" ] && pass "second run left the file alone" || fail "second run rewrote the file"
out=$(CORDON_MXC_CACHE="$cache" offline "$exe" setup --print-env 2>/dev/null)
[ "$out" = "export MXC_BIN_DIR='$cache/$sdk/bin'" ] && pass "--print-env" || fail "--print-env printed '$out'"

# --- a new shell: no MXC_BIN_DIR, the cache named by CORDON_MXC_CACHE, or found under HOME
out=$(CORDON_MXC_CACHE="$cache" fresh "$exe" verify 2>&1); rc=$?
[ "$rc" -eq 0 ] && [[ "$out" == *"found: cordon's cache"* ]] && [[ "$out" == *"trusted"* ]] &&
  pass "verify finds the cache without MXC_BIN_DIR" || fail "verify in a new shell: rc=$rc $out"
mkdir -p "$work/home/.cache/cordon"
cp -a "$cache" "$work/home/.cache/cordon/mxc"
out=$(HOME="$work/home" fresh -u CORDON_MXC_CACHE "$exe" probe 2>&1); rc=$?
[ "$rc" -eq 0 ] && [[ "$out" == *"executor: $work/home/.cache/cordon/mxc/$sdk/bin/$arch/lxc-exec"* ]] &&
  pass "probe finds ~/.cache/cordon/mxc" || fail "probe under HOME: rc=$rc $out"
ceiling=(CORDON_READONLY_PATHS=/usr)  # as root the sandbox runs as nobody, who can read /usr
out=$(CORDON_MXC_CACHE="$cache" fresh "${ceiling[@]}" "$exe" run -- echo ran-from-the-cache 2>&1); rc=$?
[ "$rc" -eq 0 ] && [ "$out" = "ran-from-the-cache" ] && pass "run uses the cached executor" || fail "run from the cache: rc=$rc $out"

# --- the pin check still applies to what the cache holds
printf 'X' | dd of="$placed" bs=1 seek=1000 conv=notrunc 2>/dev/null
out=$(CORDON_MXC_CACHE="$cache" fresh "$exe" verify 2>&1); rc=$?
[ "$rc" -eq 1 ] && [[ "$out" == *"untrusted-executor"* ]] && pass "a tampered cached executor is untrusted" || fail "tampered cache verify: rc=$rc $out"
out=$(CORDON_MXC_CACHE="$cache" fresh "${ceiling[@]}" "$exe" run -- echo never 2>&1); rc=$?
[ "$rc" -eq 126 ] && [[ "$out" != *"never"* ]] && pass "run refuses a tampered cached executor (126)" || fail "tampered cache run: rc=$rc $out"
out=$(CORDON_MXC_CACHE="$cache" "$exe" setup 2>&1); rc=$?
[ "$rc" -eq 0 ] && [ "$(sha256sum "$placed" | cut -d' ' -f1)" = "$want_sha" ] &&
  pass "setup replaces a tampered cached executor with verified bytes" || fail "tampered cache not repaired: rc=$rc $out"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]

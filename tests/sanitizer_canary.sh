#!/usr/bin/env bash
# The sanitized build must still catch each bug class the suite relies on, at the optimisation
# level scripts/test.sh chose for it: runs each deliberate bug of sanitizer_canary and expects the
# sanitizer's own report (and a failing exit status), plus a clean control run.
#   tests/sanitizer_canary.sh CANARY
set -u
canary=$1
fail=0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=0

expect() {  # expect CASE N REPORT
  local out rc
  out=$("$canary" "$1" "$2" 2>&1); rc=$?
  if [ "$rc" -ne 0 ] && grep -qF -- "$3" <<<"$out"; then
    echo "ok: $1 reported ($3)"
  else
    echo "MISSED: $1 (exit $rc) did not report '$3':"; echo "$out" | head -n 5; fail=1
  fi
}

# control: an unknown case runs no bug and exits 64 without any report
out=$("$canary" none 1 2>&1); rc=$?
if [ "$rc" -eq 64 ] && [ -z "$out" ]; then echo "ok: control run is clean"; else echo "control run: exit $rc, '$out'"; fail=1; fi

expect heap-buffer-overflow 24 "AddressSanitizer: heap-buffer-overflow"
expect heap-use-after-free 4 "AddressSanitizer: heap-use-after-free"
expect stack-buffer-overflow 16 "AddressSanitizer: stack-buffer-overflow"
expect signed-integer-overflow 1 "runtime error: signed integer overflow"
expect misaligned 1 "runtime error: load of misaligned address"
expect leak 3 "LeakSanitizer: detected memory leaks"
exit "$fail"

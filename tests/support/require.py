"""Missing prerequisites in the Python integration tests: a skip with its reason printed (the whole
test exits 77, Meson's SKIP), except under CORDON_REQUIRE_EXECUTOR=1 (CI), where it is a failure,
since a skipped network test would otherwise pass there unnoticed."""
import os
import sys

SKIP = 77


def required():
    return os.environ.get("CORDON_REQUIRE_EXECUTOR") == "1"


def skip(why):
    """Ends the whole test: exit 77, or exit 1 when prerequisites are required."""
    if required():
        print(f"FAIL: missing: {why} (CORDON_REQUIRE_EXECUTOR=1: a failure, not a skip)", flush=True)
        sys.exit(1)
    print(f"SKIP: {why}", flush=True)
    sys.exit(SKIP)


def missing(case, why, check):
    """One case cannot run (a client such as pip or git is missing): printed as skipped, or a
    failed check(name, ok, detail) when prerequisites are required."""
    if required():
        check(f"{case}: {why}", False, "CORDON_REQUIRE_EXECUTOR=1: a missing client is a failure, not a skip")
    else:
        print(f"SKIP {case}: {why}", flush=True)

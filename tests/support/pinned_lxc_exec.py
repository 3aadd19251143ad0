"""lxc-exec 1.0.1 for the network tests that run it directly: found, checked against the pin in the
reference data, and the tools it needs present on the trusted PATH. skip(why) ends the test as
skipped (exit 77); a binary that does not match its pin fails the test instead."""
import hashlib
import os
import shutil
import sys


def find_lxc_exec_1_0(tools, trusted_path, skip, install_hint):
    path = os.environ.get("CORDON_LXC_EXEC_1_0") or os.path.join(
        os.environ.get("CORDON_MXC_CACHE", os.path.expanduser("~/.cache/cordon/mxc")), "1.0.1", "bin", "x64", "lxc-exec")
    if not os.path.isfile(path):
        skip(f"lxc-exec 1.0.1 not found at {path} ({install_hint})")
    here = os.path.dirname(os.path.abspath(__file__))
    shared = os.environ.get("CORDON_SHARED_DIR", os.path.join(here, "..", "..", "..", "shared"))
    pins = os.path.join(shared, "reference", "mxc", "pins.tsv")
    if not os.path.isfile(pins):
        skip(f"no pins to verify lxc-exec against ({pins})")
    with open(pins) as f:
        want = [line.split("\t")[3] for line in f if line.startswith("1.0.1\tx64\tlxc-exec\t")]
    with open(path, "rb") as f:
        got = hashlib.sha256(f.read()).hexdigest()
    if not want or got != want[0]:
        print(f"FAIL lxc-exec at {path} has SHA-256 {got}, not the pinned {want}")
        sys.exit(1)
    for tool in tools:
        if not shutil.which(tool, path=trusted_path):
            skip(f"{tool} is not installed (scripts/install-deps.sh installs the network tools)")
    return path

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# What `cordon run --domain` adds to start-up: `cordon run -- true` with the network closed vs with one
# granted domain (cordon-proxy + slirp4netns + iptables), and a curl through the proxy, interleaved,
# in the proxy lab of tests/proxy (as root; the sandbox runs as the test user). A benchmark, never a test.
"""Usage: run_domains_startup.py CORDON CORDON_PROXY [ROUNDS]   (as root; prints medians in ms)"""
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "proxy"))
import domains_run_test as t  # noqa: E402  (the lab, the Suite that runs cordon, the test user)


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__)
        return 2
    cordon, proxy = (os.path.abspath(p) for p in sys.argv[1:3])
    rounds = int(sys.argv[3]) if len(sys.argv) == 4 else 5
    t.lab_kit.enter_private_netns()
    lxc = t.pinned_lxc_exec.find_lxc_exec_1_0(("slirp4netns", "iptables", "iptables-restore", "ip6tables-restore", "bwrap"),
                                             t.TRUSTED_PATH, t.lab_kit.skip, "scripts/setup_sandbox.sh installs it")
    t.test_user()
    root = tempfile.mkdtemp(prefix="cordon-domains-bench-")
    os.chmod(root, 0o755)
    lab = t.lab_kit.Lab(root)
    try:
        t.usable_tun(root)
        lab.network()
        lab.content()
        lab.certificate()
        lab.start_servers()
        os.chmod(lab.cert, 0o644)
        suite = t.Suite(cordon, proxy, lxc, lab, root)
        cases = (("closed network", [], "true"), ("--domain web.test", ["--domain", "web.test"], "true"),
                 ("--domain web.test + curl", ["--domain", "web.test"], "curl -sS -o /dev/null http://web.test/hello.txt"))
        times = {name: [] for name, _, _ in cases}
        for _ in range(rounds):
            for name, args, script in cases:
                start = time.monotonic()
                r, res, _ = suite.run("root", ["web.test"], args, script)
                times[name].append((time.monotonic() - start) * 1000)
                if res.get("exit_code") != 0:
                    raise RuntimeError(f"{name}: {r.stdout[-400:]} {r.stderr[-400:]}")
        for name, ms in times.items():
            print(f"{name}: median {statistics.median(ms):.0f} ms ({', '.join(f'{x:.0f}' for x in ms)})")
    finally:
        lab.close()
        for mounted in ("/dev/net/tun", os.path.join(root, "dev")):
            t.subprocess.run(["umount", mounted], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

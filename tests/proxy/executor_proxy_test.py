#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The proxy behind the real MXC 1.0 executor: lxc-exec 1.0.1 + bubblewrap with runtimeConfig.networkProxy
# and egress deny; the workload reaches granted names through cordon-proxy and nothing past it.
"""Usage: executor_proxy_test.py CORDON_PROXY

Runs in the same private network lab as real_clients_test.py. The sandbox's workload is curl; the
MXC config is the one the runner is to emit for granted domains:

  {"version": "1.0.0", "containment": "bubblewrap", "process": {...},
   "network": {"egress": {"default": "deny"}, "ingress": {"default": "deny"}},
   "runtimeConfig": {"networkProxy": "http://127.0.0.1:PORT"}}

One run's traffic cannot use another run's grants: with a second proxy granting other.test, the
sandbox bound to the first cannot reach it (the lab's log shows nothing), while the second run's
own sandbox fetches other.test through it (the control).

lxc-exec 1.0.1 comes from $CORDON_LXC_EXEC_1_0 or the cordon MXC cache
(~/.cache/cordon/mxc/1.0.1/bin/x64/lxc-exec) and must match the pin in
../shared/reference/mxc/pins.tsv. Exits 77 without it, without slirp4netns/iptables, or without
what the lab needs; exits 1 instead under CORDON_REQUIRE_EXECUTOR=1.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pinned_lxc_exec  # noqa: E402
import real_clients_test as lab_kit  # noqa: E402  (the lab, its servers and the proxy runner)

# lxc-exec resolves its tools through PATH; run it with a fixed one (mxc-1.0.md §9.4).
TRUSTED_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def find_executor():
    return pinned_lxc_exec.find_lxc_exec_1_0(("slirp4netns", "iptables", "iptables-restore", "ip6tables-restore", "bwrap"), TRUSTED_PATH, lab_kit.skip, "npm pack @microsoft/mxc-sdk@1.0.1; see the docstring")


def sandbox(lxc, root, proxy_port, command):
    config = {"version": "1.0.0", "containment": "bubblewrap",
              "process": {"commandLine": command, "timeout": 30000},
              "filesystem": {"readonlyPaths": [root]},
              "network": {"egress": {"default": "deny"}, "ingress": {"default": "deny"}},
              "runtimeConfig": {"networkProxy": f"http://127.0.0.1:{proxy_port}"}}
    path = os.path.join(root, "mxc.json")
    with open(path, "w") as f:
        json.dump(config, f)
    return subprocess.run([lxc, "--config", path], capture_output=True, text=True, timeout=90, env={"PATH": TRUSTED_PATH})


def cross_run_case(lxc, root, lab, exe, port):
    """A second run's proxy (B, granting other.test) beside this run's (A, web.test): a sandbox bound
    to A cannot use B's grant, since its firewall opens A's port only."""
    check = lab_kit.check
    other = lab_kit.Proxy(exe, root, "mxc-other", ["other.test"])
    other_port = other.url.rsplit(":", 1)[1]
    before = len(lab.requests())
    r = sandbox(lxc, root, port, f"curl -sS -m 4 -x http://10.0.2.2:{other_port} http://other.test/hello.txt?cross; echo rc=$?")
    check("a sandbox bound to one run's proxy cannot reach another run's proxy, and through it nothing",
          "rc=0" not in r.stdout and "rc=" in r.stdout and lab.requests()[before:] == [], r.stdout + r.stderr)
    r = sandbox(lxc, root, other_port, "curl -sS http://other.test/hello.txt?own")
    seen = lab.requests()[before:]
    decisions = other.stop()
    check("control: the other run's sandbox fetches its own domain through its own proxy",
          r.stdout == "hello through cordon\n" and seen == ["203.0.113.9:80 GET /hello.txt?own"], r.stdout + r.stderr + str(seen))
    check("the other run's proxy recorded only its own sandbox's request",
          [(d["host"], d["allowed"]) for d in decisions] == [("other.test", True)], json.dumps(decisions))


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    exe = os.path.abspath(sys.argv[1])
    lab_kit.enter_private_netns()
    lxc = find_executor()
    check = lab_kit.check
    root = tempfile.mkdtemp(prefix="cordon-proxy-mxc-")
    os.chmod(root, 0o755)
    lab = lab_kit.Lab(root)
    try:
        lab.network()
        lab.content()
        lab.certificate()
        lab.start_servers()
        os.chmod(lab.cert, 0o644)
        with open(os.path.join(root, "hosts"), "w") as f:
            f.write("198.51.100.7 web.test\n203.0.113.9 other.test\n")
        os.chmod(os.path.join(root, "hosts"), 0o644)
        loop = lab_kit.LoopbackServer(root)
        lab.procs.append(loop.proc)
        proxy = lab_kit.Proxy(exe, root, "mxc", ["web.test"])
        port = proxy.url.rsplit(":", 1)[1]

        r = sandbox(lxc, root, port, "env")
        check("the executor points the workload's proxy variables at the proxy (via slirp's 10.0.2.2)",
              f"HTTPS_PROXY=http://10.0.2.2:{port}/" in r.stdout and f"http_proxy=http://10.0.2.2:{port}/" in r.stdout,
              r.stdout + r.stderr)
        r = sandbox(lxc, root, port, "curl -sS http://web.test/hello.txt")
        check("sandboxed curl reaches a granted name over plain HTTP", r.stdout == "hello through cordon\n", r.stderr)
        r = sandbox(lxc, root, port, f"curl -sS --cacert {lab.cert} https://web.test/hello.txt")
        check("sandboxed curl reaches a granted name over HTTPS (CONNECT)", r.stdout == "hello through cordon\n", r.stderr)
        r = sandbox(lxc, root, port, "curl -sS -w ' %{http_code}' http://other.test/hello.txt")
        check("sandboxed curl gets cordon's 403 for an ungranted name",
              r.stdout.endswith(" 403") and "cordon proxy: GET other.test:80 denied" in r.stdout, r.stdout + r.stderr)
        before = len(lab.requests())
        r = sandbox(lxc, root, port, "curl -sS -m 4 --noproxy '*' http://198.51.100.7/hello.txt; echo rc=$?")
        check("a workload that ignores the proxy variables reaches nothing (the executor's firewall)",
              "rc=0" not in r.stdout and len(lab.requests()) == before, r.stdout + r.stderr)
        r = sandbox(lxc, root, port, f"curl -sS -m 4 --noproxy '*' http://10.0.2.2:{loop.port}/; echo rc=$?")
        check("only the proxy's port is open on the host: another host-loopback service is not reachable",
              "rc=0" not in r.stdout and not loop.hits(), r.stdout + r.stderr)
        cross_run_case(lxc, root, lab, exe, port)
        decisions = proxy.stop()
        hosts = [(d["method"], d["host"], d["allowed"]) for d in decisions]
        check("the proxy recorded the sandbox's requests",
              ("GET", "web.test", True) in hosts and ("CONNECT", "web.test", True) in hosts and ("GET", "other.test", False) in hosts,
              json.dumps(decisions))
    finally:
        lab.close()
        shutil.rmtree(root, ignore_errors=True)
    print(f"{len(lab_kit.failures)} failed" if lab_kit.failures else "all passed")
    return 1 if lab_kit.failures else 0


if __name__ == "__main__":
    sys.exit(main())

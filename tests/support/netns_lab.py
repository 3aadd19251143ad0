# SPDX-License-Identifier: MIT
"""What the Python network labs share (tests/egress/lab.py, tests/proxy/real_clients_test.py), kept
in one place so both set up the same way: PASS/FAIL checks, commands, re-running the test in a
private network and mount namespace, and a second (server) namespace joined to it by a veth pair.
Each lab adds only its own interface names, addresses, routes and servers.

  this namespace (unshare -n -m; the test and what it runs)   veth HOST_IF: HOST_ADDRESSES
  server namespace (unshare -n, held by a sleeping process)    veth SERVER_IF: SERVER_ADDRESSES,
                                                               default route
Neither namespace has a route to anything outside, so the machine's network is never touched.
"""
import os
import shutil
import subprocess
import sys
import time

import require  # noqa: E402  (skip, or fail under CORDON_REQUIRE_EXECUTOR=1)

skip = require.skip
failures = []  # the names of the checks that failed, for the test's exit status


def check(name, ok, detail=""):
    """One PASS or FAIL line (flushed, so it stays in order with the output of what the test runs)."""
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f"\n     {detail}"), flush=True)
    if not ok:
        failures.append(name)


def run(cmd, **kw):
    """subprocess.run capturing text output, with a timeout so a hung client cannot hang the test."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(cmd, **kw)


def enter(marker, tools=()):
    """Re-runs the calling script in a fresh network and mount namespace unless already there
    (MARKER=1 in the environment says it is). Skips without root or any of the tools."""
    if os.environ.get(marker) == "1":
        return
    if os.geteuid() != 0:
        skip("needs root for network namespaces (CI runs as root)")
    for tool in ("unshare", "nsenter", "ip", *tools):
        if not shutil.which(tool):
            skip(f"{tool} is not installed")
    env = dict(os.environ, **{marker: "1"})
    # util-linux makes the new mount namespace's propagation private: mounts the test makes (a
    # resolv.conf, a /dev/net/tun) stay here.
    r = subprocess.run(["unshare", "-n", "-m", sys.executable, *sys.argv], env=env)
    sys.exit(r.returncode)


class VethLab:
    """The server namespace and its veth link to this one. A lab sets the class attributes below;
    an address may carry ip's flags after it ("fd00:ec2::1/64 nodad")."""

    HOST_IF = SERVER_IF = None  # the veth pair's two ends
    HOST_ADDRESSES = SERVER_ADDRESSES = ()
    HOST_ROUTES = ()  # extra on-link routes here (for addresses outside HOST_ADDRESSES' subnets)

    def __init__(self, root, log):
        self.root = root
        self.procs = []  # killed by close(), last started first
        self.log = os.path.join(root, log)
        open(self.log, "w").close()

    def in_server_ns(self, cmd):
        """CMD run inside the server namespace."""
        return ["nsenter", "-t", str(self.holder.pid), "-n"] + list(cmd)

    def sh(self, *cmd, ns=False):
        """Runs CMD here (or in the server namespace); raises with its stderr if it fails."""
        full = self.in_server_ns(cmd) if ns else list(cmd)
        r = run(full)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(full)}: {r.stderr.strip()}")

    def start(self, cmd, what):
        """Starts a server that prints "ready" once it listens, and waits for that line."""
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        line = p.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"{what} did not start: {line!r}")
        return p

    def network(self):
        self.sh("ip", "link", "set", "lo", "up")
        self.holder = subprocess.Popen(["unshare", "-n", "sleep", "3600"])
        self.procs.append(self.holder)
        self.wait_for_holder()
        try:
            self.sh("ip", "link", "add", self.HOST_IF, "type", "veth", "peer", "name", self.SERVER_IF,
                    "netns", str(self.holder.pid))
        except RuntimeError as e:
            skip(f"cannot create a veth pair ({e})")
        for addr in self.HOST_ADDRESSES:
            self.sh("ip", "addr", "add", *addr.split(), "dev", self.HOST_IF)
        self.sh("ip", "link", "set", self.HOST_IF, "up")
        for route in self.HOST_ROUTES:
            self.sh("ip", "route", "add", route, "dev", self.HOST_IF)
        self.sh("ip", "link", "set", "lo", "up", ns=True)
        for addr in self.SERVER_ADDRESSES:
            self.sh("ip", "addr", "add", *addr.split(), "dev", self.SERVER_IF, ns=True)
        self.sh("ip", "link", "set", self.SERVER_IF, "up", ns=True)
        self.sh("ip", "route", "add", "default", "dev", self.SERVER_IF, ns=True)

    def wait_for_holder(self):
        """Until unshare has really moved the holder into a namespace of its own: a veth end sent
        to its pid any earlier would land in this namespace. A sleep would only make that unlikely."""
        own = os.readlink("/proc/self/ns/net")
        for _ in range(100):
            if self.holder.poll() is not None:
                skip(f"unshare -n cannot make a network namespace (exit {self.holder.returncode})")
            try:
                if os.readlink(f"/proc/{self.holder.pid}/ns/net") != own:
                    return
            except OSError:  # the process is between fork and exec, or just exited
                pass
            time.sleep(0.05)
        raise RuntimeError("the namespace holder never left this network namespace")

    def close(self):
        """Kills the servers, then the holder (its namespace goes with it)."""
        for p in reversed(self.procs):
            p.kill()
            p.wait()

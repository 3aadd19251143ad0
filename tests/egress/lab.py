#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The egress lab: a throwaway network namespace for the sandbox's host, a second one for the
# destinations, listeners that log what they receive (the oracle), and the sandbox's probes.
"""The lab (docs/mxc-1.0.md section 0, on a veth link as tests/proxy/real_clients_test.py does).

  host namespace (unshare -n -m; cordon, lxc-exec and slirp4netns run here)
      lo 127.0.0.1, veth egl0: 198.51.100.1/24, 203.0.113.1/24
  server namespace (unshare -n)
      veth egl1: 198.51.100.7/24, 198.51.100.8/24, 203.0.113.9/24, default route

Listeners log every connection (tcp) or datagram (udp) as "ADDRESS:PORT/PROTO PAYLOAD" to a file;
a probe sends "probe TAG", so a test knows exactly what reached what. Nothing leaves the machine:
neither namespace has a route to anything outside. Usage as a program (the listener itself):
  lab.py serve LOG ADDRESS:PORT/PROTO...   prints "ready" once every socket listens
"""
import os
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import require  # noqa: E402  (skip, or fail under CORDON_REQUIRE_EXECUTOR=1)

HOST_ADDRESSES = ("198.51.100.1/24", "203.0.113.1/24")
SERVER_ADDRESSES = ("198.51.100.7/24", "198.51.100.8/24", "203.0.113.9/24")
failures = []


skip = require.skip


def check(name, ok, detail=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f"\n     {detail}"), flush=True)
    if not ok:
        failures.append(name)


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(cmd, **kw)


def enter(marker="CORDON_EGRESS_LAB"):
    """Re-runs the calling script in a fresh network and mount namespace unless already there."""
    if os.environ.get(marker) == "1":
        return
    if os.geteuid() != 0:
        skip("needs root for network namespaces (CI runs as root)")
    for tool in ("unshare", "nsenter", "ip", "setpriv", "mknod", "mount"):
        if not shutil.which(tool):
            skip(f"{tool} is not installed")
    env = dict(os.environ, **{marker: "1"})
    # util-linux makes the new mount namespace's propagation private: mounts here stay here.
    r = subprocess.run(["unshare", "-n", "-m", sys.executable, *sys.argv], env=env)
    sys.exit(r.returncode)


class Lab:
    def __init__(self, root):
        self.root = root
        self.procs = []
        self.log = os.path.join(root, "received.log")
        open(self.log, "w").close()
        os.chmod(self.log, 0o644)
        self.tun_bound = False

    def sh(self, *cmd, ns=False):
        full = (["nsenter", "-t", str(self.holder.pid), "-n"] if ns else []) + list(cmd)
        r = run(full)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(full)}: {r.stderr.strip()}")

    def network(self):
        self.sh("ip", "link", "set", "lo", "up")
        self.holder = subprocess.Popen(["unshare", "-n", "sleep", "3600"])
        self.procs.append(self.holder)
        for _ in range(50):  # until the holder is in its own namespace
            if os.readlink(f"/proc/{self.holder.pid}/ns/net") != os.readlink("/proc/self/ns/net"):
                break
            time.sleep(0.05)
        try:
            self.sh("ip", "link", "add", "egl0", "type", "veth", "peer", "name", "egl1", "netns", str(self.holder.pid))
        except RuntimeError as e:
            skip(f"cannot create a veth pair ({e})")
        for addr in HOST_ADDRESSES:
            self.sh("ip", "addr", "add", addr, "dev", "egl0")
        self.sh("ip", "link", "set", "egl0", "up")
        self.sh("ip", "link", "set", "lo", "up", ns=True)
        for addr in SERVER_ADDRESSES:
            self.sh("ip", "addr", "add", addr, "dev", "egl1", ns=True)
        self.sh("ip", "link", "set", "egl1", "up", ns=True)
        self.sh("ip", "route", "add", "default", "dev", "egl1", ns=True)

    def usable_tun(self):
        """slirp4netns opens /dev/net/tun as the sandbox's user. Distributions make it 0666 (udev);
        a host without udev may leave it 0600. Then a 0666 node for the same device is bound over it
        in this mount namespace only (the host's node is untouched). Returns whether it did."""
        if os.stat("/dev/net/tun").st_mode & 0o006 == 0o006:
            return False
        d = os.path.join(self.root, "dev")
        if not os.path.isdir(d):
            os.mkdir(d)
            self.sh("mount", "-t", "tmpfs", "-o", "mode=0755", "cordon-egress-lab", d)
            self.sh("mknod", "-m", "0666", os.path.join(d, "tun"), "c", "10", "200")
        self.sh("mount", "--bind", os.path.join(d, "tun"), "/dev/net/tun")
        self.tun_bound = True
        return True

    def unbind_tun(self):
        if self.tun_bound:
            self.sh("umount", "/dev/net/tun")
            self.tun_bound = False

    def listen(self, targets, ns=True):
        """Listeners on ADDRESS:PORT/PROTO, in the server namespace (ns) or here, the sandbox's host."""
        cmd = [sys.executable, os.path.abspath(__file__), "serve", self.log, *targets]
        if ns:
            cmd = ["nsenter", "-t", str(self.holder.pid), "-n"] + cmd
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        line = p.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"listeners {targets} did not start: {line!r}")

    def received(self, tag=None):
        """Every "TARGET PAYLOAD" the listeners logged, as (target, payload), for one run's tag."""
        out = []
        with open(self.log) as f:
            for line in f:
                target, _, payload = line.rstrip("\n").partition(" ")
                if tag is None or payload.startswith(f"probe {tag} "):
                    out.append((target, payload))
        return out

    def reached(self, tag):
        """The targets that received this run's probes."""
        return sorted({target for target, _ in self.received(tag)})

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()
        self.unbind_tun()
        subprocess.run(["umount", os.path.join(self.root, "dev")], capture_output=True)


def probe_script(tag, targets, wait=2):
    """A sh command that sends "probe TAG TARGET" to every ADDRESS:PORT/PROTO at once and prints a
    line per target (the sandbox's own view; the listeners' log is the oracle)."""
    parts = []
    for t in targets:
        hostport, _, proto = t.partition("/")
        host, _, port = hostport.rpartition(":")
        host = host.strip("[]")
        msg = f"probe {tag} {t}"
        dev = f"/dev/{proto}/{host}/{port}"
        parts.append(f"(timeout {wait} bash -c {shlex.quote(f'echo {msg} > {dev}')} 2>/dev/null "
                     f"&& echo 'sent {t}' || echo 'failed {t}') &")
    return " ".join(parts) + " wait"


def serve(log, targets):
    lock = threading.Lock()

    def note(target, payload):
        with lock, open(log, "a") as f:
            f.write(f"{target} {payload.decode('utf-8', 'replace').strip()}\n")

    def tcp(sock, target):
        while True:
            conn, _ = sock.accept()
            conn.settimeout(5)
            try:
                note(target, conn.recv(512))
            except OSError:
                note(target, b"(connected, nothing sent)")
            conn.close()

    def udp(sock, target):
        while True:
            data, _ = sock.recvfrom(512)
            note(target, data)

    for t in targets:
        hostport, _, proto = t.partition("/")
        host, _, port = hostport.rpartition(":")
        host = host.strip("[]")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, int(port)))
        if proto == "tcp":
            sock.listen(16)
        threading.Thread(target=tcp if proto == "tcp" else udp, args=(sock, t), daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] == "serve":
    serve(sys.argv[2], sys.argv[3:])

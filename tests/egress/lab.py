#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The egress lab: a throwaway network namespace for the sandbox's host, a second one for the
# destinations, listeners that log what they receive (the oracle), and the sandbox's probes.
"""The lab (docs/mxc-1.0.md section 0, on the veth link of tests/support/netns_lab.py, as the proxy lab).

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
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import netns_lab  # noqa: E402  (checks, commands, the namespaces and their veth link)
from netns_lab import check, failures, run, skip  # noqa: E402,F401  (the names the tests use)


def enter(marker="CORDON_EGRESS_LAB"):
    """Re-runs the calling script in a fresh network and mount namespace unless already there."""
    netns_lab.enter(marker, ("setpriv", "mknod", "mount"))


class Lab(netns_lab.VethLab):
    """The egress lab's veth link and addresses, its listeners and a usable /dev/net/tun."""

    HOST_IF, SERVER_IF = "egl0", "egl1"
    HOST_ADDRESSES = ("198.51.100.1/24", "203.0.113.1/24")
    SERVER_ADDRESSES = ("198.51.100.7/24", "198.51.100.8/24", "203.0.113.9/24")

    def __init__(self, root):
        super().__init__(root, "received.log")
        os.chmod(self.log, 0o644)
        self.tun_bound = False

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
        self.start(self.in_server_ns(cmd) if ns else cmd, f"listeners {targets}")

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
        super().close()
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

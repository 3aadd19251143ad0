#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Egress rules enforced for real: `cordon run --egress` with the real lxc-exec 1.0.1 + bubblewrap +
# slirp4netns + iptables, in a throwaway network lab; the oracle is what the lab's listeners received.
"""Usage: enforcement_test.py CORDON

Shows, as root (the sandbox then runs as the test user, named by the ceiling's runAs) and as that
unprivileged user itself (setpriv):
  * an allowed address and port are reachable; other ports and addresses are not;
  * a ceiling deny rule beats its allow rule;
  * the ceiling's narrowing is what the wire sees (the report says narrowed, the listeners agree);
  * the host's own addresses are not granted unless the ceiling names them (mxc-1.0.md 9.2);
  * with the network off no slirp4netns starts (the sandbox has no tap0);
  * an iptables-restore planted on the caller's PATH or in /usr/local/sbin is never run, where the
    same plant opens the whole network to lxc-exec run directly (the control; mxc-1.0.md 9.4);
  * without a usable /dev/net/tun for the sandbox's user, or without slirp4netns, egress rules are
    refused before anything runs (and cordon probe says so), while a closed network still runs.
Every "not reachable" has a control run in which the same probe, from the same sandbox, reaches the
same listener. lxc-exec 1.0.1 comes from $CORDON_LXC_EXEC_1_0 or ~/.cache/cordon/mxc/1.0.1 and must
match ../shared/reference/mxc/pins.tsv. Exits 77 without root, the executor or the network tools (1 under CORDON_REQUIRE_EXECUTOR=1).
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
import test_user as test_user_kit  # noqa: E402
import lab as lab_kit  # noqa: E402

check = lab_kit.check
TRUSTED_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
TOOLS = ("bwrap", "slirp4netns", "iptables", "ip6tables", "iptables-restore", "ip6tables-restore", "ip", "nsenter",
         "unshare")

# The listeners (server namespace) and the host's own service (the sandbox host's namespace, 0.0.0.0).
A7, A7B, A8, C9, U7 = "198.51.100.7:8080/tcp", "198.51.100.7:9090/tcp", "198.51.100.8:8080/tcp", \
    "203.0.113.9:8080/tcp", "198.51.100.7:5353/udp"
HOST = "198.51.100.1:18080/tcp"
ALL = [A7, A7B, A8, C9, U7]


def find_executor():
    return pinned_lxc_exec.find_lxc_exec_1_0(TOOLS, TRUSTED_PATH, lab_kit.skip, "scripts/setup_sandbox.sh installs it")


def test_user():
    return test_user_kit.test_user(lab_kit.skip)


as_user = test_user_kit.as_user


class Suite:
    def __init__(self, cordon, lxc, lab, root):
        self.cordon, self.lxc, self.lab, self.root = cordon, lxc, lab, root
        self.runs = 0
        self.bin = os.path.join(root, "mxc")  # a root-owned 0755 copy the test user can read
        os.makedirs(os.path.join(self.bin, "x64"))
        shutil.copy2(lxc, os.path.join(self.bin, "x64", "lxc-exec"))
        for d in (self.bin, os.path.join(self.bin, "x64")):
            os.chmod(d, 0o755)
        self.op = os.path.join(root, "op")  # the operator's ceilings, root's, 0755
        os.mkdir(self.op, 0o755)
        self.out = os.path.join(root, "out")  # reports, written by whoever runs cordon
        os.mkdir(self.out)
        os.chmod(self.out, 0o1777)

    def tag(self):
        self.runs += 1
        return f"r{self.runs}"

    def ceiling(self, who, egress):
        body = {"network": {"egress": egress}, "readwritePaths": [self.out]}
        return test_user_kit.write_ceiling(os.path.join(self.op, f"ceiling-{self.runs}.json"), body, who)

    def cordon_run(self, who, egress_ceiling, args, command, path=TRUSTED_PATH):
        """cordon run under a ceiling file; returns (completed process, report or None)."""
        report = os.path.join(self.out, f"report-{self.runs}.json")
        cmd = [self.cordon, "run", "--ceiling", self.ceiling(who, egress_ceiling), "--report", report, *args,
               "--", "sh", "-c", command]
        env = {"PATH": path, "MXC_BIN_DIR": self.bin, "HOME": "/nonexistent", "TMPDIR": "/tmp"}
        r = lab_kit.run(as_user(cmd) if who == "user" else cmd, env=env)
        rep = None
        if os.path.exists(report):
            with open(report) as f:
                rep = json.load(f)
        return r, rep

    def probe(self, who, egress_ceiling, egress_args, targets=ALL):
        tag = self.tag()
        args = [a for e in egress_args for a in ("--egress", e)]
        r, rep = self.cordon_run(who, egress_ceiling, args, lab_kit.probe_script(tag, targets))
        return tag, r, rep

    def lxc_direct(self, network, command, path):
        """lxc-exec 1.0.1 run directly as the test user, with a PATH of our choosing (the controls)."""
        cfg = {"version": "1.0.0", "containment": "bubblewrap",
               "process": {"commandLine": command, "timeout": 30000, "env": ["PATH=/usr/bin:/bin"]},
               "network": network}
        p = os.path.join(self.op, f"direct-{self.runs}.json")
        with open(p, "w") as f:
            json.dump(cfg, f)
        os.chmod(p, 0o644)
        return lab_kit.run(as_user(["env", f"PATH={path}", os.path.join(self.bin, "x64", "lxc-exec"), "--config", p]))


def rule(cidr, port=None, end=None, proto="tcp", except_=None):
    r = {"to": [dict({"cidr": cidr}, **({"except": except_} if except_ else {}))]}
    if port:
        r["ports"] = [dict({"port": port, "protocol": proto}, **({"endPort": end} if end else {}))]
    return r


def decisions(rep):
    return [d for d in (rep or {}).get("decisions", []) if d.get("field", "").startswith("/network/egress")]


def case_allowed_and_not(s, who):
    ceiling = {"allow": [rule("198.51.100.0/24", 8080, 9090), rule("203.0.113.0/24", 8080), rule("198.51.100.0/24", 5353, proto="udp")]}
    tag, r, _ = s.probe(who, ceiling, ["198.51.100.7:8080/tcp"])
    check(f"{who}: the allowed address and port are reached, and nothing else is (listeners: {s.lab.reached(tag)})",
          r.returncode == 0 and s.lab.reached(tag) == [A7], r.stdout + r.stderr)
    tag, r, _ = s.probe(who, ceiling, ["198.51.100.0/24:8080-9090/tcp", "203.0.113.9:8080", "198.51.100.7:5353/udp"])
    check(f"{who}: control: granting them all, the same probes reach every listener",
          r.returncode == 0 and s.lab.reached(tag) == sorted(ALL), f"{s.lab.reached(tag)}\n{r.stdout}{r.stderr}")


def case_deny_beats_allow(s, who):
    ceiling = {"allow": [rule("198.51.100.0/24", 8080)], "deny": [rule("198.51.100.8/32")]}
    tag, r, rep = s.probe(who, ceiling, ["198.51.100.0/24:8080/tcp"], [A7, A8])
    d = decisions(rep)
    check(f"{who}: a ceiling deny beats its allow: .8 is not reached, .7 is; the report says why",
          r.returncode == 0 and s.lab.reached(tag) == [A7] and d and d[0]["verdict"] == "narrowed"
          and "deny" in d[0]["reason"], f"{s.lab.reached(tag)} {d}\n{r.stderr}")
    tag, r, _ = s.probe(who, {"allow": ceiling["allow"]}, ["198.51.100.0/24:8080/tcp"], [A7, A8])
    check(f"{who}: control: without the deny rule .8 is reached", s.lab.reached(tag) == [A7, A8], r.stderr)


def case_narrowing_on_the_wire(s, who):
    # The example in the lab: ask 198.51.100.0/24 tcp 8080 under 198.51.100.4/30 tcp 8080,9090
    # (.4-.7: .7 in, .8 out, and not the host's own .1).
    ceiling = {"allow": [{"to": [{"cidr": "198.51.100.4/30"}],
                          "ports": [{"port": 8080, "protocol": "tcp"}, {"port": 9090, "protocol": "tcp"}]}]}
    tag, r, rep = s.probe(who, ceiling, ["198.51.100.0/24:8080/tcp"], [A7, A7B, A8])
    d = decisions(rep)
    granted = json.loads(d[0]["result"][0]["value"]) if d and d[0]["result"] else {}
    want = [{"to": [{"cidr": "198.51.100.4/30"}], "ports": [{"port": 8080, "protocol": "tcp"}]}]
    check(f"{who}: the ceiling narrows 198.51.100.0/24:8080 to 198.51.100.4/30:8080, and the wire agrees "
          f"(listeners: {s.lab.reached(tag)})",
          d and d[0]["verdict"] == "narrowed" and granted.get("allow") == want and s.lab.reached(tag) == [A7],
          f"{d}\n{r.stderr}")


def case_host_addresses(s, who):
    ceiling = {"allow": [rule("198.51.100.0/24", 18080)]}
    tag, r, rep = s.probe(who, ceiling, ["198.51.100.0/24:18080/tcp"], [HOST])
    d = decisions(rep)
    check(f"{who}: the host's own address is not granted by a ceiling block that merely contains it (9.2)",
          s.lab.reached(tag) == [] and d and "host" in d[0]["reason"], f"{s.lab.reached(tag)} {d}\n{r.stderr}")
    named = {"allow": ceiling["allow"] + [rule("198.51.100.1/32", 18080)]}
    tag, r, _ = s.probe(who, named, ["198.51.100.0/24:18080/tcp"], [HOST])
    check(f"{who}: control: a ceiling that names the host's address grants it; the host service is reached",
          s.lab.reached(tag) == ["0.0.0.0:18080/tcp"], f"{s.lab.reached(tag)}\n{r.stdout}{r.stderr}")


def case_network_off(s, who):
    r, _ = s.cordon_run(who, {"allow": [rule("198.51.100.0/24", 8080)]}, [], "cat /proc/net/dev")
    check(f"{who}: with the network off the sandbox has only lo: no slirp4netns started",
          r.returncode == 0 and " lo:" in r.stdout and "tap0" not in r.stdout, r.stdout + r.stderr)
    r, _ = s.cordon_run(who, {"allow": [rule("198.51.100.0/24", 8080)]}, ["--egress", "198.51.100.7:8080/tcp"],
                        "cat /proc/net/dev")
    check(f"{who}: control: with one egress rule slirp4netns gives it tap0", "tap0" in r.stdout, r.stdout + r.stderr)


def plant(s):
    """A planted iptables-restore and ip6tables-restore that load nothing and say they did (9.4),
    in a directory on the caller's PATH and in /usr/local/sbin (a tmpfs of this mount namespace)."""
    marker = os.path.join(s.out, "planted-ran")
    caller = os.path.join(s.root, "plant")
    os.mkdir(caller, 0o755)
    os.makedirs("/usr/local/sbin", exist_ok=True)
    lab_kit.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "cordon-plant", "/usr/local/sbin"])
    for d in (caller, "/usr/local/sbin"):
        for name in ("iptables-restore", "ip6tables-restore"):
            p = os.path.join(d, name)
            with open(p, "w") as f:
                # Says what the real one says to the executor's preflight, then loads nothing.
                f.write(f"#!/bin/sh\necho \"$0 $*\" >> {marker}\n"
                        f"case \"$*\" in *--version*) echo '{name} v1.8.9 (nf_tables)';; esac\nexit 0\n")
            os.chmod(p, 0o755)
    return caller, marker


def case_planted_tools(s, who, caller, marker):
    hostile = f"{caller}:/usr/local/sbin:{TRUSTED_PATH}"
    tag = s.tag()
    r, _ = s.cordon_run(who, {"allow": [rule("198.51.100.0/24", 8080)]}, ["--egress", "198.51.100.7:8080/tcp"],
                        lab_kit.probe_script(tag, [A7, A8, C9]), path=hostile)
    check(f"{who}: iptables-restore planted on the caller's PATH and in /usr/local/sbin is never run; "
          f"only the granted listener is reached ({s.lab.reached(tag)})",
          r.returncode == 0 and s.lab.reached(tag) == [A7] and not os.path.exists(marker), r.stdout + r.stderr)


def control_planted_tools(s, caller, marker):
    tag = s.tag()
    net = {"egress": {"default": "deny", "allow": [rule("198.51.100.7/32", 8080)]}}
    r = s.lxc_direct(net, lab_kit.probe_script(tag, [A7, A8, C9]), f"{caller}:{TRUSTED_PATH}")
    check(f"control: lxc-exec run directly with the plant first on its PATH runs it, and the whole network "
          f"opens ({s.lab.reached(tag)})",
          os.path.exists(marker) and s.lab.reached(tag) == sorted([A7, A8, C9]), r.stdout + r.stderr)
    if os.path.exists(marker):
        os.remove(marker)


def case_tun_refused(s):
    """The host's own 0600 /dev/net/tun (the lab's 0666 node unbound), then the same run with it."""
    def attempt():
        tag = s.tag()
        r, _ = s.cordon_run("root", {"allow": [rule("198.51.100.0/24", 8080)]},
                            ["--rw", s.out, "--egress", "198.51.100.7:8080/tcp"],
                            lab_kit.probe_script(tag, [A7]) + f"; touch {s.out}/ran-{tag}")
        return tag, r, os.path.exists(f"{s.out}/ran-{tag}")
    s.lab.unbind_tun()
    try:
        tag, r, ran = attempt()
        check("without a /dev/net/tun the sandbox's user can open, egress rules are refused before anything runs",
              r.returncode == 125 and "/dev/net/tun" in r.stderr and not ran and s.lab.reached(tag) == [],
              r.stdout + r.stderr)
    finally:
        s.lab.usable_tun()
    tag, r, ran = attempt()
    check("control: with a usable /dev/net/tun the same run reaches the listener and writes its file",
          r.returncode == 0 and ran and s.lab.reached(tag) == [A7], r.stdout + r.stderr)


def case_tool_missing(s):
    """slirp4netns masked (in this mount namespace only) by /dev/null: not a program any more."""
    tool = shutil.which("slirp4netns", path=TRUSTED_PATH)
    lab_kit.run(["mount", "--bind", "/dev/null", tool])
    try:
        tag = s.tag()
        r, _ = s.cordon_run("root", {"allow": [rule("198.51.100.0/24", 8080)]},
                            ["--rw", s.out, "--egress", "198.51.100.7:8080/tcp"],
                            lab_kit.probe_script(tag, [A7]) + f"; touch {s.out}/ran-{tag}")
        check("without slirp4netns egress rules are refused (backend-unsupported) before anything runs, naming it",
              r.returncode == 125 and "backend-unsupported" in r.stderr and "'slirp4netns'" in r.stderr
              and not os.path.exists(f"{s.out}/ran-{tag}") and s.lab.reached(tag) == [], r.stdout + r.stderr)
        p = lab_kit.run([s.cordon, "probe", "--json"], env={"PATH": TRUSTED_PATH, "MXC_BIN_DIR": s.bin})
        tools = {t["name"]: t for t in json.loads(p.stdout).get("network_tools", [])} if p.returncode == 0 else {}
        check("cordon probe reports it missing", tools.get("slirp4netns", {}).get("usable") is False
              and "not installed" in tools["slirp4netns"]["problem"], p.stdout + p.stderr)
        r, _ = s.cordon_run("root", {"allow": [rule("198.51.100.0/24", 8080)]}, ["--rw", s.out],
                            f"touch {s.out}/ran-{tag}")
        check("control: with the network off the same ceiling still runs (no tool needed), and its file is written",
              r.returncode == 0 and os.path.exists(f"{s.out}/ran-{tag}"), r.stdout + r.stderr)
    finally:
        lab_kit.run(["umount", tool])


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    cordon = os.path.abspath(sys.argv[1])
    lab_kit.enter()
    lxc = find_executor()
    test_user()
    root = tempfile.mkdtemp(prefix="cordon-egress-lab-")
    os.chmod(root, 0o755)
    lab = lab_kit.Lab(root)
    try:
        lab.network()
        rebound = lab.usable_tun()
        print(f"lab: /dev/net/tun {'is 0600 on this host; a 0666 node is bound over it in the lab' if rebound else 'is usable'}")
        lab.listen(ALL)
        lab.listen(["0.0.0.0:18080/tcp"], ns=False)
        s = Suite(cordon, lxc, lab, root)
        caller, marker = plant(s)
        control_planted_tools(s, caller, marker)
        for who in ("root", "user"):
            case_allowed_and_not(s, who)
            case_deny_beats_allow(s, who)
            case_narrowing_on_the_wire(s, who)
            case_host_addresses(s, who)
            case_network_off(s, who)
            case_planted_tools(s, who, caller, marker)
        if rebound:
            case_tun_refused(s)
        case_tool_missing(s)
    finally:
        lab.close()
        subprocess.run(["umount", "/usr/local/sbin"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
    print(f"{len(lab_kit.failures)} failed" if lab_kit.failures else "all passed")
    return 1 if lab_kit.failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# `cordon run --domain` for real: the ceiling's network.allowedDomains, cordon-proxy started by cordon,
# lxc-exec 1.0.1 + bubblewrap with runtimeConfig.networkProxy; the lab's request log is the oracle.
"""Usage: domains_run_test.py CORDON CORDON_PROXY

In the private network lab of real_clients_test.py (servers on documentation addresses in a second
namespace, names from a hosts file the ceiling points the proxy at), as root (the sandbox then runs
as the test user, the ceiling's runAs) and as that unprivileged user itself (setpriv):
  * under a ceiling allowing web.test, `cordon run --domain web.test --domain other.test -- curl`
    fetches from web.test over HTTP and HTTPS, other.test is dropped by the clamp (a narrowing line)
    and answered 403 by cordon, and a direct connection to the server's address fails while the
    server logs nothing from it;
  * pip installs a package from the lab's index (pypi.test, files.test) through the proxy; Python's
    urllib (HTTP and HTTPS) and `git clone http://git.test/...` work for their granted domain, and
    get cordon's 403 for other.test, which the lab's servers never see;
  * the proxy's decisions are in `cordon run --json` and in the --report file, once in a report
    written to a descriptor;
  * as root, a cordon-proxy in a directory others can write is never started;
  * where the host's /dev/net/tun is 0600: without the test's 0666 node the run is refused (125)
    before anything starts.
lxc-exec 1.0.1 must match ../shared/reference/mxc/pins.tsv. Exits 77 without root, the executor, the
network tools or what the lab needs (a missing pip or git skips its case); under
CORDON_REQUIRE_EXECUTOR=1 each of these fails the test instead.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import pinned_lxc_exec  # noqa: E402  (the pinned lxc-exec and its tools)
import real_clients_test as lab_kit  # noqa: E402  (the lab and its servers)
import test_user as test_user_kit  # noqa: E402  (cordon-test, and setpriv to become it)

check = lab_kit.check
# Run in the sandbox as `python3 PROBE CERT TAG`: urllib's default opener takes the proxy variables.
URLLIB_PROBE = """import ssl, sys, urllib.error, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[1])
for scheme in ("http", "https"):
    body = urllib.request.urlopen(f"{scheme}://web.test/hello.txt?{sys.argv[2]}", timeout=20, context=ctx).read()
    print(scheme, body.decode(), end="")
try:
    urllib.request.urlopen(f"http://other.test/hello.txt?{sys.argv[2]}", timeout=20)
    print("other fetched")
except urllib.error.HTTPError as e:
    print("other", e.code, e.read().decode())
"""
TRUSTED_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def test_user():
    return test_user_kit.test_user(lab_kit.skip)


as_user = test_user_kit.as_user


def usable_tun(root):
    """slirp4netns opens /dev/net/tun as the sandbox's user. Where it is 0600 (no udev), a 0666 node
    for the same device is bound over it in this test's mount namespace only (as tests/egress/lab.py)."""
    if os.stat("/dev/net/tun").st_mode & 0o006 == 0o006:
        return False
    d = os.path.join(root, "dev")
    os.mkdir(d)
    for cmd in (["mount", "-t", "tmpfs", "-o", "mode=0755", "cordon-domains-lab", d],
                ["mknod", "-m", "0666", os.path.join(d, "tun"), "c", "10", "200"],
                ["mount", "--bind", os.path.join(d, "tun"), "/dev/net/tun"]):
        if lab_kit.run(cmd).returncode != 0:
            lab_kit.skip(f"cannot give the sandbox's user a /dev/net/tun: {' '.join(cmd)}")
    return True


class Suite:
    def __init__(self, cordon, proxy, lxc, lab, root):
        self.cordon, self.proxy, self.lab, self.root = cordon, proxy, lab, root
        self.bin = os.path.join(root, "mxc")  # a root-owned 0755 copy the test user can read
        os.makedirs(os.path.join(self.bin, "x64"))
        shutil.copy2(lxc, os.path.join(self.bin, "x64", "lxc-exec"))
        for d in (self.bin, os.path.join(self.bin, "x64")):
            os.chmod(d, 0o755)
        self.out = os.path.join(root, "out")  # written by the sandbox's user and by whoever runs cordon
        os.mkdir(self.out)
        os.chmod(self.out, 0o1777)
        self.hosts = os.path.join(root, "hosts")  # read by cordon-proxy after it dropped to nobody: 0644
        with open(self.hosts, "w") as f:
            f.write("198.51.100.7 web.test pypi.test files.test\n198.51.100.8 git.test\n203.0.113.9 other.test\n"
                    "168.63.129.16 azure.test\n")
        os.chmod(self.hosts, 0o644)
        self.runs = 0

    def ceiling(self, who, domains, internal=None):
        body = {"network": {"allowedDomains": domains, "proxyHostsFile": self.hosts, **({"allowedInternal": internal} if internal else {})},
                "readwritePaths": [self.out], "readonlyPaths": [self.lab.cert],
                "env": {"allow": ["HOME", "PIP_CONFIG_FILE", "PIP_NO_INPUT", "GIT_CONFIG_NOSYSTEM",
                                 "GIT_TERMINAL_PROMPT"]}}
        self.runs += 1
        return test_user_kit.write_ceiling(os.path.join(self.root, f"ceiling-{self.runs}.json"), body, who)

    def run(self, who, domains, args, script, proxy=None, internal=None, report=None, pass_fds=()):
        """cordon run --json under a ceiling allowing `domains` (and `internal` blocks); returns
        (process, result, report). `report`: another --report target (then the report returned is {})."""
        target = report or os.path.join(self.out, f"report-{self.runs + 1}.json")
        report = None if report else target
        cmd = [self.cordon, "run", "--json", "--ceiling", self.ceiling(who, domains, internal), "--report", target,
               "--ro", self.lab.cert, "--rw", self.out, *args, "--", "sh", "-c", script]
        # No verification cache: as root it would create HOME (here /nonexistent) to hold it.
        env = {"PATH": TRUSTED_PATH, "MXC_BIN_DIR": self.bin, "HOME": "/nonexistent", "TMPDIR": "/tmp",
               "CORDON_PROXY_PROGRAM": proxy or self.proxy, "CORDON_VERIFY_CACHE": "off"}
        r = lab_kit.run(as_user(cmd) if who == "user" else cmd, env=env, timeout=180, pass_fds=pass_fds)
        try:
            result = json.loads(r.stdout)
        except ValueError:
            result = {}
        rep = json.load(open(report)) if report and os.path.exists(report) else {}
        return r, result, rep

    def curl_cases(self, who):
        cert = self.lab.cert
        script = (f"curl -sS http://web.test/hello.txt; curl -sS --cacert {cert} https://web.test/hello.txt; "
                  "curl -sS -w ' status=%{http_code}' http://other.test/hello.txt; echo; "
                  f"curl -sS -m 4 --noproxy '*' http://198.51.100.7/direct-{who}.txt; echo direct_rc=$?; "
                  "env | grep -i _proxy= | sort")
        before = self.lab.requests()
        r, res, rep = self.run(who, ["web.test"], ["--domain", "web.test", "--domain", "other.test"], script)
        out = res.get("stdout", "")
        seen = self.lab.requests()[len(before):]
        tag = f"[{who}] "
        check(tag + "cordon run exits with curl's status, having run it", res.get("cordon_exit") is not None and
              res.get("started") == "yes", r.stdout[-1500:] + r.stderr[-1500:])
        check(tag + "curl fetches from the granted domain over HTTP and HTTPS (CONNECT)",
              out.startswith("hello through cordon\nhello through cordon\n"), out + r.stderr[-800:])
        check(tag + "the other domain gets cordon's 403, whose body names cordon and the domain",
              "status=403" in out and "cordon proxy: GET other.test:80 denied" in out, out)
        check(tag + "a direct connection to the server's address fails", "direct_rc=0" not in out and "direct_rc=" in out,
              out)
        check(tag + "the servers saw the granted fetches and nothing else (not the direct one, not other.test)",
              sorted(seen) == ["198.51.100.7:443 GET /hello.txt", "198.51.100.7:80 GET /hello.txt"], "\n".join(seen))
        check(tag + "the workload's proxy variables point at the proxy (slirp's 10.0.2.2 on bubblewrap), and lxc-exec "
              "removes NO_PROXY", "HTTPS_PROXY=http://10.0.2.2:" in out and "http_proxy=http://10.0.2.2:" in out and
              "NO_PROXY=" not in out and "no_proxy=" not in out, out)
        notices = " | ".join(res.get("notices", []))
        check(tag + "the clamp dropped other.test, with a narrowing line",
              "--domain other.test: dropped: no ceiling pattern matches other.test" in notices, notices)
        config = res.get("config", {})
        check(tag + "the config: networkProxy on loopback, egress and ingress deny, no rules",
              config.get("runtimeConfig", {}).get("networkProxy", "").startswith("http://127.0.0.1:") and
              config.get("network", {}).get("egress") == {"default": "deny"}, json.dumps(config))
        url = config.get("runtimeConfig", {}).get("networkProxy", "?")
        env = config.get("process", {}).get("env", [])
        check(tag + "cordon gives the workload the proxy variables, lower-case too, and NO_PROXY for its own loopback",
              all(f"{k}={url}" in env for k in ("HTTP_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")) and
              "NO_PROXY=localhost,127.0.0.1,::1" in env and "no_proxy=localhost,127.0.0.1,::1" in env, json.dumps(env))
        decisions = [(d["method"], d["host"], d["port"], d["allowed"], d["status"])
                     for d in res.get("proxy", {}).get("decisions", [])]
        check(tag + "--json carries the proxy's decision for every host",
              ("GET", "web.test", 80, True, 200) in decisions and ("CONNECT", "web.test", 443, True, 200) in decisions
              and ("GET", "other.test", 80, False, 403) in decisions and len(decisions) == 3, json.dumps(decisions))
        check(tag + "the report file carries the same decisions beside the clamp's",
              len(rep.get("proxy", {}).get("decisions", [])) == 3 and
              any(d.get("field") == "/network/allowedDomains/1" for d in rep.get("decisions", [])), json.dumps(rep)[:1500])

    def descriptor_report_case(self):
        """--report /dev/fd/N: a proxied run's report gains the proxy's decisions at the end, so the
        descriptor gets it once, whole (a file is replaced instead); a descriptor that is not open
        stops the run before anything starts."""
        sink = os.path.join(self.root, "fd-report.json")
        before = self.lab.requests()
        with open(sink, "w") as f:
            r, res, _ = self.run("root", ["web.test"], ["--domain", "web.test"], "curl -sS http://web.test/hello.txt",
                                 report=f"/dev/fd/{f.fileno()}", pass_fds=(f.fileno(),))
        text, docs, at = open(sink).read(), [], 0
        while text[at:].strip():  # every JSON document written there, in order (None: not JSON)
            at += len(text[at:]) - len(text[at:].lstrip())
            try:
                doc, at = json.JSONDecoder().raw_decode(text, at)
            except ValueError:
                docs.append(None)
                break
            docs.append(doc)
        check("[root] the fetch ran (the control: a report with a decision to carry)",
              res.get("exit_code") == 0 and self.lab.requests()[len(before):] == ["198.51.100.7:80 GET /hello.txt"],
              r.stdout[-800:] + r.stderr[-400:])
        check("[root] --report /dev/fd/N gets one report, with the clamp's and the proxy's decisions",
              len(docs) == 1 and docs[0] is not None and len(docs[0].get("proxy", {}).get("decisions", [])) == 1 and
              any(d.get("field") == "/network/allowedDomains/0" for d in docs[0].get("decisions", [])), text[:1500])
        before = self.lab.requests()
        r, res, _ = self.run("root", ["web.test"], ["--domain", "web.test"], "curl -sS http://web.test/hello.txt",
                             report="/dev/fd/999")
        err = json.dumps(res.get("error", {}))
        check("[root] --report to a descriptor that is not open is refused before the proxy or the command starts",
              res.get("cordon_exit") not in (None, 0) and "/dev/fd/999" in err and "not an open descriptor" in err and
              "proxy" not in res and self.lab.requests() == before, r.stdout[-800:] + r.stderr[-400:])

    def refused_case(self):
        """Without a /dev/net/tun the sandbox's user can open, slirp4netns could not start: the run is
        refused before the proxy or the executor starts (fail closed), never run without the proxy."""
        before = self.lab.requests()
        r, res, _ = self.run("user", ["web.test"], ["--domain", "web.test"], "curl -sS http://web.test/hello.txt")
        err = json.dumps(res.get("error", {}))
        check("[user] no usable /dev/net/tun: --domain is refused with 125, naming the device, and nothing ran",
              res.get("cordon_exit") == 125 and "/dev/net/tun" in err and "/network/allowedDomains" in err and "proxy" not in res and
              self.lab.requests() == before, r.stdout[-800:] + r.stderr[-400:])

    def untrusted_proxy_case(self):
        """As root, cordon-proxy starts with root's privileges: a copy in a directory others can write
        (here under /tmp) is refused before anything starts."""
        planted = os.path.join(self.root, "cordon-proxy")
        shutil.copy2(self.proxy, planted)
        before = self.lab.requests()
        r, res, _ = self.run("root", ["web.test"], ["--domain", "web.test"], "curl -sS http://web.test/hello.txt", planted)
        err = json.dumps(res.get("error", {}))
        check("[root] a cordon-proxy in a directory others can write is refused (126), and nothing ran",
              res.get("cordon_exit") == 126 and "cordon-proxy's directory" in err and self.lab.requests() == before,
              r.stdout[-800:] + r.stderr[-400:])

    def pip_case(self, who):
        if lab_kit.run([sys.executable, "-m", "pip", "--version"]).returncode != 0:
            return lab_kit.require.missing(f"[{who}] pip", "python3 -m pip is not available", check)
        site = os.path.join(self.out, f"site-{who}")
        script = (f"python3 -m pip install -q --no-cache-dir --disable-pip-version-check --root-user-action=ignore "
                  f"--index-url https://pypi.test/simple/ --cert {self.lab.cert} --target {site} cordon-probe && "
                  f"PYTHONPATH={site} python3 -c 'import cordon_probe; print(cordon_probe.VALUE)'")
        args = ["--domain", "pypi.test:443", "--domain", "files.test:443", "--env", f"HOME={self.out}",
                "--env", "PIP_CONFIG_FILE=/dev/null", "--env", "PIP_NO_INPUT=1"]
        r, res, _ = self.run(who, ["pypi.test:443", "files.test:443"], args, script)
        check(f"[{who}] pip installs a package from the local index through the proxy",
              res.get("exit_code") == 0 and res.get("stdout", "").strip().endswith("cordon-probe-ok"),
              res.get("stdout", "")[-800:] + res.get("stderr", "")[-1500:] + r.stderr[-500:])
        hosts = {(d["host"], d["allowed"]) for d in res.get("proxy", {}).get("decisions", [])}
        check(f"[{who}] pip's index and file hosts went through the proxy", hosts == {("pypi.test", True), ("files.test", True)},
              str(hosts))

    def urllib_case(self, who):
        """Python's urllib in the sandbox, using only the proxy variables the sandbox gets."""
        probe = os.path.join(self.out, "urllib_probe.py")
        with open(probe, "w") as f:
            f.write(URLLIB_PROBE)
        os.chmod(probe, 0o644)
        before = self.lab.requests()
        r, res, _ = self.run(who, ["web.test"], ["--domain", "web.test"], f"python3 {probe} {self.lab.cert} urllib-{who}")
        out = res.get("stdout", "")
        seen = self.lab.requests()[len(before):]
        check(f"[{who}] urllib fetches from the granted domain over HTTP and HTTPS through the sandbox's proxy variables",
              out.startswith("http hello through cordon\nhttps hello through cordon\n"), out + res.get("stderr", "")[-800:])
        check(f"[{who}] urllib: the other domain raises HTTPError 403 whose body names cordon and the domain",
              "other 403 cordon proxy: GET other.test:80 denied" in out, out)
        check(f"[{who}] urllib: the server saw both granted fetches, and other.test nothing",
              sorted(seen) == [f"198.51.100.7:443 GET /hello.txt?urllib-{who}", f"198.51.100.7:80 GET /hello.txt?urllib-{who}"],
              "\n".join(seen))

    def internal_case(self, who):
        """A granted name resolving to an internal block (the lab's stand-in Azure metadata server) is
        refused by the run's proxy unless the ceiling's network.allowedInternal names the block."""
        script = "curl -sS -w ' status=%{http_code}' http://azure.test/hello.txt"
        before = self.lab.requests()
        _, res, _ = self.run(who, ["azure.test"], ["--domain", "azure.test"], script)
        refused, seen = res.get("stdout", ""), self.lab.requests()[len(before):]
        check(f"[{who}] a granted name resolving to 168.63.129.16 is refused (403, cloud-metadata); its server saw nothing",
              "status=403" in refused and "168.63.129.16 is cloud-metadata" in refused and
              not any(x.startswith("168.63.129.16") for x in seen), refused + "\n".join(seen))
        before = self.lab.requests()
        _, res, _ = self.run(who, ["azure.test"], ["--domain", "azure.test"], script, internal=["168.63.129.16/32"])
        named, seen = res.get("stdout", ""), self.lab.requests()[len(before):]
        check(f"[{who}] control: with the ceiling's allowedInternal naming 168.63.129.16/32 the same fetch arrives",
              named.startswith("hello through cordon") and "status=200" in named and
              "168.63.129.16:80 GET /hello.txt" in seen, named + res.get("stderr", "")[-800:] + "\n".join(seen))

    def git_case(self, who):
        """git clone over smart HTTP in the sandbox; other.test is refused with cordon's 403."""
        if not self.lab.git_ok:
            return lab_kit.require.missing(f"[{who}] git", "git is not installed", check)
        dest = os.path.join(self.out, f"clone-{who}")
        script = (f"git clone -q http://git.test/repo.git {dest}; echo clone_rc=$?; "
                  f"GIT_TRACE_CURL=1 git clone -q http://other.test/repo.git {dest}-other 2>&1; echo other_rc=$?")
        args = ["--domain", "git.test", "--env", f"HOME={self.out}", "--env", "GIT_CONFIG_NOSYSTEM=1",
                "--env", "GIT_TERMINAL_PROMPT=0"]
        before = self.lab.requests()
        r, res, _ = self.run(who, ["git.test"], args, script)
        out = res.get("stdout", "")
        seen = self.lab.requests()[len(before):]
        readme = os.path.join(dest, "README")
        check(f"[{who}] git clones from the granted domain over smart HTTP (the cloned file's content)",
              "clone_rc=0" in out and os.path.exists(readme) and open(readme).read() == "cloned through cordon\n",
              out[-1500:] + res.get("stderr", "")[-800:])
        check(f"[{who}] git: the server saw the clone's upload-pack POST, and nothing for other.test",
              "198.51.100.8:80 POST /repo.git/git-upload-pack" in seen and not any(x.startswith("203.0.113.9") for x in seen),
              "\n".join(seen))
        check(f"[{who}] git: the other domain fails with cordon's 403 (status and Proxy-Status header)",
              "other_rc=0" not in out and "returned error: 403" in out and "Proxy-Status: cordon" in out and
              not os.path.exists(dest + "-other"), out[-2000:])


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    cordon, proxy = (os.path.abspath(p) for p in sys.argv[1:])
    lab_kit.enter_private_netns()  # as root, in a network and mount namespace of its own
    lxc = pinned_lxc_exec.find_lxc_exec_1_0(("slirp4netns", "iptables", "iptables-restore", "ip6tables-restore", "bwrap"),
                                            TRUSTED_PATH, lab_kit.skip, "scripts/setup_sandbox.sh installs it")
    if not shutil.which("setpriv"):
        lab_kit.skip("setpriv is not installed")
    test_user()
    root = tempfile.mkdtemp(prefix="cordon-domains-")
    os.chmod(root, 0o755)
    # As root cordon starts cordon-proxy only from directories only root can write; a build tree
    # may lie under /tmp (a clean clone in CI), so the test runs a copy from a fresh one under /run.
    trusted = tempfile.mkdtemp(prefix="cordon-proxy-", dir="/run")
    os.chmod(trusted, 0o755)
    proxy = shutil.copy2(proxy, os.path.join(trusted, "cordon-proxy"))
    lab = lab_kit.Lab(root)
    try:
        bound = usable_tun(root)
        lab.network()
        lab.content()
        lab.certificate()
        lab.start_servers()
        os.chmod(lab.cert, 0o644)
        suite = Suite(cordon, proxy, lxc, lab, root)
        for who in ("root", "user"):
            suite.curl_cases(who)
            suite.pip_case(who)
            suite.urllib_case(who)
            suite.git_case(who)
            suite.internal_case(who)
        suite.untrusted_proxy_case()
        suite.descriptor_report_case()
        if bound:  # the host's own 0600 node again, in this namespace only
            subprocess.run(["umount", "/dev/net/tun"], capture_output=True)
            suite.refused_case()
    finally:
        lab.close()
        for mounted in ("/dev/net/tun", os.path.join(root, "dev")):  # (this namespace's own mounts)
            subprocess.run(["umount", mounted], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(trusted, ignore_errors=True)
    print(f"{len(lab_kit.failures)} failed" if lab_kit.failures else "all passed")
    return 1 if lab_kit.failures else 0


if __name__ == "__main__":
    sys.exit(main())

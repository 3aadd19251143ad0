#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The filtering proxy with real clients (curl, Python urllib, pip, git) against real servers in a private
# network lab: granted names work, others get cordon's 403, internal destinations are never reached.
"""Usage: real_clients_test.py CORDON_PROXY

The whole test runs in a network namespace of its own (unshare -n), so the machine's network is
never touched. Destination servers run in a second namespace joined by a veth pair and listen on
documentation addresses (198.51.100.0/24, 203.0.113.0/24) plus the metadata addresses 169.254.169.254,
168.63.129.16 and fd00:ec2::254 (each refused unless named, with a control that names it); names come from a
hosts file the proxy is pointed at (there is no DNS). Oracles are on the server side: a request
log that shows what reached each destination. Exits 77 (skip) without root, unshare, nsenter, ip,
openssl or veth support; a missing client (git, pip) skips only its own cases, saying so. Under
CORDON_REQUIRE_EXECUTOR=1 (CI) each of these is a failure instead (tests/support/require.py).
"""
import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import netns_lab  # noqa: E402  (checks, commands, the namespaces and their veth link)
import require  # noqa: E402  (require.missing: a client that is not installed)
from netns_lab import check, failures, run, skip  # noqa: E402,F401  (the names the tests use)

METADATA = ("169.254.169.254", "168.63.129.16", "fd00:ec2::254")  # the lab's stand-in metadata servers


def enter_private_netns():
    """Re-runs this script in a fresh network and mount namespace unless already there."""
    netns_lab.enter("CORDON_PROXY_LAB", ("openssl",))


class Lab(netns_lab.VethLab):
    """The server namespace, its veth link, content, certificates and the servers themselves."""

    HOST_IF, SERVER_IF = "cpt0", "cpt1"
    HOST_ADDRESSES = ("198.51.100.1/24", "203.0.113.1/24", "fd00:ec2::1/64 nodad")  # on-link to fd00:ec2::254
    HOST_ROUTES = ("169.254.169.254/32", "168.63.129.16/32")
    SERVER_ADDRESSES = ("198.51.100.7/24", "198.51.100.8/24", "198.51.100.53/24", "203.0.113.9/24",
                        "169.254.169.254/32", "168.63.129.16/32", "fd00:ec2::254/64 nodad")

    def __init__(self, root):
        super().__init__(root, "server.log")

    def content(self):
        www = os.path.join(self.root, "www")
        os.makedirs(os.path.join(www, "packages"))
        with open(os.path.join(www, "hello.txt"), "w") as f:
            f.write("hello through cordon\n")
        with open(os.path.join(www, "big.bin"), "wb") as f:
            f.write(os.urandom(2 * 1024 * 1024))
        self.wheel(www)
        self.git_repo()

    def wheel(self, www):
        """A minimal pure-Python wheel and a PEP 503 simple index for it."""
        name = "cordon_probe-1.0-py3-none-any.whl"
        files = {
            "cordon_probe/__init__.py": b'VALUE = "cordon-probe-ok"\n',
            "cordon_probe-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: cordon-probe\nVersion: 1.0\n",
            "cordon_probe-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: cordon-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        }
        record = ""
        for path, data in files.items():
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record += f"{path},sha256={digest},{len(data)}\n"
        record += "cordon_probe-1.0.dist-info/RECORD,,\n"
        files["cordon_probe-1.0.dist-info/RECORD"] = record.encode()
        path = os.path.join(www, "packages", name)
        with zipfile.ZipFile(path, "w") as z:
            for p, data in files.items():
                z.writestr(p, data)
        sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
        index = os.path.join(www, "simple", "cordon-probe")
        os.makedirs(index)
        with open(os.path.join(www, "simple", "index.html"), "w") as f:
            f.write('<html><body><a href="cordon-probe/">cordon-probe</a></body></html>\n')
        with open(os.path.join(index, "index.html"), "w") as f:
            f.write(f'<html><body><a href="https://files.test/packages/{name}#sha256={sha}">{name}</a></body></html>\n')

    def git_repo(self):
        self.git_ok = shutil.which("git") is not None
        if not self.git_ok:
            return
        work = os.path.join(self.root, "work")
        env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", HOME=self.root, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
                   GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
        os.makedirs(work)
        for cmd in (["git", "init", "-q", "-b", "main", work],
                    ["git", "-C", work, "commit", "-q", "--allow-empty", "-m", "first"]):
            run(cmd, env=env, check=True)
        with open(os.path.join(work, "README"), "w") as f:
            f.write("cloned through cordon\n")
        run(["git", "-C", work, "add", "README"], env=env, check=True)
        run(["git", "-C", work, "commit", "-q", "-m", "readme"], env=env, check=True)
        run(["git", "clone", "-q", "--bare", work, os.path.join(self.root, "git", "repo.git")], env=env, check=True)

    def certificate(self):
        self.cert = os.path.join(self.root, "cert.pem")
        self.key = os.path.join(self.root, "key.pem")
        r = run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=cordon-lab",
                 "-addext", "subjectAltName=DNS:web.test,DNS:pypi.test,DNS:files.test",
                 "-keyout", self.key, "-out", self.cert])
        if r.returncode != 0:
            skip(f"openssl cannot make a test certificate: {r.stderr.strip()}")

    def start_servers(self):
        self.start(self.in_server_ns([sys.executable, os.path.join(HERE, "lab_servers.py"), self.root, self.log,
                                      self.cert, self.key]), "lab servers")

    def requests(self):
        with open(self.log) as f:
            return f.read().splitlines()


class LoopbackServer:
    """A server on this namespace's 127.0.0.1, to show a name resolving there is refused."""

    def __init__(self, root):
        self.log = os.path.join(root, "loopback.log")
        open(self.log, "w").close()
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.proc = subprocess.Popen([sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1",
                                      "--directory", root], stderr=open(self.log, "w"), stdout=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        open(self.log, "w").close()  # forget our own readiness probe

    def hits(self):
        return [line for line in open(self.log).read().splitlines() if '"' in line]


class Proxy:
    """cordon-proxy in the foreground, as root: it drops to nobody by itself."""

    def __init__(self, exe, root, name, allowed, internal=(), limits=None, resolver="hosts-file"):
        self.decisions = os.path.join(root, f"{name}.jsonl")
        config = {"allowedDomains": allowed, "allowedInternal": list(internal), "resolver": resolver}
        if resolver == "hosts-file":
            config["hostsFile"] = os.path.join(root, "hosts")
        if limits:
            config["limits"] = limits
        path = os.path.join(root, f"{name}.json")
        with open(path, "w") as f:
            json.dump(config, f)
        self.proc = subprocess.Popen([exe, "--config", path, "--decisions", self.decisions],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("cordon-proxy listening on "):
            raise RuntimeError(f"cordon-proxy did not start: {line} {self.proc.stderr.read()}")
        self.url = line.rsplit(" ", 1)[1]

    def env(self, **extra):
        # A clean environment, as a sandbox would give: only the proxy variables and the basics
        # (this machine's CA-bundle and pip settings would otherwise override the test's own).
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": tempfile.gettempdir()}
        for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            e[k] = self.url
        e["NO_PROXY"] = e["no_proxy"] = "localhost,127.0.0.1,::1"
        e.update(extra)
        return e

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        with open(self.decisions) as f:
            return [json.loads(line) for line in f]


def curl_cases(proxy, lab, loop, root):
    ca = ["--cacert", lab.cert]
    env = proxy.env()

    def run(cmd):  # every curl in the workload's clean environment
        return globals()["run"](cmd, env=env)

    r = run(["curl", "-sS", "-x", proxy.url, "http://web.test/hello.txt"])
    check("curl http: a granted name is fetched", r.returncode == 0 and r.stdout == "hello through cordon\n", r.stderr)
    r = run(["curl", "-sS", *ca, "-x", proxy.url, "https://web.test/hello.txt"])
    check("curl https (CONNECT): a granted name is fetched", r.returncode == 0 and r.stdout == "hello through cordon\n", r.stderr)
    r = run(["curl", "-sS", "-o", os.path.join(root, "big.out"), "-w", "%{http_code}", *ca, "-x", proxy.url,
             "https://web.test/big.bin"])
    same = open(os.path.join(root, "big.out"), "rb").read() == open(os.path.join(root, "www", "big.bin"), "rb").read()
    check("curl https: 2 MiB arrive intact", r.stdout == "200" and same, r.stderr)

    r = run(["curl", "-sS", "-x", proxy.url, "-w", "\n%{http_code}", "http://other.test/hello.txt"])
    body, _, code = r.stdout.rpartition("\n")
    check("curl http: an ungranted name gets 403 whose body names cordon, the host and the reason",
          code == "403" and "cordon proxy" in body and "other.test" in body and "no granted domain pattern" in body, r.stdout)
    r = run(["curl", "-sS", "-v", *ca, "-x", proxy.url, "https://other.test/"])
    check("curl https: an ungranted CONNECT fails with 403 and cordon's reason in the response",
          r.returncode == 56 and "403 Forbidden (cordon: no granted domain pattern matches other.test:443)" in r.stderr,
          r.stderr[-600:])
    r = run(["curl", "-sS", "-x", proxy.url, f"http://loopback.test:{loop.port}/"])
    check("curl: a granted name resolving to 127.0.0.1 is refused", "127.0.0.1 is loopback" in r.stdout, r.stdout)
    r = run(["curl", "-sS", "-x", proxy.url, "http://metadata.test/latest/meta-data/"])
    check("curl: a granted name resolving to 169.254.169.254 is refused", "169.254.169.254 is cloud-metadata" in r.stdout,
          r.stdout)
    for name, address in (("azure.test", "168.63.129.16"), ("ec2v6.test", "fd00:ec2::254")):
        r = run(["curl", "-sS", "-x", proxy.url, f"http://{name}/hello.txt"])
        check(f"curl: a granted name resolving to {address} is refused", f"{address} is cloud-metadata" in r.stdout,
              r.stdout)
    r = run(["curl", "-sS", "-x", proxy.url, "http://self.test/"])
    check("curl: a granted name resolving to this host's own address is refused", "198.51.100.1 is this-host" in r.stdout,
          r.stdout)
    r = run(["curl", "-sS", "-x", proxy.url, "http://198.51.100.7/hello.txt"])
    check("curl: an IP-literal URL is refused", "IP address destinations are refused" in r.stdout, r.stdout)


def urllib_cases(proxy, lab):
    import ssl
    handler = urllib.request.ProxyHandler({"http": proxy.url, "https": proxy.url})
    ctx = ssl.create_default_context(cafile=lab.cert)
    opener = urllib.request.build_opener(handler, urllib.request.HTTPSHandler(context=ctx))
    for scheme in ("http", "https"):
        try:
            body = opener.open(f"{scheme}://web.test/hello.txt", timeout=20).read().decode()
            check(f"urllib {scheme}: a granted name is fetched", body == "hello through cordon\n", body)
        except Exception as e:  # noqa: BLE001 - report whatever the client raised
            check(f"urllib {scheme}: a granted name is fetched", False, repr(e))
    try:
        opener.open("http://other.test/hello.txt", timeout=20)
        check("urllib http: an ungranted name raises HTTPError 403", False, "no error")
    except urllib.error.HTTPError as e:
        body = e.read().decode()
        check("urllib http: an ungranted name raises HTTPError 403 naming cordon and the reason",
              e.code == 403 and "cordon proxy" in body and "other.test" in body, body)
    try:
        opener.open("https://other.test/hello.txt", timeout=20)
        check("urllib https: an ungranted tunnel is refused", False, "no error")
    except OSError as e:
        check("urllib https: the refusal names cordon and the reason",
              "403" in str(e) and "cordon: no granted domain pattern matches other.test:443" in str(e), str(e))


def pip_case(proxy, lab, root):
    if run([sys.executable, "-m", "pip", "--version"]).returncode != 0:
        return require.missing("pip", "python3 -m pip is not available", check)
    target = os.path.join(root, "site")
    env = proxy.env(PIP_CONFIG_FILE=os.devnull, PIP_NO_INPUT="1", HOME=root)
    r = run([sys.executable, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check",
             "--root-user-action=ignore", "--index-url", "https://pypi.test/simple/", "--cert", lab.cert,
             "--target", target, "cordon-probe"], env=env, timeout=180)
    check("pip installs a package from a granted index over CONNECT", r.returncode == 0, r.stdout[-800:] + r.stderr[-800:])
    r = run([sys.executable, "-c", "import cordon_probe; print(cordon_probe.VALUE)"], env=dict(os.environ, PYTHONPATH=target))
    check("pip: the installed package imports", r.stdout.strip() == "cordon-probe-ok", r.stderr)
    seen = lab.requests()
    check("pip: the index and the wheel were served by the lab (HTTPS, two granted hosts)",
          any("GET /simple/cordon-probe/" in s for s in seen) and any("GET /packages/cordon_probe" in s for s in seen),
          "\n".join(seen[-10:]))


def git_case(proxy, lab, root):
    if not lab.git_ok:
        return require.missing("git", "git is not installed", check)
    dest = os.path.join(root, "clone")
    env = proxy.env(HOME=root, GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0")
    r = run(["git", "clone", "-q", "http://git.test/repo.git", dest], env=env)
    ok = r.returncode == 0 and open(os.path.join(dest, "README")).read() == "cloned through cordon\n"
    check("git clone over smart HTTP through the proxy", ok, r.stderr)
    check("git: the smart protocol's POST went through", any("POST /repo.git/git-upload-pack" in s for s in lab.requests()),
          "\n".join(lab.requests()[-5:]))


def rebinding_case(exe, root, lab, loop):
    """The system resolver with a DNS server that answers rebind.test with a public address and
    127.0.0.1 in turn: each request is decided on the one lookup the proxy made itself."""
    conf = os.path.join(root, "resolv.conf")
    with open(conf, "w") as f:
        f.write("nameserver 198.51.100.53\noptions attempts:1 timeout:2\n")
    os.chmod(conf, 0o644)
    if run(["mount", "--bind", conf, "/etc/resolv.conf"]).returncode != 0:
        return require.missing("rebinding", "cannot bind-mount a resolv.conf in the test's mount namespace", check)
    try:
        proxy = Proxy(exe, root, "rebind", ["rebind.test"], resolver="system")
        before = len([s for s in lab.requests() if s.startswith("198.51.100.7:80")])
        results = [run(["curl", "-sS", "-x", proxy.url, f"http://rebind.test:{port}/hello.txt"], env=proxy.env()).stdout
                   for port in (80, loop.port, 80, loop.port)]
        decisions = proxy.stop()
    finally:
        run(["umount", "/etc/resolv.conf"])
    queries = [s for s in lab.requests() if s == "dns 1 rebind.test"]
    served = len([s for s in lab.requests() if s.startswith("198.51.100.7:80")]) - before
    check("system resolver: the public answer is connected to",
          results[0] == "hello through cordon\n" and results[2] == "hello through cordon\n", repr(results))
    check("system resolver: the rebound answer (127.0.0.1) is refused",
          "127.0.0.1 is loopback" in results[1] and "127.0.0.1 is loopback" in results[3], repr(results))
    check("rebinding: one lookup per request, and the loopback server never saw a request",
          len(queries) == 4 and served == 2 and not loop.hits(), f"{queries} served={served} {loop.hits()}")
    check("rebinding: decisions name the address connected to",
          [d.get("address", "") for d in decisions] == ["198.51.100.7", "", "198.51.100.7", ""], json.dumps(decisions))


def limit_case(exe, root, lab):
    small = Proxy(exe, root, "limited", ["web.test"], limits={"maxBytesPerConnection": 200000})
    out = os.path.join(root, "limited.out")
    r = run(["curl", "-sS", "-o", out, "--cacert", lab.cert, "-x", small.url, "https://web.test/big.bin"], env=small.env())
    decisions = small.stop()
    check("a byte limit ends a download that exceeds it", r.returncode != 0 and os.path.getsize(out) < 200000, r.stderr)
    check("the limit is in the decision", any("per-connection byte limit (200000 bytes)" in d.get("reason", "") for d in decisions),
          json.dumps(decisions))


def metadata_control(exe, root, lab):
    """Positive control: each metadata server is real and reachable once the operator names its address."""
    names = {"metadata.test": "169.254.169.254/32", "azure.test": "168.63.129.16/32", "ec2v6.test": "fd00:ec2::254/128"}
    named = Proxy(exe, root, "named", list(names), internal=list(names.values()))
    for name, block in names.items():
        r = run(["curl", "-sS", "-x", named.url, f"http://{name}/hello.txt"], env=named.env())
        address = block.split("/")[0]
        check(f"control: with {block} named by the operator the same request reaches the server",
              r.stdout == "hello through cordon\n" and any(s.startswith(address + ":") for s in lab.requests()),
              r.stdout + r.stderr)
    named.stop()


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    exe = os.path.abspath(sys.argv[1])
    enter_private_netns()
    if not shutil.which("curl"):
        skip("curl is not installed")
    root = tempfile.mkdtemp(prefix="cordon-proxy-lab-")
    os.chmod(root, 0o755)  # the proxy serves as nobody and reads the hosts file
    lab = Lab(root)
    try:
        lab.network()
        lab.content()
        lab.certificate()
        lab.start_servers()
        with open(os.path.join(root, "hosts"), "w") as f:
            f.write("198.51.100.7 web.test pypi.test files.test\n198.51.100.8 git.test\n203.0.113.9 other.test\n"
                    "127.0.0.1 loopback.test\n169.254.169.254 metadata.test\n198.51.100.1 self.test\n"
                    "168.63.129.16 azure.test\nfd00:ec2::254 ec2v6.test\n")
        os.chmod(os.path.join(root, "hosts"), 0o644)
        loop = LoopbackServer(root)
        lab.procs.append(loop.proc)
        granted = ["web.test", "pypi.test", "files.test", "git.test", "loopback.test", "metadata.test",
                   "self.test", "azure.test", "ec2v6.test"]
        proxy = Proxy(exe, root, "main", granted)
        curl_cases(proxy, lab, loop, root)
        urllib_cases(proxy, lab)
        pip_case(proxy, lab, root)
        git_case(proxy, lab, root)
        decisions = proxy.stop()
        seen = lab.requests()
        check("nothing reached the ungranted or internal destinations",
              not any(s.startswith(("203.0.113.9",) + METADATA) for s in seen) and not loop.hits(),
              "\n".join(seen) + "\n".join(loop.hits()))
        connects = {d["host"] for d in decisions if d["method"] == "CONNECT" and d["allowed"]}
        check("pip: its index and download hosts were both tunnelled (two grants)", {"pypi.test", "files.test"} <= connects,
              str(connects))
        denied = [d for d in decisions if not d["allowed"]]
        allowed = [d for d in decisions if d["allowed"]]
        check("every exchange is a recorded decision with its reason",
              len(allowed) >= 8 and len(denied) >= 9 and all(d.get("reason") for d in denied)
              and all(d.get("address") for d in allowed), json.dumps(decisions, indent=1)[-2000:])
        metadata_control(exe, root, lab)
        limit_case(exe, root, lab)
        rebinding_case(exe, root, lab, loop)
    finally:
        lab.close()
        shutil.rmtree(root, ignore_errors=True)
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

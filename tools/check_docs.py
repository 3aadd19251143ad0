#!/usr/bin/env python3
"""Keep the documentation true: run by `meson test docs`.

* In README.md and docs/**/*.md, a fenced block right after `<!-- file: PATH -->` must equal PATH
  exactly (the docs show tested code, not a copy that drifts).
* Every shell block (```sh, ```bash, ```shell) runs with bash -euo pipefail and must succeed,
  unless `<!-- no-run: REASON -->` right before it says why it cannot run here (the reason is
  required). `<!-- run -->` is still accepted and changes nothing.
* The example of every command's `--help` (`cordon --help` lists them) runs the same way.
* User docs stand alone: they cite nothing a user of this repository does not have (the
  reference data next to the source tree: ../shared/..., mxc-contract.md, mxc-1.0.md).

Each block runs as a user would: in a fresh directory holding links to the source tree's top-level
entries (so `examples/...` and `scripts/...` work) and `build` (the build under test), with a fresh
HOME, the build's `cordon` first on PATH, no MXC_BIN_DIR, and cordon's cache (CORDON_MXC_CACHE)
already holding the executor from $MXC_BIN_DIR, as `cordon setup` leaves it. A --help example
runs without the links: it is for an installed cordon, which has no source tree.

meson runs this as an unprivileged user when the tests run as root (tests/as_test_user.sh, the
`docs` test), as a real user would be, and as root itself (`docs-as-root`, with --as-root: skipped
unless root), where cordon runs the sandbox as nobody: the examples must work for both.
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(?:<!-- (?P<mark>file: (?P<file>\S+)|run|no-run:(?P<why>[^>]*)) -->\n)?"
                   r"^```(?P<lang>[a-z]*)\n(?P<body>.*?)^```", re.S | re.M)
SHELLS = {"sh", "bash", "shell"}
NOT_FOR_USERS = re.compile(r"\.\./shared/|(?<![\w-])mxc-contract\.md|(?<![\w-])mxc-1\.0\.md")


def user_docs():
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def seed_cache(cache):
    """cordon's cache as `cordon setup` leaves it, from $MXC_BIN_DIR (no network)."""
    bin_dir = os.environ.get("MXC_BIN_DIR")
    if not bin_dir or not pathlib.Path(bin_dir).is_dir():
        print("check_docs: MXC_BIN_DIR is not set: blocks that need the executor will fetch it or fail")
        return
    caps = (ROOT / "include" / "cordon" / "capabilities.hpp").read_text(encoding="utf-8")
    sdk = re.search(r'default_sdk_version = "([^"]+)"', caps).group(1)
    shutil.copytree(bin_dir, cache / sdk / "bin", symlinks=False)


def run_script(script, build, cache, source_tree=True):
    with tempfile.TemporaryDirectory(prefix="cordon-docs-") as tmp:
        # Searchable, as a user's home is: as root the sandbox runs as nobody, who must reach it.
        os.chmod(tmp, 0o755)
        work, home = pathlib.Path(tmp) / "work", pathlib.Path(tmp) / "home"
        work.mkdir()
        home.mkdir()
        if source_tree:
            for entry in ROOT.iterdir():
                if not entry.name.startswith((".", "build")):
                    (work / entry.name).symlink_to(entry)
            (work / "build").symlink_to(build)
        env = {k: v for k, v in os.environ.items() if k != "MXC_BIN_DIR" and not k.startswith("CORDON_")}
        env.update(HOME=str(home), PATH=f"{build / 'tools'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                   CORDON_MXC_CACHE=str(cache), TMPDIR=tmp)
        return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=work, env=env,
                              capture_output=True, text=True, timeout=300)


def help_examples(build):
    """(label, script) for the Example: section of every command's --help."""
    cordon = str(build / "tools" / "cordon")
    top = subprocess.run([cordon, "--help"], capture_output=True, text=True, check=True).stdout
    names = re.findall(r"^  (\w+) ", top.split("Commands:", 1)[1], re.M)
    for name in names:
        text = subprocess.run([cordon, name, "--help"], capture_output=True, text=True, check=True).stdout
        if "\nExample:\n" not in text:
            yield f"cordon {name} --help", None
            continue
        lines = text.split("\nExample:\n", 1)[1].splitlines()
        yield f"cordon {name} --help", "\n".join(line[2:] for line in lines) + "\n"


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--as-root"]
    if "--as-root" in sys.argv[1:] and os.geteuid() != 0:
        print("SKIP: --as-root: not running as root (the `docs` test covers an unprivileged user)")
        return 77
    build = pathlib.Path(args[0]).resolve() if args else ROOT / "build"
    failures, ran, skipped, compared = [], 0, [], 0
    with tempfile.TemporaryDirectory(prefix="cordon-docs-cache-") as cache_dir:
        cache = pathlib.Path(cache_dir) / "mxc"
        seed_cache(cache)
        jobs = []
        for doc in user_docs():
            text = doc.read_text(encoding="utf-8")
            rel = doc.relative_to(ROOT)
            for m in NOT_FOR_USERS.finditer(text):
                failures.append(f"{rel}:{text[:m.start()].count(chr(10)) + 1}: cites {m.group(0)!r}, "
                                "which a user of this repository does not have")
            for m in BLOCK.finditer(text):
                where = f"{rel}:{text[:m.start('lang')].count(chr(10)) + 1}"
                if m.group("file"):
                    compared += 1
                    target = ROOT / m.group("file")
                    if not target.exists() or target.read_text(encoding="utf-8") != m.group("body"):
                        failures.append(f"{where}: block differs from {m.group('file')}")
                elif m.group("lang") in SHELLS:
                    if m.group("mark") and m.group("mark").startswith("no-run"):
                        if not m.group("why").strip():
                            failures.append(f"{where}: <!-- no-run: --> without a reason")
                        skipped.append(f"{where}: {m.group('why').strip()}")
                    else:
                        jobs.append((where, m.group("body"), True))
        for label, script in help_examples(build):
            if script is None:
                failures.append(f"{label}: no Example: section")
            else:
                jobs.append((label, script, False))
        for where, script, source_tree in jobs:
            ran += 1
            r = run_script(script, build, cache, source_tree)
            if r.returncode != 0:
                failures.append(f"{where}: exit {r.returncode}\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    for s in skipped:
        print("not run:", s)
    for f in failures:
        print("FAIL", f)
    print(f"check_docs: {ran} shell blocks and --help examples run, {compared} file blocks compared, "
          f"{len(skipped)} marked no-run, {len(failures)} failed")
    return 1 if failures or ran == 0 else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Python reference for `cordon-bench pipeline`: the same steps on the same files, for comparison.

Per iteration: json.loads + jsonschema validation of the request, os.path.realpath containment of
every path against the ceiling roots (canonicalised once, at load), the search for Unix sockets in
every granted tree (os.scandir, as cordon masks them), timeout/env/cwd/network rules, json.dumps of
the result and the report, jsonschema validation of the result. Prints one JSON line
like cordon-bench: {"op":"pipeline-python","iterations":N,"us_per_op":X}.

    bench/pipeline_reference.py --ceiling FILE --request FILE [--iterations N] [--schema FILE]
"""
import argparse
import fnmatch
import json
import os
import pathlib
import stat
import sys
import time

from jsonschema import Draft7Validator

ROOT = pathlib.Path(__file__).resolve().parent.parent
DANGEROUS = ("LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "DYLD_*", "BASH_ENV", "ENV", "PYTHONSTARTUP")


def sockets_below(root):
    """Every Unix socket at or below root, symlinks not followed (cordon masks each one it grants)."""
    found, pending = [], [root]
    try:
        if stat.S_ISSOCK(os.lstat(root).st_mode):
            return [root]
    except OSError:
        return []
    while pending:
        d = pending.pop()
        try:
            with os.scandir(d) as it:
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        pending.append(e.path)
                    elif not e.is_file(follow_symlinks=False) and not e.is_symlink() and \
                            stat.S_ISSOCK(e.stat(follow_symlinks=False).st_mode):
                        found.append(e.path)
        except NotADirectoryError:
            pass
    return found


def within(child, root):
    return child == root or child.startswith(root if root.endswith("/") else root + "/")


def clamp(req, ceiling):
    rw_roots, ro_roots, limit, allow = ceiling
    report, rw_out, ro_out = [], [], []
    for want_rw, key in ((True, "readwritePaths"), (False, "readonlyPaths")):
        for i, p in enumerate(req.get("filesystem", {}).get(key, [])):
            real = os.path.realpath(os.path.expanduser(p))
            field = f"/filesystem/{key}/{i}"
            if any(within(real, r) for r in rw_roots):
                (rw_out if want_rw else ro_out).append(real)
                report.append({"field": field, "verdict": "kept"})
            elif any(within(real, r) for r in ro_roots):
                ro_out.append(real)
                report.append({"field": field, "verdict": "downgraded" if want_rw else "kept"})
            else:
                below = [r for r in rw_roots if within(r, real)]
                below_ro = [r for r in ro_roots if within(r, real)]
                (rw_out if want_rw else ro_out).extend(below)
                ro_out.extend(below_ro)
                report.append({"field": field, "verdict": "narrowed" if below or below_ro else "dropped"})
    proc = req["process"]
    out_proc = {"commandLine": proc["commandLine"]}
    env = []
    for i, entry in enumerate(proc.get("env", [])):
        name = entry.split("=", 1)[0]
        exact = name in allow
        ok = "=" in entry and any(fnmatch.fnmatchcase(name, a) for a in allow)
        if any(fnmatch.fnmatchcase(name.upper(), d) for d in DANGEROUS) and not exact:
            ok = False
        if ok:
            env.append(entry)
        report.append({"field": f"/process/env/{i}", "verdict": "kept" if ok else "dropped"})
    if env:
        out_proc["env"] = env
    asked = proc.get("timeout", 0)
    timeout = asked if limit == 0 else (limit if asked == 0 else min(asked, limit))
    if timeout:
        out_proc["timeout"] = timeout
    report.append({"field": "/process/timeout", "verdict": "kept" if timeout == asked else "narrowed"})
    granted = rw_out + ro_out
    if "cwd" in proc:
        cwd = os.path.realpath(proc["cwd"])
        keep = os.path.exists(cwd) and any(within(cwd, g) for g in granted)
        if keep:
            out_proc["cwd"] = cwd
        report.append({"field": "/process/cwd", "verdict": "kept" if keep else "dropped"})
    denied = []
    for g in dict.fromkeys(rw_out + ro_out):
        denied.extend(s for s in sockets_below(g) if s not in denied)
    out = {"version": "0.6.0-alpha", "containment": "bubblewrap", "process": out_proc,
           "network": {"defaultPolicy": "block"}}
    fs = {}
    if rw_out:
        fs["readwritePaths"] = list(dict.fromkeys(rw_out))
    ro = [p for p in dict.fromkeys(ro_out) if p not in rw_out]
    if ro:
        fs["readonlyPaths"] = ro
    if denied:
        fs["deniedPaths"] = denied
    if fs:
        out["filesystem"] = fs
    return out, report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ceiling", required=True)
    ap.add_argument("--request", required=True)
    ap.add_argument("--iterations", type=int, default=1000)
    ap.add_argument("--schema", default=str(ROOT / "schemas" / "mxc-config-0.6.0-alpha.schema.json"))
    a = ap.parse_args()
    validator = Draft7Validator(json.loads(pathlib.Path(a.schema).read_text()))
    c = json.loads(pathlib.Path(a.ceiling).read_text())
    canon = lambda ps: [os.path.realpath(os.path.expanduser(p)) for p in ps]  # once, at load
    ceiling = (canon(c.get("readwritePaths", [])), canon(c.get("readonlyPaths", [])), c.get("timeout", 0),
               c.get("env", {}).get("allow", []))
    text = pathlib.Path(a.request).read_text()

    def one_pass():
        req = json.loads(text)
        errors = list(validator.iter_errors(req))
        if errors:
            sys.exit(f"request: {errors[0].message}")
        out, report = clamp(req, ceiling)
        errors = list(validator.iter_errors(out))
        if errors:
            sys.exit(f"result: {errors[0].message}")
        return len(json.dumps(out, separators=(",", ":"))) + len(json.dumps(report))

    one_pass()
    start = time.perf_counter()
    for _ in range(a.iterations):
        one_pass()
    us = (time.perf_counter() - start) * 1e6 / a.iterations
    print(json.dumps({"op": "pipeline-python", "iterations": a.iterations, "us_per_op": round(us, 3)},
                     separators=(",", ":")))


if __name__ == "__main__":
    main()

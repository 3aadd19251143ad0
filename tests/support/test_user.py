"""The unprivileged user the Python network tests run cordon as (tests/support/test_user.hpp's
`cordon-test` for the C++ tests): created when missing, and the setpriv prefix that becomes it."""
import json
import os
import pwd
import subprocess

USER = "cordon-test"


def test_user(skip):
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", USER], capture_output=True)
        try:
            return pwd.getpwnam(USER)
        except KeyError:
            skip(f"cannot create the unprivileged user {USER}")


def as_user(cmd):
    return ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all"] + cmd


def write_ceiling(path, body, who):
    """A ceiling file for a run by `who` ("root" or the test user): as root, the ceiling names the
    test user (runAs), since cordon never runs a sandbox as root. World-readable, for either."""
    body = dict(body, runAs=USER) if who == "root" else body
    with open(path, "w") as f:
        json.dump(body, f)
    os.chmod(path, 0o644)
    return path

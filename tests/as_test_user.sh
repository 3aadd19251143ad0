#!/usr/bin/env bash
# Runs a test program as an unprivileged user (CI runs as root; cordon must work for any user).
#   as_test_user.sh PROGRAM [ARGS...]
# As root: creates the system user cordon-test when missing (useradd), copies $MXC_BIN_DIR where
# that user can read it (the cache under /root is private), and runs PROGRAM with setpriv as that
# user: no supplementary groups, no capabilities. Not root: runs PROGRAM as is. Exits 77 (skip)
# with the reason when the user cannot be made or setpriv is missing.
set -uo pipefail
user=cordon-test
if [ "$(id -u)" -ne 0 ]; then exec "$@"; fi
skip() { echo "SKIP: $*"; exit 77; }
command -v setpriv >/dev/null 2>&1 || skip "setpriv (util-linux) is not installed"
for attempt in 1 2 3 4 5 6 7 8 9 10; do  # test programs may race to create it
  id -u "$user" >/dev/null 2>&1 && break
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user" \
    >/dev/null 2>&1 || sleep 0.$attempt
done
id -u "$user" >/dev/null 2>&1 || skip "cannot create the unprivileged user $user (useradd failed)"

tmp=$(mktemp -d /tmp/cordon-as-user-XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
if [ -n "${MXC_BIN_DIR:-}" ] && [ -d "$MXC_BIN_DIR" ]; then
  cp -a "$MXC_BIN_DIR" "$tmp/bin"  # root-owned, 0755: trusted by the executor checks, readable by the user
  export MXC_BIN_DIR="$tmp/bin"
fi
echo "running as $user (uid $(id -u "$user")): $*"
setpriv --reuid="$user" --regid="$user" --clear-groups --inh-caps=-all --bounding-set=-all \
  env HOME=/nonexistent TMPDIR=/tmp "$@"

#!/usr/bin/env bash
# The README's main job, checked: the demo matrix runs for real and every row is as expected.
#   demo_matrix_test.sh DEMO_MATRIX PLUGIN_DIR
set -uo pipefail
demo=$1 plugins=$2
out=$("$demo" --plugin-dir "$plugins" 2>&1); rc=$?
echo "$out"
if [ $rc -eq 3 ] && [ -z "${CORDON_REQUIRE_EXECUTOR:-}" ]; then
  echo "SKIP: the demo could not make a runner (no executor installed: scripts/setup_sandbox.sh)"; exit 77
fi
[ $rc -eq 0 ] || { echo "demo_matrix exited $rc"; exit 1; }
for row in "write to Documents +BLOCKED +BLOCKED" "read from Documents +ALLOWED +ALLOWED" \
           "write to scratch \(temp\) +ALLOWED +ALLOWED" "read outside the ceiling +BLOCKED +BLOCKED" \
           "network to the host +BLOCKED +BLOCKED"; do
  echo "$out" | grep -Eq "$row" || { echo "missing row: $row"; exit 1; }
done
if [ "$(id -u)" -eq 0 ]; then  # the egress rows run in a throwaway network namespace: root only
  for row in "egress to the allowed port +ALLOWED +ALLOWED +listener on 198.51.100.7" \
             "egress to another port +BLOCKED +BLOCKED +the other port's listener saw nothing" \
             "domain in the ceiling +ALLOWED +ALLOWED +allowed.demo's listener got the tunnel" \
             "domain outside it +BLOCKED +BLOCKED +cordon's proxy answered 403; denied.demo's listener saw nothing"; do
    echo "$out" | grep -Eq "$row" || { echo "missing row: $row"; exit 1; }
  done
  echo "$out" | grep -q "all 9 verdicts as expected"
else
  echo "$out" | grep -q "all 5 verdicts as expected"
fi

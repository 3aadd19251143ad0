#!/usr/bin/env bash
# The README's main job: installs what it needs (packages, the pinned MXC executor), builds cordon,
# and runs the demo matrix in the real sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
eval "$(scripts/setup_sandbox.sh --strict --print-env)"
if [ -f build/build.ninja ]; then meson setup --reconfigure --wrap-mode=nofallback build >/dev/null
else meson setup --wrap-mode=nofallback build >/dev/null; fi
ninja -C build examples/demo_matrix backends/bubblewrap/cordon-backend-bubblewrap.so tools/cordon >/dev/null

echo "cordon check on the shipped example policies:"
build/tools/cordon check examples/policies/*.json
echo
build/examples/demo_matrix --plugin-dir build/backends/bubblewrap

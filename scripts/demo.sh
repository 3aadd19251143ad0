#!/usr/bin/env bash
# The README's main job: installs what it needs, builds cordon, and runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
if [ -f build/build.ninja ]; then meson setup --reconfigure --wrap-mode=nofallback build >/dev/null
else meson setup --wrap-mode=nofallback build >/dev/null; fi
ninja -C build tools/cordon >/dev/null

echo "cordon check on the shipped example policies:"
build/tools/cordon check examples/policies/*.json

#!/usr/bin/env bash
# The processcontainer module must export exactly one symbol, cordon_backend_entry_v1 (docs/backend-abi.md).
#   check_exports.sh OBJDUMP MODULE.dll
set -euo pipefail
objdump=$1; module=$2
dump=$("$objdump" -p "$module")
exports=$(awk '/\[Ordinal\/Name Pointer\] Table/{t=1; next} t && /^[ \t]*\[/{print $NF; next} t{exit}' <<< "$dump")
echo "exports of $(basename "$module"): ${exports:-<none>}"
[ "$exports" = "cordon_backend_entry_v1" ] || { echo "expected exactly cordon_backend_entry_v1"; exit 1; }
echo "1 passed, 0 failed"

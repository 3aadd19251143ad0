// SPDX-License-Identifier: MIT
// Test-only bridge: MCP Streamable HTTP (what the conformance suite speaks) to `cordon mcp` on stdio.
// Each HTTP session starts its own `cordon mcp`; messages pass through unchanged, in both directions.
// Usage: node http_bridge.mjs CORDON_EXE CEILING_FILE   (prints "listening PORT" once ready)
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const [cordon, ceiling] = process.argv.slice(2);
const sessions = new Map();  // session id -> {http, stdio}

function isResponse(m) { return m.id !== undefined && (m.result !== undefined || m.error !== undefined) && !m.method; }

async function newSession() {
  const stdio = new StdioClientTransport({
    command: cordon,
    args: ['mcp', '--ceiling', ceiling, '--progress-interval', '200'],
    env: { PATH: process.env.PATH, MXC_BIN_DIR: process.env.MXC_BIN_DIR ?? '' },
    stderr: 'inherit',
  });
  const pending = new Map();  // request id -> progress token (or null)
  const web = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (id) => sessions.set(id, { web, stdio }),
  });
  web.onmessage = (message) => {
    if (message.method && message.id !== undefined) pending.set(message.id, message.params?._meta?.progressToken ?? null);
    stdio.send(message).catch((e) => console.error('bridge: to cordon:', e.message));
  };
  web.onclose = () => { stdio.close(); };
  stdio.onmessage = (message) => {
    // Responses find their HTTP stream by id; request-scoped notifications need to be told theirs.
    let related;
    if (isResponse(message)) pending.delete(message.id);
    else if (message.method === 'notifications/progress') {
      for (const [id, token] of pending) if (token === message.params.progressToken) related = id;
    } else if (pending.size === 1) related = [...pending.keys()][0];
    web.send(message, related === undefined ? undefined : { relatedRequestId: related })
      .catch((e) => console.error('bridge: to client:', e.message));
  };
  await stdio.start();
  return web;
}

const server = http.createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    const id = req.headers['mcp-session-id'];
    let web = id ? sessions.get(id)?.web : undefined;
    if (!web && !id && req.method === 'POST') web = await newSession();
    if (!web) {
      res.writeHead(id ? 404 : 400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'unknown or missing session' } }));
      return;
    }
    await web.handleRequest(req, res, body);
  } catch (e) {
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: String(e.message) } }));
  }
});

server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', async () => {
  for (const { stdio } of sessions.values()) await stdio.close();
  process.exit(0);
});

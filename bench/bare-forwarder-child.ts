/**
 * Benchmark child: the yardstick the speed targets are set against — a bare forwarder of about
 * sixty lines with no authentication, accounting, routing or limits: parse the JSON body, map the
 * model, forward over a keep-alive pool, pass the answer back. What it costs on the machine at
 * hand says how much of Freeway's cost is Node's HTTP itself.
 *
 * argv: <emulator url> <emulator api key>
 */
import { Agent, createServer, request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ready, serveParent } from './child-ipc.ts';

const [emulatorUrl, emulatorKey] = process.argv.slice(2);
if (!emulatorUrl || !emulatorKey) throw new Error('usage: bare-forwarder-child.ts <emulator url> <api key>');
const upstream = new URL(`${emulatorUrl}/v1/chat/completions`);
// No socket cap, as in Freeway: the many-streams phase holds thousands of upstream requests at once.
const agent = new Agent({ keepAlive: true });

function fail(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ error: { code: status, message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function forward(_req: IncomingMessage, res: ServerResponse, raw: string): void {
  let body: { model?: unknown };
  try {
    body = JSON.parse(raw) as { model?: unknown };
  } catch {
    return fail(res, 400, 'invalid JSON');
  }
  if (typeof body.model !== 'string') return fail(res, 400, 'model is required');
  body.model = body.model.replace(/^openai\//, '');
  const out = JSON.stringify(body);
  const up = request(upstream, {
    method: 'POST',
    agent,
    headers: { authorization: `Bearer ${emulatorKey}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) },
  });
  up.on('response', (u) => {
    const headers: Record<string, string> = { 'content-type': String(u.headers['content-type'] ?? 'application/json') };
    if (u.headers['content-length']) headers['content-length'] = String(u.headers['content-length']);
    res.writeHead(u.statusCode ?? 502, headers);
    u.pipe(res);
  });
  up.on('error', (e) => (res.headersSent ? res.destroy() : fail(res, 502, e.message)));
  res.on('close', () => up.destroy());
  up.end(out);
}

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => forward(req, res, Buffer.concat(parts).toString()));
});
server.keepAliveTimeout = 60_000;
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  serveParent({
    close() {
      server.close();
      agent.destroy();
      setImmediate(() => process.exit(0));
      return true;
    },
  });
  ready({ url: `http://127.0.0.1:${addr.port}` });
});

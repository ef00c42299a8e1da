/**
 * The upstream HTTP client against a local node:http server: passthrough, error mapping, network
 * failures, both timeouts, cancellation, keep-alive reuse and secret redaction.
 */
import assert from 'node:assert/strict';
import { getEventListeners, once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { GatewayError } from '../../src/spec/errors.ts';
import { UpstreamTimeoutError, callUpstream, networkError, readJson, readText } from '../../src/providers/http-client.ts';
import type { UpstreamCall } from '../../src/providers/http-client.ts';
import { parseOpenAIError } from '../../src/providers/openai-compatible/parse-error.ts';

/** No test may hang the suite. */
const T = { timeout: 10_000 };

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

const routes = new Map<string, Handler>();
/** Every server-side socket close, by path of the last request that was on it. */
const closed = new Map<string, number>();
const lastPath = new WeakMap<Socket, string>();
let server: http.Server;
let base: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

before(async () => {
  server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    lastPath.set(req.socket, path);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const handler = routes.get(path);
      if (!handler) {
        res.writeHead(404).end('no route');
        return;
      }
      handler(req, res, Buffer.concat(chunks).toString());
    });
  });
  server.on('connection', (socket: Socket) => {
    socket.once('close', () => {
      const path = lastPath.get(socket);
      if (path !== undefined) closed.set(path, (closed.get(path) ?? 0) + 1);
    });
  });
  server.keepAliveTimeout = 10_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

function call(path: string, extra: Partial<UpstreamCall> = {}): UpstreamCall {
  return {
    providerName: 'TestProvider',
    url: base + path,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ hello: 'wörld' }),
    signal: new AbortController().signal,
    parseError: parseOpenAIError,
    ...extra,
  };
}

async function rejection(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`);
    return err;
  }
  return assert.fail('expected a rejection');
}

test('a 2xx resolves with status, headers and a body that streams chunk by chunk', T, async () => {
  let seen: { headers: http.IncomingHttpHeaders; body: string; method?: string } | undefined;
  routes.set('/stream', (req, res, body) => {
    seen = { headers: req.headers, body, method: req.method };
    res.writeHead(200, { 'content-type': 'text/event-stream', 'x-upstream': 'yes' });
    res.write('data: one\n\n');
    setTimeout(() => res.write('data: two\n\n'), 20);
    setTimeout(() => res.end('data: [DONE]\n\n'), 40);
  });
  const res = await callUpstream(call('/stream'));
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-upstream'], 'yes');
  const chunks: string[] = [];
  for await (const c of res.body) chunks.push(Buffer.from(c as Buffer).toString());
  assert.ok(chunks.length >= 2, `several chunks, got ${chunks.length}`);
  assert.equal(chunks.join(''), 'data: one\n\ndata: two\n\ndata: [DONE]\n\n');

  assert.ok(seen);
  assert.equal(seen.method, 'POST');
  assert.equal(seen.body, '{"hello":"wörld"}');
  assert.equal(seen.headers['content-length'], String(Buffer.byteLength('{"hello":"wörld"}')));
  assert.equal(seen.headers['transfer-encoding'], undefined);
  assert.equal(seen.headers['accept-encoding'], undefined);
  assert.equal(seen.headers['content-type'], 'application/json');
});

test('GET without a body, and readJson / readText read whole bodies', T, async () => {
  routes.set('/models', (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"data":[{"id":"a"},');
    setTimeout(() => res.end(`{"id":"${req.method}"}]}`), 10);
  });
  const res = await callUpstream(call('/models', { method: 'GET', body: undefined }));
  assert.deepEqual(await readJson('TestProvider', res, new AbortController().signal), { data: [{ id: 'a' }, { id: 'GET' }] });

  routes.set('/text', (_req, res) => res.end('plain ✓'));
  const res2 = await callUpstream(call('/text'));
  assert.equal(await readText(res2.body), 'plain ✓');

  // Any async iterable, with a multi-byte character split across chunks.
  const bytes = Buffer.from('é');
  async function* gen() {
    yield bytes.subarray(0, 1);
    yield bytes.subarray(1);
  }
  assert.equal(await readText(gen()), 'é');
});

test('a 2xx body that is not JSON is a 502 naming the provider', T, async () => {
  routes.set('/notjson', (_req, res) => res.end('<html>oops</html>'));
  const res = await callUpstream(call('/notjson'));
  const err = await rejection(readJson('TestProvider', res, new AbortController().signal));
  assert.equal(err.status, 502);
  assert.match(err.message, /TestProvider returned a response that is not JSON/);
});

test('a non-2xx becomes a GatewayError with the mapped status, the upstream message and retry-after', T, async () => {
  routes.set('/429', (_req, res) => {
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
    res.end(JSON.stringify({ error: { message: 'slow down', type: 'rate_limit', code: 'rl' } }));
  });
  const err = await rejection(callUpstream(call('/429')));
  assert.equal(err.type, 'rate_limit_exceeded');
  assert.equal(err.status, 429);
  assert.equal(err.retryAfter, 7);
  assert.equal(err.headers['retry-after'], '7');
  assert.match(err.message, /TestProvider returned HTTP 429: slow down/);
  assert.equal(err.metadata.provider_status, 429);

  routes.set('/503', (_req, res) => res.writeHead(503).end('overloaded, try later'));
  const err2 = await rejection(callUpstream(call('/503')));
  assert.equal(err2.type, 'provider_overloaded');
  assert.equal(err2.status, 503);
  assert.match(err2.message, /overloaded, try later/);

  routes.set('/400', (_req, res) => res.writeHead(400).end('{"error":{"message":"bad field"}}'));
  const err3 = await rejection(callUpstream(call('/400')));
  assert.equal(err3.status, 400);
  assert.equal(err3.retryable, false);
});

test('the provider key is redacted from errors even when the upstream echoes it', T, async () => {
  const secret = 'sk-test-SUPERSECRET-1234';
  routes.set('/401', (req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${req.headers.authorization}` } }));
  });
  const err = await rejection(callUpstream(call('/401', { headers: { authorization: `Bearer ${secret}` }, secret })));
  assert.equal(err.status, 502);
  assert.ok(!err.message.includes(secret), err.message);
  assert.ok(!JSON.stringify(err.metadata).includes(secret));
  assert.match(err.message, /\[REDACTED\]/);
});

test('a refused connection is "Could not reach <provider> (ECONNREFUSED)"', T, async () => {
  const s = http.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  s.close();
  await once(s, 'close');
  const err = await rejection(callUpstream(call('/x', { url: `http://127.0.0.1:${port}/x` })));
  assert.equal(err.type, 'provider_unavailable');
  assert.equal(err.status, 502);
  assert.equal(err.message, 'Could not reach TestProvider (ECONNREFUSED)');
});

test('a connection dropped before the headers is a network error', T, async () => {
  routes.set('/hangup', (req) => req.socket.destroy());
  const err = await rejection(callUpstream(call('/hangup')));
  assert.equal(err.type, 'provider_unavailable');
  assert.equal(err.message, 'Could not reach TestProvider (ECONNRESET)');
});

test('a body cut off mid-stream makes the iteration throw', T, async () => {
  routes.set('/cut', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: one\n\n');
    setTimeout(() => res.socket?.destroy(), 20);
  });
  const res = await callUpstream(call('/cut'));
  await assert.rejects(
    async () => {
      for await (const _ of res.body) void _;
    },
    (err: unknown) => networkError('TestProvider', err).type === 'provider_unavailable',
  );
});

test('no response headers within firstTokenMs is a 504 timeout naming the provider, and the socket is closed', T, async () => {
  routes.set('/slow-headers', () => {
    // never answers
  });
  const t0 = Date.now();
  const err = await rejection(callUpstream(call('/slow-headers', { timeouts: { firstTokenMs: 100, idleMs: 10_000 } })));
  const took = Date.now() - t0;
  assert.equal(err.type, 'timeout');
  assert.equal(err.status, 504);
  assert.match(err.message, /TestProvider did not respond in time/);
  assert.ok(took >= 90 && took < 2000, `took ${took} ms`);
  await waitFor(() => closed.get('/slow-headers') === 1, 'the server to see the socket close');
});

test('idleMs does not cut short a slow first byte', T, async () => {
  routes.set('/slow-but-ok', (_req, res) => setTimeout(() => res.end('{"ok":true}'), 150));
  const res = await callUpstream(call('/slow-but-ok', { timeouts: { firstTokenMs: 2000, idleMs: 50 } }));
  assert.deepEqual(await readJson('TestProvider', res, new AbortController().signal), { ok: true });
});

test('silence longer than idleMs mid-body makes the body iteration throw a timeout', T, async () => {
  routes.set('/stall', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: one\n\n');
    setTimeout(() => res.write('data: two\n\n'), 50);
    // then silence
  });
  const res = await callUpstream(call('/stall', { timeouts: { firstTokenMs: 2000, idleMs: 150 } }));
  const got: string[] = [];
  const t0 = Date.now();
  let thrown: unknown;
  try {
    for await (const c of res.body) got.push(String(c));
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown instanceof UpstreamTimeoutError, `threw ${String(thrown)}`);
  assert.equal(got.join(''), 'data: one\n\ndata: two\n\n');
  assert.ok(Date.now() - t0 >= 140, 'waited for the silence');
  const mapped = networkError('TestProvider', thrown, new AbortController().signal);
  assert.equal(mapped.type, 'timeout');
  assert.equal(mapped.status, 504);
  assert.match(mapped.message, /TestProvider/);
  await waitFor(() => closed.get('/stall') === 1, 'the server to see the socket close');
});

test('after a first byte slower than idleMs, a stall in the body still times out', T, async () => {
  routes.set('/slow-then-stall', (_req, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
    }, 200);
  });
  const res = await callUpstream(call('/slow-then-stall', { timeouts: { firstTokenMs: 2000, idleMs: 80 } }));
  const t0 = Date.now();
  await assert.rejects(async () => {
    for await (const _ of res.body) void _;
  }, UpstreamTimeoutError);
  const took = Date.now() - t0;
  assert.ok(took >= 60 && took < 1000, `took ${took} ms`);
});

test('readJson on a stalled body is a timeout too', T, async () => {
  routes.set('/stall-json', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"partial":');
  });
  const res = await callUpstream(call('/stall-json', { timeouts: { firstTokenMs: 2000, idleMs: 100 } }));
  const err = await rejection(readJson('TestProvider', res, new AbortController().signal));
  assert.equal(err.type, 'timeout');
  assert.equal(err.status, 504);
});

test('aborting before the headers rejects with the 499 cancelled error and closes the upstream socket', T, async () => {
  let arrived = false;
  routes.set('/abort-early', () => {
    arrived = true;
  });
  const controller = new AbortController();
  const p = callUpstream(call('/abort-early', { signal: controller.signal }));
  await waitFor(() => arrived, 'the request to reach the server');
  controller.abort();
  const err = await rejection(p);
  assert.equal(err.status, 499);
  assert.equal(err.message, 'Request to TestProvider was cancelled');
  const expected = networkError('TestProvider', undefined, controller.signal);
  assert.deepEqual([err.type, err.retryable, err.metadata], [expected.type, expected.retryable, expected.metadata]);
  await waitFor(() => closed.get('/abort-early') === 1, 'the server to see the socket close');
});

test('an already-aborted signal rejects without sending anything', T, async () => {
  const controller = new AbortController();
  controller.abort();
  routes.set('/never', () => assert.fail('must not be sent'));
  const err = await rejection(callUpstream(call('/never', { signal: controller.signal })));
  assert.equal(err.status, 499);
});

test('aborting mid-body makes the iteration throw at once and closes the upstream socket', T, async () => {
  routes.set('/abort-mid', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: one\n\n');
    const t = setInterval(() => res.write(': ping\n\n'), 1000);
    res.on('close', () => clearInterval(t));
  });
  const controller = new AbortController();
  const res = await callUpstream(call('/abort-mid', { signal: controller.signal }));
  const t0 = Date.now();
  let thrown: unknown;
  try {
    for await (const _ of res.body) {
      void _;
      controller.abort();
    }
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown !== undefined, 'the iteration threw');
  assert.ok(Date.now() - t0 < 500, 'immediately');
  const mapped = networkError('TestProvider', thrown, controller.signal);
  assert.equal(mapped.status, 499);
  await waitFor(() => closed.get('/abort-mid') === 1, 'the server to see the socket close');
});

test('sequential requests reuse one keep-alive socket without piling up listeners', T, async () => {
  const ports: number[] = [];
  routes.set('/ka', (req, res) => {
    ports.push(req.socket.remotePort ?? -1);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"n":1}');
  });
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    // One signal shared by many calls, like one gateway request trying several endpoints.
    const signal = new AbortController().signal;
    const counts: number[][] = [];
    for (let i = 0; i < 30; i++) {
      const res = await callUpstream(call('/ka', { signal }));
      const socket = res.body.socket;
      await readJson('TestProvider', res, signal);
      await sleep(0);
      counts.push(['timeout', 'error', 'close', 'end', 'data', 'free'].map((e) => socket.listenerCount(e)));
    }
    // Error responses read their body and also hand the socket back.
    routes.set('/ka-err', (req, res) => {
      ports.push(req.socket.remotePort ?? -1);
      res.writeHead(500).end('boom');
    });
    for (let i = 0; i < 5; i++) await rejection(callUpstream(call('/ka-err', { signal })));
    assert.equal(getEventListeners(signal, 'abort').length, 0, 'no abort listener left on the shared signal');
    assert.equal(new Set(ports).size, 1, `one socket for all requests, got ports ${[...new Set(ports)].join(', ')}`);
    assert.deepEqual(counts.at(-1), counts[1], 'listener counts are stable across reuse');
    await sleep(10);
    assert.deepEqual(
      warnings.filter((w) => w.name === 'MaxListenersExceededWarning'),
      [],
    );
  } finally {
    process.off('warning', onWarning);
  }
});

test('concurrent requests each get a socket and all complete', T, async () => {
  routes.set('/conc', (_req, res) => setTimeout(() => res.end('{"ok":true}'), 5));
  const results = await Promise.all(
    Array.from({ length: 50 }, async () => readJson('TestProvider', await callUpstream(call('/conc')), new AbortController().signal)),
  );
  assert.equal(results.length, 50);
  for (const r of results) assert.deepEqual(r, { ok: true });
});

test('timers are cleared: no Timeout handles are left behind', T, async () => {
  const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  routes.set('/quick', (_req, res) => res.end('{}'));
  const beforeCount = timeouts();
  const long = { firstTokenMs: 60_000, idleMs: 60_000 };
  for (let i = 0; i < 10; i++) {
    const res = await callUpstream(call('/quick', { timeouts: long }));
    await readJson('TestProvider', res, new AbortController().signal);
  }
  routes.set('/quick-err', (_req, res) => res.writeHead(502).end('x'));
  await rejection(callUpstream(call('/quick-err', { timeouts: long })));
  const controller = new AbortController();
  routes.set('/quick-abort', () => controller.abort());
  await rejection(callUpstream(call('/quick-abort', { timeouts: long, signal: controller.signal })));
  await sleep(20);
  assert.ok(timeouts() <= beforeCount, `Timeout handles: ${beforeCount} before, ${timeouts()} after`);
});

test('a malformed URL is a network error naming the provider', T, async () => {
  const err = await rejection(callUpstream(call('/', { url: 'not a url' })));
  assert.equal(err.type, 'provider_unavailable');
  assert.match(err.message, /^Could not reach TestProvider/);
});

/**
 * The stream deadlines of one upstream call (src/providers/deadlines.ts through the http client):
 * with a watch, an event stream's first-token deadline runs until the reader reports content, and
 * the idle deadline counts reported events, not bytes — so keep-alive comments, which keep bytes
 * flowing, trip them; time the reader spends paused (a client not reading) does not count.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { StreamWatch, UpstreamTimeoutError } from '../../src/providers/deadlines.ts';
import { callUpstream } from '../../src/providers/http-client.ts';
import { parseOpenAIError } from '../../src/providers/openai-compatible/parse-error.ts';

const T = { timeout: 10_000 };
let server: http.Server;
let base: string;

/** Every route answers an event stream: one data event, then a comment every 20 ms, forever. */
before(async () => {
  server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: {"n":1}\n\n');
    const t = setInterval(() => res.write(': keep-alive\n\n'), 20);
    res.on('close', () => clearInterval(t));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

const call = (watch: StreamWatch | undefined, timeouts = { firstTokenMs: 150, idleMs: 150 }) =>
  callUpstream({
    providerName: 'P',
    url: `${base}/s`,
    headers: {},
    body: '{}',
    signal: new AbortController().signal,
    timeouts,
    watch,
    parseError: parseOpenAIError,
  });

/** Reads the body, doing `each` per read; resolves with what ended it. */
async function drain(body: AsyncIterable<unknown>, each: () => void = () => {}): Promise<unknown> {
  try {
    for await (const _ of body) each();
  } catch (err) {
    return err;
  }
  return 'ended';
}

test('keep-alive comments do not meet the first-token deadline', T, async () => {
  const watch = new StreamWatch();
  const res = await call(watch);
  // The reader sees complete events (the first data event), never content.
  const end = await drain(res.body, () => watch.event());
  assert.ok(end instanceof UpstreamTimeoutError, String(end));
  assert.equal(end.phase, 'first-token');
  assert.match(end.message, /no content within 150 ms \(routing\.timeouts\.firstTokenMs\)/);
});

test('after content, comments do not reset the idle deadline', T, async () => {
  const watch = new StreamWatch();
  const res = await call(watch, { firstTokenMs: 5_000, idleMs: 150 });
  watch.content();
  const end = await drain(res.body);
  assert.ok(end instanceof UpstreamTimeoutError, String(end));
  assert.equal(end.phase, 'idle');
});

test('reported events keep the stream alive; a paused reader is not idle', T, async () => {
  const watch = new StreamWatch();
  const res = await call(watch, { firstTokenMs: 5_000, idleMs: 100 });
  watch.content();
  const t0 = performance.now();
  // Events for 300 ms (three idle periods), then paused for 300 ms more: nothing fires.
  const ticker = setInterval(() => watch.event(), 20);
  await new Promise((r) => setTimeout(r, 300));
  clearInterval(ticker);
  watch.pause();
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!res.body.destroyed, 'still open');
  watch.resume();
  const end = await drain(res.body);
  assert.ok(end instanceof UpstreamTimeoutError && end.phase === 'idle', String(end));
  assert.ok(performance.now() - t0 >= 600);
});

test('without a watch an event stream is timed by bytes, as a whole body is', T, async () => {
  // Deadlines 50 times the byte cadence (20 ms) and a run of two of them: only a missing byte
  // rule could end it, not a loaded machine's late timers.
  const res = await call(undefined, { firstTokenMs: 1_000, idleMs: 1_000 });
  const controller = setTimeout(() => res.body.destroy(new Error('still flowing')), 2_500);
  const end = await drain(res.body);
  clearTimeout(controller);
  assert.equal((end as Error).message, 'still flowing');
});

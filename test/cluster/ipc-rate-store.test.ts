/**
 * Rate limits shared by workers through the primary (src/cluster): two workers' stores over a
 * channel to one RateServer make one count; the calls of one event-loop turn travel as one
 * message; a dead worker's endpoint places are freed at once; a closed channel fails the call
 * (Limits then admits and reports, as with a Redis fault).
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { IpcRateStore } from '../../src/cluster/ipc-rate-store.ts';
import type { Channel } from '../../src/cluster/ipc-rate-store.ts';
import type { WorkerMessage } from '../../src/cluster/messages.ts';
import { RateServer } from '../../src/cluster/rate-server.ts';
import { Limits } from '../../src/limits/limits.ts';

/** A worker's end of the channel, answered by `server` as the primary would. */
function channelTo(server: RateServer, workerId: number): Channel & { sent: number; closed: boolean } {
  const events = new EventEmitter();
  const ch = {
    sent: 0,
    closed: false,
    send(m: WorkerMessage, cb?: (err: Error | null) => void) {
      if (ch.closed) throw new Error('Channel closed');
      ch.sent++;
      if (m.fw !== 'rate') return true;
      void server.handle(workerId, m.calls).then((replies) => setImmediate(() => events.emit('message', { fw: 'rate', replies })));
      cb?.(null);
      return true;
    },
    on: (e: 'message', l: (m: unknown) => void) => events.on(e, l),
    off: (e: 'message', l: (m: unknown) => void) => events.off(e, l),
  };
  return ch;
}

test('two workers share one count: 5 requests a minute admit 5 of 12, whichever worker asks', async () => {
  const server = new RateServer();
  const stores = [new IpcRateStore(channelTo(server, 1)), new IpcRateStore(channelTo(server, 2))];
  const rules = [{ name: 'rpm', limit: 5, windowMs: 60_000, cost: 1 }];
  const now = Date.now();
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => stores[i % 2].take('key:k', rules, now)));
  assert.equal(results.filter((r) => r.ok).length, 5);
  const refused = results.find((r) => !r.ok);
  assert.ok(refused && !refused.ok && refused.rule === 'rpm' && refused.limit === 5 && refused.remaining === 0);
});

test('the calls of one turn of the event loop travel as one message', async () => {
  const server = new RateServer();
  const ch = channelTo(server, 1);
  const store = new IpcRateStore(ch);
  const rules = [{ name: 'rpm', limit: 1_000, windowMs: 60_000, cost: 1 }];
  await Promise.all(Array.from({ length: 50 }, () => store.take('key:k', rules, Date.now())));
  assert.equal(ch.sent, 1);
  assert.equal(store.waiting, 0);
});

test('Limits on the shared store: the refusal is the 429 a single process gives, and token corrections reach the primary', async () => {
  const server = new RateServer();
  const limits = new Limits({ store: new IpcRateStore(channelTo(server, 1)) });
  const settle = await limits.admitKey('h', { requestsPerMinute: 1, tokensPerMinute: 100 }, 60);
  await settle(10);
  // 10 tokens used of 100: 90 fit; the request itself is refused by requests per minute.
  await assert.rejects(limits.admitKey('h', { requestsPerMinute: 1 }, 1), (e: Error) => /requests per minute/.test(e.message));
  const again = await server.store.take('key:h', [{ name: 'tpm', limit: 100, windowMs: 60_000, cost: 90 }], Date.now());
  assert.ok(again.ok, 'the correction from 60 to 10 tokens was applied in the primary');
});

test("a dead worker's endpoint places are free at once; a live worker's are not", async () => {
  const server = new RateServer();
  const one = new IpcRateStore(channelTo(server, 1));
  const two = new IpcRateStore(channelTo(server, 2));
  const now = Date.now();
  assert.equal(await one.acquireSlot('ep', 1, 30_000, 'h1', now), true);
  assert.equal(await two.acquireSlot('ep', 1, 30_000, 'h2', now), false, 'the place is taken');
  await server.forget(2);
  assert.equal(await two.acquireSlot('ep', 1, 30_000, 'h2', now), false, 'forgetting another worker frees nothing of worker 1');
  await server.forget(1);
  assert.equal(await two.acquireSlot('ep', 1, 30_000, 'h2', now), true, 'worker 1 died: its place is free before its lease lapses');
});

test('a closed channel (the primary is gone) fails the call instead of hanging it', async () => {
  const ch = channelTo(new RateServer(), 1);
  const store = new IpcRateStore(ch);
  ch.closed = true;
  await assert.rejects(store.take('key:k', [{ name: 'rpm', limit: 1, windowMs: 60_000, cost: 1 }], Date.now()), /Channel closed/);
  assert.equal(store.waiting, 0);
});

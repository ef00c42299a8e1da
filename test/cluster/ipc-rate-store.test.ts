/**
 * Rate limits shared by workers through the primary (src/cluster): two workers' stores over a
 * channel to one RateServer make one count; a worker spends blocks of units without asking, yet
 * never more is admitted in a window than the limit, and a busy worker still gets the whole
 * allowance while another holds an unused block (the primary recalls it); the calls of one
 * event-loop turn travel as one message; a dead worker's endpoint places are freed at once; a
 * closed channel fails the call (Limits then admits and reports, as with a Redis fault). The
 * RateStore conformance suite runs against a worker's store too.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { IpcRateStore } from '../../src/cluster/ipc-rate-store.ts';
import type { Channel } from '../../src/cluster/ipc-rate-store.ts';
import type { PrimaryMessage, WorkerMessage } from '../../src/cluster/messages.ts';
import { RateServer } from '../../src/cluster/rate-server.ts';
import { Limits } from '../../src/limits/limits.ts';
import type { RateRule } from '../../src/limits/types.ts';
import { rateStoreSuite, T0 } from '../limits/rate-store-suite.ts';

type TestChannel = Channel & { sent: number; closed: boolean };

/** A primary (RateServer) and its workers' channels, each message delivered on a later turn, in order. */
function cluster(workers = 2) {
  const ends = new Map<number, EventEmitter>();
  const server = new RateServer({
    workers,
    send: (id: number, m: PrimaryMessage) => {
      const e = ends.get(id);
      if (!e) return false;
      setImmediate(() => e.emit('message', m));
      return true;
    },
  });
  const channel = (workerId: number): TestChannel => {
    const events = new EventEmitter();
    ends.set(workerId, events);
    const ch: TestChannel = {
      sent: 0,
      closed: false,
      send(m: WorkerMessage, cb?: (err: Error | null) => void) {
        if (ch.closed) throw new Error('Channel closed');
        ch.sent++;
        setImmediate(() => {
          if (m.fw === 'rate')
            server.handle(workerId, m.calls, (replies) => setImmediate(() => events.emit('message', { fw: 'rate', replies })));
          else if (m.fw === 'returned') server.returned(workerId, m.id, m.block);
        });
        cb?.(null);
        return true;
      },
      on: (e: 'message', l: (m: unknown) => void) => events.on(e, l),
      off: (e: 'message', l: (m: unknown) => void) => events.off(e, l),
    };
    return ch;
  };
  return { server, channel };
}

const rpm = (limit: number): RateRule[] => [{ name: 'rpm', limit, windowMs: 60_000, cost: 1 }];
/** Admitted count of a key at the primary within the window ending at `now`. */
async function counted(server: RateServer, key: string, limit: number, now: number): Promise<number> {
  const r = await server.store.take(key, [{ name: 'rpm', limit, windowMs: 60_000, cost: limit + 1 }], now);
  assert.equal(r.ok, false);
  return limit - (r.ok ? 0 : r.remaining);
}

rateStoreSuite('a worker over IPC (blocks from the primary)', async () => {
  const { channel } = cluster(2);
  const store = new IpcRateStore(channel(1));
  return { store, cleanup: () => store.close() };
});

test('two workers share one count: 5 requests a minute admit 5 of 12, whichever worker asks', async () => {
  const { channel } = cluster();
  const stores = [new IpcRateStore(channel(1)), new IpcRateStore(channel(2))];
  const now = Date.now();
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => stores[i % 2].take('key:k', rpm(5), now)));
  assert.equal(results.filter((r) => r.ok).length, 5);
  const refused = results.find((r) => !r.ok);
  assert.ok(refused && !refused.ok && refused.rule === 'rpm' && refused.limit === 5 && refused.remaining === 0);
});

test('two workers under concurrent load: exactly the limit admitted in the window, most of it without asking', async () => {
  const { server, channel } = cluster();
  const chans = [channel(1), channel(2)];
  const stores = chans.map((c) => new IpcRateStore(c));
  const limit = 2_000;
  let admitted = 0;
  // Waves of concurrent requests on both workers within one bucket, then within later buckets of the same window.
  for (let wave = 0; wave < 12; wave++) {
    const now = T0 + wave * 250;
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => stores[i % 2].take('key:busy', rpm(limit), now)));
    admitted += results.filter((r) => r.ok).length;
    assert.ok(admitted <= limit, `wave ${wave}: ${admitted} admitted, over the limit of ${limit}`);
  }
  assert.equal(admitted, limit, 'refused only once the whole allowance was spent');
  assert.equal(await counted(server, 'key:busy', limit, T0 + 3_000), limit, "the primary's count is what was admitted");
  const messages = chans[0].sent + chans[1].sent;
  assert.ok(messages < 200, `${messages} messages for 3,600 requests`);
});

test('a busy worker gets the whole allowance though the idle one holds a block (recalled before refusing)', async () => {
  const { server, channel } = cluster();
  const idle = new IpcRateStore(channel(1));
  const busy = new IpcRateStore(channel(2));
  const limit = 400;
  await Promise.all(Array.from({ length: 20 }, () => idle.take('key:k', rpm(limit), T0)));
  assert.ok(idle.held('key:k')[0] > 0, 'the idle worker holds unspent units');
  let admitted = 20;
  for (let i = 0; i < 3; i++) {
    const results = await Promise.all(Array.from({ length: 300 }, () => busy.take('key:k', rpm(limit), T0 + 100 + i)));
    admitted += results.filter((r) => r.ok).length;
  }
  assert.equal(admitted, limit);
  assert.deepEqual(idle.held('key:k'), [], 'its block was given back');
  assert.equal(await counted(server, 'key:k', limit, T0 + 200), limit);
});

test('one worker with all the traffic gets the full allowance, one block after another', async () => {
  const { channel } = cluster();
  new IpcRateStore(channel(1));
  const ch = channel(2);
  const only = new IpcRateStore(ch);
  const limit = 1_000;
  let admitted = 0;
  for (let i = 0; i < 1_500; i++) if ((await only.take('key:k', rpm(limit), T0 + i)).ok) admitted++;
  assert.equal(admitted, limit);
  assert.ok(ch.sent < 600, `${ch.sent} messages for 1,500 requests one after another`);
});

test('a block is spent only within the bucket it was charged in; a changed limit asks again', async () => {
  const { server, channel } = cluster();
  const ch = channel(1);
  const store = new IpcRateStore(ch);
  await store.take('key:k', rpm(1_000), T0);
  assert.ok(store.held('key:k')[0] > 0);
  const sent = ch.sent;
  await store.take('key:k', rpm(1_000), T0 + 999);
  assert.equal(ch.sent, sent, 'spent from the block');
  await store.take('key:k', rpm(1_000), T0 + 1_000);
  assert.equal(ch.sent, sent + 1, 'the next bucket asks');
  await store.take('key:k', rpm(10), T0 + 1_001);
  assert.equal(ch.sent, sent + 2, 'a lowered limit asks');
  // What was left of the blocks went back: the 4 requests count, and what the last block holds.
  assert.equal(await counted(server, 'key:k', 1_000, T0 + 1_002), 4 + (store.held('key:k')[0] ?? 0));
});

test('token corrections inside a block stay in the worker; others reach the primary', async () => {
  const { server, channel } = cluster();
  const ch = channel(1);
  const store = new IpcRateStore(ch);
  const rules: RateRule[] = [{ name: 'tpm', limit: 100_000, windowMs: 60_000, cost: 100 }];
  await store.take('key:t', rules, T0);
  const held = store.held('key:t')[0];
  const sent = ch.sent;
  await store.adjust('key:t', 'tpm', 60_000, -60, T0 + 10, T0);
  await store.adjust('key:t', 'tpm', 60_000, 30, T0 + 10, T0);
  assert.deepEqual(store.held('key:t'), [held + 30]);
  assert.equal(ch.sent, sent);
  await store.adjust('key:t', 'tpm', 60_000, -50, T0 + 1_500, T0);
  assert.equal(ch.sent, sent + 1, "a refund after the block's bucket goes to the primary");
  await store.take('key:t', rules, T0 + 1_600);
  const now = store.held('key:t')[0];
  await store.adjust('key:t', 'tpm', 60_000, 40, T0 + 1_700, T0);
  assert.deepEqual(store.held('key:t'), [now - 40], 'an extra charge, made now, is spent from the current block');
  assert.equal(ch.sent, sent + 2);
  const r = await server.store.take('key:t', [{ name: 'tpm', limit: 100_000, windowMs: 60_000, cost: 1 }], T0 + 1_800);
  assert.ok(r.ok);
});

test('the calls of one turn of the event loop travel as one message', async () => {
  const { channel } = cluster();
  const ch = channel(1);
  const store = new IpcRateStore(ch);
  await Promise.all(Array.from({ length: 50 }, (_, i) => store.take(`key:${i}`, rpm(1_000), Date.now())));
  assert.equal(ch.sent, 1);
  assert.equal(store.waiting, 0);
});

test('Limits on the shared store: the refusal is the 429 a single process gives, and token corrections reach the primary', async () => {
  const { server, channel } = cluster();
  const limits = new Limits({ store: new IpcRateStore(channel(1)) });
  const settle = await limits.admitKey('h', { requestsPerMinute: 1, tokensPerMinute: 100 }, 60);
  await settle(10);
  // 10 tokens used of 100: 90 fit; the request itself is refused by requests per minute.
  await assert.rejects(limits.admitKey('h', { requestsPerMinute: 1 }, 1), (e: Error) => /requests per minute/.test(e.message));
  const again = await server.store.take('key:h', [{ name: 'tpm', limit: 100, windowMs: 60_000, cost: 90 }], Date.now());
  assert.ok(again.ok, 'the correction from 60 to 10 tokens was applied in the primary');
});

test("a dead worker's endpoint places are free at once; a live worker's are not", async () => {
  const { server, channel } = cluster();
  const one = new IpcRateStore(channel(1));
  const two = new IpcRateStore(channel(2));
  const now = Date.now();
  assert.equal(await one.acquireSlot('ep', 1, 30_000, 'h1', now), true);
  assert.equal(await two.acquireSlot('ep', 1, 30_000, 'h2', now), false, 'the place is taken');
  await server.forget(2);
  assert.equal(await two.acquireSlot('ep', 1, 30_000, 'h2', now), false, 'forgetting another worker frees nothing of worker 1');
  await server.forget(1);
  assert.equal(await two.acquireSlot('ep', 1, 30_000, 'h2', now), true, 'worker 1 died: its place is free before its lease lapses');
});

test('a closed channel (the primary is gone) fails the call instead of hanging it', async () => {
  const { channel } = cluster();
  const ch = channel(1);
  const store = new IpcRateStore(ch);
  ch.closed = true;
  await assert.rejects(store.take('key:k', rpm(1), Date.now()), /Channel closed/);
  assert.equal(store.waiting, 0);
});

test("a worker's idle keys are forgotten, and what their blocks held goes back once their bucket has passed", async () => {
  const { server, channel } = cluster();
  const store = new IpcRateStore(channel(1));
  for (let i = 0; i < 1_100; i++) await store.take(`key:${i}`, rpm(1_000), T0);
  assert.ok(store.held('key:0')[0] > 0);
  for (let i = 0; i < 1_000; i++) await store.take(`key:later-${i}`, rpm(1_000), T0 + 2_000);
  assert.deepEqual(store.held('key:0'), [], 'forgotten');
  // Let the giving back reach the primary.
  await store.take('key:x', rpm(1_000), T0 + 2_001);
  assert.equal(await counted(server, 'key:0', 1_000, T0 + 2_002), 1, 'only the request itself still counts');
});

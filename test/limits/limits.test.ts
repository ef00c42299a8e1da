/**
 * Limits in one process (memory store): per-key request and token rates with their 429s, and the
 * endpoint queue: fair across keys, FIFO within one, bounded, with deadlines, aborts and waits
 * reported, and no timer left behind.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { createLimits, endpointLimitsFor, Limits, type Release } from '../../src/limits/limits.ts';
import { MemoryRateStore } from '../../src/limits/memory-rate-store.ts';
import type { RateStore } from '../../src/limits/types.ts';
import { GatewayError } from '../../src/spec/errors.ts';

const T0 = 1_750_000_020_000;
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

async function rejection(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GatewayError, `not a GatewayError: ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

describe('Limits: per key', () => {
  it('admits exactly requestsPerMinute, then a 429 naming the limit', async () => {
    let clock = T0;
    const limits = createLimits({ now: () => clock });
    for (let i = 0; i < 60; i++) await limits.admitKey('key-a', { requestsPerMinute: 60 }, 10);
    clock += 10;
    const err = await rejection(limits.admitKey('key-a', { requestsPerMinute: 60 }, 10));
    assert.equal(err.status, 429);
    assert.equal(err.type, 'rate_limit_exceeded');
    assert.equal(err.message, 'Rate limit exceeded: requests per minute for this key (60).');
    assert.equal(err.retryable, false);
    assert.equal(err.retryAfter, 61);
    assert.deepEqual(err.headers, {
      'X-RateLimit-Limit': '60',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': String(T0 + 61_000),
    });
    assert.equal(err.metadata.limit_type, 'requests_per_minute');
    assert.equal(err.metadata.retry_after_ms, 60_990);
    // Other keys have their own allowance; the refused key gets its own back after the window.
    await limits.admitKey('key-b', { requestsPerMinute: 60 }, 10);
    clock = T0 + 61_000;
    await limits.admitKey('key-a', { requestsPerMinute: 60 }, 10);
    await limits.close();
  });

  it('charges estimated tokens and settles them with the real count', async () => {
    let clock = T0;
    const limits = createLimits({ now: () => clock });
    const lim = { requestsPerMinute: 100, tokensPerMinute: 1_000 };
    const settle = await limits.admitKey('key-t', lim, 800);
    clock += 2_000;
    // Before settling, 800 are held: 300 more do not fit.
    const before = await rejection(limits.admitKey('key-t', lim, 300));
    assert.equal(before.message, 'Rate limit exceeded: tokens per minute for this key (1000).');
    assert.equal(before.headers['X-RateLimit-Remaining'], '200');
    assert.equal(before.metadata.limit_type, 'tokens_per_minute');
    await settle(200);
    await settle(5_000); // only the first settle counts
    const s2 = await limits.admitKey('key-t', lim, 700);
    await s2(700);
    const after = await rejection(limits.admitKey('key-t', lim, 200));
    assert.equal(after.headers['X-RateLimit-Remaining'], '100');
    assert.equal(after.headers['X-RateLimit-Limit'], '1000');
    // Usage above the estimate is charged too.
    const s3 = await limits.admitKey('key-t', lim, 50);
    await s3(100);
    assert.equal((await rejection(limits.admitKey('key-t', lim, 1))).headers['X-RateLimit-Remaining'], '0');
    await limits.close();
  });

  it('does nothing without limits', async () => {
    const calls: string[] = [];
    const store = new MemoryRateStore();
    const spy = new Proxy(store, {
      get: (t, p, r) => {
        const v = Reflect.get(t, p, r);
        if (typeof v !== 'function') return v;
        return (...a: unknown[]) => {
          calls.push(String(p));
          return v.apply(t, a);
        };
      },
    });
    const limits = new Limits({ store: spy });
    const settle = await limits.admitKey('k', {}, 100);
    await settle(1_000);
    const release = await limits.acquireEndpoint('p:m', {}, { queueKey: 'k' });
    release();
    assert.deepEqual(calls, []);
  });

  it('admits when the store fails (fail open), or fails the request when told not to', async () => {
    const broken: RateStore = {
      take: () => Promise.reject(new Error('redis down')),
      adjust: () => Promise.reject(new Error('redis down')),
      acquireSlot: () => Promise.reject(new Error('redis down')),
      releaseSlot: () => Promise.reject(new Error('redis down')),
      acquire: () => Promise.reject(new Error('redis down')),
      admit: () => Promise.reject(new Error('redis down')),
      close: async () => {},
    };
    const errors: unknown[] = [];
    const open = new Limits({ store: broken, onStoreError: (e) => errors.push(e) });
    const settle = await open.admitKey('k', { requestsPerMinute: 1, tokensPerMinute: 10 }, 5);
    await settle(50);
    const release = await open.acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: 'k' });
    release();
    await tick();
    assert.ok(errors.length >= 3);
    const closed = new Limits({ store: broken, failOpen: false });
    assert.equal((await rejection(closed.admitKey('k', { requestsPerMinute: 1 }, 5))).status, 500);
  });
});

/**
 * `p`, failing unless it settles before the event loop's next turn: "at once" as behaviour (no
 * timer, no poll, no queue turn in between), not as a wall-clock bound a loaded machine can miss.
 */
function atOnce<T>(p: Promise<T>): Promise<T> {
  const late = new Promise<never>((_, reject) => setImmediate(() => reject(new Error('did not settle at once'))));
  return Promise.race([p, late]);
}

describe('Limits: endpoint queue', () => {
  let baseline = 0;
  let open: Limits[] = [];
  const make = (opts: Partial<ConstructorParameters<typeof Limits>[0]> = {}) => {
    baseline = timers();
    const l = new Limits({ store: new MemoryRateStore(), ...opts });
    open.push(l);
    return l;
  };
  afterEach(async () => {
    const left = open.map((l) => l.queueLength('p:m'));
    const running = timers();
    for (const l of open) await l.close();
    open = [];
    assert.deepEqual(
      left,
      left.map(() => 0),
      'a waiter was left in the queue',
    );
    // Every deadline, keep-alive and poll timer is gone once nothing waits.
    assert.equal(running, baseline, 'a timer was left running');
  });

  it('takes free capacity at once, without waiting', async () => {
    const limits = make();
    const waits: number[] = [];
    const a = await atOnce(limits.acquireEndpoint('p:m', { maxConcurrency: 2 }, { queueKey: 'k', onWait: (p) => waits.push(p) }));
    const b = await atOnce(limits.acquireEndpoint('p:m', { maxConcurrency: 2 }, { queueKey: 'k', onWait: (p) => waits.push(p) }));
    assert.deepEqual(waits, []);
    a();
    a(); // releasing twice gives back one place only
    b();
    const c = await limits.acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: 'k' });
    c();
  });

  it('serves keys round-robin and each key FIFO: a flood does not starve another key', async () => {
    const limits = make();
    const served: string[] = [];
    const ask = (key: string, i: number) =>
      limits
        .acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: key, deadlineMs: Date.now() + 10_000 })
        .then(async (release: Release) => {
          served.push(`${key}${i}`);
          await tick();
          release();
        });
    const all: Array<Promise<void>> = [];
    for (let i = 0; i < 20; i++) all.push(ask('A', i));
    for (let i = 0; i < 2; i++) all.push(ask('B', i));
    await Promise.all(all);
    assert.equal(served.length, 22);
    assert.ok(served.indexOf('B0') <= 3, `B0 served ${served.indexOf('B0') + 1}th: ${served.join(' ')}`);
    assert.ok(served.indexOf('B1') <= 5, `B1 served ${served.indexOf('B1') + 1}th: ${served.join(' ')}`);
    const aOrder = served.filter((s) => s.startsWith('A')).map((s) => Number(s.slice(1)));
    assert.deepEqual(
      aOrder,
      [...aOrder].sort((x, y) => x - y),
      'A out of order',
    );
    assert.ok(served.indexOf('B0') < served.indexOf('B1'));
  });

  it('reports the position when waiting starts and again while it waits', async () => {
    const limits = make({ keepAliveMs: 20 });
    const hold = await limits.acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: 'A' });
    const seen: Record<string, number[]> = { a1: [], a2: [], b1: [] };
    const wait = (name: string) =>
      limits.acquireEndpoint(
        'p:m',
        { maxConcurrency: 1 },
        {
          queueKey: name[0].toUpperCase(),
          onWait: (p) => seen[name].push(p),
          deadlineMs: Date.now() + 5_000,
        },
      );
    const a1 = wait('a1');
    const a2 = wait('a2');
    const b1 = wait('b1');
    await sleep(5);
    assert.equal(limits.queueLength('p:m'), 3);
    // Positions when each started waiting (B had not come yet when the second A did).
    assert.deepEqual([seen.a1[0], seen.a2[0], seen.b1[0]], [1, 2, 2]);
    await sleep(70);
    assert.ok(seen.b1.length >= 3, `onWait called ${seen.b1.length} times`);
    // Served order is A, B, A: the second A is now third.
    assert.deepEqual([seen.a1.at(-1), seen.b1.at(-1), seen.a2.at(-1)], [1, 2, 3]);
    hold();
    const r1 = await a1;
    r1();
    const r2 = await b1;
    r2();
    const r3 = await a2;
    r3();
    // Keep-alives stop once served.
    const count = seen.b1.length;
    await sleep(50);
    assert.equal(seen.b1.length, count);
  });

  it('gives a 429 with the queue position at the deadline', async () => {
    const limits = make();
    const hold = await limits.acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: 'A' });
    const started = Date.now();
    const first = limits.acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: 'B', deadlineMs: started + 2_000 });
    const second = limits.acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: 'C', deadlineMs: started + 80 });
    const err = await rejection(second);
    const waited = Date.now() - started;
    assert.ok(waited >= 75 && waited < 500, `waited ${waited} ms`);
    assert.equal(err.status, 429);
    assert.equal(err.retryable, true);
    assert.match(err.message, /^Endpoint p:m is at capacity; waited \d+ ms at queue position 2$/);
    assert.equal(err.metadata.queue_position, 2);
    assert.equal(err.metadata.endpoint, 'p:m');
    assert.equal(err.metadata.limit_type, 'concurrency');
    assert.ok(err.retryAfter !== undefined && err.retryAfter >= 1);
    assert.equal(limits.queueLength('p:m'), 1);
    hold();
    (await first)();
    // A deadline already past fails at once when there is no capacity, and not when there is.
    const h2 = await limits.acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: 'A', deadlineMs: Date.now() - 1 });
    const now = await rejection(limits.acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: 'B', deadlineMs: Date.now() }));
    assert.equal(now.metadata.queue_position, 1);
    h2();
  });

  it('leaves the queue on abort, and the place goes to the next waiter', async () => {
    const limits = make();
    const hold = await limits.acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: 'A' });
    const ac = new AbortController();
    let waiting = false;
    const aborted = limits.acquireEndpoint(
      'p:m',
      { maxConcurrency: 1 },
      { queueKey: 'B', signal: ac.signal, onWait: () => (waiting = true) },
    );
    const next = limits.acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: 'C', deadlineMs: Date.now() + 5_000 });
    await sleep(5);
    assert.ok(waiting);
    assert.equal(limits.queueLength('p:m'), 2);
    ac.abort();
    const err = await rejection(aborted);
    assert.equal(err.status, 429);
    assert.equal(err.metadata.queue_position, 1);
    assert.equal(limits.queueLength('p:m'), 1);
    hold();
    (await next)();
    // Already aborted: refused at once.
    const h = await limits.acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: 'A' });
    const again = await rejection(limits.acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: 'B', signal: AbortSignal.abort() }));
    assert.equal(again.status, 429);
    h();
  });

  it('bounds the queue: beyond maxLength, a 429 at once', async () => {
    const limits = make({ queue: { maxLength: 2, maxWaitMs: 5_000 } });
    const hold = await limits.acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: 'A' });
    const w1 = limits.acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: 'A' });
    const w2 = limits.acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: 'B' });
    await sleep(5);
    const err = await rejection(atOnce(limits.acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: 'C' })));
    assert.match(err.message, /queue is full \(2 waiting\)/);
    assert.equal(err.metadata.queue_length, 2);
    hold();
    (await w1)();
    (await w2)();
  });

  it('holds the endpoint request rate, and says so at the deadline', async () => {
    let clock = T0;
    const limits = make({ now: () => clock, ratePollMaxMs: 50 });
    const lim = { requestsPerMinute: 2, maxConcurrency: 10 };
    (await limits.acquireEndpoint('p:m', lim, { queueKey: 'A' }))();
    (await limits.acquireEndpoint('p:m', lim, { queueKey: 'A' }))();
    const err = await rejection(limits.acquireEndpoint('p:m', lim, { queueKey: 'A', deadlineMs: Date.now() + 50 }));
    assert.equal(err.metadata.limit_type, 'requests_per_minute');
    assert.equal(err.retryAfter, 61);
    // The window moves on: a waiter is served once the rate allows (rechecked at least every ratePollMaxMs).
    const waiting = limits.acquireEndpoint('p:m', lim, { queueKey: 'A', deadlineMs: Date.now() + 2_000 });
    await sleep(10);
    assert.equal(limits.queueLength('p:m'), 1);
    clock += 61_000;
    const started = performance.now();
    (await waiting)();
    assert.ok(performance.now() - started < 300);
  });

  it('notices capacity freed without a release in this process (lease lapse), by polling', async () => {
    let clock = T0;
    const store = new MemoryRateStore();
    const limits = make({ store, now: () => clock, leaseMs: 1_000 });
    // Another holder (a crashed process) holds the only place until its lease lapses.
    assert.equal(await store.acquireSlot('ep:p:m', 1, 1_000, 'crashed', clock), true);
    const started = performance.now();
    const waiting = limits.acquireEndpoint('p:m', { maxConcurrency: 1 }, { queueKey: 'A', deadlineMs: Date.now() + 2_000 });
    await sleep(30);
    clock += 1_000;
    const release = await waiting;
    const took = performance.now() - started;
    assert.ok(took < 300, `took ${took} ms`);
    release();
  });
});

describe('Limits: a key and its first endpoint in one step', () => {
  /** A memory store that counts the calls made to it, by operation. */
  class CountingStore extends MemoryRateStore {
    calls: string[] = [];
    override take(...a: Parameters<MemoryRateStore['take']>) {
      this.calls.push('take');
      return super.take(...a);
    }
    override acquire(...a: Parameters<MemoryRateStore['acquire']>) {
      this.calls.push('acquire');
      return super.acquire(...a);
    }
    override admit(...a: Parameters<MemoryRateStore['admit']>) {
      this.calls.push('admit');
      return super.admit(...a);
    }
  }
  const ep = { maxConcurrency: 1, requestsPerMinute: 100 };

  it('takes the place with the key in one call; a refused key charges the endpoint nothing', async () => {
    const store = new CountingStore();
    const limits = new Limits({ store });
    const first = await limits.admitKeyAt('k', { requestsPerMinute: 1 }, 10, 'p:m', ep);
    assert.deepEqual(store.calls, ['admit']);
    assert.equal(first.place?.granted, true);
    const err = await rejection(limits.admitKeyAt('k', { requestsPerMinute: 1 }, 10, 'p:m', ep));
    assert.equal(err.status, 429);
    assert.match(err.message, /requests per minute for this key \(1\)/);
    assert.equal(err.headers?.['X-RateLimit-Remaining'], '0');
    // The endpoint has its one place taken and one request charged, no more.
    if (first.place?.granted) first.place.release();
    await tick();
    assert.deepEqual(await store.acquire(null, 'ep:p:m', [{ name: 'rpm', limit: 2, windowMs: 60_000, cost: 1 }], Date.now()), { ok: true });
    assert.equal((await store.acquire(null, 'ep:p:m', [{ name: 'rpm', limit: 2, windowMs: 60_000, cost: 1 }], Date.now())).ok, false);
    await limits.close();
  });

  it('a key admitted to a full endpoint is charged, and queues without asking again at once', async () => {
    const store = new CountingStore();
    const limits = new Limits({ store, pollMs: { min: 5, max: 10 } });
    const holder = await limits.acquireEndpoint('p:m', ep, { queueKey: 'other' });
    store.calls = [];
    const { place } = await limits.admitKeyAt('k', { requestsPerMinute: 1 }, 10, 'p:m', ep);
    assert.ok(place && !place.granted);
    assert.equal(place.refusal.reason, 'concurrency');
    assert.equal((await rejection(limits.admitKey('k', { requestsPerMinute: 1 }, 10))).status, 429);
    store.calls = [];
    const waiting = limits.acquireEndpoint('p:m', ep, { queueKey: 'k', refused: place.refusal });
    assert.deepEqual(store.calls, []);
    assert.equal(limits.queueLength('p:m'), 1);
    holder();
    const release = await waiting;
    assert.ok(store.calls.every((c) => c === 'acquire'));
    release();
    await limits.close();
  });

  it('does not ask for the endpoint while others wait for it (they go first), nor without endpoint limits', async () => {
    const store = new CountingStore();
    const limits = new Limits({ store, pollMs: { min: 5, max: 10 } });
    const holder = await limits.acquireEndpoint('p:m', ep, { queueKey: 'a' });
    const queued = limits.acquireEndpoint('p:m', ep, { queueKey: 'b' });
    await tick();
    store.calls = [];
    const r = await limits.admitKeyAt('k', { requestsPerMinute: 5 }, 10, 'p:m', ep);
    assert.equal(r.place, undefined);
    assert.deepEqual(store.calls, ['take']);
    store.calls = [];
    assert.equal((await limits.admitKeyAt('k', { requestsPerMinute: 5 }, 10, 'p:x', {})).place, undefined);
    assert.deepEqual(store.calls, ['take']);
    holder();
    (await queued)();
    await limits.close();
  });

  it('a place given back unused is released and its request-rate charge refunded', async () => {
    const store = new CountingStore();
    const limits = new Limits({ store });
    const one = { maxConcurrency: 1, requestsPerMinute: 1 };
    const { place } = await limits.admitKeyAt('k', { requestsPerMinute: 5 }, 10, 'p:m', one);
    assert.ok(place?.granted);
    place.unused();
    place.unused();
    await tick();
    const again = await limits.admitKeyAt('k', { requestsPerMinute: 5 }, 10, 'p:m', one);
    assert.equal(again.place?.granted, true);
    if (again.place?.granted) again.place.release();
    await limits.close();
  });
});

describe('endpointLimitsFor', () => {
  it("takes an endpoint's own settings field by field over its provider's defaults", () => {
    const table = new Map([
      ['groq:*', { maxConcurrency: 4, requestsPerMinute: 30 }],
      ['groq:llama-3.3-70b', { maxConcurrency: 1 }],
      ['ollama:qwen3:8b', { requestsPerMinute: 10 }],
    ]);
    assert.deepEqual(endpointLimitsFor(table, 'groq:llama-3.3-70b'), { maxConcurrency: 1, requestsPerMinute: 30 });
    assert.deepEqual(endpointLimitsFor(table, 'groq:other'), { maxConcurrency: 4, requestsPerMinute: 30 });
    assert.deepEqual(endpointLimitsFor(table, 'ollama:qwen3:8b'), { maxConcurrency: undefined, requestsPerMinute: 10 });
    assert.deepEqual(endpointLimitsFor(table, 'openai:gpt-4o'), { maxConcurrency: undefined, requestsPerMinute: undefined });
  });
});

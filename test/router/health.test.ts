/**
 * MemoryHealth: uptime and percentile maths, the 5- and 30-minute windows, and the circuit breaker.
 * Time is passed in (`at`, `now`), never slept.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createHealth, MemoryHealth } from '../../src/router/health/index.ts';
import type { AttemptOutcome } from '../../src/router/types.ts';

const K = 'openai:gpt-4o-mini';
/** A bucket-aligned start, so "same 30 s bucket" in a test means what it says. */
const T0 = 1_800_000_000_000 - (1_800_000_000_000 % 30_000);
const SEC = 1_000;
const MIN = 60 * SEC;

function rec(h: MemoryHealth, at: number, o: Partial<AttemptOutcome> & { ok: boolean }, key = K): void {
  h.record(key, { ...o, at });
}

describe('uptime', () => {
  test('successes over successes plus failures, as a percentage', () => {
    const h = new MemoryHealth({ failureThreshold: 100 });
    for (let i = 0; i < 9; i++) rec(h, T0 + i, { ok: true });
    rec(h, T0 + 10, { ok: false, status: 500 });
    const s = h.stats(K, T0 + 20);
    assert.equal(s.uptime5m, 90);
    assert.equal(s.uptime30m, 90);
  });

  test('429s are capacity, not downtime: excluded from both sides', () => {
    const h = new MemoryHealth();
    for (let i = 0; i < 5; i++) rec(h, T0 + i, { ok: true });
    for (let i = 0; i < 20; i++) rec(h, T0 + 10 + i, { ok: false, status: 429 });
    const s = h.stats(K, T0 + 100);
    assert.equal(s.uptime5m, 100);
    assert.equal(s.circuit, 'closed', '429s never open the circuit');
  });

  test('null below minSamples, a number from minSamples on', () => {
    const h = new MemoryHealth({ minSamples: 5 });
    for (let i = 0; i < 4; i++) rec(h, T0 + i, { ok: true });
    rec(h, T0 + 5, { ok: false, status: 429 });
    assert.equal(h.stats(K, T0 + 10).uptime5m, null);
    rec(h, T0 + 6, { ok: true });
    assert.equal(h.stats(K, T0 + 10).uptime5m, 100);
  });

  test('an unknown endpoint has no stats and a closed circuit', () => {
    const h = new MemoryHealth();
    assert.deepEqual(h.stats('nobody:nothing', T0), {
      uptime5m: null,
      uptime30m: null,
      latency5m: null,
      latency30m: null,
      throughput5m: null,
      throughput30m: null,
      circuit: 'closed',
    });
    assert.equal(h.isAvailable('nobody:nothing', T0), true);
  });
});

describe('windows', () => {
  test('old outcomes leave the 5-minute window first, then the 30-minute one', () => {
    const h = new MemoryHealth({ minSamples: 1, failureThreshold: 100 });
    for (let i = 0; i < 3; i++) rec(h, T0 + i, { ok: false, status: 500 });
    rec(h, T0 + 6 * MIN, { ok: true, ttftMs: 100 });
    // At 6 min: the failures are outside 5 m but inside 30 m.
    let s = h.stats(K, T0 + 6 * MIN);
    assert.equal(s.uptime5m, 100);
    assert.equal(s.uptime30m, 25);
    assert.deepEqual(s.latency5m, { p50: 100, p75: 100, p90: 100, p99: 100 });
    // At 31 min only the 6-minute success is left in 30 m; 5 m is empty.
    s = h.stats(K, T0 + 31 * MIN);
    assert.equal(s.uptime5m, null);
    assert.equal(s.latency5m, null);
    assert.equal(s.uptime30m, 100);
    // At 37 min everything has gone.
    s = h.stats(K, T0 + 37 * MIN);
    assert.equal(s.uptime30m, null);
    assert.equal(s.latency30m, null);
  });

  test('a ring slot reused 30 minutes later starts empty', () => {
    const h = new MemoryHealth({ minSamples: 1, failureThreshold: 100 });
    rec(h, T0, { ok: false, status: 500 });
    rec(h, T0 + 30 * MIN, { ok: true });
    assert.equal(h.stats(K, T0 + 30 * MIN).uptime30m, 100);
  });

  test('an outcome stamped before its slot was reused is dropped', () => {
    const h = new MemoryHealth({ minSamples: 1 });
    rec(h, T0 + 30 * MIN, { ok: true });
    rec(h, T0, { ok: false, status: 500 });
    assert.equal(h.stats(K, T0 + 30 * MIN).uptime30m, 100);
  });
});

describe('percentiles', () => {
  test('latency (ms) and throughput from samples across buckets', () => {
    const h = new MemoryHealth();
    // 100 samples, 25 per 30 s bucket, so no reservoir drops any.
    for (let i = 1; i <= 100; i++) rec(h, T0 + Math.floor((i - 1) / 25) * 30 * SEC, { ok: true, ttftMs: i, tokensPerSecond: i });
    const s = h.stats(K, T0 + 2 * MIN);
    assert.deepEqual(s.latency5m, { p50: 50, p75: 75, p90: 90, p99: 99 });
    assert.deepEqual(s.latency30m, s.latency5m);
    // Throughput percentiles are the slow tail, as OpenRouter reports them: p99 is what 99% beat.
    assert.deepEqual(s.throughput5m, { p50: 50, p75: 25, p90: 10, p99: 1 });
  });

  test('a full reservoir stays bounded and still weighs its bucket by what it saw', () => {
    const h = new MemoryHealth();
    // 1000 fast samples in one bucket (reservoir of 64), 10 slow ones in the next.
    for (let i = 0; i < 1000; i++) rec(h, T0 + i, { ok: true, ttftMs: 10 });
    for (let i = 0; i < 10; i++) rec(h, T0 + 30 * SEC + i, { ok: true, ttftMs: 5000 });
    const s = h.stats(K, T0 + MIN);
    // ~1% of requests were slow: p50..p90 are fast, p99 sits at the boundary (fast or slow).
    assert.equal(s.latency5m?.p50, 10);
    assert.equal(s.latency5m?.p90, 10);
    // Unweighted, 10 of 74 samples (13.5%) would have pulled p90 to 5000.
  });

  test('no samples: null percentiles even with uptime', () => {
    const h = new MemoryHealth({ minSamples: 1 });
    rec(h, T0, { ok: true });
    const s = h.stats(K, T0);
    assert.equal(s.uptime5m, 100);
    assert.equal(s.latency5m, null);
    assert.equal(s.throughput30m, null);
  });
});

describe('circuit breaker', () => {
  const fail = (h: MemoryHealth, at: number, key = K) => rec(h, at, { ok: false, status: 502 }, key);

  test('opens after the threshold of consecutive failures; a success in between resets the count', () => {
    const h = new MemoryHealth({ failureThreshold: 3 });
    fail(h, T0);
    fail(h, T0 + 1);
    rec(h, T0 + 2, { ok: true });
    fail(h, T0 + 3);
    fail(h, T0 + 4);
    assert.equal(h.isAvailable(K, T0 + 5), true);
    fail(h, T0 + 5);
    assert.equal(h.isAvailable(K, T0 + 6), false);
    assert.equal(h.stats(K, T0 + 6).circuit, 'open');
    assert.equal(h.isAvailable('other:model', T0 + 6), true, 'circuits are per endpoint');
  });

  test('429s neither count towards the threshold nor reset it', () => {
    const h = new MemoryHealth({ failureThreshold: 3 });
    fail(h, T0);
    fail(h, T0 + 1);
    for (let i = 0; i < 5; i++) rec(h, T0 + 2 + i, { ok: false, status: 429 });
    assert.equal(h.isAvailable(K, T0 + 10), true);
    fail(h, T0 + 11);
    assert.equal(h.isAvailable(K, T0 + 12), false);
  });

  test('opens on a 5-minute success rate under 50% with at least 10 outcomes', () => {
    const h = new MemoryHealth({ failureThreshold: 3 });
    // ok, fail, fail, ok, ... never 3 failures in a row, but 4 ok to 6 failed
    const pattern = [true, false, false, true, false, false, true, false, true, false];
    pattern.forEach((ok, i) => {
      assert.equal(h.isAvailable(K, T0 + i), true, `still closed before outcome ${i}`);
      rec(h, T0 + i, ok ? { ok } : { ok, status: 500 });
    });
    assert.equal(h.isAvailable(K, T0 + 20), false);
  });

  test('half-open: exactly one probe after the cooldown, until its outcome is recorded', () => {
    const h = new MemoryHealth({ cooldownMs: 30 * SEC });
    for (let i = 0; i < 3; i++) fail(h, T0 + i);
    const opened = T0 + 2;
    assert.equal(h.isAvailable(K, opened + 29 * SEC), false);
    assert.equal(h.stats(K, opened + 30 * SEC).circuit, 'half-open', 'stats is a pure read');
    assert.equal(h.isAvailable(K, opened + 30 * SEC), true, 'the probe');
    assert.equal(h.isAvailable(K, opened + 30 * SEC), false, 'concurrent callers wait for it');
    assert.equal(h.isAvailable(K, opened + 40 * SEC), false);
    rec(h, opened + 41 * SEC, { ok: true });
    assert.equal(h.stats(K, opened + 41 * SEC).circuit, 'closed');
    assert.equal(h.isAvailable(K, opened + 41 * SEC), true);
    assert.equal(h.isAvailable(K, opened + 41 * SEC), true);
  });

  test('a failed probe re-opens with the cooldown doubled, capped; success resets it', () => {
    const h = new MemoryHealth({ cooldownMs: 30 * SEC, maxCooldownMs: 100 * SEC });
    for (let i = 0; i < 3; i++) fail(h, T0);
    let t = T0;
    for (const expected of [30, 60, 100, 100]) {
      assert.equal(h.isAvailable(K, t + expected * SEC - 1), false, `cooldown ${expected}s not yet over`);
      t += expected * SEC;
      assert.equal(h.isAvailable(K, t), true, `probe after ${expected}s`);
      fail(h, t);
    }
    // Probe succeeds: closed, and the next trip starts from the base cooldown again.
    t += 100 * SEC;
    assert.equal(h.isAvailable(K, t), true);
    rec(h, t, { ok: true });
    for (let i = 0; i < 3; i++) fail(h, t + 1);
    assert.equal(h.isAvailable(K, t + 1 + 30 * SEC - 1), false);
    assert.equal(h.isAvailable(K, t + 1 + 30 * SEC), true);
  });

  test('a 429 on the probe re-opens without doubling', () => {
    const h = new MemoryHealth({ cooldownMs: 30 * SEC });
    for (let i = 0; i < 3; i++) fail(h, T0);
    assert.equal(h.isAvailable(K, T0 + 30 * SEC), true);
    rec(h, T0 + 30 * SEC, { ok: false, status: 429 });
    assert.equal(h.isAvailable(K, T0 + 60 * SEC - 1), false);
    assert.equal(h.isAvailable(K, T0 + 60 * SEC), true);
  });

  test('a probe that never reports back stops blocking after probeTimeoutMs', () => {
    const h = new MemoryHealth({ cooldownMs: 30 * SEC, probeTimeoutMs: 60 * SEC });
    for (let i = 0; i < 3; i++) fail(h, T0);
    assert.equal(h.isAvailable(K, T0 + 30 * SEC), true);
    assert.equal(h.isAvailable(K, T0 + 89 * SEC), false);
    assert.equal(h.isAvailable(K, T0 + 90 * SEC), true);
  });

  test('the failures that opened the circuit do not re-trip it through the success rate once closed', () => {
    const h = new MemoryHealth({ failureThreshold: 3, cooldownMs: 30 * SEC });
    // 2 ok then 10 failures: trips (consecutive) with a terrible 5-minute rate.
    rec(h, T0, { ok: true });
    rec(h, T0, { ok: true });
    for (let i = 0; i < 10; i++) fail(h, T0);
    const t = T0 + 30 * SEC;
    assert.equal(h.isAvailable(K, t), true);
    rec(h, t, { ok: true });
    // One failure after closing: the rate over everything would still be < 50%, but it must not count.
    fail(h, t + 30 * SEC);
    assert.equal(h.isAvailable(K, t + 30 * SEC), true);
  });

  test('a straggler success while open does not close the circuit', () => {
    const h = new MemoryHealth({ cooldownMs: 30 * SEC });
    for (let i = 0; i < 3; i++) fail(h, T0);
    rec(h, T0 + SEC, { ok: true });
    assert.equal(h.isAvailable(K, T0 + 2 * SEC), false);
  });
});

test('createHealth without redis gives a MemoryHealth with the options applied', async () => {
  const h = createHealth({ failureThreshold: 1 });
  assert.ok(h instanceof MemoryHealth);
  h.record(K, { ok: false, status: 500, at: T0 });
  assert.equal(h.isAvailable(K, T0 + 1), false);
  await h.close();
});

test('options are validated', () => {
  assert.throws(() => new MemoryHealth({ failureThreshold: 0 }));
  assert.throws(() => new MemoryHealth({ cooldownMs: Number.NaN }));
});

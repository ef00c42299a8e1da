/**
 * RedisHealth on the real Redis: two instances stand for two Freeway processes sharing one Redis.
 * Each test run uses its own key namespace and deletes its keys afterwards.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, test } from 'node:test';
import { closeRedis, connectRedis, guardOf } from '../../src/infra/redis.ts';
import type { RedisClient } from '../../src/infra/redis.ts';
import { createHealth, RedisHealth } from '../../src/router/health/index.ts';
import type { RedisHealthOptions } from '../../src/router/health/index.ts';
import { needs, REDIS_URL as URL } from '../helpers/services.ts';

const skip = await needs('redis');
const PREFIX = 'freeway:';
const NS = `test-health-${randomUUID()}`;
const SEC = 1_000;

let redis: RedisClient;
const open: RedisHealth[] = [];
/** Redis errors reported by instances made with pair(); any fails the test. */
const errors: Error[] = [];

before(async () => {
  if (skip) return;
  redis = connectRedis(URL);
  await guardOf(redis).connected();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
  assert.deepEqual(errors.splice(0), []);
});

after(async () => {
  if (!redis) return;
  // SCAN patterns are not prefixed by the client, but DEL's keys are: strip the prefix back off.
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}${NS}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(PREFIX.length)));
  } while (cursor !== '0');
  await closeRedis(redis);
});

/** Two "processes" on one namespace; the timer is slowed right down so tests drive refresh(). */
function pair(opts: Partial<RedisHealthOptions> = {}): [RedisHealth, RedisHealth] {
  const ns = `${NS}:${randomUUID()}`;
  const make = () => new RedisHealth({ redis, namespace: ns, refreshMs: 3_600_000, onError: (e) => errors.push(e), ...opts });
  const hs: [RedisHealth, RedisHealth] = [make(), make()];
  open.push(...hs);
  return hs;
}

const K = 'openai:gpt-4o-mini';

test('keys land under the client prefix and namespace, with a TTL', { skip }, async () => {
  const [a] = pair();
  const now = Date.now();
  a.record(K, { ok: true, ttftMs: 120, at: now });
  await a.flush();
  const [, keys] = await redis.scan('0', 'MATCH', `${PREFIX}${NS}:*{${K}}:*`, 'COUNT', 1000);
  assert.ok(keys.some((k) => k.endsWith(':w')) && keys.some((k) => k.endsWith(':c')), keys.join(', '));
  for (const k of keys) {
    const ttl = await redis.pttl(k.slice(PREFIX.length));
    assert.ok(ttl > 30 * 60 * SEC && ttl <= 31 * 60 * SEC, `${k} ttl ${ttl}`);
  }
});

test('failures recorded by one process open the circuit for the other', { skip }, async () => {
  const [a, b] = pair({ failureThreshold: 3 });
  const now = Date.now();
  assert.equal(b.isAvailable(K, now), true);
  for (let i = 0; i < 3; i++) a.record(K, { ok: false, status: 503, at: now });
  await a.flush();
  assert.equal(a.isAvailable(K, now), false, 'the recorder learns the new state from the script reply');
  assert.equal(b.isAvailable(K, now), true, 'the other only knows after its refresh');
  await b.refresh(now);
  assert.equal(b.isAvailable(K, now), false);
  assert.equal(b.stats(K, now).circuit, 'open');
});

test('failures split across processes count together', { skip }, async () => {
  const [a, b] = pair({ failureThreshold: 3 });
  const now = Date.now();
  a.record(K, { ok: false, status: 500, at: now });
  b.record(K, { ok: false, status: 500, at: now });
  await Promise.all([a.flush(), b.flush()]);
  a.record(K, { ok: false, status: 500, at: now });
  await a.flush();
  await b.refresh(now);
  assert.equal(a.isAvailable(K, now), false);
  assert.equal(b.isAvailable(K, now), false);
});

test('429s neither open the circuit nor count for uptime', { skip }, async () => {
  const [a, b] = pair({ minSamples: 1 });
  const now = Date.now();
  assert.equal(b.stats(K, now).uptime5m, null, 'b learns of the endpoint here and pulls it on refresh');
  a.record(K, { ok: true, at: now });
  for (let i = 0; i < 10; i++) a.record(K, { ok: false, status: 429, at: now });
  await a.flush(); // refresh() flushes only its own instance
  await b.refresh(now);
  assert.equal(b.isAvailable(K, now), true);
  assert.equal(b.stats(K, now).uptime5m, 100);
});

test('only one process gets the half-open probe; its success closes the circuit for both', { skip }, async () => {
  const [a, b] = pair({ failureThreshold: 3, cooldownMs: 30 * SEC });
  const now = Date.now();
  assert.equal(b.isAvailable(K, now), true); // b pulls only endpoints it has been asked about
  for (let i = 0; i < 3; i++) a.record(K, { ok: false, status: 500, at: now });
  await a.refresh(now);
  await b.refresh(now);
  assert.equal(a.isAvailable(K, now + 29 * SEC), false);
  assert.equal(b.isAvailable(K, now + 29 * SEC), false);

  const later = now + 30 * SEC;
  assert.equal(b.stats(K, later).circuit, 'half-open');
  // Both find the cooldown over: both get false now and race to claim the probe in Redis.
  assert.equal(a.isAvailable(K, later), false);
  assert.equal(b.isAvailable(K, later), false);
  await Promise.all([a.flush(), b.flush()]);
  const got = [a.isAvailable(K, later), b.isAvailable(K, later)];
  assert.equal(got.filter(Boolean).length, 1, `exactly one probe, got ${JSON.stringify(got)}`);
  // Nobody else gets through while the probe is out.
  const [winner, loser] = got[0] ? [a, b] : [b, a];
  assert.equal(winner.isAvailable(K, later + SEC), false);
  assert.equal(loser.isAvailable(K, later + SEC), false);
  await Promise.all([a.flush(), b.flush()]);
  assert.equal(winner.isAvailable(K, later + SEC), false);
  assert.equal(loser.isAvailable(K, later + SEC), false);

  winner.record(K, { ok: true, at: later + 2 * SEC });
  await winner.flush();
  assert.equal(winner.isAvailable(K, later + 2 * SEC), true);
  await loser.refresh(later + 2 * SEC);
  assert.equal(loser.isAvailable(K, later + 2 * SEC), true);
  assert.equal(loser.stats(K, later + 2 * SEC).circuit, 'closed');
});

test('a failed probe re-opens with the cooldown doubled, seen by both', { skip }, async () => {
  const [a, b] = pair({ failureThreshold: 1, cooldownMs: 10 * SEC });
  const now = Date.now();
  b.stats(K, now); // b pulls only endpoints it has been asked about
  a.record(K, { ok: false, status: 500, at: now });
  await a.flush();
  assert.equal(a.isAvailable(K, now + 10 * SEC), false);
  await a.flush();
  assert.equal(a.isAvailable(K, now + 10 * SEC), true, 'the claimed probe');
  a.record(K, { ok: false, status: 500, at: now + 10 * SEC });
  await a.flush();
  await b.refresh(now + 10 * SEC);
  // Open again, now for 20 s.
  assert.equal(b.stats(K, now + 29 * SEC).circuit, 'open');
  assert.equal(b.stats(K, now + 30 * SEC).circuit, 'half-open');
});

test('a claimed probe nobody uses is handed back for the other process', { skip }, async () => {
  const [a, b] = pair({ failureThreshold: 1, cooldownMs: 10 * SEC, refreshMs: 50 });
  const now = Date.now() - 10 * SEC;
  b.stats(K, now); // b pulls only endpoints it has been asked about
  a.record(K, { ok: false, status: 500, at: now });
  await a.refresh();
  await b.refresh();
  assert.equal(a.isAvailable(K), false); // a claims the probe, then never asks again
  await a.flush();
  assert.equal(b.isAvailable(K), false);
  await b.flush();
  assert.equal(b.isAvailable(K), false, 'a holds it');
  // a's timer hands it back after two idle refresh periods (100 ms); b's next claim then wins.
  const deadline = Date.now() + 5 * SEC;
  let got = false;
  while (!got && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    await a.flush();
    b.isAvailable(K); // claims when it may (every 250 ms at most)
    await b.flush();
    got = b.isAvailable(K);
  }
  assert.ok(got, 'b got the probe a gave back');
  assert.equal(a.isAvailable(K), false, 'and a no longer has it');
});

test('stats aggregate the outcomes of both processes', { skip }, async () => {
  const [a, b] = pair({ minSamples: 5, failureThreshold: 100 });
  const now = Date.now();
  for (let i = 1; i <= 3; i++) a.record(K, { ok: true, ttftMs: i * 100, tokensPerSecond: i * 10, at: now });
  for (let i = 4; i <= 6; i++) b.record(K, { ok: true, ttftMs: i * 100, tokensPerSecond: i * 10, at: now });
  b.record(K, { ok: false, status: 500, at: now });
  b.record(K, { ok: false, status: 500, at: now });
  await Promise.all([a.flush(), b.flush()]);
  await a.refresh(now);
  const s = a.stats(K, now);
  assert.equal(s.uptime5m, 75);
  assert.equal(s.uptime30m, 75);
  assert.deepEqual(s.latency30m, { p50: 300, p75: 500, p90: 600, p99: 600 });
  assert.deepEqual(s.throughput5m, { p50: 30, p75: 20, p90: 10, p99: 10 });
  assert.equal(s.circuit, 'closed');
});

test('the 5-minute window drops old buckets while the 30-minute one keeps them', { skip }, async () => {
  const [a] = pair({ minSamples: 1, failureThreshold: 100 });
  const now = Date.now();
  a.record(K, { ok: false, status: 500, at: now - 10 * 60 * SEC });
  a.record(K, { ok: true, at: now });
  await a.refresh(now);
  const s = a.stats(K, now);
  assert.equal(s.uptime5m, 100);
  assert.equal(s.uptime30m, 50);
});

test('the reservoir in Redis stays bounded', { skip }, async () => {
  const [a] = pair();
  const now = Date.now();
  const at = now - (now % 30_000); // one bucket
  for (let i = 0; i < 200; i++) a.record(K, { ok: true, ttftMs: 100, at });
  await a.refresh(at);
  const s = a.stats(K, at);
  assert.deepEqual(s.latency5m, { p50: 100, p75: 100, p90: 100, p99: 100 });
  let cursor = '0';
  let fields: Record<string, string> = {};
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}${NS}:*{${K}}:w`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      const h = await redis.hgetall(k.slice(PREFIX.length));
      if (Object.values(h).includes('200')) fields = h;
    }
  } while (cursor !== '0');
  const slot = Object.keys(fields)
    .find((f) => fields[f] === '200' && f.startsWith('tn'))
    ?.slice(2);
  assert.ok(slot !== undefined, 'found the bucket that saw 200 samples');
  assert.equal(fields[`t${slot}`].split(',').length, 64);
});

test('successes of a closed circuit are sent in one call per batch; a failure goes at once, after them', { skip }, async () => {
  const [a] = pair({ minSamples: 1, failureThreshold: 100, batchMs: 3_600_000 });
  const guard = guardOf(redis);
  const now = Date.now();
  const before = guard.attempts;
  for (let i = 0; i < 10; i++) a.record(K, { ok: true, ttftMs: 100, at: now });
  assert.equal(guard.attempts, before, 'successes wait for company');
  a.record(K, { ok: false, status: 500, at: now });
  assert.equal(guard.attempts, before + 1, 'the failure took the queued successes with it');
  await a.refresh(now);
  assert.equal(a.stats(K, now).uptime5m, (100 * 10) / 11);
  a.record(K, { ok: true, at: now });
  await a.flush();
  assert.equal(guard.attempts, before + 3, 'flush sends what is queued (then the refresh pull)');
});

test('a success that waited in a batch does not break the run of failures another process recorded after it', { skip }, async () => {
  const [a, b] = pair({ failureThreshold: 3, batchMs: 3_600_000 });
  const now = Date.now();
  a.record(K, { ok: true, at: now });
  b.record(K, { ok: false, status: 500, at: now + 1 });
  b.record(K, { ok: false, status: 500, at: now + 2 });
  await b.flush();
  await a.flush(); // lands after b's failures, though it happened before them
  b.record(K, { ok: false, status: 500, at: now + 3 });
  await b.flush();
  assert.equal(b.isAvailable(K, now + 3), false, 'three failures in a row open the circuit');
});

test('falls back to in-memory tracking while Redis is unreachable', { skip }, async () => {
  const reported: Error[] = [];
  const dead = connectRedis('redis://127.0.0.1:1');
  dead.on('error', () => {}); // connection errors are expected here
  try {
    const h = new RedisHealth({ redis: dead, namespace: NS, failureThreshold: 2, refreshMs: 3_600_000, onError: (e) => reported.push(e) });
    open.push(h);
    const now = Date.now();
    h.record(K, { ok: false, status: 500, at: now });
    await h.flush();
    assert.equal(reported.length, 1, 'reported once');
    h.record(K, { ok: false, status: 500, at: now });
    await h.flush();
    assert.equal(reported.length, 1, 'not once per command');
    assert.equal(h.isAvailable(K, now), false, 'the local fallback saw both failures');
    await h.close();
  } finally {
    dead.disconnect();
  }
});

test('createHealth with redis gives a RedisHealth', { skip }, async () => {
  const h = createHealth({ redis, namespace: `${NS}:factory`, refreshMs: 3_600_000 });
  assert.ok(h instanceof RedisHealth);
  await h.close();
});

/**
 * The RateStore conformance suite: the same scenarios against the memory and the Redis store, so
 * the Lua scripts and the in-process arithmetic cannot drift apart. Time is injected (`now`), so
 * windows are crossed without waiting. Every scenario uses its own keys.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RateRefusal, RateRule, RateStore, TakeResult } from '../../src/limits/types.ts';

/** A bucket boundary, so that bucket arithmetic in the expectations is plain. */
export const T0 = 1_750_000_020_000;
const MIN = 60_000;

export interface StoreHarness {
  store: RateStore;
  /** Removes whatever the suite left behind. */
  cleanup(): Promise<void>;
}

const uid = (p: string) => `${p}-${randomUUID()}`;
const rpm = (limit: number, cost = 1): RateRule => ({ name: 'rpm', limit, windowMs: MIN, cost });
const tpm = (limit: number, cost: number): RateRule => ({ name: 'tpm', limit, windowMs: MIN, cost });

function refused(r: TakeResult): RateRefusal {
  assert.equal(r.ok, false, 'expected a refusal');
  return r as RateRefusal;
}

/** `skip`: the reason the store's service is absent (test/helpers/services.ts needs()), or false. */
export function rateStoreSuite(name: string, make: () => Promise<StoreHarness>, skip: string | false = false): void {
  describe(`RateStore conformance: ${name}`, { skip }, () => {
    let h: StoreHarness;
    let s: RateStore;
    before(async () => {
      h = await make();
      s = h.store;
    });
    after(async () => {
      await h.cleanup();
    });

    it('admits exactly up to the limit, then refuses with when to retry', async () => {
      const k = uid('exact');
      for (let i = 0; i < 5; i++) assert.deepEqual(await s.take(k, [rpm(5)], T0 + i), { ok: true });
      const r = refused(await s.take(k, [rpm(5)], T0 + 10));
      assert.equal(r.rule, 'rpm');
      assert.equal(r.limit, 5);
      assert.equal(r.remaining, 0);
      // The bucket [T0, T0+1s) counts until T0+1s+60s.
      assert.equal(r.retryAfterMs, MIN + 1000 - 10);
      assert.equal(r.resetAt, T0 + 10 + r.retryAfterMs);
      // Another key is untouched.
      assert.deepEqual(await s.take(uid('other'), [rpm(5)], T0 + 10), { ok: true });
    });

    it('charges every rule or none (a refused request charges no rule)', async () => {
      const k = uid('atomic');
      const both = (tokens: number) => [rpm(3), tpm(100, tokens)];
      assert.deepEqual(await s.take(k, both(60), T0), { ok: true });
      // Refused by tokens: the request count must not move.
      const r1 = refused(await s.take(k, both(50), T0 + 1));
      assert.equal(r1.rule, 'tpm');
      assert.equal(r1.remaining, 40);
      assert.equal(r1.limit, 100);
      assert.deepEqual(await s.take(k, both(20), T0 + 2), { ok: true });
      assert.deepEqual(await s.take(k, both(20), T0 + 3), { ok: true });
      // 3 requests and 100 tokens used: the request rule now refuses on its own...
      const r2 = refused(await s.take(k, [rpm(3)], T0 + 4));
      assert.equal(r2.rule, 'rpm');
      // ...and the token rule too: no refused attempt above was charged.
      const r3 = refused(await s.take(k, [tpm(100, 1)], T0 + 5));
      assert.equal(r3.remaining, 0);

      // Refused by requests: the tokens must not move.
      const k2 = uid('atomic2');
      assert.deepEqual(await s.take(k2, [rpm(1), tpm(100, 10)], T0), { ok: true });
      for (let i = 0; i < 5; i++) assert.equal(refused(await s.take(k2, [rpm(1), tpm(100, 10)], T0 + 1 + i)).rule, 'rpm');
      assert.deepEqual(await s.take(k2, [tpm(100, 90)], T0 + 10), { ok: true });
    });

    it('names the refusing rule that clears last', async () => {
      const k = uid('worst');
      assert.deepEqual(await s.take(k, [rpm(1)], T0), { ok: true });
      assert.deepEqual(await s.take(k, [tpm(10, 10)], T0 + 30_000), { ok: true });
      const r = refused(await s.take(k, [rpm(1), tpm(10, 1)], T0 + 31_000));
      assert.equal(r.rule, 'tpm');
      assert.equal(r.retryAfterMs, 30_000 + 1000 + MIN - 31_000);
    });

    it('slides the window over time', async () => {
      const k = uid('slide');
      assert.deepEqual(await s.take(k, [rpm(3)], T0), { ok: true });
      assert.deepEqual(await s.take(k, [rpm(3)], T0 + 500), { ok: true });
      assert.deepEqual(await s.take(k, [rpm(3)], T0 + 30_000), { ok: true });
      const r = refused(await s.take(k, [rpm(3)], T0 + 31_000));
      assert.equal(r.retryAfterMs, 30_000);
      assert.equal(refused(await s.take(k, [rpm(3)], T0 + 60_999)).retryAfterMs, 1);
      // The first second's two requests have left the window; the one at +30 s has not.
      assert.deepEqual(await s.take(k, [rpm(3)], T0 + 61_000), { ok: true });
      assert.deepEqual(await s.take(k, [rpm(3)], T0 + 61_000), { ok: true });
      assert.equal(refused(await s.take(k, [rpm(3)], T0 + 61_000)).retryAfterMs, 30_000);
      assert.deepEqual(await s.take(k, [rpm(3)], T0 + 91_000), { ok: true });
    });

    it('never admits more than the limit within any window', async () => {
      const k = uid('any-window');
      const limit = 7;
      let t = T0;
      let seed = 42;
      const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
      const admitted: number[] = [];
      for (let i = 0; i < 150; i++) {
        t += Math.floor(rand() * 3_000);
        if ((await s.take(k, [rpm(limit)], t)).ok) admitted.push(t);
      }
      assert.ok(admitted.length >= 7 * 3, `only ${admitted.length} admitted over ${(t - T0) / 1000} s`);
      for (const end of admitted) {
        const inWindow = admitted.filter((x) => x > end - MIN && x <= end).length;
        assert.ok(inWindow <= limit, `${inWindow} admitted in the minute up to ${end - T0}`);
      }
    });

    it('admits a cost above the limit only into an empty window', async () => {
      const k = uid('oversize');
      assert.deepEqual(await s.take(k, [tpm(10, 15)], T0), { ok: true });
      const r = refused(await s.take(k, [tpm(10, 1)], T0 + 5_000));
      assert.equal(r.retryAfterMs, 1000 + MIN - 5_000);
      const k2 = uid('oversize2');
      assert.deepEqual(await s.take(k2, [tpm(10, 1)], T0), { ok: true });
      const r2 = refused(await s.take(k2, [tpm(10, 15)], T0 + 2_000));
      assert.equal(r2.retryAfterMs, 1000 + MIN - 2_000);
      assert.deepEqual(await s.take(k2, [tpm(10, 15)], T0 + 1000 + MIN), { ok: true });
    });

    it('adjusts a charge after the fact', async () => {
      const k = uid('adjust');
      assert.deepEqual(await s.take(k, [tpm(100, 80)], T0), { ok: true });
      // 80 reserved, 30 used: refund 50 from the bucket it was charged in.
      await s.adjust(k, 'tpm', MIN, -50, T0 + 5_000, T0);
      assert.deepEqual(await s.take(k, [tpm(100, 60)], T0 + 10_000), { ok: true });
      // 60 reserved, 80 used: +20 now.
      await s.adjust(k, 'tpm', MIN, 20, T0 + 20_000, T0 + 10_000);
      const r = refused(await s.take(k, [tpm(100, 1)], T0 + 20_000));
      assert.equal(r.remaining, 0);
      // The 30 of T0 leave after a minute; 60 + 20 remain.
      assert.deepEqual(await s.take(k, [tpm(100, 20)], T0 + 61_000), { ok: true });
      assert.equal(refused(await s.take(k, [tpm(100, 1)], T0 + 61_000)).remaining, 0);
      // A refund never goes below zero: the T0+10s bucket holds 60.
      await s.adjust(k, 'tpm', MIN, -1_000, T0 + 62_000, T0 + 10_000);
      // Left: 20 (at +20 s) and 20 (at +61 s).
      assert.deepEqual(await s.take(k, [tpm(100, 60)], T0 + 62_000), { ok: true });
      assert.equal(refused(await s.take(k, [tpm(100, 1)], T0 + 62_000)).remaining, 0);
      // A refund for a charge that has left the window changes nothing.
      const k2 = uid('adjust-late');
      assert.deepEqual(await s.take(k2, [tpm(100, 100)], T0), { ok: true });
      assert.deepEqual(await s.take(k2, [tpm(100, 100)], T0 + 61_000), { ok: true });
      await s.adjust(k2, 'tpm', MIN, -100, T0 + 62_000, T0);
      assert.equal(refused(await s.take(k2, [tpm(100, 1)], T0 + 62_000)).remaining, 0);
      // Adjusting a key never charged before works (positive) and is harmless (negative).
      const k3 = uid('adjust-fresh');
      await s.adjust(k3, 'tpm', MIN, -10, T0);
      await s.adjust(k3, 'tpm', MIN, 95, T0);
      assert.equal(refused(await s.take(k3, [tpm(100, 6)], T0)).remaining, 5);
    });

    it('is a semaphore with leases that lapse', async () => {
      const k = uid('sem');
      assert.equal(await s.acquireSlot(k, 2, 1_000, 'a', T0), true);
      assert.equal(await s.acquireSlot(k, 2, 1_000, 'b', T0), true);
      assert.equal(await s.acquireSlot(k, 2, 1_000, 'c', T0), false);
      // A holder acquiring again renews its lease instead of taking a second place.
      assert.equal(await s.acquireSlot(k, 2, 1_000, 'a', T0 + 900), true);
      assert.equal(await s.acquireSlot(k, 2, 1_000, 'c', T0 + 900), false);
      await s.releaseSlot(k, 'b');
      await s.releaseSlot(k, 'b');
      assert.equal(await s.acquireSlot(k, 2, 1_000, 'c', T0 + 950), true);
      assert.equal(await s.acquireSlot(k, 2, 1_000, 'd', T0 + 960), false);
      // 'a' renewed until T0+1900 and 'c' holds until T0+1950: one place back at 1900.
      assert.equal(await s.acquireSlot(k, 2, 1_000, 'd', T0 + 1_899), false);
      assert.equal(await s.acquireSlot(k, 2, 1_000, 'd', T0 + 1_900), true);
      assert.equal(await s.acquireSlot(k, 2, 1_000, 'e', T0 + 1_900), false);
      // A crashed process's places all come back once their leases lapse.
      assert.equal(await s.acquireSlot(k, 2, 1_000, 'e', T0 + 5_000), true);
      assert.equal(await s.acquireSlot(k, 2, 1_000, 'f', T0 + 5_000), true);
      // Releasing what is not held is harmless.
      await s.releaseSlot(k, 'nobody');
      await s.releaseSlot(uid('never'), 'nobody');
    });

    it('takes a place and a charge together or neither', async () => {
      const k = uid('both');
      const slot = (holder: string) => ({ key: k, max: 1, leaseMs: 10_000, holder });
      assert.deepEqual(await s.acquire(slot('a'), k, [rpm(2)], T0), { ok: true });
      // No place: the rate is not charged.
      for (let i = 0; i < 3; i++)
        assert.deepEqual(await s.acquire(slot(`x${i}`), k, [rpm(2)], T0 + 1), { ok: false, reason: 'concurrency' });
      await s.releaseSlot(k, 'a');
      assert.deepEqual(await s.acquire(slot('b'), k, [rpm(2)], T0 + 2), { ok: true });
      await s.releaseSlot(k, 'b');
      // No rate left: no place is taken.
      const r = await s.acquire(slot('c'), k, [rpm(2)], T0 + 3);
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.reason, 'rate');
      assert.equal(!r.ok && r.reason === 'rate' && r.rule, 'rpm');
      assert.equal(await s.acquireSlot(k, 1, 10_000, 'd', T0 + 4), true);
      // Without a slot and without rules there is nothing to refuse.
      assert.deepEqual(await s.acquire(null, uid('none'), [], T0), { ok: true });
    });

    it('admits a key and an endpoint in one step: a key refused charges the endpoint nothing, a key admitted stays charged', async () => {
      const k = uid('admit-key');
      const e = uid('admit-ep');
      const ep = (holder: string, max: number) => ({ slot: { key: e, max, leaseMs: 10_000, holder }, rateKey: e, rules: [rpm(5)] });
      assert.deepEqual(await s.admit(k, [rpm(2)], ep('a', 1), T0), { ok: true, endpoint: { ok: true } });
      // The endpoint is full: the key is charged all the same, the endpoint's rate is not.
      assert.deepEqual(await s.admit(k, [rpm(2)], ep('b', 1), T0 + 1), { ok: true, endpoint: { ok: false, reason: 'concurrency' } });
      // The key is spent: its own refusal, and the endpoint is not asked (room for 'c' notwithstanding).
      const r = await s.admit(k, [rpm(2)], ep('c', 5), T0 + 2);
      assert.equal(r.ok, false);
      const kr = r as RateRefusal;
      assert.equal(kr.rule, 'rpm');
      assert.equal(kr.limit, 2);
      assert.equal(kr.remaining, 0);
      assert.equal(kr.resetAt, T0 + 2 + kr.retryAfterMs);
      // Only 'a' holds a place and only 'a' was charged at the endpoint: 4 of its 5 left.
      assert.equal(await s.acquireSlot(e, 2, 10_000, 'd', T0 + 3), true);
      assert.equal(await s.acquireSlot(e, 2, 10_000, 'c', T0 + 3), false);
      for (let i = 0; i < 4; i++) assert.deepEqual(await s.acquire(null, e, [rpm(5)], T0 + 4), { ok: true });
      // The endpoint's rate refuses: the key is charged, the endpoint names its rule.
      const k2 = uid('admit-key2');
      const r2 = await s.admit(k2, [rpm(10), tpm(1_000, 100)], { slot: null, rateKey: e, rules: [rpm(5)] }, T0 + 5);
      assert.equal(r2.ok, true);
      const er = r2.ok ? r2.endpoint : undefined;
      assert.equal(er?.ok, false);
      assert.equal(er && !er.ok && er.reason === 'rate' && er.rule, 'rpm');
      assert.equal(refused(await s.take(k2, [tpm(1_000, 901)], T0 + 6)).remaining, 900);
      // A key without rules and an endpoint without a slot or rules: nothing to refuse.
      assert.deepEqual(await s.admit(uid('none'), [], { slot: null, rateKey: uid('none'), rules: [] }, T0), {
        ok: true,
        endpoint: { ok: true },
      });
    });

    it('admits exactly the key limit of concurrent requests, and exactly the endpoint places among them', async () => {
      const k = uid('admit-concurrent');
      const e = uid('admit-concurrent-ep');
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          s.admit(k, [rpm(10)], { slot: { key: e, max: 3, leaseMs: 10_000, holder: `h${i}` }, rateKey: e, rules: [rpm(100)] }, T0),
        ),
      );
      const admitted = results.filter((r) => r.ok);
      assert.equal(admitted.length, 10);
      assert.equal(admitted.filter((r) => r.ok && r.endpoint.ok).length, 3);
      // The endpoint charged the 3 places only.
      assert.equal(refused(await s.take(e, [rpm(100, 98)], T0)).remaining, 97);
    });

    it('decides concurrent requests atomically', async () => {
      const k = uid('concurrent');
      const results = await Promise.all(Array.from({ length: 200 }, () => s.take(k, [rpm(50), tpm(1_000_000, 10)], T0)));
      assert.equal(results.filter((r) => r.ok).length, 50);
      const sem = uid('concurrent-sem');
      const slots = await Promise.all(Array.from({ length: 100 }, (_, i) => s.acquireSlot(sem, 7, 10_000, `h${i}`, T0)));
      assert.equal(slots.filter(Boolean).length, 7);
    });
  });
}

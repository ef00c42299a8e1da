/**
 * The memory RateStore: the conformance suite, and memory that follows the active keys.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryRateStore } from '../../src/limits/memory-rate-store.ts';
import { rateStoreSuite, T0 } from './rate-store-suite.ts';

rateStoreSuite('memory', async () => {
  const store = new MemoryRateStore();
  return { store, cleanup: () => store.close() };
});

describe('MemoryRateStore', () => {
  it('forgets keys once their window has passed', async () => {
    const s = new MemoryRateStore();
    for (let i = 0; i < 3_000; i++) {
      await s.take(`k${i}`, [{ name: 'rpm', limit: 10, windowMs: 60_000, cost: 1 }], T0);
      await s.acquireSlot(`s${i}`, 1, 1_000, 'h', T0);
    }
    assert.ok(s.size >= 3_000);
    // Later operations sweep what has expired.
    for (let i = 0; i < 2_048; i++) await s.take('live', [{ name: 'rpm', limit: 1e9, windowMs: 60_000, cost: 1 }], T0 + 120_000);
    assert.equal(s.size, 1);
  });
});

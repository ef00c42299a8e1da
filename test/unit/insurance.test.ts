/**
 * Zero-completion insurance asks whether the client received anything, not whether there were
 * completion tokens: an embedding has none, and is charged.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { holdRates } from '../../src/accounting/billing.ts';
import { chargeFor, generated, isInsured, upstreamCharged } from '../../src/accounting/charge.ts';

test('insured: an error, an error finish, or nothing produced', () => {
  assert.equal(isInsured({ produced: true, finishReason: 'stop', error: 'boom' }), true);
  assert.equal(isInsured({ produced: true, finishReason: 'error' }), true);
  assert.equal(isInsured({ produced: false, finishReason: null }), true);
});

test('charged: anything produced (an embedding with vectors has no completion tokens and no finish)', () => {
  assert.equal(isInsured({ produced: true, finishReason: null }), false);
  assert.equal(isInsured({ produced: true, finishReason: 'stop' }), false);
});

test('a client that cancels pays for what was produced, even nothing yet', () => {
  assert.equal(isInsured({ produced: false, finishReason: null, cancelled: true }), false);
});

test('a generation produced something when it has output tokens or ran to a finish', () => {
  assert.equal(generated({ outputTokens: 0 }, null), false);
  assert.equal(generated({ outputTokens: 3 }, null), true);
  assert.equal(generated({ outputTokens: 0 }, 'stop'), true);
});

test('a charge is the upstream cost plus the fee (rounded half up), or nothing when insured', () => {
  const upstream = { promptNanos: 600, completionNanos: 401, totalNanos: 1_001 };
  // 5% of 1,001 is 50.05 nanos: rounds to 50.
  assert.deepEqual(chargeFor(upstream, false, 500), { upstream, feeNanos: 50, chargedNanos: 1_051, insured: false });
  assert.equal(upstreamCharged(chargeFor(upstream, false, 500)), 1_001);
  const waived = chargeFor(upstream, true, 500);
  assert.deepEqual([waived.feeNanos, waived.chargedNanos, upstreamCharged(waived)], [0, 0, 0]);
});

test("a hold's rates include the fee: output per token, and the rest rounded up to a nano-dollar", () => {
  const femto = 1_000_000n; // one nano-dollar
  const pricing = { prompt: 2n * femto, completion: 10n * femto, cacheWrite: 3n * femto, request: 7n * femto, image: 1n };
  // 10% fee: output 11 nanos a token; fixed = 100 prompt tokens at the dearer cache-write rate (3.3) + 7.7 + 2 images at 1.1 femto.
  const rates = holdRates(pricing, 100, 2, 1_000);
  assert.equal(rates.outputFemtoPerToken, 11n * femto);
  assert.equal(rates.fixedNanos, 338);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeCost } from '../../src/accounting/cost.ts';
import { femtoToUsdString, nanosToUsd, parseScaledDecimal, usdPerMillionToFemto, usdPerTokenToFemto } from '../../src/spec/money.ts';

test('decimal parsing is exact, with exponents and half-up rounding past the scale', () => {
  assert.equal(usdPerTokenToFemto('0.00000088'), 880_000_000n);
  assert.equal(usdPerTokenToFemto('1.5e-7'), 150_000_000n);
  assert.equal(usdPerTokenToFemto(0.000003), 3_000_000_000n);
  assert.equal(usdPerMillionToFemto(0.0375), 37_500n * 1000n);
  assert.equal(parseScaledDecimal('0.15', 0), 0n);
  assert.equal(parseScaledDecimal('0.5', 0), 1n);
  assert.equal(parseScaledDecimal('12', 2), 1200n);
  assert.throws(() => parseScaledDecimal('-1', 9));
  assert.throws(() => parseScaledDecimal('abc', 9));
});

test('prices render back to the same strings', () => {
  assert.equal(femtoToUsdString(880_000_000n), '0.00000088');
  assert.equal(femtoToUsdString(3_000_000_000n), '0.000003');
  assert.equal(femtoToUsdString(0n), '0');
  assert.equal(nanosToUsd(1_234), 0.000001234);
});

test('nano-dollars show as the number their exact decimal parses to, at every magnitude', () => {
  // The decimal string of n nano-dollars, built digit by digit: the exact amount.
  const exact = (n: number) => {
    const s = String(n).padStart(10, '0');
    return Number(`${s.slice(0, -9)}.${s.slice(-9)}`);
  };
  const samples = [0, 1, 7, 999_999_999, 1_000_000_000, 123_456_789_012, Number.MAX_SAFE_INTEGER];
  let seed = 42;
  for (let i = 0; i < 20_000; i++) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    samples.push(Math.floor((seed / 2 ** 31) * 10 ** (1 + (i % 15))));
  }
  for (const n of samples) assert.equal(nanosToUsd(n), exact(n), String(n));
});

test('a 40-token request to a cheap model costs a few micro-dollars, exactly', () => {
  // 0.1 USD per million prompt tokens, 0.4 per million completion tokens.
  const pricing = { prompt: usdPerMillionToFemto('0.1'), completion: usdPerMillionToFemto('0.4') };
  const cost = computeCost({ inputTokens: 30, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 }, pricing);
  assert.equal(cost.promptNanos, 3_000);
  assert.equal(cost.totalNanos, 7_000);
});

test('summing many tiny costs drifts by nothing (unlike floats)', () => {
  const pricing = { prompt: usdPerTokenToFemto('0.0000001'), completion: usdPerTokenToFemto('0.0000002') };
  let total = 0;
  let float = 0;
  for (let i = 0; i < 10_000; i++) {
    const c = computeCost({ inputTokens: 3, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 }, pricing);
    total += c.totalNanos;
    float += 0.0000003 + 0.0000002;
  }
  assert.equal(total, 10_000 * 500);
  assert.notEqual(float, 0.005, 'floats do drift, which is why money is integers');
});

test('cache reads, cache writes and reasoning are priced separately', () => {
  const pricing = {
    prompt: usdPerMillionToFemto('3'),
    completion: usdPerMillionToFemto('15'),
    cacheRead: usdPerMillionToFemto('0.3'),
    cacheWrite: usdPerMillionToFemto('3.75'),
  };
  const c = computeCost(
    { inputTokens: 1_000, cacheReadTokens: 600, cacheWriteTokens: 300, outputTokens: 200, reasoningTokens: 50 },
    pricing,
  );
  // uncached 100 × 3000 + read 600 × 300 + write 300 × 3750 = 300k + 180k + 1,125k nano... in femto/1e6:
  assert.equal(c.promptNanos, 100 * 3_000 + 600 * 300 + 300 * 3_750);
  assert.equal(c.completionNanos, 200 * 15_000);
});

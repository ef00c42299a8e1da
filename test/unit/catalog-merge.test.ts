/**
 * Canonical models: every configured provider serving the same model is one of its endpoints;
 * the dashed Freeway ids stay aliases; a host's own id pins that host.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildCatalog } from '../../src/catalog/build.ts';
import { buildIndex, mapToCanonical } from '../../src/catalog/canonical.ts';
import type { CanonicalRules } from '../../src/catalog/canonical-rules.ts';
import { Catalog } from '../../src/catalog/catalog.ts';
import { loadSettings } from '../../src/config/load.ts';
import { unknownModel } from '../../src/router/plan/plan.ts';

const KEYS = { OPENAI_API_KEY: 'k', ANTHROPIC_API_KEY: 'k', GROQ_API_KEY: 'k', TOGETHER_API_KEY: 'k', DATABASE_URL: ':memory:' };

async function catalogOf(env: Record<string, string>, discovered = new Map<string, string[]>(), yaml?: string) {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const cwd = mkdtempSync(join(tmpdir(), 'freeway-merge-'));
  if (yaml) writeFileSync(join(cwd, 'freeway.yaml'), yaml);
  const settings = await loadSettings({ env, cwd });
  const built = buildCatalog({ settings, discovered });
  return { built, catalog: new Catalog(built.models, built) };
}

describe('canonical models', () => {
  test('one open model served by several hosts is one model with an endpoint per host', async () => {
    const { catalog } = await catalogOf(KEYS);
    const m = catalog.get('meta-llama/llama-3.3-70b-instruct');
    assert.ok(m);
    assert.equal(m.id, 'meta-llama/llama-3.3-70b-instruct');
    assert.equal(m.name, 'Meta: Llama 3.3 70B Instruct');
    const byProvider = new Map(m.endpoints.map((e) => [e.provider.id, e]));
    assert.deepEqual([...byProvider.keys()].sort(), ['groq', 'together']);
    assert.equal(byProvider.get('groq')!.upstreamModel, 'llama-3.3-70b-versatile');
    assert.equal(byProvider.get('together')!.upstreamModel, 'meta-llama/Llama-3.3-70B-Instruct-Turbo');
    // Each endpoint keeps its own provider's price.
    assert.notEqual(byProvider.get('groq')!.pricing.prompt, byProvider.get('together')!.pricing.prompt);
    const ids = catalog.all().map((x) => x.id);
    assert.ok(!ids.includes('groq/llama-3.3-70b-versatile'), 'a host id is not listed as a model of its own');
    assert.ok(!ids.includes('together/meta-llama/Llama-3.3-70B-Instruct-Turbo'));
  });

  test("a host's own id pins that host", async () => {
    const { catalog } = await catalogOf(KEYS);
    const m = catalog.get('groq/llama-3.3-70b-versatile');
    assert.ok(m);
    assert.equal(m.pinnedOf, 'meta-llama/llama-3.3-70b-instruct');
    assert.deepEqual(
      m.endpoints.map((e) => e.provider.id),
      ['groq'],
    );
  });

  test("OpenRouter's dotted id is listed; Freeway's dashed id is an alias of it", async () => {
    const { catalog } = await catalogOf(KEYS);
    const ids = catalog.all().map((x) => x.id);
    assert.ok(ids.includes('anthropic/claude-sonnet-4.5'));
    assert.ok(!ids.includes('anthropic/claude-sonnet-4-5'));
    const m = catalog.get('anthropic/claude-sonnet-4-5');
    assert.equal(m?.id, 'anthropic/claude-sonnet-4.5');
    assert.ok(m.aliases?.includes('anthropic/claude-sonnet-4-5'));
    assert.equal(m.endpoints[0].upstreamModel, 'claude-sonnet-4-5');
  });

  test('a listed dated snapshot is pinned, and the model keeps one endpoint per provider', async () => {
    const { catalog } = await catalogOf(KEYS, new Map([['anthropic', ['claude-sonnet-4-5-20250929']]]));
    const m = catalog.get('anthropic/claude-sonnet-4.5')!;
    assert.equal(m.endpoints.filter((e) => e.provider.id === 'anthropic').length, 1);
    const dated = catalog.get('anthropic/claude-sonnet-4-5-20250929');
    assert.equal(dated?.endpoints[0].upstreamModel, 'claude-sonnet-4-5-20250929');
    assert.equal(dated?.pinnedOf, 'anthropic/claude-sonnet-4.5');
  });

  test('models: under the dashed id configures the canonical model', async () => {
    const yaml = 'models:\n  anthropic/claude-sonnet-4-5:\n    name: House Sonnet\n';
    const { catalog } = await catalogOf(KEYS, new Map(), yaml);
    assert.equal(catalog.get('anthropic/claude-sonnet-4.5')?.name, 'House Sonnet');
    assert.ok(!catalog.all().some((m) => m.id === 'anthropic/claude-sonnet-4-5'));
  });

  test("a model no data maps stays the provider's own", async () => {
    const env = { ...KEYS, OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1' };
    const { catalog } = await catalogOf(env, new Map([['ollama', ['my-finetune:7b']]]));
    const m = catalog.get('ollama/my-finetune:7b');
    assert.equal(m?.id, 'ollama/my-finetune:7b');
    assert.equal(m?.pinnedOf, undefined);
    assert.deepEqual(
      m?.endpoints.map((e) => e.provider.id),
      ['ollama'],
    );
  });
});

describe('fields from the data', () => {
  test('release date, knowledge cutoff, limits and modalities as the data states them; unknown is null', async () => {
    const { catalog } = await catalogOf(KEYS);
    const mini = catalog.get('openai/gpt-4o-mini')!;
    assert.equal(mini.created, Date.UTC(2024, 6, 18) / 1000);
    assert.equal(mini.knowledgeCutoff, '2024-10');
    assert.deepEqual(mini.inputModalities, ['text', 'image', 'file']);
    assert.deepEqual(mini.outputModalities, ['text']);
    assert.equal(mini.endpoints[0].maxOutputTokens, 16384);
    assert.equal(mini.endpoints[0].contextLength, 128000);
    assert.equal(mini.endpoints[0].supportsReasoning, false);
    assert.equal(mini.huggingFaceId, null);
    assert.equal(mini.tokenizer, null);
    const gpt5 = catalog.get('openai/gpt-5-mini')!;
    assert.equal(gpt5.endpoints[0].supportsReasoning, true);
    const embedding = catalog.get('openai/text-embedding-3-small')!;
    assert.deepEqual(embedding.outputModalities, ['embeddings']);
  });

  test('a model the data knows nothing of has null fields, not guesses', async () => {
    const env = { ...KEYS, OLLAMA_BASE_URL: 'http://127.0.0.1:9/v1' };
    const { catalog } = await catalogOf(env, new Map([['ollama', ['my-finetune:7b']]]));
    const m = catalog.get('ollama/my-finetune:7b')!;
    assert.equal(m.knowledgeCutoff, null);
    assert.equal(m.openWeights, null);
    assert.equal(m.endpoints[0].contextLength, null);
  });
});

describe('a model no configured provider serves', () => {
  test("the README's quick start: an OpenAI key only, then anthropic/claude-sonnet-4-5", async () => {
    const { catalog } = await catalogOf({ OPENAI_API_KEY: 'k', DATABASE_URL: ':memory:' });
    assert.equal(catalog.get('anthropic/claude-sonnet-4-5'), undefined);
    const err = unknownModel(catalog, 'anthropic/claude-sonnet-4-5');
    assert.equal(err.status, 404);
    assert.match(err.message, /^anthropic\/claude-sonnet-4-5 is not served by any configured provider\. It is served by /);
    assert.match(err.message, /Anthropic \(set ANTHROPIC_API_KEY or providers\.anthropic\.apiKey\)/);
    assert.match(err.message, /, or OpenRouter \(set OPENROUTER_API_KEY/);
    assert.deepEqual(err.metadata.providers, ['anthropic', 'openrouter']);
  });
});

describe('mapToCanonical', () => {
  const index = buildIndex([
    { id: 'meta-llama/llama-3.3-70b-instruct', name: 'Llama 3.3 70B Instruct' },
    { id: 'openai/gpt-oss-120b', alternatives: ['openai/gpt-oss-120b-2025'] },
    { id: 'a/shared-slug' },
    { id: 'b/shared-slug' },
  ]);
  const rules: CanonicalRules = {
    stripPrefixes: { host: ['accounts/host/models/'] },
    rewrites: { host: [{ pattern: '(\\d)p(\\d)', replace: '$1.$2' }] },
    hostedAuthor: { azure: 'openai' },
    hostSuffixes: [
      { suffix: '-turbo', quantization: null },
      { suffix: '-fp8', quantization: 'fp8' },
    ],
    ids: { host: { 'l33-versatile': 'meta-llama/llama-3.3-70b-instruct' } },
    authors: {},
  };
  const map = (upstream: string, providerId = 'host') => mapToCanonical({ providerId, author: providerId, upstream }, index, rules);

  test('by the rules table, by author and case, by host prefix and suffix, by an alternative id', () => {
    assert.equal(map('l33-versatile')?.canonical.id, 'meta-llama/llama-3.3-70b-instruct');
    assert.equal(map('meta-llama/Llama-3.3-70B-Instruct-Turbo')?.canonical.id, 'meta-llama/llama-3.3-70b-instruct');
    const q = map('accounts/host/models/gpt-oss-120b-FP8');
    assert.equal(q?.canonical.id, 'openai/gpt-oss-120b');
    assert.equal(q?.quantization, 'fp8');
    assert.equal(map('gpt-oss-120b-2025', 'openai')?.canonical.id, 'openai/gpt-oss-120b');
    const prefixed = map('accounts/host/models/l33-versatile');
    assert.equal(prefixed?.canonical.id, 'meta-llama/llama-3.3-70b-instruct', 'the table, after the prefix');
    assert.equal(map('gpt-oss-120b', 'azure')?.canonical.id, 'openai/gpt-oss-120b', "a host of one author's models");
    assert.equal(map('accounts/host/models/llama-3p3-70b-instruct')?.canonical.id, 'meta-llama/llama-3.3-70b-instruct', 'a host spelling');
  });

  test('an ambiguous bare slug or an unknown id maps to nothing', () => {
    assert.equal(map('shared-slug'), undefined);
    assert.equal(map('brand-new-model'), undefined);
  });
});

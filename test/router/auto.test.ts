/**
 * The model routers' decisions (router/auto.ts) on a hand-built catalog: what the request needs,
 * each policy, capacity, the free router's pool and draw, and stickiness.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { usdPerMillionToFemto } from '../../src/spec/money.ts';
import { Catalog } from '../../src/catalog/catalog.ts';
import type { CatalogModel, Endpoint, Pricing } from '../../src/catalog/types.ts';
import type { ProviderInstance } from '../../src/providers/types.ts';
import { chooseModels, routablePool, routerOf } from '../../src/router/auto.ts';
import type { ChooseInput } from '../../src/router/auto.ts';
import { MemoryHealth } from '../../src/router/health/index.ts';
import { NO_HEALTH, NO_NEEDS, seededRandom } from '../../src/router/plan/index.ts';
import type { RouteNeeds } from '../../src/router/plan/index.ts';
import { DEFAULT_PREFERENCES } from '../../src/router/types.ts';
import { endpointKey } from '../../src/catalog/endpoint-key.ts';
import { GatewayError } from '../../src/spec/errors.ts';

const provider = (id: string): ProviderInstance => ({
  id,
  name: id,
  protocol: 'openai',
  baseUrl: `https://${id}.example/v1`,
  headers: {},
  quirks: {},
});
const P = provider('p');
const Q = provider('q');
const M = (usd: string) => usdPerMillionToFemto(usd);
const price = (usd: string): Pricing => ({ prompt: M(usd), completion: M(usd) });

function endpoint(upstreamModel: string, pricing: Pricing, over: Partial<Endpoint> = {}, p = P): Endpoint {
  return {
    provider: p,
    upstreamModel,
    pricing,
    free: false,
    contextLength: 100_000,
    maxOutputTokens: 8_000,
    quantization: null,
    dataCollection: 'allow',
    supportsTools: true,
    supportsStructuredOutputs: true,
    ...over,
  };
}

function model(id: string, endpoints: Endpoint[], over: Partial<CatalogModel> = {}): CatalogModel {
  return {
    id,
    name: id,
    description: '',
    created: 0,
    kind: 'chat',
    contextLength: 100_000,
    maxOutputTokens: 8_000,
    inputModalities: ['text'],
    endpoints,
    ...over,
  };
}

// cheap: no tools, text only, small context; mid: tools and images; dear: tools, images, reasons, big context.
const cheap = model('acme/cheap', [endpoint('cheap', price('0.1'), { supportsTools: false, contextLength: 8_000 })], {
  contextLength: 8_000,
});
const mid = model('acme/mid', [endpoint('mid', price('1'))], { inputModalities: ['text', 'image'] });
const dear = model('acme/dear', [endpoint('dear', price('5'), { supportsReasoning: true, contextLength: 1_000_000 })], {
  inputModalities: ['text', 'image'],
  contextLength: 1_000_000,
});
const embed = model('acme/embed', [endpoint('embed', price('0.01'))], { kind: 'embedding' });
const freeA = model('acme/free-a:free', [endpoint('fa', price('0'), { free: true })]);
const freeB = model('acme/free-b:free', [endpoint('fb', price('0'), { free: true }, Q)]);
const unpriced = model('acme/unpriced', [endpoint('u', price('0'), { unpriced: true })]);
const catalog = new Catalog(new Map([cheap, mid, dear, embed, freeA, freeB, unpriced].map((m) => [m.id, m])));

const needs = (over: Partial<RouteNeeds> = {}): RouteNeeds => ({ ...NO_NEEDS, ...over });

function choose(over: Partial<ChooseInput> = {}): string[] {
  return chooseModels({ catalog, router: 'auto', needs: needs(), prefs: DEFAULT_PREFERENCES, health: NO_HEALTH, ...over });
}

describe('model routers', () => {
  test('router ids: openrouter/auto and its alias freeway/auto, openrouter/free; anything else is a model', () => {
    assert.equal(routerOf('openrouter/auto'), 'auto');
    assert.equal(routerOf('freeway/auto'), 'auto');
    assert.equal(routerOf('OpenRouter/Auto'), 'auto');
    assert.equal(routerOf('openrouter/free'), 'free');
    assert.equal(routerOf('openrouter/gpt-4o'), undefined);
  });

  test('cheapest by default; never an embedding model, a :free variant or an unpriced model; three choices', () => {
    assert.deepEqual(choose(), ['acme/cheap', 'acme/mid', 'acme/dear']);
  });

  test('what the request needs: tools, images, context length, reasoning', () => {
    assert.deepEqual(choose({ needs: needs({ tools: true }) }), ['acme/mid', 'acme/dear']);
    assert.deepEqual(choose({ needs: needs({ images: true }) }), ['acme/mid', 'acme/dear']);
    assert.deepEqual(choose({ needs: needs({ promptTokens: 200_000 }) }), ['acme/dear']);
    assert.deepEqual(choose({ needs: needs({ parameters: new Set(['reasoning']) }) }), ['acme/dear']);
  });

  test('nothing fits: a 404 that says what the request needs', () => {
    const err = (() => {
      try {
        choose({ needs: needs({ audio: true, tools: true }) });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof GatewayError);
    assert.equal(err.status, 404);
    assert.match(err.message, /^openrouter\/auto: no model .* \(it needs tool use, audio input\)\.$/);
  });

  test('provider preferences narrow the pool as they narrow a route', () => {
    assert.deepEqual(choose({ prefs: { ...DEFAULT_PREFERENCES, maxPrice: { prompt: 2 } } }), ['acme/cheap', 'acme/mid']);
  });

  test('ordered: the configured list, in order, skipping what does not fit or is unknown', () => {
    const policy = { policy: 'ordered' as const, models: ['acme/dear', 'nope/missing', 'acme/cheap', 'acme/mid'] };
    assert.deepEqual(choose({ policy }), ['acme/dear', 'acme/cheap', 'acme/mid']);
    assert.deepEqual(choose({ policy, needs: needs({ tools: true }) }), ['acme/dear', 'acme/mid']);
  });

  test('fastest: best measured median throughput first; unmeasured follow, cheapest first', async () => {
    const health = new MemoryHealth({ minSamples: 1 });
    const now = Date.now();
    health.record(endpointKey(dear.endpoints[0]), { ok: true, ttftMs: 100, tokensPerSecond: 200, at: now });
    health.record(endpointKey(mid.endpoints[0]), { ok: true, ttftMs: 100, tokensPerSecond: 50, at: now });
    assert.deepEqual(choose({ policy: { policy: 'fastest' }, health, now }), ['acme/dear', 'acme/mid', 'acme/cheap']);
    await health.close();
  });

  test('a model whose circuits are all open goes last, still tried rather than nothing', async () => {
    const health = new MemoryHealth({ minSamples: 1 });
    const now = Date.now();
    for (let i = 0; i < 5; i++) health.record(endpointKey(cheap.endpoints[0]), { ok: false, status: 503, at: now });
    assert.equal(health.circuit(endpointKey(cheap.endpoints[0]), now), 'open');
    assert.deepEqual(choose({ health, now }), ['acme/mid', 'acme/dear', 'acme/cheap']);
    await health.close();
  });

  test('sticky: back to the conversation model while it fits; not when it cannot serve the turn', () => {
    assert.deepEqual(choose({ sticky: 'acme/dear' }), ['acme/dear', 'acme/cheap', 'acme/mid']);
    // This turn brings tools, which the sticky model lacks: the router picks again.
    assert.deepEqual(choose({ sticky: 'acme/cheap', needs: needs({ tools: true }) }), ['acme/mid', 'acme/dear']);
  });

  test('free: only :free models, drawn at random, those with capacity first', async () => {
    const seen = new Set<string>();
    const random = seededRandom(7);
    for (let i = 0; i < 40; i++) {
      const picked = choose({ router: 'free', random });
      assert.deepEqual([...picked].sort(), ['acme/free-a:free', 'acme/free-b:free']);
      seen.add(picked[0]);
    }
    assert.equal(seen.size, 2, 'both free models get picked');
    const health = new MemoryHealth({ minSamples: 1 });
    const now = Date.now();
    for (let i = 0; i < 5; i++) health.record(endpointKey(freeA.endpoints[0]), { ok: false, status: 503, at: now });
    for (let i = 0; i < 10; i++) assert.equal(choose({ router: 'free', random, health, now })[0], 'acme/free-b:free');
    await health.close();
  });

  test('the pools the catalog lists each router by: what some request could be routed to', () => {
    const ids = (ms: CatalogModel[]) => ms.map((m) => m.id);
    assert.deepEqual(ids(routablePool(catalog, 'auto')), ['acme/cheap', 'acme/dear', 'acme/mid'], 'no embedding, :free or unpriced model');
    assert.deepEqual(ids(routablePool(catalog, 'auto', { policy: 'ordered', models: ['acme/mid', 'acme/unpriced', 'acme/none'] })), [
      'acme/mid',
    ]);
    assert.deepEqual(ids(routablePool(catalog, 'free')), ['acme/free-a:free', 'acme/free-b:free']);
    const noFree = new Catalog(new Map([cheap, unpriced].map((m) => [m.id, m])));
    assert.deepEqual(routablePool(noFree, 'free'), [], 'nothing to list the free router by');
  });

  test('free: a 404 naming the free router when no free model fits', () => {
    assert.throws(() => choose({ router: 'free', needs: needs({ images: true }) }), /^GatewayError: openrouter\/free: no free model/);
  });
});

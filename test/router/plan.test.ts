import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { usdPerMillionToFemto } from '../../src/spec/money.ts';
import { Catalog } from '../../src/catalog/catalog.ts';
import type { CatalogModel, Endpoint, Pricing } from '../../src/catalog/types.ts';
import { parseChatRequest } from '../../src/doors/openai/parse-chat-request.ts';
import type { Candidate } from '../../src/router/types.ts';
import type { OpenAIQuirks, ProviderInstance, Protocol } from '../../src/providers/types.ts';
import {
  NO_HEALTH,
  NO_NEEDS,
  needsOf,
  parseProviderPreferences,
  pickByInversePriceSquared,
  planRoute,
  seededRandom,
  stickyKeyOf,
  supportedParameters,
} from '../../src/router/plan/index.ts';
import type { PlanInput, RouteHealth, RouteNeeds, RoutePreferences } from '../../src/router/plan/index.ts';
import { endpointKey } from '../../src/catalog/endpoint-key.ts';
import { DEFAULT_PREFERENCES } from '../../src/router/types.ts';
import type { EndpointStats, Exclusion } from '../../src/router/types.ts';
import { GatewayError } from '../../src/spec/errors.ts';
import type { ChatRequest } from '../../src/spec/request.ts';

// ---- fixtures -------------------------------------------------------------------------------

function provider(id: string, name = id.toUpperCase(), protocol: Protocol = 'openai', quirks: OpenAIQuirks = {}): ProviderInstance {
  return { id, name, protocol, baseUrl: `https://${id}.example/v1`, headers: {}, quirks };
}

const M = (usd: string) => usdPerMillionToFemto(usd);

function endpoint(p: ProviderInstance, pricing: Pricing, over: Partial<Endpoint> = {}): Endpoint {
  return {
    provider: p,
    upstreamModel: 'm',
    pricing,
    free: false,
    contextLength: 100_000,
    maxOutputTokens: 8_000,
    quantization: null,
    dataCollection: 'deny',
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

const catalogOf = (...models: CatalogModel[]) => new Catalog(new Map(models.map((m) => [m.id, m])));

const A = provider('alpha', 'Alpha Cloud');
const B = provider('beta', 'Beta AI');
const C = provider('gamma', 'Gamma');
const D = provider('delta', 'Delta', 'anthropic');

/** Three endpoints of one model priced $1, $2, $3 per million (prompt + completion). */
function threeWay(over: Partial<Record<'a' | 'b' | 'c', Partial<Endpoint>>> = {}): CatalogModel {
  return model('acme/m', [
    endpoint(B, { prompt: M('1'), completion: M('1') }, over.b),
    endpoint(A, { prompt: M('0.5'), completion: M('0.5') }, over.a),
    endpoint(C, { prompt: M('1.5'), completion: M('1.5') }, over.c),
  ]);
}

const stats = (over: Partial<EndpointStats> = {}): EndpointStats => ({
  uptime5m: null,
  uptime30m: null,
  latency5m: null,
  latency30m: null,
  throughput5m: null,
  throughput30m: null,
  circuit: 'closed',
  ...over,
});
const pct = (p50: number) => ({ p50, p75: p50, p90: p50, p99: p50 });

function fakeHealth(byKey: Record<string, Partial<EndpointStats>>, down: string[] = []): RouteHealth {
  return {
    circuit: (key: string) => (down.includes(key) ? 'open' : 'closed'),
    stats: (key) => stats({ ...(byKey[key] ?? {}), ...(down.includes(key) ? { circuit: 'open' as const } : {}) }),
  };
}

const prefs = (p: Partial<RoutePreferences> = {}): RoutePreferences => ({ ...DEFAULT_PREFERENCES, ...p });
const needs = (n: Partial<RouteNeeds> = {}): RouteNeeds => ({ ...NO_NEEDS, ...n });

function plan(catalog: Catalog, over: Partial<PlanInput> = {}) {
  return planRoute({
    catalog,
    refs: ['acme/m'],
    kind: 'chat',
    needs: NO_NEEDS,
    prefs: prefs(),
    health: NO_HEALTH,
    random: () => 0,
    ...over,
  });
}

const ids = (cs: Candidate[]) => cs.map((c) => `${c.endpoint.provider.id}${c.model.id === 'acme/m' ? '' : `@${c.model.id}`}`);

function planError(catalog: Catalog, over: Partial<PlanInput>): GatewayError {
  try {
    plan(catalog, over);
  } catch (err) {
    assert.ok(err instanceof GatewayError, String(err));
    return err;
  }
  assert.fail('expected planRoute to throw');
}

const considered = (err: GatewayError) => err.metadata.considered as Exclusion[];

// ---- ordering -------------------------------------------------------------------------------

describe('ordering', () => {
  test('default: weighted first choice, the rest by price ascending', () => {
    const cat = catalogOf(threeWay());
    // r = 0 picks the cheapest (largest weight); r just below 1 the dearest.
    assert.deepEqual(ids(plan(cat, { random: () => 0 }).candidates), ['alpha', 'beta', 'gamma']);
    assert.deepEqual(ids(plan(cat, { random: () => 0.999999 }).candidates), ['gamma', 'alpha', 'beta']);
    // weights 1/1², 1/2², 1/3² = 36:9:4 of 49; 0.75 falls in beta's slice [36/49, 45/49).
    assert.deepEqual(ids(plan(cat, { random: () => 0.75 }).candidates), ['beta', 'alpha', 'gamma']);
  });

  test('order puts those providers first (by id or display name), then the rest by price', () => {
    const cat = catalogOf(threeWay());
    let r = plan(cat, { prefs: prefs({ order: ['gamma', 'beta'] }), random: () => 0.999999 });
    assert.deepEqual(ids(r.candidates), ['gamma', 'beta', 'alpha']);
    assert.deepEqual(r.excluded, []);
    r = plan(cat, { prefs: prefs({ order: ['beta ai'] }) });
    assert.deepEqual(ids(r.candidates), ['beta', 'alpha', 'gamma']);
    // A slug no endpoint has is skipped.
    r = plan(cat, { prefs: prefs({ order: ['nobody', 'gamma'] }) });
    assert.deepEqual(ids(r.candidates), ['gamma', 'alpha', 'beta']);
  });

  test('order with allow_fallbacks false is a closed set', () => {
    const cat = catalogOf(threeWay());
    const r = plan(cat, { prefs: prefs({ order: ['gamma', 'Beta AI'], allowFallbacks: false }) });
    assert.deepEqual(ids(r.candidates), ['gamma', 'beta']);
    assert.deepEqual(r.excluded, [
      { provider: 'alpha', model: 'acme/m', reason: 'not in provider.order, and provider.allow_fallbacks is false' },
    ]);
  });

  test('allow_fallbacks false without order keeps only the first choice', () => {
    const cat = catalogOf(threeWay());
    let r = plan(cat, { prefs: prefs({ allowFallbacks: false }), random: () => 0 });
    assert.deepEqual(ids(r.candidates), ['alpha']);
    assert.equal(r.excluded.length, 2);
    assert.match(r.excluded[0].reason, /only the first choice/);
    r = plan(cat, { prefs: prefs({ allowFallbacks: false }), random: () => 0.999999 });
    assert.deepEqual(ids(r.candidates), ['gamma']);
  });

  const key = (p: ProviderInstance) => endpointKey({ provider: p, upstreamModel: 'm' });
  const perf = fakeHealth({
    [key(A)]: { throughput30m: pct(50), latency30m: pct(900) },
    [key(B)]: { throughput30m: pct(120), latency30m: pct(300) },
    // gamma: no data yet
  });

  test('sort price: cheapest first, no randomness', () => {
    const cat = catalogOf(threeWay());
    for (const r of [0, 0.5, 0.999999]) {
      assert.deepEqual(ids(plan(cat, { prefs: prefs({ sort: 'price' }), random: () => r }).candidates), ['alpha', 'beta', 'gamma']);
    }
  });

  test('sort throughput: highest p50 first, unknown last', () => {
    const cat = catalogOf(threeWay());
    assert.deepEqual(ids(plan(cat, { prefs: prefs({ sort: 'throughput' }), health: perf }).candidates), ['beta', 'alpha', 'gamma']);
  });

  test('sort latency: lowest p50 first, unknown last', () => {
    const cat = catalogOf(threeWay());
    const health = fakeHealth({ [key(A)]: { latency30m: pct(200) }, [key(B)]: { latency30m: pct(300) } });
    assert.deepEqual(ids(plan(cat, { prefs: prefs({ sort: 'latency' }), health: perf }).candidates), ['beta', 'alpha', 'gamma']);
    assert.deepEqual(ids(plan(cat, { prefs: prefs({ sort: 'latency' }), health }).candidates), ['alpha', 'beta', 'gamma']);
  });

  test(':nitro sorts by throughput, :floor by price; :free is a catalog id of its own', () => {
    const free = model('acme/m:free', [endpoint(C, { prompt: 0n, completion: 0n }, { free: true })]);
    const cat = catalogOf(threeWay(), free);
    assert.deepEqual(ids(plan(cat, { refs: ['acme/m:nitro'], health: perf, random: () => 0.999999 }).candidates), [
      'beta',
      'alpha',
      'gamma',
    ]);
    assert.deepEqual(ids(plan(cat, { refs: ['acme/m:floor'], random: () => 0.999999 }).candidates), ['alpha', 'beta', 'gamma']);
    const r = plan(cat, { refs: ['acme/m:free'] });
    assert.deepEqual(
      r.candidates.map((c) => c.model.id),
      ['acme/m:free'],
    );
  });

  test('model fallbacks follow every endpoint of the earlier model; a repeated model is listed once', () => {
    const other = model('acme/other', [
      endpoint(D, { prompt: M('3'), completion: M('15') }),
      endpoint(A, { prompt: M('2'), completion: M('2') }),
    ]);
    const cat = catalogOf(threeWay(), other);
    const r = plan(cat, { refs: ['acme/m', 'acme/other', 'acme/m'], prefs: prefs({ sort: 'price' }) });
    assert.deepEqual(ids(r.candidates), ['alpha', 'beta', 'gamma', 'alpha@acme/other', 'delta@acme/other']);
    // allow_fallbacks concerns providers: each model still contributes its first choice.
    const one = plan(cat, { refs: ['acme/m', 'acme/other'], prefs: prefs({ sort: 'price', allowFallbacks: false }) });
    assert.deepEqual(ids(one.candidates), ['alpha', 'alpha@acme/other']);
  });

  test('sort.partition none sorts across models', () => {
    const other = model('acme/other', [endpoint(D, { prompt: M('0.1'), completion: M('0.1') })]);
    const cat = catalogOf(threeWay(), other);
    const r = plan(cat, { refs: ['acme/m', 'acme/other'], prefs: prefs({ sort: 'price', sortPartition: 'none' }) });
    assert.deepEqual(ids(r.candidates), ['delta@acme/other', 'alpha', 'beta', 'gamma']);
  });

  test('preferred_min_throughput / preferred_max_latency move slow endpoints last without dropping them', () => {
    const cat = catalogOf(threeWay());
    let r = plan(cat, { prefs: prefs({ preferredMinThroughput: { p50: 100 } }), health: perf });
    assert.deepEqual(ids(r.candidates), ['beta', 'gamma', 'alpha']);
    r = plan(cat, { prefs: prefs({ sort: 'price', preferredMaxLatency: { p50: 0.5 } }), health: perf });
    assert.deepEqual(ids(r.candidates), ['beta', 'gamma', 'alpha']);
    assert.deepEqual(r.excluded, []);
  });
});

// ---- filters --------------------------------------------------------------------------------

describe('filters', () => {
  test('only and ignore match ids and display names, case-insensitively', () => {
    const cat = catalogOf(threeWay());
    let r = plan(cat, { prefs: prefs({ only: ['ALPHA', 'gamma'] }) });
    assert.deepEqual(ids(r.candidates), ['alpha', 'gamma']);
    assert.deepEqual(r.excluded, [{ provider: 'beta', model: 'acme/m', reason: 'provider not in provider.only' }]);
    r = plan(cat, { prefs: prefs({ ignore: ['alpha cloud'] }) });
    assert.deepEqual(ids(r.candidates), ['beta', 'gamma']);
    assert.deepEqual(r.excluded, [{ provider: 'alpha', model: 'acme/m', reason: 'provider in provider.ignore' }]);
  });

  test('max_price compares exactly, per million tokens (and per request/image)', () => {
    // alpha: $0.5/M each way; beta $1/M; gamma $1.5/M.
    const cat = catalogOf(threeWay({ c: { pricing: { prompt: M('1.5'), completion: M('1.5'), request: M('1000') /* $0.001 */ } } }));
    let r = plan(cat, { prefs: prefs({ maxPrice: { prompt: 1 } }) });
    assert.deepEqual(ids(r.candidates), ['alpha', 'beta']);
    assert.deepEqual(r.excluded, [{ provider: 'gamma', model: 'acme/m', reason: 'prompt price $1.5/M exceeds max_price.prompt $1/M' }]);
    r = plan(cat, { prefs: prefs({ maxPrice: { completion: 0.999999999 } }) });
    assert.deepEqual(ids(r.candidates), ['alpha']);
    r = plan(cat, { prefs: prefs({ maxPrice: { request: 0.0009 } }) });
    assert.deepEqual(ids(r.candidates), ['alpha', 'beta']);
    assert.match(r.excluded[0].reason, /request price \$0\.001 exceeds max_price\.request \$0\.0009/);
    // The key is charged the fee too: with 5% on top, beta's $1 becomes $1.05.
    r = plan(cat, { prefs: prefs({ maxPrice: { prompt: 1 } }), markupBp: 500 });
    assert.deepEqual(ids(r.candidates), ['alpha']);
    // Image prices only matter when the request carries images.
    const img = catalogOf(threeWay({ a: { pricing: { prompt: M('0.5'), completion: M('0.5'), image: M('10000') } } }));
    assert.equal(plan(img, { prefs: prefs({ maxPrice: { image: 0.001 } }) }).candidates.length, 3);
    const withImages = catalogOf(model('acme/m', img.get('acme/m')!.endpoints, { inputModalities: ['text', 'image'] }));
    r = plan(withImages, { prefs: prefs({ maxPrice: { image: 0.001 } }), needs: needs({ images: true }) });
    assert.deepEqual(ids(r.candidates), ['beta', 'gamma']);
  });

  test('quantizations (null counts as unknown)', () => {
    const cat = catalogOf(threeWay({ a: { quantization: 'fp8' }, b: { quantization: 'BF16' } }));
    let r = plan(cat, { prefs: prefs({ quantizations: ['fp8', 'bf16'] }) });
    assert.deepEqual(ids(r.candidates), ['alpha', 'beta']);
    assert.deepEqual(r.excluded, [{ provider: 'gamma', model: 'acme/m', reason: 'quantization unknown not in provider.quantizations' }]);
    r = plan(cat, { prefs: prefs({ quantizations: ['unknown'] }) });
    assert.deepEqual(ids(r.candidates), ['gamma']);
  });

  test('data_collection deny drops providers that may collect; zdr too', () => {
    const cat = catalogOf(threeWay({ b: { dataCollection: 'allow' } }));
    assert.deepEqual(ids(plan(cat).candidates), ['alpha', 'beta', 'gamma']);
    let r = plan(cat, { prefs: prefs({ dataCollection: 'deny' }) });
    assert.deepEqual(ids(r.candidates), ['alpha', 'gamma']);
    assert.match(r.excluded[0].reason, /data_collection: deny/);
    r = plan(cat, { prefs: prefs({ zdr: true }) });
    assert.deepEqual(ids(r.candidates), ['alpha', 'gamma']);
  });

  test('tools need supportsTools', () => {
    const cat = catalogOf(threeWay({ a: { supportsTools: false } }));
    const r = plan(cat, { needs: needs({ tools: true }) });
    assert.deepEqual(ids(r.candidates), ['beta', 'gamma']);
    assert.deepEqual(r.excluded, [{ provider: 'alpha', model: 'acme/m', reason: 'does not support tool use' }]);
  });

  test('json_schema needs supportsStructuredOutputs', () => {
    const cat = catalogOf(threeWay({ b: { supportsStructuredOutputs: false } }));
    const r = plan(cat, { needs: needs({ jsonSchema: true }) });
    assert.deepEqual(ids(r.candidates), ['alpha', 'gamma']);
    assert.match(r.excluded[0].reason, /structured outputs/);
  });

  test('images, files and audio need the model to accept them', () => {
    const text = catalogOf(threeWay());
    for (const [need, word] of [
      ['images', 'image'],
      ['files', 'file'],
      ['audio', 'audio'],
    ] as const) {
      const err = planError(text, { needs: needs({ [need]: true }) });
      assert.equal(err.status, 404);
      assert.equal(err.message, `No endpoints found that support ${word} input.`);
      assert.equal(considered(err).length, 3);
    }
    const vision = catalogOf(model('acme/m', threeWay().endpoints, { inputModalities: ['text', 'image'] }));
    assert.equal(plan(vision, { needs: needs({ images: true }) }).candidates.length, 3);
  });

  test("max_tokens above an endpoint's output cap (endpoint value, else the model's)", () => {
    const cat = catalogOf(threeWay({ a: { maxOutputTokens: 4_096 }, b: { maxOutputTokens: null } }));
    let r = plan(cat, { needs: needs({ maxTokens: 6_000 }) });
    assert.deepEqual(ids(r.candidates), ['beta', 'gamma']);
    assert.match(r.excluded[0].reason, /max_tokens 6000 exceeds the endpoint's maximum output of 4096 tokens/);
    // No endpoint gives that much: every one serves it at its maximum (fitOutput), unless the
    // caller asked for strict parameters.
    r = plan(cat, { needs: needs({ maxTokens: 9_000 }) });
    assert.deepEqual(ids(r.candidates).sort(), ['alpha', 'beta', 'gamma']);
    assert.equal(r.excluded.length, 0);
    const err = planError(cat, { needs: needs({ maxTokens: 9_000 }), prefs: prefs({ requireParameters: true }) });
    assert.equal(err.message, 'No endpoints found that support max_tokens of 9000.');
    assert.deepEqual(
      considered(err).map((e) => e.provider),
      ['beta', 'alpha', 'gamma'],
    );
  });

  test('prompt estimate above the context length', () => {
    const cat = catalogOf(threeWay({ c: { contextLength: 8_192 } }));
    const r = plan(cat, { needs: needs({ promptTokens: 10_000 }) });
    assert.deepEqual(ids(r.candidates), ['alpha', 'beta']);
    assert.match(r.excluded[0].reason, /prompt of about 10000 tokens exceeds the context length of 8192/);
  });

  test('require_parameters: every used parameter must be supported by the endpoint', () => {
    const groq = provider('groq', 'Groq', 'openai', { unsupportedParams: ['logit_bias', 'top_logprobs'] });
    const vllm = provider('vllm', 'vLLM', 'openai', { extraSampling: true });
    const cat = catalogOf(
      model('acme/m', [
        endpoint(A, { prompt: 1n, completion: 1n }),
        endpoint(groq, { prompt: 2n, completion: 2n }),
        endpoint(vllm, { prompt: 3n, completion: 3n }),
        endpoint(D, { prompt: 4n, completion: 4n }),
      ]),
    );
    const used = needs({ parameters: new Set(['temperature', 'top_k']) });
    // Without require_parameters unsupported parameters are simply dropped upstream.
    assert.equal(plan(cat, { needs: used }).candidates.length, 4);
    let r = plan(cat, { needs: used, prefs: prefs({ requireParameters: true }) });
    assert.deepEqual(ids(r.candidates), ['vllm', 'delta']);
    assert.deepEqual(
      r.excluded.map((e) => e.reason),
      ['does not support top_k (require_parameters)', 'does not support top_k (require_parameters)'],
    );
    r = plan(cat, { needs: needs({ parameters: new Set(['logit_bias', 'seed']) }), prefs: prefs({ requireParameters: true }) });
    assert.deepEqual(ids(r.candidates), ['alpha', 'vllm']);
    assert.deepEqual(
      r.excluded.map((e) => `${e.provider}: ${e.reason}`),
      ['groq: does not support logit_bias (require_parameters)', 'delta: does not support logit_bias, seed (require_parameters)'],
    );
    const err = planError(cat, {
      needs: needs({ parameters: new Set(['top_a', 'seed']) }),
      prefs: prefs({ requireParameters: true, ignore: ['vllm'] }),
    });
    assert.equal(err.message, 'No endpoints found that can handle the requested parameters.');
  });
});

// ---- health and stickiness ------------------------------------------------------------------

describe('health', () => {
  const key = (p: ProviderInstance) => endpointKey({ provider: p, upstreamModel: 'm' });

  test('endpoints with an open circuit are skipped', () => {
    const cat = catalogOf(threeWay());
    const r = plan(cat, { health: fakeHealth({}, [key(A)]) });
    assert.deepEqual(ids(r.candidates), ['beta', 'gamma']);
    assert.deepEqual(r.excluded, [{ provider: 'alpha', model: 'acme/m', reason: 'circuit open after recent failures' }]);
  });

  test('a model with one endpoint routes to it, healthy or not, unless the request rules it out', () => {
    const single = catalogOf(model('acme/m', [endpoint(A, { prompt: M('1'), completion: M('1') }, { supportsTools: false })]));
    for (const health of [NO_HEALTH, fakeHealth({}, [key(A)])]) {
      const r = plan(single, { health });
      assert.deepEqual(ids(r.candidates), ['alpha']);
      assert.deepEqual(r.excluded, []);
    }
    assert.deepEqual(ids(plan(single, { prefs: prefs({ order: ['alpha'], allowFallbacks: false }) }).candidates), ['alpha']);
    const err = planError(single, { needs: needs({ tools: true }) });
    assert.equal(err.status, 404);
    assert.deepEqual(
      considered(err).map((e) => e.provider),
      ['alpha'],
    );
  });

  test('if every usable endpoint is open, all are kept (trying beats failing)', () => {
    const cat = catalogOf(threeWay({ c: { supportsTools: false } }));
    const r = plan(cat, { health: fakeHealth({}, [key(A), key(B)]), needs: needs({ tools: true }) });
    assert.deepEqual(ids(r.candidates), ['alpha', 'beta']);
    assert.deepEqual(
      r.excluded.map((e) => e.provider),
      ['gamma'],
    );
  });

  test('a healthy fallback model beats open circuits of the first', () => {
    const other = model('acme/other', [endpoint(D, { prompt: 1n, completion: 1n })]);
    const cat = catalogOf(threeWay(), other);
    const r = plan(cat, { refs: ['acme/m', 'acme/other'], health: fakeHealth({}, [key(A), key(B), key(C)]) });
    assert.deepEqual(ids(r.candidates), ['delta@acme/other']);
  });

  test('an open pinned provider is kept when nothing else may be tried', () => {
    const cat = catalogOf(threeWay());
    const r = plan(cat, { prefs: prefs({ order: ['beta'], allowFallbacks: false }), health: fakeHealth({}, [key(B)]) });
    assert.deepEqual(ids(r.candidates), ['beta']);
  });
});

describe('sticky routing', () => {
  const cached = { prompt: M('1.5'), completion: M('1.5'), cacheRead: M('0.15') };
  const store = (value: string) => ({ get: (k: string) => (k === 'conv-1' ? value : undefined) });
  const gammaKey = endpointKey({ provider: C, upstreamModel: 'm' });

  test('the endpoint that served the conversation goes first when it discounts cache reads', () => {
    const cat = catalogOf(threeWay({ c: { pricing: cached } }));
    const r = plan(cat, { sticky: store(gammaKey), stickyKey: 'conv-1' });
    assert.deepEqual(ids(r.candidates), ['gamma', 'alpha', 'beta']);
    // Another conversation is load-balanced as usual.
    assert.deepEqual(ids(plan(cat, { sticky: store(gammaKey), stickyKey: 'conv-2' }).candidates), ['alpha', 'beta', 'gamma']);
    // It also overrides an explicit sort, and picks the one endpoint kept by allow_fallbacks: false.
    assert.deepEqual(
      ids(plan(cat, { sticky: store(gammaKey), stickyKey: 'conv-1', prefs: prefs({ sort: 'price', allowFallbacks: false }) }).candidates),
      ['gamma'],
    );
  });

  test('not when order is pinned', () => {
    const cat = catalogOf(threeWay({ c: { pricing: cached } }));
    const r = plan(cat, { sticky: store(gammaKey), stickyKey: 'conv-1', prefs: prefs({ order: ['beta'] }) });
    assert.deepEqual(ids(r.candidates), ['beta', 'alpha', 'gamma']);
  });

  test('not without a cache discount', () => {
    const cat = catalogOf(threeWay({ c: { pricing: { prompt: M('1.5'), completion: M('1.5'), cacheRead: M('1.5') } } }));
    assert.deepEqual(ids(plan(cat, { sticky: store(gammaKey), stickyKey: 'conv-1' }).candidates), ['alpha', 'beta', 'gamma']);
    const none = catalogOf(threeWay());
    assert.deepEqual(ids(plan(none, { sticky: store(gammaKey), stickyKey: 'conv-1' }).candidates), ['alpha', 'beta', 'gamma']);
  });

  test('the conversation key is worked out only when there is an endpoint to choose', () => {
    let asked = 0;
    const lazy = () => {
      asked++;
      return 'conv-1';
    };
    const cat = catalogOf(threeWay({ c: { pricing: cached } }));
    assert.deepEqual(ids(plan(cat, { sticky: store(gammaKey), stickyKey: lazy }).candidates), ['gamma', 'alpha', 'beta']);
    assert.equal(asked, 1);
    const single = catalogOf(model('acme/m', [endpoint(A, cached)]));
    assert.deepEqual(ids(plan(single, { sticky: store(gammaKey), stickyKey: lazy }).candidates), ['alpha']);
    assert.equal(asked, 1, 'one endpoint: nothing to choose, nothing hashed');
  });

  test('not when the endpoint is no longer a candidate', () => {
    const cat = catalogOf(threeWay({ c: { pricing: cached } }));
    const r = plan(cat, { sticky: store(gammaKey), stickyKey: 'conv-1', health: fakeHealth({}, [gammaKey]) });
    assert.deepEqual(ids(r.candidates), ['alpha', 'beta']);
  });

  test('stickyKeyOf: stable across turns, scoped to key and model, session_id wins', () => {
    const turn1 = chat({
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello' },
      ],
    });
    const turn2 = chat({
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello' },
        { role: 'assistant', content: 'hi' },
        { role: 'user', content: 'more' },
      ],
    });
    const k = stickyKeyOf('kh1', 'acme/m', turn1);
    assert.match(k, /^[0-9a-f]{64}$/);
    assert.equal(stickyKeyOf('kh1', 'acme/m', turn2), k);
    assert.notEqual(stickyKeyOf('kh2', 'acme/m', turn1), k);
    assert.notEqual(stickyKeyOf('kh1', 'acme/other', turn1), k);
    assert.notEqual(stickyKeyOf('kh1', 'acme/m', chat({ messages: [{ role: 'user', content: 'hello!' }] })), k);
    const s = stickyKeyOf('kh1', 'acme/m', turn1, 'sess-1');
    assert.equal(stickyKeyOf('kh1', 'acme/m', chat({ messages: [{ role: 'user', content: 'other' }] }), 'sess-1'), s);
    assert.notEqual(s, k);
    // Only the first 2 KB of each opening message count.
    const long = 'x'.repeat(3000);
    assert.equal(
      stickyKeyOf('kh1', 'acme/m', chat({ messages: [{ role: 'user', content: `${long}a` }] })),
      stickyKeyOf('kh1', 'acme/m', chat({ messages: [{ role: 'user', content: `${long}b` }] })),
    );
  });
});

// ---- 404s and other errors ------------------------------------------------------------------

describe('no endpoints', () => {
  test('404 listing every endpoint with its reason (tool use)', () => {
    const cat = catalogOf(
      threeWay({ a: { supportsTools: false }, b: { supportsTools: false }, c: { supportsTools: false, dataCollection: 'allow' } }),
    );
    const err = planError(cat, { needs: needs({ tools: true }), prefs: prefs({ dataCollection: 'deny' }) });
    assert.equal(err.status, 404);
    assert.equal(err.type, 'not_found');
    assert.equal(err.retryable, false);
    assert.equal(err.message, 'No endpoints found that support tool use.');
    assert.deepEqual(considered(err), [
      { provider: 'beta', model: 'acme/m', reason: 'does not support tool use' },
      { provider: 'alpha', model: 'acme/m', reason: 'does not support tool use' },
      {
        provider: 'gamma',
        model: 'acme/m',
        reason: 'provider may store or train on prompts (data_collection: deny); does not support tool use',
      },
    ]);
    assert.deepEqual(err.metadata.requested_models, ['acme/m']);
  });

  test('manual order with fallbacks off', () => {
    const cat = catalogOf(threeWay({ c: { supportsTools: false } }));
    const err = planError(cat, { needs: needs({ tools: true }), prefs: prefs({ order: ['gamma', 'OpenAI'], allowFallbacks: false }) });
    assert.equal(err.message, 'No endpoints found for the request with manual order: gamma, OpenAI.');
    assert.deepEqual(
      considered(err).map((e) => `${e.provider}: ${e.reason}`),
      [
        'beta: not in provider.order, and provider.allow_fallbacks is false',
        'alpha: not in provider.order, and provider.allow_fallbacks is false',
        'gamma: does not support tool use',
      ],
    );
  });

  test('other filters name the model', () => {
    const other = model('acme/other', [endpoint(D, { prompt: M('30'), completion: M('30') })]);
    const cat = catalogOf(threeWay(), other);
    let err = planError(cat, { refs: ['acme/m', 'acme/other'], prefs: prefs({ maxPrice: { prompt: 0.1 } }) });
    assert.equal(err.message, 'No endpoints found for acme/m, acme/other within your max_price.');
    assert.equal(considered(err).length, 4);
    err = planError(cat, { prefs: prefs({ only: ['delta'] }) });
    assert.match(err.message, /^No allowed providers are available for the selected model/);
    err = planError(catalogOf(model('acme/m', [])), {});
    assert.equal(err.message, 'No endpoints found for acme/m.');
  });

  test('unknown model: 404 with suggestions; wrong kind: 400', () => {
    const cat = catalogOf(threeWay(), model('acme/embed', [endpoint(A, { prompt: 1n, completion: 0n })], { kind: 'embedding' }));
    let err = planError(cat, { refs: ['acme/mm'] });
    assert.equal(err.status, 404);
    assert.match(err.message, /acme\/mm is not a valid model ID/);
    assert.deepEqual(err.metadata.suggestions, ['acme/m', 'acme/embed']);
    err = planError(cat, { refs: ['acme/m', 'acme/nope:nitro'] });
    assert.equal(err.metadata.param, 'models[0]');
    err = planError(cat, { refs: ['acme/embed'] });
    assert.equal(err.status, 400);
    assert.equal(plan(cat, { refs: ['acme/embed'], kind: 'embedding' }).candidates.length, 1);
  });
});

// ---- load balancing statistics --------------------------------------------------------------

test('first choice follows 1/price² weights (16:4:1 for prices 1, 2, 4)', () => {
  const cat = catalogOf(
    model('acme/m', [
      endpoint(C, { prompt: 2n, completion: 2n }),
      endpoint(A, { prompt: 1n, completion: 0n }),
      endpoint(B, { prompt: 1n, completion: 1n }),
    ]),
  );
  const random = seededRandom(20240601);
  const counts: Record<string, number> = { alpha: 0, beta: 0, gamma: 0 };
  const N = 20_000;
  for (let i = 0; i < N; i++) {
    const r = plan(cat, { random });
    counts[r.candidates[0].endpoint.provider.id]++;
    // The fallbacks always follow by price.
    assert.deepEqual(
      ids(r.candidates.slice(1)),
      ['alpha', 'beta', 'gamma'].filter((x) => x !== r.candidates[0].endpoint.provider.id),
    );
  }
  const expected = { alpha: 16 / 21, beta: 4 / 21, gamma: 1 / 21 };
  // The seeded PRNG makes this exact run reproducible; 0.015 is > 5 standard deviations anyway.
  for (const k of Object.keys(expected) as Array<keyof typeof expected>) {
    assert.ok(Math.abs(counts[k] / N - expected[k]) < 0.015, `${k}: ${counts[k] / N} vs ${expected[k]}`);
  }
});

test('free endpoints take the first choice; equal prices draw evenly', () => {
  const prices = (...ps: bigint[]) => ps.map((p) => ({ pricing: { prompt: p, completion: 0n } }));
  assert.equal(pickByInversePriceSquared(prices(0n, 5n, 1n), 0.999), 0);
  assert.equal(pickByInversePriceSquared(prices(1n, 0n, 0n), 0.4), 1);
  assert.equal(pickByInversePriceSquared(prices(1n, 0n, 0n), 0.6), 2);
  assert.equal(pickByInversePriceSquared(prices(3n, 3n, 3n, 3n), 0.49), 1);
  assert.equal(pickByInversePriceSquared(prices(3n, 3n, 3n, 3n), 0.99), 3);
});

// ---- request-derived inputs -----------------------------------------------------------------

function chat(body: Record<string, unknown>): ChatRequest {
  return parseChatRequest({ model: 'acme/m', ...body }).request;
}

describe('needsOf', () => {
  test('capabilities, sizes and parameters', () => {
    const n = needsOf(
      chat({
        messages: [
          { role: 'system', content: 'x'.repeat(400) },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'look' },
              { type: 'image_url', image_url: { url: 'https://e.x/a.png' } },
            ],
          },
        ],
        tools: [{ type: 'function', function: { name: 'f' } }],
        tool_choice: 'auto',
        response_format: { type: 'json_schema', json_schema: { name: 's', schema: {} } },
        max_tokens: 100,
        temperature: 0.2,
        top_k: 5,
        seed: 1,
        reasoning: { effort: 'low' },
      }),
    );
    assert.equal(n.tools, true);
    assert.equal(n.jsonSchema, true);
    assert.equal(n.images, true);
    assert.equal(n.files, false);
    assert.equal(n.maxTokens, 100);
    assert.ok(n.promptTokens >= 100, String(n.promptTokens));
    assert.deepEqual([...n.parameters].sort(), [
      'max_tokens',
      'reasoning',
      'response_format',
      'seed',
      'structured_outputs',
      'temperature',
      'tool_choice',
      'tools',
      'top_k',
    ]);
    const plain = needsOf(chat({ messages: [{ role: 'user', content: 'hi' }], include_reasoning: false }));
    assert.deepEqual(plain, { ...NO_NEEDS, promptTokens: plain.promptTokens, parameters: new Set() });
  });
});

test('supportedParameters follows protocol, quirks and capabilities', () => {
  const e = (p: ProviderInstance, over: Partial<Endpoint> = {}) => endpoint(p, { prompt: 1n, completion: 1n }, over);
  const openai = supportedParameters(e(A));
  assert.ok(openai.includes('logit_bias') && openai.includes('seed') && !openai.includes('top_k'));
  assert.ok(supportedParameters(e(provider('v', 'V', 'openai', { extraSampling: true }))).includes('min_p'));
  const ds = supportedParameters(e(provider('ds', 'DS', 'openai', { reasoningParam: 'none', unsupportedParams: ['seed'] })));
  assert.ok(!ds.includes('reasoning') && !ds.includes('seed'));
  const anth = supportedParameters(e(D));
  assert.ok(anth.includes('top_k') && !anth.includes('seed'));
  const noTools = supportedParameters(e(A, { supportsTools: false, supportsStructuredOutputs: false }));
  assert.ok(!noTools.includes('tools') && !noTools.includes('tool_choice') && !noTools.includes('structured_outputs'));
  assert.deepEqual([...openai].sort(), openai);
  // OpenAI's own options (field-policy.ts) only where the server takes them.
  const oai = supportedParameters(e(provider('o', 'O', 'openai', { openAIOptions: true })));
  assert.ok(oai.includes('prediction') && oai.includes('verbosity') && oai.includes('web_search_options'));
  assert.ok(!openai.includes('prediction') && !anth.includes('prediction') && !anth.includes('verbosity'));
  const asked = chat({ messages: [{ role: 'user', content: 'hi' }], prediction: { type: 'content', content: 'x' }, verbosity: 'low' });
  const used = needsOf(asked).parameters;
  assert.ok(used.has('prediction') && used.has('verbosity'));
});

describe('parseProviderPreferences', () => {
  test('defaults when absent', () => {
    assert.deepEqual(parseProviderPreferences(undefined), DEFAULT_PREFERENCES);
    assert.deepEqual(parseProviderPreferences(null), DEFAULT_PREFERENCES);
    assert.deepEqual(parseProviderPreferences({}), DEFAULT_PREFERENCES);
  });

  test('every OpenRouter field, mapped', () => {
    const p = parseProviderPreferences({
      order: ['openai', 'together'],
      allow_fallbacks: false,
      require_parameters: true,
      data_collection: 'deny',
      zdr: true,
      enforce_distillable_text: false,
      only: ['openai'],
      ignore: ['azure'],
      quantizations: ['fp8', 'bf16', 'unknown'],
      sort: { by: 'throughput', partition: 'none' },
      preferred_min_throughput: 50,
      preferred_max_latency: { p90: 3, p50: 1 },
      max_price: { prompt: 1, completion: '2.5', request: 0.01, image: '1e-3', audio: 1 },
      mid_stream_failover: false,
    });
    assert.deepEqual(p, {
      order: ['openai', 'together'],
      allowFallbacks: false,
      requireParameters: true,
      dataCollection: 'deny',
      zdr: true,
      enforceDistillableText: false,
      only: ['openai'],
      ignore: ['azure'],
      quantizations: ['fp8', 'bf16', 'unknown'],
      sort: 'throughput',
      sortPartition: 'none',
      preferredMinThroughput: { p50: 50 },
      preferredMaxLatency: { p50: 1, p90: 3 },
      maxPrice: { prompt: 1, completion: 2.5, request: 0.01, image: 0.001 },
      midStreamFailover: false,
    });
    assert.equal(parseProviderPreferences({ sort: 'price' }).sort, 'price');
    assert.equal(parseProviderPreferences({ sort: 'exacto' }).sort, 'throughput');
    assert.deepEqual(parseProviderPreferences({ order: null, allow_fallbacks: null }), DEFAULT_PREFERENCES);
  });

  test('strict: 400 naming the field', () => {
    const bad = (v: unknown, param: string, message: RegExp) => {
      assert.throws(
        () => parseProviderPreferences(v),
        (err: unknown) => err instanceof GatewayError && err.status === 400 && err.metadata.param === param && message.test(err.message),
      );
    };
    bad({ Require_Parameters: true }, 'provider', /^provider: Unrecognized key\(s\) in object: 'Require_Parameters'$/);
    bad('fast', 'provider', /expected an object, got string/);
    bad({ order: 'openai' }, 'provider.order', /expected an array/);
    bad({ only: [1] }, 'provider.only[0]', /expected a string/);
    bad({ quantizations: ['int3'] }, 'provider.quantizations[0]', /expected one of "int4"/);
    bad({ allow_fallbacks: 'no' }, 'provider.allow_fallbacks', /expected a boolean/);
    bad({ mid_stream_failover: 1 }, 'provider.mid_stream_failover', /expected a boolean/);
    bad({ data_collection: 'maybe' }, 'provider.data_collection', /expected one of/);
    bad({ sort: 'cheap' }, 'provider.sort', /expected one of/);
    bad({ sort: { by: 'price', partition: 'all' } }, 'provider.sort.partition', /expected one of/);
    bad({ sort: { partition: 'none' } }, 'provider.sort.by', /expected one of/);
    bad({ sort: { by: 'price', order: 1 } }, 'provider.sort', /Unrecognized key\(s\) in object: 'order'/);
    bad({ max_price: { prompt: -1 } }, 'provider.max_price.prompt', /between 0/);
    bad({ max_price: { prompt: 'cheap' } }, 'provider.max_price.prompt', /expected a non-negative number/);
    bad({ max_price: { tokens: 1 } }, 'provider.max_price', /Unrecognized key\(s\) in object: 'tokens'/);
    bad({ preferred_min_throughput: { p95: 1 } }, 'provider.preferred_min_throughput', /Unrecognized key/);
    bad({ preferred_max_latency: { p50: 'fast' } }, 'provider.preferred_max_latency.p50', /expected a number/);
  });

  test('parseChatRequest returns the preferences and session_id', () => {
    const hi = [{ role: 'user', content: 'hi' }];
    const parsed = parseChatRequest({ model: 'acme/m', messages: hi, provider: { sort: 'price', only: ['alpha'] }, session_id: 'abc' });
    assert.deepEqual(parsed.preferences, { ...DEFAULT_PREFERENCES, sort: 'price', only: ['alpha'] });
    assert.equal(parsed.sessionId, 'abc');
    const plain = parseChatRequest({ model: 'acme/m', messages: hi });
    assert.deepEqual(plain.preferences, DEFAULT_PREFERENCES);
    assert.equal(plain.sessionId, undefined);
    assert.throws(() => parseChatRequest({ model: 'acme/m', messages: hi, session_id: 5 }), /session_id: expected a string/);
    assert.throws(
      () => parseChatRequest({ model: 'acme/m', messages: hi, session_id: 'x'.repeat(257) }),
      /session_id: must be at most 256/,
    );
  });
});

/**
 * The catalog API as OpenRouter's, over real HTTP against the emulators' catalog: every `/models`
 * filter and sort, paging with honest `total_count` and `links.next`, bad parameters, the routes
 * that share the filters (`/models/count`, `/models/user`, `/embeddings/models`), `/providers`,
 * `/endpoints/zdr`, and the same answers through `@openrouter/sdk` and against its schemas.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OpenRouter } from '@openrouter/sdk';
import { usdPerTokenToFemto } from '../../src/spec/money.ts';
import { endpointKey } from '../../src/catalog/endpoint-key.ts';
import { assertOpenRouterShape } from '../helpers/openrouter-schemas.ts';
import type { OpenRouterRoute } from '../helpers/openrouter-schemas.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

// A model served by an endpoint that keeps no prompts (the only ZDR endpoint), and a :free variant.
const YAML = `models:
  openai/gpt-4o-mini:
    endpoints:
      - provider: openai
        model: gpt-4o-mini
      - provider: openai
        model: gpt-4o-mini
        free: true
  acme/private-chat:
    name: "Acme: Private Chat"
    contextLength: 32000
    inputModalities: [text]
    pricing: { prompt: "0.000001", completion: "0.000002" }
    endpoints:
      - provider: anthropic
        model: claude-sonnet-4-5
        dataCollection: deny
  acme/unpriced-chat:
    endpoints:
      - provider: openai
        model: acme-model-without-a-price
`;

let stack: Stack;
let sdk: OpenRouter;

before(async () => {
  stack = await startStack({ yaml: YAML });
  sdk = new OpenRouter({ apiKey: stack.key, serverURL: stack.baseURL });
});
after(() => stack.close());

// any: wire-shape assertions field by field
type Json = Record<string, any>;

async function get(path: string, token?: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${stack.baseURL}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, body: (await res.json()) as Json };
}

/** A 200 whose body passes the SDK's schema for `route`. */
async function valid(route: OpenRouterRoute, path: string, token?: string): Promise<Json> {
  const r = await get(path, token);
  assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 500));
  assertOpenRouterShape(route, r.body);
  return r.body;
}

const ids = (body: Json): string[] => body.data.map((m: Json) => m.id);
const femto = (usd: string): bigint => usdPerTokenToFemto(usd);
/** Listed with a known price (an unpriced model shows "-1"). */
const priced = (m: Json): boolean => m.pricing.prompt !== '-1';

async function bad(path: string, param: string, message: RegExp): Promise<void> {
  const r = await get(path);
  assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
  assert.equal(r.body.error.code, 400);
  assert.equal(r.body.error.metadata.param, param, path);
  assert.match(r.body.error.message, message, path);
}

describe('GET /models filters', () => {
  test('output modalities: text by default, embeddings apart, all for both; counts agree', async () => {
    const text = await valid('models', '/models');
    const embeddings = await valid('models', '/models?output_modalities=embeddings');
    const all = await valid('models', '/models?output_modalities=all');
    const both = await valid('models', '/models?output_modalities=text,embeddings');
    assert.ok(text.data.length > 10 && embeddings.data.length > 0);
    assert.ok(text.data.every((m: Json) => m.architecture.output_modalities.includes('text')));
    assert.ok(!ids(text).some((id) => /embed/.test(id)), 'no embedding model in the default list');
    assert.ok(embeddings.data.every((m: Json) => m.architecture.output_modalities.includes('embeddings')));
    assert.equal(all.data.length, text.data.length + embeddings.data.length);
    assert.deepEqual(ids(both), ids(all));
    for (const [query, body] of [
      ['', text],
      ['?output_modalities=embeddings', embeddings],
      ['?output_modalities=all', all],
    ] as const) {
      assert.equal(body.total_count, body.data.length);
      assert.equal(body.links.next, null, 'no paging asked for: the whole list, no next link');
      const count = await valid('models.count', `/models/count${query}`);
      assert.equal(count.data.count, body.data.length, `count${query}`);
    }
  });

  test('q: every term in the id or name, case and . / - folded', async () => {
    const r = await valid('models', '/models?q=GPT-4o-MINI');
    assert.ok(ids(r).includes('openai/gpt-4o-mini'));
    assert.ok(r.data.every((m: Json) => `${m.id} ${m.name}`.toLowerCase().includes('gpt-4o-mini')));
    const claude = await valid('models', `/models?q=${encodeURIComponent('claude sonnet 4.5')}`);
    assert.ok(ids(claude).includes('anthropic/claude-sonnet-4.5'), ids(claude).join(', '));
    assert.equal((await valid('models', '/models?q=no-such-model-anywhere')).total_count, 0);
    assert.deepEqual(ids(await valid('models', '/models?q=acme%20private')), ['acme/private-chat']);
  });

  test('input_modalities: the model accepts every one listed', async () => {
    const all = await valid('models', '/models');
    const image = await valid('models', '/models?input_modalities=image');
    const imageFile = await valid('models', '/models?input_modalities=image,file');
    assert.ok(image.data.length > 0 && image.data.length < all.data.length);
    assert.ok(image.data.every((m: Json) => m.architecture.input_modalities.includes('image')));
    assert.ok(imageFile.data.every((m: Json) => ['image', 'file'].every((x) => m.architecture.input_modalities.includes(x))));
    assert.ok(!ids(image).includes('acme/private-chat'));
  });

  test('supported_parameters: every one listed', async () => {
    const all = await valid('models', '/models');
    const tools = await valid('models', '/models?supported_parameters=tools');
    const both = await valid('models', '/models?supported_parameters=tools,reasoning');
    assert.ok(tools.data.every((m: Json) => m.supported_parameters.includes('tools')));
    assert.ok(both.data.every((m: Json) => m.supported_parameters.includes('tools') && m.supported_parameters.includes('reasoning')));
    assert.ok(both.data.length > 0 && both.data.length < tools.data.length && tools.data.length <= all.data.length);
    assert.equal((await valid('models.count', '/models/count?supported_parameters=tools,reasoning')).data.count, both.data.length);
  });

  test('prices in USD per million tokens: max_price, min_price, max_output_price, min_output_price', async () => {
    const all = await valid('models', '/models');
    const cheap = await valid('models', '/models?max_price=0.5');
    const dear = await valid('models', '/models?min_price=0.5');
    assert.ok(cheap.data.length > 0 && dear.data.length > 0);
    const half = femto('0.0000005');
    assert.ok(cheap.data.every((m: Json) => femto(m.pricing.prompt) <= half));
    assert.ok(dear.data.every((m: Json) => femto(m.pricing.prompt) >= half));
    const known = all.data.filter(priced);
    assert.ok(known.length < all.data.length, 'the list has unpriced models, which no price bound selects');
    const atHalf = known.filter((m: Json) => femto(m.pricing.prompt) === half).length;
    assert.equal(cheap.data.length + dear.data.length, known.length + atHalf, 'the bounds are inclusive and split the priced list');
    const out = await valid('models', '/models?max_output_price=2&min_output_price=2');
    assert.ok(ids(out).includes('acme/private-chat'));
    assert.ok(out.data.every((m: Json) => femto(m.pricing.completion) === femto('0.000002')));
  });

  test('context, model_authors, providers, zdr, age', async () => {
    const big = await valid('models', '/models?context=1000000');
    assert.ok(big.data.length > 0 && big.data.every((m: Json) => m.context_length >= 1_000_000));
    const anthropic = await valid('models', '/models?model_authors=anthropic,ACME');
    assert.ok(anthropic.data.every((m: Json) => /^(anthropic|acme)\//.test(m.id)));
    assert.ok(ids(anthropic).includes('acme/private-chat') && ids(anthropic).includes('anthropic/claude-sonnet-4.5'));
    // providers: by slug or display name; acme's model is served by Anthropic.
    const served = await valid('models', '/models?providers=Anthropic');
    assert.ok(ids(served).includes('acme/private-chat') && !ids(served).includes('openai/gpt-4o-mini'));
    assert.deepEqual(ids(await valid('models', '/models?zdr=true')), ['acme/private-chat']);
    assert.equal((await valid('models', '/models?zdr=false')).total_count, (await valid('models', '/models')).total_count);
    const all = await valid('models', '/models');
    const young = await valid('models', '/models?max_age_days=0.01');
    const old = await valid('models', '/models?min_age_days=0.01');
    assert.equal(young.data.length + old.data.length, all.data.length);
    assert.ok(ids(young).includes('acme/private-chat'), 'a model the config added is as old as the catalog build');
  });

  test('category: only models the data puts in it (the built-in data has none)', async () => {
    assert.equal((await valid('models', '/models?category=programming')).total_count, 0);
    assert.equal((await valid('models.count', '/models/count?category=programming')).data.count, 0);
  });
});

describe('GET /models sort', () => {
  test('pricing both ways, context, newest; ties in id order; unmeasured throughput and latency keep the default order', async () => {
    const base = await valid('models', '/models');
    const price = (m: Json) => femto(m.pricing.prompt) + femto(m.pricing.completion);
    const lowAll = (await valid('models', '/models?sort=pricing-low-to-high')).data as Json[];
    const highAll = (await valid('models', '/models?sort=pricing-high-to-low')).data as Json[];
    // Unknown prices last, both ways.
    for (const list of [lowAll, highAll]) {
      const firstUnpriced = list.findIndex((m) => !priced(m));
      assert.ok(firstUnpriced > 0 && list.slice(firstUnpriced).every((m) => !priced(m)), 'unpriced models come last');
    }
    const low = lowAll.filter(priced);
    const high = highAll.filter(priced);
    for (let i = 1; i < low.length; i++) {
      assert.ok(price(low[i - 1]) <= price(low[i]));
      if (price(low[i - 1]) === price(low[i])) assert.ok(low[i - 1].id < low[i].id, 'ties keep the id order');
      assert.ok(price(high[i - 1]) >= price(high[i]));
    }
    assert.notDeepEqual(ids({ data: lowAll }), ids(base));
    const context = (await valid('models', '/models?sort=context-high-to-low')).data as Json[];
    const ctx = (m: Json) => m.context_length ?? -1;
    for (let i = 1; i < context.length; i++) assert.ok(ctx(context[i - 1]) >= ctx(context[i]), 'largest first, unknown last');
    const newest = (await valid('models', '/models?sort=newest')).data as Json[];
    for (let i = 1; i < newest.length; i++) assert.ok(newest[i - 1].created >= newest[i].created);
    for (const sort of ['most-popular', 'throughput-high-to-low', 'latency-low-to-high', 'intelligence-high-to-low']) {
      assert.deepEqual(ids(await valid('models', `/models?sort=${sort}`)), ids(base), sort);
    }
  });

  test('throughput and latency from the health the router measures', async () => {
    const { health } = stack.gw.app;
    const now = Date.now();
    const fast = stack.gw.app.catalog.get('acme/private-chat')!.endpoints[0];
    const slow = stack.gw.app.catalog.get('openai/gpt-4o-mini')!.endpoints[0];
    for (let i = 0; i < 5; i++) {
      health.record(endpointKey(fast), { ok: true, ttftMs: 100, tokensPerSecond: 300, at: now });
      health.record(endpointKey(slow), { ok: true, ttftMs: 900, tokensPerSecond: 20, at: now });
    }
    // acme's endpoint is Anthropic's claude-sonnet-4-5: the two models share its health.
    const order = ['acme/private-chat', 'anthropic/claude-sonnet-4.5', 'openai/gpt-4o-mini'];
    assert.deepEqual(ids(await valid('models', '/models?sort=throughput-high-to-low&limit=3')), order);
    assert.deepEqual(ids(await valid('models', '/models?sort=latency-low-to-high&limit=3')), order);
  });
});

describe('GET /models paging', () => {
  test('limit and offset: pages that add up to the list, total_count of the whole, links.next to the next page', async () => {
    const all = ids(await valid('models', '/models?supported_parameters=tools'));
    assert.ok(all.length > 5);
    const seen: string[] = [];
    let next: string | null = '/api/v1/models?supported_parameters=tools&limit=2';
    let pages = 0;
    while (next !== null) {
      const body = await valid('models', next.replace(/^\/api\/v1/, ''));
      assert.equal(body.total_count, all.length);
      assert.ok(body.data.length <= 2 && body.data.length > 0);
      seen.push(...ids(body));
      next = body.links.next;
      if (next !== null) assert.match(next, /^\/api\/v1\/models\?supported_parameters=tools&limit=2&offset=\d+$/);
      pages++;
    }
    assert.deepEqual(seen, all);
    assert.equal(pages, Math.ceil(all.length / 2));
  });

  test('offset alone pages by 500; past the end is an empty page; the /v1 prefix is kept in links', async () => {
    const total = (await valid('models', '/models')).total_count;
    const tail = await valid('models', '/models?offset=3');
    assert.equal(tail.data.length, Math.min(500, total - 3));
    assert.equal(tail.total_count, total);
    const past = await valid('models', `/models?offset=${total + 10}&limit=5`);
    assert.deepEqual(past.data, []);
    assert.equal(past.total_count, total);
    assert.equal(past.links.next, null);
    const res = await fetch(`${stack.gw.url}/v1/models?limit=1`);
    const body = (await res.json()) as Json;
    assert.equal(body.links.next, '/v1/models?limit=1&offset=1');
  });
});

describe('bad catalog parameters: 400 in the error envelope, naming the parameter', () => {
  test('/models', async () => {
    await bad('/models?limit=0', 'limit', /integer from 1 to 1000/);
    await bad('/models?limit=1001', 'limit', /integer from 1 to 1000/);
    await bad('/models?offset=-1', 'offset', /integer/);
    await bad('/models?offset=abc', 'offset', /integer/);
    await bad('/models?sort=cheapest', 'sort', /unknown value "cheapest"/);
    await bad('/models?output_modalities=text,pictures', 'output_modalities', /"pictures"/);
    await bad('/models?input_modalities=smell', 'input_modalities', /"smell"/);
    await bad('/models?supported_parameters=', 'supported_parameters', /comma-separated/);
    await bad('/models?max_price=cheap', 'max_price', /decimal/);
    await bad('/models?min_output_price=-1', 'min_output_price', /decimal/);
    await bad('/models?context=big', 'context', /integer/);
    await bad('/models?category=poetry', 'category', /"poetry"/);
    await bad('/models?zdr=yes', 'zdr', /"yes"/);
    await bad('/models?max_age_days=-2', 'max_age_days', /days/);
    await bad('/models?limit=1&limit=2', 'limit', /more than once/);
    await bad('/models?colour=red', 'colour', /unknown query parameter/);
    await bad('/models?arch=GPT', 'arch', /no model architecture families/);
    await bad('/models?min_intelligence_index=50', 'min_intelligence_index', /benchmark/);
  });

  test('/models/count, /embeddings/models, /endpoints/zdr, /providers', async () => {
    await bad('/models/count?output_modalities=nope', 'output_modalities', /"nope"/);
    await bad('/models/count?sort=up', 'sort', /"up"/);
    await bad('/embeddings/models?output_modalities=text', 'output_modalities', /not accepted by this route/);
    await bad('/endpoints/zdr?x=1', 'x', /unknown query parameter/);
    await bad('/providers?x=1', 'x', /unknown query parameter/);
  });
});

describe('routes that share the filters', () => {
  test('/models/user: the key may use every listed model; it needs the key', async () => {
    const r = await get('/models/user');
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 401);
    const mine = await valid('models', '/models/user?supported_parameters=tools&limit=3', stack.key);
    const pub = await valid('models', '/models?supported_parameters=tools&limit=3');
    assert.deepEqual(mine.data, pub.data);
    assert.equal(mine.total_count, pub.total_count);
    assert.equal(mine.links.next, '/api/v1/models/user?supported_parameters=tools&limit=3&offset=3');
  });

  test('/embeddings/models: embedding models with the same filters and paging', async () => {
    const all = await valid('models', '/embeddings/models');
    assert.deepEqual(ids(all), ids(await valid('models', '/models?output_modalities=embeddings')));
    const page = await valid('models', '/embeddings/models?q=small&limit=1');
    assert.ok(page.data.length === 1 && page.data[0].id.includes('small'));
    assert.equal(page.total_count, all.data.filter((m: Json) => m.id.includes('small')).length);
  });

  test('/providers: every live provider, its status and how many listed models it serves', async () => {
    const body = await valid('providers', '/providers');
    const slugs = body.data.map((p: Json) => p.slug);
    assert.deepEqual(slugs, ['anthropic', 'google', 'openai']);
    for (const p of body.data) {
      const served = await valid('models.count', `/models/count?output_modalities=all&providers=${p.slug}`);
      assert.equal(p.model_count, served.data.count, p.slug);
      assert.ok(p.model_count > 0);
    }
    assert.equal(body.data.find((p: Json) => p.slug === 'google').status, 'operational');
    const { health } = stack.gw.app;
    const zdrEndpoint = stack.gw.app.catalog.get('acme/private-chat')!.endpoints[0];
    for (let i = 0; i < 5; i++) health.record(endpointKey(zdrEndpoint), { ok: false, status: 503, at: Date.now() });
    const after = await valid('providers', '/providers');
    assert.equal(after.data.find((p: Json) => p.slug === 'anthropic').status, 'degraded', 'one of its endpoints is down');
    assert.equal(after.data.find((p: Json) => p.slug === 'openai').status, 'operational');
  });

  test('/endpoints/zdr: the endpoints that keep no prompts, with their health', async () => {
    const body = await valid('endpoints.zdr', '/endpoints/zdr');
    assert.equal(body.data.length, 1);
    const e = body.data[0];
    assert.equal(e.model_id, 'acme/private-chat');
    assert.equal(e.tag, 'anthropic');
    assert.equal(e.provider_name, 'Anthropic');
    assert.equal(e.context_length, 32000);
    assert.equal(e.pricing.prompt, '0.000001');
  });

  test('a model without a price: listed priced "-1" (never as free), outside every price bound, its endpoint disabled (status -10)', async () => {
    const listed = (await valid('models', '/models?output_modalities=all')).data.find((m: Json) => m.id === 'acme/unpriced-chat');
    assert.equal(listed?.pricing.prompt, '-1');
    assert.equal((await valid('models.count', '/models/count?q=unpriced')).data.count, 1);
    assert.ok(!ids(await valid('models', '/models?max_price=1000')).includes('acme/unpriced-chat'));
    const sorted = (await valid('models', '/models?sort=pricing-low-to-high')).data as Json[];
    const tail = sorted.slice(sorted.findIndex((m) => !priced(m)));
    assert.ok(tail.every((m) => !priced(m)) && ids({ data: tail }).includes('acme/unpriced-chat'), 'unknown prices sort last');
    const body = await valid('endpoints', '/models/acme/unpriced-chat/endpoints');
    assert.equal(body.data.endpoints[0].status, -10);
    // Its context length is unknown: 0 where the SDK requires a number, null where it allows one.
    assert.equal(body.data.endpoints[0].context_length, 0);
    assert.equal(body.data.endpoints[0].max_prompt_tokens, null);
  });

  test('/models/{author}/{slug}/endpoints lists every endpoint of a model with its health', async () => {
    const body = await valid('endpoints', '/models/acme/private-chat/endpoints');
    assert.equal(body.data.endpoints.length, 1);
    assert.equal(typeof body.data.endpoints[0].uptime_last_30m, 'number');
  });
});

describe('@openrouter/sdk catalog calls', () => {
  test('models.list with filters and paging, models.count, providers.list, endpoints.list, endpoints.listZdrEndpoints', async () => {
    const page = await sdk.models.list({ q: 'gpt', sort: 'pricing-low-to-high', limit: 3, offset: 1, supportedParameters: 'tools' });
    const whole = ids(await valid('models', '/models?q=gpt&sort=pricing-low-to-high&supported_parameters=tools'));
    assert.deepEqual(
      page.result.data.map((m) => m.id),
      whole.slice(1, 4),
    );
    assert.equal(page.result.totalCount, whole.length);
    const next = new URL(page.result.links.next!, 'http://freeway.test');
    assert.equal(next.pathname, '/api/v1/models');
    const query = { limit: '3', offset: '4', q: 'gpt', sort: 'pricing-low-to-high', supported_parameters: 'tools' };
    assert.deepEqual(Object.fromEntries(next.searchParams), query);
    // The SDK's page iterator walks the pages by offset until a short one: the whole list, in order.
    const walked: string[] = [];
    for await (const p of await sdk.models.list({ limit: 10 })) walked.push(...p.result.data.map((m) => m.id));
    assert.deepEqual(walked, ids(await valid('models', '/models')));
    assert.ok(walked.length > 20, 'several pages');
    const count = await sdk.models.count({ outputModalities: 'all' });
    assert.equal(count.data.count, (await valid('models', '/models?output_modalities=all')).total_count);
    const providers = await sdk.providers.list();
    assert.deepEqual(
      providers.data.map((p) => p.slug),
      ['anthropic', 'google', 'openai'],
    );
    const eps = await sdk.endpoints.list({ author: 'acme', slug: 'private-chat' });
    assert.equal(eps.data.endpoints[0].providerName, 'Anthropic');
    const zdr = await sdk.endpoints.listZdrEndpoints();
    assert.deepEqual(
      zdr.data.map((e) => e.modelId),
      ['acme/private-chat'],
    );
    const mine = await sdk.models.listForUser({ bearer: stack.key }, { outputModalities: 'embeddings' });
    assert.ok(mine.result.data.length > 0 && mine.result.data.every((m) => m.architecture.outputModalities.includes('embeddings')));
  });
});

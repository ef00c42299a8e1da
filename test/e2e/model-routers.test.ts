/**
 * `openrouter/auto` (and `freeway/auto`) and `openrouter/free` end to end: the routed model serves,
 * the answer and the generation record name it, the choice follows what the request needs and the
 * operator's policy, a conversation stays on its model, and OpenRouter's own clients read it all.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOpenRouter } from '@openrouter/ai-sdk-provider';
import { OpenRouter } from '@openrouter/sdk';
import { generateText, streamText } from 'ai';
import { assertOpenRouterShape } from '../helpers/openrouter-schemas.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

const CLAUDE = 'anthropic/claude-sonnet-4.5';
const GPT = 'openai/gpt-4o-mini';
const GEMINI = 'google/gemini-2.5-flash';

const YAML = `routing:
  auto:
    policy: ordered
    models: [${CLAUDE}, ${GPT}, ${GEMINI}]
models:
  ${GPT}:
    endpoints:
      - provider: openai
        model: gpt-4o-mini
      - provider: openai
        model: gpt-4o-mini
        free: true
`;

let stack: Stack;

before(async () => {
  stack = await startStack({ yaml: YAML });
});
after(() => stack.close());

// any: wire-shape assertions field by field
type Json = Record<string, any>;

async function post(path: string, body: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${stack.baseURL}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function chat(model: string, content: unknown = 'Hello', extra: Json = {}): Promise<Json> {
  const r = await post('/chat/completions', { model, messages: [{ role: 'user', content }], ...extra });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assertOpenRouterShape('chat.completions', r.body);
  return r.body;
}

async function generation(id: string): Promise<Json> {
  const headers = { authorization: `Bearer ${stack.key}` };
  const res = await fetch(`${stack.baseURL}/generation?id=${encodeURIComponent(id)}`, { headers });
  assert.equal(res.status, 200);
  return ((await res.json()) as Json).data;
}

const setPolicy = (models: string[]) => {
  stack.gw.app.settings.routing.auto = { policy: 'ordered', models };
};

describe('openrouter/auto', () => {
  test('the policy picks; the answer and the generation record name the model that served', async () => {
    setPolicy([CLAUDE, GPT, GEMINI]);
    for (const model of ['openrouter/auto', 'freeway/auto']) {
      const r = await chat(model, `Hello from ${model}`);
      assert.equal(r.model, CLAUDE);
      assert.equal(r.provider, 'Anthropic');
      assert.match(r.choices[0].message.content, /You said: Hello/);
      const g = await generation(r.id);
      assert.equal(g.model, CLAUDE);
      assert.equal(g.provider_slug, 'anthropic');
      assert.equal(g.router, model, 'the record names the router that chose');
    }
    const direct = await chat(CLAUDE, 'Hello, no router');
    assert.equal((await generation(direct.id)).router, null);
  });

  test('what the request needs: audio input goes to the model that takes it', async () => {
    setPolicy([CLAUDE, GPT, GEMINI]);
    const audio = [
      { type: 'text', text: 'What is said?' },
      { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
    ];
    const r = await chat('openrouter/auto', audio);
    assert.equal(r.model, GEMINI);
  });

  test('sticky per conversation: the same session stays on its model when the policy changes; a new one follows it', async () => {
    setPolicy([CLAUDE, GPT, GEMINI]);
    assert.equal((await chat('openrouter/auto', 'one', { session_id: 'conversation-1' })).model, CLAUDE);
    setPolicy([GPT, CLAUDE, GEMINI]);
    assert.equal((await chat('openrouter/auto', 'two', { session_id: 'conversation-1' })).model, CLAUDE, 'sticky');
    assert.equal((await chat('openrouter/auto', 'one', { session_id: 'conversation-2' })).model, GPT, 'a new conversation');
    // Without a session id the conversation is its opening messages: a next turn of the first one stays.
    setPolicy([CLAUDE, GPT, GEMINI]);
    const opening = { role: 'user', content: 'A conversation without a session id' };
    const first = await post('/chat/completions', { model: 'openrouter/auto', messages: [opening] });
    assert.equal(first.body.model, CLAUDE);
    setPolicy([GPT, CLAUDE, GEMINI]);
    const next = await post('/chat/completions', {
      model: 'openrouter/auto',
      messages: [opening, { role: 'assistant', content: first.body.choices[0].message.content }, { role: 'user', content: 'And then?' }],
    });
    assert.equal(next.body.model, CLAUDE);
  });

  test('the Messages, Responses and legacy completions doors route it too', async () => {
    setPolicy([GPT, CLAUDE, GEMINI]);
    const m = await post('/messages', { model: 'openrouter/auto', max_tokens: 64, messages: [{ role: 'user', content: 'Hi there' }] });
    assert.equal(m.status, 200, JSON.stringify(m.body));
    assert.equal(m.body.model, GPT);
    const count = await post('/messages/count_tokens', { model: 'openrouter/auto', messages: [{ role: 'user', content: 'Hi there' }] });
    assert.equal(count.status, 200, JSON.stringify(count.body));
    assert.equal(typeof count.body.input_tokens, 'number');
    const r = await post('/responses', { model: 'freeway/auto', input: 'Hi there' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.model, GPT);
    assertOpenRouterShape('responses', r.body);
    // (OpenAI's chat models refuse the legacy route: a model whose protocol takes a prompt.)
    setPolicy([GEMINI, CLAUDE, GPT]);
    const c = await post('/completions', { model: 'openrouter/auto', prompt: 'Once upon a time' });
    assert.equal(c.status, 200, JSON.stringify(c.body));
    assert.equal(c.body.model, GEMINI);
  });

  test('@openrouter/ai-sdk-provider and @openrouter/sdk see the model that served', async () => {
    setPolicy([GEMINI, CLAUDE, GPT]);
    const openrouter = createOpenRouter({ apiKey: stack.key, baseURL: stack.baseURL });
    const whole = await generateText({ model: openrouter('openrouter/auto'), prompt: 'Say something' });
    assert.match(whole.text, /You said: Say something/);
    assert.equal(whole.response.modelId, GEMINI);
    const streamed = streamText({ model: openrouter('openrouter/auto'), prompt: 'Stream something' });
    let text = '';
    for await (const part of streamed.textStream) text += part;
    assert.match(text, /You said: Stream something/);
    assert.equal((await streamed.response).modelId, GEMINI);
    const sdk = new OpenRouter({ apiKey: stack.key, serverURL: stack.baseURL });
    const r = await sdk.chat.send({ chatRequest: { model: 'openrouter/auto', messages: [{ role: 'user', content: 'Hi' }] } });
    assert.ok(!(Symbol.asyncIterator in r));
    assert.equal(r.model, GEMINI);
  });
});

describe('openrouter/free', () => {
  test('picks a :free model: served free of charge, named in the answer', async () => {
    const r = await chat('openrouter/free', 'Hello free');
    assert.equal(r.model, `${GPT}:free`);
    assert.equal(r.usage.cost, 0);
    assert.equal((await generation(r.id)).model, `${GPT}:free`);
  });

  test('no free model can serve the request: 404 that says why', async () => {
    const audio = [{ type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } }];
    const r = await post('/chat/completions', { model: 'openrouter/free', messages: [{ role: 'user', content: audio }] });
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 404);
    assert.match(r.body.error.message, /^openrouter\/free: no free model in the catalog can serve this request \(it needs audio input/);
    assertOpenRouterShape('error', r.body);
  });
});

async function get(path: string, token?: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${stack.baseURL}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, body: (await res.json()) as Json };
}

const row = (list: Json, id: string): Json | undefined => list.data.find((m: Json) => m.id === id);

describe('the routers in the catalog routes', () => {
  test('/models lists openrouter/auto and openrouter/free in OpenRouter shape, with what they route among here', async () => {
    setPolicy([CLAUDE, GPT, GEMINI]);
    const list = await get('/models');
    assert.equal(list.status, 200);
    assertOpenRouterShape('models', list.body);
    const auto = row(list.body, 'openrouter/auto');
    const free = row(list.body, 'openrouter/free');
    assert.ok(auto && free, 'both routers are listed');
    assert.equal(row(list.body, 'freeway/auto'), undefined, 'the alias is not a row of its own');
    const pool = [CLAUDE, GPT, GEMINI].map((id) => row(list.body, id)!);
    assert.equal(auto.name, 'Auto Router');
    assert.equal(auto.canonical_slug, 'openrouter/auto');
    assert.deepEqual(auto.pricing, { prompt: '-1', completion: '-1' }, 'charged at the routed model’s rate');
    assert.equal(auto.architecture.tokenizer, 'Router');
    assert.equal(auto.context_length, Math.max(...pool.map((m) => m.context_length)), 'the largest among its models here');
    assert.equal(auto.top_provider.context_length, auto.context_length);
    assert.equal(auto.top_provider.max_completion_tokens, Math.max(...pool.map((m) => m.top_provider.max_completion_tokens)));
    const inputs = new Set(pool.flatMap((m) => m.architecture.input_modalities));
    assert.deepEqual(new Set(auto.architecture.input_modalities), inputs);
    assert.ok(auto.architecture.input_modalities.includes('audio'), 'Gemini takes audio');
    const params = new Set(pool.flatMap((m) => m.supported_parameters));
    assert.deepEqual(new Set(auto.supported_parameters), params);
    for (const id of [CLAUDE, GPT, GEMINI]) assert.ok(auto.description.includes(id), `the description names ${id}`);
    assert.ok(!auto.description.includes(`${GPT}:free`));
    assert.equal(auto.links.details, '/api/v1/models/openrouter/auto/endpoints');

    const freeModel = row(list.body, `${GPT}:free`)!;
    assert.equal(free.name, 'Free Models Router');
    assert.deepEqual(free.pricing, { prompt: '0', completion: '0' }, 'every model it picks is free');
    assert.equal(free.context_length, freeModel.context_length);
    assert.match(free.description, new RegExp(`Routes among: ${GPT.replace(/\./g, '\\.')}:free\\.$`));

    // One selection for every catalog route: the count, the key's own list and the SDK agree.
    const count = await get('/models/count');
    assert.equal(count.body.data.count, list.body.total_count);
    const mine = await get('/models/user', stack.key);
    assertOpenRouterShape('models', mine.body);
    assert.deepEqual(mine.body.data, list.body.data);
    const sdk = new OpenRouter({ apiKey: stack.key, serverURL: stack.baseURL });
    const listed = (await sdk.models.list({ q: 'router' })).result.data;
    assert.deepEqual(
      listed.map((m) => m.id),
      ['openrouter/auto', 'openrouter/free'],
    );
    assert.equal(listed[0].pricing.prompt, '-1');
    assert.equal(listed[0].architecture.tokenizer, 'Router');
    assert.equal(
      (await get('/embeddings/models')).body.data.find((m: Json) => m.id.startsWith('openrouter/')),
      undefined,
    );
  });

  test('the filters and sorts: a varying price is in no price bound and sorts last; no provider serves a router', async () => {
    setPolicy([CLAUDE, GPT, GEMINI]);
    const ids = async (q: string) => ((await get(`/models?${q}`)).body.data as Json[]).map((m) => m.id);
    const free = await ids('max_price=0&max_output_price=0');
    assert.ok(free.includes('openrouter/free') && !free.includes('openrouter/auto'));
    assert.ok(!(await ids('min_price=0')).includes('openrouter/auto'));
    const cheapFirst = (await get('/models?sort=pricing-low-to-high')).body.data as Json[];
    const at = cheapFirst.findIndex((m) => m.id === 'openrouter/auto');
    assert.ok(
      cheapFirst.slice(at).every((m) => m.pricing.prompt === '-1'),
      'with the unpriced, last',
    );
    const byContext = (await get('/models?sort=context-high-to-low')).body.data as Json[];
    const largest = byContext.filter((m) => m.context_length === byContext[0].context_length).map((m) => m.id);
    assert.ok(largest.includes('openrouter/auto'), 'its context is the largest of its models (tied with the largest)');
    assert.deepEqual(await ids('q=auto%20router'), ['openrouter/auto']);
    assert.ok((await ids('model_authors=openrouter')).length === 2);
    assert.ok((await ids('input_modalities=audio')).includes('openrouter/auto'));
    assert.ok(!(await ids('input_modalities=audio')).includes('openrouter/free'), 'no free model takes audio');
    for (const q of ['providers=openai', 'zdr=true']) assert.ok(!(await ids(q)).some((id) => id.startsWith('openrouter/')), q);
  });

  test('/model and /endpoints: the row, freeway/auto as openrouter/auto, and the endpoints of the models it routes to', async () => {
    setPolicy([CLAUDE, GPT, GEMINI]);
    for (const path of ['/model/openrouter/auto', '/model/freeway/auto']) {
      const r = await get(path);
      assert.equal(r.status, 200, path);
      assertOpenRouterShape('model', r.body);
      assert.equal(r.body.data.id, 'openrouter/auto');
    }
    const r = await get('/models/openrouter/auto/endpoints');
    assert.equal(r.status, 200);
    assertOpenRouterShape('endpoints', r.body);
    assert.equal(r.body.data.id, 'openrouter/auto');
    assert.deepEqual(new Set(r.body.data.endpoints.map((e: Json) => e.model_id)), new Set([CLAUDE, GPT, GEMINI]));
    assert.ok(
      r.body.data.endpoints.every((e: Json) => e.pricing.prompt !== '-1'),
      'each at its model’s price',
    );
    const f = await get('/models/openrouter/free/endpoints');
    assertOpenRouterShape('endpoints', f.body);
    assert.deepEqual(
      f.body.data.endpoints.map((e: Json) => [e.model_id, e.pricing.prompt]),
      [[`${GPT}:free`, '0']],
    );
  });

  test('a router that can serve nothing here is not listed, and its pages are a 404', async () => {
    setPolicy(['acme/not-configured']);
    try {
      assert.equal(row((await get('/models')).body, 'openrouter/auto'), undefined);
      const r = await get('/model/openrouter/auto');
      assert.equal(r.status, 404);
      assertOpenRouterShape('error', r.body);
      assert.match(r.body.error.message, /^openrouter\/auto: no model it may route to/);
      assert.equal((await get('/models/freeway/auto/endpoints')).status, 404);
      assert.ok(row((await get('/models')).body, 'openrouter/free'), 'the free router does not depend on the policy');
    } finally {
      setPolicy([CLAUDE, GPT, GEMINI]);
    }
    const bare = await startStack();
    try {
      const list = (await (await fetch(`${bare.baseURL}/models`)).json()) as Json;
      assert.ok(row(list, 'openrouter/auto'), 'every paid chat model, by default');
      assert.equal(row(list, 'openrouter/free'), undefined, 'no free model is configured');
      const r = await fetch(`${bare.baseURL}/models/openrouter/free/endpoints`);
      assert.equal(r.status, 404);
      assert.match(((await r.json()) as Json).error.message, /^openrouter\/free: no free model is configured/);
    } finally {
      await bare.close();
    }
  });
});

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

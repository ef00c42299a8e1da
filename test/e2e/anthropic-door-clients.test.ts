/**
 * The Messages door as real clients use it through a gateway (Claude Code, OpenRouter's Anthropic
 * skin), one general rule per test:
 * - a `system`-role message inside `messages` is folded into `system` (Claude Code sends one for
 *   models it does not know);
 * - every answer names the model the way the client asked for it, whole and streamed, passed
 *   through or translated — and so does the chat completions door;
 * - a Gemini answer's blocks come in the order Anthropic's clients read: never a block after the
 *   final text;
 * - more output than the model gives is served at its maximum with a warning, unless
 *   `provider.require_parameters`;
 * - OpenRouter's extras are consumed, never forwarded; `fallbacks` is a fallback list; the client's
 *   `anthropic-beta` (or `x-anthropic-beta`) and `anthropic-version` reach Anthropic.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createKey } from '../../src/accounting/keys.ts';
import { MemoryHealth } from '../../src/router/health/memory-health.ts';
import { MODELS, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;
let client: Anthropic;

before(async () => {
  stack = await startStack();
  client = new Anthropic({ apiKey: stack.key, baseURL: stack.gw.url, maxRetries: 0 });
});
beforeEach(() => {
  stack.gw.app.health = new MemoryHealth();
});
after(async () => {
  await stack.close();
});

// any: request bodies with fields the SDK's types do not know (OpenRouter's extras, a system role).
type Body = Record<string, any>;

function post(body: Body, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${stack.gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': stack.key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
    body: JSON.stringify(body),
  });
}

async function json(res: Response): Promise<Body> {
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text) as Body;
}

/** The `data` of every SSE event of a streamed answer. */
async function events(res: Response): Promise<Body[]> {
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return text
    .split('\n')
    .filter((l) => l.startsWith('data:'))
    .map((l) => JSON.parse(l.slice(5)) as Body);
}

describe('a system-role message inside messages', () => {
  const body = (model: string): Body => ({
    model,
    max_tokens: 200,
    system: 'You are terse.',
    messages: [
      { role: 'user', content: 'hello there' },
      { role: 'system', content: [{ type: 'text', text: 'Environment: linux' }] },
    ],
  });

  test('reaches Anthropic folded into the top-level system, after its own', async () => {
    await json(await post(body(MODELS.anthropic)));
    const sent = stack.anthropic.last().body;
    assert.deepEqual(sent.system, [
      { type: 'text', text: 'You are terse.' },
      { type: 'text', text: 'Environment: linux' },
    ]);
    assert.deepEqual(sent.messages, [{ role: 'user', content: 'hello there' }]);
  });

  test('reaches a translated upstream as its system prompt', async () => {
    for (const model of [MODELS.openai, MODELS.google]) {
      const m = await json(await post(body(model)));
      assert.equal(m.content.at(-1).type, 'text');
    }
    const chat = stack.openai.last().body;
    assert.equal(chat.messages[0].role, 'system');
    assert.match(JSON.stringify(chat.messages[0].content), /You are terse\.[\s\S]*Environment: linux/);
    assert.deepEqual(
      chat.messages.slice(1).map((m: Body) => m.role),
      ['user'],
    );
    assert.match(JSON.stringify(stack.gemini.last().body.systemInstruction), /Environment: linux/);
  });

  test('is validated like the top-level system: text blocks only, named in the error', async () => {
    const res = await post({
      model: MODELS.anthropic,
      max_tokens: 50,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'system', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] },
      ],
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /messages\[1\]\.content\[0\]\.type/);
    const only = await post({ model: MODELS.anthropic, max_tokens: 50, messages: [{ role: 'system', content: 'alone' }] });
    assert.equal(only.status, 400);
  });
});

describe('answers name the model the way the client asked for it', () => {
  for (const model of [MODELS.anthropic, 'claude-sonnet-4-5', MODELS.openai, MODELS.google]) {
    test(`${model}, whole and streamed`, async () => {
      const whole = await json(await post({ model, max_tokens: 100, messages: [{ role: 'user', content: 'name yourself' }] }));
      assert.equal(whole.model, model);
      const evs = await events(
        await post({ model, max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'name yourself' }] }),
      );
      const start = evs.find((e) => e.type === 'message_start');
      assert.equal(start?.message.model, model);
    });
  }

  test("the chat completions door too, whole and streamed, in the client's spelling", async () => {
    const openai = new OpenAI({ apiKey: stack.key, baseURL: stack.baseURL, maxRetries: 0 });
    const asked = 'OpenAI/GPT-4o-mini';
    const whole = await openai.chat.completions.create({ model: asked, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(whole.model, asked);
    const stream = await openai.chat.completions.create({ model: asked, stream: true, messages: [{ role: 'user', content: 'hi' }] });
    for await (const chunk of stream) assert.equal(chunk.model, asked);
  });

  test('the Responses door too, whole and streamed', async () => {
    const openai = new OpenAI({ apiKey: stack.key, baseURL: stack.baseURL, maxRetries: 0 });
    const asked = 'Google/Gemini-2.5-Flash';
    const whole = await openai.responses.create({ model: asked, input: 'hi' });
    assert.equal(whole.model, asked);
    const stream = await openai.responses.create({ model: asked, input: 'hi', stream: true });
    let models = 0;
    for await (const ev of stream) {
      if ('response' in ev) {
        assert.equal(ev.response.model, asked);
        models++;
      }
    }
    assert.ok(models >= 2);
  });
});

describe('a Gemini answer with thinking, through the Messages door', () => {
  for (const streamed of [false, true]) {
    test(`ends with its text, the reasoning before it (${streamed ? 'streamed' : 'whole'})`, async () => {
      const params = {
        model: MODELS.google,
        max_tokens: 2_000,
        thinking: { type: 'enabled' as const, budget_tokens: 1_024 },
        messages: [{ role: 'user' as const, content: 'think first' }],
      };
      const m = streamed ? await client.messages.stream(params).finalMessage() : await client.messages.create(params);
      const last = m.content.at(-1);
      assert.equal(last?.type, 'text', JSON.stringify(m.content.map((b) => b.type)));
      assert.match((last as Anthropic.TextBlock).text, /Hello from Gemini emulator/);
      assert.ok(m.content.slice(0, -1).every((b) => b.type === 'thinking' || b.type === 'redacted_thinking'));
    });
  }
});

describe("Claude Code's adaptive thinking with output_config.effort, on a translated model", () => {
  test("the effort becomes the upstream's own reasoning setting", async () => {
    const budgets: number[] = [];
    for (const effort of ['low', 'high']) {
      const m = await json(
        await post({
          model: MODELS.google,
          max_tokens: 32_000,
          thinking: { type: 'adaptive', display: 'omitted' },
          output_config: { effort },
          messages: [{ role: 'user', content: 'think' }],
        }),
      );
      assert.equal(m.content.at(-1).type, 'text');
      budgets.push(stack.gemini.last().body.generationConfig.thinkingConfig.thinkingBudget);
    }
    assert.ok(budgets[0] < budgets[1], JSON.stringify(budgets));
    const bad = await post({
      model: MODELS.google,
      max_tokens: 100,
      output_config: { effort: 'extreme' },
      messages: [{ role: 'user', content: 'x' }],
    });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /output_config\.effort/);
  });
});

describe('more output than the model gives', () => {
  test("is served at the model's maximum, with a warning the client sees (chat completions)", async () => {
    const res = await fetch(`${stack.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODELS.openai, max_tokens: 32_000, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const body = await json(res);
    const sent = stack.openai.last().body;
    assert.equal(sent.max_completion_tokens ?? sent.max_tokens, 16_384);
    const warning = /max_tokens 32000 exceeds the maximum output of openai\/gpt-4o-mini \(16384 tokens\)/;
    assert.ok(
      body.warnings?.some((w: string) => warning.test(w)),
      JSON.stringify(body),
    );
  });

  test('on the Messages door, translated and passed through', async () => {
    const translated = await json(await post({ model: MODELS.openai, max_tokens: 32_000, messages: [{ role: 'user', content: 'hi' }] }));
    const sent = stack.openai.last().body;
    assert.equal(sent.max_completion_tokens ?? sent.max_tokens, 16_384);
    assert.match(String(translated.warnings), /served with max_tokens 16384/);
    // Claude Code's own request shape: a thinking budget just under max_tokens, above the cap.
    const passed = await json(
      await post({
        model: MODELS.anthropic,
        max_tokens: 70_000,
        thinking: { type: 'enabled', budget_tokens: 69_999 },
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    const raw = stack.anthropic.last().body;
    assert.equal(raw.max_tokens, 64_000);
    assert.ok(raw.thinking.budget_tokens < 64_000);
    assert.match(String(passed.warnings), /max_tokens 70000 exceeds the maximum output of anthropic\/claude-sonnet-4\.5 \(64000 tokens\)/);
  });

  test('on the legacy completions door', async () => {
    const res = await fetch(`${stack.baseURL}/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODELS.google, max_tokens: 70_000, prompt: 'hi' }),
    });
    const body = await json(res);
    assert.equal(stack.gemini.last().body.generationConfig.maxOutputTokens, 65_536);
    assert.match(String(body.warnings), /served with max_tokens 65536/);
  });

  test("is held for the model's maximum, not for what was asked", async () => {
    // gpt-4o-mini: 600 nano$ an output token. 16,384 tokens fit under $0.015; 32,000 would not.
    const { key } = await createKey(stack.gw.app.store, { name: 'small', kind: 'inference', limitNanos: 15_000_000 });
    const res = await fetch(`${stack.gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: MODELS.openai, max_tokens: 32_000, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const m = await json(res);
    assert.ok(m.usage.cost > 0);
  });

  test('is a 404 under provider.require_parameters', async () => {
    const res = await post({
      model: MODELS.openai,
      max_tokens: 32_000,
      provider: { require_parameters: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(res.status, 404);
    assert.match(await res.text(), /max_tokens of 32000/);
  });
});

describe("OpenRouter's extras on the Messages door", () => {
  const extras = {
    session_id: 'session-1',
    user: 'user-1',
    trace: { trace_id: 't-1' },
    route: 'fallback',
    plugins: [{ id: 'web' }],
    provider: { allow_fallbacks: true },
    models: [],
  };

  test('are consumed by Freeway, never forwarded to Anthropic', async () => {
    await json(await post({ model: MODELS.anthropic, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }], ...extras }));
    const sent = stack.anthropic.last().body;
    for (const k of Object.keys(extras)) assert.equal(sent[k], undefined, k);
    const streamed = await events(
      await post({ model: MODELS.anthropic, max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hi' }], ...extras }),
    );
    assert.ok(streamed.some((e) => e.type === 'message_stop'));
    for (const k of Object.keys(extras)) assert.equal(stack.anthropic.last().body[k], undefined, k);
  });

  test('count_tokens gets only what it takes (no extras, no max_tokens or stream)', async () => {
    const res = await fetch(`${stack.gw.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'x-api-key': stack.key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: MODELS.anthropic,
        max_tokens: 50,
        stream: false,
        messages: [{ role: 'user', content: 'count me' }],
        ...extras,
      }),
    });
    const body = await json(res);
    assert.ok(body.input_tokens > 0);
    const sent = stack.anthropic.last();
    assert.equal(sent.path, '/v1/messages/count_tokens');
    assert.deepEqual(Object.keys(sent.body).sort(), ['messages', 'model']);
  });

  for (const fallbacks of [{ fallbacks: [{ model: MODELS.openai }] }, { models: [MODELS.openai] }]) {
    test(`${Object.keys(fallbacks)[0]}: an Anthropic 529 tries the fallback`, async () => {
      stack.anthropic.failNext('[[error:529]]');
      const m = await json(
        await post({ model: MODELS.anthropic, max_tokens: 50, messages: [{ role: 'user', content: 'fall back' }], ...fallbacks }),
      );
      assert.equal(m.model, MODELS.openai);
      assert.match(m.content[0].text, /Hello from OpenAI emulator/);
    });
  }

  test("the client's anthropic-beta, x-anthropic-beta and anthropic-version reach Anthropic", async () => {
    await json(
      await post(
        { model: MODELS.anthropic, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] },
        {
          'anthropic-beta': 'feature-a-2025-01-01',
          'x-anthropic-beta': 'feature-b-2025-01-01,feature-a-2025-01-01',
          'anthropic-version': '2023-01-01',
        },
      ),
    );
    const h = stack.anthropic.last().headers;
    assert.equal(h['anthropic-beta'], 'feature-a-2025-01-01,feature-b-2025-01-01');
    assert.equal(h['anthropic-version'], '2023-01-01');
  });
});

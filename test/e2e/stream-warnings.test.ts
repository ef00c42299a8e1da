/**
 * Warnings reach the client on every door's stream, where that door's whole answers show them:
 * what Freeway changed in the request (more output than the model gives, served at its maximum; a
 * plugin it lacks) and what an upstream's adapter dropped. Chat completions: a top-level `warnings`
 * on a chunk; Messages: on `message_start`'s message, translated or passed through raw; Responses:
 * on the response object of `response.created` and `response.completed`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertOpenRouterShape, sseData } from '../helpers/openrouter-schemas.ts';
import { MODELS, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;

before(async () => {
  stack = await startStack();
});
after(() => stack.close());

// any: SSE payloads of three formats, read field by field.
type Json = Record<string, any>;

async function post(path: string, body: Json): Promise<Response> {
  return fetch(`${stack.baseURL}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  });
}

async function streamed(path: string, body: Json): Promise<Json[]> {
  const res = await post(path, { ...body, stream: true });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return sseData(text) as Json[];
}

const CAP = /max_tokens 32000 exceeds the maximum output of openai\/gpt-4o-mini \(16384 tokens\): served with max_tokens 16384/;
const CAP_ANTHROPIC = /max_tokens 70000 exceeds the maximum output of anthropic\/claude-sonnet-4\.5 \(64000 tokens\)/;
const hi = [{ role: 'user', content: 'hi' }];
const has = (warnings: unknown, re: RegExp): boolean => Array.isArray(warnings) && warnings.some((w) => re.test(String(w)));

describe('chat completions', () => {
  const warningsOf = (chunks: Json[]) => chunks.flatMap((c) => (Array.isArray(c.warnings) ? c.warnings : []));

  test('more output than the model gives: the cap warning is on the stream', async () => {
    const chunks = await streamed('/chat/completions', { model: MODELS.openai, max_tokens: 32_000, messages: hi });
    assert.ok(has(warningsOf(chunks), CAP), JSON.stringify(chunks));
    const sent = stack.openai.last().body;
    assert.equal(sent.max_completion_tokens ?? sent.max_tokens, 16_384);
  });

  test("the cap warning on a translated stream too (Gemini), with the adapter's", async () => {
    const chunks = await streamed('/chat/completions', { model: MODELS.google, max_tokens: 70_000, service_tier: 'flex', messages: hi });
    const warnings = warningsOf(chunks);
    assert.ok(has(warnings, /served with max_tokens 65536/), JSON.stringify(warnings));
    assert.ok(has(warnings, /service_tier/), JSON.stringify(warnings));
  });
});

describe('Messages door, translated', () => {
  const start = (events: Json[]) => events.find((e) => e.type === 'message_start')!.message;

  test('the cap warning is on message_start', async () => {
    const events = await streamed('/messages', { model: MODELS.openai, max_tokens: 32_000, messages: hi });
    assert.ok(has(start(events).warnings, CAP), JSON.stringify(events[0]));
    assert.ok(events.some((e) => e.type === 'message_stop'));
  });

  test('a field the adapter dropped, and a plugin Freeway lacks, are on message_start', async () => {
    const events = await streamed('/messages', { model: MODELS.openai, max_tokens: 50, top_k: 5, plugins: [{ id: 'web' }], messages: hi });
    const warnings = start(events).warnings;
    assert.ok(has(warnings, /top_k is not supported/), JSON.stringify(warnings));
    assert.ok(has(warnings, /plugin "web"/), JSON.stringify(warnings));
    assert.equal(stack.openai.last().body.top_k, undefined);
  });

  test('the whole answer shows the same warnings', async () => {
    const res = await post('/messages', { model: MODELS.openai, max_tokens: 32_000, top_k: 5, plugins: [{ id: 'web' }], messages: hi });
    const body = (await res.json()) as Json;
    assert.equal(res.status, 200, JSON.stringify(body));
    for (const re of [CAP, /top_k is not supported/, /plugin "web"/]) assert.ok(has(body.warnings, re), JSON.stringify(body.warnings));
  });
});

describe('Messages door, passed through to Anthropic', () => {
  test('the cap warning and a plugin warning are added to message_start as it passes', async () => {
    const events = await streamed('/messages', { model: MODELS.anthropic, max_tokens: 70_000, plugins: [{ id: 'web' }], messages: hi });
    assert.equal(stack.anthropic.last().body.max_tokens, 64_000);
    assert.equal(stack.anthropic.last().body.plugins, undefined);
    const message = events.find((e) => e.type === 'message_start')!.message;
    assert.ok(has(message.warnings, CAP_ANTHROPIC), JSON.stringify(message));
    assert.ok(has(message.warnings, /plugin "web"/), JSON.stringify(message));
    assert.equal(message.model, MODELS.anthropic);
    assert.ok(events.some((e) => e.type === 'message_stop'));
  });

  test('no warnings, no warnings field', async () => {
    const events = await streamed('/messages', { model: MODELS.anthropic, max_tokens: 50, messages: hi });
    assert.equal(events.find((e) => e.type === 'message_start')!.message.warnings, undefined);
  });
});

describe('Messages door plugins', () => {
  test("an unknown plugin id is a 400 in Anthropic's error format, whatever the model", async () => {
    for (const model of [MODELS.anthropic, MODELS.openai]) {
      for (const stream of [false, true]) {
        const res = await post('/messages', { model, max_tokens: 50, stream, plugins: [{ id: 'no-such-plugin' }], messages: hi });
        const body = (await res.json()) as Json;
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(body.type, 'error');
        assert.equal(body.error.type, 'invalid_request_error');
        assert.match(body.error.message, /plugins\[0\]\.id.*unknown plugin "no-such-plugin"/);
      }
    }
  });

  test('a disabled plugin, and one Freeway needs nothing for, are not warned about', async () => {
    const plugins = [
      { id: 'web', enabled: false },
      { id: 'file-parser', pdf: { engine: 'native' } },
    ];
    const res = await post('/messages', { model: MODELS.anthropic, max_tokens: 50, plugins, messages: hi });
    const body = (await res.json()) as Json;
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.warnings, undefined);
  });
});

describe('Responses door', () => {
  const responsesOf = (events: Json[], type: string) => events.filter((e) => e.type === type).map((e) => e.response);

  test('the cap warning is on response.created and response.completed, and every event passes the SDK schema', async () => {
    const events = await streamed('/responses', { model: MODELS.openai, max_output_tokens: 32_000, input: 'hi' });
    for (const ev of events) assertOpenRouterShape('responses.event', ev);
    for (const type of ['response.created', 'response.completed']) {
      const [response] = responsesOf(events, type);
      assert.ok(has(response?.warnings, CAP), `${type}: ${JSON.stringify(response)}`);
    }
  });

  test("a field the adapter dropped is on the stream's response objects", async () => {
    const events = await streamed('/responses', { model: MODELS.anthropic, temperature: 0.5, top_p: 0.9, input: 'hi' });
    for (const ev of events) assertOpenRouterShape('responses.event', ev);
    const [created] = responsesOf(events, 'response.created');
    const [completed] = responsesOf(events, 'response.completed');
    assert.ok(has(created.warnings, /top_p was dropped/), JSON.stringify(created));
    assert.ok(has(completed.warnings, /top_p was dropped/), JSON.stringify(completed));
    assert.equal(completed.warnings.length, new Set(completed.warnings).size, 'each warning once');
  });
});

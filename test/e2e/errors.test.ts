/**
 * Bad input and failing upstreams: every case gets the right status in the OpenAI/OpenRouter
 * envelope, and the server stays healthy afterwards.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

type APIErr = InstanceType<typeof OpenAI.APIError>;

let stack: Stack;
let client: OpenAI;

before(async () => {
  stack = await startStack();
  client = new OpenAI({ apiKey: stack.key, baseURL: stack.baseURL, maxRetries: 0 });
});
after(() => stack.close());

interface Envelope {
  error: { code: number; message: string; metadata?: Record<string, any> }; // any: read field by field in assertions
}

async function post(path: string, body: string | object, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.baseURL}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: JSON.parse(text) as Envelope };
}

function assertEnvelope(r: { status: number; json: Envelope }, status: number) {
  assert.equal(r.status, status);
  assert.equal(r.json.error.code, status);
  assert.equal(typeof r.json.error.message, 'string');
  assert.ok(!/at .*\.ts:\d+/.test(r.json.error.message), 'no stack trace');
}

const hi = [{ role: 'user', content: 'hi' }];

afterEach(async () => {
  // The server is still healthy after every bad request.
  const r = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'ok?' }] });
  assert.ok(r.choices[0].message.content);
});

describe('bad input', () => {
  test('malformed JSON → 400', async () => {
    const r = await post('/chat/completions', '{"model": "openai/gpt-4o-mini", "messages": [');
    assertEnvelope(r, 400);
    assert.match(r.json.error.message, /not valid JSON/);
  });
  test('wrong types name the field', async () => {
    let r = await post('/chat/completions', { model: 'openai/gpt-4o-mini', messages: 'hi' });
    assertEnvelope(r, 400);
    assert.equal(r.json.error.metadata?.param, 'messages');
    r = await post('/chat/completions', { model: 'openai/gpt-4o-mini', messages: hi, temperature: 'hot' });
    assertEnvelope(r, 400);
    assert.equal(r.json.error.metadata?.param, 'temperature');
    r = await post('/chat/completions', { model: 'openai/gpt-4o-mini', messages: [{ role: 'robot', content: 'x' }] });
    assertEnvelope(r, 400);
    assert.equal(r.json.error.metadata?.param, 'messages[0].role');
    r = await post('/chat/completions', { model: 'openai/gpt-4o-mini', messages: hi, max_tokens: -5 });
    assertEnvelope(r, 400);
    assert.equal(r.json.error.metadata?.param, 'max_tokens');
    r = await post('/chat/completions', { model: 'openai/gpt-4o-mini', messages: hi, provider: { Require_Parameters: true } });
    assertEnvelope(r, 400);
    assert.match(r.json.error.message, /Unrecognized key\(s\) in object: 'Require_Parameters'/);
  });
  test('missing fields → 400', async () => {
    let r = await post('/chat/completions', { messages: hi });
    assertEnvelope(r, 400);
    assert.equal(r.json.error.metadata?.param, 'model');
    r = await post('/chat/completions', { model: 'openai/gpt-4o-mini' });
    assertEnvelope(r, 400);
    assert.equal(r.json.error.metadata?.param, 'messages');
    r = await post('/chat/completions', { model: 'openai/gpt-4o-mini', messages: [] });
    assertEnvelope(r, 400);
    r = await post('/chat/completions', 'null');
    assertEnvelope(r, 400);
  });
  test('unknown model → 404 with close matches', async () => {
    const r = await post('/chat/completions', { model: 'openai/gpt-4o-mni', messages: hi });
    assertEnvelope(r, 404);
    assert.match(r.json.error.message, /openai\/gpt-4o-mni is not a valid model ID/);
    assert.ok((r.json.error.metadata?.suggestions as string[] | undefined)?.includes('openai/gpt-4o-mini'));
  });
  test('huge body → 413', async () => {
    const saved = stack.gw.app.settings.maxBodyBytes;
    stack.gw.app.settings.maxBodyBytes = 1024 * 1024;
    try {
      const r = await post('/chat/completions', {
        model: 'openai/gpt-4o-mini',
        messages: [{ role: 'user', content: 'x'.repeat(2 * 1024 * 1024) }],
      });
      assertEnvelope(r, 413);
    } finally {
      stack.gw.app.settings.maxBodyBytes = saved;
    }
  });
  test('bad or missing key → 401', async () => {
    let r = await post('/chat/completions', { model: 'openai/gpt-4o-mini', messages: hi }, { authorization: 'Bearer sk-fw-v1-nope' });
    assertEnvelope(r, 401);
    r = await post('/chat/completions', { model: 'openai/gpt-4o-mini', messages: hi }, { authorization: '' });
    assertEnvelope(r, 401);
    await assert.rejects(
      new OpenAI({ apiKey: 'wrong', baseURL: stack.baseURL, maxRetries: 0 }).chat.completions.create({
        model: 'openai/gpt-4o-mini',
        messages: [{ role: 'user', content: 'x' }],
      }),
      OpenAI.AuthenticationError,
    );
  });
  test('unknown route → 404 envelope; wrong method → 405', async () => {
    const r = await post('/nope', {});
    assertEnvelope(r, 404);
    const g = await fetch(`${stack.baseURL}/chat/completions`);
    assert.equal(g.status, 405);
  });
});

describe('failing upstreams', () => {
  test('upstream 5xx → 502 naming the provider, with its own message readable', async () => {
    const r = await post('/chat/completions', { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: '[[error:500]]' }] });
    assertEnvelope(r, 502);
    assert.match(r.json.error.message, /^OpenAI returned HTTP 500: The server had an error/);
    assert.equal(r.json.error.metadata?.provider_name, 'OpenAI');
    assert.equal(typeof r.json.error.metadata?.raw, 'object', 'raw upstream body is an object, not a JSON string');
    assert.ok(!r.text.includes(stack.openai.apiKey));
  });
  test('upstream 429 → 429 with Retry-After', async () => {
    const r = await post('/chat/completions', {
      model: 'anthropic/claude-sonnet-4-5',
      messages: [{ role: 'user', content: '[[error:429]]' }],
    });
    assertEnvelope(r, 429);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    assert.match(r.json.error.message, /Anthropic/);
  });
  test('upstream timeout → 504', async () => {
    const saved = stack.gw.app.settings.routing.timeouts.firstTokenMs;
    stack.gw.app.settings.routing.timeouts.firstTokenMs = 150;
    try {
      const r = await post('/chat/completions', { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: '[[slow:1000]]' }] });
      assertEnvelope(r, 504);
    } finally {
      stack.gw.app.settings.routing.timeouts.firstTokenMs = saved;
    }
  });
  test('a stream that fails before any content gets a real status, not a 200', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: 'google/gemini-2.5-flash',
        messages: [{ role: 'user', content: '[[error:503]]' }],
        stream: true,
      }),
      (e: APIErr) => e.status === 503,
    );
  });
  test('fallback models are tried when the first fails before any content', async () => {
    const res = await client.chat.completions
      .create({
        model: 'openai/gpt-4o-mini',
        models: ['anthropic/claude-sonnet-4-5'],
        messages: [{ role: 'user', content: 'hello [[error:503]]' }],
      } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((e: APIErr) => e);
    // Both emulators honour the directive, so both fail: the last error comes back with the attempts.
    assert.ok(res instanceof OpenAI.APIError);
    assert.equal(res.status, 503);
    const meta = (res.error as { metadata?: { previous_errors?: unknown[] } }).metadata;
    assert.equal(meta?.previous_errors?.length, 1);
  });
});

describe('each door answers a wrong method in its own error shape', () => {
  test('OpenAI, Anthropic and Responses paths', async () => {
    const get = async (path: string) => {
      const r = await fetch(`${stack.baseURL}${path}`, { headers: { authorization: `Bearer ${stack.key}` } });
      return { status: r.status, body: (await r.json()) as Record<string, any> }; // any: three different shapes
    };
    const chat = await get('/chat/completions');
    assert.equal(chat.status, 405);
    assert.equal(chat.body.error.code, 405);
    const messages = await get('/messages');
    assert.equal(messages.status, 405);
    assert.equal(messages.body.type, 'error');
    assert.equal(typeof messages.body.error.type, 'string');
    const responses = await fetch(`${stack.baseURL}/responses`, { method: 'DELETE', headers: { authorization: `Bearer ${stack.key}` } });
    assert.equal(responses.status, 405);
    const rb = (await responses.json()) as { error: { message: string; type: string } };
    assert.equal(typeof rb.error.type, 'string');
    assert.match(rb.error.message, /not allowed/);
  });
});

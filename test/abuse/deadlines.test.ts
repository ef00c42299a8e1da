/**
 * Fault and abuse: upstreams that keep a stream open without answering. An upstream that sends
 * only keep-alives trips the first-token deadline (and the next endpoint takes over when there is
 * one); one that drips its events a byte at a time trips the idle deadline; a stream still running
 * at the total deadline is ended. Every ending is the door's documented one — a real HTTP status
 * while nothing has been sent, the in-band error (OpenAI chat: error chunk then `[DONE]`;
 * Anthropic: `event: error`; Responses: `error` then `response.failed`) after — and what was
 * delivered is charged. Deadlines are short here (hundreds of ms); every wait is bounded.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { MemoryHealth } from '../../src/router/health/memory-health.ts';
import type { Emulator } from '../emulators/common.ts';
import { startOpenAIEmulator } from '../emulators/openai.ts';
import { MODELS, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

const T = { timeout: 60_000 };

let stack: Stack;
let backup: Emulator;

const YAML = `
providers:
  backup:
    type: openai-compatible
    name: Backup
    baseUrl: \${BACKUP_BASE_URL}
    apiKey: test-key
    models: [gpt-4o-mini]
models:
  test/two-endpoints:
    endpoints:
      - provider: openai
        model: gpt-4o-mini
        pricing: { prompt: "0.0000001", completion: "0.0000001" }
      - provider: backup
        model: gpt-4o-mini
        pricing: { prompt: "0.0000002", completion: "0.0000002" }
`;

const DEADLINES = { connectMs: 5_000, firstTokenMs: 300, idleMs: 300, totalMs: 60_000 };

before(async () => {
  backup = await startOpenAIEmulator({ name: 'Backup emulator' });
  stack = await startStack({ yaml: YAML, env: { BACKUP_BASE_URL: `${backup.url}/v1` } });
});

beforeEach(() => {
  Object.assign(stack.gw.app.settings.routing.timeouts, DEADLINES);
  // Long keep-alive interval: nothing reaches the client before the deadlines unless a test says so.
  stack.gw.app.settings.keepAliveMs = 5_000;
  stack.gw.app.health = new MemoryHealth();
});

after(async () => {
  await stack.close();
  await backup.close();
});

interface Answer {
  status: number;
  text: string;
  /** The `data:` payloads, in order. */
  data: string[];
  /** `event:` names, in order. */
  events: string[];
  generationId: string | null;
}

async function post(path: string, body: object, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${stack.baseURL}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  const lines = text.split('\n');
  return {
    status: res.status,
    text,
    data: lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)),
    events: lines.filter((l) => l.startsWith('event: ')).map((l) => l.slice(7)),
    generationId: res.headers.get('x-generation-id'),
  };
}

const chat = (model: string, content: string) => post('/chat/completions', { model, stream: true, messages: [{ role: 'user', content }] });
const messages = (model: string, content: string) =>
  post('/messages', { model, stream: true, max_tokens: 200, messages: [{ role: 'user', content }] }, { 'anthropic-version': '2023-06-01' });
const responses = (model: string, content: string) => post('/responses', { model, stream: true, input: content });

/** The OpenAI chat stream's ending: a chunk with `error` and finish_reason "error", then `[DONE]`. */
function assertChatErrorEnding(a: Answer, pattern: RegExp): Record<string, unknown> {
  assert.equal(a.status, 200);
  assert.equal(a.data.at(-1), '[DONE]', `ends with [DONE]: ${a.text.slice(-300)}`);
  const last = JSON.parse(a.data.at(-2)!) as { error?: { code: number; message: string }; choices: Array<{ finish_reason: string }> };
  assert.equal(last.choices[0].finish_reason, 'error');
  assert.equal(last.error?.code, 504);
  assert.match(last.error?.message ?? '', pattern);
  return last as unknown as Record<string, unknown>;
}

async function generation(id: string): Promise<Record<string, unknown>> {
  await stack.gw.app.billing.settled();
  await stack.gw.app.generations.flush();
  const res = await fetch(`${stack.baseURL}/generation?id=${id}`, { headers: { authorization: `Bearer ${stack.key}` } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { data: Record<string, unknown> }).data;
}

describe('keep-alive-only upstream: the first-token deadline', () => {
  test('chat stream, nothing sent yet: a real 504 naming the deadline', T, async () => {
    const a = await chat(MODELS.openai, 'hello [[keepalive:50]]');
    assert.equal(a.status, 504, a.text);
    const err = (JSON.parse(a.text) as { error: { message: string; metadata: Record<string, unknown> } }).error;
    assert.match(err.message, /no content within 300 ms/);
    assert.equal(err.metadata.deadline, 'first-token');
  });

  test('chat stream after keep-alives went out: the error chunk, then [DONE]', T, async () => {
    stack.gw.app.settings.keepAliveMs = 50;
    const a = await chat(MODELS.openai, 'hello [[keepalive:50]]');
    assert.match(a.text, /^: FREEWAY PROCESSING/);
    assertChatErrorEnding(a, /no content within 300 ms/);
    // Upstream keep-alives are not relayed, and nothing else came.
    assert.equal(a.data.length, 2);
  });

  test('Anthropic door (raw passthrough), pings and an empty content block only: a 504 in Anthropic shape', T, async () => {
    const a = await messages(MODELS.anthropic, 'hello [[keepalive:50]]');
    assert.equal(a.status, 504, a.text);
    const body = JSON.parse(a.text) as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'timeout_error');
    assert.match(body.error.message, /no content within 300 ms/);
  });

  test('Anthropic door after keep-alives went out: `event: error` with timeout_error', T, async () => {
    stack.gw.app.settings.keepAliveMs = 50;
    // Translated (an OpenAI upstream), so the door's own keep-alives may go out while it waits.
    const a = await messages(MODELS.openai, 'hello [[keepalive:50]]');
    assert.equal(a.status, 200);
    assert.equal(a.events.at(-1), 'error', a.text);
    const body = JSON.parse(a.data.at(-1)!) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'timeout_error');
    assert.match(body.error.message, /no content within 300 ms/);
  });

  test('Responses door on a silent Gemini stream: `error`, then `response.failed`', T, async () => {
    stack.gw.app.settings.keepAliveMs = 50;
    const a = await responses(MODELS.google, 'hello [[keepalive]]');
    assert.equal(a.status, 200);
    assert.deepEqual(a.events.slice(-2), ['error', 'response.failed'], a.text);
    const failed = JSON.parse(a.data.at(-1)!) as {
      response: { status: string; error: { code: string; message: string }; error_type: string };
    };
    assert.equal(failed.response.status, 'failed');
    // OpenAI's code list has no timeout (a retryable server_error); OpenRouter's error_type says which.
    assert.equal(failed.response.error.code, 'server_error');
    assert.equal(failed.response.error_type, 'timeout');
    assert.match(failed.response.error.message, /no content within 300 ms/);
  });

  test('Responses door, nothing sent yet: a real 504 in the Responses error shape', T, async () => {
    const a = await responses(MODELS.google, 'hello [[keepalive]]');
    assert.equal(a.status, 504, a.text);
    const body = JSON.parse(a.text) as { error: { code: number; type: string; metadata: { code: string } } };
    assert.deepEqual([body.error.code, body.error.type, body.error.metadata.code], [504, 'server_error', 'timeout']);
  });

  test('before any content the next endpoint takes over, unseen', T, async () => {
    stack.openai.failNext('[[keepalive:50]]');
    const a = await post('/chat/completions', {
      model: 'test/two-endpoints',
      stream: true,
      provider: { order: ['openai', 'backup'] },
      messages: [{ role: 'user', content: 'who answers?' }],
    });
    assert.equal(a.status, 200);
    assert.equal(a.data.at(-1), '[DONE]');
    const text = a.data
      .slice(0, -1)
      .map((d) => (JSON.parse(d) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '')
      .join('');
    assert.match(text, /Backup emulator/);
    assert.ok(!a.text.includes('"error"'), 'no error reached the client');
    const record = await generation(a.generationId!);
    assert.equal(record.provider_name, 'Backup');
  });
});

describe('byte-drip upstream: the idle deadline', () => {
  // Only the idle deadline is short here: the first content (sent whole) is never what is late.
  beforeEach(() => {
    stack.gw.app.settings.routing.timeouts.firstTokenMs = 10_000;
  });
  test(
    'events arriving a byte at a time end the stream after content with the error chunk, charged for what was delivered',
    T,
    async () => {
      const a = await chat(MODELS.openai, 'hello [[bytedrip:40]]');
      const last = assertChatErrorEnding(a, /no complete event for 300 ms/);
      const delivered = a.data
        .slice(0, -2)
        .map((d) => (JSON.parse(d) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '')
        .join('');
      assert.ok(delivered.length > 0, 'the first content reached the client');
      const usage = last.usage as { completion_tokens: number; cost: number };
      assert.ok(usage.completion_tokens > 0);
      assert.ok(usage.cost > 0, 'not waived by zero-completion insurance');
      const record = await generation(a.generationId!);
      assert.equal(record.finish_reason, 'error');
      assert.match(String(record.error), /no complete event for 300 ms/);
      assert.ok(Number(record.tokens_completion) > 0);
      assert.ok(Number(record.total_cost) > 0);
    },
  );

  test('Anthropic door (raw passthrough): `event: error` after the content that arrived', T, async () => {
    const a = await messages(MODELS.anthropic, 'hello [[bytedrip:40]]');
    assert.equal(a.status, 200);
    assert.ok(a.events.includes('content_block_delta'), 'content was relayed');
    assert.equal(a.events.at(-1), 'error', a.text.slice(-400));
    const body = JSON.parse(a.data.at(-1)!) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'timeout_error');
    assert.match(body.error.message, /no complete event for 300 ms/);
  });
});

describe('the total deadline mid-stream', () => {
  test('ends with the error chunk and [DONE], and the record and charge reflect what was delivered', T, async () => {
    Object.assign(stack.gw.app.settings.routing.timeouts, { firstTokenMs: 5_000, idleMs: 5_000, totalMs: 1_500 });
    const before = await keyUsage();
    const a = await chat(MODELS.openai, 'a long answer [[long]] [[drip:40]]');
    const last = assertChatErrorEnding(a, /total time limit/);
    const usage = last.usage as { completion_tokens: number; cost: number };
    assert.ok(usage.completion_tokens > 0, 'what was delivered is counted');
    assert.ok(usage.completion_tokens < 200, 'and only that');
    assert.ok(usage.cost > 0);
    const record = await generation(a.generationId!);
    assert.equal(record.cancelled, false);
    assert.equal(record.finish_reason, 'error');
    assert.match(String(record.error), /total time limit/);
    assert.equal(record.tokens_completion, usage.completion_tokens);
    assert.ok(Number(record.total_cost) > 0);
    assert.ok((await keyUsage()) > before, "the key's usage moved");
  });

  test('Responses door: `error` then `response.failed`', T, async () => {
    Object.assign(stack.gw.app.settings.routing.timeouts, { firstTokenMs: 5_000, idleMs: 5_000, totalMs: 1_500 });
    const a = await responses(MODELS.anthropic, 'a long answer [[long]] [[drip:40]]');
    assert.equal(a.status, 200);
    assert.ok(a.events.includes('response.output_text.delta'), 'content was relayed');
    assert.deepEqual(a.events.slice(-2), ['error', 'response.failed'], a.text.slice(-400));
    assert.match(a.text, /total time limit/);
  });
});

async function keyUsage(): Promise<number> {
  await stack.gw.app.billing.settled();
  const res = await fetch(`${stack.baseURL}/key`, { headers: { authorization: `Bearer ${stack.key}` } });
  return ((await res.json()) as { data: { usage: number } }).data.usage;
}

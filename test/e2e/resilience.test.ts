/**
 * Retries and fallback, driven by emulators that fail on command: the openai SDK sees a complete,
 * successful answer wherever a fallback exists, and the documented error where none does.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import OpenAI from 'openai';
import { CONTINUABLE_CHARS } from '../../src/gateway/relay.ts';
import { MemoryHealth } from '../../src/router/health/memory-health.ts';
import type { Emulator } from '../emulators/common.ts';
import { startOpenAIEmulator } from '../emulators/openai.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

type APIErr = InstanceType<typeof OpenAI.APIError>;

let stack: Stack;
let backup: Emulator;
let client: OpenAI;

const YAML = `
server:
  timeouts: { firstByteMs: 300, idleMs: 300 }
providers:
  backup:
    type: openai-compatible
    name: Backup
    baseUrl: \${BACKUP_BASE_URL}
    apiKey: test-key
    models: [gpt-4o-mini]
models:
  test/resilient:
    endpoints:
      - provider: openai
        model: gpt-4o-mini
        pricing: { prompt: "0.0000001", completion: "0.0000001" }
      - provider: backup
        model: gpt-4o-mini
        pricing: { prompt: "0.0000002", completion: "0.0000002" }
  test/continuable:
    endpoints:
      - provider: openai
        model: gpt-4o-mini
        pricing: { prompt: "0.0000001", completion: "0.0000001" }
      - provider: anthropic
        model: claude-haiku-4-5
        pricing: { prompt: "0.000001", completion: "0.000005" }
  test/sticky:
    endpoints:
      - provider: openai
        model: gpt-4o-mini
        pricing: { prompt: "0.000001", completion: "0.000001", input_cache_read: "0.0000001" }
      - provider: backup
        model: gpt-4o-mini
        pricing: { prompt: "0.000001", completion: "0.000001", input_cache_read: "0.0000001" }
  test/stuck:
    endpoints:
      - provider: openai
        model: gpt-4o-mini
        pricing: { prompt: "0.0000001", completion: "0.0000001" }
      - provider: backup
        model: gpt-4o-mini
        pricing: { prompt: "0.0000002", completion: "0.0000002" }
`;

before(async () => {
  backup = await startOpenAIEmulator({ name: 'Backup emulator' });
  stack = await startStack({ yaml: YAML, env: { BACKUP_BASE_URL: `${backup.url}/v1` } });
  client = new OpenAI({ apiKey: stack.key, baseURL: stack.baseURL, maxRetries: 0 });
});
// Every test fails endpoints on purpose; each starts with a clean health record so one test's
// failures cannot open a circuit in the next (the breaker has its own test).
beforeEach(() => {
  stack.gw.app.health = new MemoryHealth();
});

after(async () => {
  await stack.close();
  await backup.close();
});

const order = { provider: { order: ['openai', 'backup'] } };
const ask = (content: string, extra: object = order) =>
  client.chat.completions.create({
    model: 'test/resilient',
    messages: [{ role: 'user', content }],
    ...extra,
  } as OpenAI.ChatCompletionCreateParamsNonStreaming);
/** The id of the most recent generation of this stack's key. */
async function lastGenerationId(): Promise<string> {
  await stack.gw.app.generations.flush();
  const newest = await stack.gw.app.store.ledger('default', 1);
  return newest[0].id;
}

async function askStream(content: string, model = 'test/resilient', extra: object = order) {
  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content }],
    stream: true,
    ...extra,
  } as OpenAI.ChatCompletionCreateParamsStreaming);
  let text = '';
  let finish: string | null = null;
  let provider = '';
  for await (const c of stream) {
    text += c.choices[0]?.delta.content ?? '';
    finish = c.choices[0]?.finish_reason ?? finish;
    provider = (c as unknown as { provider: string }).provider;
  }
  return { text, finish, provider };
}

describe('fallback before any content', () => {
  for (const [what, fault] of [
    ['503', '[[error:503]]'],
    ['connection reset', '[[reset]]'],
    ['stall before the first byte', '[[slow:1500]]'],
  ] as const) {
    test(`${what} on the first endpoint → the next one answers, non-streaming and streaming`, async () => {
      stack.openai.failNext(fault);
      const res = await ask('hello');
      assert.match(res.choices[0].message.content ?? '', /Backup emulator/);
      assert.equal((res as unknown as { provider: string }).provider, 'Backup');
      stack.openai.failNext(fault);
      const s = await askStream('hello stream');
      assert.match(s.text, /Backup emulator! You said: hello stream/);
      assert.equal(s.finish, 'stop');
    });
  }

  test('a stream that dies before its first content falls back invisibly', async () => {
    stack.openai.failNext('[[die:1]]');
    const s = await askStream('short');
    assert.match(s.text, /^Hello from Backup emulator/);
    assert.equal(s.finish, 'stop');
  });

  test('a malformed chunk is skipped and the stream completes', async () => {
    stack.openai.failNext('[[malformed]]');
    const s = await askStream('tolerant');
    assert.match(s.text, /OpenAI emulator! You said: tolerant/);
  });

  test('429 with a short Retry-After is waited out on the same endpoint', async () => {
    const before = stack.openai.requests.length;
    stack.openai.failNext('[[error:429]]');
    const res = await ask('patience');
    assert.match(res.choices[0].message.content ?? '', /OpenAI emulator/);
    assert.equal(stack.openai.requests.length - before, 2, 'tried twice on the same endpoint');
  });

  test('when every endpoint fails, the most meaningful status comes back with the attempts', async () => {
    stack.openai.failNext('[[error:503]]');
    backup.failNext('[[error:500]]');
    const err = (await ask('doomed').catch((e: APIErr) => e)) as APIErr;
    assert.equal(err.status, 502);
    const meta = (err.error as { metadata: { previous_errors: Array<{ status: number; provider: string }> } }).metadata;
    assert.deepEqual(
      meta.previous_errors.map((a) => a.provider),
      ['openai'],
    );
    // All rate-limited → 429, with Retry-After.
    stack.openai.failNext('[[error:429]]', 2);
    backup.failNext('[[error:429]]', 2);
    const limited = (await ask('busy').catch((e: APIErr) => e)) as APIErr;
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers?.get('retry-after')) >= 1);
  });

  test("allow_fallbacks: false returns the first endpoint's error", async () => {
    stack.openai.failNext('[[error:503]]');
    const err = (await ask('no fallback', { provider: { order: ['openai'], allow_fallbacks: false } }).catch((e: APIErr) => e)) as APIErr;
    assert.equal(err.status, 503);
  });
});

describe('mid-stream failover', () => {
  test('an upstream that dies after content is continued by another endpoint in one uninterrupted stream', async () => {
    stack.openai.failNext('[[die:5]]');
    const s = await askStream('tell me a story [[long]]', 'test/continuable', { provider: { order: ['openai', 'anthropic'] } });
    assert.equal(s.finish, 'stop');
    assert.ok(s.text.startsWith('word0 word1'), "the first endpoint's words come first");
    const cont = stack.anthropic.last().body;
    const lastMsg = cont.messages.at(-1);
    assert.equal(lastMsg.role, 'assistant', 'the partial answer was sent as an assistant prefill');
    assert.ok(s.text.startsWith(lastMsg.content[0].text.trimEnd()));
    assert.ok(s.text.length > lastMsg.content[0].text.length, 'and the second endpoint carried on');
    // The generation record shows both legs and their costs.
    await stack.gw.app.generations.flush();
    const gen = (await stack.gw.app.store.usage({ accountId: 'default', groupBy: ['model'] })).find((g) => g.model === 'test/continuable');
    assert.ok(gen);
    const id = await lastGenerationId();
    const rec = (await stack.gw.app.store.getGeneration(id))!;
    assert.deepEqual(
      rec.legs.map((l) => l.provider),
      ['openai', 'anthropic'],
    );
    assert.ok(rec.legs.every((l) => l.upstreamCostNanos > 0));
    assert.equal(rec.upstreamCostNanos, rec.legs[0].upstreamCostNanos + rec.legs[1].upstreamCostNanos);
    const view = (await (
      await fetch(`${stack.baseURL}/generation?id=${id}`, { headers: { authorization: `Bearer ${stack.key}` } })
    ).json()) as {
      data: { provider_responses: Array<{ provider_name: string }> };
    };
    assert.deepEqual(
      view.data.provider_responses.map((p) => p.provider_name),
      ['openai', 'anthropic'],
    );
  });

  test('with failover turned off, the documented error chunk ends the stream', async () => {
    stack.openai.failNext('[[die:5]]');
    await assert.rejects(
      askStream('tell me a story [[long]]', 'test/continuable', {
        provider: { order: ['openai', 'anthropic'], mid_stream_failover: false },
      }),
    );
  });

  test('an answer past the continuable size is not continued (no copy of it is kept): the error chunk ends it', async () => {
    // 300 deltas of 4 KiB: past CONTINUABLE_CHARS (1 MiB) when the upstream dies.
    stack.openai.failNext('[[die:300]]');
    const before = stack.anthropic.requests.length;
    await assert.rejects(
      askStream(`a huge story [[bytes:${2 * CONTINUABLE_CHARS}]]`, 'test/continuable', { provider: { order: ['openai', 'anthropic'] } }),
    );
    assert.equal(stack.anthropic.requests.length, before, 'no continuation was asked for');
  });

  test('when no endpoint can continue an assistant turn, the stream ends with the error chunk', async () => {
    stack.openai.failNext('[[die:5]]');
    await assert.rejects(askStream('tell me a story [[long]]', 'test/stuck', { provider: { order: ['openai', 'backup'] } }));
  });
});

describe('circuit breaker', () => {
  test('an endpoint that keeps failing is skipped until its cooldown, then probed back', async () => {
    const health = stack.gw.app.health;
    const key = 'openai:gpt-4o-mini';
    // Three consecutive failures open the circuit (the default threshold).
    for (let i = 0; i < 3; i++) health.record(key, { ok: false, status: 503, at: Date.now() });
    assert.equal(health.stats(key).circuit, 'open');
    const before = stack.openai.requests.length;
    const res = await ask('skip the broken one');
    assert.match(res.choices[0].message.content ?? '', /Backup emulator/);
    assert.equal(stack.openai.requests.length, before, 'the open endpoint was not even tried');
    const endpoints = (await (await fetch(`${stack.baseURL}/models/test/resilient/endpoints`)).json()) as {
      data: { endpoints: Array<{ tag: string; status: number }> };
    };
    assert.equal(endpoints.data.endpoints.find((e) => e.tag === 'openai')?.status, -1);
  });
});

describe('timeouts', () => {
  test('the total time limit ends a slow request with a 504', async () => {
    const t = stack.gw.app.settings.routing.timeouts;
    const saved = { ...t };
    t.totalMs = 300;
    t.firstTokenMs = 5_000;
    try {
      backup.failNext('[[slow:1500]]');
      stack.openai.failNext('[[slow:1500]]');
      const err = (await ask('slow everywhere').catch((e: APIErr) => e)) as APIErr;
      assert.equal(err.status, 504);
      assert.match((err.error as { message: string }).message, /total time limit/);
    } finally {
      Object.assign(t, saved);
    }
  });
});

describe('sticky routing', () => {
  test('a conversation goes back to the endpoint that cached it; other conversations spread', async () => {
    const served = async (content: string) => {
      const [a, b] = [stack.openai.requests.length, backup.requests.length];
      await client.chat.completions.create({
        model: 'test/sticky',
        messages: [
          { role: 'system', content: 'same system' },
          { role: 'user', content },
        ],
      });
      return stack.openai.requests.length > a ? 'openai' : backup.requests.length > b ? 'backup' : 'none';
    };
    const first = await served('one conversation');
    for (let i = 0; i < 5; i++) assert.equal(await served('one conversation'), first, 'same endpoint every turn');
    const spread = new Set<string>();
    for (let i = 0; i < 20; i++) spread.add(await served(`conversation ${i}`));
    assert.equal(spread.size, 2, 'different conversations are load-balanced across both');
  });
});

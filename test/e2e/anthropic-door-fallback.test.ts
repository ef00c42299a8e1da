/**
 * The Anthropic door falling back before any byte reached the client: from one Anthropic endpoint
 * to another (both passed through raw) and from Anthropic to a provider that needs translation,
 * streamed and whole, with the generation recorded against the endpoint that served.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { MemoryHealth } from '../../src/router/health/memory-health.ts';
import { startAnthropicEmulator } from '../emulators/anthropic.ts';
import type { Emulator } from '../emulators/common.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

const YAML = `
providers:
  backup-claude:
    type: anthropic
    name: Backup Claude
    baseUrl: \${BACKUP_BASE_URL}
    apiKey: test-key
    models: [claude-sonnet-4-5]
models:
  test/claude:
    endpoints:
      - provider: anthropic
        model: claude-sonnet-4-5
        pricing: { prompt: "0.000003", completion: "0.000015" }
      - provider: backup-claude
        model: claude-sonnet-4-5
        pricing: { prompt: "0.000003", completion: "0.000015" }
      - provider: openai
        model: gpt-4o-mini
        pricing: { prompt: "0.0000001", completion: "0.0000004" }
`;

let stack: Stack;
let backup: Emulator;
let client: Anthropic;
const order = { provider: { order: ['anthropic', 'backup-claude', 'openai'], allow_fallbacks: true } };

before(async () => {
  backup = await startAnthropicEmulator();
  stack = await startStack({ yaml: YAML, env: { BACKUP_BASE_URL: `${backup.url}/v1` } });
  client = new Anthropic({ apiKey: stack.key, baseURL: stack.gw.url, maxRetries: 0 });
});
beforeEach(() => {
  stack.gw.app.health = new MemoryHealth();
});
after(async () => {
  await stack.close();
  await backup.close();
});

async function record(id: string) {
  await stack.gw.app.generations.flush();
  return (await stack.gw.app.store.getGeneration(id))!;
}

const params = (content: string) =>
  ({
    model: 'test/claude',
    max_tokens: 200,
    messages: [{ role: 'user' as const, content }],
    ...order,
  }) as Anthropic.MessageCreateParamsNonStreaming;

test('Anthropic fails → the next Anthropic endpoint gets the same body raw', async () => {
  stack.anthropic.failNext('[[error:503]]');
  const { data, response } = await client.messages.create(params('first try')).withResponse();
  assert.match(data.id, /^msg_/);
  const sent = backup.last().body;
  assert.equal(sent.model, 'claude-sonnet-4-5');
  assert.equal(sent.provider, undefined, 'Freeway routing fields are not forwarded');
  assert.deepEqual(sent.messages, [{ role: 'user', content: 'first try' }]);
  const g = await record(response.headers.get('x-generation-id')!);
  assert.equal(g.providerId, 'backup-claude');
});

for (const streamed of [false, true]) {
  test(`both Anthropic endpoints fail → OpenAI serves, translated and rendered as Anthropic (${streamed ? 'streamed' : 'whole'})`, async () => {
    stack.anthropic.failNext('[[error:503]]');
    backup.failNext('[[error:500]]');
    const p = params('fall through');
    const m = streamed ? await client.messages.stream(p).finalMessage() : await client.messages.create(p);
    assert.match((m.content[0] as Anthropic.TextBlock).text, /Hello from OpenAI emulator! You said: fall through/);
    assert.equal(m.model, 'test/claude');
    assert.match(m.id, /^gen-/);
    const g = await record(m.id);
    assert.equal(g.providerId, 'openai');
    assert.equal(g.tokensCompletion, m.usage.output_tokens);
  });
}

test('an Anthropic stream that dies after bytes went out, mid-stream failover off, ends with an error the generation records', async () => {
  const res = await fetch(`${stack.gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': stack.key, 'content-type': 'application/json' },
    body: JSON.stringify({ ...params('[[long]] [[die:5]]'), stream: true, provider: { ...order.provider, mid_stream_failover: false } }),
  });
  const text = await res.text();
  assert.match(text, /^event: message_start/);
  assert.match(text, /event: error\ndata: \{"type":"error","error":\{"type":"api_error"/);
  const g = await record(res.headers.get('x-generation-id')!);
  assert.equal(g.providerId, 'anthropic');
  assert.ok(g.error);
  assert.equal(g.costNanos, 0, 'zero-completion insurance');
});

test('an in-band overloaded error from Anthropic that no endpoint carries on is relayed as it came, once', async () => {
  const res = await fetch(`${stack.gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': stack.key, 'content-type': 'application/json' },
    body: JSON.stringify({ ...params('[[overloaded]] hello'), stream: true, provider: { ...order.provider, mid_stream_failover: false } }),
  });
  const text = await res.text();
  assert.equal(text.match(/event: error/g)?.length, 1);
  const own = /event: error\ndata: \{"type":"error","error":\{"type":"overloaded_error","message":"Overloaded"\}\}/;
  assert.match(text, own, "the upstream's own event");
});

test('an Anthropic upstream that only pings is replaced before any byte reached the client (first-token deadline)', async () => {
  const t = stack.gw.app.settings.routing.timeouts;
  const saved = { ...t };
  t.firstTokenMs = 300;
  try {
    stack.anthropic.failNext('[[keepalive:50]]');
    const res = await fetch(`${stack.gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': stack.key, 'content-type': 'application/json' },
      body: JSON.stringify({ ...params('who answers?'), stream: true }),
    });
    const text = await res.text();
    assert.equal(res.status, 200);
    // One message, from the backup, passed through raw: the first upstream's message_start and pings never went out.
    assert.equal(text.match(/event: message_start/g)?.length, 1, text);
    assert.ok(!text.includes('event: error'), text);
    assert.match(text, /event: message_stop/);
    const g = await record(res.headers.get('x-generation-id')!);
    assert.equal(g.providerId, 'backup-claude');
  } finally {
    Object.assign(t, saved);
  }
});

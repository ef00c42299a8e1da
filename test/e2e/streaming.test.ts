/**
 * Streaming behaviour a client can rely on: keep-alive comments while the upstream is silent,
 * an in-band error chunk when the upstream dies mid-stream, the upstream aborted when the client
 * disconnects, and config-declared models with several endpoints falling back before content.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { streamStats } from '../emulators/common.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;
let client: OpenAI;

const YAML = `
providers:
  local:
    type: openai-compatible
    name: Local Llama
    baseUrl: \${OPENAI_BASE_URL}
    apiKey: \${OPENAI_API_KEY}
    models: [llama3.2]
  openai:
    models: [does-not-exist]
models:
  # A provider with a key is paid: its models need a price (or free: true) to be served.
  local/llama3.2:
    pricing: { prompt: "0.0000001", completion: "0.0000001" }
  meta-llama/llama-3.3-70b-instruct:
    name: "Meta: Llama 3.3 70B Instruct"
    endpoints:
      - provider: openai
        model: does-not-exist
        pricing: { prompt: "0.0000001", completion: "0.0000001" }
      - provider: local
        model: llama3.3
        pricing: { prompt: "0.00000088", completion: "0.00000088" }
`;

before(async () => {
  stack = await startStack({ yaml: YAML, keepAliveMs: 40 });
  client = new OpenAI({ apiKey: stack.key, baseURL: stack.baseURL, maxRetries: 0 });
});
after(() => stack.close());

async function rawStream(body: object): Promise<string> {
  const res = await fetch(`${stack.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  assert.match(res.headers.get('x-generation-id') ?? '', /^gen-/);
  return res.text();
}

test('keep-alive comments while the upstream is silent, then data and [DONE]', async () => {
  const text = await rawStream({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: '[[slow:250]] hi' }] });
  assert.match(text, /^: FREEWAY PROCESSING\n\n/);
  assert.match(text, /data: \[DONE\]\n\n$/);
  const frames = text.split('\n\n').filter((f) => f.startsWith('data: {'));
  const last = JSON.parse(frames.at(-1)!.slice(6));
  assert.equal(last.choices[0].finish_reason, 'stop');
  assert.ok(last.usage.cost > 0);
});

test('an upstream that dies mid-stream ends with an error chunk and finish_reason "error"', async () => {
  const text = await rawStream({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hello there friend [[die:4]]' }] });
  const chunks = text
    .split('\n\n')
    .filter((f) => f.startsWith('data: {'))
    .map((f) => JSON.parse(f.slice(6)));
  const last = chunks.at(-1);
  assert.equal(last.choices[0].finish_reason, 'error');
  assert.equal(last.error.code, 502);
  assert.match(last.error.message, /OpenAI/);
  assert.ok(
    chunks.some((c) => c.choices[0]?.delta?.content),
    'content streamed before the failure',
  );
  assert.match(text, /data: \[DONE\]\n\n$/);
  // The openai SDK surfaces the in-band error as an exception.
  const stream = await client.chat.completions.create({
    model: 'openai/gpt-4o-mini',
    messages: [{ role: 'user', content: 'hello there [[die:4]]' }],
    stream: true,
  });
  await assert.rejects(async () => {
    for await (const _ of stream);
  });
});

test('a malformed upstream chunk is skipped, the stream completes', async () => {
  const stream = await client.chat.completions.create({
    model: 'openai/gpt-4o-mini',
    messages: [{ role: 'user', content: 'ok [[malformed]]' }],
    stream: true,
  });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  assert.match(text, /You said: ok/);
});

test('a client that disconnects aborts the upstream request and the generation is recorded as cancelled', async () => {
  const before = streamStats.clientAborts;
  const controller = new AbortController();
  const res = await fetch(`${stack.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: '[[long]] [[drip:20]]' }] }),
    signal: controller.signal,
  });
  const id = res.headers.get('x-generation-id')!;
  const reader = res.body!.getReader();
  await reader.read();
  controller.abort();
  const deadline = Date.now() + 3000;
  while (streamStats.clientAborts === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(streamStats.clientAborts, before + 1, 'the upstream saw its client go away');
  let gen;
  while (!(gen = await stack.gw.app.generations.get(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(gen);
  assert.equal(gen.cancelled, true);
});

test('a config-declared model falls back to its next endpoint before content, and is priced exactly', async () => {
  // Sorted by price, so the cheaper endpoint (which fails) is deterministically tried first; load
  // balancing would pick it only most of the time.
  const body = {
    model: 'meta-llama/llama-3.3-70b-instruct',
    messages: [{ role: 'user' as const, content: 'hi' }],
    provider: { sort: 'price' },
  };
  const res = await client.chat.completions.create(body as Parameters<typeof client.chat.completions.create>[0] & { stream?: false });
  const extra = res as unknown as { provider: string; usage: { cost: number; prompt_tokens: number; completion_tokens: number } };
  assert.equal(res.model, 'meta-llama/llama-3.3-70b-instruct');
  assert.equal(extra.provider, 'Local Llama');
  assert.equal(stack.openai.requests.at(-2)?.body.model, 'does-not-exist');
  assert.equal(stack.openai.last().body.model, 'llama3.3');
  const tokens = extra.usage.prompt_tokens + extra.usage.completion_tokens;
  // 0.00000088 USD per token = 880 nano-dollars: exact, no float drift.
  assert.equal(Math.round(extra.usage.cost * 1e9), tokens * 880);
});

test('a custom provider declared in config serves its models', async () => {
  const res = await client.chat.completions.create({ model: 'local/llama3.2', messages: [{ role: 'user', content: 'yo' }] });
  assert.match(res.choices[0].message.content ?? '', /yo/);
  assert.equal(stack.openai.last().headers.authorization, `Bearer ${stack.openai.apiKey}`);
});

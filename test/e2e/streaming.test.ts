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

type Chunk = Record<string, unknown> & { choices: Array<Record<string, unknown>>; usage?: Record<string, unknown> };

function chunksOf(text: string): Chunk[] {
  return text
    .split('\n\n')
    .filter((f) => f.startsWith('data: {'))
    .map((f) => JSON.parse(f.slice(6)) as Chunk);
}

async function generationOf(id: string): Promise<Record<string, unknown>> {
  const r = await fetch(`${stack.baseURL}/generation?id=${id}`, { headers: { authorization: `Bearer ${stack.key}` } });
  assert.equal(r.status, 200);
  return ((await r.json()) as { data: Record<string, unknown> }).data;
}

test("with stream_options.include_usage the stream ends as OpenAI's: the finish chunk, then usage on a chunk with choices []", async () => {
  const text = await rawStream({
    model: 'openai/gpt-4o-mini',
    messages: [{ role: 'user', content: 'count my usage' }],
    stream_options: { include_usage: true, include_obfuscation: false },
  });
  assert.match(text, /data: \[DONE\]\n\n$/);
  const chunks = chunksOf(text);
  const withUsage = chunks.filter((c) => c.usage !== undefined);
  assert.equal(withUsage.length, 1, 'usage is sent once');
  const [finish, last] = chunks.slice(-2);
  assert.equal(finish.choices[0].finish_reason, 'stop');
  assert.equal(finish.usage, undefined, 'the finish chunk carries no usage');
  assert.deepEqual(last.choices, []);
  assert.equal(last.object, 'chat.completion.chunk');
  assert.equal(last.id, finish.id);
  assert.equal(last.provider, 'OpenAI');
  const usage = last.usage as { prompt_tokens: number; completion_tokens: number; cost: number; cost_details: Record<string, unknown> };
  assert.ok(usage.completion_tokens > 0);
  assert.ok(usage.cost > 0);
  assert.equal(typeof usage.cost_details.upstream_inference_cost, 'number');
  // What the client is told is what it was charged.
  const gen = await generationOf(String(last.id));
  assert.equal(gen.total_cost, usage.cost);
  assert.equal(gen.tokens_prompt, usage.prompt_tokens);
  assert.equal(gen.tokens_completion, usage.completion_tokens);
});

test('without include_usage (OpenRouter clients, which always get usage) the finish reason and usage share the last chunk', async () => {
  for (const stream_options of [undefined, { include_usage: false }]) {
    const text = await rawStream({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream_options });
    const chunks = chunksOf(text);
    assert.ok(
      chunks.every((c) => c.choices.length === 1),
      'never choices: []',
    );
    assert.equal(chunks.filter((c) => c.usage !== undefined).length, 1, 'usage is sent once');
    const last = chunks.at(-1)!;
    assert.equal(last.choices[0].finish_reason, 'stop');
    assert.ok((last.usage?.cost as number) > 0);
  }
});

test('the openai SDK asking for include_usage gets the usage chunk, and its accumulated completion counts usage once', async () => {
  const seen: OpenAI.ChatCompletionChunk[] = [];
  const stream = client.chat.completions.stream({
    model: 'openai/gpt-4o-mini',
    messages: [{ role: 'user', content: 'accumulate me' }],
    stream_options: { include_usage: true },
  });
  stream.on('chunk', (c) => seen.push(c));
  const done = await stream.finalChatCompletion();
  const usageChunks = seen.filter((c) => c.usage);
  assert.equal(usageChunks.length, 1);
  assert.deepEqual(usageChunks[0].choices, []);
  assert.equal(done.choices[0].finish_reason, 'stop');
  assert.match(done.choices[0].message.content ?? '', /You said: accumulate me/);
  assert.deepEqual(done.usage, usageChunks[0].usage);
  const gen = await generationOf(done.id);
  assert.equal(gen.total_cost, (done.usage as unknown as { cost: number }).cost);
});

test('an in-band error with include_usage keeps its usage on the error chunk, where clients stop reading', async () => {
  const text = await rawStream({
    model: 'openai/gpt-4o-mini',
    messages: [{ role: 'user', content: 'hello there friend [[die:4]]' }],
    stream_options: { include_usage: true },
  });
  assert.match(text, /data: \[DONE\]\n\n$/);
  const chunks = chunksOf(text);
  const failed = chunks.at(-1)!;
  assert.equal(failed.choices[0].finish_reason, 'error');
  assert.equal((failed.error as { code: number }).code, 502);
  assert.equal(typeof failed.usage?.cost, 'number');
  assert.ok(!chunks.some((c) => c.choices.length === 0), 'no usage chunk after the error');
});

test('legacy /completions streams end the same way, with and without include_usage', async () => {
  const legacy = async (extra: object): Promise<Chunk[]> => {
    const res = await fetch(`${stack.baseURL}/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-3.5-turbo-instruct', prompt: 'Once upon', max_tokens: 20, stream: true, ...extra }),
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.match(text, /data: \[DONE\]\n\n$/);
    return chunksOf(text);
  };
  const apart = await legacy({ stream_options: { include_usage: true } });
  const [finish, last] = apart.slice(-2);
  assert.equal(finish.object, 'text_completion');
  assert.ok(finish.choices[0].finish_reason);
  assert.equal(finish.usage, undefined);
  assert.deepEqual(last.choices, []);
  assert.ok((last.usage?.cost as number) > 0);
  assert.equal((await generationOf(String(last.id))).total_cost, last.usage?.cost);
  const together = await legacy({});
  assert.ok(together.every((c) => c.choices.length === 1));
  assert.ok(together.at(-1)!.choices[0].finish_reason);
  assert.ok((together.at(-1)!.usage?.cost as number) > 0);
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

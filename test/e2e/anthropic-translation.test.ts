/**
 * What reaches Anthropic when an OpenAI client talks to Freeway: system lifted out, max_tokens set,
 * tool results as tool_result blocks, cache_control kept, thinking signatures replayed intact.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { MODELS, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;
let client: OpenAI;
const model = MODELS.anthropic;

before(async () => {
  stack = await startStack();
  client = new OpenAI({ apiKey: stack.key, baseURL: stack.baseURL, maxRetries: 0 });
});
after(() => stack.close());

const tool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: { name: 'lookup', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

test('system is lifted out and max_tokens is always set', async () => {
  await client.chat.completions.create({
    model,
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'hello' },
    ],
  });
  const body = stack.anthropic.last().body;
  assert.deepEqual(body.system, [{ type: 'text', text: 'You are terse.' }]);
  assert.ok(body.messages.every((m: { role: string }) => m.role !== 'system'));
  assert.equal(typeof body.max_tokens, 'number');
  assert.ok(body.max_tokens > 0);
  assert.equal(body.model, 'claude-sonnet-4-5');
});

test('tool results arrive as tool_result blocks with the matching tool_use id', async () => {
  const first = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'where?' }], tools: [tool] });
  const call = first.choices[0].message.tool_calls![0];
  assert.match(call.id, /^toolu_/);
  await client.chat.completions.create({
    model,
    tools: [tool],
    messages: [{ role: 'user', content: 'where?' }, first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: 'sunny' }],
  });
  const body = stack.anthropic.last().body;
  const last = body.messages.at(-1);
  assert.equal(last.role, 'user');
  assert.equal(last.content[0].type, 'tool_result');
  assert.equal(last.content[0].tool_use_id, call.id);
  const assistant = body.messages.at(-2);
  assert.equal(assistant.content.at(-1).type, 'tool_use');
  assert.equal(assistant.content.at(-1).id, call.id);
});

test('cache_control on content parts and on a message reaches Anthropic intact, and cache use is billed', async () => {
  const long = 'The quick brown fox jumps over the lazy dog. '.repeat(200);
  const messages = [
    { role: 'system', content: [{ type: 'text', text: long, cache_control: { type: 'ephemeral', ttl: '1h' } }] },
    { role: 'user', content: 'first question', cache_control: { type: 'ephemeral' } },
  ] as unknown as OpenAI.ChatCompletionMessageParam[];
  const write = await client.chat.completions.create({ model, messages });
  const body = stack.anthropic.last().body;
  assert.deepEqual(body.system[0].cache_control, { type: 'ephemeral', ttl: '1h' });
  assert.deepEqual(body.messages[0].content.at(-1).cache_control, { type: 'ephemeral' });
  const wu = write.usage as unknown as { prompt_tokens_details: { cache_write_tokens: number; cached_tokens: number }; cost: number };
  assert.ok(wu.prompt_tokens_details.cache_write_tokens > 0, 'first call writes the cache');
  const read = await client.chat.completions.create({ model, messages });
  const ru = read.usage as unknown as { prompt_tokens_details: { cache_write_tokens: number; cached_tokens: number }; cost: number };
  assert.ok(ru.prompt_tokens_details.cached_tokens > 0, 'second call reads the cache');
  assert.ok(ru.cost < wu.cost, 'a cache read costs less than a cache write');
});

test('reasoning: thinking comes back with its signature and is accepted when replayed on the next turn', async () => {
  const first = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'think then call [[redacted]]' }],
    tools: [tool],
    max_tokens: 4000,
    reasoning: { max_tokens: 2000 },
  } as OpenAI.ChatCompletionCreateParamsNonStreaming);
  const sent = stack.anthropic.last().body;
  assert.deepEqual(sent.thinking, { type: 'enabled', budget_tokens: 2000 });
  const msg = first.choices[0].message as OpenAI.ChatCompletionMessage & {
    reasoning: string;
    reasoning_details: Array<{ type: string; signature?: string; data?: string }>;
  };
  assert.match(msg.reasoning, /Thinking about/);
  const thinking = msg.reasoning_details.find((d) => d.type === 'reasoning.text');
  assert.ok(thinking?.signature, 'signature returned');
  assert.ok(
    msg.reasoning_details.some((d) => d.type === 'reasoning.encrypted' && d.data),
    'redacted thinking returned',
  );
  const call = msg.tool_calls![0];
  const second = await client.chat.completions.create({
    model,
    tools: [tool],
    max_tokens: 4000,
    reasoning: { max_tokens: 2000 },
    messages: [{ role: 'user', content: 'think then call [[redacted]]' }, msg, { role: 'tool', tool_call_id: call.id, content: '42' }],
  } as OpenAI.ChatCompletionCreateParamsNonStreaming);
  assert.match(second.choices[0].message.content ?? '', /Tool result received/);
  const replayed = stack.anthropic.last().body.messages[1].content;
  assert.equal(replayed[0].type, 'thinking');
  assert.equal(replayed[0].signature, thinking.signature);
  assert.equal(replayed[1].type, 'redacted_thinking');
});

test('streamed reasoning carries the signature in reasoning_details', async () => {
  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'ponder' }],
    max_tokens: 4000,
    reasoning: { effort: 'low' },
    stream: true,
  } as OpenAI.ChatCompletionCreateParamsStreaming);
  let reasoning = '';
  let signature = '';
  for await (const chunk of stream) {
    const d = chunk.choices[0]?.delta as { reasoning?: string; reasoning_details?: Array<{ signature?: string }> } | undefined;
    reasoning += d?.reasoning ?? '';
    for (const det of d?.reasoning_details ?? []) signature += det.signature ?? '';
  }
  assert.match(reasoning, /Thinking about: ponder/);
  assert.ok(signature.length > 10);
});

test('reasoning.exclude hides reasoning from the client but still thinks', async () => {
  const res = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'secret thoughts' }],
    max_tokens: 4000,
    reasoning: { max_tokens: 1500, exclude: true },
  } as OpenAI.ChatCompletionCreateParamsNonStreaming);
  assert.ok(stack.anthropic.last().body.thinking, 'thinking was requested upstream');
  const m = res.choices[0].message as unknown as Record<string, unknown>;
  assert.equal(m.reasoning, null);
  assert.equal(m.reasoning_details, undefined);
});

test("a replayed reasoning.text whose text is null (OpenRouter's shape) is taken as empty thinking, not refused", async () => {
  const r = await fetch(`${stack.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model,
      max_tokens: 100,
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: 'hello',
          reasoning_details: [{ type: 'reasoning.text', text: null, signature: null, format: 'unknown', index: 0 }],
        },
        { role: 'user', content: 'again [[say:fine]]' },
      ],
    }),
  });
  assert.equal(r.status, 200, await r.clone().text());
  assert.equal(((await r.json()) as { choices: Array<{ message: { content: string } }> }).choices[0].message.content, 'fine');
  // A text that is not a string or null is still refused, naming the field.
  const bad = await fetch(`${stack.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello', reasoning_details: [{ type: 'reasoning.text', text: 42 }] },
        { role: 'user', content: 'again' },
      ],
    }),
  });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: { message: string } }).error.message, /reasoning_details\[0\]\.text/);
});

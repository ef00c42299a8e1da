/**
 * The same-format path: a chat-completions client and an OpenAI-compatible upstream. The
 * upstream's answer — its chunks, or its whole body — reaches the client as it was sent (fields
 * Freeway does not model included), with Freeway's id, model, provider, finish reason and usage
 * put on it; an answer that needs normalising (DeepSeek's `reasoning_content`) is rendered in
 * OpenRouter's shape instead.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { FINGERPRINT } from '../emulators/openai-shared.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;

// DeepSeek's preset (reasoning under `reasoning_content`), served by the OpenAI emulator.
const YAML = `
providers:
  deepseek:
    apiKey: \${OPENAI_API_KEY}
    baseUrl: \${OPENAI_BASE_URL}
    # The emulator lists OpenAI's models, not DeepSeek's: the price data says what DeepSeek serves.
    discoverModels: false
`;

before(async () => {
  stack = await startStack({ yaml: YAML });
});
after(() => stack.close());

type Chunk = Record<string, unknown> & {
  choices: Array<{ delta: Record<string, unknown>; finish_reason: string | null; native_finish_reason?: string | null }>;
};

async function chunksOf(body: object): Promise<{ id: string; chunks: Chunk[] }> {
  const res = await fetch(`${stack.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.match(text, /data: \[DONE\]\n\n$/);
  const chunks = text
    .split('\n\n')
    .filter((f) => f.startsWith('data: {'))
    .map((f) => JSON.parse(f.slice(6)) as Chunk);
  return { id: res.headers.get('x-generation-id') ?? '', chunks };
}

test("an OpenAI upstream's chunks arrive as sent, with Freeway's id, model and provider", async () => {
  const { id, chunks } = await chunksOf({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: '[[long]] tell me' }] });
  assert.match(id, /^gen-/);
  assert.ok(chunks.length > 3);
  for (const c of chunks) {
    assert.equal(c.id, id);
    assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(c.model, 'openai/gpt-4o-mini');
    assert.equal(c.provider, 'OpenAI');
  }
  const content = chunks.slice(0, -1);
  // Fields Freeway does not model pass through untouched.
  for (const c of content) {
    assert.equal(c.system_fingerprint, FINGERPRINT);
    assert.equal(typeof c.service_tier, 'string');
    assert.equal(c.choices[0].finish_reason, null);
    assert.equal(c.usage, undefined);
  }
  assert.equal(content[0].choices[0].delta.role, 'assistant');
  assert.ok(
    content.slice(1).every((c) => c.choices[0].delta.role === undefined),
    'the role is sent once',
  );
  const last = chunks[chunks.length - 1];
  assert.equal(last.choices[0].finish_reason, 'stop');
  assert.equal(last.choices[0].native_finish_reason, 'stop');
  const usage = last.usage as { completion_tokens: number; cost: number };
  assert.ok(usage.completion_tokens > 100);
  assert.ok(usage.cost > 0);

  // The same words as the whole (non-streamed) answer.
  const client = new OpenAI({ apiKey: stack.key, baseURL: stack.baseURL, maxRetries: 0 });
  const whole = await client.chat.completions.create({
    model: 'openai/gpt-4o-mini',
    messages: [{ role: 'user', content: '[[long]] tell me' }],
  });
  assert.equal(content.map((c) => c.choices[0].delta.content ?? '').join(''), whole.choices[0].message.content);
});

test('tool-call fragments pass through and the answer ends with finish_reason tool_calls', async () => {
  const { chunks } = await chunksOf({
    model: 'openai/gpt-4o-mini',
    messages: [{ role: 'user', content: '[[parallel]] weather in Paris?' }],
    tools: [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ],
  });
  const calls = new Map<number, { id?: string; name?: string; args: string }>();
  for (const c of chunks) {
    for (const tc of (c.choices[0].delta.tool_calls ?? []) as Array<{
      index: number;
      id?: string;
      function?: { name?: string; arguments?: string };
    }>) {
      const call = calls.get(tc.index) ?? { args: '' };
      call.id ??= tc.id;
      call.name ??= tc.function?.name;
      call.args += tc.function?.arguments ?? '';
      calls.set(tc.index, call);
    }
  }
  assert.equal(calls.size, 2);
  for (const call of calls.values()) {
    assert.match(call.id ?? '', /^call_/);
    assert.equal(call.name, 'get_weather');
    assert.equal(typeof JSON.parse(call.args), 'object');
  }
  assert.equal(chunks[chunks.length - 1].choices[0].finish_reason, 'tool_calls');
});

test("chunks that need normalising are rendered in OpenRouter's shape: DeepSeek's reasoning_content", async () => {
  const { chunks } = await chunksOf({ model: 'deepseek/deepseek-reasoner', messages: [{ role: 'user', content: 'why is the sky blue?' }] });
  const reasoning = chunks.filter((c) => typeof c.choices[0]?.delta.reasoning === 'string');
  assert.ok(reasoning.length > 0);
  for (const c of chunks) assert.equal(c.choices[0]?.delta.reasoning_content, undefined);
  for (const c of reasoning) assert.equal((c.choices[0].delta.reasoning_details as unknown[]).length, 1);
  assert.match(reasoning.map((c) => c.choices[0].delta.reasoning).join(''), /^Thinking about: why is the sky blue\?/);
  assert.ok(chunks.some((c) => typeof c.choices[0]?.delta.content === 'string' && c.choices[0].delta.content !== ''));
});

test('reasoning.exclude leaves reasoning out of passed-through streams', async () => {
  const { chunks } = await chunksOf({
    model: 'deepseek/deepseek-reasoner',
    messages: [{ role: 'user', content: 'why is the sky blue?' }],
    reasoning: { exclude: true },
  });
  for (const c of chunks) {
    assert.equal(c.choices[0]?.delta.reasoning, undefined);
    assert.equal(c.choices[0]?.delta.reasoning_content, undefined);
  }
  const usage = chunks[chunks.length - 1].usage as { completion_tokens_details: { reasoning_tokens: number } };
  assert.ok(usage.completion_tokens_details.reasoning_tokens > 0, 'the model still reasoned, and it is billed');
});

test('an in-band error after some chunks: the chunks before it still reach the client, then the error chunk', async () => {
  const { chunks } = await chunksOf({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: '[[fail:4]] [[long]] go' }] });
  const last = chunks[chunks.length - 1];
  assert.equal(last.choices[0].finish_reason, 'error');
  assert.match(String((last.error as { message?: string }).message), /OpenAI: The server had an error/);
  const text = chunks
    .slice(0, -1)
    .map((c) => c.choices[0].delta.content ?? '')
    .join('');
  assert.ok(text.length > 0, 'what came before the error was sent');
});

test('an upstream that dies mid-stream still ends with an error chunk on the passthrough path', async () => {
  const { chunks } = await chunksOf({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: '[[die:3]] [[long]] go' }] });
  const last = chunks[chunks.length - 1];
  assert.equal(last.choices[0].finish_reason, 'error');
  assert.match(String((last.error as { message?: string }).message), /OpenAI/);
  assert.ok(chunks.length >= 2);
});

async function whole(body: object): Promise<{ id: string; json: Record<string, any> }> {
  const res = await fetch(`${stack.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  // any: the body is asserted on field by field
  return { id: res.headers.get('x-generation-id') ?? '', json: (await res.json()) as Record<string, any> };
}

test("a whole answer from an OpenAI upstream is its own body, with Freeway's id, model, provider and usage", async () => {
  const { id, json } = await whole({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] });
  assert.match(id, /^gen-/);
  assert.equal(json.id, id);
  assert.equal(json.object, 'chat.completion');
  assert.equal(json.model, 'openai/gpt-4o-mini');
  assert.equal(json.provider, 'OpenAI');
  assert.equal(json.system_fingerprint, FINGERPRINT);
  assert.equal(typeof json.service_tier, 'string');
  assert.equal(json.choices.length, 1);
  assert.equal(json.choices[0].finish_reason, 'stop');
  assert.equal(json.choices[0].native_finish_reason, 'stop');
  assert.equal(json.choices[0].message.role, 'assistant');
  assert.ok(json.choices[0].message.content.length > 0);
  assert.ok(json.usage.cost > 0);
  assert.ok(json.usage.cost_details, 'usage is rendered by Freeway, with the cost');
});

test("a whole answer that needs normalising is rendered in OpenRouter's shape: DeepSeek's reasoning_content", async () => {
  const { json } = await whole({ model: 'deepseek/deepseek-reasoner', messages: [{ role: 'user', content: 'why is the sky blue?' }] });
  const message = json.choices[0].message;
  assert.equal(message.reasoning_content, undefined);
  assert.match(message.reasoning, /^Thinking about: why is the sky blue\?/);
  assert.equal(message.reasoning_details[0].type, 'reasoning.text');
  assert.equal(json.system_fingerprint, null);
});

test('tool calls in a whole answer pass through with finish_reason tool_calls', async () => {
  const { json } = await whole({
    model: 'openai/gpt-4o-mini',
    messages: [{ role: 'user', content: '[[parallel]] weather in Paris?' }],
    tools: [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ],
  });
  assert.equal(json.system_fingerprint, FINGERPRINT, 'passed through');
  assert.equal(json.choices[0].finish_reason, 'tool_calls');
  const calls = json.choices[0].message.tool_calls as Array<{ id: string; function: { name: string; arguments: string } }>;
  assert.equal(calls.length, 2);
  for (const c of calls) {
    assert.match(c.id, /^call_/);
    assert.equal(c.function.name, 'get_weather');
    assert.equal(typeof JSON.parse(c.function.arguments), 'object');
  }
});

/**
 * The Responses door across turns: reasoning artefacts (Anthropic thinking and redacted thinking
 * with signatures, Gemini 3 thought signatures) sent back as reasoning items are accepted by the
 * upstream, whole and streamed; `store: true` + `previous_response_id` continues a conversation
 * for the same key only; bad input and failures answer in the Responses error shape.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { verify } from '../emulators/common.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;
let client: OpenAI;
let otherKey: string;
let other: OpenAI;

before(async () => {
  stack = await startStack();
  client = new OpenAI({ apiKey: stack.key, baseURL: stack.baseURL, maxRetries: 0 });
  otherKey = await stack.newKey('other');
  other = new OpenAI({ apiKey: otherKey, baseURL: stack.baseURL, maxRetries: 0 });
});
after(() => stack.close());

const tool: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'lookup',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

const asInput = (items: readonly unknown[]) => items as OpenAI.Responses.ResponseInputItem[];

function callOf(r: { output: OpenAI.Responses.ResponseOutputItem[] }): OpenAI.Responses.ResponseFunctionToolCall {
  const call = r.output.find((o) => o.type === 'function_call');
  assert.ok(call && call.type === 'function_call', 'a function call');
  return call;
}

type WireBlock = { type: string; thinking?: string; signature?: string; data?: string };

describe('Anthropic thinking survives a tool loop through reasoning items', () => {
  const model = 'anthropic/claude-sonnet-4-5';
  const ask = 'think then call [[redacted]]';
  const params = { model, tools: [tool], reasoning: { effort: 'low' as const }, max_output_tokens: 4000 };

  for (const streamed of [false, true]) {
    test(streamed ? 'streamed' : 'whole', async () => {
      const first = streamed
        ? await client.responses.stream({ ...params, input: ask }).finalResponse()
        : await client.responses.create({ ...params, input: ask });
      assert.ok(stack.anthropic.last().body.thinking, 'thinking requested upstream');
      const reasoning = first.output.find((o) => o.type === 'reasoning');
      assert.ok(reasoning && reasoning.type === 'reasoning');
      assert.match(reasoning.summary[0]?.text ?? '', /Thinking about/);
      assert.ok(reasoning.encrypted_content);
      const call = callOf(first);
      const input = asInput([
        { role: 'user', content: ask },
        ...first.output,
        { type: 'function_call_output', call_id: call.call_id, output: '42' },
      ]);
      const second = streamed
        ? await client.responses.stream({ ...params, input }).finalResponse()
        : await client.responses.create({ ...params, input });
      assert.match(second.output_text, /Tool result received/);
      const replayed: WireBlock[] = stack.anthropic.last().body.messages[1].content;
      assert.equal(replayed[0].type, 'thinking');
      assert.ok(verify(replayed[0].thinking!, replayed[0].signature), 'the signature came back byte for byte');
      assert.equal(replayed[1].type, 'redacted_thinking');
      assert.equal(replayed.at(-1)!.type, 'tool_use');
    });
  }

  test('a reasoning item whose encrypted_content was tampered with is refused, in the Responses shape', async () => {
    const first = await client.responses.create({ ...params, input: ask });
    const items = first.output.map((o) => (o.type === 'reasoning' ? { ...o, encrypted_content: `${o.encrypted_content}!!` } : o));
    const call = callOf(first);
    await assert.rejects(
      client.responses.create({
        ...params,
        input: asInput([{ role: 'user', content: ask }, ...items, { type: 'function_call_output', call_id: call.call_id, output: '1' }]),
      }),
      (err: InstanceType<typeof OpenAI.APIError>) => {
        assert.equal(err.status, 400);
        assert.equal(err.type, 'invalid_request_error');
        assert.match(err.param ?? '', /^input\[1\]\.encrypted_content$/);
        return true;
      },
    );
  });
});

describe('Gemini 3 thought signatures survive a tool loop', () => {
  const model = 'google/gemini-3-pro-preview';
  for (const streamed of [false, true]) {
    test(streamed ? 'streamed' : 'whole', async () => {
      const params = { model, tools: [tool], reasoning: { effort: 'low' as const } };
      const first = streamed
        ? await client.responses.stream({ ...params, input: 'weather in Paris?' }).finalResponse()
        : await client.responses.create({ ...params, input: 'weather in Paris?' });
      const call = callOf(first);
      assert.ok(
        first.output.some((o) => o.type === 'reasoning' && o.encrypted_content),
        'the signature travels in a reasoning item',
      );
      const input = asInput([
        { role: 'user', content: 'weather in Paris?' },
        ...first.output,
        { type: 'function_call_output', call_id: call.call_id, output: 'sunny' },
      ]);
      const second = streamed
        ? await client.responses.stream({ ...params, input }).finalResponse()
        : await client.responses.create({ ...params, input });
      assert.match(second.output_text, /Tool result received/);
      const part = stack.gemini.last().body.contents[1].parts.find((p: { functionCall?: unknown }) => p.functionCall);
      assert.ok(part.thoughtSignature, 'replayed with its thought signature');
    });
  }
});

describe('store and previous_response_id', () => {
  const model = 'anthropic/claude-sonnet-4-5';

  test('a stored response continues for the same key (reasoning included); another key gets 404', async () => {
    const first = await client.responses.create({
      model,
      instructions: 'Be exact.',
      input: 'think then call',
      tools: [tool],
      reasoning: { effort: 'low' },
      max_output_tokens: 4000,
      store: true,
    });
    assert.equal((first as unknown as { store: boolean }).store, true);
    const call = callOf(first);
    const second = await client.responses.create({
      model,
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '42' }],
      tools: [tool],
      reasoning: { effort: 'low' },
      max_output_tokens: 4000,
      store: true,
    });
    assert.match(second.output_text, /Tool result received/);
    assert.equal(second.previous_response_id, first.id);
    const sent = stack.anthropic.last().body;
    assert.equal(sent.system, undefined, 'instructions are not carried over');
    assert.deepEqual(
      sent.messages.map((m: { role: string }) => m.role),
      ['user', 'assistant', 'user'],
    );
    assert.equal(sent.messages[1].content[0].type, 'thinking', 'stored thinking replayed');

    const third = await client.responses.create({ model, previous_response_id: second.id, input: 'and now? [[notool]]', tools: [tool] });
    assert.equal(stack.anthropic.last().body.messages.length, 5, 'the whole chain');
    assert.match(third.output_text, /You said: and now\?/);

    await assert.rejects(
      other.responses.create({ model, previous_response_id: first.id, input: 'mine now' }),
      (err: InstanceType<typeof OpenAI.APIError>) => {
        assert.equal(err.status, 404);
        assert.equal(err.param, 'previous_response_id');
        assert.equal(err.code, 404, "OpenRouter's integer code");
        assert.equal((err.error as { metadata: { code: string } }).metadata.code, 'previous_response_not_found');
        assert.equal(err.type, 'invalid_request_error');
        return true;
      },
    );
  });

  test('GET /responses/{id}: the stored response for its key; 404 for another key and for unstored ones', async () => {
    const stored = await client.responses.create({ model, input: 'keep me' });
    assert.equal((stored as unknown as { store: boolean }).store, true, 'store defaults to true, as on OpenAI');
    assert.deepEqual(await client.responses.retrieve(stored.id), { ...stored, output_text: stored.output_text });
    await assert.rejects(other.responses.retrieve(stored.id), { status: 404 });
    const stateless = await client.responses.create({ model, input: 'forget me', store: false });
    assert.equal((stateless as unknown as { store: boolean }).store, false);
    await assert.rejects(client.responses.retrieve(stateless.id), { status: 404 });
    await assert.rejects(client.responses.create({ model, previous_response_id: stateless.id, input: 'again' }), { status: 404 });
  });

  test('a streamed stored response can be continued at once', async () => {
    const first = await client.responses.stream({ model: 'openai/gpt-4o-mini', input: 'remember 7', store: true }).finalResponse();
    const next = await client.responses
      .stream({ model: 'openai/gpt-4o-mini', previous_response_id: first.id, input: 'what was it?' })
      .finalResponse();
    assert.match(next.output_text, /You said: what was it\?/);
    const messages = stack.openai.last().body.messages as Array<{ role: string; content: string }>;
    assert.deepEqual(
      messages.map((m) => m.role),
      ['user', 'assistant', 'user'],
    );
    assert.equal(messages[1].content, first.output_text);
  });
});

describe('prompt caching: reads and writes in usage, equal to the generation record', () => {
  type CacheUsage = {
    input_tokens: number;
    output_tokens: number;
    cost: number;
    input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  };
  const long = 'The quick brown fox jumps over the lazy dog. '.repeat(200);

  async function run(params: OpenAI.Responses.ResponseCreateParamsNonStreaming): Promise<CacheUsage> {
    const { data, response } = await client.responses.create(params).withResponse();
    const usage = data.usage as unknown as CacheUsage;
    const r = await fetch(`${stack.baseURL}/generation?id=${response.headers.get('x-generation-id')}`, {
      headers: { authorization: `Bearer ${stack.key}` },
    });
    const g = ((await r.json()) as { data: Record<string, unknown> }).data;
    assert.equal(g.tokens_prompt, usage.input_tokens);
    assert.equal(g.native_tokens_cached, usage.input_tokens_details.cached_tokens);
    assert.equal(g.native_tokens_cache_write, usage.input_tokens_details.cache_write_tokens);
    assert.equal(g.total_cost, usage.cost);
    return usage;
  }

  test('Anthropic with a cache_control breakpoint: a write, then a cheaper read', async () => {
    const params = {
      model: 'anthropic/claude-sonnet-4-5',
      instructions: long,
      input: 'cache me',
      cache_control: { type: 'ephemeral' },
    } as OpenAI.Responses.ResponseCreateParamsNonStreaming;
    const write = await run(params);
    assert.deepEqual(stack.anthropic.last().body.cache_control, { type: 'ephemeral' });
    assert.ok(write.input_tokens_details.cache_write_tokens > 0);
    const read = await run(params);
    assert.ok(read.input_tokens_details.cached_tokens > 0);
    assert.ok(read.cost < write.cost);
  });

  test('OpenAI automatic caching: the second call reads the cache', async () => {
    const params = { model: 'openai/gpt-4o-mini', instructions: long, input: 'cache me too' };
    await run(params);
    const read = await run(params);
    assert.ok(read.input_tokens_details.cached_tokens > 0);
  });
});

describe('errors in the Responses shape', () => {
  async function post(body: string | object, headers: Record<string, string> = { authorization: `Bearer ${stack.key}` }) {
    const res = await fetch(`${stack.baseURL}/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    type Meta = { code?: string; error_type: string };
    type Body = { error: { message: string; type: string; param: string | null; code: number; metadata: Meta } };
    const json = (await res.json()) as Body;
    assert.deepEqual(Object.keys(json), ['error']);
    assert.deepEqual(Object.keys(json.error).sort(), ['code', 'message', 'metadata', 'param', 'type']);
    // OpenRouter's integer code (the status) for its SDK; OpenAI's own code beside OpenRouter's error_type.
    assert.equal(json.error.code, res.status);
    assert.equal(typeof json.error.metadata.error_type, 'string');
    return { status: res.status, error: { ...json.error, code: json.error.metadata.code } };
  }
  const model = 'openai/gpt-4o-mini';

  test('bad input names the field', async () => {
    let r = await post('{"model": "x", "input": [');
    assert.equal(r.status, 400);
    assert.equal(r.error.type, 'invalid_request_error');
    assert.match(r.error.message, /not valid JSON/);
    r = await post({ model, input: 5 });
    assert.deepEqual([r.status, r.error.param], [400, 'input']);
    r = await post({ model, input: [{ role: 'user', content: [{ type: 'input_video', url: 'x' }] }] });
    assert.deepEqual([r.status, r.error.param], [400, 'input[0].content[0].type']);
    r = await post({ model, input: [{ type: 'function_call', name: 'f', arguments: '{}' }] });
    assert.deepEqual([r.status, r.error.param], [400, 'input[0].call_id']);
    r = await post({ model, input: 'hi', frobnicate: true });
    assert.deepEqual([r.status, r.error.param, r.error.code], [400, 'frobnicate', 'unknown_parameter']);
    r = await post({ model, input: 'hi', tools: [{ type: 'function' }] });
    assert.deepEqual([r.status, r.error.param], [400, 'tools[0].name']);
    r = await post({ model, input: 'hi', background: true });
    assert.deepEqual([r.status, r.error.param, r.error.code], [400, 'background', 'unsupported_parameter']);
    r = await post({ model, input: 'hi', text: { format: { type: 'json_schema', schema: {} } } });
    assert.deepEqual([r.status, r.error.param], [400, 'text.format.name']);
    r = await post({ model, input: 'hi', reasoning: { effort: 'extreme' } });
    assert.deepEqual([r.status, r.error.param], [400, 'reasoning.effort']);
    r = await post({ input: 'hi' });
    assert.deepEqual([r.status, r.error.param], [400, 'model']);
    r = await post({ model });
    assert.deepEqual([r.status, r.error.param], [400, 'input']);
  });

  test('authentication, unknown models and failing upstreams', async () => {
    let r = await post({ model, input: 'hi' }, {});
    assert.deepEqual([r.status, r.error.type], [401, 'authentication_error']);
    r = await post({ model: 'nobody/nothing', input: 'hi' });
    assert.deepEqual([r.status, r.error.param, r.error.code], [404, 'model', 'model_not_found']);
    r = await post({ model, input: 'fail [[error:503]]' });
    assert.ok(r.status >= 500, `status ${r.status}`);
    assert.equal(r.error.type, 'server_error');
  });

  test('the SDK reads the error fields', async () => {
    await assert.rejects(client.responses.create({ model, input: 'hi', temperature: 5 }), (err: InstanceType<typeof OpenAI.APIError>) => {
      assert.equal(err.status, 400);
      assert.equal(err.param, 'temperature');
      assert.equal(err.type, 'invalid_request_error');
      return true;
    });
  });

  test('a stream that fails after it started ends with error and response.failed', async () => {
    const { data: stream, response } = await client.responses
      .create({ model, input: 'Count [[long]] [[die:4]]', stream: true })
      .withResponse();
    const types: string[] = [];
    let failed: OpenAI.Responses.Response | undefined;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.failed') failed = ev.response;
    }
    assert.deepEqual(types.slice(-2), ['error', 'response.failed']);
    assert.equal(failed?.status, 'failed');
    assert.ok(failed?.error?.message);
    const g = await fetch(`${stack.baseURL}/generation?id=${response.headers.get('x-generation-id')}`, {
      headers: { authorization: `Bearer ${stack.key}` },
    });
    assert.equal(((await g.json()) as { data: { finish_reason: string } }).data.finish_reason, 'error');
  });

  test('the chat door still answers in its own envelope', async () => {
    const res = await fetch(`${stack.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: 'hi' }),
    });
    const json = (await res.json()) as { error: { code: number } };
    assert.equal(json.error.code, 400);
  });
});

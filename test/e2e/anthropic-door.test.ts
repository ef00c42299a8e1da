/**
 * The Anthropic Messages door, driven by the official `@anthropic-ai/sdk` against the Anthropic,
 * OpenAI and Gemini emulators: text, streams (SDK and raw event order), tool loops, thinking
 * replayed with its signature, prompt caching, beta headers, usage and cost equal to the
 * generation record, count_tokens, and Anthropic-shaped errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { fromRedacted } from '../../src/doors/anthropic/codec.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;
let client: Anthropic;

before(async () => {
  stack = await startStack();
  client = new Anthropic({ apiKey: stack.key, baseURL: stack.gw.url, maxRetries: 0 });
});
after(() => stack.close());

const MODELS = {
  anthropic: 'anthropic/claude-sonnet-4-5',
  openai: 'openai/gpt-4o-mini',
  gemini: 'google/gemini-2.5-flash',
} as const;

const tool: Anthropic.Tool = {
  name: 'lookup',
  description: 'Weather by city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

interface Generation {
  tokens_prompt: number;
  tokens_completion: number;
  native_tokens_cached: number;
  native_tokens_cache_write: number;
  total_cost: number;
  cost_nanos: number;
  upstream_id: string | null;
  streamed: boolean;
}

async function generation(id: string): Promise<Generation> {
  await stack.gw.app.generations.flush();
  const res = await fetch(`${stack.gw.url}/api/v1/generation?id=${id}`, { headers: { authorization: `Bearer ${stack.key}` } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { data: Generation }).data;
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${stack.gw.url}${path}`, {
    method: 'POST',
    headers: { 'x-api-key': stack.key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A raw SSE body → its events, in order. */
function events(text: string): Array<{ event: string; data: any }> {
  return text
    .split('\n\n')
    .filter((f) => f.startsWith('event: '))
    .map((f) => {
      const [head, data] = f.split('\n');
      return { event: head.slice(7), data: JSON.parse(data.slice(6)) };
    });
}

type Usage = Anthropic.Usage & { cost?: number };

function assertUsageMatches(u: Usage, g: Generation) {
  const cacheRead = u.cache_read_input_tokens ?? 0;
  const cacheWrite = u.cache_creation_input_tokens ?? 0;
  assert.equal(g.tokens_prompt, u.input_tokens + cacheRead + cacheWrite, 'prompt tokens');
  assert.equal(g.tokens_completion, u.output_tokens, 'completion tokens');
  assert.equal(g.native_tokens_cached, cacheRead);
  assert.equal(g.native_tokens_cache_write, cacheWrite);
  if (u.cost !== undefined) assert.equal(u.cost, g.total_cost, 'cost');
}

describe('text', () => {
  for (const [name, model] of Object.entries(MODELS)) {
    test(`${name}: a whole message, with usage and cost equal to the generation record`, async () => {
      const { data, response } = await client.messages
        .create({ model, max_tokens: 200, system: 'Be brief.', messages: [{ role: 'user', content: 'hello there' }] })
        .withResponse();
      assert.equal(data.type, 'message');
      assert.equal(data.role, 'assistant');
      assert.equal(data.stop_reason, 'end_turn');
      assert.equal(data.content[0].type, 'text');
      assert.match((data.content[0] as Anthropic.TextBlock).text, /You said: hello there/);
      const id = response.headers.get('x-generation-id')!;
      assert.match(id, /^gen-/);
      const g = await generation(id);
      assertUsageMatches(data.usage as Usage, g);
      if (name === 'anthropic') {
        // Anthropic's own message, as it came.
        assert.match(data.id, /^msg_/);
        assert.equal(g.upstream_id, data.id);
        assert.ok(g.cost_nanos > 0);
      } else {
        assert.equal(data.id, id);
        assert.equal(data.model, model);
        assert.ok((data.usage as Usage).cost! > 0);
      }
    });
  }

  test('a bare Anthropic model id (as Claude Code sends) resolves to anthropic/<id>', async () => {
    const m = await client.messages.create({
      model: 'claude-haiku-4-5-20251001',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(m.content[0].type, 'text');
    assert.equal(stack.anthropic.last().body.model, 'claude-haiku-4-5-20251001');
  });
});

describe('streaming', () => {
  for (const [name, model] of Object.entries(MODELS)) {
    test(`${name}: the SDK's finalMessage()`, async () => {
      const stream = client.messages.stream({ model, max_tokens: 200, messages: [{ role: 'user', content: 'stream to me' }] });
      const texts: string[] = [];
      stream.on('text', (t) => texts.push(t));
      const m = await stream.finalMessage();
      assert.equal(m.stop_reason, 'end_turn');
      assert.match((m.content[0] as Anthropic.TextBlock).text, /You said: stream to me/);
      assert.ok(texts.length > 1, 'text arrived in pieces');
      assert.ok(m.usage.input_tokens > 0 && m.usage.output_tokens > 0);
    });

    test(`${name}: raw event order, and the final usage equals the generation record`, async () => {
      const res = await post('/v1/messages', {
        model,
        max_tokens: 200,
        stream: true,
        messages: [{ role: 'user', content: 'order please' }],
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const evs = events(await res.text());
      const names = evs.map((e) => e.event).filter((e) => e !== 'ping');
      assert.equal(names[0], 'message_start');
      assert.equal(names[1], 'content_block_start');
      assert.deepEqual(names.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
      assert.ok(names.slice(2, -3).every((n) => n === 'content_block_delta'));
      assert.ok(evs.some((e) => e.event === 'ping'));
      assert.equal(evs[0].data.message.content.length, 0);
      const delta = evs.find((e) => e.event === 'message_delta')!.data;
      assert.equal(delta.delta.stop_reason, 'end_turn');
      const g = await generation(res.headers.get('x-generation-id')!);
      assert.ok(g.streamed);
      if (name === 'anthropic') {
        // Usage is split between message_start (input) and message_delta (output), as Anthropic sends it.
        const start = evs[0].data.message.usage;
        assertUsageMatches({ ...start, output_tokens: delta.usage.output_tokens }, g);
      } else {
        assertUsageMatches(delta.usage, g);
        assert.ok(delta.usage.cost > 0);
      }
    });
  }
});

describe('tools', () => {
  for (const [name, model] of Object.entries(MODELS)) {
    test(`${name}: a tool loop, with toolu_ ids that map back to the upstream's own`, async () => {
      const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'weather in Paris?' }];
      const first = await client.messages.create({ model, max_tokens: 500, tools: [tool], messages });
      assert.equal(first.stop_reason, 'tool_use');
      const call = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
      assert.match(call.id, /^toolu_/);
      assert.equal(call.name, 'lookup');
      assert.deepEqual(call.input, { city: 'Paris' });
      messages.push(
        { role: 'assistant', content: first.content as Anthropic.ContentBlockParam[] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'sunny, 21C' }] },
      );
      const second = await client.messages.create({ model, max_tokens: 500, tools: [tool], messages });
      assert.match((second.content.find((b) => b.type === 'text') as Anthropic.TextBlock).text, /Tool result received: .*sunny, 21C/);
      if (name === 'openai') {
        const body = stack.openai.last().body;
        const issued = body.messages[1].tool_calls[0].id;
        assert.match(issued, /^call_/);
        assert.equal(body.messages[2].tool_call_id, issued);
        assert.notEqual(call.id, issued);
      }
      if (name === 'anthropic') assert.equal(stack.anthropic.last().body.messages[2].content[0].tool_use_id, call.id);
    });
  }

  test('openai: parallel calls streamed as input_json_delta fragments, each in its own block', async () => {
    const res = await post('/v1/messages', {
      model: MODELS.openai,
      max_tokens: 500,
      stream: true,
      tools: [tool],
      messages: [{ role: 'user', content: 'two lookups [[parallel]]' }],
    });
    const evs = events(await res.text());
    const starts = evs.filter((e) => e.event === 'content_block_start');
    assert.equal(starts.length, 2);
    for (const s of starts) {
      assert.equal(s.data.content_block.type, 'tool_use');
      assert.match(s.data.content_block.id, /^toolu_/);
      assert.deepEqual(s.data.content_block.input, {});
      const deltas = evs.filter((e) => e.event === 'content_block_delta' && e.data.index === s.data.index).map((e) => e.data.delta);
      assert.equal(deltas[0].type, 'input_json_delta');
      assert.equal(deltas[0].partial_json, '', 'the first fragment is empty, as Anthropic sends it');
      assert.ok(deltas.length > 2, 'arguments arrive in fragments');
      assert.deepEqual(JSON.parse(deltas.map((d) => d.partial_json).join('')), { city: 'Paris' });
    }
    assert.equal(evs.find((e) => e.event === 'message_delta')!.data.delta.stop_reason, 'tool_use');

    // Both results go back; each reaches OpenAI under the id OpenAI issued.
    const ids = starts.map((s) => s.data.content_block.id as string);
    const second = await client.messages.create({
      model: MODELS.openai,
      max_tokens: 500,
      tools: [tool],
      messages: [
        { role: 'user', content: 'two lookups' },
        { role: 'assistant', content: ids.map((id) => ({ type: 'tool_use' as const, id, name: 'lookup', input: { city: 'Paris' } })) },
        { role: 'user', content: ids.map((id, i) => ({ type: 'tool_result' as const, tool_use_id: id, content: `r${i}` })) },
      ],
    });
    assert.match((second.content[0] as Anthropic.TextBlock).text, /Tool result received: r1/);
    const body = stack.openai.last().body;
    assert.deepEqual(
      body.messages.slice(2).map((m: { tool_call_id: string }) => m.tool_call_id),
      body.messages[1].tool_calls.map((c: { id: string }) => c.id),
    );
  });

  test('gemini 3: thought signatures survive a tool loop through this door', async () => {
    const model = 'google/gemini-3-pro-preview';
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'weather in Paris?' }];
    const first = await client.messages.create({
      model,
      max_tokens: 4000,
      tools: [tool],
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages,
    });
    const call = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    assert.match(call.id, /^toolu_/);
    const carrier = first.content.find((b): b is Anthropic.RedactedThinkingBlock => b.type === 'redacted_thinking')!;
    assert.ok(carrier, 'the signature travels in a redacted_thinking block');
    const sig = fromRedacted(carrier.data, 0).detail as { data: string; format: string };
    assert.equal(sig.format, 'google-gemini-v1');
    messages.push(
      { role: 'assistant', content: first.content as Anthropic.ContentBlockParam[] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'sunny' }] },
    );
    const second = await client.messages.create({
      model,
      max_tokens: 4000,
      tools: [tool],
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages,
    });
    assert.match((second.content.find((b) => b.type === 'text') as Anthropic.TextBlock).text, /Tool result received: .*sunny/);
    const replayed = stack.gemini.last().body.contents[1].parts.find((p: { functionCall?: unknown }) => p.functionCall);
    assert.equal(replayed.thoughtSignature, sig.data, 'byte for byte');
  });

  test('gemini 3: the same loop streamed', async () => {
    const model = 'google/gemini-3-pro-preview';
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'weather in Rome?' }];
    const first = await client.messages.stream({ model, max_tokens: 4000, tools: [tool], messages }).finalMessage();
    const call = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    messages.push(
      { role: 'assistant', content: first.content as Anthropic.ContentBlockParam[] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'rainy' }] },
    );
    const second = await client.messages.stream({ model, max_tokens: 4000, tools: [tool], messages }).finalMessage();
    assert.match((second.content.find((b) => b.type === 'text') as Anthropic.TextBlock).text, /Tool result received: .*rainy/);
  });
});

test('a tool loop started on Gemini and finished on Claude: translated, with the upstream ids and without foreign reasoning', async () => {
  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'weather in Oslo?' }];
  const first = await client.messages.create({ model: 'google/gemini-3-pro-preview', max_tokens: 500, tools: [tool], messages });
  const call = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
  assert.match(call.id, /^toolu_fw_/);
  messages.push(
    { role: 'assistant', content: first.content as Anthropic.ContentBlockParam[] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'snow' }] },
  );
  const second = await client.messages.create({ model: MODELS.anthropic, max_tokens: 500, tools: [tool], messages });
  assert.match((second.content.find((b) => b.type === 'text') as Anthropic.TextBlock).text, /Tool result received: snow/);
  const body = stack.anthropic.last().body;
  const upstreamId = (body.messages[1].content as Array<{ type: string; id?: string }>).find((b) => b.type === 'tool_use')!.id!;
  assert.match(upstreamId, /^call_/, "Gemini's own call id, decoded");
  assert.equal(body.messages[2].content[0].tool_use_id, upstreamId);
  assert.ok(
    !body.messages[1].content.some((b: { type: string }) => b.type === 'redacted_thinking'),
    "Gemini's signature is not sent to Anthropic",
  );
});

describe('thinking (Anthropic upstream)', () => {
  for (const streamed of [false, true]) {
    test(`thinking and redacted thinking replayed byte for byte in a tool loop (${streamed ? 'streamed' : 'whole'})`, async () => {
      const params = {
        model: MODELS.anthropic,
        max_tokens: 4000,
        tools: [tool],
        thinking: { type: 'enabled' as const, budget_tokens: 1024 },
      };
      const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'weather? [[redacted]]' }];
      const first = streamed
        ? await client.messages.stream({ ...params, messages }).finalMessage()
        : await client.messages.create({ ...params, messages });
      const thinking = first.content[0] as Anthropic.ThinkingBlock;
      assert.equal(thinking.type, 'thinking');
      assert.ok(thinking.signature.length > 0);
      assert.equal(first.content[1].type, 'redacted_thinking');
      const call = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
      messages.push(
        { role: 'assistant', content: first.content as Anthropic.ContentBlockParam[] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'sunny' }] },
      );
      // The emulator verifies signatures and redacted data as Anthropic does: a changed byte is a 400.
      const second = await client.messages.create({ ...params, messages });
      assert.ok(second.content.some((b) => b.type === 'text'));
      const replayed = stack.anthropic.last().body.messages[1].content;
      assert.deepEqual(replayed[0], { type: 'thinking', thinking: thinking.thinking, signature: thinking.signature });
      assert.deepEqual(replayed[1], first.content[1]);
    });
  }

  test('a streamed thinking block ends with its signature_delta before content_block_stop', async () => {
    const res = await post('/v1/messages', {
      model: MODELS.anthropic,
      max_tokens: 4000,
      stream: true,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'think' }],
    });
    const evs = events(await res.text()).filter((e) => e.data.index === 0);
    assert.equal(evs[0].data.content_block.type, 'thinking');
    assert.ok(evs.some((e) => e.data.delta?.type === 'thinking_delta'));
    assert.equal(evs.at(-2)!.data.delta.type, 'signature_delta');
    assert.equal(evs.at(-1)!.event, 'content_block_stop');
  });
});

describe('pass-through to Anthropic', () => {
  test('cache_control on every kind of block arrives intact, and cache reads and writes are billed', async () => {
    const long = 'The quick brown fox jumps over the lazy dog. '.repeat(100);
    const body = {
      model: MODELS.anthropic,
      max_tokens: 100,
      tools: [{ ...tool, cache_control: { type: 'ephemeral', ttl: '1h' } }],
      system: [{ type: 'text', text: long, cache_control: { type: 'ephemeral', ttl: '1h' } }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: `${long} first`, cache_control: { type: 'ephemeral' } }] },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: [{ type: 'text', text: 'second', cache_control: { type: 'ephemeral' } }] },
      ],
      metadata: { user_id: 'user-1' },
      stop_sequences: ['never-said'],
    };
    const write = await client.messages.create(body as Anthropic.MessageCreateParamsNonStreaming).withResponse();
    const sent = stack.anthropic.last().body;
    assert.deepEqual(sent, { ...body, model: 'claude-sonnet-4-5' }, 'the body arrives as the client sent it');
    assert.ok(write.data.usage.cache_creation_input_tokens! > 0, 'first call writes the cache');
    const gw = await generation(write.response.headers.get('x-generation-id')!);
    assertUsageMatches(write.data.usage, gw);

    const read = await client.messages.create(body as Anthropic.MessageCreateParamsNonStreaming).withResponse();
    assert.ok(read.data.usage.cache_read_input_tokens! > 0, 'second call reads the cache');
    const gr = await generation(read.response.headers.get('x-generation-id')!);
    assertUsageMatches(read.data.usage, gr);
    assert.ok(gr.cost_nanos < gw.cost_nanos, 'a cache read costs less than a cache write');

    // Streamed: the cache counts arrive in message_start and reach the record too.
    const res = await post('/v1/messages', { ...body, stream: true });
    const evs = events(await res.text());
    const start = evs[0].data.message.usage;
    assert.ok(start.cache_read_input_tokens > 0);
    const gs = await generation(res.headers.get('x-generation-id')!);
    assert.equal(gs.native_tokens_cached, start.cache_read_input_tokens);
  });

  test("anthropic-beta is forwarded, and the version is Freeway's", async () => {
    await client.messages.create(
      { model: MODELS.anthropic, max_tokens: 50, messages: [{ role: 'user', content: 'beta' }] },
      { headers: { 'anthropic-beta': 'context-1m-2025-08-07,interleaved-thinking-2025-05-14' } },
    );
    const h = stack.anthropic.last().headers;
    assert.equal(h['anthropic-beta'], 'context-1m-2025-08-07,interleaved-thinking-2025-05-14');
    assert.equal(h['x-api-key'], stack.anthropic.apiKey, "Freeway's provider key, not the client's");
  });

  test('server tools are only for Anthropic: passed through to it, a 400 naming them elsewhere', async () => {
    const webSearch = { type: 'web_search_20250305', name: 'web_search', max_uses: 1 };
    await client.messages.create({
      model: MODELS.anthropic,
      max_tokens: 50,
      tools: [webSearch] as unknown as Anthropic.Tool[],
      messages: [{ role: 'user', content: 'search' }],
    });
    assert.deepEqual(stack.anthropic.last().body.tools, [webSearch]);
    // Web search has equivalents elsewhere (test/e2e/web-search.test.ts); code execution has none.
    const codeExecution = { type: 'code_execution_20250522', name: 'code_execution' };
    const r = await post('/v1/messages', {
      model: MODELS.openai,
      max_tokens: 50,
      tools: [codeExecution],
      messages: [{ role: 'user', content: 'run' }],
    });
    assert.equal(r.status, 400);
    const e = (await r.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(e.type, 'error');
    assert.equal(e.error.type, 'invalid_request_error');
    assert.match(e.error.message, /^tools\[0\]/);
  });
});

describe('count_tokens', () => {
  test('Anthropic counts for Anthropic models', async () => {
    const r = await client.messages.countTokens({
      model: 'claude-sonnet-4-5',
      system: 'x'.repeat(400),
      messages: [{ role: 'user', content: 'count me' }],
    });
    assert.ok(r.input_tokens >= 100);
    const last = stack.anthropic.last();
    assert.equal(last.path, '/v1/messages/count_tokens');
    assert.equal(last.body.model, 'claude-sonnet-4-5');
  });

  test('other models get an estimate, flagged as one', async () => {
    const res = await post('/api/v1/messages/count_tokens', {
      model: MODELS.openai,
      messages: [{ role: 'user', content: 'x'.repeat(400) }],
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-freeway-estimate'), 'true');
    assert.ok(((await res.json()) as { input_tokens: number }).input_tokens >= 100);
  });
});

describe("errors in Anthropic's shape", () => {
  async function expectError(
    res: Response,
    status: number,
    type: string,
  ): Promise<{ type: string; error: { type: string; message: string; metadata?: any } }> {
    assert.equal(res.status, status);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, type);
    assert.equal(typeof body.error.message, 'string');
    return body;
  }

  test('malformed JSON → 400 invalid_request_error', async () => {
    await expectError(await post('/v1/messages', '{"model": "x", "messages": ['), 400, 'invalid_request_error');
  });

  test('missing max_tokens → 400 naming the field', async () => {
    const e = await expectError(
      await post('/v1/messages', { model: MODELS.openai, messages: [{ role: 'user', content: 'hi' }] }),
      400,
      'invalid_request_error',
    );
    assert.match(e.error.message, /^max_tokens/);
    assert.equal(e.error.metadata.param, 'max_tokens');
  });

  test('wrong types name the field', async () => {
    let e = await expectError(
      await post('/v1/messages', { model: MODELS.openai, max_tokens: 10, messages: 'hi' }),
      400,
      'invalid_request_error',
    );
    assert.equal(e.error.metadata.param, 'messages');
    e = await expectError(
      await post('/v1/messages', {
        model: MODELS.openai,
        max_tokens: 10,
        messages: [{ role: 'user', content: [{ type: 'tool_result' }] }],
      }),
      400,
      'invalid_request_error',
    );
    assert.equal(e.error.metadata.param, 'messages[0].content[0].tool_use_id');
    e = await expectError(
      await post('/v1/messages', {
        model: MODELS.openai,
        max_tokens: 10,
        thinking: { type: 'enabled', budget_tokens: 10 },
        messages: [{ role: 'user', content: 'x' }],
      }),
      400,
      'invalid_request_error',
    );
    assert.equal(e.error.metadata.param, 'thinking.budget_tokens');
  });

  test('unknown model → 404 not_found_error', async () => {
    await assert.rejects(
      client.messages.create({ model: 'nobody/nothing', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      (e: InstanceType<typeof Anthropic.NotFoundError>) => e instanceof Anthropic.NotFoundError && e.type === 'not_found_error',
    );
  });

  test('a bad key → 401 authentication_error, by x-api-key or bearer', async () => {
    const bad = new Anthropic({ apiKey: 'sk-nope', baseURL: stack.gw.url, maxRetries: 0 });
    await assert.rejects(
      bad.messages.create({ model: MODELS.openai, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      (e: InstanceType<typeof Anthropic.AuthenticationError>) =>
        e instanceof Anthropic.AuthenticationError && e.type === 'authentication_error',
    );
    await expectError(
      await post('/v1/messages', { model: MODELS.openai, max_tokens: 10, messages: [] }, { 'x-api-key': 'sk-nope' }),
      401,
      'authentication_error',
    );
    const ok = await fetch(`${stack.gw.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODELS.openai, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(ok.status, 200);
  });

  test("an upstream failure: its status, in Anthropic's shape, streamed or not", async () => {
    await expectError(
      await post('/v1/messages', { model: MODELS.openai, max_tokens: 10, messages: [{ role: 'user', content: '[[error:503]]' }] }),
      503,
      'overloaded_error',
    );
    await expectError(
      await post('/v1/messages', { model: MODELS.anthropic, max_tokens: 10, messages: [{ role: 'user', content: '[[error:500]]' }] }),
      502,
      'api_error',
    );
    await expectError(
      await post('/v1/messages', {
        model: MODELS.gemini,
        max_tokens: 10,
        stream: true,
        messages: [{ role: 'user', content: '[[error:429]]' }],
      }),
      429,
      'rate_limit_error',
    );
  });

  test('a stream that fails midway ends with event: error', async () => {
    for (const model of [MODELS.anthropic, MODELS.openai]) {
      const res = await post('/v1/messages', {
        model,
        max_tokens: 500,
        stream: true,
        messages: [{ role: 'user', content: '[[long]] [[die:4]]' }],
      });
      assert.equal(res.status, 200);
      const evs = events(await res.text());
      assert.equal(evs[0].event, 'message_start');
      const last = evs.at(-1)!;
      assert.equal(last.event, 'error');
      assert.equal(last.data.type, 'error');
      assert.equal(last.data.error.type, 'api_error');
      const stream = client.messages.stream({ model, max_tokens: 500, messages: [{ role: 'user', content: '[[long]] [[die:4]]' }] });
      await assert.rejects(stream.finalMessage());
    }
  });
});

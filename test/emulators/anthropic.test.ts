/**
 * The Anthropic emulator checked against the official SDK: if @anthropic-ai/sdk is happy with it,
 * the adapter tests that run against it are testing the real wire format.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startAnthropicEmulator } from './anthropic.ts';
import type { Emulator } from './common.ts';

const MODEL = 'claude-sonnet-4-5';
let emu: Emulator;
let client: Anthropic;

before(async () => {
  emu = await startAnthropicEmulator();
  client = new Anthropic({ apiKey: emu.apiKey, baseURL: emu.url, maxRetries: 0 });
});
after(() => emu.close());

const weatherTool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

async function rawSse(body: Record<string, unknown>): Promise<Array<{ event: string; data: any }>> {
  const res = await fetch(`${emu.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': emu.apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((f) => f.trim() !== '')
    .map((f) => {
      const lines = f.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? '';
      const data = lines.find((l) => l.startsWith('data: '))?.slice(6) ?? '';
      return { event, data: JSON.parse(data) };
    });
}

describe('Anthropic emulator with the official SDK', () => {
  test('text reply, usage and headers', async () => {
    const { data: msg, response } = await client.messages
      .create({ model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: 'hi there' }] })
      .withResponse();
    assert.match(msg.id, /^msg_01/);
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.equal(msg.model, 'claude-sonnet-4-5-20250929');
    assert.deepEqual(msg.content, [{ type: 'text', text: 'Hello from Anthropic emulator! You said: hi there' }]);
    assert.equal(msg.stop_reason, 'end_turn');
    assert.equal(msg.stop_sequence, null);
    assert.equal(msg.usage.input_tokens, Math.ceil('user:hi there'.length / 4));
    assert.equal(msg.usage.output_tokens, Math.ceil(48 / 4) + 1);
    assert.equal(msg.usage.cache_read_input_tokens, 0);
    assert.deepEqual(msg.usage.cache_creation, { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 });
    assert.equal(msg.usage.service_tier, 'standard');
    assert.match(response.headers.get('request-id') ?? '', /^req_/);
    assert.equal(response.headers.get('anthropic-ratelimit-requests-limit'), '4000');
    assert.ok(response.headers.get('anthropic-ratelimit-output-tokens-reset'));
    // SDK 1.x sends the key as a bearer token with API version 2026-10-21; both are accepted.
    assert.equal(emu.last().headers.authorization, `Bearer ${emu.apiKey}`);
    assert.ok(emu.last().headers['anthropic-version']);
  });

  test('streaming through messages.stream() and finalMessage()', async () => {
    const stream = client.messages.stream({ model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: 'stream me' }] });
    let seen = '';
    stream.on('text', (t) => (seen += t));
    const msg = await stream.finalMessage();
    assert.equal(seen, 'Hello from Anthropic emulator! You said: stream me');
    assert.equal(msg.content.length, 1);
    assert.equal(msg.content[0].type, 'text');
    assert.equal((msg.content[0] as Anthropic.TextBlock).text, seen);
    assert.equal(msg.stop_reason, 'end_turn');
    assert.ok(msg.usage.output_tokens > 1);
  });

  test('raw stream event sequence', async () => {
    const events = await rawSse({ model: MODEL, max_tokens: 256, tools: [weatherTool], messages: [{ role: 'user', content: 'weather?' }] });
    const names = events.map((e) => e.event);
    assert.deepEqual(names.slice(0, 3), ['message_start', 'content_block_start', 'ping']);
    assert.deepEqual(names.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    assert.ok(names.slice(3, -3).length > 2);
    assert.ok(names.slice(3, -3).every((n) => n === 'content_block_delta'));
    assert.equal(events[0].data.message.usage.output_tokens, 1);
    assert.deepEqual(events[0].data.message.content, []);
    assert.equal(events[1].data.content_block.type, 'tool_use');
    assert.deepEqual(events[1].data.content_block.input, {});
    const deltas = events.filter((e) => e.event === 'content_block_delta').map((e) => e.data.delta);
    assert.equal(deltas[0].type, 'input_json_delta');
    assert.equal(deltas[0].partial_json, '');
    assert.deepEqual(JSON.parse(deltas.map((d) => d.partial_json).join('')), { city: 'Paris' });
    const md = events.at(-2)!.data;
    assert.deepEqual(md.delta, { stop_reason: 'tool_use', stop_sequence: null, stop_details: null });
    assert.ok(md.usage.output_tokens > 0);
    // The event name and the data's `type` agree everywhere.
    for (const e of events) assert.equal(e.data.type, e.event);
  });

  test('tool use loop', async () => {
    const first = await client.messages.create({
      model: MODEL,
      max_tokens: 512,
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
    });
    assert.equal(first.stop_reason, 'tool_use');
    const call = first.content[0];
    assert.equal(call.type, 'tool_use');
    if (call.type !== 'tool_use') return;
    assert.match(call.id, /^toolu_01/);
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(call.input, { city: 'Paris' });

    const second = await client.messages.create({
      model: MODEL,
      max_tokens: 512,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'What is the weather in Paris?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '18C and sunny' }] },
      ],
    });
    assert.equal(second.stop_reason, 'end_turn');
    assert.deepEqual(second.content, [{ type: 'text', text: 'Tool result received: 18C and sunny' }]);
  });

  test('parallel tool calls, forced tool, tool_choice none, unmatched tool_result', async () => {
    const parallel = await client.messages.create({
      model: MODEL,
      max_tokens: 512,
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'both [[parallel]]' }],
    });
    assert.equal(parallel.content.filter((b) => b.type === 'tool_use').length, 2);

    const other = { name: 'get_time', input_schema: { type: 'object' as const, properties: { zone: { type: 'string', enum: ['UTC'] } } } };
    const forced = await client.messages.create({
      model: MODEL,
      max_tokens: 512,
      tools: [weatherTool, other],
      tool_choice: { type: 'tool', name: 'get_time' },
      messages: [{ role: 'user', content: 'time' }],
    });
    assert.deepEqual(
      forced.content.map((b) => (b.type === 'tool_use' ? [b.name, b.input] : b.type)),
      [['get_time', { zone: 'UTC' }]],
    );

    const none = await client.messages.create({
      model: MODEL,
      max_tokens: 512,
      tools: [weatherTool],
      tool_choice: { type: 'none' },
      messages: [{ role: 'user', content: 'just talk' }],
    });
    assert.equal(none.content[0].type, 'text');

    await assert.rejects(
      client.messages.create({
        model: MODEL,
        max_tokens: 512,
        tools: [weatherTool],
        messages: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: 'no tools here' },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01nope', content: 'x' }] },
        ],
      }),
      (err: unknown) => err instanceof Anthropic.BadRequestError && /unexpected `tool_use_id`/.test(err.apiMessage ?? ''),
    );
  });

  test('thinking: signature replayed is accepted, tampered is rejected', async () => {
    const first = await client.messages.create({
      model: MODEL,
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      messages: [{ role: 'user', content: 'think hard' }],
    });
    const thinking = first.content[0];
    assert.equal(thinking.type, 'thinking');
    if (thinking.type !== 'thinking') return;
    assert.equal(thinking.thinking, 'Thinking about: think hard');
    assert.ok(thinking.signature.length > 20);
    assert.equal(first.content[1].type, 'text');

    const next = (assistant: Anthropic.ContentBlockParam[]) =>
      client.messages.create({
        model: MODEL,
        max_tokens: 4096,
        thinking: { type: 'enabled', budget_tokens: 2048 },
        messages: [
          { role: 'user', content: 'think hard' },
          { role: 'assistant', content: assistant },
          { role: 'user', content: 'and again' },
        ],
      });
    const ok = await next(first.content as Anthropic.ContentBlockParam[]);
    assert.equal(ok.stop_reason, 'end_turn');

    const tampered = [{ ...thinking, thinking: thinking.thinking + '!' }, first.content[1]] as Anthropic.ContentBlockParam[];
    await assert.rejects(next(tampered), (err: unknown) => {
      assert.ok(err instanceof Anthropic.BadRequestError);
      assert.equal(err.status, 400);
      assert.match(err.apiMessage ?? '', /messages\.1\.content\.0: Invalid `signature` in `thinking` block/);
      assert.equal((err.error as any).error.type, 'invalid_request_error');
      return true;
    });
  });

  test('thinking stream carries thinking_delta and signature_delta', async () => {
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'streamed thoughts' }],
    });
    const msg = await stream.finalMessage();
    const t = msg.content[0];
    assert.equal(t.type, 'thinking');
    if (t.type !== 'thinking') return;
    assert.equal(t.thinking, 'Thinking about: streamed thoughts');
    assert.ok(t.signature.length > 0);
  });

  test('redacted thinking round-trips byte-identical; altered data is rejected', async () => {
    const params = { model: MODEL, max_tokens: 4096, thinking: { type: 'enabled' as const, budget_tokens: 1024 } };
    const first = await client.messages.create({ ...params, messages: [{ role: 'user', content: 'secret [[redacted]]' }] });
    assert.deepEqual(
      first.content.map((b) => b.type),
      ['thinking', 'redacted_thinking', 'text'],
    );
    const red = first.content[1];
    if (red.type !== 'redacted_thinking') return;
    const again = (content: Anthropic.ContentBlockParam[]) =>
      client.messages.create({
        ...params,
        messages: [
          { role: 'user', content: 'secret [[redacted]]' },
          { role: 'assistant', content },
          { role: 'user', content: 'more' },
        ],
      });
    await again(first.content as Anthropic.ContentBlockParam[]);
    await assert.rejects(
      again([first.content[0], { type: 'redacted_thinking', data: red.data.slice(1) }, first.content[2]] as Anthropic.ContentBlockParam[]),
      Anthropic.BadRequestError,
    );
  });

  test('thinking with a tool loop requires the thinking block at the start of the assistant turn', async () => {
    const params = { model: MODEL, max_tokens: 4096, tools: [weatherTool], thinking: { type: 'enabled' as const, budget_tokens: 1024 } };
    const first = await client.messages.create({ ...params, messages: [{ role: 'user', content: 'weather in Paris' }] });
    assert.deepEqual(
      first.content.map((b) => b.type),
      ['thinking', 'tool_use'],
    );
    const call = first.content[1];
    if (call.type !== 'tool_use') return;
    const cont = (assistant: Anthropic.ContentBlockParam[]) =>
      client.messages.create({
        ...params,
        messages: [
          { role: 'user', content: 'weather in Paris' },
          { role: 'assistant', content: assistant },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'sunny' }] },
        ],
      });
    const ok = await cont(first.content as Anthropic.ContentBlockParam[]);
    assert.equal((ok.content.at(-1) as Anthropic.TextBlock).text, 'Tool result received: sunny');
    await assert.rejects(cont([call] as Anthropic.ContentBlockParam[]), (err: unknown) => {
      assert.ok(err instanceof Anthropic.BadRequestError);
      assert.match(err.apiMessage ?? '', /Expected `thinking` or `redacted_thinking`, but found `tool_use`/);
      return true;
    });
  });

  test('prompt caching: write on first sight, read afterwards, 1h TTL bucket', async () => {
    const longSystem = 'You are a meticulous assistant. '.repeat(200);
    const req = (ttl?: '1h') =>
      client.messages.create({
        model: MODEL,
        max_tokens: 128,
        system: [{ type: 'text', text: longSystem, cache_control: ttl ? { type: 'ephemeral', ttl } : { type: 'ephemeral' } }],
        messages: [{ role: 'user', content: 'question one' }],
      });
    const systemTokens = Math.ceil(longSystem.length / 4);
    const first = await req();
    assert.equal(first.usage.cache_creation_input_tokens, systemTokens);
    assert.equal(first.usage.cache_read_input_tokens, 0);
    assert.equal(first.usage.cache_creation?.ephemeral_5m_input_tokens, systemTokens);
    assert.equal(first.usage.input_tokens, Math.ceil('user:question one'.length / 4));
    const second = await req();
    assert.equal(second.usage.cache_creation_input_tokens, 0);
    assert.equal(second.usage.cache_read_input_tokens, systemTokens);
    assert.equal(second.usage.input_tokens, first.usage.input_tokens);

    const hour = await client.messages.create({
      model: MODEL,
      max_tokens: 128,
      system: [{ type: 'text', text: longSystem + ' (hourly)', cache_control: { type: 'ephemeral', ttl: '1h' } }],
      messages: [{ role: 'user', content: 'q' }],
    });
    assert.equal(hour.usage.cache_creation?.ephemeral_1h_input_tokens, hour.usage.cache_creation_input_tokens);
    assert.ok((hour.usage.cache_creation_input_tokens ?? 0) > 0);

    // A second breakpoint later in the prompt: the earlier prefix is read, the rest is written.
    const grown = await client.messages.create({
      model: MODEL,
      max_tokens: 128,
      system: [{ type: 'text', text: longSystem, cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'a long user turn '.repeat(50), cache_control: { type: 'ephemeral' } }] }],
    });
    assert.equal(grown.usage.cache_read_input_tokens, systemTokens);
    assert.equal(grown.usage.cache_creation_input_tokens, Math.ceil(('user:' + 'a long user turn '.repeat(50)).length / 4));
    assert.equal(grown.usage.input_tokens, 0);
  });

  test('errors: authentication, overloaded, rate limit', async () => {
    const bad = new Anthropic({ apiKey: 'wrong', baseURL: emu.url, maxRetries: 0 });
    await assert.rejects(
      bad.messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.AuthenticationError);
        assert.deepEqual((err.error as any).error, { type: 'authentication_error', message: 'invalid x-api-key' });
        assert.match((err.error as any).request_id, /^req_/);
        assert.match(err.requestID ?? '', /^req_/);
        return true;
      },
    );
    await assert.rejects(
      client.messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'x [[error:529]]' }] }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.InternalServerError);
        assert.equal(err.status, 529);
        assert.equal((err.error as any).error.type, 'overloaded_error');
        return true;
      },
    );
    await assert.rejects(
      client.messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'x [[error:429]]' }] }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.RateLimitError);
        assert.equal(err.headers?.get('retry-after'), '7');
        assert.equal((err.error as any).error.type, 'rate_limit_error');
        return true;
      },
    );
    await assert.rejects(
      client.messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'x [[error:500]]' }] }),
      (err: unknown) => err instanceof Anthropic.InternalServerError && (err.error as any).error.type === 'api_error',
    );
  });

  test('mid-stream error event surfaces as an SDK error', async () => {
    const stream = client.messages.stream({ model: MODEL, max_tokens: 256, messages: [{ role: 'user', content: 'go [[overloaded]]' }] });
    await assert.rejects(stream.finalMessage(), (err: unknown) => {
      assert.ok(err instanceof Anthropic.APIError);
      assert.equal((err.error as any).error.type, 'overloaded_error');
      return true;
    });
  });

  test('max_tokens truncates; stop_sequences stop', async () => {
    const cut = await client.messages.create({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'long [[long]]' }] });
    assert.equal(cut.stop_reason, 'max_tokens');
    assert.equal(cut.usage.output_tokens, 5);
    assert.equal((cut.content[0] as Anthropic.TextBlock).text, 'word0 word1 word2 wo');

    const stopped = await client.messages.create({
      model: MODEL,
      max_tokens: 100,
      stop_sequences: ['said'],
      messages: [{ role: 'user', content: 'hello' }],
    });
    assert.equal(stopped.stop_reason, 'stop_sequence');
    assert.equal(stopped.stop_sequence, 'said');
    assert.equal((stopped.content[0] as Anthropic.TextBlock).text, 'Hello from Anthropic emulator! You ');
  });

  test('[[call:NAME:JSON]] scripts tool calls step by step, then a text answer', async () => {
    const tools = [weatherTool, { name: 'Bash', input_schema: { type: 'object' as const, properties: { command: { type: 'string' } } } }];
    const prompt = 'go [[call:Bash:{"command":"ls"}]] [[call:get_weather:{"city":"Oslo"}]]';
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: prompt }];
    const seen: Array<[string, unknown]> = [];
    for (let step = 0; step < 3; step++) {
      const m = await client.messages.create({ model: MODEL, max_tokens: 500, tools, messages });
      const call = m.content.find((b) => b.type === 'tool_use');
      if (!call) {
        assert.equal(step, 2);
        assert.match((m.content[0] as Anthropic.TextBlock).text, /Tool result received: sunny/);
        break;
      }
      seen.push([call.name, call.input]);
      messages.push(
        { role: 'assistant', content: m.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'sunny' }] },
      );
    }
    assert.deepEqual(seen, [
      ['Bash', { command: 'ls' }],
      ['get_weather', { city: 'Oslo' }],
    ]);
  });

  test('request fields are a closed list, as on the real API: OpenRouter extras, unknown keys and values are 400s', async () => {
    const post = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
      fetch(`${emu.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': emu.apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const base = { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] };
    const refused = async (body: Record<string, unknown>, message: RegExp, headers: Record<string, string> = {}) => {
      const res = await post(body, headers);
      assert.equal(res.status, 400, JSON.stringify(body));
      const err = (await res.json()) as { error: { type: string; message: string } };
      assert.equal(err.error.type, 'invalid_request_error');
      assert.match(err.error.message, message);
    };
    for (const k of ['session_id', 'user', 'trace', 'route', 'plugins', 'provider', 'models', 'reasoning', 'max_completion_tokens']) {
      await refused({ ...base, [k]: 'x' }, new RegExp(`^${k}: Extra inputs are not permitted$`));
    }
    await refused({ ...base, metadata: { user_id: 'u', session: 's' } }, /metadata\.session: Extra inputs are not permitted/);
    await refused({ ...base, metadata: { user_id: 'u'.repeat(257) } }, /metadata\.user_id: String should have at most 256 characters/);
    await refused({ ...base, thinking: { type: 'adaptive', budget_tokens: 2000 } }, /thinking\.adaptive\.budget_tokens: Extra inputs/);
    await refused({ ...base, thinking: { type: 'adaptive', display: 'full' } }, /thinking\.adaptive\.display: Input should be/);
    await refused({ ...base, output_config: { effort: 'extreme' } }, /output_config\.effort: Input should be/);
    await refused({ ...base, service_tier: 'flex' }, /service_tier: Input should be 'auto', 'standard_only'/);
    // Beta fields need their beta header; with one they pass (what Claude Code sends).
    const claudeCode = {
      context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
      output_config: { effort: 'high' },
    };
    await refused({ ...base, ...claudeCode }, /context_management: Extra inputs are not permitted/);
    const ok = await post(
      {
        ...base,
        max_tokens: 2000,
        thinking: { type: 'adaptive', display: 'omitted' },
        metadata: { user_id: '{"device_id":"d"}' },
        ...claudeCode,
      },
      { 'anthropic-beta': 'context-management-2025-06-27,effort-2025-11-24' },
    );
    assert.equal(ok.status, 200, await ok.clone().text());
    const count = await fetch(`${emu.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'x-api-key': emu.apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: base.messages, stream: true }),
    });
    assert.equal(count.status, 400);
  });

  test('validation mirrors the real API', async () => {
    const expect400 = async (body: unknown, pattern: RegExp) =>
      assert.rejects(client.messages.create(body as Anthropic.MessageCreateParamsNonStreaming), (err: unknown) => {
        assert.ok(err instanceof Anthropic.BadRequestError, String(err));
        assert.match(err.apiMessage ?? '', pattern);
        return true;
      });
    const msgs = [{ role: 'user', content: 'x' }];
    await expect400({ model: MODEL, messages: msgs }, /max_tokens: Field required/);
    await expect400({ model: MODEL, max_tokens: 10 }, /messages: Field required/);
    await expect400({ model: MODEL, max_tokens: 10, messages: [{ role: 'system', content: 's' }, ...msgs] }, /Unexpected role "system"/);
    await expect400(
      { model: MODEL, max_tokens: 10, messages: [{ role: 'assistant', content: 'a' }, ...msgs] },
      /first message must use the "user" role/,
    );
    await expect400({ model: MODEL, max_tokens: 10, system: [{ type: 'image' }], messages: msgs }, /system\.0\.type/);
    await expect400(
      { model: MODEL, max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 512 }, messages: msgs },
      /greater than or equal to 1024/,
    );
    await expect400(
      { model: MODEL, max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 2000 }, messages: msgs },
      /`max_tokens` must be greater than `thinking.budget_tokens`/,
    );
    await expect400(
      { model: MODEL, max_tokens: 4000, temperature: 0.5, thinking: { type: 'enabled', budget_tokens: 2000 }, messages: msgs },
      /`temperature` may only be set to 1 when thinking is enabled/,
    );
    await expect400({ model: MODEL, max_tokens: 10, temperature: 0.5, top_p: 0.9, messages: msgs }, /cannot both be specified/);
    // Temperature 1 with thinking is fine; adaptive thinking needs no budget.
    // (SDK 1.x's types dropped the sampling parameters; the 2023-06-01 wire format still has them.)
    const withTemperature = { temperature: 1 } as object;
    const ok = await client.messages.create({
      model: MODEL,
      max_tokens: 4000,
      ...withTemperature,
      thinking: { type: 'enabled', budget_tokens: 2000 },
      messages: [{ role: 'user', content: 'x' }],
    });
    assert.equal(ok.content[0].type, 'thinking');
    const adaptive = await client.messages.create({
      model: MODEL,
      max_tokens: 4000,
      thinking: { type: 'adaptive' },
      messages: [{ role: 'user', content: 'x' }],
    });
    assert.equal(adaptive.content[0].type, 'thinking');
  });

  test('x-api-key with anthropic-version 2023-06-01, and their absence', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${emu.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
      });
    const ok = await post({ 'x-api-key': emu.apiKey, 'anthropic-version': '2023-06-01' });
    assert.equal(ok.status, 200);
    const noVersion = await post({ 'x-api-key': emu.apiKey });
    assert.equal(noVersion.status, 400);
    assert.match(noVersion.headers.get('request-id') ?? '', /^req_/);
    const body = (await noVersion.json()) as any;
    assert.equal(body.type, 'error');
    assert.deepEqual(body.error, { type: 'invalid_request_error', message: 'anthropic-version: header is required' });
    assert.equal(body.request_id, noVersion.headers.get('request-id'));
    const noKey = await post({ 'anthropic-version': '2023-06-01' });
    assert.equal(noKey.status, 401);
    assert.equal(((await noKey.json()) as any).error.message, 'x-api-key header is required');
    const unknown = await fetch(`${emu.url}/v1/nope`, { headers: { 'x-api-key': emu.apiKey, 'anthropic-version': '2023-06-01' } });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as any).error.type, 'not_found_error');
  });

  test('count_tokens and models', async () => {
    const counted = await client.messages.countTokens({ model: MODEL, system: 'sys', messages: [{ role: 'user', content: 'hello' }] });
    assert.equal(counted.input_tokens, Math.ceil(3 / 4) + Math.ceil('user:hello'.length / 4));
    const page = await client.models.list();
    const ids = page.data.map((m) => m.id);
    assert.deepEqual([...ids].sort(), ['claude-haiku-4-5-20251001', 'claude-opus-4-1-20250805', 'claude-sonnet-4-5-20250929']);
    assert.equal(page.data[0].type, 'model');
    assert.ok(page.data.every((m) => typeof m.display_name === 'string' && !Number.isNaN(Date.parse(m.created_at))));
    const raw = (await (
      await fetch(`${emu.url}/v1/models`, { headers: { 'x-api-key': emu.apiKey, 'anthropic-version': '2023-06-01' } })
    ).json()) as any;
    assert.equal(raw.has_more, false);
    assert.equal(raw.first_id, raw.data[0].id);
    assert.equal(raw.last_id, raw.data.at(-1).id);
  });

  test('web search: the server tool checked as the real API checks it; the answer in its documented shape', async () => {
    const tool = { type: 'web_search_20250305' as const, name: 'web_search' as const, max_uses: 2 };
    const messages = [{ role: 'user' as const, content: 'news in Lyon' }];
    const msg = await client.messages.create({ model: MODEL, max_tokens: 400, tools: [tool], messages });
    assert.deepEqual(
      msg.content.map((b) => b.type),
      ['server_tool_use', 'web_search_tool_result', 'text'],
    );
    const [call, result, text] = msg.content;
    assert.ok(call.type === 'server_tool_use' && result.type === 'web_search_tool_result' && text.type === 'text');
    assert.deepEqual([call.name, call.input], ['web_search', { query: 'news in Lyon' }]);
    assert.equal(result.tool_use_id, call.id);
    assert.ok(Array.isArray(result.content) && result.content[0].type === 'web_search_result' && result.content[0].encrypted_content);
    const cite = text.citations?.[0];
    assert.ok(cite?.type === 'web_search_result_location');
    assert.equal(cite.url, Array.isArray(result.content) ? result.content[0].url : undefined);
    assert.equal(msg.usage.server_tool_use?.web_search_requests, 1);

    const events = await rawSse({ model: MODEL, max_tokens: 400, tools: [tool], messages: [{ role: 'user', content: 'news' }] });
    const starts = events.filter((e) => e.event === 'content_block_start').map((e) => e.data.content_block.type);
    assert.deepEqual(starts, ['server_tool_use', 'web_search_tool_result', 'text']);
    assert.ok(events.some((e) => e.data.delta?.type === 'citations_delta'));
    assert.equal(events.find((e) => e.event === 'message_delta')?.data.usage.server_tool_use.web_search_requests, 1);

    const post = (tools: unknown[]) =>
      fetch(`${emu.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': emu.apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, max_tokens: 10, tools, messages: [{ role: 'user', content: 'x' }] }),
      });
    const refused: Array<[unknown, RegExp]> = [
      [{ ...tool, max_uses: 0 }, /max_uses: Input should be greater than or equal to 1/],
      [{ ...tool, name: 'search' }, /name: Input should be 'web_search'/],
      [{ ...tool, search_context_size: 'low' }, /search_context_size: Extra inputs are not permitted/],
      [{ ...tool, allowed_domains: ['a.com'], blocked_domains: ['b.com'] }, /Only one of allowed_domains or blocked_domains/],
      [{ ...tool, user_location: { type: 'approximate', approximate: { city: 'Lyon' } } }, /user_location\.approximate: Extra inputs/],
      [{ ...tool, type: 'web_search_2024' }, /does not match any of the expected tags/],
    ];
    for (const [bad, message] of refused) {
      const res = await post([bad]);
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.match(((await res.json()) as { error: { message: string } }).error.message, message);
    }
    const located = await post([{ ...tool, user_location: { type: 'approximate', city: 'Lyon', country: 'FR' } }]);
    assert.equal(located.status, 200);
  });
});

/**
 * The Anthropic adapter against the Anthropic emulator over real loopback HTTP: what goes on the
 * wire, what comes back converted, streams, and failures.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { anthropicAdapter } from '../../src/providers/anthropic/adapter.ts';
import { convertUsage } from '../../src/providers/anthropic/convert-usage.ts';
import { mapStopReason } from '../../src/providers/anthropic/map-stop-reason.ts';
import { toMessagesRequest } from '../../src/providers/anthropic/convert-request.ts';
import type { ProviderInstance, Target } from '../../src/providers/types.ts';
import type { ChatRequest, Message, ToolDefinition } from '../../src/spec/request.ts';
import type { ChatResult, StreamEvent } from '../../src/spec/response.ts';
import { GatewayError } from '../../src/spec/errors.ts';
import { startAnthropicEmulator } from '../emulators/anthropic.ts';
import { startEmulator } from '../emulators/common.ts';
import type { Emulator, Handler } from '../emulators/common.ts';

let emu: Emulator;
let provider: ProviderInstance;
let target: Target;

before(async () => {
  emu = await startAnthropicEmulator({ apiKey: 'sk-ant-secret-key-123' });
  provider = {
    id: 'anthropic',
    name: 'Anthropic',
    protocol: 'anthropic',
    baseUrl: emu.url + '/v1',
    apiKey: emu.apiKey,
    headers: {},
    quirks: {},
  };
  target = { provider, model: 'claude-sonnet-4-5' };
});
after(() => emu.close());

const ctx = () => ({ signal: new AbortController().signal });
const user = (text: string): Message => ({ role: 'user', content: [{ type: 'text', text }] });
const req = (messages: Message[], extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'anthropic/claude-sonnet-4-5',
  messages,
  stream: false,
  ...extra,
});
const weather: ToolDefinition = {
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

async function collect(it: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}
const textOf = (events: StreamEvent[]) => events.map((e) => (e.type === 'text' ? e.text : '')).join('');

/** The assistant message a client would send back after `r`. */
function assistantFrom(r: ChatResult): Message {
  return { role: 'assistant', content: r.text ? [{ type: 'text', text: r.text }] : [], toolCalls: r.toolCalls, reasoning: r.reasoning };
}

describe('Anthropic adapter: requests and whole responses', () => {
  test('plain text: system lifted, max_tokens set, headers, converted result', async () => {
    const r = await anthropicAdapter.chat(
      req([{ role: 'system', content: [{ type: 'text', text: 'Be brief.' }] }, user('hello')], { temperature: 0.3 }),
      target,
      ctx(),
    );
    const sent = emu.last();
    assert.equal(sent.path, '/v1/messages');
    assert.equal(sent.headers['x-api-key'], emu.apiKey);
    assert.equal(sent.headers['anthropic-version'], '2023-06-01');
    assert.deepEqual(sent.body.system, [{ type: 'text', text: 'Be brief.' }]);
    assert.deepEqual(sent.body.messages, [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }]);
    assert.equal(sent.body.max_tokens, 4096);
    assert.equal(sent.body.temperature, 0.3);
    assert.equal(sent.body.model, 'claude-sonnet-4-5');

    assert.equal(r.text, 'Hello from Anthropic emulator! You said: hello');
    assert.match(r.upstreamId ?? '', /^msg_/);
    assert.deepEqual(r.finish, { unified: 'stop', raw: 'end_turn' });
    assert.deepEqual(r.toolCalls, []);
    assert.deepEqual(r.reasoning, []);
    assert.equal(r.usage.outputTokens, 12);
    assert.equal(r.usage.inputTokens, 3 + 3); // 'Be brief.' + 'user:hello'
    assert.equal(r.usage.cacheReadTokens, 0);
    assert.equal((r.usage.raw as { service_tier: string }).service_tier, 'standard');
    assert.equal(r.warnings, undefined);
  });

  test('max_tokens from the catalog; interleaved system messages; unsupported params warned', async () => {
    const r = await anthropicAdapter.chat(
      req([user('first'), { role: 'system', content: [{ type: 'text', text: 'Late rule.' }] }, user('second')], {
        frequencyPenalty: 0.5,
        seed: 7,
        stop: ['  ', 'END'],
        topK: 5,
      }),
      { ...target, maxOutputTokens: 1000 },
      ctx(),
    );
    const body = emu.last().body;
    assert.equal(body.max_tokens, 1000);
    assert.deepEqual(body.system, [{ type: 'text', text: 'Late rule.' }]);
    // Two user turns in a row become one.
    assert.deepEqual(body.messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'first' },
          { type: 'text', text: 'second' },
        ],
      },
    ]);
    assert.deepEqual(body.stop_sequences, ['END']);
    assert.equal(body.top_k, 5);
    assert.equal(body.frequency_penalty, undefined);
    assert.equal(body.seed, undefined);
    assert.ok(r.warnings?.some((w) => w.includes('frequency_penalty')));
    assert.ok(r.warnings?.some((w) => w.includes('seed')));
    assert.ok(r.warnings?.some((w) => w.includes('Whitespace-only')));
  });

  test('tool loop: tool_use out, tool results merged into one user turn, parallel disabled', async () => {
    const first = await anthropicAdapter.chat(req([user('weather in Paris and Rome [[parallel]]')], { tools: [weather] }), target, ctx());
    assert.deepEqual(first.finish, { unified: 'tool_calls', raw: 'tool_use' });
    assert.equal(first.toolCalls.length, 2);
    assert.match(first.toolCalls[0].id, /^toolu_01/);
    assert.equal(first.toolCalls[0].name, 'get_weather');
    assert.deepEqual(JSON.parse(first.toolCalls[0].arguments), { city: 'Paris' });
    assert.deepEqual(emu.last().body.tools, [{ name: 'get_weather', description: 'Weather for a city', input_schema: weather.parameters }]);

    const [a, b] = first.toolCalls;
    const second = await anthropicAdapter.chat(
      req(
        [
          user('weather in Paris and Rome [[parallel]]'),
          assistantFrom(first),
          { role: 'tool', toolCallId: a.id, content: [{ type: 'text', text: 'sunny' }] },
          { role: 'tool', toolCallId: b.id, content: [{ type: 'text', text: 'rainy' }] },
        ],
        { tools: [weather], parallelToolCalls: false },
      ),
      target,
      ctx(),
    );
    const body = emu.last().body;
    assert.equal(body.messages.length, 3);
    assert.deepEqual(body.messages[1], {
      role: 'assistant',
      content: [
        { type: 'tool_use', id: a.id, name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: b.id, name: 'get_weather', input: { city: 'Paris' } },
      ],
    });
    assert.deepEqual(body.messages[2], {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: a.id, content: [{ type: 'text', text: 'sunny' }] },
        { type: 'tool_result', tool_use_id: b.id, content: [{ type: 'text', text: 'rainy' }] },
      ],
    });
    assert.deepEqual(body.tool_choice, { type: 'auto', disable_parallel_tool_use: true });
    assert.equal(second.text, 'Tool result received: sunny; rainy');
    assert.equal(second.finish.unified, 'stop');
  });

  test('tool choice mapping and invalid arguments', async () => {
    const other: ToolDefinition = { name: 'get_time', parameters: {} };
    const forced = await anthropicAdapter.chat(
      req([user('time please')], { tools: [weather, other], toolChoice: { type: 'tool', name: 'get_time' } }),
      target,
      ctx(),
    );
    assert.deepEqual(emu.last().body.tool_choice, { type: 'tool', name: 'get_time' });
    assert.deepEqual(emu.last().body.tools[1], { name: 'get_time', input_schema: { type: 'object' } });
    assert.equal(forced.toolCalls[0].name, 'get_time');
    assert.equal(forced.toolCalls[0].arguments, '{}');

    const converted = toMessagesRequest(
      req(
        [
          user('x'),
          {
            role: 'assistant',
            content: [],
            toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: '{"city": "Par' }],
            reasoning: [],
          },
          { role: 'tool', toolCallId: 'toolu_1', content: [{ type: 'text', text: 'ok' }] },
        ],
        { tools: [weather], toolChoice: { type: 'required' } },
      ),
      target,
    );
    assert.deepEqual(converted.body.tool_choice, { type: 'any' });
    assert.deepEqual((converted.body.messages[1].content[0] as { input: unknown }).input, {});
    assert.ok(converted.warnings.some((w) => w.includes('toolu_1') && !w.includes('Par')));
    assert.deepEqual(toMessagesRequest(req([user('x')], { tools: [weather], toolChoice: { type: 'none' } }), target).body.tool_choice, {
      type: 'none',
    });
  });

  test('thinking: budget, details out, signatures replayed and accepted, temperature dropped', async () => {
    const first = await anthropicAdapter.chat(
      req([user('ponder this')], { reasoning: { effort: 'high' }, temperature: 0.2, topK: 3, maxTokens: 8000 }),
      target,
      ctx(),
    );
    let body = emu.last().body;
    assert.deepEqual(body.thinking, { type: 'enabled', budget_tokens: 6400 });
    assert.equal(body.max_tokens, 8000);
    assert.equal(body.temperature, undefined);
    assert.equal(body.top_k, undefined);
    assert.ok(first.warnings?.some((w) => w.startsWith('temperature was dropped')));
    assert.ok(first.warnings?.some((w) => w.startsWith('top_k was dropped')));
    assert.equal(first.reasoning.length, 1);
    const detail = first.reasoning[0];
    assert.equal(detail.type, 'reasoning.text');
    if (detail.type !== 'reasoning.text') return;
    assert.equal(detail.text, 'Thinking about: ponder this');
    assert.equal(detail.format, 'anthropic-claude-v1');
    assert.ok(detail.signature);

    // Next turn: the thinking block goes back first, verbatim, and the emulator verifies it.
    const second = await anthropicAdapter.chat(
      req(
        [
          user('ponder this'),
          {
            ...(assistantFrom(first) as Extract<Message, { role: 'assistant' }>),
            reasoning: [...first.reasoning, { type: 'reasoning.encrypted', data: 'opaque', format: 'openai-responses-v1' }],
          },
          user('go on'),
        ],
        { reasoning: { maxTokens: 2048 } },
      ),
      target,
      ctx(),
    );
    body = emu.last().body;
    assert.deepEqual(body.messages[1].content[0], { type: 'thinking', thinking: detail.text, signature: detail.signature });
    assert.equal(body.messages[1].content.length, 2); // the foreign detail was dropped
    assert.ok(second.warnings?.some((w) => w.includes('not replayed')));
    assert.equal(second.finish.unified, 'stop');

    // A tampered signature is the upstream's 400, passed through.
    const tampered = { ...detail, text: detail.text + ' (edited)' };
    await assert.rejects(
      anthropicAdapter.chat(
        req(
          [
            user('ponder this'),
            { ...(assistantFrom(first) as Extract<Message, { role: 'assistant' }>), reasoning: [tampered] },
            user('go on'),
          ],
          {
            reasoning: { maxTokens: 2048 },
          },
        ),
        target,
        ctx(),
      ),
      (err: unknown) => err instanceof GatewayError && err.status === 400 && /Invalid `signature`/.test(err.message),
    );
  });

  test('thinking budget larger than max_tokens raises max_tokens; redacted thinking round-trips', async () => {
    const r = await anthropicAdapter.chat(
      req([user('secret [[redacted]]')], { maxTokens: 500, reasoning: { maxTokens: 3000 } }),
      target,
      ctx(),
    );
    assert.equal(emu.last().body.max_tokens, 3500);
    assert.deepEqual(emu.last().body.thinking, { type: 'enabled', budget_tokens: 3000 });
    assert.ok(r.warnings?.some((w) => w.includes('raised from 500 to 3500')));
    assert.deepEqual(
      r.reasoning.map((d) => d.type),
      ['reasoning.text', 'reasoning.encrypted'],
    );
    const red = r.reasoning[1];
    assert.equal(red.format, 'anthropic-claude-v1');

    await anthropicAdapter.chat(
      req([user('secret [[redacted]]'), assistantFrom(r), user('more')], { reasoning: { enabled: true } }),
      target,
      ctx(),
    );
    const replayed = emu.last().body.messages[1].content;
    assert.deepEqual(
      replayed.map((b: { type: string }) => b.type),
      ['thinking', 'redacted_thinking', 'text'],
    );
    assert.equal(replayed[1].data, red.type === 'reasoning.encrypted' ? red.data : '');
  });

  test('thinking is skipped (with a warning) where Anthropic would reject it', async () => {
    const forced = toMessagesRequest(
      req([user('x')], { tools: [weather], toolChoice: { type: 'required' }, reasoning: { effort: 'low' } }),
      target,
    );
    assert.equal(forced.body.thinking, undefined);
    assert.ok(forced.warnings.some((w) => w.includes('forces a tool')));

    // A tool loop whose assistant turn lost its thinking block.
    const r = await anthropicAdapter.chat(
      req(
        [
          user('weather'),
          {
            role: 'assistant',
            content: [],
            toolCalls: [{ id: 'toolu_01x', name: 'get_weather', arguments: '{"city":"Paris"}' }],
            reasoning: [],
          },
          { role: 'tool', toolCallId: 'toolu_01x', content: [{ type: 'text', text: 'warm' }] },
        ],
        { tools: [weather], reasoning: { effort: 'medium' } },
      ),
      target,
      ctx(),
    );
    assert.equal(emu.last().body.thinking, undefined);
    assert.equal(r.text, 'Tool result received: warm');
    assert.ok(r.warnings?.some((w) => w.includes('no thinking block')));
  });

  test('prompt caching: cache_control kept on system, parts, tools and top level; reads and writes in usage', async () => {
    const longSystem = 'You follow the house style guide to the letter. '.repeat(100);
    const messages: Message[] = [
      { role: 'system', content: [{ type: 'text', text: longSystem, cacheControl: { type: 'ephemeral', ttl: '1h' } }] },
      user('question'),
    ];
    const tools: ToolDefinition[] = [{ ...weather, cacheControl: { type: 'ephemeral', ttl: '1h' } }];
    const first = await anthropicAdapter.chat(req(messages, { tools, toolChoice: { type: 'none' } }), target, ctx());
    const body = emu.last().body;
    assert.deepEqual(body.system[0].cache_control, { type: 'ephemeral', ttl: '1h' });
    assert.deepEqual(body.tools[0].cache_control, { type: 'ephemeral', ttl: '1h' });
    assert.ok(first.usage.cacheWriteTokens > 0);
    assert.equal(first.usage.cacheReadTokens, 0);
    const raw = first.usage.raw as { input_tokens: number };
    assert.equal(first.usage.inputTokens, raw.input_tokens + first.usage.cacheWriteTokens);

    const second = await anthropicAdapter.chat(req(messages, { tools, toolChoice: { type: 'none' } }), target, ctx());
    assert.equal(second.usage.cacheReadTokens, first.usage.cacheWriteTokens);
    assert.equal(second.usage.cacheWriteTokens, 0);
    assert.equal(second.usage.inputTokens, first.usage.inputTokens);

    await anthropicAdapter.chat(
      req([{ role: 'user', content: [{ type: 'text', text: 'part', cacheControl: { type: 'ephemeral' } }] }], {
        cacheControl: { type: 'ephemeral' },
      }),
      target,
      ctx(),
    );
    assert.deepEqual(emu.last().body.messages[0].content[0].cache_control, { type: 'ephemeral' });
    assert.deepEqual(emu.last().body.cache_control, { type: 'ephemeral' });
  });

  test('images, documents, response_format, user', async () => {
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
    const r = await anthropicAdapter.chat(
      req(
        [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'describe' },
              { type: 'image', data: png, mediaType: 'image/png' },
              { type: 'image', url: 'https://example.com/cat.jpg' },
              { type: 'image', url: `data:image/png;base64,${png}` },
              { type: 'file', data: 'JVBERi0xLjQK', mediaType: 'application/pdf', filename: 'a.pdf' },
            ],
          },
        ],
        {
          responseFormat: { type: 'json_schema', name: 'answer', schema: { type: 'object', properties: { a: { type: 'string' } } } },
          user: 'user-42',
        },
      ),
      target,
      ctx(),
    );
    const body = emu.last().body;
    assert.deepEqual(body.messages[0].content.slice(1), [
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0xLjQK' }, title: 'a.pdf' },
    ]);
    // json_schema goes to Anthropic's native structured outputs, not into the prompt.
    assert.deepEqual(body.output_config, {
      format: { type: 'json_schema', schema: { type: 'object', properties: { a: { type: 'string' } } } },
    });
    assert.equal(body.system, undefined);
    assert.deepEqual(body.metadata, { user_id: 'user-42' });
    assert.deepEqual(JSON.parse(r.text), { a: 'a-value' });
  });

  test('length and refusal finish reasons', async () => {
    const cut = await anthropicAdapter.chat(req([user('[[long]]')], { maxTokens: 10 }), target, ctx());
    assert.deepEqual(cut.finish, { unified: 'length', raw: 'max_tokens' });
    assert.equal(cut.usage.outputTokens, 10);
    const stopped = await anthropicAdapter.chat(req([user('hello')], { stop: ['said'] }), target, ctx());
    assert.deepEqual(stopped.finish, { unified: 'stop', raw: 'stop_sequence' });
    const refused = await anthropicAdapter.chat(req([user('[[refuse]]')]), target, ctx());
    assert.deepEqual(refused.finish, { unified: 'content_filter', raw: 'refusal' });
    assert.deepEqual(mapStopReason('pause_turn'), { unified: 'stop', raw: 'pause_turn' });
    assert.deepEqual(mapStopReason('model_context_window_exceeded'), { unified: 'length', raw: 'model_context_window_exceeded' });
  });

  test('usage conversion reads thinking tokens when reported', () => {
    const u = convertUsage({
      input_tokens: 10,
      cache_creation_input_tokens: 5,
      cache_read_input_tokens: 20,
      output_tokens: 30,
      output_tokens_details: { thinking_tokens: 12 },
    });
    assert.deepEqual(
      { ...u, raw: undefined },
      { inputTokens: 35, outputTokens: 30, cacheReadTokens: 20, cacheWriteTokens: 5, reasoningTokens: 12, raw: undefined },
    );
  });

  test('listModels', async () => {
    const ids = await anthropicAdapter.listModels!(provider, new AbortController().signal);
    assert.deepEqual([...ids].sort(), ['claude-haiku-4-5-20251001', 'claude-opus-4-1-20250805', 'claude-sonnet-4-5-20250929']);
    assert.equal(emu.last().method, 'GET');
    assert.match(emu.last().path, /^\/v1\/models\?limit=1000/);
  });
});

describe('Anthropic adapter: streaming', () => {
  test('text stream: start, text deltas, finish, usage', async () => {
    const events = await collect(await anthropicAdapter.chatStream(req([user('stream it')], { stream: true }), target, ctx()));
    assert.equal(emu.last().body.stream, true);
    assert.equal(events[0].type, 'start');
    assert.match((events[0] as { upstreamId?: string }).upstreamId ?? '', /^msg_/);
    assert.equal(textOf(events), 'Hello from Anthropic emulator! You said: stream it');
    assert.ok(events.filter((e) => e.type === 'text').length > 3);
    assert.deepEqual(
      events.slice(-2).map((e) => e.type),
      ['finish', 'usage'],
    );
    const finish = events.at(-2) as Extract<StreamEvent, { type: 'finish' }>;
    assert.deepEqual(finish.finish, { unified: 'stop', raw: 'end_turn' });
    const usage = (events.at(-1) as Extract<StreamEvent, { type: 'usage' }>).usage;
    assert.equal(usage.outputTokens, 13);
    assert.ok(usage.inputTokens > 0);
  });

  test('tool call stream: start then argument deltas that join into the JSON', async () => {
    const events = await collect(
      await anthropicAdapter.chatStream(req([user('weather [[parallel]]')], { tools: [weather], stream: true }), target, ctx()),
    );
    const starts = events.filter((e) => e.type === 'tool-call-start');
    assert.deepEqual(
      starts.map((e) => e.index),
      [0, 1],
    );
    for (const s of starts) {
      if (s.type !== 'tool-call-start') continue;
      assert.match(s.id, /^toolu_01/);
      assert.equal(s.name, 'get_weather');
      const args = events.map((e) => (e.type === 'tool-call-delta' && e.index === s.index ? e.argumentsDelta : '')).join('');
      assert.deepEqual(JSON.parse(args), { city: 'Paris' });
      // Every delta follows its start.
      const firstDelta = events.findIndex((e) => e.type === 'tool-call-delta' && e.index === s.index);
      assert.ok(firstDelta > events.indexOf(s));
    }
    assert.ok(!events.some((e) => e.type === 'tool-call-delta' && e.argumentsDelta === ''));
    assert.deepEqual((events.at(-2) as Extract<StreamEvent, { type: 'finish' }>).finish, { unified: 'tool_calls', raw: 'tool_use' });
  });

  test('thinking stream: reasoning text and signature on one index, redacted on the next; replay accepted', async () => {
    const events = await collect(
      await anthropicAdapter.chatStream(req([user('think [[redacted]]')], { reasoning: { effort: 'low' }, stream: true }), target, ctx()),
    );
    const reasoning = events.filter((e) => e.type === 'reasoning');
    const text = reasoning
      .filter((e) => e.index === 0)
      .map((e) => e.text ?? '')
      .join('');
    const signature = reasoning
      .filter((e) => e.index === 0)
      .map((e) => e.signature ?? '')
      .join('');
    assert.equal(text, 'Thinking about: think');
    assert.ok(signature.length > 0);
    assert.ok(reasoning.every((e) => e.format === 'anthropic-claude-v1'));
    const redacted = reasoning.filter((e) => e.index === 1);
    assert.equal(redacted.length, 1);
    assert.equal(redacted[0].kind, 'reasoning.encrypted');
    assert.ok(redacted[0].data);
    assert.equal(textOf(events), 'Hello from Anthropic emulator! You said: think');

    // Rebuild the details the way a door would, and replay them.
    const replay: Message = {
      role: 'assistant',
      content: [{ type: 'text', text: textOf(events) }],
      toolCalls: [],
      reasoning: [
        { type: 'reasoning.text', text, signature, format: 'anthropic-claude-v1' },
        { type: 'reasoning.encrypted', data: redacted[0].data!, format: 'anthropic-claude-v1' },
      ],
    };
    const next = await anthropicAdapter.chat(
      req([user('think [[redacted]]'), replay, user('next')], { reasoning: { effort: 'low' } }),
      target,
      ctx(),
    );
    assert.equal(next.finish.unified, 'stop');
  });

  test('mid-stream failures become one final error event', async () => {
    const overloaded = await collect(await anthropicAdapter.chatStream(req([user('x [[overloaded]]')], { stream: true }), target, ctx()));
    const last = overloaded.at(-1)!;
    assert.equal(last.type, 'error');
    if (last.type !== 'error') return;
    assert.equal(last.error.status, 503);
    assert.match(last.error.message, /Anthropic stream error: Overloaded/);
    assert.equal(overloaded.filter((e) => e.type === 'error').length, 1);

    const died = await collect(await anthropicAdapter.chatStream(req([user('x [[die:4]]')], { stream: true }), target, ctx()));
    assert.equal(died[0].type, 'start');
    const end = died.at(-1)!;
    assert.equal(end.type, 'error');
    if (end.type === 'error') {
      assert.ok(end.error instanceof GatewayError);
      assert.equal(end.error.status, 502);
      assert.match(end.error.message, /Anthropic/);
    }
    assert.ok(!died.some((e) => e.type === 'finish'));
  });

  test('an event-less malformed frame is skipped, as the official SDK does', async () => {
    const events = await collect(await anthropicAdapter.chatStream(req([user('x [[malformed]]')], { stream: true }), target, ctx()));
    assert.ok(!events.some((e) => e.type === 'error'));
    assert.equal(textOf(events), 'Hello from Anthropic emulator! You said: x');
    assert.deepEqual(
      events.slice(-2).map((e) => e.type),
      ['finish', 'usage'],
    );
  });
});

describe('Anthropic adapter: upstream errors', () => {
  test('429 → GatewayError 429 with retryAfter and the upstream message', async () => {
    await assert.rejects(anthropicAdapter.chat(req([user('x [[error:429]]')]), target, ctx()), (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.equal(err.status, 429);
      assert.equal(err.retryAfter, 7);
      assert.match(err.message, /^Anthropic /);
      assert.match(err.message, /exceed the rate limit/);
      assert.equal(err.metadata.provider_code, 'rate_limit_error');
      return true;
    });
  });

  test('529 → 503 overloaded, for chat and before a stream starts', async () => {
    const check = (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.equal(err.status, 503);
      assert.equal(err.type, 'provider_overloaded');
      assert.match(err.message, /Anthropic returned HTTP 529: Overloaded/);
      return true;
    };
    await assert.rejects(anthropicAdapter.chat(req([user('x [[error:529]]')]), target, ctx()), check);
    await assert.rejects(anthropicAdapter.chatStream(req([user('x [[error:529]]')], { stream: true }), target, ctx()), check);
  });

  test('401 → 502 without the key in the error', async () => {
    const wrong: Target = { ...target, provider: { ...provider, apiKey: 'sk-ant-wrong-key-456' } };
    await assert.rejects(anthropicAdapter.chat(req([user('x')]), wrong, ctx()), (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.equal(err.status, 502);
      assert.match(err.message, /Anthropic rejected the API key/);
      assert.match(err.message, /invalid x-api-key/);
      assert.ok(!err.message.includes('sk-ant-wrong-key-456'));
      assert.ok(!JSON.stringify(err.metadata).includes('sk-ant-wrong-key-456'));
      return true;
    });
  });

  test('400 from validation passes through as 400', async () => {
    await assert.rejects(
      anthropicAdapter.chat(req([user('x')], { topP: 2 }), target, ctx()),
      (err: unknown) => err instanceof GatewayError && err.status === 400 && /top_p/.test(err.message),
    );
  });

  test('an aborted call rejects as cancelled', async () => {
    const ac = new AbortController();
    const pending = anthropicAdapter.chat(req([user('x [[slow:500]]')]), target, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(pending, (err: unknown) => err instanceof GatewayError && err.status === 499);
  });
});

describe('Anthropic adapter: misbehaving upstreams', () => {
  const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
  const messageStart = sse('message_start', {
    type: 'message_start',
    message: { id: 'msg_x', type: 'message', role: 'assistant', content: [], usage: { input_tokens: 3, output_tokens: 1 } },
  });

  async function withUpstream(handler: Handler, run: (t: Target) => Promise<void>): Promise<void> {
    const up = await startEmulator(handler);
    try {
      await run({ ...target, provider: { ...provider, baseUrl: up.url + '/v1' } });
    } finally {
      await up.close();
    }
  }

  test('an upstream that echoes the key never gets it into the error', async () => {
    await withUpstream(
      (_req, res) => {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `bad key ${emu.apiKey}` } }));
      },
      async (t) => {
        await assert.rejects(anthropicAdapter.chat(req([user('x')]), t, ctx()), (err: unknown) => {
          assert.ok(err instanceof GatewayError);
          assert.equal(err.status, 502);
          assert.ok(!err.message.includes(emu.apiKey));
          assert.ok(!JSON.stringify(err.metadata).includes(emu.apiKey));
          assert.match(err.message, /bad key \[REDACTED\]/);
          return true;
        });
      },
    );
  });

  test('a named event with broken JSON ends the stream with an error', async () => {
    await withUpstream(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(messageStart);
        res.write(sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
        res.write(sse('content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"text_del'));
        res.end(sse('message_stop', { type: 'message_stop' }));
      },
      async (t) => {
        const events = await collect(await anthropicAdapter.chatStream(req([user('x')], { stream: true }), t, ctx()));
        assert.deepEqual(
          events.map((e) => e.type),
          ['start', 'error'],
        );
        const last = events[1];
        if (last.type === 'error') assert.match(last.error.message, /malformed `content_block_delta`/);
      },
    );
  });

  test('usage in message_delta (newer API versions) overrides message_start', async () => {
    await withUpstream(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(messageStart);
        res.write(
          sse('message_delta', {
            type: 'message_delta',
            delta: { stop_reason: 'end_turn' },
            usage: { input_tokens: 5, cache_read_input_tokens: 7, output_tokens: 9 },
          }),
        );
        res.end(sse('message_stop', { type: 'message_stop' }));
      },
      async (t) => {
        const events = await collect(await anthropicAdapter.chatStream(req([user('x')], { stream: true }), t, ctx()));
        const usage = events.find((e) => e.type === 'usage');
        assert.ok(usage && usage.type === 'usage');
        assert.equal(usage.usage.inputTokens, 12);
        assert.equal(usage.usage.cacheReadTokens, 7);
        assert.equal(usage.usage.outputTokens, 9);
      },
    );
  });

  test('aborting mid-stream ends the iteration with a cancelled error', async () => {
    await withUpstream(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(messageStart);
        // ...and never finishes.
      },
      async (t) => {
        const ac = new AbortController();
        const stream = await anthropicAdapter.chatStream(req([user('x')], { stream: true }), t, { signal: ac.signal });
        const events: StreamEvent[] = [];
        for await (const e of stream) {
          events.push(e);
          if (e.type === 'start') ac.abort();
        }
        assert.deepEqual(
          events.map((e) => e.type),
          ['start', 'error'],
        );
        const last = events[1];
        if (last.type === 'error') assert.equal(last.error.status, 499);
      },
    );
  });
});

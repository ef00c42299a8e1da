/**
 * The emulators against real provider output. test/fixtures/recorded/ holds responses recorded from
 * the real Anthropic, OpenAI and Gemini APIs by public projects (sources.json beside each names where
 * and when). Each emulator is driven with the request that matches a recording, and its answer must
 * have the recording's SHAPE: the same SSE framing, the same sequence of event kinds, the same field
 * names at every level (values differ), the same headers that matter. Freeway's Responses door, which
 * plays OpenAI's Responses API, is held to its recording the same way.
 *
 * Then each recorded stream is fed, in small pieces, through Freeway's own SSE parser and provider
 * adapter: what comes out must be what the real upstream said. That is the test that Freeway reads
 * real upstreams, not just its own emulators.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { convertStream as convertAnthropicStream } from '../../src/providers/anthropic/convert-stream.ts';
import { convertGeminiStream } from '../../src/providers/google/convert-stream.ts';
import { convertOpenAIStream } from '../../src/providers/openai-compatible/convert-stream.ts';
import type { StreamEvent } from '../../src/spec/response.ts';
import {
  documentedHeaders,
  fieldDiff,
  fieldsByKind,
  framesOf,
  framingOf,
  inPieces,
  keyPaths,
  pattern,
  recorded,
  sources,
} from '../helpers/recorded.ts';
import type { Frame } from '../helpers/recorded.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';
import { startAnthropicEmulator } from './anthropic.ts';
import type { Emulator } from './common.ts';
import { startGeminiEmulator } from './gemini.ts';
import { startOpenAIEmulator } from './openai.ts';

let anthropic: Emulator;
let openai: Emulator;
let gemini: Emulator;
before(async () => {
  [anthropic, openai, gemini] = await Promise.all([startAnthropicEmulator(), startOpenAIEmulator(), startGeminiEmulator()]);
});
after(async () => {
  await Promise.all([anthropic.close(), openai.close(), gemini.close()]);
});

const json = { 'content-type': 'application/json' };
const post = (url: string, headers: Record<string, string>, body: unknown): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify(body) });
const anthropicPost = (path: string, body: unknown): Promise<Response> =>
  post(`${anthropic.url}${path}`, { 'x-api-key': anthropic.apiKey, 'anthropic-version': '2023-06-01' }, body);
const openaiPost = (body: unknown): Promise<Response> =>
  post(`${openai.url}/v1/chat/completions`, { authorization: `Bearer ${openai.apiKey}` }, body);
const geminiPost = (model: string, action: string, body: unknown): Promise<Response> =>
  post(`${gemini.url}/v1beta/models/${model}:${action}`, { 'x-goog-api-key': gemini.apiKey }, body);

/** A content type's parts that matter to a reader: media type and charset, lower-cased. */
const mediaType = (v: string | null | undefined): string => (v ?? '').toLowerCase().replace(/\s+/g, '');

function assertSameFields(recordings: Array<Map<string, Set<string>>>, emulated: Map<string, Set<string>>): void {
  const diff = fieldDiff(recordings, emulated);
  assert.deepEqual(diff, { missing: [], extra: [] });
}

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

const texts = (events: StreamEvent[]): string => events.flatMap((e) => (e.type === 'text' ? [e.text] : [])).join('');
const args = (events: StreamEvent[]): string => events.flatMap((e) => (e.type === 'tool-call-delta' ? [e.argumentsDelta] : [])).join('');
const only = <T extends StreamEvent['type']>(events: StreamEvent[], type: T): Array<Extract<StreamEvent, { type: T }>> =>
  events.filter((e): e is Extract<StreamEvent, { type: T }> => e.type === type);

// ---------------------------------------------------------------------------------------------
// Anthropic
// ---------------------------------------------------------------------------------------------

/** An Anthropic event's kind: its type, and the block or delta type it carries. */
function anthropicKind(j: { type: string; content_block?: { type: string }; delta?: { type?: string } }): string {
  if (j.type === 'content_block_start') return `${j.type}:${j.content_block?.type}`;
  if (j.type === 'content_block_delta') return `${j.type}:${j.delta?.type}`;
  return j.type;
}

const anthropicFields = (frames: Array<{ json: { type: string } }>) =>
  fieldsByKind(frames.map((f) => ({ kind: anthropicKind(f.json), json: f.json })));
/** tool-use.chunks.jsonl keeps each event's data only (the recorder dropped the framing). */
const toolUseEvents = (): Array<{ json: { type: string } }> =>
  recorded('anthropic', 'tool-use.chunks.jsonl')
    .trim()
    .split('\n')
    .map((l) => ({ json: JSON.parse(l) }));
/** The same events framed as Anthropic frames every event (thinking-text.sse shows it): `event:` then `data:`. */
const toolUseFramed = (): string =>
  recorded('anthropic', 'tool-use.chunks.jsonl')
    .trim()
    .split('\n')
    .map((l) => `event: ${JSON.parse(l).type}\ndata: ${l}\n\n`)
    .join('');

describe('Anthropic emulator vs recorded Messages API output', () => {
  const thinkingText = recorded('anthropic', 'thinking-text.sse');
  const recordings = () => [anthropicFields(framesOf(thinkingText)), anthropicFields(toolUseEvents())];

  test('a thinking + text stream: framing, event sequence, fields, headers', async () => {
    const res = await anthropicPost('/v1/messages', {
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      stream: true,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: [{ type: 'text', text: 'How do I cross the street?' }] }],
    });
    assert.equal(res.status, 200);
    const raw = await res.text();
    assert.deepEqual(framingOf(raw), framingOf(thinkingText));
    const kinds = (frames: Frame[]) => pattern(frames.map((f) => anthropicKind(f.json)));
    // The recording's model sent one empty thinking_delta before its signature: a run of deltas either way.
    assert.deepEqual(kinds(framesOf(raw)), kinds(framesOf(thinkingText)));
    assert.ok(
      framesOf(raw).every((f) => f.event === f.json.type),
      'the event name is the data type',
    );
    assertSameFields(recordings(), anthropicFields(framesOf(raw)));
    const rec = sources('anthropic').files['thinking-text.sse'].headers!;
    assert.equal(mediaType(res.headers.get('content-type')), mediaType(rec['content-type']));
    assert.ok(res.headers.get('request-id')?.startsWith('req_'));
    const documented = [...documentedHeaders('anthropic', 'every response'), ...documentedHeaders('anthropic', 'rate limits')];
    assert.equal(documented.length, 13);
    for (const h of documented) assert.ok(res.headers.get(h), h);
  });

  test('a tool-use stream: the fields of every event kind', async () => {
    const res = await anthropicPost('/v1/messages', {
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      stream: true,
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      messages: [{ role: 'user', content: 'Weather? [[call:get_weather:{"city":"San Francisco"}]]' }],
    });
    const frames = framesOf(await res.text());
    const recordedKinds = new Set(toolUseEvents().map((e) => anthropicKind(e.json as never)));
    for (const k of ['content_block_start:tool_use', 'content_block_delta:input_json_delta', 'message_delta']) {
      assert.ok(frames.some((f) => anthropicKind(f.json) === k) && recordedKinds.has(k), k);
    }
    assertSameFields(recordings(), anthropicFields(frames));
  });

  test('a whole message with thinking and a tool call: the fields of the message and of each block type', async () => {
    const res = await anthropicPost('/v1/messages', {
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 3000 },
      tool_choice: { type: 'auto' },
      tools: [{ name: 'get_user_country', description: '', input_schema: { type: 'object', properties: {}, additionalProperties: false } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is the largest city in the user country?' }] }],
    });
    assert.equal(res.status, 200);
    const rec = sources('anthropic').files['thinking-tool-use.json'];
    assert.equal(mediaType(res.headers.get('content-type')), mediaType(rec.headers!['content-type']));
    type Message = { content: Array<{ type: string }> };
    const got = (await res.json()) as Message;
    const want = JSON.parse(recorded('anthropic', 'thinking-tool-use.json')) as Message;
    const outer = (m: Message) => [...keyPaths({ ...m, content: [] })].sort();
    // `stop_details: null` is on every whole message recorded since (sources.json names one).
    assert.deepEqual(outer(got), [...outer(want), 'stop_details'].sort());
    const blocks = (m: Message) => fieldsByKind(m.content.map((b) => ({ kind: b.type, json: b })));
    assertSameFields([blocks(want)], blocks(got));
    assert.deepEqual(
      got.content.map((b) => b.type),
      ['thinking', 'tool_use'],
    );
  });

  test('an error body (404 for an unknown model) has the recorded fields and headers', async () => {
    // The emulator takes any `claude*` id (a deliberate simplification): an id of another family is unknown to it.
    const res = await anthropicPost('/v1/messages/count_tokens', { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] });
    const rec = sources('anthropic').files['error-404.json'];
    assert.equal(res.status, rec.status);
    assert.equal(mediaType(res.headers.get('content-type')), mediaType(rec.headers!['content-type']));
    assert.ok(res.headers.get('request-id'));
    assert.deepEqual([...keyPaths(await res.json())].sort(), [...keyPaths(JSON.parse(recorded('anthropic', 'error-404.json')))].sort());
  });

  test('an overloaded 529 has the recorded body fields and headers', async () => {
    const res = await anthropicPost('/v1/messages', {
      model: 'claude-sonnet-4-5',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi [[error:529]]' }],
    });
    const rec = sources('anthropic').files['overloaded-529.json'];
    assert.equal(res.status, rec.status);
    for (const h of ['content-type', 'request-id', 'x-should-retry']) assert.ok(res.headers.get(h), h);
    assert.equal(res.headers.get('x-should-retry'), rec.headers!['x-should-retry']);
    const body = (await res.json()) as { error: { type: string } };
    const want = JSON.parse(recorded('anthropic', 'overloaded-529.json'));
    assert.deepEqual([...keyPaths(body)].sort(), [...keyPaths(want)].sort());
    assert.equal(body.error.type, want.error.type);
  });
});

describe("Freeway's Anthropic adapter reads the recorded streams", () => {
  test('thinking + text: the reasoning with its signature, the text, the finish, the usage', async () => {
    const body = inPieces(recorded('anthropic', 'thinking-text.sse'));
    const events = await collect(convertAnthropicStream(body, 'Anthropic', new AbortController().signal));
    // Anthropic's `standard` tier is OpenRouter's `default`.
    assert.deepEqual(events[0], { type: 'start', upstreamId: 'msg_01ALwQ87pTS7hH1PjSdC9wJD', serviceTier: 'default' });
    const reasoning = only(events, 'reasoning');
    assert.equal(reasoning.map((r) => ('text' in r ? (r.text ?? '') : '')).join(''), 'This is a straightforward question about pedest');
    assert.ok(reasoning.every((r) => r.index === 0));
    assert.match(reasoning.find((r) => 'signature' in r && r.signature)?.signature as string, /^EvMCCkYICxgCKkCHP2/);
    assert.equal(texts(events), 'Here are the basic');
    assert.deepEqual(
      only(events, 'finish').map((f) => f.finish),
      [{ unified: 'stop', raw: 'end_turn' }],
    );
    const [usage] = only(events, 'usage');
    assert.equal(usage.usage.inputTokens, 43);
    assert.equal(usage.usage.outputTokens, 282);
    assert.equal(events.at(-1)?.type, 'usage', 'nothing after the usage, no error');
  });

  test('text then a tool call: the call whole, finish tool_calls, the usage from message_delta', async () => {
    const events = await collect(convertAnthropicStream(inPieces(toolUseFramed(), 5), 'Anthropic', new AbortController().signal));
    assert.equal(texts(events), 'Let me check.');
    const call = { type: 'tool-call-start', index: 0, id: 'toolu_01Ni1uw4HXYxUhc4iFMqx7yY', name: 'get_weather' };
    assert.deepEqual(only(events, 'tool-call-start'), [call]);
    assert.deepEqual(JSON.parse(args(events)), { city: 'San Francisco' });
    assert.deepEqual(
      only(events, 'finish').map((f) => f.finish),
      [{ unified: 'tool_calls', raw: 'tool_use' }],
    );
    const [usage] = only(events, 'usage');
    assert.equal(usage.usage.inputTokens, 624);
    assert.equal(usage.usage.outputTokens, 59);
    assert.equal(only(events, 'error').length, 0);
  });
});

// ---------------------------------------------------------------------------------------------
// OpenAI Chat Completions
// ---------------------------------------------------------------------------------------------

/** A chat chunk's kind: the first (with the role), tool-call fragments, content, the finish, the usage, [DONE]. */
function chatKind(f: Frame): string {
  if (f.data === '[DONE]') return '[DONE]';
  const c = f.json.choices?.[0];
  if (!c) return 'usage';
  if (c.finish_reason) return 'finish';
  if (c.delta?.role) return 'first';
  if (c.delta?.tool_calls) return 'tool-args';
  return 'content';
}
const chatFields = (frames: Frame[]) =>
  fieldsByKind(frames.filter((f) => f.data !== '[DONE]').map((f) => ({ kind: chatKind(f), json: f.json })));

describe('OpenAI emulator vs recorded Chat Completions output', () => {
  const stream = recorded('openai-chat', 'tool-call-usage.sse');

  test('a tool call streamed with a usage chunk: framing, chunk sequence, fields, headers', async () => {
    const res = await openaiPost({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'What is the capital of my country? [[call:get_capital:{"country":"UK"}]]' }],
      tools: [{ type: 'function', function: { name: 'get_capital', parameters: { type: 'object', properties: { country: {} } } } }],
    });
    assert.equal(res.status, 200);
    const raw = await res.text();
    assert.deepEqual(framingOf(raw), framingOf(stream));
    assert.deepEqual(pattern(framesOf(raw).map(chatKind)), pattern(framesOf(stream).map(chatKind)));
    assertSameFields([chatFields(framesOf(stream))], chatFields(framesOf(raw)));
    const rec = sources('openai-chat').files['tool-call-usage.sse'].headers!;
    assert.equal(mediaType(res.headers.get('content-type')), mediaType(rec['content-type']));
    const documented = [...documentedHeaders('openai-chat', 'every response'), ...documentedHeaders('openai-chat', 'rate limits')];
    assert.equal(documented.length, 9);
    for (const h of documented) assert.ok(res.headers.get(h), h);
    assert.equal(res.headers.get('openai-version'), rec['openai-version']);
  });

  test('a whole completion with a tool call has the recorded fields', async () => {
    const res = await openaiPost({
      model: 'gpt-4o',
      tool_choice: 'auto',
      messages: [{ role: 'user', content: 'What is the largest city in the user country?' }],
      tools: [{ type: 'function', function: { name: 'get_user_country', parameters: { type: 'object', properties: {} } } }],
    });
    assert.equal(res.status, 200);
    const rec = sources('openai-chat').files['tool-call.json'].headers!;
    assert.equal(mediaType(res.headers.get('content-type')), mediaType(rec['content-type']));
    const got = [...keyPaths(await res.json())].sort();
    assert.deepEqual(got, [...keyPaths(JSON.parse(recorded('openai-chat', 'tool-call.json')))].sort());
  });

  test('an error body has the recorded fields', async () => {
    const res = await openaiPost({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], reasoning_effort: 'low' });
    assert.equal(res.status, sources('openai-chat').files['error-400.json'].status);
    assert.ok(res.headers.get('x-request-id'));
    assert.deepEqual([...keyPaths(await res.json())].sort(), [...keyPaths(JSON.parse(recorded('openai-chat', 'error-400.json')))].sort());
  });
});

describe("Freeway's OpenAI adapter reads the recorded stream", () => {
  test('tool-call fragments assembled, finish tool_calls, the usage chunk read after the finish', async () => {
    const body = inPieces(recorded('openai-chat', 'tool-call-usage.sse'));
    const events = await collect(convertOpenAIStream(body, 'OpenAI', {}, new AbortController().signal));
    const call = { type: 'tool-call-start', index: 0, id: 'call_ZR5UUuTt3pf61kjwAJIYdVMj', name: 'get_capital' };
    assert.deepEqual(only(events, 'tool-call-start'), [call]);
    assert.deepEqual(JSON.parse(args(events)), { country: 'UK' });
    assert.equal(texts(events), '');
    assert.deepEqual(
      only(events, 'finish').map((f) => f.finish),
      [{ unified: 'tool_calls', raw: 'tool_calls' }],
    );
    const [usage] = only(events, 'usage');
    assert.equal(usage.usage.inputTokens, 53);
    assert.equal(usage.usage.outputTokens, 15);
    assert.equal(only(events, 'error').length, 0);
  });
});

// ---------------------------------------------------------------------------------------------
// Gemini
// ---------------------------------------------------------------------------------------------

/** A Gemini chunk's kind: what its parts carry, or `last` when it has the finishReason. */
function geminiKind(f: Frame): string {
  const c = f.json.candidates?.[0];
  if (c?.finishReason) return 'last';
  const parts: Array<{ functionCall?: unknown; thought?: boolean }> = c?.content?.parts ?? [];
  if (parts.some((p) => p.functionCall)) return 'call';
  return parts.some((p) => p.thought) ? 'thought' : 'text';
}
const geminiFields = (frames: Frame[]) => fieldsByKind(frames.map((f) => ({ kind: geminiKind(f), json: f.json })));

describe('Gemini emulator vs recorded streamGenerateContent output', () => {
  const stream = recorded('gemini', 'tool-call-thought-signature.sse');

  test('a function call with its thought signature: framing (CRLF), chunk sequence, fields, headers', async () => {
    const res = await geminiPost('gemini-3-pro-preview', 'streamGenerateContent?alt=sse', {
      contents: [{ role: 'user', parts: [{ text: 'What is the capital of the user country? Call the tool' }] }],
      tools: [{ functionDeclarations: [{ name: 'get_country', parameters: { type: 'OBJECT', properties: {} } }] }],
    });
    assert.equal(res.status, 200);
    const raw = await res.text();
    assert.deepEqual(framingOf(raw), framingOf(stream));
    assert.deepEqual(pattern(framesOf(raw).map(geminiKind)), pattern(framesOf(stream).map(geminiKind)));
    assertSameFields([geminiFields(framesOf(stream))], geminiFields(framesOf(raw)));
    const rec = sources('gemini').files['tool-call-thought-signature.sse'].headers!;
    assert.equal(mediaType(res.headers.get('content-type')), mediaType(rec['content-type']));
  });

  test('an error body has the recorded fields', async () => {
    const res = await geminiPost('gemini-3-pro-preview', 'generateContent', {
      contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
      generationConfig: { thinkingConfig: { thinkingBudget: 128, thinkingLevel: 'low' } },
    });
    assert.equal(res.status, sources('gemini').files['error-400.json'].status);
    const body = (await res.json()) as { error: { status: string } };
    assert.deepEqual([...keyPaths(body)].sort(), [...keyPaths(JSON.parse(recorded('gemini', 'error-400.json')))].sort());
    assert.equal(body.error.status, 'INVALID_ARGUMENT');
  });
});

describe("Freeway's Gemini adapter reads the recorded stream", () => {
  test('CRLF-framed chunks: the call whole with its signature, the finish after it, the last usage', async () => {
    const body = inPieces(recorded('gemini', 'tool-call-thought-signature.sse'));
    const events = await collect(convertGeminiStream(body, 'Google', new AbortController().signal));
    assert.deepEqual(events[0], { type: 'start', upstreamId: 'QUVVadTSNJ6_qtsPvN7J8Q0' });
    const [start] = only(events, 'tool-call-start');
    assert.equal(start.name, 'get_country');
    assert.deepEqual(JSON.parse(args(events)), {});
    const sig = only(events, 'reasoning').find((r) => r.kind === 'reasoning.encrypted');
    assert.ok(sig && 'data' in sig && sig.data === 'EpwICpkIAXLI2nxlU6gsWZaZ', 'the thought signature kept');
    assert.equal(texts(events), '');
    // Gemini says STOP after a function call; the call makes it a tool-calls finish.
    assert.deepEqual(
      only(events, 'finish').map((f) => f.finish),
      [{ unified: 'tool_calls', raw: 'STOP' }],
    );
    const [usage] = only(events, 'usage');
    assert.equal(usage.usage.inputTokens, 29);
    assert.equal(usage.usage.reasoningTokens, 202);
    assert.equal(only(events, 'error').length, 0);
  });
});

// ---------------------------------------------------------------------------------------------
// OpenAI Responses: Freeway's own door plays the API
// ---------------------------------------------------------------------------------------------

/** A Responses event's kind: its type, and the item type of output_item events. */
const responsesKind = (f: Frame): string => (f.json.item ? `${f.json.type}:${f.json.item.type}` : f.json.type);

describe("Freeway's Responses door vs recorded Responses API output", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack?.close());

  test('a function call streamed: framing, event sequence, fields, content type', async () => {
    const stream = recorded('openai-responses', 'reasoning-function-call.sse');
    const res = await fetch(`${stack.baseURL}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, ...json },
      body: JSON.stringify({
        model: 'openai/gpt-5-mini',
        stream: true,
        reasoning: { effort: 'low' },
        input: [{ role: 'user', content: 'Calculate 100 * 200 / 3' }],
        tool_choice: 'required',
        tools: [{ type: 'function', name: 'final_result', parameters: { type: 'object', properties: { result: { type: 'integer' } } } }],
      }),
    });
    assert.equal(res.status, 200);
    const raw = await res.text();
    assert.deepEqual(framingOf(raw), framingOf(stream));
    // OpenAI's chat API (Freeway's upstream here) keeps its reasoning to itself: no reasoning item to compare.
    const kinds = (frames: Frame[]) => pattern(frames.map(responsesKind).filter((k) => !k.endsWith(':reasoning')));
    assert.deepEqual(kinds(framesOf(raw)), kinds(framesOf(stream)));
    const fields = (frames: Frame[]) => fieldsByKind(frames.map((f) => ({ kind: responsesKind(f), json: f.json })));
    const ignore = (_kind: string, path: string): boolean =>
      // The tools echo the request's own schemas; the recording's reasoning item has no counterpart here.
      path.startsWith('response.tools[].parameters.') ||
      path === 'response.output[].encrypted_content' ||
      path === 'response.output[].summary';
    const diff = fieldDiff([fields(framesOf(stream))], fields(framesOf(raw)), ignore);
    const strip = (paths: string[]): string[] => [...new Set(paths.map((p) => p.slice(p.indexOf(': ') + 2)))].sort();
    // Known and deliberate: OpenRouter's additions to the Responses object (its SDK's schema requires
    // them), and `name` on function_call_arguments.done (in OpenAI's current SDK types).
    assert.deepEqual(strip(diff.extra), [
      'name',
      'response.completed_at',
      'response.frequency_penalty',
      'response.presence_penalty',
      'response.provider',
      'response.usage.cost',
      'response.usage.cost_details',
      'response.usage.cost_details.freeway_fee',
      'response.usage.cost_details.service_tier',
      'response.usage.cost_details.total_cost',
      'response.usage.cost_details.upstream_inference_completions_cost',
      'response.usage.cost_details.upstream_inference_cost',
      'response.usage.cost_details.upstream_inference_input_cost',
      'response.usage.cost_details.upstream_inference_output_cost',
      'response.usage.cost_details.upstream_inference_prompt_cost',
      'response.usage.input_tokens_details.cache_write_tokens',
      'response.usage.is_byok',
    ]);
    // Known and deliberate: OpenAI's optional stream `obfuscation` padding (its purpose is to vary the
    // size of each event on the wire; Freeway's events are not sent for a side channel to size).
    assert.deepEqual(strip(diff.missing), ['obfuscation']);
    const rec = sources('openai-responses').files['reasoning-function-call.sse'].headers!;
    assert.equal(mediaType(res.headers.get('content-type')), mediaType(rec['content-type']));
  });
});

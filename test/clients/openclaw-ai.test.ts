/**
 * OpenClaw's model layer (`@openclaw/ai`, devDependency: the provider adapters and streaming runtime the
 * OpenClaw agent talks to models through) in-process against Freeway, unchanged but for where it points.
 * The streams are the ones OpenClaw's embedded agent runner uses (`createBoundaryAwareStreamFnForModel`,
 * its managed transports), and once the package's plain runtime (`createLlmRuntime` + built-in providers):
 * - its OpenRouter provider (`provider: 'openrouter'`, `api: 'openai-completions'`, `baseUrl: <freeway>/api/v1`)
 *   on a GPT, a Claude and a Gemini model: a streamed answer whose deltas assemble to the text and whose
 *   usage and provider-billed cost are what Freeway recorded (GET /generation?id= with OpenClaw's
 *   responseId); a tool round trip with `reasoning: 'low'` (the call parsed with its args, the result sent
 *   back, the final answer; the thinking reaching OpenClaw, and on Gemini its signature going back to
 *   Google); a bad key, an unknown model and a connection lost mid-stream as OpenClaw's error messages
 *   carrying Freeway's;
 * - its generic OpenAI-compatible provider (any other provider id: `reasoning_effort` instead of `reasoning`);
 * - its Anthropic provider (`api: 'anthropic-messages'`, `baseUrl: <freeway>/api`) on Freeway's Messages door,
 *   on a Claude and a Gemini model: a tool round trip with thinking whose signature goes back as it came,
 *   usage as recorded (the generation found by the `x-generation-id` header), a bad key, a lost connection;
 *   and on a GPT model its thinking budget reaching OpenAI as the effort that budget's share of the cap stands for.
 * Its SDKs call the global fetch: a guard on it refuses and records every host but loopback, and keeps the
 * bodies OpenClaw sent to Freeway.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLlmRuntime } from '@openclaw/ai';
import type { AssistantMessage, Context, Model, SimpleStreamOptions, ThinkingContent, Tool, ToolCall, Usage } from '@openclaw/ai';
import { registerBuiltInApiProviders } from '@openclaw/ai/providers';
import { createBoundaryAwareStreamFnForModel } from '@openclaw/ai/transports';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';
import { guardFetch } from '../helpers/loopback-fetch.ts';

let stack: Stack;
/** Freeway's own API, read by the test itself: not recorded as something OpenClaw sent. */
const realFetch = globalThis.fetch;
const { sent, outbound } = guardFetch(() => stack?.gw.url);

before(async () => {
  stack = await startStack();
});
after(() => stack.close());

/** A GPT, a Claude and a Gemini model, by the provider-prefixed ids OpenRouter clients use. */
const MODELS = ['openai/gpt-5-mini', 'anthropic/claude-sonnet-4-5', 'google/gemini-2.5-flash'];
const LONG = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');

/** A model entry as OpenClaw's config resolves one: its own prices unknown (zero), so any cost is Freeway's. */
function model(id: string, api: 'openai-completions' | 'anthropic-messages', provider: string): Model {
  const baseUrl = api === 'anthropic-messages' ? `${stack.gw.url}/api` : stack.baseURL;
  const cost = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  return { id, name: id, api, provider, baseUrl, reasoning: true, input: ['text'], cost, contextWindow: 200_000, maxTokens: 8192 };
}
const openRouter = (id: string) => model(id, 'openai-completions', 'openrouter');

const weather: Tool = {
  name: 'weather',
  description: 'Weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const ask = (text: string, tools?: Tool[]): Context => ({
  systemPrompt: 'You are a helpful assistant.',
  messages: [{ role: 'user', content: text, timestamp: Date.now() }],
  ...(tools ? { tools } : {}),
});

interface Run {
  message: AssistantMessage;
  types: string[];
  /** The text and thinking as the deltas brought them. */
  text: string;
  thinking: string;
  /** Freeway's generation id, from the response headers OpenClaw hands its `onResponse` hook. */
  generationId?: string;
}

/** One model call through the stream OpenClaw's agent runner uses, its events consumed as it consumes them. */
async function run(m: Model, context: Context, options: SimpleStreamOptions = {}): Promise<Run> {
  const streamFn = createBoundaryAwareStreamFnForModel(m);
  assert.ok(streamFn, `a managed transport for ${m.api}`);
  let generationId: string | undefined;
  const stream = await streamFn(m, context, {
    apiKey: stack.key,
    ...options,
    onResponse: (r) => {
      generationId = r.headers['x-generation-id'];
    },
  });
  const types: string[] = [];
  let text = '';
  let thinking = '';
  for await (const e of stream) {
    types.push(e.type);
    if (e.type === 'text_delta') text += e.delta;
    if (e.type === 'thinking_delta') thinking += e.delta;
  }
  return { message: await stream.result(), types, text, thinking, generationId };
}

const textOf = (m: AssistantMessage) => m.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
const thinkingOf = (m: AssistantMessage) => m.content.find((b): b is ThinkingContent => b.type === 'thinking');
const toolCallOf = (m: AssistantMessage) => m.content.find((b): b is ToolCall => b.type === 'toolCall');

/** The assistant turn that called the weather tool, then the tool's answer, appended to the conversation. */
function answerWeather(context: { messages: unknown[] }, turn: AssistantMessage, call: ToolCall, result: string): void {
  context.messages.push(turn, {
    role: 'toolResult',
    toolCallId: call.id,
    toolName: 'weather',
    content: [{ type: 'text', text: result }],
    isError: false,
    timestamp: Date.now(),
  });
}

/** GET /api/v1/generation?id= with the key that made it. */
// any: Freeway's generation record, read loosely by the assertions.
async function generation(id: string): Promise<any> {
  const r = await realFetch(`${stack.baseURL}/generation?id=${encodeURIComponent(id)}`, {
    headers: { authorization: `Bearer ${stack.key}` },
  });
  assert.equal(r.status, 200, `generation ${id}`);
  return ((await r.json()) as { data: unknown }).data;
}

/** OpenClaw's usage (tokens split as it splits them) against what Freeway recorded for the same generation. */
async function assertRecorded(m: AssistantMessage, id: string, opts: { cost: boolean }): Promise<void> {
  const g = await generation(id);
  const u = m.usage;
  assert.ok(u.output > 0, JSON.stringify(u));
  assert.equal(u.input + u.cacheRead + u.cacheWrite, g.tokens_prompt, 'prompt tokens');
  assert.equal(u.output, g.tokens_completion, 'completion tokens');
  assert.equal(u.cacheRead, g.native_tokens_cached ?? 0, 'cache reads');
  assert.equal(u.cacheWrite, g.native_tokens_cache_write ?? 0, 'cache writes');
  assert.equal(u.totalTokens, g.tokens_prompt + g.tokens_completion);
  if (!opts.cost) return;
  // OpenRouter's usage.cost is what OpenClaw books as provider-billed, over its own price table.
  assert.ok(g.total_cost > 0);
  assert.equal(u.cost.total, g.total_cost, 'cost');
  assert.equal(u.cost.totalOrigin, 'provider-billed');
}

for (const id of MODELS) {
  describe(`OpenRouter provider → ${id}`, () => {
    test('a streamed answer: deltas assemble to the text, usage and cost as Freeway recorded them', async () => {
      // Thinking off: after reasoning, OpenClaw's completions transport holds the answer's text back (its
      // reasoning-tag partitioner) and hands it over in one delta, whatever the stream's framing.
      const r = await run(openRouter(id), ask('Hi [[long]]'), { reasoning: 'off' });
      const body = sent.at(-1)?.body;
      assert.equal(sent.at(-1)?.path, '/api/v1/chat/completions');
      assert.equal(body.model, id);
      assert.equal(body.stream_options?.include_usage, true);
      assert.equal(r.message.stopReason, 'stop', r.message.errorMessage);
      assert.ok(r.types.filter((t) => t === 'text_delta').length > 3, `streamed in pieces: ${r.types.join()}`);
      assert.equal(r.text, LONG);
      assert.equal(textOf(r.message), LONG);
      assert.equal(r.types.at(-1), 'done');
      assert.match(r.message.responseId ?? '', /^gen-/);
      await assertRecorded(r.message, r.message.responseId ?? '', { cost: true });
    });

    test('a tool round trip with reasoning: the call and its args, the result back, the final answer', async () => {
      const m = openRouter(id);
      const context = ask('What is the weather in Paris?', [weather]);
      const first = await run(m, context, { reasoning: 'low' });
      assert.deepEqual(sent.at(-1)?.body.reasoning, { effort: 'low' }, 'OpenRouter’s reasoning parameter');
      assert.equal(first.message.stopReason, 'toolUse', first.message.errorMessage);
      assert.ok(first.types.includes('toolcall_end'));
      const call = toolCallOf(first.message);
      assert.equal(call?.name, 'weather');
      assert.deepEqual(call?.arguments, { city: 'Paris' });
      assert.ok(call?.id);
      const g = await generation(first.message.responseId ?? '');
      // Anthropic reports no reasoning tokens apart; OpenAI and Google do, and OpenClaw keeps them.
      if (!id.startsWith('anthropic/')) assert.ok(g.native_tokens_reasoning > 0, 'the model reasoned');
      // OpenClaw's transports keep the reasoning tokens on the usage they build, beyond the public Usage type.
      const usage: Usage & { reasoningTokens?: number } = first.message.usage;
      assert.equal(usage.reasoningTokens, g.native_tokens_reasoning);
      if (!id.startsWith('openai/')) {
        // Claude's and Gemini's thinking reaches OpenClaw as a thinking block (GPT's stays OpenAI's).
        assert.match(first.thinking, /Paris/);
        assert.equal(thinkingOf(first.message)?.thinking, first.thinking);
      }

      answerWeather(context, first.message, call, JSON.stringify({ city: 'Paris', temp: 21 }));
      const second = await run(m, context, { reasoning: 'low' });
      assert.equal(second.message.stopReason, 'stop', second.message.errorMessage);
      assert.match(textOf(second.message), /"temp":21/, 'the emulators quote the tool result');
      const back = sent.at(-1)?.body.messages;
      assert.equal(back.at(-1).role, 'tool');
      assert.equal(back.at(-1).tool_call_id, call.id);
      assert.equal(back.at(-2).tool_calls[0].id, call.id);
      await assertRecorded(second.message, second.message.responseId ?? '', { cost: true });

      if (id.startsWith('google/')) {
        // Gemini's thought signature rides on the call as an encrypted reasoning detail, goes back in
        // reasoning_details, and reaches Google on the replayed functionCall: Gemini verifies it.
        const detail = JSON.parse(call.thoughtSignature ?? '{}');
        assert.equal(detail.type, 'reasoning.encrypted');
        assert.deepEqual(back.at(-2).reasoning_details, [detail]);
        const replayed = stack.gemini.last().body.contents[1].parts.find((p: { functionCall?: unknown }) => p.functionCall);
        assert.equal(replayed.thoughtSignature, detail.data);
      }
      if (id.startsWith('anthropic/')) {
        // OpenClaw replays no reasoning for anthropic/ models on OpenRouter, so Claude's signature is gone:
        // Freeway continues that tool turn with thinking off rather than have Anthropic refuse it.
        assert.equal(back.at(-2).reasoning_details, undefined);
        assert.equal(stack.anthropic.last().body.thinking, undefined);
      }
    });

    // GPT's reasoning stays OpenAI's: there is no thinking to send back.
    if (!id.startsWith('openai/'))
      test('thinking on a text turn goes back on the next turn, and is accepted', async () => {
        const m = openRouter(id);
        const context = ask('Hi [[say:first]]');
        const first = await run(m, context, { reasoning: 'high' });
        assert.equal(textOf(first.message), 'first');
        assert.match(thinkingOf(first.message)?.thinking ?? '', /Hi/);
        context.messages.push(first.message, { role: 'user', content: 'Again [[say:second]]', timestamp: Date.now() });
        const second = await run(m, context, { reasoning: 'high' });
        assert.equal(second.message.stopReason, 'stop', second.message.errorMessage);
        assert.equal(textOf(second.message), 'second');
        // On Gemini OpenClaw sends it back as OpenRouter's `reasoning` string on the assistant message.
        const replayed = sent.at(-1)?.body.messages.find((x: { role: string }) => x.role === 'assistant');
        assert.equal(replayed.reasoning, id.startsWith('google/') ? first.thinking : undefined);
      });
  });
}

describe('OpenRouter provider: failures are OpenClaw error messages carrying Freeway’s', () => {
  test('a bad key', async () => {
    const r = await run(openRouter('openai/gpt-5-mini'), ask('hi'), { apiKey: 'sk-or-v1-not-a-key' });
    assert.deepEqual(r.types, ['error']);
    assert.equal(r.message.stopReason, 'error');
    assert.equal(r.message.errorMessage, '401 Invalid API key');
    assert.equal(r.message.errorCode, '401');
  });

  test('an unknown model', async () => {
    const r = await run(openRouter('nope/unknown-model'), ask('hi'));
    assert.equal(r.message.stopReason, 'error');
    assert.equal(r.message.errorMessage, '404 nope/unknown-model is not a valid model ID.');
    assert.equal(r.message.errorCode, '404');
  });

  test('a connection lost mid-answer is an error after the text so far, not a shorter answer', async () => {
    for (const id of MODELS) {
      const r = await run(openRouter(id), ask('hi [[long]] [[die:4]]'), { reasoning: 'off' });
      assert.equal(r.types.at(-1), 'error', id);
      assert.equal(r.message.stopReason, 'error');
      assert.match(r.message.errorMessage ?? '', /closed the connection mid-stream/, id);
      assert.equal(r.message.errorCode, '502');
      assert.ok(r.text.startsWith('word0') && !r.text.includes('word199'), `${id}: ${r.text}`);
    }
  });
});

test('OpenAI-compatible provider (any other id): reasoning_effort, thinking upstream, tool round trips', async () => {
  for (const id of MODELS) {
    const m = model(id, 'openai-completions', 'freeway');
    const context = ask('What is the weather in Paris?', [weather]);
    const first = await run(m, context, { reasoning: 'low' });
    const body = sent.at(-1)?.body;
    assert.equal(body.reasoning_effort, 'low');
    assert.equal(body.reasoning, undefined);
    if (id.startsWith('anthropic/')) assert.equal(stack.anthropic.last().body.thinking?.type, 'enabled');
    if (id.startsWith('google/')) assert.equal(stack.gemini.last().body.generationConfig.thinkingConfig.includeThoughts, true);
    const call = toolCallOf(first.message);
    assert.deepEqual(call?.arguments, { city: 'Paris' }, `${id}: ${first.message.errorMessage}`);
    answerWeather(context, first.message, call, '{"temp":21}');
    const second = await run(m, context, { reasoning: 'low' });
    assert.equal(second.message.stopReason, 'stop', `${id}: ${second.message.errorMessage}`);
    assert.match(textOf(second.message), /"temp":21/);
    await assertRecorded(second.message, second.message.responseId ?? '', { cost: true });
  }
});

test('the package’s plain runtime (built-in providers): an answer with its cost, a bad key', async () => {
  const runtime = createLlmRuntime();
  registerBuiltInApiProviders(runtime.registry);
  for (const id of MODELS) {
    const m = await runtime.completeSimple(openRouter(id), ask('Hi [[say:plain answer]]'), { apiKey: stack.key });
    assert.equal(textOf(m), 'plain answer', m.errorMessage);
    await assertRecorded(m, m.responseId ?? '', { cost: true });
  }
  const bad = await runtime.completeSimple(openRouter('openai/gpt-5-mini'), ask('hi'), { apiKey: 'sk-or-v1-not-a-key' });
  assert.equal(bad.errorMessage, '401 Invalid API key');
  const claude = model('anthropic/claude-sonnet-4-5', 'anthropic-messages', 'anthropic');
  const m = await runtime.completeSimple(claude, ask('Hi [[say:plain answer]]'), { apiKey: stack.key });
  assert.equal(sent.at(-1)?.path, '/api/v1/messages', 'the Anthropic SDK appends /v1/messages to the base URL');
  assert.equal(textOf(m), 'plain answer', m.errorMessage);
});

for (const id of ['anthropic/claude-sonnet-4-5', 'google/gemini-2.5-flash']) {
  describe(`Anthropic provider → ${id} (Freeway’s Messages door)`, () => {
    test('a tool round trip with thinking: the signature goes back as it came; usage as recorded', async () => {
      const m = model(id, 'anthropic-messages', 'anthropic');
      const context = ask('What is the weather in Paris?', [weather]);
      const first = await run(m, context, { reasoning: 'low' });
      assert.equal(sent.at(-1)?.path, '/api/v1/messages');
      assert.equal(sent.at(-1)?.body.thinking?.type, 'enabled');
      assert.equal(first.message.stopReason, 'toolUse', first.message.errorMessage);
      const thinking = thinkingOf(first.message);
      assert.match(thinking?.thinking ?? '', /Paris/);
      assert.ok(thinking?.thinkingSignature, 'the signature');
      const call = toolCallOf(first.message);
      assert.equal(call?.name, 'weather');
      assert.deepEqual(call?.arguments, { city: 'Paris' });
      assert.ok(first.generationId);
      await assertRecorded(first.message, first.generationId, { cost: false });

      answerWeather(context, first.message, call, '{"temp":21}');
      const second = await run(m, context, { reasoning: 'low' });
      assert.equal(second.message.stopReason, 'stop', second.message.errorMessage);
      assert.match(textOf(second.message), /"temp":21/);
      const replayed = sent.at(-1)?.body.messages[1].content;
      assert.deepEqual(replayed[0], { type: 'thinking', thinking: thinking.thinking, signature: thinking.thinkingSignature });
      assert.equal(replayed[1].id, call.id);
      // Upstream, the thinking arrived intact: Claude (relayed raw) and Gemini (its signature) verify it.
      if (id.startsWith('anthropic/'))
        assert.equal(stack.anthropic.last().body.messages[1].content[0].signature, thinking.thinkingSignature);
      assert.ok(second.generationId);
      await assertRecorded(second.message, second.generationId, { cost: false });
    });

    test('a connection lost mid-answer is an error after the text so far', async () => {
      const r = await run(model(id, 'anthropic-messages', 'anthropic'), ask('hi [[long]] [[die:4]]'));
      assert.equal(r.types.at(-1), 'error');
      assert.equal(r.message.stopReason, 'error');
      assert.match(r.message.errorMessage ?? '', /closed the connection mid-stream/);
      assert.ok(r.text.startsWith('word0') && !r.text.includes('word199'), r.text);
    });
  });
}

test('Anthropic provider → a GPT model: OpenClaw’s thinking budget reaches OpenAI as the effort it stands for', async () => {
  const m = model('openai/gpt-5-mini', 'anthropic-messages', 'anthropic');
  // OpenClaw's budgets at an 8192-token cap: low 2048 (25%), high the cap less 1024 (88%).
  for (const [level, effort] of [
    ['low', 'low'],
    ['high', 'high'],
  ] as const) {
    const r = await run(m, ask('Hi [[say:ok]]'), { reasoning: level });
    assert.equal(textOf(r.message), 'ok', r.message.errorMessage);
    const { max_tokens: cap, thinking } = sent.at(-1)?.body ?? {};
    // OpenRouter's rule for effort-only models: the budget's share of the output cap (20% low, 50% medium, 80% high).
    assert.equal(thinking?.type, 'enabled');
    assert.equal(stack.openai.last().body.reasoning_effort, effort, `${level}: budget ${thinking?.budget_tokens} of ${cap}`);
  }
});

test('Anthropic provider: a bad key is an OpenClaw error with Freeway’s Anthropic-format message', async () => {
  const r = await run(model('anthropic/claude-sonnet-4-5', 'anthropic-messages', 'anthropic'), ask('hi'), { apiKey: 'sk-or-v1-not-a-key' });
  assert.equal(r.message.stopReason, 'error');
  assert.equal(r.message.errorCode, '401');
  assert.match(r.message.errorMessage ?? '', /^401\b.*Invalid API key/);
  assert.equal(JSON.parse(r.message.errorBody ?? '{}').error?.type, 'authentication_error', 'Anthropic’s error envelope');
});

test('nothing OpenClaw did left loopback', () => {
  assert.ok(sent.length > 30, 'the guard saw the requests');
  assert.deepEqual(outbound, []);
});

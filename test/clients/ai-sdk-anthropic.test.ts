/**
 * The AI SDK's Anthropic provider (`@ai-sdk/anthropic`) pointed at Freeway's Messages door
 * (`baseURL: <freeway>/v1`; the provider appends `/messages`), unchanged: a tool loop of two steps
 * with thinking enabled through providerOptions, whole and streamed, where the second step sends
 * the first step's signed thinking back; on a Claude model (passed through), a GPT and a Gemini model
 * (translated). The answer names the model the client asked for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAnthropic } from '@ai-sdk/anthropic';
import { APICallError, generateText, Output, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';
import type { Emulator, RecordedRequest } from '../emulators/common.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

// The provider warns that it caps output at 4096 tokens for a model id it does not know: expected here.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

let stack: Stack;
// any: the Messages request bodies the provider sent, read loosely by the assertions.
type Body = { model: string; thinking?: { type: string }; messages: Array<{ role: string; content: any }> };
/** Every request body the provider sent to Freeway's /messages. */
let sent: Body[] = [];

function provider() {
  return createAnthropic({
    apiKey: stack.key,
    baseURL: `${stack.gw.url}/v1`,
    fetch: async (url, init) => {
      if (String(url).endsWith('/v1/messages') && typeof init?.body === 'string') sent.push(JSON.parse(init.body));
      return fetch(url, init);
    },
  });
}

before(async () => {
  stack = await startStack();
});
after(() => stack.close());

const weather = (calls: string[]) =>
  tool({
    description: 'Weather in a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      calls.push(city);
      return { city, temp: 21 };
    },
  });

const thinking = { anthropic: { thinking: { type: 'enabled', budgetTokens: 1024 } } } as const;

const MODELS = [
  { model: 'anthropic/claude-sonnet-4-5', upstream: 'anthropic' },
  { model: 'openai/gpt-5-mini', upstream: 'openai' },
  { model: 'google/gemini-2.5-flash', upstream: 'gemini' },
] as const;

function posts(e: Emulator, from: number): RecordedRequest[] {
  return e.requests.slice(from).filter((r) => r.method === 'POST');
}

/** The second step's request: its assistant turn goes back starting with the first step's signed thinking. */
function assertThinkingKept(body: Body): void {
  const assistant = body.messages.find((m) => m.role === 'assistant');
  assert.ok(assistant, 'the first step went back');
  const blocks = assistant.content as Array<{ type: string; thinking?: string; signature?: string }>;
  assert.equal(blocks[0].type, 'thinking', JSON.stringify(blocks));
  assert.ok(blocks[0].thinking, 'the thinking text');
  assert.ok(blocks[0].signature, 'the signature');
  assert.ok(blocks.some((b) => b.type === 'tool_use'));
}

/** What the upstream received on the second step shows the thinking was carried, in its own protocol. */
function assertUpstreamKept(upstream: string, e: Emulator, from: number): void {
  const calls = posts(e, from);
  assert.equal(calls.length, 2);
  const second = calls[1].body;
  if (upstream === 'anthropic') {
    const assistant = second.messages.find((m: { role: string }) => m.role === 'assistant');
    assert.equal(assistant.content[0].type, 'thinking');
  } else if (upstream === 'gemini') {
    const model = second.contents.find((c: { role: string }) => c.role === 'model');
    const call = model.parts.find((p: { functionCall?: unknown }) => p.functionCall);
    assert.ok(call.thoughtSignature, 'the function call went back with its thought signature');
  } else {
    assert.ok(second.reasoning_effort !== undefined, 'thinking asked for reasoning');
  }
}

for (const { model, upstream } of MODELS) {
  const emulator = (): Emulator => stack[upstream];
  // OpenAI's chat API keeps its reasoning text to itself: there is no thinking block to send back.
  const reasoningText = upstream !== 'openai';

  describe(`AI SDK + @ai-sdk/anthropic → ${model}`, () => {
    test('generateText: a plain answer names the model asked for', async () => {
      sent = [];
      const r = await generateText({ model: provider()(model), prompt: 'Hi. [[say:plain anthropic answer]]' });
      assert.equal(r.text, 'plain anthropic answer');
      assert.equal(r.response.modelId, model);
      assert.equal(r.finishReason, 'stop');
      assert.ok((r.usage.inputTokens ?? 0) > 0 && (r.usage.outputTokens ?? 0) > 0);
    });

    test('generateText: a tool loop of two steps with thinking kept across them', async () => {
      sent = [];
      const calls: string[] = [];
      const from = emulator().requests.length;
      const r = await generateText({
        model: provider()(model),
        prompt: 'What is the weather in Paris?',
        tools: { weather: weather(calls) },
        stopWhen: stepCountIs(3),
        providerOptions: thinking,
      });
      assert.deepEqual(calls, ['Paris']);
      assert.equal(r.steps.length, 2);
      assert.equal(r.steps[0].finishReason, 'tool-calls');
      if (reasoningText) assert.ok(r.steps[0].reasoningText, 'thinking on the tool-call step');
      assert.equal(r.response.modelId, model);
      assert.match(r.text, /21/);
      assert.equal(sent.length, 2);
      assert.equal(sent[0].thinking?.type, 'enabled');
      if (reasoningText) assertThinkingKept(sent[1]);
      assertUpstreamKept(upstream, emulator(), from);
    });

    test('streamText: the same loop streamed', async () => {
      sent = [];
      const calls: string[] = [];
      const from = emulator().requests.length;
      const r = streamText({
        model: provider()(model),
        prompt: 'What is the weather in Rome? [[call:weather:{"city":"Rome"}]]',
        tools: { weather: weather(calls) },
        stopWhen: stepCountIs(3),
        providerOptions: thinking,
      });
      let text = '';
      let reasoning = '';
      for await (const part of r.fullStream) {
        if (part.type === 'text-delta') text += part.text;
        if (part.type === 'reasoning-delta') reasoning += part.text;
        if (part.type === 'error') throw part.error;
      }
      assert.deepEqual(calls, ['Rome']);
      const steps = await r.steps;
      assert.equal(steps.length, 2);
      if (reasoningText) assert.ok(reasoning.length > 0, 'thinking streamed');
      assert.match(text, /21/);
      assert.equal((await r.response).modelId, model);
      assert.equal(sent.length, 2);
      if (reasoningText) assertThinkingKept(sent[1]);
      assertUpstreamKept(upstream, emulator(), from);
    });
  });
}

describe('AI SDK + @ai-sdk/anthropic: options a user sets', () => {
  for (const { model, upstream } of MODELS) {
    test(`${model}: a second turn after a tool loop keeps the thinking of the first`, async () => {
      sent = [];
      const calls: string[] = [];
      const tools = { weather: weather(calls) };
      const first = await generateText({
        model: provider()(model),
        prompt: 'What is the weather in Paris?',
        tools,
        stopWhen: stepCountIs(3),
        providerOptions: thinking,
      });
      const from = stack[upstream].requests.length;
      const second = await generateText({
        model: provider()(model),
        messages: [
          { role: 'user', content: 'What is the weather in Paris?' },
          ...first.response.messages,
          { role: 'user', content: 'Thanks! [[notool]] [[say:you are welcome]]' },
        ],
        tools,
        providerOptions: thinking,
      });
      assert.equal(second.text, 'you are welcome');
      assert.equal(posts(stack[upstream], from).length, 1);
      if (upstream !== 'openai') assertThinkingKept(sent.at(-1)!);
    });

    test(`${model}: adaptive thinking, effort, cache control, a user id and no parallel tool use`, async () => {
      sent = [];
      const r = await generateText({
        model: provider()(model),
        messages: [
          { role: 'system', content: 'You are terse.', providerOptions: { anthropic: { cacheControl: { type: 'ephemeral' } } } },
          { role: 'user', content: 'Hello there. [[say:adaptive ok]]' },
        ],
        providerOptions: {
          anthropic: { thinking: { type: 'adaptive' }, effort: 'low', metadata: { userId: 'user-1' }, disableParallelToolUse: true },
        },
      });
      assert.equal(r.text, 'adaptive ok');
      assert.equal(r.response.modelId, model);
      const up = stack[upstream].last().body;
      if (upstream === 'anthropic') {
        assert.deepEqual(up.thinking, { type: 'adaptive' });
        assert.deepEqual(up.output_config, { effort: 'low' });
        assert.deepEqual(up.metadata, { user_id: 'user-1' });
        assert.deepEqual(up.system[0].cache_control, { type: 'ephemeral' });
      } else if (upstream === 'openai') {
        assert.equal(up.reasoning_effort, 'low');
        assert.equal(up.messages[0].role, 'system');
      } else {
        assert.equal(up.generationConfig.thinkingConfig.includeThoughts, true);
        assert.equal(up.systemInstruction.parts[0].text, 'You are terse.');
      }
    });

    test(`${model}: a system message in mid-conversation, an image and a PDF`, async () => {
      sent = [];
      const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
      const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
      const r = await generateText({
        model: provider()(model),
        allowSystemInMessages: true,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi.' },
          { role: 'assistant', content: 'Hello.' },
          { role: 'system', content: 'From now on answer in French.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in these? [[say:une image]]' },
              { type: 'image', image: png, mediaType: 'image/png' },
              { type: 'file', data: pdf, mediaType: 'application/pdf' },
            ],
          },
        ],
      });
      assert.equal(r.text, 'une image');
      // The provider sends the later system message as a `system`-role message (with its beta header).
      assert.ok(sent.at(-1)!.messages.some((m) => m.role === 'system'));
      const up = JSON.stringify(stack[upstream].last().body);
      assert.match(up, /From now on answer in French/);
      assert.match(up, /JVBERi0xLjQ/, 'the PDF went up');
      assert.match(up, /iVBORw0KGgo/, 'the image went up');
    });

    test(`${model}: structured output`, async () => {
      sent = [];
      const r = await generateText({
        model: provider()(model),
        prompt: 'A city and its temperature.',
        output: Output.object({ schema: z.object({ city: z.string(), temp: z.number() }) }),
      });
      assert.equal(typeof r.output.city, 'string');
      assert.equal(typeof r.output.temp, 'number');
      // On a Claude id the provider asks for Anthropic's native JSON output; elsewhere it forces a `json` tool.
      if (upstream === 'anthropic') assert.equal(stack.anthropic.last().body.output_config.format.type, 'json_schema');
    });
  }
});

describe('AI SDK + @ai-sdk/anthropic: failures, read the way the provider reads Anthropic errors', () => {
  for (const { model } of MODELS) {
    test(`${model}: an upstream 503 is an APICallError with its status, retryable, in Anthropic's error envelope`, async () => {
      await assert.rejects(generateText({ model: provider()(model), prompt: 'hi [[error:503]]', maxRetries: 0 }), (err: unknown) => {
        assert.ok(APICallError.isInstance(err), String(err));
        assert.equal(err.statusCode, 503);
        assert.equal(err.isRetryable, true);
        const body = JSON.parse(err.responseBody ?? '{}');
        assert.equal(body.type, 'error');
        assert.equal(body.error?.type, 'overloaded_error', 'an upstream that is away: Anthropic calls it overloaded');
        return true;
      });
    });

    test(`${model}: a connection lost mid-answer ends the stream with an error part, after the text so far`, async () => {
      const r = streamText({ model: provider()(model), prompt: 'hi [[die:4]] [[long]]', maxRetries: 0 });
      let text = '';
      let error: unknown;
      for await (const part of r.fullStream) {
        if (part.type === 'text-delta') text += part.text;
        if (part.type === 'error') error = part.error;
      }
      assert.ok(text.length > 0, 'the text before the failure arrived');
      assert.ok(!text.includes('word199'), 'the answer is not complete');
      assert.equal((error as { type?: string } | undefined)?.type, 'api_error', JSON.stringify(error));
    });
  }
});

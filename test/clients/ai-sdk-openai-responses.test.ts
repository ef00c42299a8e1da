/**
 * The AI SDK's OpenAI provider on the Responses API (`@ai-sdk/openai`, `openai.responses(model)`)
 * pointed at Freeway's /api/v1, unchanged: a tool loop of two steps with reasoning, whole and
 * streamed, where each later step refers back to the stored earlier output by `item_reference`
 * (OpenAI's default, `store` true); `store: false` sends the items instead and keeps nothing; a
 * stored response is the key's own (another key gets 404). On a GPT, a Claude and a Gemini model.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { APICallError, generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;
/** Every request body the provider sent to Freeway's /responses. */
let sent: Array<{ input: Array<{ type?: string; id?: string }>; store?: boolean }> = [];

function provider(apiKey: string) {
  return createOpenAI({
    apiKey,
    baseURL: stack.baseURL,
    fetch: async (url, init) => {
      if (String(url).endsWith('/responses') && typeof init?.body === 'string') sent.push(JSON.parse(init.body));
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

// The model ids carry Freeway's `provider/` prefix, so the SDK cannot tell a reasoning model by its id.
const reasoning = { openai: { forceReasoning: true, reasoningEffort: 'low', reasoningSummary: 'auto' } } as const;
/**
 * Whether a later step refers to the earlier output by item_reference. The SDK does so for a
 * reasoning model's tool call only after a reasoning item; OpenAI's chat API (Freeway's OpenAI
 * upstream) returns no reasoning content to make one of, so there the SDK sends the call itself.
 */
function refersBack(model: string, input: Array<{ type?: string }>): boolean {
  const types = input.map((i) => i.type);
  return model.startsWith('openai/') ? types.includes('function_call') : types.includes('item_reference');
}

const MODELS = ['openai/gpt-5-mini', 'anthropic/claude-sonnet-4-5', 'google/gemini-2.5-flash'];

for (const model of MODELS) {
  describe(`AI SDK + @ai-sdk/openai Responses → ${model}`, () => {
    test('generateText: a tool loop with reasoning; the second step refers back by item_reference', async () => {
      sent = [];
      const calls: string[] = [];
      const r = await generateText({
        model: provider(stack.key).responses(model),
        prompt: 'What is the weather in Paris?',
        tools: { weather: weather(calls) },
        stopWhen: stepCountIs(3),
        providerOptions: reasoning,
      });
      assert.equal(calls.length, 1);
      assert.equal(r.steps.length, 2);
      // OpenAI's chat API keeps its reasoning text to itself: there, reasoning shows as tokens.
      if (model.startsWith('openai/')) assert.ok((r.steps[0].usage.outputTokenDetails.reasoningTokens ?? 0) > 0, 'reasoning tokens');
      else assert.ok(r.steps[0].reasoningText, 'reasoning on the tool-call step');
      assert.match(r.text, /21|Tool result/);
      assert.equal(sent.length, 2);
      assert.ok(refersBack(model, sent[1].input), `second step's input: ${JSON.stringify(sent[1].input.map((i) => i.type))}`);
    });

    test('streamText: the same loop streamed', async () => {
      sent = [];
      const calls: string[] = [];
      const r = streamText({
        model: provider(stack.key).responses(model),
        prompt: 'What is the weather in Rome?',
        tools: { weather: weather(calls) },
        stopWhen: stepCountIs(3),
        providerOptions: reasoning,
      });
      let text = '';
      for await (const part of r.textStream) text += part;
      assert.equal(calls.length, 1);
      assert.equal((await r.steps).length, 2);
      const first = (await r.steps)[0];
      if (model.startsWith('openai/')) assert.ok((first.usage.outputTokenDetails.reasoningTokens ?? 0) > 0, 'reasoning tokens');
      else assert.ok(first.reasoningText, 'reasoning streamed');
      assert.ok(text.length > 0);
      assert.ok(refersBack(model, sent[1].input), `second step's input: ${JSON.stringify(sent[1].input.map((i) => i.type))}`);
    });

    test('store: false sends the items themselves and keeps nothing', async () => {
      sent = [];
      const calls: string[] = [];
      const r = await generateText({
        model: provider(stack.key).responses(model),
        prompt: 'What is the weather in Oslo?',
        tools: { weather: weather(calls) },
        stopWhen: stepCountIs(3),
        providerOptions: { openai: { ...reasoning.openai, store: false } },
      });
      assert.equal(r.steps.length, 2);
      assert.ok(sent.every((b) => b.store === false && !b.input.some((i) => i.type === 'item_reference')));
      const get = await fetch(`${stack.baseURL}/responses/${r.response.id}`, { headers: { authorization: `Bearer ${stack.key}` } });
      assert.equal(get.status, 404);
    });
  });
}

describe('AI SDK + @ai-sdk/openai Responses → openai/gpt-4o-mini (no reasoning)', () => {
  test("a conversation's earlier answer comes back as an item_reference, resolved for the upstream", async () => {
    sent = [];
    const model = provider(stack.key).responses('openai/gpt-4o-mini');
    const first = await generateText({ model, prompt: '[[say:The answer is 42.]] What is the answer?' });
    const ask = (content: string) => ({ role: 'user' as const, content });
    const messages = [ask('What is the answer?'), ...first.response.messages, ask('Again?')];
    await generateText({ model, messages });
    assert.deepEqual(
      sent[1].input.map((i) => i.type),
      [undefined, 'item_reference', undefined],
    );
    const upstream = stack.openai.requests.filter((q) => q.method === 'POST').at(-1)?.body;
    assert.deepEqual(upstream.messages[1], { role: 'assistant', content: 'The answer is 42.' }, 'the referenced answer went upstream');
  });
});

describe('stored responses belong to their key', () => {
  test("another key's previous_response_id and item_reference are 404, as if they did not exist", async () => {
    sent = [];
    const mine = await generateText({ model: provider(stack.key).responses('openai/gpt-4o-mini'), prompt: 'remember me' });
    const responseId = mine.response.id;
    const itemId = (mine.response.body as { output: Array<{ id: string }> }).output[0].id;
    const other = await stack.newKey('other');
    await assert.rejects(
      generateText({
        model: provider(other).responses('openai/gpt-4o-mini'),
        prompt: 'continue',
        providerOptions: { openai: { previousResponseId: responseId } },
      }),
      (err: unknown) => APICallError.isInstance(err) && err.statusCode === 404,
    );
    const post = (key: string) =>
      fetch(`${stack.baseURL}/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'openai/gpt-4o-mini',
          input: [
            { type: 'item_reference', id: itemId },
            { role: 'user', content: 'and?' },
          ],
        }),
      });
    assert.equal((await post(other)).status, 404);
    assert.equal((await post(stack.key)).status, 200, 'the same reference works for its own key');
  });
});

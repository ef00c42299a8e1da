/**
 * The Vercel AI SDK with @openrouter/ai-sdk-provider pointed at Freeway's /api/v1, unchanged:
 * text, streaming, tools; and @ai-sdk/openai's chat model, which streams with
 * `stream_options.include_usage` (OpenAI's separate usage chunk).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenRouter } from '@openrouter/ai-sdk-provider';
import { generateText, streamText, tool, stepCountIs } from 'ai';
import { z } from 'zod';
import { MODELS, startStack } from '../helpers/stack.ts';
import type { ProviderName, Stack } from '../helpers/stack.ts';

let stack: Stack;
let openrouter: ReturnType<typeof createOpenRouter>;

before(async () => {
  stack = await startStack();
  openrouter = createOpenRouter({ apiKey: stack.key, baseURL: stack.baseURL });
});
after(() => stack.close());

for (const provider of Object.keys(MODELS) as ProviderName[]) {
  const model = MODELS[provider];
  describe(`AI SDK + OpenRouter provider → ${provider}`, () => {
    test('generateText', async () => {
      const r = await generateText({ model: openrouter(model), prompt: 'Say something' });
      assert.match(r.text, /You said: Say something/);
      assert.equal(r.finishReason, 'stop');
      assert.ok((r.usage.inputTokens ?? 0) > 0);
      assert.ok((r.usage.outputTokens ?? 0) > 0);
    });

    test('streamText', async () => {
      const r = streamText({ model: openrouter(model), prompt: 'Stream something' });
      let text = '';
      for await (const part of r.textStream) text += part;
      assert.match(text, /You said: Stream something/);
      assert.equal(await r.finishReason, 'stop');
      const usage = await r.usage;
      assert.ok((usage.inputTokens ?? 0) > 0);
    });

    test('tools: a full tool loop', async () => {
      let called = 0;
      const r = await generateText({
        model: openrouter(model),
        prompt: 'What is the weather?',
        tools: {
          weather: tool({
            description: 'Weather in a city',
            inputSchema: z.object({ city: z.string() }),
            execute: async ({ city }) => {
              called++;
              return { city, temp: 21 };
            },
          }),
        },
        stopWhen: stepCountIs(3),
      });
      assert.equal(called, 1);
      assert.equal(r.steps[0].toolCalls[0].toolName, 'weather');
      assert.deepEqual(r.steps[0].toolCalls[0].input, { city: 'Paris' });
      assert.match(r.text, /Tool result received: .*21/);
    });
  });
}

for (const provider of Object.keys(MODELS) as ProviderName[]) {
  describe(`AI SDK + @ai-sdk/openai chat (include_usage) → ${provider}`, () => {
    test('streamText reports the usage Freeway charged', async () => {
      const openai = createOpenAI({ apiKey: stack.key, baseURL: stack.baseURL });
      const r = streamText({ model: openai.chat(MODELS[provider]), prompt: 'Stream with usage' });
      let text = '';
      for await (const part of r.textStream) text += part;
      assert.match(text, /You said: Stream with usage/);
      assert.equal(await r.finishReason, 'stop');
      const usage = await r.usage;
      const { id } = await r.response;
      const g = await fetch(`${stack.baseURL}/generation?id=${id}`, { headers: { authorization: `Bearer ${stack.key}` } });
      const { data } = (await g.json()) as { data: { tokens_prompt: number; tokens_completion: number } };
      assert.ok(data.tokens_completion > 0);
      assert.equal(usage.inputTokens, data.tokens_prompt);
      assert.equal(usage.outputTokens, data.tokens_completion);
    });
  });
}

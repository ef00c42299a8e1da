/**
 * The official openai SDK against Freeway's /api/v1, served by each emulated provider: text,
 * streaming, a tool-call round trip, json_schema — checking both what the client got and what the
 * upstream received.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { LISTED, MODELS, startStack } from '../helpers/stack.ts';
import type { ProviderName, Stack } from '../helpers/stack.ts';

let stack: Stack;
let client: OpenAI;

before(async () => {
  stack = await startStack();
  client = new OpenAI({ apiKey: stack.key, baseURL: stack.baseURL, maxRetries: 0 });
});
after(() => stack.close());

const weatherTool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

const PROVIDER_NAME: Record<ProviderName, string> = { openai: 'OpenAI', anthropic: 'Anthropic', google: 'Google AI Studio' };

for (const provider of Object.keys(MODELS) as ProviderName[]) {
  const model = MODELS[provider];
  describe(`openai SDK → Freeway → ${provider}`, () => {
    test('non-streaming text with usage, cost, provider and generation id', async () => {
      const { data, response } = await client.chat.completions
        .create({
          model,
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Hi there' },
          ],
        })
        .withResponse();
      const choice = data.choices[0];
      assert.match(choice.message.content ?? '', /You said: Hi there/);
      assert.equal(choice.finish_reason, 'stop');
      assert.match(data.id, /^gen-\d+-[A-Za-z0-9]{20}$/);
      assert.equal(response.headers.get('x-generation-id'), data.id);
      assert.equal(data.model, model, 'the answer names the model as it was asked for');
      const extra = data as unknown as { provider: string; usage: { cost: number; cost_details: Record<string, number> } };
      assert.equal(extra.provider, PROVIDER_NAME[provider]);
      assert.ok(data.usage && data.usage.prompt_tokens > 0 && data.usage.completion_tokens > 0);
      assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + data.usage.completion_tokens);
      assert.ok(extra.usage.cost > 0, 'cost is reported');
      assert.ok(extra.usage.cost < 0.01, 'a tiny request costs a tiny amount');
    });

    test('streaming text ends with usage and [DONE]', async () => {
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Stream this please' }],
        stream: true,
      });
      let text = '';
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | undefined;
      let chunks = 0;
      for await (const chunk of stream) {
        chunks++;
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      assert.ok(chunks > 2, 'several chunks');
      assert.match(text, /You said: Stream this please/);
      assert.equal(finish, 'stop');
      assert.ok(usage && usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    });

    test("streaming with stream_options.include_usage: OpenAI's usage chunk (choices []), usage counted once, as charged", async () => {
      const seen: OpenAI.ChatCompletionChunk[] = [];
      const stream = client.chat.completions.stream({
        model,
        messages: [{ role: 'user', content: 'Stream with usage' }],
        stream_options: { include_usage: true },
      });
      stream.on('chunk', (c) => seen.push(c));
      const done = await stream.finalChatCompletion();
      assert.match(done.choices[0].message.content ?? '', /You said: Stream with usage/);
      assert.equal(done.choices[0].finish_reason, 'stop');
      const usageChunks = seen.filter((c) => c.usage);
      assert.equal(usageChunks.length, 1, 'usage is sent once');
      assert.deepEqual(usageChunks[0].choices, [], 'on a chunk of its own');
      assert.equal(seen.at(-1), usageChunks[0], 'the last chunk');
      assert.equal(seen.at(-2)?.choices[0].finish_reason, 'stop');
      const usage = done.usage as OpenAI.CompletionUsage & { cost: number };
      assert.deepEqual(usage, usageChunks[0].usage);
      assert.ok(usage.prompt_tokens > 0 && usage.completion_tokens > 0 && usage.cost > 0);
      const r = await fetch(`${stack.baseURL}/generation?id=${done.id}`, { headers: { authorization: `Bearer ${stack.key}` } });
      const { data } = (await r.json()) as { data: Record<string, unknown> };
      assert.equal(data.total_cost, usage.cost, 'the usage chunk reports what was charged');
      assert.equal(data.tokens_completion, usage.completion_tokens);
    });

    test('tool call round trip, non-streaming', async () => {
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
      const first = await client.chat.completions.create({ model, messages, tools: [weatherTool] });
      const call = first.choices[0].message.tool_calls?.[0];
      assert.ok(call && call.type === 'function');
      assert.equal(first.choices[0].finish_reason, 'tool_calls');
      assert.equal(call.function.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
      messages.push(first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '{"temp":21}' });
      const second = await client.chat.completions.create({ model, messages, tools: [weatherTool] });
      assert.match(second.choices[0].message.content ?? '', /Tool result received: .*21/);
      assert.equal(second.choices[0].finish_reason, 'stop');
    });

    test('tool call streamed as fragments assembles into valid arguments', async () => {
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Weather? [[parallel]]' }],
        tools: [weatherTool],
        stream: true,
      });
      const calls = new Map<number, { id?: string; name?: string; args: string }>();
      let finish: string | null = null;
      for await (const chunk of stream) {
        for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) {
          const c = calls.get(tc.index) ?? { args: '' };
          c.id ??= tc.id;
          c.name ??= tc.function?.name;
          c.args += tc.function?.arguments ?? '';
          calls.set(tc.index, c);
        }
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      assert.equal(finish, 'tool_calls');
      assert.equal(calls.size, 2, 'two parallel calls');
      for (const c of calls.values()) {
        assert.ok(c.id);
        assert.equal(c.name, 'get_weather');
        assert.deepEqual(JSON.parse(c.args), { city: 'Paris' });
      }
    });

    test('json_schema structured output parses', async () => {
      const res = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Give me a json person' }],
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'person',
            schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'] },
          },
        },
      });
      const parsed = JSON.parse(res.choices[0].message.content ?? '');
      assert.equal(typeof parsed, 'object');
    });

    test('the generation record matches the response', async () => {
      const res = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'record me' }] });
      const r = await fetch(`${stack.baseURL}/generation?id=${res.id}`, { headers: { authorization: `Bearer ${stack.key}` } });
      assert.equal(r.status, 200);
      const { data } = (await r.json()) as { data: Record<string, unknown> };
      assert.equal(data.id, res.id);
      assert.equal(data.model, LISTED[provider], 'the generation names the canonical model');
      assert.equal(data.tokens_prompt, res.usage?.prompt_tokens);
      assert.equal(data.tokens_completion, res.usage?.completion_tokens);
      assert.equal(data.total_cost, (res.usage as unknown as { cost: number }).cost);
      assert.equal(data.finish_reason, 'stop');
      assert.equal(typeof data.latency, 'number');
    });
  });
}

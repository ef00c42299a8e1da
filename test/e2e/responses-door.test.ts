/**
 * The official openai SDK's Responses client against Freeway's `/v1/responses`, served by each
 * emulated provider: text, streaming, a function-call loop, parallel streamed calls, structured
 * output, reasoning tokens, truncation — and usage and cost equal to the generation record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { MODELS, startStack } from '../helpers/stack.ts';
import type { ProviderName, Stack } from '../helpers/stack.ts';

let stack: Stack;
let client: OpenAI;

before(async () => {
  stack = await startStack();
  client = new OpenAI({ apiKey: stack.key, baseURL: stack.baseURL, maxRetries: 0 });
});
after(() => stack.close());

const weatherTool: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

/** Output items sent back as input, as the SDK's docs show (its types are narrower than the API). */
const asInput = (items: readonly unknown[]) => items as OpenAI.Responses.ResponseInputItem[];

const PROVIDER_NAME: Record<ProviderName, string> = { openai: 'OpenAI', anthropic: 'Anthropic', google: 'Google AI Studio' };

type ResponsesUsage = OpenAI.Responses.ResponseUsage & {
  cost: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
};

/** The generation record of a response, as `GET /generation` shows it. */
async function generation(id: string): Promise<Record<string, unknown>> {
  const r = await fetch(`${stack.baseURL}/generation?id=${id}`, { headers: { authorization: `Bearer ${stack.key}` } });
  assert.equal(r.status, 200);
  return ((await r.json()) as { data: Record<string, unknown> }).data;
}

function assertUsageMatches(usage: ResponsesUsage, g: Record<string, unknown>): void {
  assert.equal(g.tokens_prompt, usage.input_tokens);
  assert.equal(g.tokens_completion, usage.output_tokens);
  assert.equal(g.native_tokens_reasoning, usage.output_tokens_details.reasoning_tokens);
  assert.equal(g.native_tokens_cached, usage.input_tokens_details.cached_tokens);
  assert.equal(g.native_tokens_cache_write, usage.input_tokens_details.cache_write_tokens);
  assert.equal(g.total_cost, usage.cost);
  assert.equal(usage.total_tokens, usage.input_tokens + usage.output_tokens);
}

for (const provider of Object.keys(MODELS) as ProviderName[]) {
  const model = MODELS[provider];
  const upstream = () => stack[provider === 'google' ? 'gemini' : provider];

  describe(`openai SDK responses → Freeway → ${provider}`, () => {
    test('text: instructions reach the upstream, output_text, usage with cost equal to the generation record', async () => {
      const { data, response } = await client.responses.create({ model, instructions: 'Be brief.', input: 'Hi there' }).withResponse();
      assert.match(data.output_text, /You said: Hi there/);
      assert.equal(data.status, 'completed');
      assert.equal(data.object, 'response');
      assert.match(data.id, /^resp_[0-9a-f]{48}$/);
      assert.equal(data.model, model);
      assert.equal(data.instructions, 'Be brief.');
      assert.equal((data as unknown as { provider: string }).provider, PROVIDER_NAME[provider]);
      const message = data.output.find((o) => o.type === 'message');
      assert.ok(message && message.type === 'message');
      assert.match(message.id, /^msg_/);
      assert.deepEqual(message.content[0].type === 'output_text' && message.content[0].annotations, []);
      assert.ok(JSON.stringify(upstream().last().body).includes('Be brief.'), 'instructions sent as the system prompt');
      const usage = data.usage as ResponsesUsage;
      assert.ok(usage.input_tokens > 0 && usage.output_tokens > 0);
      assert.ok(usage.cost > 0 && usage.cost < 0.01);
      assertUsageMatches(usage, await generation(response.headers.get('x-generation-id')!));
    });

    test('streaming: response.* events in order with sequence numbers, finalResponse() works', async () => {
      const stream = client.responses.stream({ model, input: 'Stream this please' });
      const types: string[] = [];
      const seqs: number[] = [];
      let deltas = '';
      stream.on('response.output_text.delta', (e) => (deltas += e.delta));
      for await (const ev of stream) {
        types.push(ev.type);
        seqs.push(ev.sequence_number);
      }
      const final = await stream.finalResponse();
      assert.match(deltas, /You said: Stream this please/);
      assert.equal(final.output_text, deltas);
      assert.equal(final.status, 'completed');
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => i),
        'sequence numbers count from 0',
      );
      assert.deepEqual(types.slice(0, 4), [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
      ]);
      assert.deepEqual(types.slice(-5), [
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ]);
      assert.ok((final.usage?.output_tokens ?? 0) > 0);
    });

    test('function-call loop: function_call → function_call_output on the next turn', async () => {
      const input: OpenAI.Responses.ResponseInput = [{ role: 'user', content: 'Weather in Paris?' }];
      const first = await client.responses.create({ model, input, tools: [weatherTool] });
      const call = first.output.find((o) => o.type === 'function_call');
      assert.ok(call && call.type === 'function_call');
      assert.match(call.id ?? '', /^fc_/);
      assert.equal(call.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
      const second = await client.responses.create({
        model,
        tools: [weatherTool],
        input: asInput([...input, ...first.output, { type: 'function_call_output', call_id: call.call_id, output: '{"temp":21}' }]),
      });
      assert.match(second.output_text, /Tool result received: .*21/);
      assert.ok(
        JSON.stringify(upstream().last().body).includes(provider === 'google' ? 'get_weather' : call.call_id),
        'the result names its call',
      );
    });

    test('streamed parallel function calls: argument fragments assemble into valid calls', async () => {
      const stream = client.responses.stream({ model, input: 'Weather? [[parallel]]', tools: [weatherTool] });
      const fragments = new Map<string, string>();
      stream.on('response.function_call_arguments.delta', (e) => fragments.set(e.item_id, (fragments.get(e.item_id) ?? '') + e.delta));
      const final = await stream.finalResponse();
      const calls = final.output.filter((o) => o.type === 'function_call');
      assert.equal(calls.length, 2, 'two parallel calls');
      assert.equal(new Set(calls.map((c) => c.call_id)).size, 2, 'distinct call ids');
      for (const c of calls) {
        assert.equal(c.name, 'get_weather');
        assert.deepEqual(JSON.parse(c.arguments), { city: 'Paris' });
        assert.equal(fragments.get(c.id!), c.arguments);
      }
      const second = await client.responses.create({
        model,
        tools: [weatherTool],
        input: asInput([
          { role: 'user', content: 'Weather? [[parallel]]' },
          ...final.output,
          ...calls.map((c) => ({ type: 'function_call_output', call_id: c.call_id, output: `{"temp":${c.call_id.length}}` })),
        ]),
      });
      assert.match(second.output_text, /Tool result received/);
    });

    test('structured output: text.format json_schema through responses.parse with zod', async () => {
      const Person = z.object({ name: z.string(), age: z.number().int() });
      const res = await client.responses.parse({
        model,
        input: 'Give me a json person',
        text: { format: zodTextFormat(Person, 'person') },
      });
      assert.equal(typeof res.output_parsed?.name, 'string');
      assert.equal(typeof res.output_parsed?.age, 'number');
      assert.equal(res.text?.format?.type, 'json_schema');
    });

    test('reasoning: reasoning tokens in usage equal the record, streamed too', async () => {
      // On OpenAI, a model that reasons (gpt-4o-mini does not: reasoning is not sent to it).
      const thinker = provider === 'openai' ? 'openai/gpt-5-mini' : model;
      const { data, response } = await client.responses
        .create({ model: thinker, input: 'Think about it', reasoning: { effort: 'low', summary: 'auto' }, max_output_tokens: 4000 })
        .withResponse();
      const usage = data.usage as ResponsesUsage;
      if (provider !== 'anthropic') assert.ok(usage.output_tokens_details.reasoning_tokens > 0, 'reasoning tokens reported');
      assertUsageMatches(usage, await generation(response.headers.get('x-generation-id')!));
      if (provider === 'anthropic') {
        const reasoning = data.output.find((o) => o.type === 'reasoning');
        assert.ok(reasoning && reasoning.type === 'reasoning');
        assert.match(reasoning.summary[0]?.text ?? '', /Thinking about: Think about it/);
        assert.match(reasoning.encrypted_content ?? '', /^fw1\./);
      }
      const { data: stream, response: streamed } = await client.responses
        .create({ model: thinker, input: 'Think while streaming', reasoning: { effort: 'low' }, max_output_tokens: 4000, stream: true })
        .withResponse();
      let completed: OpenAI.Responses.Response | undefined;
      for await (const ev of stream) if (ev.type === 'response.completed') completed = ev.response;
      assert.ok(completed);
      assertUsageMatches(completed.usage as ResponsesUsage, await generation(streamed.headers.get('x-generation-id')!));
    });

    test('max_output_tokens cuts the answer: status incomplete, reason max_output_tokens', async () => {
      const res = await client.responses.create({ model, input: 'Talk [[long]]', max_output_tokens: 16 });
      assert.equal(res.status, 'incomplete');
      assert.deepEqual(res.incomplete_details, { reason: 'max_output_tokens' });
      const stream = client.responses.stream({ model, input: 'Talk [[long]]', max_output_tokens: 16 });
      const types: string[] = [];
      for await (const ev of stream) types.push(ev.type);
      assert.equal(types.at(-1), 'response.incomplete');
      assert.equal((await stream.finalResponse()).status, 'incomplete');
    });
  });
}

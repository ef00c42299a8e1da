/**
 * OpenRouter's official TypeScript SDK (`@openrouter/sdk`) pointed at Freeway by base URL and key
 * only: every SDK method that has a Freeway route, on GPT, Claude and Gemini models, streaming
 * included — and every raw answer (whole bodies, each streamed chunk and event) checked against
 * the zod schemas the SDK ships, which it applies strictly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OpenRouter } from '@openrouter/sdk';
import { BadRequestResponseError, NotFoundResponseError } from '@openrouter/sdk/models/errors';
import { assertOpenRouterShape, sseData } from '../helpers/openrouter-schemas.ts';
import type { OpenRouterRoute } from '../helpers/openrouter-schemas.ts';
import { ADMIN_KEY, LISTED, MODELS, startStack } from '../helpers/stack.ts';
import type { ProviderName, Stack } from '../helpers/stack.ts';

let stack: Stack;
let sdk: OpenRouter;
let admin: OpenRouter;

before(async () => {
  stack = await startStack();
  sdk = new OpenRouter({ apiKey: stack.key, serverURL: stack.baseURL });
  admin = new OpenRouter({ apiKey: ADMIN_KEY, serverURL: stack.baseURL });
});
after(() => stack.close());

interface Raw {
  status: number;
  text: string;
  // any: a raw body, checked against the SDK's schema before any field is read
  json: any;
}

async function raw(method: string, path: string, body?: unknown, token = stack.key): Promise<Raw> {
  const res = await fetch(`${stack.baseURL}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined };
}

/** A raw whole answer: its status, and its body against the route's schema. */
async function rawValid(route: OpenRouterRoute, method: string, path: string, body?: unknown, token?: string): Promise<Raw> {
  const r = await raw(method, path, body, token);
  assert.equal(r.status, route === 'keys.create' ? 201 : 200, r.text);
  assertOpenRouterShape(route, r.json);
  return r;
}

/** A raw stream: every chunk or event against the route's schema; the payloads, in order. */
// any: payloads are read field by field once each has passed the SDK's schema
async function rawStream(route: 'chat.completions.chunk' | 'responses.event', path: string, body: unknown): Promise<any[]> {
  const r = await raw('POST', path, body);
  assert.equal(r.status, 200, r.text);
  const payloads = sseData(r.text);
  assert.ok(payloads.length > 1, `a stream of several events: ${r.text.slice(0, 500)}`);
  for (const p of payloads) assertOpenRouterShape(route, p);
  return payloads;
}

/** The SDK's send methods answer a whole result or an event stream, by the request's `stream`. */
function whole<T extends object>(r: T): Exclude<T, AsyncIterable<unknown>> {
  assert.ok(!(Symbol.asyncIterator in r), 'a whole answer');
  return r as Exclude<T, AsyncIterable<unknown>>;
}
function streamed<T extends object>(r: T): Extract<T, AsyncIterable<unknown>> {
  assert.ok(Symbol.asyncIterator in r, 'a stream');
  return r as Extract<T, AsyncIterable<unknown>>;
}

/** The stored generation, once it is there (it is written as the answer ends). */
async function generationOf(id: string): Promise<Raw> {
  for (let i = 0; ; i++) {
    const r = await raw('GET', `/generation?id=${encodeURIComponent(id)}`);
    if (r.status !== 404 || i === 50) return r;
    await new Promise((res) => setTimeout(res, 20 * Math.min(i + 1, 10)));
  }
}

const WEATHER = {
  type: 'function' as const,
  function: {
    name: 'weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const REASONS: Record<ProviderName, boolean> = { openai: false, anthropic: true, google: true };

for (const provider of Object.keys(MODELS) as ProviderName[]) {
  const model = MODELS[provider];
  describe(`@openrouter/sdk → ${provider} (${model})`, () => {
    test('chat.send, whole: text, finish reason, usage with cost; the stored generation', async () => {
      const r = whole(await sdk.chat.send({ chatRequest: { model, messages: [{ role: 'user', content: 'Say something' }] } }));
      assert.match(String(r.choices[0].message.content), /You said: Say something/);
      assert.equal(r.choices[0].finishReason, 'stop');
      assert.equal(r.model, model);
      assert.ok((r.usage?.promptTokens ?? 0) > 0);
      assert.ok((r.usage?.cost ?? 0) > 0, 'cost on the answer');
      assert.equal((await generationOf(r.id)).status, 200);
      const g = await sdk.generations.getGeneration({ id: r.id });
      assert.equal(g.data.id, r.id);
      assert.equal(g.data.model, LISTED[provider], 'the generation names the canonical model');
      assert.equal(g.data.finishReason, 'stop');
      assert.ok(g.data.totalCost > 0);
    });

    test('chat.send, streamed: the last chunk carries the finish reason, usage and cost', async () => {
      const stream = streamed(
        await sdk.chat.send({ chatRequest: { model, messages: [{ role: 'user', content: 'Stream something' }], stream: true } }),
      );
      let text = '';
      let last;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        last = chunk;
      }
      assert.match(text, /You said: Stream something/);
      assert.ok(last, 'chunks arrived');
      assert.equal(last.choices[0].finishReason, 'stop');
      assert.ok((last.usage?.completionTokens ?? 0) > 0);
      assert.ok((last.usage?.cost ?? 0) > 0, 'cost on the last chunk');
    });

    test('chat.send, streamed tool call', async () => {
      const stream = streamed(
        await sdk.chat.send({
          chatRequest: { model, messages: [{ role: 'user', content: 'What is the weather?' }], tools: [WEATHER], stream: true },
        }),
      );
      let name = '';
      let args = '';
      let finish: unknown;
      for await (const chunk of stream) {
        for (const call of chunk.choices[0]?.delta.toolCalls ?? []) {
          name += call.function?.name ?? '';
          args += call.function?.arguments ?? '';
        }
        finish = chunk.choices[0]?.finishReason ?? finish;
      }
      assert.equal(name, 'weather');
      assert.deepEqual(JSON.parse(args), { city: 'Paris' });
      assert.equal(finish, 'tool_calls');
    });

    test('responses.send, whole and streamed: output text, usage with cost, every event recognised', async () => {
      const answer = whole(await sdk.responses.send({ responsesRequest: { model, input: 'Say something' } }));
      assert.equal(answer.status, 'completed');
      assert.ok(answer.completedAt !== null && answer.completedAt >= answer.createdAt);
      assert.match(JSON.stringify(answer.output), /You said: Say something/);
      assert.ok((answer.usage?.cost ?? 0) > 0);
      const stream = streamed(await sdk.responses.send({ responsesRequest: { model, input: 'Stream something', stream: true } }));
      const types: string[] = [];
      let text = '';
      let completed;
      for await (const ev of stream) {
        types.push(ev.type);
        if (ev.type === 'response.output_text.delta') text += ev.delta;
        if (ev.type === 'response.completed') completed = ev.response;
      }
      assert.ok(!types.includes('UNKNOWN'), `every event recognised: ${types.join(', ')}`);
      assert.equal(types[0], 'response.created');
      assert.match(text, /You said: Stream something/);
      assert.ok(completed, 'response.completed arrived');
      assert.equal(completed.status, 'completed');
      assert.ok((completed.usage?.cost ?? 0) > 0);
    });

    test('raw chat answers match the SDK schemas: whole, streamed, tools, reasoning', async () => {
      const whole = await rawValid('chat.completions', 'POST', '/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] });
      assertOpenRouterShape('generation', (await generationOf(whole.json.id)).json);
      // OpenRouter's own shape: the finish reason and usage on the last chunk.
      const chunks = await rawStream('chat.completions.chunk', '/chat/completions', {
        model,
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
      assert.equal(typeof chunks.at(-1).usage.cost, 'number');
      // OpenAI's, asked for with include_usage: the usage on a chunk of its own (choices []), valid too.
      const apart = await rawStream('chat.completions.chunk', '/chat/completions', {
        model,
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      assert.equal(apart.at(-2).choices[0].finish_reason, 'stop');
      assert.equal(apart.at(-2).usage, undefined);
      assert.deepEqual(apart.at(-1).choices, []);
      assert.equal(typeof apart.at(-1).usage.cost, 'number');
      await rawValid('chat.completions', 'POST', '/chat/completions', {
        model,
        messages: [{ role: 'user', content: 'What is the weather?' }],
        tools: [WEATHER],
      });
      await rawStream('chat.completions.chunk', '/chat/completions', {
        model,
        messages: [{ role: 'user', content: 'What is the weather?' }],
        tools: [WEATHER],
        stream: true,
      });
      const think = { model, messages: [{ role: 'user', content: 'think hard' }], reasoning: { max_tokens: 1024 } };
      const thought = await rawValid('chat.completions', 'POST', '/chat/completions', think);
      const thoughtChunks = await rawStream('chat.completions.chunk', '/chat/completions', { ...think, stream: true });
      if (REASONS[provider]) {
        assert.ok(thought.json.choices[0].message.reasoning_details.length > 0, 'reasoning details in the answer');
        assert.ok(
          thoughtChunks.some((c) => c.choices[0]?.delta.reasoning_details?.length > 0),
          'reasoning details streamed',
        );
      }
    });

    test('raw Responses answers match the SDK schemas: whole, streamed, tools, reasoning', async () => {
      await rawValid('responses', 'POST', '/responses', { model, input: 'hi' });
      const events = await rawStream('responses.event', '/responses', { model, input: 'hi', stream: true });
      assert.equal(events.at(-1).type, 'response.completed');
      const tool = { type: 'function', name: 'weather', parameters: WEATHER.function.parameters };
      const called = await rawValid('responses', 'POST', '/responses', { model, input: 'What is the weather?', tools: [tool] });
      assert.ok(called.json.output.some((o: { type: string }) => o.type === 'function_call'));
      await rawStream('responses.event', '/responses', { model, input: 'What is the weather?', tools: [tool], stream: true });
      const think = { model, input: 'think hard', reasoning: { effort: 'low', summary: 'auto' } };
      const thought = await rawValid('responses', 'POST', '/responses', think);
      await rawStream('responses.event', '/responses', { ...think, stream: true });
      if (REASONS[provider]) assert.ok(thought.json.output.some((o: { type: string }) => o.type === 'reasoning'));
    });

    test('raw answers that end badly match the SDK schemas: cut short, failed mid-stream, retrieved later', async () => {
      const long = { model, max_tokens: 16, messages: [{ role: 'user', content: '[[long]]' }] };
      const cut = await rawValid('chat.completions', 'POST', '/chat/completions', long);
      assert.equal(cut.json.choices[0].finish_reason, 'length');
      await rawStream('chat.completions.chunk', '/chat/completions', { ...long, stream: true });
      const died = await rawStream('chat.completions.chunk', '/chat/completions', {
        model,
        messages: [{ role: 'user', content: 'hello there my good friend [[die:6]]' }],
        stream: true,
      });
      assert.equal(died.at(-1).choices[0].finish_reason, 'error');
      assert.equal(typeof died.at(-1).error.code, 'number');

      const incomplete = await rawValid('responses', 'POST', '/responses', {
        model,
        max_output_tokens: 16,
        input: '[[long]]',
        store: true,
      });
      assert.equal(incomplete.json.status, 'incomplete');
      assert.equal(incomplete.json.completed_at, null);
      const events = await rawStream('responses.event', '/responses', { model, max_output_tokens: 16, input: '[[long]]', stream: true });
      assert.equal(events.at(-1).type, 'response.incomplete');
      const failed = await rawStream('responses.event', '/responses', {
        model,
        input: 'hello there my good friend [[die:6]]',
        stream: true,
      });
      assert.ok(
        failed.some((e) => e.type === 'response.failed'),
        failed.map((e) => e.type).join(', '),
      );
      const stored = await rawValid('responses', 'GET', `/responses/${encodeURIComponent(incomplete.json.id)}`);
      assert.equal(stored.json.id, incomplete.json.id);
    });
  });
}

describe('@openrouter/sdk: catalog, keys, credits, embeddings', () => {
  test('models.list, models.count, models.listForUser, models.get, endpoints.list, embeddings.listModels, providers.list', async () => {
    const page = await sdk.models.list();
    const listed = page.result.data;
    assert.ok(listed.some((m) => m.id === LISTED.anthropic));
    const count = await sdk.models.count();
    assert.equal(count.data.count, listed.length);
    const embeddingCount = await sdk.models.count({ outputModalities: 'embeddings' });
    assert.ok(embeddingCount.data.count > 0 && embeddingCount.data.count < listed.length, 'the filter applies to the count');
    const mine = await sdk.models.listForUser({ bearer: stack.key });
    assert.equal(mine.result.data.length, listed.length);
    const embedders = await sdk.embeddings.listModels();
    assert.equal(embedders.result.data.length, embeddingCount.data.count);
    assert.ok(embedders.result.data.every((m) => m.architecture.outputModalities.includes('embeddings')));
    const providers = await sdk.providers.list();
    const slugs = providers.data.map((p) => p.slug);
    for (const slug of ['anthropic', 'google', 'openai']) assert.ok(slugs.includes(slug), `${slug} in ${slugs.join(', ')}`);
    assert.equal(providers.data.find((p) => p.slug === 'anthropic')?.name, 'Anthropic');
    const one = await sdk.models.get({ author: 'openai', slug: 'gpt-4o-mini' });
    assert.equal(one.data.id, MODELS.openai);
    for (const id of Object.values(LISTED)) {
      const [author, slug] = id.split('/');
      const eps = await sdk.endpoints.list({ author, slug });
      assert.equal(eps.data.id, id);
      assert.ok(eps.data.endpoints.length > 0);
      assert.equal(eps.data.endpoints[0].supportsToolChoice.auto, true);
    }
  });

  test('raw catalog answers match the SDK schemas', async () => {
    await rawValid('models', 'GET', '/models');
    await rawValid('models', 'GET', '/models?output_modalities=embeddings');
    await rawValid('models', 'GET', '/embeddings/models');
    await rawValid('models', 'GET', '/models/user');
    await rawValid('providers', 'GET', '/providers');
    const count = await rawValid('models.count', 'GET', '/models/count');
    assert.equal(count.json.data.count, (await raw('GET', '/models')).json.data.length);
    await rawValid('models.count', 'GET', '/models/count?supported_parameters=tools');
    await rawValid('model', 'GET', '/model/anthropic/claude-sonnet-4-5');
    for (const id of Object.values(MODELS)) await rawValid('endpoints', 'GET', `/models/${id}/endpoints`);
  });

  test('embeddings.generate, and its raw answer', async () => {
    const r = await sdk.embeddings.generate({ requestBody: { model: 'openai/text-embedding-3-small', input: 'hello' } });
    assert.ok(typeof r !== 'string');
    assert.ok(Array.isArray(r.data[0].embedding) && r.data[0].embedding.length > 0);
    await rawValid('embeddings', 'POST', '/embeddings', { model: 'openai/text-embedding-3-small', input: ['a', 'b'] });
  });

  test('apiKeys.getCurrentKeyMetadata and credits.getCredits, and their raw answers', async () => {
    const me = await sdk.apiKeys.getCurrentKeyMetadata();
    assert.equal(me.data.isManagementKey, false);
    assert.deepEqual(me.data.allowedDataRegions, ['global']);
    assert.equal(me.data.freeModelDailyRequests.remaining, me.data.freeModelDailyRequests.limit - me.data.freeModelDailyRequests.used);
    const credits = await sdk.credits.getCredits();
    assert.equal(typeof credits.data.totalUsage, 'number');
    await rawValid('key', 'GET', '/key');
    await rawValid('key', 'GET', '/auth/key');
    await rawValid('key', 'GET', '/key', undefined, ADMIN_KEY);
    await rawValid('credits', 'GET', '/credits');
  });

  test('apiKeys: create, get, list, update, delete — through the SDK and raw', async () => {
    const created = await admin.apiKeys.create({ requestBody: { name: 'sdk-made', limit: 5, limitReset: 'monthly' } });
    const { hash } = created.data;
    assert.ok(created.key.length > 20);
    assert.equal(created.data.limit, 5);
    assert.equal(created.data.limitReset, 'monthly');
    assert.equal((await admin.apiKeys.get({ hash })).data.name, 'sdk-made');
    assert.ok((await admin.apiKeys.list()).data.some((k) => k.hash === hash));
    const updated = await admin.apiKeys.update({ hash, requestBody: { name: 'sdk-renamed', disabled: true } });
    assert.equal(updated.data.name, 'sdk-renamed');
    assert.equal(updated.data.disabled, true);
    assert.equal((await admin.apiKeys.delete({ hash })).deleted, true);

    const made = await rawValid('keys.create', 'POST', '/keys', { name: 'raw-made' }, ADMIN_KEY);
    const rawHash = made.json.data.hash;
    await rawValid('keys.get', 'GET', `/keys/${rawHash}`, undefined, ADMIN_KEY);
    await rawValid('keys.list', 'GET', '/keys', undefined, ADMIN_KEY);
    await rawValid('keys.update', 'PATCH', `/keys/${rawHash}`, { limit: 3 }, ADMIN_KEY);
    await rawValid('keys.delete', 'DELETE', `/keys/${rawHash}`, undefined, ADMIN_KEY);
  });

  test('error answers are in the shape the SDK reads', async () => {
    const missing = await raw('POST', '/chat/completions', { model: 'nobody/nothing', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(missing.status, 404);
    assertOpenRouterShape('error', missing.json);
    const bad = await raw('POST', '/chat/completions', { model: MODELS.openai, messages: 'x' });
    assert.equal(bad.status, 400);
    assertOpenRouterShape('error', bad.json);
    await assert.rejects(sdk.generations.getGeneration({ id: 'gen-none' }), (e: Error & { statusCode?: number }) => e.statusCode === 404);
  });

  test("the Responses door's errors are the SDK's typed errors, with Freeway's message", async () => {
    const unknown = await raw('POST', '/responses', { model: MODELS.openai, input: 'hi', frobnicate: 1 });
    assertOpenRouterShape('error', unknown.json);
    await assert.rejects(sdk.responses.send({ responsesRequest: { model: MODELS.openai, input: 'hi', temperature: 5 } }), (e: unknown) => {
      assert.ok(e instanceof BadRequestResponseError, String(e));
      assert.equal(e.error.code, 400);
      assert.match(e.message, /temperature/);
      assert.equal(e.error.metadata?.error_type, 'invalid_request');
      return true;
    });
    await assert.rejects(sdk.responses.send({ responsesRequest: { model: 'nobody/nothing', input: 'hi' } }), (e: unknown) => {
      assert.ok(e instanceof NotFoundResponseError, String(e));
      assert.equal(e.error.metadata?.code, 'model_not_found');
      return true;
    });
  });
});

/**
 * The rest of the API surface: embeddings, models, legacy completions, generations, key creation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { ADMIN_KEY, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

type APIErr = InstanceType<typeof OpenAI.APIError>;

let stack: Stack;
let client: OpenAI;

before(async () => {
  stack = await startStack();
  client = new OpenAI({ apiKey: stack.key, baseURL: stack.baseURL, maxRetries: 0 });
});
after(() => stack.close());

describe('embeddings', () => {
  for (const model of ['openai/text-embedding-3-small', 'google/gemini-embedding-001']) {
    test(`${model}: vectors, usage and cost`, async () => {
      const res = await client.embeddings.create({ model, input: ['alpha', 'beta'], dimensions: 8, encoding_format: 'float' });
      assert.equal(res.data.length, 2);
      assert.equal(res.data[0].embedding.length, 8);
      assert.notDeepEqual(res.data[0].embedding, res.data[1].embedding);
      assert.ok(res.usage.prompt_tokens > 0);
      assert.equal(res.model, model);
    });
  }
  test('the SDK default (base64) decodes to the same vectors', async () => {
    const model = 'openai/text-embedding-3-small';
    const a = await client.embeddings.create({ model, input: 'same', dimensions: 4 });
    const b = await client.embeddings.create({ model, input: 'same', dimensions: 4, encoding_format: 'float' });
    assert.deepEqual(a.data[0].embedding, b.data[0].embedding);
  });
  test('a chat model is refused for embeddings', async () => {
    await assert.rejects(client.embeddings.create({ model: 'openai/gpt-4o-mini', input: 'x' }), (e: APIErr) => e.status === 400);
  });
});

describe('models', () => {
  test('GET /models is public and OpenRouter-shaped', async () => {
    const res = await fetch(`${stack.baseURL}/models`);
    assert.equal(res.status, 200);
    // any: asserting on a wire shape field by field
    const { data } = (await res.json()) as { data: Array<Record<string, any>> };
    const m = data.find((x) => x.id === 'anthropic/claude-sonnet-4.5');
    assert.ok(m);
    assert.equal(typeof m.name, 'string');
    assert.equal(typeof m.created, 'number');
    assert.equal(m.context_length, 200000);
    assert.deepEqual(m.architecture.input_modalities.includes('image'), true);
    assert.deepEqual(m.architecture.output_modalities, ['text']);
    assert.equal(m.pricing.prompt, '0.000003');
    assert.equal(m.pricing.completion, '0.000015');
    assert.equal(m.pricing.input_cache_read, '0.0000003');
    assert.ok(m.supported_parameters.includes('tools'));
    assert.equal(m.top_provider.max_completion_tokens, 64000);
    assert.ok(data.some((x) => x.id === 'openai/gpt-4o-mini'));
    assert.ok(data.some((x) => x.id === 'google/gemini-2.5-flash'));
    assert.ok(!data.some((x) => x.id.startsWith('groq/')), 'only live providers');
  });
  test('the openai SDK lists them', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.ok(ids.includes('openai/gpt-4o-mini'));
  });
  test('filters by output modality and supported parameter', async () => {
    const res = await fetch(`${stack.baseURL}/models?output_modalities=embeddings`);
    const { data } = (await res.json()) as { data: Array<{ id: string }> };
    assert.ok(data.length > 0 && data.every((m) => /embed/.test(m.id)));
  });
});

describe('legacy completions', () => {
  test('OpenAI-compatible upstreams get the raw prompt on /completions', async () => {
    const res = await client.completions.create({ model: 'openai/gpt-3.5-turbo-instruct', prompt: 'Once upon', max_tokens: 50 });
    assert.equal(res.object, 'text_completion');
    assert.match(res.choices[0].text, /Once upon/);
    assert.equal(stack.openai.last().path, '/v1/completions');
    assert.equal(stack.openai.last().body.prompt, 'Once upon');
  });
  test('streaming legacy completion', async () => {
    const stream = await client.completions.create({
      model: 'openai/gpt-3.5-turbo-instruct',
      prompt: 'Stream me',
      max_tokens: 50,
      stream: true,
    });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.text ?? '';
    assert.match(text, /Stream me/);
  });
  test('other protocols get the prompt as a user message', async () => {
    const res = await client.completions.create({ model: 'anthropic/claude-sonnet-4-5', prompt: 'Hello Claude' });
    assert.match(res.choices[0].text, /Hello Claude/);
    assert.equal(stack.anthropic.last().body.messages[0].content[0].text, 'Hello Claude');
  });
});

describe('keys and generations', () => {
  test('POST /keys with the management key creates a working inference key', async () => {
    const res = await fetch(`${stack.baseURL}/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'alice', limit: 10 }),
    });
    assert.equal(res.status, 201);
    const body = (await res.json()) as { key: string; data: { hash: string; name: string; limit: number } };
    assert.match(body.key, /^sk-fw-v1-[0-9a-f]{64}$/);
    assert.equal(body.data.name, 'alice');
    assert.equal(body.data.limit, 10);
    assert.match(body.data.hash, /^[0-9a-f]{64}$/);
    const alice = new OpenAI({ apiKey: body.key, baseURL: stack.baseURL, maxRetries: 0 });
    const r = await alice.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    assert.ok(r.choices[0].message.content);
    // Stored hashed: the key itself is nowhere in the database.
    const row = await stack.gw.app.store.findKey(body.data.hash);
    assert.ok(row && !JSON.stringify(row).includes(body.key));
  });
  test('an inference key cannot create keys; the management key cannot call models', async () => {
    const a = await fetch(`${stack.baseURL}/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x' }),
    });
    assert.equal(a.status, 403);
    const admin = new OpenAI({ apiKey: ADMIN_KEY, baseURL: stack.baseURL, maxRetries: 0 });
    await assert.rejects(
      admin.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      (e: APIErr) => e.status === 403,
    );
  });
  test('a generation is visible only to the key that made it', async () => {
    const res = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'mine' }] });
    const other = await stack.newKey('other');
    const r = await fetch(`${stack.baseURL}/generation?id=${res.id}`, { headers: { authorization: `Bearer ${other}` } });
    assert.equal(r.status, 404);
    const mine = await fetch(`${stack.baseURL}/generation?id=${res.id}`, { headers: { authorization: `Bearer ${stack.key}` } });
    assert.equal(mine.status, 200);
  });
  test('generations persist to the database', async () => {
    const res = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'persist' }] });
    await stack.gw.app.generations.flush();
    const row = await stack.gw.app.store.getGeneration(res.id);
    assert.ok(row);
    assert.equal(row.tokensPrompt, res.usage?.prompt_tokens);
    assert.ok(row.costNanos > 0);
  });
});

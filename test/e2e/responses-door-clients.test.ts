/**
 * The Responses door as agent clients use it, without their binaries: fields meant for the client
 * (`client_metadata`) or for the exchange (`include`, `stream_options`) are consumed and never
 * reach an upstream; fields Freeway cannot honour are dropped with a warning; `namespace` tools go
 * upstream flattened and come back under their own names (whole and streamed); hosted tools are
 * dropped with a warning the client sees (streams included); stored responses: `item_reference`,
 * GET, DELETE, input_items and retention, each scoped to the key that created them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { lastPurge } from '../../src/doors/responses/store.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;
let client: OpenAI;
let otherKey: string;

before(async () => {
  stack = await startStack();
  client = new OpenAI({ apiKey: stack.key, baseURL: stack.baseURL, maxRetries: 0 });
  otherKey = await stack.newKey('other');
});
after(() => stack.close());

// any: the JSON answers below are read field by field; each assertion names what it expects.
type Json = any;

async function call(method: string, path: string, body?: object, key = stack.key): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${stack.baseURL}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json() };
}

/** The last request body the emulator serving `model` received. */
const lastSent = (model: string): Json =>
  stack[model.startsWith('openai/') ? 'openai' : model.startsWith('google/') ? 'gemini' : 'anthropic'].last().body;

const upstreamBodies = () =>
  [stack.openai, stack.anthropic, stack.gemini].flatMap((e) => e.requests.filter((r) => r.method === 'POST').map((r) => r.body));

describe('fields meant for the client or for Freeway', () => {
  const codexLike = {
    include: ['reasoning.encrypted_content'],
    prompt_cache_key: 'thread-1',
    client_metadata: { thread_id: 'thread-1', 'x-codex-turn-metadata': '{"turn":1}' },
    store: false,
    stream_options: { include_obfuscation: false },
  };

  for (const model of ['openai/gpt-4o-mini', 'anthropic/claude-sonnet-4-5', 'google/gemini-2.5-flash']) {
    test(`${model}: consumed, never forwarded (prompt_cache_key goes to OpenAI only, as on the chat door)`, async () => {
      const r = await call('POST', '/responses', { model, input: 'hi', ...codexLike });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      // prompt_cache_key is a hint the others do without (they cache by prefix): no warning every turn.
      assert.deepEqual(r.json.warnings, undefined);
      assert.doesNotMatch(JSON.stringify(upstreamBodies()), /client_metadata|x-codex-turn-metadata|include_obfuscation/);
      assert.equal(lastSent(model).prompt_cache_key, model.startsWith('openai/') ? 'thread-1' : undefined);
      assert.doesNotMatch(JSON.stringify(lastSent(model)), /"store"/, "store is Freeway's, never OpenAI's stored completions");
    });
  }

  test('a field Freeway cannot honour is dropped with a warning, whole and streamed', async () => {
    const body = { model: 'openai/gpt-4o-mini', input: 'hi', truncation: 'auto', max_tool_calls: 3 };
    const whole = await call('POST', '/responses', body);
    assert.equal(whole.status, 200);
    assert.deepEqual(whole.json.warnings, [
      'truncation is not supported by Freeway on this route and was ignored.',
      'max_tool_calls is not supported by Freeway on this route and was ignored.',
    ]);
    const stream = await client.responses.stream(body as unknown as OpenAI.Responses.ResponseCreateParamsStreaming).finalResponse();
    assert.equal((stream as unknown as { warnings: string[] }).warnings.length, 2);
  });

  test('an unknown field is still a 400 naming it, as on OpenAI', async () => {
    const r = await call('POST', '/responses', { model: 'openai/gpt-4o-mini', input: 'hi', frobnicate: 1 });
    const e = r.json.error;
    assert.deepEqual([r.status, e.param, e.code, e.metadata.code], [400, 'frobnicate', 400, 'unknown_parameter']);
  });
});

describe('tools as agent clients send them', () => {
  const tools = [
    { type: 'function', name: 'exec_command', parameters: { type: 'object', properties: { cmd: { type: 'string' } } } },
    {
      type: 'namespace',
      name: 'agents',
      description: 'Sub-agents',
      tools: [{ type: 'function', name: 'spawn', parameters: { type: 'object', properties: { task: { type: 'string' } } } }],
    },
    { type: 'web_search', external_web_access: false },
  ];
  const input = '[[call:agents__spawn:{"task":"look"}]] go';

  for (const model of ['openai/gpt-4o-mini', 'anthropic/claude-sonnet-4-5', 'google/gemini-2.5-flash']) {
    test(`${model}: namespace tools flattened and mapped back; the hosted tool dropped with a warning`, async () => {
      const whole = await call('POST', '/responses', { model, input, tools });
      assert.equal(whole.status, 200, JSON.stringify(whole.json));
      const fc = whole.json.output.find((o: Json) => o.type === 'function_call');
      assert.deepEqual([fc.name, fc.namespace, fc.arguments], ['spawn', 'agents', '{"task":"look"}']);
      const warning =
        'The hosted tool "web_search" (tools[2]) asks for cached results only (external_web_access: false), ' +
        'which no upstream of this route can promise; it was dropped.';
      assert.deepEqual(whole.json.warnings, [warning]);
      assert.deepEqual(
        whole.json.tools.map((t: Json) => t.type),
        ['function', 'namespace'],
        'the response lists the tools the model was offered',
      );
      const sent = JSON.stringify(lastSent(model));
      assert.match(sent, /agents__spawn/);
      const toolChoice = { type: 'function', namespace: 'agents', name: 'spawn' };
      const forced = await call('POST', '/responses', { model, input: 'go', tools, tool_choice: toolChoice });
      assert.equal(forced.status, 200, JSON.stringify(forced.json));
      assert.equal(forced.json.output.find((o: Json) => o.type === 'function_call').name, 'spawn', 'a namespaced function can be forced');
      assert.doesNotMatch(sent, /web_search/);

      // The call sent back (as Codex does, with its namespace) reaches the upstream under the flat name.
      const next = await call('POST', '/responses', {
        model,
        tools,
        input: [{ role: 'user', content: input }, fc, { type: 'function_call_output', call_id: fc.call_id, output: 'spawned' }],
      });
      assert.equal(next.status, 200, JSON.stringify(next.json));
      assert.match(JSON.stringify(lastSent(model)), /agents__spawn[\s\S]*spawned/);

      const events: Json[] = [];
      const stream = client.responses.stream({ model, input, tools } as unknown as OpenAI.Responses.ResponseCreateParamsStreaming);
      for await (const ev of stream) events.push(ev);
      const created = events.find((e) => e.type === 'response.created');
      assert.equal(created.response.warnings.length, 1, 'the warning is in the stream from its first event');
      const added = events.find((e) => e.type === 'response.output_item.added' && e.item.type === 'function_call');
      assert.deepEqual([added.item.name, added.item.namespace], ['spawn', 'agents']);
      const done = events.find((e) => e.type === 'response.function_call_arguments.done');
      assert.equal(done.name, 'spawn');
    });
  }
});

describe('stored responses', () => {
  const model = 'anthropic/claude-sonnet-4-5';

  test('item_reference: an earlier output item by id, for its own key only', async () => {
    const first = await call('POST', '/responses', { model, input: '[[say:Paris.]] Capital of France?' });
    const msg = first.json.output.find((o: Json) => o.type === 'message');
    const input = [
      { role: 'user', content: 'Capital of France?' },
      { type: 'item_reference', id: msg.id },
      { role: 'user', content: 'And Italy?' },
    ];
    const next = await call('POST', '/responses', { model, input });
    assert.equal(next.status, 200, JSON.stringify(next.json));
    assert.deepEqual(stack.anthropic.last().body.messages[1], { role: 'assistant', content: [{ type: 'text', text: 'Paris.' }] });
    const theirs = await call('POST', '/responses', { model, input }, otherKey);
    assert.deepEqual([theirs.status, theirs.json.error.param], [404, 'input[1].id']);
    const unknown = await call('POST', '/responses', { model, input: [{ type: 'item_reference', id: 'msg_nope' }] });
    assert.equal(unknown.status, 404);
    const malformed = await call('POST', '/responses', { model, input: [{ type: 'item_reference' }] });
    assert.deepEqual([malformed.status, malformed.json.error.param], [400, 'input[0].id']);
    const badSecond = [
      { type: 'item_reference', id: msg.id },
      { role: 'tool', content: '' },
    ];
    const after = await call('POST', '/responses', { model, input: badSecond });
    assert.deepEqual([after.status, after.json.error.param], [400, 'input[1].role'], 'errors name the item by its own index');
  });

  test('input_items lists the conversation a response answered; DELETE removes it, for its own key only', async () => {
    const first = await call('POST', '/responses', { model, input: [{ type: 'message', id: 'msg_in1', role: 'user', content: 'one' }] });
    const second = await call('POST', '/responses', {
      model,
      previous_response_id: first.json.id,
      input: [{ type: 'message', id: 'msg_in2', role: 'user', content: 'two' }],
    });
    const items = await call('GET', `/responses/${second.json.id}/input_items`);
    assert.equal(items.status, 200);
    assert.equal(items.json.object, 'list');
    assert.equal(items.json.data[0].id, 'msg_in2', 'newest first');
    assert.deepEqual(
      items.json.data.map((i: Json) => i.type ?? 'message'),
      ['message', 'message', 'message'],
    );
    const asc = await call('GET', `/responses/${second.json.id}/input_items?order=asc&limit=1`);
    assert.deepEqual([asc.json.data.length, asc.json.first_id, asc.json.has_more], [1, 'msg_in1', true]);
    assert.equal((await call('GET', `/responses/${second.json.id}/input_items`, undefined, otherKey)).status, 404);

    assert.equal((await call('DELETE', `/responses/${first.json.id}`, undefined, otherKey)).status, 404, "another key's delete");
    const del = await call('DELETE', `/responses/${first.json.id}`);
    assert.deepEqual(del.json, { id: first.json.id, object: 'response', deleted: true });
    assert.equal((await call('GET', `/responses/${first.json.id}`)).status, 404);
    assert.equal((await call('DELETE', `/responses/${first.json.id}`)).status, 404);
    assert.equal((await call('POST', '/responses', { model, previous_response_id: first.json.id, input: 'three' })).status, 404);
  });

  test('a response older than the retention is gone (404), whatever the purge has done', async () => {
    const kept = await call('POST', '/responses', { model, input: 'keep' });
    assert.equal((await call('GET', `/responses/${kept.json.id}`)).status, 200);
    const retention = stack.gw.app.settings.responses.retentionMs;
    stack.gw.app.settings.responses.retentionMs = 0;
    try {
      assert.equal((await call('GET', `/responses/${kept.json.id}`)).status, 404);
      assert.equal((await call('POST', '/responses', { model, previous_response_id: kept.json.id, input: 'more' })).status, 404);
    } finally {
      stack.gw.app.settings.responses.retentionMs = retention;
    }
  });
});

describe('retention', () => {
  test('expired responses are purged as new ones are stored', async () => {
    const fresh = await startStack({ yaml: 'responses:\n  retentionDays: 1\n' });
    try {
      const rec = (id: string, at: Date) => ({
        id,
        keyHash: 'k',
        model: 'm',
        input: [],
        output: [],
        response: { id },
        createdAt: at.toISOString(),
      });
      await fresh.gw.app.store.saveResponse(rec('resp_old', new Date(Date.now() - 2 * 86_400_000)));
      await fresh.gw.app.store.saveResponse(rec('resp_young', new Date(Date.now() - 3_600_000)));
      const r = await fetch(`${fresh.baseURL}/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${fresh.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-4o-mini', input: 'store me' }),
      });
      const id = ((await r.json()) as { id: string }).id;
      await lastPurge(fresh.gw.app);
      assert.ok(await fresh.gw.app.store.getResponse(id), 'the new one is stored');
      assert.equal(await fresh.gw.app.store.getResponse('resp_old'), undefined, 'the one past retentionDays is purged');
      assert.ok(await fresh.gw.app.store.getResponse('resp_young'));
    } finally {
      await fresh.close();
    }
  });
});

/**
 * The Messages door fails over across candidates that mix raw passthrough (an Anthropic endpoint,
 * its bytes relayed) and translation (an OpenAI-compatible endpoint, rendered as Anthropic events),
 * in both directions, before content and mid-stream, streamed and whole. Whatever the legs, the
 * client reads one well-formed Anthropic message: the official SDK's stream helper (which refuses
 * events out of order) assembles it, and the event sequence is checked too (one message_start,
 * blocks numbered in order and each stopped once, one message_stop, last).
 *
 * And the streams of every door are driven by one driver: the same mid-stream failover on the chat,
 * Responses and Messages doors (raw first leg or translated) is recorded with the same legs, and on
 * each the charge is committed before the client reads the stream's last bytes.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { MemoryHealth } from '../../src/router/health/memory-health.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

// `relay` is the OpenAI emulator again, as a provider that can continue an assistant turn.
const YAML = `
providers:
  relay:
    type: openai-compatible
    name: Relay
    baseUrl: \${OPENAI_BASE_URL}
    apiKey: \${OPENAI_API_KEY}
    models: [gpt-4o-mini]
    quirks: { continuesAssistantTurn: true }
models:
  test/raw-first:
    endpoints:
      - provider: anthropic
        model: claude-sonnet-4-5
        pricing: { prompt: "0.000003", completion: "0.000015" }
      - provider: relay
        model: gpt-4o-mini
        pricing: { prompt: "0.0000001", completion: "0.0000004" }
  test/translated-first:
    endpoints:
      - provider: relay
        model: gpt-4o-mini
        pricing: { prompt: "0.0000001", completion: "0.0000004" }
      - provider: anthropic
        model: claude-sonnet-4-5
        pricing: { prompt: "0.000003", completion: "0.000015" }
`;

let stack: Stack;
let client: Anthropic;

before(async () => {
  stack = await startStack({ yaml: YAML });
  client = new Anthropic({ apiKey: stack.key, baseURL: stack.gw.url, maxRetries: 0 });
});
beforeEach(() => {
  stack.gw.app.health = new MemoryHealth();
});
after(() => stack.close());

const ORDER = {
  'test/raw-first': ['anthropic', 'relay'],
  'test/translated-first': ['relay', 'anthropic'],
} as const;
type Model = keyof typeof ORDER;

const params = (model: Model, content: string) =>
  ({
    model,
    max_tokens: 400,
    messages: [{ role: 'user' as const, content }],
    provider: { order: ORDER[model] },
  }) as Anthropic.MessageCreateParamsNonStreaming;

async function record(id: string) {
  await stack.gw.app.generations.flush();
  return (await stack.gw.app.store.getGeneration(id))!;
}

/** Streams through the SDK's helper, keeping every event; throws what the helper throws. */
async function streamed(p: Anthropic.MessageCreateParamsNonStreaming) {
  const stream = client.messages.stream(p);
  const events: Anthropic.MessageStreamEvent[] = [];
  for await (const ev of stream) events.push(ev);
  const message = await stream.finalMessage();
  const { response } = await stream.withResponse();
  return { message, events, id: response.headers.get('x-generation-id')! };
}

/** One message: message_start first and once, blocks numbered 0, 1, ... each started and stopped once, message_stop last. */
function assertWellFormed(events: readonly Anthropic.MessageStreamEvent[]): void {
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'message_start', types.join());
  assert.equal(types.filter((t) => t === 'message_start').length, 1, types.join());
  assert.equal(types.at(-1), 'message_stop', types.join());
  assert.equal(types.filter((t) => t === 'message_stop').length, 1, types.join());
  assert.equal(types.filter((t) => t === 'message_delta').length, 1, types.join());
  let next = 0;
  let open: number | undefined;
  for (const e of events) {
    if (e.type === 'content_block_start') {
      assert.equal(open, undefined, 'a block starts only after the last one stopped');
      assert.equal(e.index, next++, 'blocks are numbered in order');
      open = e.index;
    } else if (e.type === 'content_block_delta') {
      assert.equal(e.index, open, 'a delta belongs to the open block');
    } else if (e.type === 'content_block_stop') {
      assert.equal(e.index, open);
      open = undefined;
    }
  }
  assert.equal(open, undefined, 'every block stopped');
  assert.ok(next > 0);
}

const text = (m: Anthropic.Message) => m.content.map((b) => (b.type === 'text' ? b.text : '')).join('');

describe('mid-stream: the answer carries on from the other kind of endpoint', () => {
  test('passthrough dies after content → a translated endpoint continues it, in one Anthropic message', async () => {
    stack.anthropic.failNext('[[die:6]]');
    const { message, events, id } = await streamed(params('test/raw-first', 'tell me a story [[long]]'));
    assertWellFormed(events);
    assert.match(message.id, /^msg_/, 'the message Anthropic started');
    assert.equal(message.model, 'test/raw-first');
    assert.equal(message.content.length, 1, 'the continuation extends the text block the passthrough opened');
    const prefill = stack.openai.last().body.messages.at(-1);
    assert.equal(prefill.role, 'assistant', 'the partial answer was sent as an assistant prefill');
    assert.ok(text(message).startsWith('word0 word1'), "Anthropic's words come first");
    assert.ok(text(message).startsWith(prefill.content), 'the continuation follows exactly what the client saw');
    assert.ok(text(message).length > prefill.content.length, 'and the translated endpoint carried on');
    assert.equal(message.stop_reason, 'end_turn');
    const g = await record(id);
    assert.deepEqual(
      g.legs.map((l) => l.provider),
      ['anthropic', 'relay'],
    );
    assert.equal(g.providerId, 'relay');
    assert.equal(g.tokensCompletion, message.usage.output_tokens, 'the final usage counts both legs');
  });

  test('translated dies after content → the Anthropic endpoint continues it, in one Anthropic message', async () => {
    stack.openai.failNext('[[die:5]]');
    const { message, events, id } = await streamed(params('test/translated-first', 'tell me a story [[long]]'));
    assertWellFormed(events);
    assert.match(message.id, /^gen-/);
    assert.equal(message.content.length, 1);
    const prefill = stack.anthropic.last().body.messages.at(-1);
    assert.equal(prefill.role, 'assistant');
    const said = prefill.content[0].text as string;
    assert.ok(text(message).startsWith(said.trimEnd()));
    assert.ok(text(message).length > said.length);
    const g = await record(id);
    assert.deepEqual(
      g.legs.map((l) => l.provider),
      ['relay', 'anthropic'],
    );
    assert.equal(g.tokensCompletion, message.usage.output_tokens);
  });

  // The emulator's frames: message_start, thinking block (start, ping, 2 deltas, signature, stop), then the text block.
  for (const [where, die] of [
    ['between blocks', 7],
    ['inside the text block', 9],
  ] as const) {
    test(`a passthrough that thought, then died ${where}: the continuation carries on after the passed-through blocks`, async () => {
      stack.anthropic.failNext(`[[die:${die}]]`);
      const thinking = { type: 'enabled' as const, budget_tokens: 1024 };
      const p = { ...params('test/raw-first', 'think first [[long]]'), thinking, max_tokens: 2048 };
      const { message, events } = await streamed(p);
      assertWellFormed(events);
      assert.deepEqual(
        message.content.map((b) => b.type),
        ['thinking', 'text'],
      );
      assert.match((message.content[0] as Anthropic.ThinkingBlock).signature, /./, "Anthropic's signed thinking, as it came");
      assert.equal(events.filter((e) => e.type === 'content_block_start').length, 2);
    });
  }
});

describe('before content: the next endpoint starts over, whichever kind', () => {
  for (const streaming of [true, false]) {
    const how = streaming ? 'streamed' : 'whole';
    test(`passthrough fails → translated serves (${how})`, async () => {
      stack.anthropic.failNext('[[error:529]]');
      const p = params('test/raw-first', 'hello there');
      let message: Anthropic.Message;
      if (streaming) {
        const s = await streamed(p);
        assertWellFormed(s.events);
        message = s.message;
      } else message = await client.messages.create(p);
      assert.match(message.id, /^gen-/, 'rendered by Freeway');
      assert.match(text(message), /Hello from OpenAI emulator/);
    });
    test(`translated fails → passthrough serves (${how})`, async () => {
      stack.openai.failNext('[[error:503]]');
      const p = params('test/translated-first', 'hello there');
      let message: Anthropic.Message;
      if (streaming) {
        const s = await streamed(p);
        assertWellFormed(s.events);
        message = s.message;
      } else message = await client.messages.create(p);
      assert.match(message.id, /^msg_/, "Anthropic's own message, passed through");
      assert.equal(message.model, 'test/translated-first');
      assert.doesNotMatch(text(message), /OpenAI/);
    });
  }

  test('a passthrough whose stream dies before content is replaced unseen by a translated one', async () => {
    stack.anthropic.failNext('[[die:1]]');
    const { message, events, id } = await streamed(params('test/raw-first', 'hello there'));
    assertWellFormed(events);
    assert.match(message.id, /^gen-/);
    const g = await record(id);
    assert.equal(g.providerId, 'relay');
    assert.deepEqual(g.legs, [], 'one leg: the failed one showed nothing');
  });
});

describe('one stream driver for every door', () => {
  const readAll = async (res: Response): Promise<string> => {
    assert.equal(res.status, 200);
    return res.text();
  };
  const post = (path: string, body: object) =>
    fetch(`${stack.gw.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, stream: true }),
    });
  const doors: Array<[string, (model: Model) => Promise<Response>]> = [
    [
      'chat',
      (model) =>
        post('/api/v1/chat/completions', {
          model,
          messages: [{ role: 'user', content: 'a story [[long]]' }],
          provider: { order: ORDER[model] },
        }),
    ],
    ['responses', (model) => post('/api/v1/responses', { model, input: 'a story [[long]]', provider: { order: ORDER[model] } })],
    ['messages', (model) => post('/v1/messages', { ...params(model, 'a story [[long]]') })],
  ];
  for (const model of ['test/raw-first', 'test/translated-first'] as const) {
    for (const [door, send] of doors) {
      test(`${door} door, ${model}: a mid-stream failover is recorded with both legs, charged before the last bytes`, async () => {
        (model === 'test/raw-first' ? stack.anthropic : stack.openai).failNext('[[die:6]]');
        const app = stack.gw.app;
        const res = await send(model);
        const id = res.headers.get('x-generation-id')!;
        const body = await readAll(res);
        assert.ok(!/event: error|"error":\{|response\.failed/.test(body), body.slice(-500));
        // Read as soon as the last bytes arrived: the charge is already in the store.
        const charged = (await app.store.ledger('default', 50)).find((e) => e.id === id);
        assert.ok(charged && charged.amountNanos < 0, `${door}: charged before the stream ended`);
        const g = await record(id);
        assert.deepEqual(
          g.legs.map((l) => l.provider),
          [...ORDER[model]],
        );
        assert.equal(g.costNanos, -charged.amountNanos);
        assert.ok(
          g.legs.every((l) => l.upstreamCostNanos > 0),
          'each leg is paid for',
        );
      });
    }
  }
});

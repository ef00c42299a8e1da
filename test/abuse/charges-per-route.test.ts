/**
 * Every route that reaches a paid upstream holds before and charges after: for each one, the key's
 * usage moves by exactly the nanos its tokens cost at the catalog's prices plus the fee, the ledger
 * and the generation record say the same, and nothing stays held. Zero-completion insurance waives
 * only answers that carried nothing (an embedding's vectors are its output, so it is charged).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { createKey } from '../../src/accounting/keys.ts';
import type { Pricing } from '../../src/catalog/types.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

type APIErr = InstanceType<typeof OpenAI.APIError>;

let stack: Stack;
const MARKUP_BP = 500;
/** A 1×1 PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

before(async () => {
  stack = await startStack({
    yaml:
      'billing:\n  markupPercent: 5\n' +
      // A model with a per-request fee and a per-image price on top of its token prices.
      'models:\n  test/per-image:\n    inputModalities: [text, image]\n    endpoints:\n      - provider: openai\n        model: gpt-4o-mini\n' +
      '        pricing: { prompt: "0.00000015", completion: "0.0000006", request: "0.002", image: "0.001" }\n' +
      // No price known or configured, on a provider Freeway pays: not served (rather than free).
      '  test/mystery:\n    endpoints:\n      - provider: openai\n        model: mystery-model\n' +
      // The same upstream, priced by the operator; and marked free (its :free variant).
      '  test/priced-mystery:\n    endpoints:\n      - provider: openai\n        model: mystery-model\n        pricing: { prompt: "0.000001", completion: "0.000002" }\n' +
      '  test/gift:\n    endpoints:\n      - provider: openai\n        model: mystery-model\n        free: true\n' +
      'providers:\n  openai:\n    models: [declared-unpriced]\n',
  });
  await stack.gw.app.store.createAccount({ id: 'paid', name: 'Paid', prepaid: true, now: new Date() });
  await stack.gw.app.billing.credit('paid', 'topup', 100_000_000_000);
});
after(() => stack.close());

/** A key whose every request is held (a limit, on a prepaid account). */
async function newKey(opts: { account?: string; limitUsd?: number | null; rpm?: number } = {}) {
  const { key, record } = await createKey(stack.gw.app.store, {
    name: 'route',
    kind: 'inference',
    accountId: opts.account ?? 'paid',
    limitNanos: opts.limitUsd === null ? null : Math.round((opts.limitUsd ?? 10) * 1e9),
    requestsPerMinute: opts.rpm ?? null,
  });
  return { key, hash: record.hash, client: new OpenAI({ apiKey: key, baseURL: stack.baseURL, maxRetries: 0 }) };
}

function pricing(model: string): Pricing {
  const m = stack.gw.app.catalog.get(model);
  assert.ok(m, model);
  return m.endpoints[0].pricing;
}

/** What the key pays for these tokens: upstream cost (rounded once, half up) plus the 5% fee. */
function expectedNanos(model: string, promptTokens: number, completionTokens: number, images = 0): number {
  const p = pricing(model);
  const femto =
    BigInt(promptTokens) * p.prompt + BigInt(completionTokens) * p.completion + (p.request ?? 0n) + BigInt(images) * (p.image ?? 0n);
  const upstream = Number((femto + 500_000n) / 1_000_000n);
  return upstream + Number((BigInt(upstream) * BigInt(MARKUP_BP) + 5_000n) / 10_000n);
}

/** Waits for the charge and the record, then checks key, ledger, record and account agree on `nanos`. */
async function assertCharged(hash: string, generationId: string, nanos: number, before: { balance: number }) {
  const app = stack.gw.app;
  await app.billing.settled();
  await app.generations.flush();
  const k = (await app.store.findKey(hash))!;
  assert.equal(k.usageTotalNanos, nanos, 'key usage moved by exactly the cost');
  assert.equal(k.reservedNanos, 0, 'no hold left');
  const g = await app.store.getGeneration(generationId);
  assert.ok(g, 'generation recorded');
  assert.equal(g.costNanos, nanos, 'the generation record agrees');
  const entry = (await app.store.ledger('paid', 1000)).find((e) => e.id === generationId);
  assert.equal(entry?.amountNanos, -nanos, 'the ledger agrees');
  const account = (await app.store.getAccount('paid'))!;
  assert.equal(before.balance - account.balanceNanos, nanos, 'the prepaid balance moved by the same');
  assert.equal(await app.store.ledgerSum('paid'), account.balanceNanos);
  return g;
}

async function balance() {
  await stack.gw.app.billing.settled();
  return { balance: (await stack.gw.app.store.getAccount('paid'))!.balanceNanos };
}

async function sse(res: Response): Promise<Array<Record<string, unknown>>> {
  const text = await res.text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]')
    .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
}

describe('embeddings are charged', () => {
  for (const model of ['openai/text-embedding-3-small', 'google/gemini-embedding-001']) {
    test(`${model}: held, charged at input tokens × price, no insurance`, async () => {
      const { client, hash } = await newKey();
      const b = await balance();
      const res = await client.embeddings.create({ model, input: ['alpha beta gamma', 'delta'], encoding_format: 'float' });
      const usage = res.usage as unknown as { prompt_tokens: number; cost: number; cost_details: Record<string, unknown> };
      assert.ok(usage.prompt_tokens > 0);
      const nanos = expectedNanos(model, usage.prompt_tokens, 0);
      assert.ok(nanos > 0);
      assert.equal(Math.round(usage.cost * 1e9), nanos);
      assert.equal(usage.cost_details.zero_completion_insurance, undefined, 'vectors are output: not insured');
      const g = await assertCharged(hash, (res as unknown as { id: string }).id, nanos, b);
      assert.equal(g.tokensPrompt, usage.prompt_tokens);
    });
  }

  test('an embedding the account cannot afford is a 402, and nothing moves', async () => {
    await stack.gw.app.store.createAccount({ id: 'empty', name: 'Empty', prepaid: true, now: new Date() });
    const { client, hash } = await newKey({ account: 'empty', limitUsd: null });
    const err = (await client.embeddings
      .create({ model: 'openai/text-embedding-3-small', input: 'x'.repeat(1000) })
      .catch((e: APIErr) => e)) as APIErr;
    assert.equal(err.status, 402);
    assert.match((err.error as { message: string }).message, /the account has \$0\.00 of credit available/);
    assert.equal((await stack.gw.app.store.findKey(hash))?.usageTotalNanos, 0);
  });

  test('an embedding over the key limit is a 402 naming the limit', async () => {
    const { client } = await newKey({ limitUsd: 0.000000001 });
    const err = (await client.embeddings
      .create({ model: 'openai/text-embedding-3-small', input: 'x'.repeat(4000) })
      .catch((e: APIErr) => e)) as APIErr;
    assert.equal(err.status, 402);
    assert.match((err.error as { message: string }).message, /this key has \$0\.000000001 left of its limit/);
  });

  test("the key's requests-per-minute limit applies to embeddings", async () => {
    const { client } = await newKey({ rpm: 1 });
    await client.embeddings.create({ model: 'openai/text-embedding-3-small', input: 'one' });
    const err = (await client.embeddings
      .create({ model: 'openai/text-embedding-3-small', input: 'two' })
      .catch((e: APIErr) => e)) as APIErr;
    assert.equal(err.status, 429);
  });
});

describe('every generating route charges exactly', () => {
  for (const stream of [false, true]) {
    const mode = stream ? 'streamed' : 'whole';
    test(`POST /chat/completions, ${mode}`, async () => {
      const { key, hash } = await newKey();
      const b = await balance();
      const res = await fetch(`${stack.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'charge me' }], max_tokens: 50, stream }),
      });
      assert.equal(res.status, 200);
      const id = res.headers.get('x-generation-id')!;
      const body = stream ? (await sse(res)).at(-1)! : ((await res.json()) as Record<string, unknown>);
      const u = body.usage as { prompt_tokens: number; completion_tokens: number; cost: number };
      const nanos = expectedNanos('openai/gpt-4o-mini', u.prompt_tokens, u.completion_tokens);
      assert.equal(Math.round(u.cost * 1e9), nanos);
      await assertCharged(hash, id, nanos, b);
    });

    test(`POST /completions (legacy), ${mode}`, async () => {
      const { key, hash } = await newKey();
      const b = await balance();
      const res = await fetch(`${stack.baseURL}/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-3.5-turbo-instruct', prompt: 'Say this is a test', max_tokens: 20, stream }),
      });
      assert.equal(res.status, 200);
      const id = res.headers.get('x-generation-id')!;
      const body = stream ? (await sse(res)).at(-1)! : ((await res.json()) as Record<string, unknown>);
      const u = body.usage as { prompt_tokens: number; completion_tokens: number; cost: number };
      const nanos = expectedNanos('openai/gpt-3.5-turbo-instruct', u.prompt_tokens, u.completion_tokens);
      assert.equal(Math.round(u.cost * 1e9), nanos);
      await assertCharged(hash, id, nanos, b);
    });

    test(`POST /responses, ${mode}`, async () => {
      const { key, hash } = await newKey();
      const b = await balance();
      const res = await fetch(`${stack.baseURL}/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'google/gemini-2.5-flash', input: 'charge me', max_output_tokens: 50, stream, store: true }),
      });
      assert.equal(res.status, 200);
      const id = res.headers.get('x-generation-id')!;
      let response: Record<string, unknown>;
      if (stream) {
        const done = (await sse(res)).find((e) => e.type === 'response.completed')!;
        response = done.response as Record<string, unknown>;
      } else response = (await res.json()) as Record<string, unknown>;
      const u = response.usage as { input_tokens: number; output_tokens: number };
      const nanos = expectedNanos('google/gemini-2.5-flash', u.input_tokens, u.output_tokens);
      await assertCharged(hash, id, nanos, b);
      // Reading the stored response back calls no upstream and costs nothing.
      const again = await fetch(`${stack.baseURL}/responses/${String(response.id)}`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(again.status, 200);
      await assertCharged(hash, id, nanos, b);
    });

    for (const model of ['anthropic/claude-sonnet-4-5', 'openai/gpt-4o-mini']) {
      const how = model.startsWith('anthropic') ? 'passed through to Anthropic' : 'translated to OpenAI';
      test(`POST /messages, ${how}, ${mode}`, async () => {
        const { key, hash } = await newKey();
        const b = await balance();
        const res = await fetch(`${stack.gw.url}/v1/messages`, {
          method: 'POST',
          headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
          body: JSON.stringify({ model, max_tokens: 50, messages: [{ role: 'user', content: 'charge me' }], stream }),
        });
        assert.equal(res.status, 200);
        const id = res.headers.get('x-generation-id')!;
        let usage: { input_tokens: number; output_tokens: number };
        if (stream) {
          const events = await sse(res);
          const start = events.find((e) => e.type === 'message_start')!;
          const delta = events.filter((e) => e.type === 'message_delta').at(-1)!;
          // message_delta's usage is the final one (a translated stream's message_start has an estimate).
          const startUsage = (start.message as { usage: { input_tokens: number } }).usage;
          const final = delta.usage as { input_tokens?: number; output_tokens: number };
          usage = { input_tokens: final.input_tokens ?? startUsage.input_tokens, output_tokens: final.output_tokens };
        } else usage = ((await res.json()) as { usage: { input_tokens: number; output_tokens: number } }).usage;
        // Anthropic's input_tokens leaves cache reads and writes out; the prompt here has none.
        const nanos = expectedNanos(model, usage.input_tokens, usage.output_tokens);
        assert.ok(nanos > 0);
        const rec = await assertCharged(hash, id, nanos, b);
        assert.equal(rec.tokensCompletion, usage.output_tokens);
      });
    }
  }

  for (const stream of [false, true]) {
    test(`a per-request fee and a per-image price are held and charged (${stream ? 'streamed' : 'whole'})`, async () => {
      const { key, hash } = await newKey();
      const b = await balance();
      const image = { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } };
      const res = await fetch(`${stack.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'test/per-image',
          stream,
          max_tokens: 20,
          messages: [{ role: 'user', content: [{ type: 'text', text: 'two pictures' }, image, image] }],
        }),
      });
      assert.equal(res.status, 200);
      const id = res.headers.get('x-generation-id')!;
      const body = stream ? (await sse(res)).at(-1)! : ((await res.json()) as Record<string, unknown>);
      const u = body.usage as { prompt_tokens: number; completion_tokens: number; cost: number };
      const nanos = expectedNanos('test/per-image', u.prompt_tokens, u.completion_tokens, 2);
      assert.ok(nanos > 2_000_000 + 2_000_000, 'the request fee and two images are in it');
      assert.equal(Math.round(u.cost * 1e9), nanos);
      await assertCharged(hash, id, nanos, b);
    });
  }

  test('a per-image price counts in the hold: a key that cannot cover the images gets a 402', async () => {
    const { client } = await newKey({ limitUsd: 0.003 });
    const image = { type: 'image_url' as const, image_url: { url: `data:image/png;base64,${PNG}` } };
    const err = (await client.chat.completions
      .create({ model: 'test/per-image', max_tokens: 1, messages: [{ role: 'user', content: [image, image] }] })
      .catch((e: APIErr) => e)) as APIErr;
    assert.equal(err.status, 402);
  });

  for (const stream of [false, true]) {
    test(`a client that gives up after the upstream has the request, before it answers, pays for the prompt (${stream ? 'streamed' : 'whole'})`, async () => {
      const { key, hash } = await newKey();
      const b = await balance();
      const content = 'an expensive question '.repeat(40) + '[[slow:3000]]';
      const controller = new AbortController();
      const sent = fetch(`${stack.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-4o-mini', max_tokens: 50, stream, messages: [{ role: 'user', content }] }),
        signal: controller.signal,
      }).catch(() => undefined);
      // Once the upstream has the request (the emulator saw it), the client goes away.
      const seen = stack.openai.requests.length;
      const deadline = Date.now() + 10_000;
      while (stack.openai.requests.length === seen && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      controller.abort();
      await sent;
      let g;
      while (Date.now() < deadline) {
        await stack.gw.app.billing.settled();
        await stack.gw.app.generations.flush();
        const k = (await stack.gw.app.store.findKey(hash))!;
        if (k.usageTotalNanos > 0) {
          g = (await stack.gw.app.store.ledger('paid', 1000)).find((e) => e.keyHash === hash);
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(g, 'charged');
      const rec = (await stack.gw.app.store.getGeneration(g.id))!;
      assert.equal(rec.cancelled, true);
      assert.equal(rec.usageEstimated, true);
      assert.equal(rec.tokensCompletion, 0);
      assert.ok(rec.tokensPrompt > 100, 'the prompt, estimated');
      await assertCharged(hash, g.id, expectedNanos('openai/gpt-4o-mini', rec.tokensPrompt, 0), b);
    });
  }

  test('legacy best_of > 1 (billed upstream per candidate) is refused, like n > 1', async () => {
    const { key } = await newKey();
    const res = await fetch(`${stack.baseURL}/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-3.5-turbo-instruct', prompt: 'x', best_of: 5 }),
    });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /^best_of: only best_of = 1 is supported/);
  });

  test('a model with no known price is not served (nor charged $0): the 404 says why and how to fix it', async () => {
    const { key, hash } = await newKey();
    for (const model of ['test/mystery', 'openai/declared-unpriced']) {
      const res = await fetch(`${stack.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'free lunch?' }] }),
      });
      assert.equal(res.status, 404, model);
      const body = (await res.json()) as { error: { message: string; metadata: { considered: Array<{ reason: string }> } } };
      assert.match(body.error.message, /has no known price, so it is not served: an operator sets its pricing \(or free: true\)/);
      assert.match(body.error.metadata.considered[0].reason, /no price is known or configured/);
    }
    assert.equal((await stack.gw.app.store.findKey(hash))?.usageTotalNanos, 0);
    type Listed = { data: Array<{ id: string; pricing: { prompt: string } }> };
    const { data } = (await (await fetch(`${stack.baseURL}/models`)).json()) as Listed;
    // Listed, so the operator sees it, but as unpriced ("-1", not "0", which would read as free).
    for (const id of ['test/mystery', 'openai/declared-unpriced']) assert.equal(data.find((m) => m.id === id)?.pricing.prompt, '-1', id);
    assert.notEqual(data.find((m) => m.id === 'test/priced-mystery')?.pricing.prompt, '-1');
  });

  test('the same upstream priced by the operator is charged at that price; marked free, its :free variant costs nothing', async () => {
    const { key, hash } = await newKey();
    const b = await balance();
    const ask = (model: string) =>
      fetch(`${stack.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, max_tokens: 20, messages: [{ role: 'user', content: 'price me' }] }),
      });
    const priced = await ask('test/priced-mystery');
    assert.equal(priced.status, 200);
    const u = ((await priced.json()) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    const nanos = expectedNanos('test/priced-mystery', u.prompt_tokens, u.completion_tokens);
    await assertCharged(hash, priced.headers.get('x-generation-id')!, nanos, b);
    const free = await ask('test/gift:free');
    assert.equal(free.status, 200);
    const id = free.headers.get('x-generation-id')!;
    await stack.gw.app.billing.settled();
    await stack.gw.app.generations.flush();
    assert.equal((await stack.gw.app.store.getGeneration(id))?.costNanos, 0);
    assert.equal((await stack.gw.app.store.findKey(hash))?.usageTotalNanos, nanos, ':free moved nothing');
  });

  for (const stream of [false, true]) {
    test(`Anthropic's web searches (run and billed upstream per search) are charged through the raw passthrough (${stream ? 'streamed' : 'whole'})`, async () => {
      const { key, hash } = await newKey();
      const b = await balance();
      const res = await fetch(`${stack.gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          model: 'anthropic/claude-sonnet-4-5',
          max_tokens: 50,
          stream,
          tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 1 }],
          messages: [{ role: 'user', content: 'search for me' }],
        }),
      });
      assert.equal(res.status, 200);
      const id = res.headers.get('x-generation-id')!;
      let usage: { input_tokens: number; output_tokens: number; server_tool_use?: { web_search_requests: number } };
      if (stream) {
        const events = await sse(res);
        const start = (events.find((e) => e.type === 'message_start')!.message as { usage: { input_tokens: number } }).usage;
        const final = events.filter((e) => e.type === 'message_delta').at(-1)!.usage as {
          output_tokens: number;
          server_tool_use?: { web_search_requests: number };
        };
        usage = { ...final, input_tokens: start.input_tokens };
      } else usage = ((await res.json()) as { usage: typeof usage }).usage;
      assert.equal(usage.server_tool_use?.web_search_requests, 1);
      const p = pricing('anthropic/claude-sonnet-4-5');
      assert.equal(p.webSearch, 10_000_000_000_000n, '$0.01 a search');
      const femto = BigInt(usage.input_tokens) * p.prompt + BigInt(usage.output_tokens) * p.completion + p.webSearch;
      const upstream = Number((femto + 500_000n) / 1_000_000n);
      const nanos = upstream + Number((BigInt(upstream) * BigInt(MARKUP_BP) + 5_000n) / 10_000n);
      await assertCharged(hash, id, nanos, b);
    });
  }

  test('POST /messages/count_tokens reaches Anthropic for free: nothing held, nothing charged', async () => {
    const { key, hash } = await newKey();
    const res = await fetch(`${stack.gw.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'count me' }] }),
    });
    assert.equal(res.status, 200);
    assert.ok(((await res.json()) as { input_tokens: number }).input_tokens > 0);
    await stack.gw.app.billing.settled();
    const k = (await stack.gw.app.store.findKey(hash))!;
    assert.deepEqual([k.usageTotalNanos, k.reservedNanos], [0, 0]);
  });
});

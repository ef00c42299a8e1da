/**
 * Money through the whole gateway: holds and 402s that explain themselves, exact charges with the
 * fee shown apart, zero-completion insurance, cancelled streams, and a ledger that always sums to
 * the balance.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { createKey } from '../../src/accounting/keys.ts';
import { openGate, waitingAt } from '../emulators/common.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

type APIErr = InstanceType<typeof OpenAI.APIError>;

let stack: Stack;
const MODEL = 'openai/gpt-4o-mini';

before(async () => {
  stack = await startStack({ yaml: 'billing:\n  markupPercent: 5\n' });
  await stack.gw.app.store.createAccount({ id: 'team', name: 'Team', prepaid: true, now: new Date() });
});
after(() => stack.close());

async function newKey(opts: { account?: string; limitUsd?: number } = {}) {
  const { key, record } = await createKey(stack.gw.app.store, {
    name: 'k',
    kind: 'inference',
    accountId: opts.account ?? 'default',
    limitNanos: opts.limitUsd === undefined ? null : Math.round(opts.limitUsd * 1e9),
  });
  return { key, hash: record.hash, client: new OpenAI({ apiKey: key, baseURL: stack.baseURL, maxRetries: 0 }) };
}

async function invariants(accountId: string) {
  const store = stack.gw.app.store;
  const account = (await store.getAccount(accountId))!;
  assert.equal(await store.ledgerSum(accountId), account.balanceNanos, 'balance == sum of ledger');
  assert.equal(await store.openReservations(accountId), 0, 'no hold left behind');
  assert.equal(account.reservedNanos, 0);
}

describe('charges', () => {
  test('the fee is charged on top of the upstream cost and shown apart, everywhere', async () => {
    const { client } = await newKey();
    const res = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'price me' }], max_tokens: 50 });
    const u = res.usage as unknown as {
      cost: number;
      prompt_tokens: number;
      completion_tokens: number;
      cost_details: Record<string, number>;
    };
    // gpt-4o-mini: 150 nano$ per prompt token, 600 per completion token.
    const upstream = u.prompt_tokens * 150 + u.completion_tokens * 600;
    const fee = Math.round(upstream * 0.05);
    assert.equal(Math.round(u.cost_details.upstream_inference_cost * 1e9), upstream);
    assert.equal(Math.round(u.cost_details.freeway_fee * 1e9), fee);
    assert.equal(Math.round(u.cost * 1e9), upstream + fee);
    const ledger = await stack.gw.app.store.ledger('default', 500);
    const entry = ledger.find((e) => e.id === res.id);
    assert.ok(entry, 'charge recorded under the generation id');
    assert.deepEqual([entry.amountNanos, entry.upstreamNanos, entry.feeNanos], [-(upstream + fee), upstream, fee]);
    const gen = (await (
      await fetch(`${stack.baseURL}/generation?id=${res.id}`, { headers: { authorization: `Bearer ${client.apiKey}` } })
    ).json()) as { data: Record<string, number> };
    assert.equal(gen.data.cost_nanos, upstream + fee);
    await invariants('default');
  });

  test('/models prices include the fee', async () => {
    const { data } = (await (await fetch(`${stack.baseURL}/models`)).json()) as {
      data: Array<{ id: string; pricing: { prompt: string } }>;
    };
    assert.equal(data.find((m) => m.id === MODEL)?.pricing.prompt, '0.0000001575');
  });

  test('zero-completion insurance: an upstream that fails mid-stream charges nothing', async () => {
    const { client, hash } = await newKey();
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'a long answer please [[die:3]]' }],
      stream: true,
    });
    let id = '';
    await assert.rejects(async () => {
      for await (const c of stream) id = c.id;
    });
    await stack.gw.app.generations.flush();
    const gen = await stack.gw.app.store.getGeneration(id);
    assert.equal(gen?.costNanos, 0);
    assert.ok((gen?.upstreamCostNanos ?? 0) >= 0);
    assert.equal((await stack.gw.app.store.findKey(hash))?.usageTotalNanos, 0);
    await invariants('default');
  });

  test('an upstream error before any content releases the hold and charges nothing', async () => {
    const { client, hash } = await newKey({ account: 'team', limitUsd: 1 });
    await stack.gw.app.billing.credit('team', 'topup', 1_000_000_000);
    await assert.rejects(
      client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: '[[error:500]]' }] }),
      (e: APIErr) => e.status === 502,
    );
    const k = (await stack.gw.app.store.findKey(hash))!;
    assert.equal(k.usageTotalNanos, 0);
    assert.equal(k.reservedNanos, 0);
    await invariants('team');
  });

  test('a stream the client cancels is charged for what was produced', async () => {
    const { key, hash } = await newKey();
    const controller = new AbortController();
    const res = await fetch(`${stack.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: '[[long]] [[drip:15]]' }] }),
      signal: controller.signal,
    });
    const id = res.headers.get('x-generation-id')!;
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    controller.abort();
    const deadline = Date.now() + 5000;
    let charged = 0;
    while (Date.now() < deadline) {
      const entry = (await stack.gw.app.store.ledger('default', 1000)).find((e) => e.id === id);
      if (entry) {
        charged = -entry.amountNanos;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(charged > 0, 'partial output is paid for');
    assert.ok(charged < 200 * 600 * 1.05, 'but not the whole answer');
    assert.equal((await stack.gw.app.store.findKey(hash))?.usageTotalNanos, charged);
    await invariants('default');
  });
});

describe('limits and 402s', () => {
  test('a key limit smaller than the worst case gets a 402 that states the amounts and the fix', async () => {
    const { client } = await newKey({ limitUsd: 0.00001 });
    const err = (await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1000 })
      .catch((e: APIErr) => e)) as APIErr;
    assert.equal(err.status, 402);
    const body = err.error as { message: string; metadata: Record<string, number | string> };
    assert.match(body.message, /needs up to \$0\.000\d+/);
    assert.match(body.message, /this key has \$0\.00001 left/);
    assert.match(body.message, /set max_tokens ≤ \d+ or raise the key's limit/);
    const affordable = body.metadata.max_affordable_tokens as number;
    assert.ok(affordable > 0 && affordable < 1000);
    // The advice works: at that max_tokens the request goes through.
    const ok = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: affordable });
    assert.ok(ok.choices[0]);
  });

  test('a prepaid account with no credit gets a 402 that says how much to add', async () => {
    await stack.gw.app.store.createAccount({ id: 'broke', name: 'Broke', prepaid: true, now: new Date() });
    const { client } = await newKey({ account: 'broke' });
    const err = (await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 })
      .catch((e: APIErr) => e)) as APIErr;
    assert.equal(err.status, 402);
    assert.match((err.error as { message: string }).message, /the account has \$0\.00 of credit available.*add \$0\.0000\d+ of credits/);
  });

  test('200 concurrent requests against a key whose limit covers 20: exactly 20 succeed, spend ≤ limit, ledger balances', async () => {
    const probe = await newKey({ limitUsd: 0 });
    // The upstream answers only when the test opens its gate, after every request has been held or
    // refused: a settled request costs less than its hold, so an early answer would make room for
    // more, however slow the machine.
    const gate = 'billing-200-concurrent';
    const body = { model: MODEL, messages: [{ role: 'user' as const, content: `go [[gate:${gate}]]` }], max_tokens: 200 };
    const e = (await probe.client.chat.completions.create(body).catch((x: APIErr) => x)) as APIErr;
    const worst = (e.error as { metadata: { required_nanos: number } }).metadata.required_nanos;
    assert.ok(worst > 0);
    const limitNanos = worst * 20 + Math.floor(worst / 2);
    const { client, hash } = await newKey({ limitUsd: limitNanos / 1e9 });
    let refused = 0;
    const pending = Array.from({ length: 200 }, () =>
      client.chat.completions.create(body).then(
        () => 200,
        (x: APIErr) => {
          if (x.status === 402) refused++;
          return x.status ?? 0;
        },
      ),
    );
    const deadline = Date.now() + 60_000;
    while (refused + waitingAt(gate) < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(waitingAt(gate), 20, `${refused} refused, ${waitingAt(gate)} at the upstream`);
    openGate(gate);
    const results = await Promise.all(pending);
    assert.equal(results.filter((s) => s === 200).length, 20);
    assert.equal(results.filter((s) => s === 402).length, 180);
    const k = (await stack.gw.app.store.findKey(hash))!;
    assert.ok(k.usageTotalNanos <= limitNanos);
    assert.equal(k.reservedNanos, 0);
    await invariants('default');
  });
});

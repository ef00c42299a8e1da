/**
 * Service tiers are billed as served: OpenAI's flex at half price, priority at its own price, the
 * tier being the one the answer says it was served at (flex may come back as default), the hold
 * covering the dearest tier the request can be served at; Anthropic's Priority Tier costs what
 * standard does per token. The expected amounts are written here from OpenAI's price pages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { createKey } from '../../src/accounting/keys.ts';
import { MODELS, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;

before(async () => {
  stack = await startStack();
});
after(() => stack.close());

type Json = Record<string, unknown>;
type CostDetails = { upstream_inference_cost: number; service_tier?: string };
type UsageOut = { prompt_tokens: number; completion_tokens: number; cost: number; cost_details: CostDetails };

/** gpt-4o-mini, nano-dollars per token: standard $0.15/$0.60 per million, flex half, priority $0.25/$1.00. */
const PRICE = { default: [150, 600], flex: [75, 300], priority: [250, 1000] } as const;

const nanos = (usd: number): number => Math.round(usd * 1e9);

async function post(body: Json, key = stack.key, path = '/chat/completions'): Promise<{ status: number; json: Json; text: string }> {
  const res = await fetch(`${stack.baseURL}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: text.startsWith('{') ? (JSON.parse(text) as Json) : {} };
}

async function generation(id: string): Promise<Json> {
  const headers = { authorization: `Bearer ${stack.key}` };
  const res = await fetch(`${stack.baseURL}/generation?id=${encodeURIComponent(id)}`, { headers });
  return ((await res.json()) as { data: Json }).data;
}

/** Checks the charge of a chat answer to the nano-dollar, at `tier`'s prices, everywhere it shows. */
async function charged(id: string, usage: UsageOut, tier: keyof typeof PRICE): Promise<void> {
  const [p, c] = PRICE[tier];
  const expected = usage.prompt_tokens * p + usage.completion_tokens * c;
  assert.ok(usage.completion_tokens > 0 && usage.prompt_tokens > 0);
  assert.equal(nanos(usage.cost_details.upstream_inference_cost), expected);
  assert.equal(nanos(usage.cost), expected, 'no fee in this stack');
  assert.equal(usage.cost_details.service_tier, tier);
  const g = await generation(id);
  assert.equal(g.cost_nanos, expected);
  assert.equal(g.service_tier, tier);
  const entry = (await stack.gw.app.store.ledger('default', 1000)).find((e) => e.id === id);
  assert.equal(entry?.upstreamNanos, expected, 'the ledger charged the tier price');
}

describe('OpenAI service tiers', () => {
  test('flex is charged at half price, and says so', async () => {
    const r = await post({ model: MODELS.openai, messages: [{ role: 'user', content: 'cheap please' }], service_tier: 'flex' });
    assert.equal(r.status, 200, r.text);
    assert.equal(stack.openai.last().body.service_tier, 'flex');
    assert.equal(r.json.service_tier, 'flex');
    await charged(r.json.id as string, r.json.usage as UsageOut, 'flex');
  });

  test('flex that the upstream served as default is charged at the standard price', async () => {
    const messages = [{ role: 'user', content: 'cheap please [[served:default]]' }];
    const r = await post({ model: MODELS.openai, messages, service_tier: 'flex' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.service_tier, 'default');
    await charged(r.json.id as string, r.json.usage as UsageOut, 'default');
  });

  test('priority is charged at its own price, streamed too', async () => {
    const whole = await post({ model: MODELS.openai, messages: [{ role: 'user', content: 'fast please' }], service_tier: 'priority' });
    assert.equal(whole.status, 200, whole.text);
    await charged(whole.json.id as string, whole.json.usage as UsageOut, 'priority');

    const client = new OpenAI({ apiKey: stack.key, baseURL: stack.baseURL, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: MODELS.openai,
      messages: [{ role: 'user', content: 'fast stream please' }],
      service_tier: 'priority',
      stream: true,
    });
    let last: OpenAI.Chat.Completions.ChatCompletionChunk | undefined;
    for await (const chunk of stream) last = chunk;
    assert.ok(last?.usage);
    assert.equal(last.service_tier, 'priority');
    await charged(last.id, last.usage as unknown as UsageOut, 'priority');
  });

  test('a priority request downgraded to default is charged at the standard price', async () => {
    const messages = [{ role: 'user', content: 'fast please [[served:default]]' }];
    const r = await post({ model: MODELS.openai, messages, service_tier: 'priority' });
    assert.equal(r.status, 200, r.text);
    await charged(r.json.id as string, r.json.usage as UsageOut, 'default');
  });

  test('the Responses door charges the tier it was served at', async () => {
    const r = await post({ model: MODELS.openai, input: 'cheap response', service_tier: 'flex' }, stack.key, '/responses');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.service_tier, 'flex');
    const u = r.json.usage as { input_tokens: number; output_tokens: number; cost: number; cost_details: CostDetails };
    assert.equal(nanos(u.cost), u.input_tokens * 75 + u.output_tokens * 300);
    assert.equal(u.cost_details.service_tier, 'flex');
  });

  test('the hold covers the dearest tier the answer can come back at', async () => {
    // max_tokens 1000: the output alone holds $0.0006 at the standard price, $0.001 at priority.
    const { key } = await createKey(stack.gw.app.store, { name: 'tight', kind: 'inference', accountId: 'default', limitNanos: 800_000 });
    const body = { model: MODELS.openai, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1000 };
    const standard = await post(body, key);
    assert.equal(standard.status, 200, standard.text);
    const flex = await post({ ...body, service_tier: 'flex' }, key);
    assert.equal(flex.status, 200, 'flex holds at most the standard price (it may be served as default)');
    const priority = await post({ ...body, service_tier: 'priority' }, key);
    assert.equal(priority.status, 402, priority.text);
    assert.match(JSON.stringify(priority.json), /1000 output tokens|max_tokens/);
  });
});

describe('Anthropic service tiers', () => {
  test('Priority Tier is charged at the standard price (it draws a prepaid commitment down at standard rates)', async () => {
    const ask = async (text: string) => {
      const r = await post({ model: MODELS.anthropic, messages: [{ role: 'user', content: text }], service_tier: 'auto', max_tokens: 20 });
      assert.equal(r.status, 200, r.text);
      return r.json as { id: string; service_tier?: string; usage: UsageOut };
    };
    const priority = await ask('same words [[served:priority]]');
    const standard = await ask('same words [[served:standard]]');
    assert.equal(stack.anthropic.last().body.service_tier, 'auto');
    assert.equal(priority.service_tier, 'priority');
    assert.equal(standard.service_tier, 'default');
    assert.deepEqual(
      [priority.usage.prompt_tokens, priority.usage.completion_tokens, nanos(priority.usage.cost)],
      [standard.usage.prompt_tokens, standard.usage.completion_tokens, nanos(standard.usage.cost)],
    );
    assert.equal((await generation(priority.id)).service_tier, 'priority');
  });
});

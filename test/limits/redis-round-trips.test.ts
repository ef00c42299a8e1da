/**
 * Redis round trips on the hot path, end to end through a gateway on the real Redis: every command
 * the gateway's own Redis client sends is counted, and the count is read when the upstream receives
 * the request (streamed or not). With a key's rate limit and an endpoint's limits both, one round trip (the key's
 * take and the endpoint's place in one script); with either alone, one; with neither, none. And
 * the meaning is kept: a key refused charges the endpoint nothing, 50 concurrent requests against
 * a key's 10 a minute are admitted 10 exactly (those the endpoint has no place for queue), and a
 * place taken with the key but never used (the credit hold refused) is given back.
 * The endpoints are the test's own providers (unique names), so the shared Redis's other users
 * never count against them; what the test charges expires within about a minute.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createKey } from '../../src/accounting/keys.ts';
import type { RedisClient } from '../../src/infra/redis.ts';
import type { Emulator } from '../emulators/common.ts';
import { startOpenAIEmulator } from '../emulators/openai.ts';
import { needs, REDIS_URL } from '../helpers/services.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

const skip = await needs('redis');

const tag = randomBytes(4).toString('hex');
/** An endpoint with limits (its own emulator, so its upstream calls can be counted) and one without. */
const LIMITED = `rtl${tag}`;
const OPEN = `rto${tag}`;

const yaml = `providers:
  ${LIMITED}:
    type: openai-compatible
    baseUrl: \${LIMITED_BASE_URL}
    apiKey: test-key
    discoverModels: false
    models: [gpt-4o-mini]
    maxConcurrency: 2
    requestsPerMinute: 1000
  ${OPEN}:
    type: openai-compatible
    baseUrl: \${OPENAI_BASE_URL}
    apiKey: \${OPENAI_API_KEY}
    discoverModels: false
    models: [gpt-4o-mini]
models:
  ${LIMITED}/gpt-4o-mini:
    endpoints:
      - provider: ${LIMITED}
        model: gpt-4o-mini
        pricing: { prompt: "0.000001", completion: "0.000001" }
  ${OPEN}/gpt-4o-mini:
    endpoints:
      - provider: ${OPEN}
        model: gpt-4o-mini
        pricing: { prompt: "0.000001", completion: "0.000001" }
`;

interface Sent {
  name: string;
  /** A command of the rate limits (its keys are under `limits:`), not of health tracking. */
  limits: boolean;
  health: boolean;
}

describe('Redis round trips before the upstream call', { skip }, () => {
  let stack: Stack;
  let limited: Emulator;
  let redis: RedisClient;
  let sent: Sent[] = [];
  /** Commands sent before each upstream request arrived (either emulator). */
  let atUpstream: number[] = [];

  before(async () => {
    limited = await startOpenAIEmulator({ name: 'Limited emulator' });
    stack = await startStack({ yaml, env: { REDIS_URL, LIMITED_BASE_URL: `${limited.url}/v1` } });
    const guard = stack.gw.app.redis;
    assert.ok(guard, 'the gateway uses Redis');
    redis = guard.client;
    const original = redis.sendCommand.bind(redis);
    redis.sendCommand = ((cmd: { name: string; args: unknown[] }, ...rest: unknown[]) => {
      const text = cmd.args.map((a) => (typeof a === 'string' ? a : Buffer.isBuffer(a) ? a.toString() : '')).join(' ');
      sent.push({ name: cmd.name, limits: text.includes('limits:'), health: text.includes('health') });
      return (original as (...a: unknown[]) => unknown)(cmd, ...rest);
    }) as typeof redis.sendCommand;
    for (const e of [limited, stack.openai]) {
      const push = e.requests.push.bind(e.requests);
      e.requests.push = (...items) => {
        atUpstream.push(sent.filter((c) => !c.health).length);
        return push(...items);
      };
    }
  });
  after(async () => {
    await stack?.close();
    await limited?.close();
  });

  async function newKey(requestsPerMinute?: number, limitNanos?: number): Promise<string> {
    return (await createKey(stack.gw.app.store, { name: 'rt', kind: 'inference', requestsPerMinute, limitNanos })).key;
  }

  async function chat(key: string, model: string, stream = false): Promise<{ status: number; body: { error?: { message: string } } }> {
    const res = await fetch(`${stack.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, max_tokens: 5, stream, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await res.text();
    return { status: res.status, body: (stream && res.ok ? {} : JSON.parse(text)) as { error?: { message: string } } };
  }

  /** The Redis commands (health tracking's own timers aside) one request sent before its upstream call. */
  async function tripsBefore(key: string, model: string, stream = false): Promise<string[]> {
    sent = [];
    atUpstream = [];
    const r = await chat(key, model, stream);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(atUpstream.length, 1);
    const before = sent.filter((c) => !c.health).slice(0, atUpstream[0]);
    assert.ok(
      before.every((c) => c.limits),
      `only rate limits use Redis before the call: ${before.map((c) => c.name)}`,
    );
    return before.map((c) => c.name);
  }

  /** Units charged in the current window of a rate key (the sum of its buckets). */
  async function charged(rateKey: string): Promise<number> {
    const buckets = await redis.hgetall(`limits:rate:{${rateKey}}:rpm:60000`);
    return Object.values(buckets).reduce((sum, n) => sum + Number(n), 0);
  }

  const limitedModel = `${LIMITED}/gpt-4o-mini`;
  const openModel = `${OPEN}/gpt-4o-mini`;
  const endpoint = `ep:${LIMITED}:gpt-4o-mini`;

  test('one round trip with a key limit and an endpoint limit, one with either, none with neither', async () => {
    // The first use of a script on a connection may cost an EVAL after a NOSCRIPT: not what is measured.
    await chat(await newKey(100), limitedModel);
    assert.deepEqual(await tripsBefore(await newKey(100), limitedModel), ['evalsha']);
    assert.deepEqual(await tripsBefore(await newKey(100), openModel), ['evalsha']);
    assert.deepEqual(await tripsBefore(await newKey(), limitedModel), ['evalsha']);
    assert.deepEqual(await tripsBefore(await newKey(), openModel), []);
    // Streams take the same path.
    assert.deepEqual(await tripsBefore(await newKey(100), limitedModel, true), ['evalsha']);
    assert.deepEqual(await tripsBefore(await newKey(), openModel, true), []);
    // Still one for a key's second request (its window has charges now).
    const key = await newKey(100);
    await chat(key, limitedModel);
    assert.deepEqual(await tripsBefore(key, limitedModel), ['evalsha']);
  });

  test('a key refused charges the endpoint nothing', async () => {
    const key = await newKey(2);
    const calls = limited.requests.length;
    const before = await charged(endpoint);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await chat(key, limitedModel);
      statuses.push(r.status);
      if (r.status === 429) assert.match(r.body.error?.message ?? '', /requests per minute for this key \(2\)/);
    }
    assert.deepEqual(statuses, [200, 200, 429, 429, 429]);
    assert.equal(limited.requests.length - calls, 2);
    assert.equal((await charged(endpoint)) - before, 2);
  });

  test('50 concurrent requests against a key limit of 10 and an endpoint of 2 places: exactly 10 admitted', async () => {
    const key = await newKey(10);
    const calls = limited.requests.length;
    const before = await charged(endpoint);
    const results = await Promise.all(Array.from({ length: 50 }, () => chat(key, limitedModel)));
    const ok = results.filter((r) => r.status === 200).length;
    const refused = results.filter((r) => r.status === 429 && /for this key \(10\)/.test(r.body.error?.message ?? '')).length;
    assert.equal(ok, 10);
    assert.equal(refused, 40);
    assert.equal(limited.requests.length - calls, 10);
    assert.equal((await charged(endpoint)) - before, 10);
    // Every place was given back.
    assert.equal(await redis.zcard(`limits:slot:{${endpoint}}`), 0);
  });

  test('a place taken with the key and never used (the credit hold refused) is given back', async () => {
    const key = await newKey(10, 1);
    const calls = limited.requests.length;
    const before = await charged(endpoint);
    sent = [];
    const r = await chat(key, limitedModel);
    assert.equal(r.status, 402, JSON.stringify(r.body));
    assert.equal(limited.requests.length, calls);

    // The place and its request-rate charge go back in the background.
    for (let i = 0; i < 50 && ((await charged(endpoint)) !== before || (await redis.zcard(`limits:slot:{${endpoint}}`)) > 0); i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await charged(endpoint), before);
    assert.equal(await redis.zcard(`limits:slot:{${endpoint}}`), 0);
    // The key's limit and the endpoint's place were decided in one script; then the place was
    // released and its request-rate charge refunded (a script).
    const names = sent.filter((c) => c.limits && c.name !== 'hgetall' && c.name !== 'zcard').map((c) => c.name);
    assert.equal(names[0], 'evalsha');
    assert.deepEqual(names.slice(1).sort(), ['evalsha', 'zrem']);
  });
});

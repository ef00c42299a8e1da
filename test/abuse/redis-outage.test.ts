/**
 * Fault and abuse: Redis goes away under a running gateway, through a TCP proxy of the test's own
 * (the real Redis is shared and never touched). A refused and a silent (blackholed) outage each:
 * - a per-key limit of 10 per minute still admits exactly 10 of 40 requests (in this process);
 * - Redis is not asked again once the outage is known (the guard's attempts), and no request waits
 *   long on it;
 * - /health says Redis is down, why, and that limits are per-process; one ERROR line per outage;
 * - when Redis is back: one INFO line, /health recovers and the limits are shared again (a count
 *   taken in Redis by another "process" refuses this gateway's next request), without a restart.
 * With `redis.onOutage: fail-closed` the same outage answers 503 in the error envelope. A gateway
 * started while Redis is down starts, limits per process, and shares once Redis appears.
 * (Counts the test makes in the shared Redis expire by themselves within about a minute.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashKey } from '../../src/accounting/keys.ts';
import { closeRedis, connectRedis, guardOf } from '../../src/infra/redis.ts';
import type { RedisClient } from '../../src/infra/redis.ts';
import { createLimits } from '../../src/limits/limits.ts';
import { needs, REDIS_URL } from '../helpers/services.ts';
import { captureLogger, startStack } from '../helpers/stack.ts';
import type { CapturedLine, Stack } from '../helpers/stack.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import type { CutMode, TcpProxy } from '../helpers/tcp-proxy.ts';

const skip = await needs('redis');

const YAML = (onOutage: string, perKey = true) => `${perKey ? 'limits:\n  perKey: { requestsPerMinute: 10 }\n' : ''}providers:
  openai:
    maxConcurrency: 4
redis:
  onOutage: ${onOutage}
  commandTimeoutMs: 300
  connectTimeoutMs: 1000
`;

async function chat(
  stack: Stack,
  key: string,
): Promise<{ status: number; body: { error?: { code: number; message: string; metadata?: Record<string, unknown> } }; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${stack.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const body = (await res.json()) as { error?: { code: number; message: string } };
  return { status: res.status, body, ms: performance.now() - t0 };
}

interface HealthBody {
  status: string;
  redis?: { status: string; reason?: string; limits: string; on_outage: string };
}

async function health(stack: Stack): Promise<{ status: number; body: HealthBody }> {
  const res = await fetch(`${stack.gw.url}/health`);
  return { status: res.status, body: (await res.json()) as HealthBody };
}

/** Polls /health until `ok(body)`, within `ms`. */
async function healthUntil(stack: Stack, ok: (b: HealthBody) => boolean, ms = 15_000): Promise<HealthBody> {
  const end = Date.now() + ms;
  for (;;) {
    const { body } = await health(stack);
    if (ok(body)) return body;
    if (Date.now() > end) assert.fail(`health never became as expected: ${JSON.stringify(body)}`);
    await sleep(100);
  }
}

const redisLines = (lines: CapturedLine[], level: CapturedLine['level'], from: number) =>
  lines.slice(from).filter((l) => l.level === level && /Redis/.test(l.msg));

describe('Redis outage with limits enforced in the process (default)', { skip }, () => {
  let proxy: TcpProxy;
  let stack: Stack;
  let direct: RedisClient;
  const log = captureLogger();
  const keyHashes: string[] = [];

  before(async () => {
    const u = new URL(REDIS_URL);
    proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 6379) });
    stack = await startStack({ env: { REDIS_URL: proxy.via(REDIS_URL) }, yaml: YAML('enforce-locally'), log });
    direct = connectRedis(REDIS_URL);
    await guardOf(direct).connected();
  });

  after(async () => {
    await stack?.close();
    await proxy?.close();
    if (direct) {
      // The keys this run counted in the shared Redis (under the gateway's `limits:` namespace).
      for (const h of keyHashes) {
        const keys = await direct.keys(`freeway:limits:rate:{key:${h}}:*`);
        if (keys.length > 0) await direct.del(...keys.map((k) => k.slice('freeway:'.length)));
      }
      await closeRedis(direct);
    }
  });

  const outage = (mode: CutMode) => async () => {
    const guard = stack.gw.app.redis!;
    const from = log.lines.length;
    assert.equal((await health(stack)).body.redis?.status, 'up');
    assert.equal((await health(stack)).body.redis?.limits, 'shared');

    const key = await stack.newKey(`outage-${mode}`);
    keyHashes.push(hashKey(key));
    await proxy.cut(mode);
    const attemptsAtCut = guard.attempts;
    const results = [];
    for (let i = 0; i < 40; i++) results.push(await chat(stack, key));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 10, `exactly 10 of 40 admitted: ${statuses.join(',')}`);
    assert.equal(statuses.filter((s) => s === 429).length, 30);
    // Once the first failure opened the guard nobody asked Redis again: at most the first
    // request's decision and a health pull or record already under way (a refused outage may be
    // noticed before anyone asks; a silent one costs the first request one command timeout).
    assert.ok(guard.attempts - attemptsAtCut <= 3, `Redis was asked ${guard.attempts - attemptsAtCut} times during the outage`);
    // Generous for a loaded machine; before the guard, requests took 0.9-12 s each.
    const slowest = Math.max(...results.map((r) => r.ms));
    assert.ok(slowest < 1_500, `slowest request during the outage took ${slowest.toFixed(0)} ms`);

    const down = await health(stack);
    assert.equal(down.status, 200, 'still serving');
    assert.equal(down.body.status, 'degraded');
    assert.equal(down.body.redis?.status, 'down');
    assert.equal(down.body.redis?.limits, 'per-process');
    assert.ok((down.body.redis?.reason ?? '').length > 0, 'says why');
    const errors = redisLines(log.lines, 'error', from);
    assert.equal(errors.length, 1, `one ERROR line per outage: ${JSON.stringify(errors)}`);
    assert.match(errors[0].msg, /per process/);
    assert.equal(log.lines.slice(from).filter((l) => l.level === 'warn').length, 0, 'no line per request');

    await proxy.restore();
    await healthUntil(stack, (b) => b.redis?.status === 'up' && b.status === 'ok');
    assert.equal(redisLines(log.lines, 'info', from).filter((l) => /reachable again/.test(l.msg)).length, 1, 'one INFO line on recovery');

    // Shared again: 10 requests counted in Redis by another process refuse this gateway's next one.
    const other = await stack.newKey(`after-${mode}`);
    keyHashes.push(hashKey(other));
    const elsewhere = createLimits({ redis: direct });
    for (let i = 0; i < 10; i++) await elsewhere.admitKey(`${hashKey(other)}`, { requestsPerMinute: 10 }, 1);
    await elsewhere.close();
    const refused = await chat(stack, other);
    assert.equal(refused.status, 429, 'the count kept in Redis applies again');
    assert.equal(redisLines(log.lines, 'error', from).length, 1, 'still one ERROR line');
  };

  test('refused connections: limits hold per process, fast, visible; shared again after', outage('refuse'));
  test('silent Redis (accepts, never answers): the same', outage('blackhole'));
});

describe('Redis outage with redis.onOutage: fail-closed', { skip }, () => {
  let proxy: TcpProxy;
  let stack: Stack;
  const log = captureLogger();

  before(async () => {
    const u = new URL(REDIS_URL);
    proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 6379) });
    // No per-key limit: the endpoint's concurrency cap is the decision Redis is needed for.
    stack = await startStack({ env: { REDIS_URL: proxy.via(REDIS_URL) }, yaml: YAML('fail-closed', false), log });
  });

  after(async () => {
    await stack?.close();
    await proxy?.close();
  });

  test('inference answers 503 in the envelope, health says down, and it recovers', async () => {
    const key = await stack.newKey('fail-closed');
    assert.equal((await chat(stack, key)).status, 200);
    await proxy.cut('refuse');
    for (let i = 0; i < 5; i++) {
      const r = await chat(stack, key);
      assert.equal(r.status, 503);
      assert.equal(r.body.error?.code, 503);
      assert.match(r.body.error?.message ?? '', /Redis is down.*fail-closed/);
      assert.ok(r.ms < 1_500, `answered in ${r.ms.toFixed(0)} ms`);
    }
    // Freeway's own outage is not the endpoint's failure: its circuit stays closed.
    assert.equal(stack.gw.app.health.circuit('openai:gpt-4o-mini'), 'closed');
    const h = await health(stack);
    assert.equal(h.status, 503);
    assert.equal(h.body.status, 'down');
    assert.equal(h.body.redis?.limits, 'refused');
    assert.equal(h.body.redis?.on_outage, 'fail-closed');
    assert.equal(redisLines(log.lines, 'error', 0).length, 1);

    await proxy.restore();
    await healthUntil(stack, (b) => b.status === 'ok');
    assert.equal((await chat(stack, key)).status, 200);
  });
});

describe('Redis down when the gateway starts', { skip }, () => {
  let proxy: TcpProxy;
  let stack: Stack;
  const log = captureLogger();

  before(async () => {
    const u = new URL(REDIS_URL);
    proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 6379) });
    await proxy.cut('refuse');
    stack = await startStack({ env: { REDIS_URL: proxy.via(REDIS_URL) }, yaml: YAML('enforce-locally'), log });
  });

  after(async () => {
    await stack?.close();
    await proxy?.close();
  });

  test('starts anyway with per-process limits, and shares them once Redis appears', async () => {
    const h = await health(stack);
    assert.equal(h.body.status, 'degraded');
    assert.equal(h.body.redis?.limits, 'per-process');
    const key = await stack.newKey('start-down');
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await chat(stack, key)).status);
    assert.equal(statuses.filter((s) => s === 200).length, 10);
    assert.equal(redisLines(log.lines, 'error', 0).length, 1);
    await proxy.restore();
    await healthUntil(stack, (b) => b.status === 'ok');
    assert.equal(redisLines(log.lines, 'info', 0).length, 1);
  });
});

/**
 * Every Redis user obeys the one outage guard: per-key limits, endpoint slots and shared health on
 * one client behind a TCP proxy of the test's own (the real Redis is shared and never touched).
 * While the proxy is cut nobody asks Redis after the first failure; limits and the endpoint cap
 * hold in the process (or refuse with 503 under fail-closed); health keeps tracking in memory;
 * one ERROR line per outage. Restored: the guard's probe closes it, health pulls again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeRedis, connectRedis, guardOf } from '../../src/infra/redis.ts';
import type { RedisClient, RedisConnectOptions, RedisGuard } from '../../src/infra/redis.ts';
import { createLimits } from '../../src/limits/limits.ts';
import type { Limits } from '../../src/limits/limits.ts';
import { RedisHealth } from '../../src/router/health/index.ts';
import { GatewayError } from '../../src/spec/errors.ts';
import { needs, REDIS_URL } from '../helpers/services.ts';
import { captureLogger } from '../helpers/stack.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';
import { deleteNamespace, testNamespace } from './redis-helpers.ts';

const skip = await needs('redis');

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting: ${what}`);
    await sleep(20);
  }
}

describe('one outage guard for limits, endpoint slots and health', { skip }, () => {
  const namespace = testNamespace();
  let proxy: TcpProxy;
  const open: Array<{ redis: RedisClient; limits: Limits; health?: RedisHealth }> = [];

  before(async () => {
    const u = new URL(REDIS_URL);
    proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 6379) });
  });

  after(async () => {
    for (const o of open) {
      await o.health?.close();
      await o.limits.close();
      await closeRedis(o.redis);
    }
    await proxy?.close();
    await deleteNamespace(namespace);
  });

  async function make(opts: RedisConnectOptions) {
    const redis = connectRedis(proxy.via(REDIS_URL), { commandTimeoutMs: 200, connectTimeoutMs: 500, probeMs: 100, ...opts });
    const guard: RedisGuard = guardOf(redis);
    await guard.connected();
    assert.equal(guard.down, false);
    const limits = createLimits({ redis, namespace, failOpen: false, queue: { maxWaitMs: 200 } });
    const o: { redis: RedisClient; limits: Limits; health?: RedisHealth } = { redis, limits };
    open.push(o);
    return { redis, guard, limits, o };
  }

  test('enforce-locally: one failure opens the guard, then nobody asks Redis; all three users fall back; recovery', async () => {
    const log = captureLogger();
    const { redis, guard, limits, o } = await make({ log });
    const health = new RedisHealth({ redis, namespace: `${namespace}health`, failureThreshold: 2, refreshMs: 50 });
    o.health = health;
    await limits.admitKey('warm', { requestsPerMinute: 100 }, 1);

    await proxy.cut('blackhole');
    // The first decision waits out one command timeout, then runs in the process.
    await limits.admitKey('k', { requestsPerMinute: 3 }, 1);
    assert.equal(guard.down, true);
    const asked = guard.attempts;

    for (let i = 0; i < 2; i++) await limits.admitKey('k', { requestsPerMinute: 3 }, 1);
    await assert.rejects(limits.admitKey('k', { requestsPerMinute: 3 }, 1), (e: GatewayError) => e.status === 429);

    // The endpoint's concurrency cap of 2 holds in the process: the third waits, then gets its 429.
    const r1 = await limits.acquireEndpoint('ep', { maxConcurrency: 2 }, { queueKey: 'a' });
    const r2 = await limits.acquireEndpoint('ep', { maxConcurrency: 2 }, { queueKey: 'b' });
    await assert.rejects(
      limits.acquireEndpoint('ep', { maxConcurrency: 2 }, { queueKey: 'c', deadlineMs: Date.now() + 150 }),
      (e: GatewayError) => e.status === 429,
    );
    r1();
    const r3 = await limits.acquireEndpoint('ep', { maxConcurrency: 2 }, { queueKey: 'c' });
    r2();
    r3();

    // Health tracks in memory: two failures open the endpoint's circuit in this process.
    health.record('openai:m', { ok: false, status: 500 });
    health.record('openai:m', { ok: false, status: 500 });
    await health.flush();
    assert.equal(health.isAvailable('openai:m'), false);
    await sleep(150); // a few health pulls would have happened

    assert.equal(guard.attempts, asked, 'nobody asked Redis while the guard was open');
    const errors = log.lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1, JSON.stringify(log.lines));
    assert.match(errors[0].msg, /Redis is unreachable \(Command timed out\).*per process/);
    assert.equal(guard.state().status, 'down');

    await proxy.restore();
    await until('the probe closes the guard', () => !guard.down);
    assert.equal(log.lines.filter((l) => l.level === 'info' && /reachable again/.test(l.msg)).length, 1);
    await health.refresh();
    await limits.admitKey('k2', { requestsPerMinute: 3 }, 1);
    assert.ok(guard.attempts > asked, 'Redis is asked again');
    assert.equal(log.lines.filter((l) => l.level === 'error').length, 1);
  });

  test('fail-closed: key limits and endpoint slots answer 503 at once', async () => {
    const { guard, limits } = await make({ onOutage: 'fail-closed' });
    await proxy.cut('refuse');
    await until('the guard opens', () => guard.down);
    const is503 = (e: unknown) => e instanceof GatewayError && e.status === 503 && /fail-closed/.test(e.message);
    await assert.rejects(limits.admitKey('k', { requestsPerMinute: 3 }, 1), is503);
    await assert.rejects(limits.acquireEndpoint('ep2', { maxConcurrency: 2 }, { queueKey: 'a' }), is503);
    await proxy.restore();
    await until('the probe closes the guard', () => !guard.down);
    await limits.admitKey('k', { requestsPerMinute: 3 }, 1);
  });
});

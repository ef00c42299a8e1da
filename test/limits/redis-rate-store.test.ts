/**
 * The Redis RateStore against the real server: the conformance suite, and keys that expire.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RedisRateStore } from '../../src/limits/redis-rate-store.ts';
import { rateStoreSuite, T0 } from './rate-store-suite.ts';
import { needs } from '../helpers/services.ts';
import { client, deleteNamespace, keysWithTtl, testNamespace } from './redis-helpers.ts';

const skip = await needs('redis');

rateStoreSuite(
  'redis',
  async () => {
    const redis = client();
    const namespace = testNamespace();
    const store = new RedisRateStore(redis, { namespace });
    return {
      store,
      cleanup: async () => {
        await store.close();
        redis.disconnect();
        await deleteNamespace(namespace);
      },
    };
  },
  skip,
);

describe('RedisRateStore', { skip }, () => {
  const namespace = testNamespace();
  const redis = client();
  after(async () => {
    redis.disconnect();
    await deleteNamespace(namespace);
  });

  it('gives every key it writes an expiry, and keeps keys of a namespace apart', async () => {
    const s = new RedisRateStore(redis, { namespace });
    const now = Date.now();
    assert.deepEqual(await s.take('k', [{ name: 'rpm', limit: 1, windowMs: 60_000, cost: 1 }], now), { ok: true });
    assert.equal(await s.acquireSlot('k', 1, 5_000, 'h', now), true);
    await s.adjust('k2', 'tpm', 60_000, 5, now);
    const keys = await keysWithTtl(namespace);
    assert.deepEqual([...keys.keys()].sort(), [
      `freeway:${namespace}rate:{k2}:tpm:60000`,
      `freeway:${namespace}rate:{k}:rpm:60000`,
      `freeway:${namespace}slot:{k}`,
    ]);
    for (const [k, ttl] of keys) assert.ok(ttl > 0 && ttl <= 61_000, `${k} expires in ${ttl} ms`);
    // Another namespace on the same Redis counts on its own.
    const other = testNamespace();
    try {
      const s2 = new RedisRateStore(redis, { namespace: other });
      assert.deepEqual(await s2.take('k', [{ name: 'rpm', limit: 1, windowMs: 60_000, cost: 1 }], now), { ok: true });
    } finally {
      await deleteNamespace(other);
    }
  });

  it('makes one round trip per decision', async () => {
    const s = new RedisRateStore(redis, { namespace });
    // Load the script on this connection first (ioredis sends EVAL once, then EVALSHA).
    await s.take('rt', [{ name: 'rpm', limit: 100, windowMs: 60_000, cost: 1 }], T0);
    const sent: string[] = [];
    const original = redis.sendCommand.bind(redis);
    redis.sendCommand = ((cmd: { name: string }, ...rest: unknown[]) => {
      sent.push(cmd.name);
      return (original as (...a: unknown[]) => unknown)(cmd, ...rest);
    }) as typeof redis.sendCommand;
    try {
      await s.take(
        'rt',
        [
          { name: 'rpm', limit: 100, windowMs: 60_000, cost: 1 },
          { name: 'tpm', limit: 1e6, windowMs: 60_000, cost: 500 },
        ],
        T0,
      );
      await s.acquire(
        { key: 'rt', max: 3, leaseMs: 1_000, holder: 'h' },
        'rt',
        [{ name: 'rpm', limit: 100, windowMs: 60_000, cost: 1 }],
        T0,
      );
      // The key's limits and an endpoint's place and rate together.
      await s.admit(
        'rt',
        [{ name: 'rpm', limit: 100, windowMs: 60_000, cost: 1 }],
        {
          slot: { key: 'rt-ep', max: 3, leaseMs: 1_000, holder: 'h' },
          rateKey: 'rt-ep',
          rules: [{ name: 'rpm', limit: 100, windowMs: 60_000, cost: 1 }],
        },
        T0,
      );
      await s.adjust('rt', 'tpm', 60_000, -100, T0);
      await s.releaseSlot('rt', 'h');
    } finally {
      redis.sendCommand = original;
    }
    assert.deepEqual(sent, ['evalsha', 'evalsha', 'evalsha', 'evalsha', 'zrem']);
  });
});

/**
 * The real Redis of the limits tests (test/helpers/services.ts says where: FREEWAY_TEST_REDIS_URL,
 * by default the local server). Every run uses its own key namespace and deletes its keys afterwards.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { connectRedis, type RedisClient } from '../../src/infra/redis.ts';
import { REDIS_URL } from '../helpers/services.ts';

export { REDIS_URL };

/** A plain client for housekeeping: fails at once rather than reconnecting, and reports errors to its caller only. */
function raw(): Redis {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  return r;
}

/** A namespace no other run shares, e.g. `limits-test-1a2b3c4d5e6f:`. */
export function testNamespace(): string {
  return `limits-test-${randomBytes(6).toString('hex')}:`;
}

/** A client as a Freeway process has it (keyPrefix `freeway:`). */
export function client(): RedisClient {
  return connectRedis(REDIS_URL);
}

/** Deletes every key of a namespace (under the `freeway:` prefix); returns how many there were. */
export async function deleteNamespace(namespace: string): Promise<number> {
  const r = raw();
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `freeway:${namespace}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await r.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    r.disconnect();
  }
}

/** Every key of a namespace with its remaining time to live (ms; -1 = none). */
export async function keysWithTtl(namespace: string): Promise<Map<string, number>> {
  const r = raw();
  try {
    const out = new Map<string, number>();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `freeway:${namespace}*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) out.set(k, await r.pttl(k));
    } while (cursor !== '0');
    return out;
  } finally {
    r.disconnect();
  }
}

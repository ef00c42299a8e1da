/**
 * Child process of the cross-process limits test, a Freeway process of its own:
 * `admit-worker.ts <redis-url> <namespace> <key-hash> <count> <requests-per-minute>` connects,
 * prints `ready`, waits for a line on stdin, fires <count> concurrent admitKey calls for the key
 * and prints `{"admitted":n,"refused":m}` (refused = 429s; anything else fails the process).
 */
import { once } from 'node:events';
import { connectRedis, guardOf } from '../../src/infra/redis.ts';
import { createLimits } from '../../src/limits/limits.ts';
import { GatewayError } from '../../src/spec/errors.ts';

const [url, namespace, keyHash, count, perMinute] = process.argv.slice(2);
const redis = connectRedis(url);
const limits = createLimits({ redis, namespace, failOpen: false });
try {
  // Commands are never queued while disconnected: wait for the connection first.
  await guardOf(redis).connected();
  await redis.ping();
  process.stdout.write('ready\n');
  await once(process.stdin, 'data');
  const results = await Promise.allSettled(
    Array.from({ length: Number(count) }, () => limits.admitKey(keyHash, { requestsPerMinute: Number(perMinute) }, 100)),
  );
  let admitted = 0;
  let refused = 0;
  for (const r of results) {
    if (r.status === 'fulfilled') admitted++;
    else if (r.reason instanceof GatewayError && r.reason.status === 429) refused++;
    else throw r.reason;
  }
  process.stdout.write(JSON.stringify({ admitted, refused }) + '\n');
} finally {
  await limits.close();
  redis.disconnect();
  process.stdin.destroy();
}

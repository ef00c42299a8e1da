/**
 * The one Redis connection factory (REDIS_URL), shared by health tracking and rate limits.
 * Commands fail fast while Redis is down rather than queueing without bound.
 */
import { Redis } from 'ioredis';

export type RedisClient = Redis;

export function connectRedis(url: string): RedisClient {
  return new Redis(url, {
    lazyConnect: false,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 5_000,
    // Keys of every Freeway process sharing this Redis start with the same prefix.
    keyPrefix: 'freeway:',
  });
}

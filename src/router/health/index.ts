/**
 * Picks the health tracker: shared through Redis when the deployment has one (several Freeway
 * processes then agree on which endpoints are down), in memory otherwise.
 */
import type { RedisClient } from '../../infra/redis.ts';
import type { Health } from '../types.ts';
import { MemoryHealth } from './memory-health.ts';
import type { HealthOptions } from './policy.ts';
import { RedisHealth } from './redis-health.ts';
import type { RedisHealthOptions } from './redis-health.ts';

export { MemoryHealth } from './memory-health.ts';
export { RedisHealth } from './redis-health.ts';
export type { RedisHealthOptions } from './redis-health.ts';
export type { HealthOptions } from './policy.ts';

export interface CreateHealthOptions extends HealthOptions, Partial<Omit<RedisHealthOptions, 'redis'>> {
  redis?: RedisClient;
}

export function createHealth(opts: CreateHealthOptions = {}): Health {
  const { redis, ...rest } = opts;
  return redis ? new RedisHealth({ ...rest, redis }) : new MemoryHealth(rest);
}

/**
 * Rate limits and upstream capacity. Per API key: requests and tokens per minute (refused at once
 * with a 429). Per upstream endpoint: a concurrency cap and a request rate, with a fair queue
 * (endpoint-slots.ts). Counts live in a RateStore: memory for one process, Redis for several.
 */
import { providerDefaultsKey, providerOfKey } from '../catalog/endpoint-key.ts';
import { guardOf, type RedisClient } from '../infra/redis.ts';
import { GatewayError } from '../spec/errors.ts';
import { EndpointSlots } from './endpoint-slots.ts';
import { MINUTE, positive } from './options.ts';
import type { AcquireEndpointOptions, EndpointLimits, KeyLimits, LimitsOptions, Release, SettleTokens } from './options.ts';
import { MemoryRateStore } from './memory-rate-store.ts';
import { OutageFallbackStore } from './outage-fallback-store.ts';
import { RedisRateStore } from './redis-rate-store.ts';
import type { RateRule, RateStore, TakeResult } from './types.ts';

export type { AcquireEndpointOptions, EndpointLimits, KeyLimits, LimitsOptions, Release, SettleTokens } from './options.ts';

const noopSettle: SettleTokens = async () => {};

export class Limits {
  readonly store: RateStore;
  private readonly failOpen: boolean;
  private readonly onStoreError: (err: unknown) => void;
  private readonly now: () => number;
  private readonly slots: EndpointSlots;

  constructor(opts: LimitsOptions) {
    this.store = opts.store;
    this.failOpen = opts.failOpen ?? true;
    this.onStoreError = opts.onStoreError ?? (() => {});
    this.now = opts.now ?? Date.now;
    this.slots = new EndpointSlots(opts);
  }

  /**
   * Charges one request and `estimatedTokens` against the key's limits, or throws the 429 naming
   * the limit that refused (nothing charged then). Returns the function that corrects the token
   * charge once the real usage is known.
   */
  async admitKey(keyHash: string, limits: KeyLimits, estimatedTokens: number): Promise<SettleTokens> {
    const rules: RateRule[] = [];
    if (positive(limits.requestsPerMinute)) rules.push({ name: 'rpm', limit: limits.requestsPerMinute, windowMs: MINUTE, cost: 1 });
    const estimate = Math.max(1, Math.ceil(Number.isFinite(estimatedTokens) ? estimatedTokens : 1));
    const tpm = positive(limits.tokensPerMinute);
    if (tpm) rules.push({ name: 'tpm', limit: limits.tokensPerMinute!, windowMs: MINUTE, cost: estimate });
    if (rules.length === 0) return noopSettle;
    const storeKey = `key:${keyHash}`;
    const chargedAt = this.now();
    let r: TakeResult;
    try {
      r = await this.store.take(storeKey, rules, chargedAt);
    } catch (err) {
      // A decision of the store itself (fail-closed during a Redis outage) reaches the client as it is.
      if (err instanceof GatewayError) throw err;
      this.onStoreError(err);
      if (this.failOpen) return noopSettle;
      throw new GatewayError('server', 'Rate limits are unavailable', { cause: err, retryable: false });
    }
    if (!r.ok) {
      const perMinute = r.rule === 'rpm' ? 'requests per minute' : 'tokens per minute';
      const headers = {
        'X-RateLimit-Limit': String(r.limit),
        'X-RateLimit-Remaining': String(r.remaining),
        'X-RateLimit-Reset': String(r.resetAt),
      };
      throw new GatewayError('rate_limit_exceeded', `Rate limit exceeded: ${perMinute} for this key (${r.limit}).`, {
        // Another endpoint would not help: the limit is the key's.
        retryable: false,
        retryAfter: Math.max(1, Math.ceil(r.retryAfterMs / 1000)),
        headers,
        metadata: {
          limit_type: r.rule === 'rpm' ? 'requests_per_minute' : 'tokens_per_minute',
          limit: r.limit,
          remaining: r.remaining,
          reset_at: r.resetAt,
          retry_after_ms: r.retryAfterMs,
          headers,
        },
      });
    }
    if (!tpm) return noopSettle;
    let settled = false;
    return async (actualTokens: number) => {
      if (settled) return;
      settled = true;
      const actual = Math.max(0, Math.ceil(Number.isFinite(actualTokens) ? actualTokens : 0));
      const delta = actual - estimate;
      if (delta === 0) return;
      try {
        await this.store.adjust(storeKey, 'tpm', MINUTE, delta, this.now(), chargedAt);
      } catch (err) {
        this.onStoreError(err);
      }
    };
  }

  /**
   * A place at the endpoint: at once if it has capacity and nobody is queued, otherwise after
   * waiting in the fair queue. Throws a 429 when the queue is full, at the deadline, or on abort.
   * The returned release must be called when the upstream request ends (finally).
   */
  acquireEndpoint(endpointKey: string, limits: EndpointLimits, opts: AcquireEndpointOptions): Promise<Release> {
    return this.slots.acquire(endpointKey, limits, opts);
  }

  /** Waiting requests per endpoint, for tests and status pages. */
  queueLength(endpointKey: string): number {
    return this.slots.queueLength(endpointKey);
  }

  /** Fails every waiter and stops every timer. Does not quit a Redis client it was given. */
  async close(): Promise<void> {
    this.slots.close();
    await this.store.close();
  }
}

/**
 * An endpoint's limits from Settings.endpointLimits: its own (`provider:upstream-model`) field by
 * field over its provider's defaults (`provider:*`). The provider is what precedes the first ':'
 * of the endpoint key unless given.
 */
export function endpointLimitsFor(
  table: ReadonlyMap<string, EndpointLimits>,
  endpointKey: string,
  providerId: string = providerOfKey(endpointKey),
): EndpointLimits {
  const own = table.get(endpointKey);
  const defaults = table.get(providerDefaultsKey(providerId));
  return {
    maxConcurrency: own?.maxConcurrency ?? defaults?.maxConcurrency,
    requestsPerMinute: own?.requestsPerMinute ?? defaults?.requestsPerMinute,
  };
}

export interface CreateLimitsOptions extends Omit<LimitsOptions, 'store'> {
  /** Shared counts across processes (REDIS_URL); in memory without. */
  redis?: RedisClient;
  /** Redis key namespace under the client's prefix. Default `limits:`. */
  namespace?: string;
  /** Without Redis, the store that decides instead of this process's memory (the workers' primary). */
  shared?: RateStore;
}

export function createLimits(opts: CreateLimitsOptions = {}): Limits {
  const { redis, namespace, shared, ...rest } = opts;
  // With Redis: shared counts, and this process's own while Redis is down (or 503s: redis.onOutage).
  const store = redis
    ? new OutageFallbackStore(new RedisRateStore(redis, { namespace }), guardOf(redis))
    : (shared ?? new MemoryRateStore());
  return new Limits({ ...rest, store });
}

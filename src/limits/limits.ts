/**
 * Rate limits and upstream capacity. Per API key: requests and tokens per minute (refused at once
 * with a 429). Per upstream endpoint: a concurrency cap and a request rate, with a fair queue
 * (endpoint-slots.ts). Counts live in a RateStore: memory for one process, Redis for several.
 * A request limited both ways has its key's limits and its first endpoint's place decided in one
 * store step (admitKeyAt): one Redis round trip before its upstream call.
 */
import { providerDefaultsKey, providerOfKey } from '../catalog/endpoint-key.ts';
import { guardOf, type RedisClient } from '../infra/redis.ts';
import { GatewayError } from '../spec/errors.ts';
import { EndpointSlots } from './endpoint-slots.ts';
import { keyCharge, keyRefusal, noopSettle, settler } from './key-limits.ts';
import type { KeyCharge } from './key-limits.ts';
import type { AcquireEndpointOptions, EndpointLimits, EndpointPlace, KeyLimits, LimitsOptions, Release, SettleTokens } from './options.ts';
import { MemoryRateStore } from './memory-rate-store.ts';
import { OutageFallbackStore } from './outage-fallback-store.ts';
import { RedisRateStore } from './redis-rate-store.ts';
import type { AdmitResult, RateStore, TakeResult } from './types.ts';

export type {
  AcquireEndpointOptions,
  EndpointLimits,
  EndpointPlace,
  KeyLimits,
  LimitsOptions,
  Release,
  SettleTokens,
} from './options.ts';

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
    const c = keyCharge(keyHash, limits, estimatedTokens);
    return c ? this.takeKey(c) : noopSettle;
  }

  private async takeKey(c: KeyCharge): Promise<SettleTokens> {
    const chargedAt = this.now();
    let r: TakeResult;
    try {
      r = await this.store.take(c.storeKey, c.rules, chargedAt);
    } catch (err) {
      return this.storeFailed(err);
    }
    if (!r.ok) throw keyRefusal(r);
    return settler(this.store, c, chargedAt, this.now, this.onStoreError);
  }

  /**
   * admitKey, and in the same store step (one round trip to Redis) the place at the endpoint the
   * request will try first, if it has limits and nobody waits for it: a key refused charges the
   * endpoint nothing; a key admitted is charged whatever the endpoint answers. `place` is the
   * endpoint's answer, for acquireEndpoint to use: a place granted (its release, or `unused` if no
   * upstream call comes), or a refusal to queue after. No `place`: the endpoint was not asked.
   */
  async admitKeyAt(
    keyHash: string,
    limits: KeyLimits,
    estimatedTokens: number,
    endpointKey: string,
    endpointLimits: EndpointLimits,
  ): Promise<{ settle: SettleTokens; place?: EndpointPlace }> {
    const c = keyCharge(keyHash, limits, estimatedTokens);
    if (!c) return { settle: noopSettle };
    const ask = this.slots.ask(endpointKey, endpointLimits);
    if (!ask) return { settle: await this.takeKey(c) };
    const chargedAt = this.now();
    let r: AdmitResult;
    try {
      r = await this.store.admit(c.storeKey, c.rules, ask.request, chargedAt);
    } catch (err) {
      // Fail-open admits the key; the endpoint is then asked on its own (and fails open too).
      return { settle: this.storeFailed(err) };
    }
    if (!r.ok) throw keyRefusal(r);
    const settle = settler(this.store, c, chargedAt, this.now, this.onStoreError);
    if (!r.endpoint.ok) return { settle, place: { endpointKey, granted: false, refusal: r.endpoint } };
    const { release, unused } = this.slots.placed(endpointKey, endpointLimits, ask.holder, chargedAt);
    return { settle, place: { endpointKey, granted: true, release, unused } };
  }

  /** A store that could not decide: admitted (fail-open), or the error the client gets. */
  private storeFailed(err: unknown): SettleTokens {
    // A decision of the store itself (fail-closed during a Redis outage) reaches the client as it is.
    if (err instanceof GatewayError) throw err;
    this.onStoreError(err);
    if (this.failOpen) return noopSettle;
    throw new GatewayError('server', 'Rate limits are unavailable', { cause: err, retryable: false });
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

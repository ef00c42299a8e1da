/**
 * The atomic primitives rate limits are built on, implemented in memory (one process) and in Redis
 * (several processes sharing the counts). Both pass the same behavioural suite.
 *
 * Rate rules are sliding windows counted in buckets: a window of `windowMs` is cut into
 * BUCKETS_PER_WINDOW buckets, and a bucket counts against a window while some part of it
 * is inside the window. That errs on the safe side: the sum charged over ANY `windowMs` interval
 * never exceeds the limit (so an endpoint's requests stay under a provider's limit however the
 * provider counts), at the price of a charge being held up to one bucket (1 s per minute) longer
 * than the window. Memory is bounded: at most BUCKETS_PER_WINDOW + 1 counters per rule and key.
 */

/** One limit checked by `take`: at most `limit` units per `windowMs`; this request costs `cost`. */
export interface RateRule {
  /** Names the rule in the refusal and in the stored key (e.g. `rpm`, `tpm`). */
  name: string;
  limit: number;
  windowMs: number;
  /** Whole units (requests, tokens); rounded up. A cost above `limit` is admitted only into an empty window. */
  cost: number;
}

export interface RateRefusal {
  ok: false;
  /** The refusing rule that clears last (the one that decides when to retry). */
  rule: string;
  /** When this request would fit, ms from `now` (at least 1). */
  retryAfterMs: number;
  limit: number;
  /** Units left in the window now, before this request (limit − used, at least 0). */
  remaining: number;
  /** When this request would fit: `now + retryAfterMs` (ms epoch). */
  resetAt: number;
}

export type TakeResult = { ok: true } | RateRefusal;

/** A take that also handed out `granted[i]` further units of rule i, charged with the request (MemoryRateStore.grant). */
export type GrantResult = { ok: true; granted: number[] } | RateRefusal;

/** A place in a concurrency semaphore: at most `max` holders; a holder's lease lapses after `leaseMs`. */
export interface SlotRequest {
  key: string;
  max: number;
  leaseMs: number;
  /** Unique per acquisition; acquiring again with the same holder renews its lease. */
  holder: string;
}

export type AcquireResult = { ok: true } | { ok: false; reason: 'concurrency' } | (RateRefusal & { reason: 'rate' });

/** What `acquire` is asked for: a place in a semaphore (if `slot`) and a charge under `rules` of `rateKey`. */
export interface AcquireRequest {
  slot: SlotRequest | null;
  rateKey: string;
  rules: readonly RateRule[];
}

/**
 * The answer of `admit`: the key's refusal (nothing charged anywhere), or the key charged and the
 * endpoint's own answer (a refused endpoint charged nothing; the key stays charged).
 */
export type AdmitResult = RateRefusal | { ok: true; endpoint: AcquireResult };

export interface RateStore {
  /**
   * Admits `cost` under every rule of `key` or under none: either all rules have room and all are
   * charged, or nothing is charged and the refusal names the binding rule. One atomic step.
   */
  take(key: string, rules: readonly RateRule[], now: number): Promise<TakeResult>;
  /**
   * Corrects a charge after the fact (an estimate of tokens against the real count). A positive
   * delta is charged at `now`; a negative one is refunded from the bucket charged at `chargedAt`
   * (default `now`), never below zero, and not at all once that charge has left the window.
   */
  adjust(key: string, ruleName: string, windowMs: number, delta: number, now: number, chargedAt?: number): Promise<void>;
  /**
   * Takes a place in the semaphore `key` (expired leases are dropped first). True if taken, or if
   * `holder` already held one (its lease is renewed). One atomic step.
   */
  acquireSlot(key: string, max: number, leaseMs: number, holder: string, now: number): Promise<boolean>;
  releaseSlot(key: string, holder: string): Promise<void>;
  /**
   * Both at once, atomically: a place in the semaphore (if `slot`) and a charge under the rules of
   * `rateKey` (if any rules); nothing is taken unless everything is. One atomic step.
   */
  acquire(slot: SlotRequest | null, rateKey: string, rules: readonly RateRule[], now: number): Promise<AcquireResult>;
  /**
   * `take` of the key's rules and, only if they admit, `acquire` of the endpoint's request: one
   * atomic step (one round trip to Redis), the two decisions each all or nothing as on their own.
   */
  admit(key: string, rules: readonly RateRule[], endpoint: AcquireRequest, now: number): Promise<AdmitResult>;
  /** Releases whatever the store owns (not a Redis client it was given). */
  close(): Promise<void>;
}

export const BUCKETS_PER_WINDOW = 60;

/** The bucket width of a window: 1 s for a minute. */
export function bucketMs(windowMs: number): number {
  return Math.max(1, Math.floor(windowMs / BUCKETS_PER_WINDOW));
}

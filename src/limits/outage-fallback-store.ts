/**
 * The RateStore Freeway uses with Redis: the shared store while Redis answers, and while it does
 * not (its guard is open) either this process's own MemoryRateStore — limits then hold per
 * process, which the outage's log line and /health say — or, when the operator chose
 * `redis.onOutage: fail-closed`, a 503 for every decision. Per-key limits and endpoint capacity
 * (endpoint-slots.ts) both decide through here, so neither can be skipped during an outage.
 *
 * Counts taken locally during an outage are not copied to Redis when it returns: shared counting
 * resumes from what Redis held, so a key can get up to one extra window's worth across the switch.
 */
import type { RedisGuard } from '../infra/redis.ts';
import { GatewayError } from '../spec/errors.ts';
import { MemoryRateStore } from './memory-rate-store.ts';
import type { AcquireRequest, AcquireResult, AdmitResult, RateRule, RateStore, SlotRequest, TakeResult } from './types.ts';

export class OutageFallbackStore implements RateStore {
  private readonly shared: RateStore;
  private readonly guard: RedisGuard;
  /** Counts of this process while Redis is down. */
  readonly local = new MemoryRateStore();

  constructor(shared: RateStore, guard: RedisGuard) {
    this.shared = shared;
    this.guard = guard;
  }

  take(key: string, rules: readonly RateRule[], now: number): Promise<TakeResult> {
    return this.use((s) => s.take(key, rules, now));
  }

  acquire(slot: SlotRequest | null, rateKey: string, rules: readonly RateRule[], now: number): Promise<AcquireResult> {
    return this.use((s) => s.acquire(slot, rateKey, rules, now));
  }

  admit(key: string, rules: readonly RateRule[], endpoint: AcquireRequest, now: number): Promise<AdmitResult> {
    return this.use((s) => s.admit(key, rules, endpoint, now));
  }

  acquireSlot(key: string, max: number, leaseMs: number, holder: string, now: number): Promise<boolean> {
    return this.use((s) => s.acquireSlot(key, max, leaseMs, holder, now));
  }

  async releaseSlot(key: string, holder: string): Promise<void> {
    // A slot may be held on either side of a switch; a release that finds nothing is harmless,
    // and a Redis lease that cannot be released lapses by itself.
    await this.local.releaseSlot(key, holder);
    if (!this.guard.down) await this.shared.releaseSlot(key, holder).catch(() => {});
  }

  adjust(key: string, ruleName: string, windowMs: number, delta: number, now: number, chargedAt?: number): Promise<void> {
    return this.use((s) => s.adjust(key, ruleName, windowMs, delta, now, chargedAt));
  }

  async close(): Promise<void> {
    await this.local.close();
    await this.shared.close();
  }

  private async use<T>(op: (s: RateStore) => Promise<T>): Promise<T> {
    if (!this.guard.down) {
      try {
        return await op(this.shared);
      } catch (err) {
        // Not an outage (the guard stayed closed): a real fault the caller reports.
        if (!this.guard.down) throw err;
      }
    }
    if (this.guard.onOutage === 'fail-closed') {
      throw new GatewayError(
        'service_unavailable',
        'Rate limits are unavailable: Redis is down and this gateway is configured to refuse requests then (redis.onOutage: fail-closed). Try again shortly.',
        {
          retryable: false,
          retryAfter: 1,
          metadata: { dependency: 'redis', on_outage: 'fail-closed' },
        },
      );
    }
    return op(this.local);
  }
}

/**
 * The RateStore of one process. Every operation is synchronous underneath, so each is atomic.
 * The same arithmetic as the Lua scripts of redis-rate-store.ts; both pass one behavioural suite.
 * Entries carry an expiry like Redis keys, and an occasional sweep (every SWEEP_EVERY operations,
 * no timer) drops the expired ones, so memory follows the keys active within a window.
 */
import {
  bucketMs,
  type AcquireRequest,
  type AcquireResult,
  type AdmitResult,
  type GrantResult,
  type RateRefusal,
  type RateRule,
  type RateStore,
  type SlotRequest,
  type TakeResult,
} from './types.ts';

interface Counter {
  /** Bucket index → units charged in it. */
  buckets: Map<number, number>;
  expiresAt: number;
}

interface Semaphore {
  /** Holder → lease expiry (ms epoch). */
  holders: Map<string, number>;
}

const SWEEP_EVERY = 1024;

const counterId = (key: string, rule: string, windowMs: number) => `${key}\u0000${rule}\u0000${windowMs}`;

/**
 * Checks one rule without charging it. Drops buckets that have left the window. Returns the units
 * in use, or the refusal.
 */
function check(c: Counter | undefined, rule: RateRule, cost: number, now: number): { used: number } | RateRefusal {
  if (!c) return { used: 0 };
  const g = bucketMs(rule.windowMs);
  const minB = Math.floor((now - rule.windowMs) / g);
  let used = 0;
  for (const [b, n] of c.buckets) {
    if (b < minB) c.buckets.delete(b);
    else used += n;
  }
  if (used + cost <= rule.limit || used <= 0) return { used };
  const order = [...c.buckets.keys()].sort((a, b) => a - b);
  let clearAt: number;
  if (cost > rule.limit) {
    // Oversized: it waits for an empty window.
    clearAt = (order[order.length - 1] + 1) * g + rule.windowMs;
  } else {
    const excess = used + cost - rule.limit;
    let freed = 0;
    clearAt = now;
    for (const b of order) {
      freed += c.buckets.get(b) ?? 0;
      clearAt = (b + 1) * g + rule.windowMs;
      if (freed >= excess) break;
    }
  }
  const retryAfterMs = Math.max(1, Math.ceil(clearAt - now));
  return {
    ok: false,
    rule: rule.name,
    retryAfterMs,
    limit: rule.limit,
    remaining: Math.max(0, rule.limit - used),
    resetAt: now + retryAfterMs,
  };
}

export class MemoryRateStore implements RateStore {
  private readonly counters = new Map<string, Counter>();
  private readonly semaphores = new Map<string, Semaphore>();
  private ops = 0;

  async take(key: string, rules: readonly RateRule[], now: number): Promise<TakeResult> {
    return this.takeNow(key, rules, now);
  }

  private takeNow(key: string, rules: readonly RateRule[], now: number): TakeResult {
    const r = this.decide(null, key, rules, now);
    if (r.ok || r.reason !== 'rate') return { ok: true };
    const { reason: _reason, ...refusal } = r;
    return refusal;
  }

  async acquire(slot: SlotRequest | null, rateKey: string, rules: readonly RateRule[], now: number): Promise<AcquireResult> {
    return this.decide(slot, rateKey, rules, now);
  }

  async admit(key: string, rules: readonly RateRule[], endpoint: AcquireRequest, now: number): Promise<AdmitResult> {
    // Synchronous: both decisions are one step.
    const k = this.takeNow(key, rules, now);
    if (!k.ok) return k;
    return { ok: true, endpoint: this.decide(endpoint.slot, endpoint.rateKey, endpoint.rules, now) };
  }

  async acquireSlot(key: string, max: number, leaseMs: number, holder: string, now: number): Promise<boolean> {
    return this.decide({ key, max, leaseMs, holder }, '', [], now).ok;
  }

  async releaseSlot(key: string, holder: string): Promise<void> {
    const s = this.semaphores.get(key);
    if (!s) return;
    s.holders.delete(holder);
    if (s.holders.size === 0) this.semaphores.delete(key);
  }

  async adjust(key: string, ruleName: string, windowMs: number, delta: number, now: number, chargedAt: number = now): Promise<void> {
    this.maybeSweep(now);
    const d = delta > 0 ? Math.ceil(delta) : Math.trunc(delta);
    if (d === 0) return;
    const id = counterId(key, ruleName, windowMs);
    const g = bucketMs(windowMs);
    let c = this.counters.get(id);
    if (d > 0) {
      if (!c) this.counters.set(id, (c = { buckets: new Map(), expiresAt: 0 }));
      const b = Math.floor(now / g);
      c.buckets.set(b, (c.buckets.get(b) ?? 0) + d);
      c.expiresAt = Math.max(c.expiresAt, now + windowMs + g);
      return;
    }
    if (!c) return;
    const b = Math.floor(chargedAt / g);
    if (b < Math.floor((now - windowMs) / g)) return;
    const left = (c.buckets.get(b) ?? 0) + d;
    if (left > 0) c.buckets.set(b, left);
    else c.buckets.delete(b);
  }

  /**
   * `take`, and on top of this request's cost a block of further units per rule for the caller to
   * spend on its own (the workers of `serve --workers N`, src/cluster): up to `want[i]`, at most a
   * `share`-th of what the rule has left, charged now in the same bucket as the request. Nothing
   * extra when some rule could not cover one more request of the same cost. Synchronous: the
   * decision and the charge are one step.
   */
  grant(key: string, rules: readonly RateRule[], now: number, want: readonly number[], share: number): GrantResult {
    this.maybeSweep(now);
    const costs = rules.map((r) => Math.max(0, Math.ceil(r.cost)));
    const used: number[] = [];
    let worst: RateRefusal | undefined;
    for (const [i, rule] of rules.entries()) {
      const r = check(this.counters.get(counterId(key, rule.name, rule.windowMs)), rule, costs[i], now);
      if ('ok' in r) {
        if (!worst || r.retryAfterMs > worst.retryAfterMs) worst = r;
      } else used.push(r.used);
    }
    if (worst) return worst;
    let granted = rules.map((rule, i) =>
      Math.max(0, Math.min(Math.floor(want[i] ?? 0), Math.floor((rule.limit - used[i] - costs[i]) / share))),
    );
    if (granted.some((g, i) => g < costs[i] || g === 0)) granted = rules.map(() => 0);
    for (const [i, rule] of rules.entries()) this.charge(key, rule, costs[i] + granted[i], now);
    return { ok: true, granted };
  }

  async close(): Promise<void> {
    this.counters.clear();
    this.semaphores.clear();
  }

  /** Entries held, for tests of bounded memory. */
  get size(): number {
    return this.counters.size + this.semaphores.size;
  }

  private decide(slot: SlotRequest | null, rateKey: string, rules: readonly RateRule[], now: number): AcquireResult {
    this.maybeSweep(now);
    let sem: Semaphore | undefined;
    if (slot) {
      sem = this.semaphores.get(slot.key);
      if (sem) {
        for (const [h, exp] of sem.holders) if (exp <= now) sem.holders.delete(h);
      }
      if (!sem?.holders.has(slot.holder) && (sem?.holders.size ?? 0) >= slot.max) return { ok: false, reason: 'concurrency' };
    }
    const costs = rules.map((r) => Math.max(0, Math.ceil(r.cost)));
    let worst: RateRefusal | undefined;
    for (const [i, rule] of rules.entries()) {
      const r = check(this.counters.get(counterId(rateKey, rule.name, rule.windowMs)), rule, costs[i], now);
      if ('ok' in r && (!worst || r.retryAfterMs > worst.retryAfterMs)) worst = r;
    }
    if (worst) return { ...worst, reason: 'rate' };
    for (const [i, rule] of rules.entries()) this.charge(rateKey, rule, costs[i], now);
    if (slot) {
      if (!sem) this.semaphores.set(slot.key, (sem = { holders: new Map() }));
      sem.holders.set(slot.holder, now + slot.leaseMs);
    }
    return { ok: true };
  }

  private charge(key: string, rule: RateRule, units: number, now: number): void {
    if (units === 0) return;
    const id = counterId(key, rule.name, rule.windowMs);
    const g = bucketMs(rule.windowMs);
    let c = this.counters.get(id);
    if (!c) this.counters.set(id, (c = { buckets: new Map(), expiresAt: 0 }));
    const b = Math.floor(now / g);
    c.buckets.set(b, (c.buckets.get(b) ?? 0) + units);
    c.expiresAt = Math.max(c.expiresAt, now + rule.windowMs + g);
  }

  private maybeSweep(now: number): void {
    if (++this.ops % SWEEP_EVERY !== 0) return;
    for (const [id, c] of this.counters) if (c.expiresAt <= now) this.counters.delete(id);
    for (const [key, s] of this.semaphores) {
      for (const [h, exp] of s.holders) if (exp <= now) s.holders.delete(h);
      if (s.holders.size === 0) this.semaphores.delete(key);
    }
  }
}

/**
 * Health tracking inside one process: each endpoint gets a 30-minute bucket ring and a circuit
 * breaker. Enough for a single Freeway process; several processes on one Redis use RedisHealth.
 * Every method takes a `now` (record uses `outcome.at`) so tests can move time without sleeping.
 */
import type { AttemptOutcome, EndpointStats, Health } from '../types.ts';
import { Breaker } from './breaker.ts';
import { classify, epochOf, resolveOptions } from './policy.ts';
import type { HealthOptions, ResolvedHealthOptions } from './policy.ts';
import { NO_STATS, summarise } from './summary.ts';
import type { WindowStats } from './summary.ts';
import { Window } from './window.ts';

interface Tracked {
  window: Window;
  breaker: Breaker;
  /** Window stats are cached until the next record or the next bucket. */
  cached?: { epoch: number; stats: WindowStats };
}

export class MemoryHealth implements Health {
  private readonly opts: ResolvedHealthOptions;
  private readonly endpoints = new Map<string, Tracked>();

  constructor(opts: HealthOptions = {}) {
    this.opts = resolveOptions(opts);
  }

  isAvailable(key: string, now: number = Date.now()): boolean {
    const t = this.endpoints.get(key);
    return t ? t.breaker.allow(now) : true;
  }

  record(key: string, outcome: AttemptOutcome): void {
    const at = outcome.at ?? Date.now();
    const t = this.track(key);
    const kind = classify(outcome);
    t.window.record(kind, outcome, at);
    t.breaker.onOutcome(kind, at, () => t.window.recent(at, t.breaker.closedSince));
    t.cached = undefined;
  }

  circuit(key: string, now: number = Date.now()): EndpointStats['circuit'] {
    return this.endpoints.get(key)?.breaker.view(now) ?? 'closed';
  }

  stats(key: string, now: number = Date.now()): EndpointStats {
    const t = this.endpoints.get(key);
    if (!t) return { ...NO_STATS, circuit: 'closed' };
    // Same 30 s bucket and nothing recorded since: the windows hold the same buckets.
    const epoch = epochOf(now);
    if (t.cached?.epoch !== epoch) t.cached = { epoch, stats: summarise(t.window.buckets(), now, this.opts.minSamples) };
    return { ...t.cached.stats, circuit: t.breaker.view(now) };
  }

  async close(): Promise<void> {
    // Nothing to release: no timers, no connections.
  }

  private track(key: string): Tracked {
    let t = this.endpoints.get(key);
    if (!t) {
      t = { window: new Window(), breaker: new Breaker(this.opts) };
      this.endpoints.set(key, t);
    }
    return t;
  }
}

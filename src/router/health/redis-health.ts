/**
 * Health tracking shared by every Freeway process on one Redis: outcomes and circuit state live in
 * Redis, so failures seen by one process open the circuit for all of them, and only one process
 * sends the half-open probe.
 *
 * `isAvailable` is on the request path and must stay synchronous, so each process keeps a local
 * view of the circuits it has seen. The view is updated by every reply to recorded outcomes (the
 * script returns the circuit it left behind) and by a periodic pull (every `refreshMs`; window stats every
 * `statsRefreshMs`). A probe is claimed in Redis asynchronously when a caller finds a circuit whose
 * cooldown has passed; that caller gets false, and the next caller in this process gets the probe.
 *
 * While Redis is unreachable the process falls back to an in-memory MemoryHealth that has been
 * fed the same outcomes all along, so a Redis outage neither blocks endpoints nor hides failures.
 * Outcomes are sent in batches, one script call per endpoint: successes of a closed circuit wait
 * up to `batchMs` for company (they cannot change the circuit, and other processes learn of
 * circuits and stats by pulling every second or more anyway); a failure, a 429, or any outcome
 * while the circuit is not closed goes at once, after those queued before it.
 * Whether Redis is reachable is the client's outage guard's call (infra/redis.ts), shared with
 * the rate limits: while it is open nothing here asks Redis, and when it closes again the next
 * pull brings this process's view back in line.
 * Cooldowns compare Redis-stored times with the local clock: hosts should run NTP.
 */
import { randomUUID } from 'node:crypto';
import { guardOf, type RedisClient, type RedisGuard } from '../../infra/redis.ts';
import type { AttemptOutcome, EndpointStats, Health } from '../types.ts';
import { MemoryHealth } from './memory-health.ts';
import { BUCKET_MS, classify, RATE_MIN_SAMPLES, RATE_TRIP, RESERVOIR, resolveOptions, SHORT_BUCKETS, SLOTS } from './policy.ts';
import type { HealthOptions, ResolvedHealthOptions } from './policy.ts';
import { CLAIM, parseWindow, RECORD, RELEASE } from './redis-scripts.ts';
import { NO_STATS, summarise } from './summary.ts';
import type { WindowStats } from './summary.ts';

export interface RedisHealthOptions extends HealthOptions {
  /** A connected client (connectRedis). Shared: close() does not quit it. */
  redis: RedisClient;
  /** Key namespace under the client's own key prefix. Default `health`. */
  namespace?: string;
  /** How often circuit states are pulled. Default 1 s. */
  refreshMs?: number;
  /** How often window stats are pulled (larger replies than circuits). Default 5 s. */
  statsRefreshMs?: number;
  /**
   * Longest a success waits to be sent with others (one script call per endpoint per batch instead
   * of one per request). Failures, and outcomes while a circuit is not closed, go at once. Default 50 ms.
   */
  batchMs?: number;
  /** Called when Redis fails (once per outage, not per command); the guard logs the outage itself. */
  onError?: (err: Error) => void;
}

/** Keys expire after the 30-minute window plus a margin; every record pushes them back. */
const TTL_MS = SLOTS * BUCKET_MS + 60_000;
/** Outcomes of one endpoint sent together at most. */
const BATCH_MAX = 256;
/** Least time between two probe claims for one endpoint from this process (the `now` clock). */
const CLAIM_EVERY_MS = 250;

interface View {
  state: 'closed' | 'open' | 'half';
  /** When the open circuit's cooldown ends (ms). */
  until: number;
  /** Set when this process holds the probe and no request has used it yet (wall-clock ms of the claim). */
  token?: number;
  claiming: boolean;
  lastClaimAt: number;
  stats: WindowStats;
}

export class RedisHealth implements Health {
  private readonly guard: RedisGuard;
  private readonly opts: ResolvedHealthOptions;
  private readonly ns: string;
  private readonly statsRefreshMs: number;
  private readonly tokenIdleMs: number;
  private readonly onError: (err: Error) => void;
  /** Holder id for probe claims. */
  private readonly id = randomUUID();
  private readonly views = new Map<string, View>();
  private readonly fallback: MemoryHealth;
  private readonly pending = new Set<Promise<void>>();
  private readonly timer: NodeJS.Timeout;
  /** Whether this outage has been reported through onError. */
  private reported = false;
  private ticking = false;
  private lastStatsAt = 0;
  /** Per endpoint, outcomes not yet sent, encoded for RECORD. */
  private readonly queued = new Map<string, string[]>();
  private batchTimer: NodeJS.Timeout | undefined;
  private readonly batchMs: number;
  /** RECORD's arguments before the outcomes: the policy, the same for every call. */
  private readonly recordArgs: Array<string | number>;

  constructor(o: RedisHealthOptions) {
    this.guard = guardOf(o.redis);
    this.opts = resolveOptions(o);
    this.fallback = new MemoryHealth(o);
    this.ns = o.namespace ?? 'health';
    const refreshMs = o.refreshMs ?? 1_000;
    this.statsRefreshMs = o.statsRefreshMs ?? 5_000;
    // A claimed probe nobody used within two pulls is handed back for another process to use.
    this.tokenIdleMs = 2 * refreshMs;
    this.onError = o.onError ?? (() => {});
    this.batchMs = o.batchMs ?? 50;
    const p = this.opts;
    this.recordArgs = [
      p.failureThreshold,
      p.cooldownMs,
      p.maxCooldownMs,
      BUCKET_MS,
      SLOTS,
      SHORT_BUCKETS,
      RATE_MIN_SAMPLES,
      RATE_TRIP,
      RESERVOIR,
      TTL_MS,
    ];
    this.timer = setInterval(() => void this.tick(), refreshMs);
    this.timer.unref();
  }

  isAvailable(key: string, now: number = Date.now()): boolean {
    if (this.degraded) return this.fallback.isAvailable(key, now);
    const v = this.view(key);
    if (v.state === 'closed') return true;
    if (v.token !== undefined) {
      v.token = undefined;
      return true;
    }
    if (v.state === 'open' && now < v.until) return false;
    this.claim(key, v, now);
    return false;
  }

  record(key: string, outcome: AttemptOutcome): void {
    const at = Math.floor(outcome.at ?? Date.now());
    this.fallback.record(key, { ...outcome, at });
    if (this.degraded) return;
    const kind = classify(outcome);
    let q = this.queued.get(key);
    if (!q) {
      q = [];
      this.queued.set(key, q);
    }
    q.push(`${at},${kind},${sample(outcome.ttftMs)},${sample(outcome.tokensPerSecond)},${Math.random()},${Math.random()}`);
    // A failure, or any outcome while the circuit is not closed, may change the circuit: it goes
    // at once (with the successes queued before it, in order), as every outcome once did.
    if (kind !== 'ok' || this.view(key).state !== 'closed' || q.length >= BATCH_MAX) this.send(key);
    else this.batchTimer ??= setTimeout(this.sendQueued, this.batchMs);
  }

  /** Sends the outcomes queued for `key` in one script call. */
  private send(key: string): void {
    const q = this.queued.get(key);
    if (!q || q.length === 0) return;
    this.queued.delete(key);
    if (this.degraded) return;
    const v = this.view(key);
    const k = this.keys(key);
    this.track(
      this.guard
        .run((r) => RECORD.run(r, [k.circuit, k.window, k.probe], [...this.recordArgs, q.join(';')]))
        .then((reply) => {
          this.reported = false;
          const [state, until] = reply as [string, string];
          this.apply(v, state, until);
        }),
    );
  }

  /** Sends every endpoint's queued outcomes (the batch timer, flush, close). */
  private readonly sendQueued = (): void => {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    for (const key of [...this.queued.keys()]) this.send(key);
  };

  circuit(key: string, now: number = Date.now()): EndpointStats['circuit'] {
    if (this.degraded) return this.fallback.circuit(key, now);
    const v = this.view(key);
    return v.state === 'closed' ? 'closed' : v.state === 'open' && now < v.until ? 'open' : 'half-open';
  }

  /** The last pulled window stats, with this process's current view of the circuit. */
  stats(key: string, now: number = Date.now()): EndpointStats {
    if (this.degraded) return this.fallback.stats(key, now);
    return { ...this.view(key).stats, circuit: this.circuit(key, now) };
  }

  /** Waits for this process's writes and claims in flight (tests, shutdown). */
  async flush(): Promise<void> {
    this.sendQueued();
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Flushes, then pulls circuits and stats now instead of at the next tick. Rejects if Redis fails. */
  async refresh(now: number = Date.now()): Promise<void> {
    await this.flush();
    try {
      await this.pull(now, true);
    } catch (err) {
      this.failed(err);
      throw err;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.sendQueued();
    for (const [key, v] of this.views) if (v.token !== undefined) this.release(key, v);
    await this.flush();
  }

  private view(key: string): View {
    let v = this.views.get(key);
    if (!v) {
      v = { state: 'closed', until: 0, claiming: false, lastClaimAt: -Infinity, stats: NO_STATS };
      this.views.set(key, v);
    }
    return v;
  }

  private keys(key: string): { circuit: string; window: string; probe: string } {
    // The braces are a Redis Cluster hash tag: one endpoint's keys share a slot, as scripts require.
    const base = `${this.ns}:{${key}}`;
    return { circuit: `${base}:c`, window: `${base}:w`, probe: `${base}:p` };
  }

  private apply(v: View, state: string, until: string): void {
    v.state = state === 'open' || state === 'half' ? state : 'closed';
    v.until = Number(until) || 0;
    // A held probe only means something while the circuit is half-open.
    if (v.state !== 'half') v.token = undefined;
  }

  private claim(key: string, v: View, now: number): void {
    if (v.claiming || now - v.lastClaimAt < CLAIM_EVERY_MS || this.degraded) return;
    v.claiming = true;
    v.lastClaimAt = now;
    const k = this.keys(key);
    this.track(
      this.guard
        .run((r) => CLAIM.run(r, [k.circuit, k.probe], [now, this.id, this.opts.probeTimeoutMs]))
        .then((reply) => {
          this.reported = false;
          const [state, until, won] = reply as [string, string, number];
          this.apply(v, state, until);
          if (won === 1) v.token = Date.now();
        })
        .finally(() => {
          v.claiming = false;
        }),
    );
  }

  private release(key: string, v: View): void {
    v.token = undefined;
    const k = this.keys(key);
    if (this.degraded) return;
    this.track(this.guard.run((r) => RELEASE.run(r, [k.circuit, k.probe], [this.id])).then(() => undefined));
  }

  private async pull(now: number, withStats: boolean): Promise<void> {
    const keys = [...this.views.keys()];
    if (keys.length === 0) return;
    const replies = await this.guard.run((r) => {
      const p = r.pipeline();
      for (const key of keys) {
        const k = this.keys(key);
        p.hmget(k.circuit, 'state', 'until');
        if (withStats) p.hgetall(k.window);
      }
      return p.exec();
    });
    if (!replies) throw new Error('redis pipeline was aborted');
    let i = 0;
    const next = (): unknown => {
      const [err, value] = replies[i++];
      if (err) throw err;
      return value;
    };
    for (const key of keys) {
      const v = this.view(key);
      const [state, until] = next() as Array<string | null>;
      this.apply(v, state ?? 'closed', until ?? '0');
      if (withStats) v.stats = summarise(parseWindow(next() as Record<string, string>, SLOTS), now, this.opts.minSamples);
    }
    this.reported = false;
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    // While Redis is down the guard probes it; pulling would only fail.
    if (this.degraded) return;
    this.ticking = true;
    try {
      const now = Date.now();
      for (const [key, v] of this.views) if (v.token !== undefined && now - v.token >= this.tokenIdleMs) this.release(key, v);
      const withStats = now - this.lastStatsAt >= this.statsRefreshMs;
      await this.pull(now, withStats);
      if (withStats) this.lastStatsAt = now;
    } catch (err) {
      this.failed(err);
    } finally {
      this.ticking = false;
    }
  }

  private track(p: Promise<void>): void {
    const settled: Promise<void> = p.catch((err: unknown) => this.failed(err)).finally(() => this.pending.delete(settled));
    this.pending.add(settled);
  }

  /** True while the Redis outage guard is open: answers come from the in-memory fallback. */
  private get degraded(): boolean {
    return this.guard.down;
  }

  private failed(err: unknown): void {
    if (this.reported) return;
    this.reported = true;
    this.onError(err instanceof Error ? err : new Error(String(err)));
  }
}

/** A latency or throughput sample as the script stores it ('' when absent or nonsense). */
function sample(v: number | undefined): string {
  return v !== undefined && Number.isFinite(v) && v >= 0 ? String(Math.round(v * 1000) / 1000) : '';
}

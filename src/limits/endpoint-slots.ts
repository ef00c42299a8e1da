/**
 * Upstream capacity: per endpoint, a concurrency cap and a request rate, so Freeway stays under
 * the provider's limits. A request that finds the endpoint saturated waits in a fair queue (FIFO
 * per API key, round-robin across keys) until its deadline, then gets a 429 naming the position
 * it had. Slots are leases in the RateStore, renewed while held, so a crashed process's slots
 * return.
 *
 * A waiter is woken when a slot is released in this process; capacity freed elsewhere (another
 * process, a request rate refilling, a lease lapsing) is noticed by polling the queue's head only:
 * every 25–100 ms (jittered, backing off) while the cap is the concurrency, or when the rate
 * window makes room. Timers exist only while something waits or holds a slot.
 */
import { randomBytes } from 'node:crypto';
import { GatewayError } from '../spec/errors.ts';
import { FairQueue } from './fair-queue.ts';
import { MINUTE, positive } from './options.ts';
import type { AcquireEndpointOptions, EndpointLimits, LimitsOptions, Release } from './options.ts';
import type { AcquireRequest, AcquireResult, RateRule, RateStore } from './types.ts';

interface Waiter {
  queueKey: string;
  settled: boolean;
  grant(release: Release): void;
  fail(err: GatewayError): void;
}

interface EndpointQueue {
  key: string;
  limits: EndpointLimits;
  waiters: FairQueue<Waiter>;
  pumping: boolean;
  again: boolean;
  timer: NodeJS.Timeout | undefined;
  backoffMs: number;
  last: AcquireResult | undefined;
}

const noopRelease: Release = () => {};

export class EndpointSlots {
  private readonly store: RateStore;
  private readonly maxWaitMs: number;
  private readonly maxLength: number;
  private readonly leaseMs: number;
  private readonly maxHoldMs: number;
  private readonly keepAliveMs: number;
  private readonly pollMin: number;
  private readonly pollMax: number;
  private readonly ratePollMax: number;
  private readonly failOpen: boolean;
  private readonly onStoreError: (err: unknown) => void;
  private readonly now: () => number;
  private readonly queues = new Map<string, EndpointQueue>();
  private readonly holderPrefix = randomBytes(6).toString('hex');
  private holders = 0;
  private closed = false;

  constructor(opts: LimitsOptions) {
    this.store = opts.store;
    this.maxWaitMs = opts.queue?.maxWaitMs ?? 30_000;
    this.maxLength = opts.queue?.maxLength ?? 1_000;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.maxHoldMs = opts.maxHoldMs ?? 3_600_000;
    this.keepAliveMs = opts.keepAliveMs ?? 10_000;
    this.pollMin = opts.pollMs?.min ?? 25;
    this.pollMax = opts.pollMs?.max ?? 100;
    this.ratePollMax = opts.ratePollMaxMs ?? 1_000;
    this.failOpen = opts.failOpen ?? true;
    this.onStoreError = opts.onStoreError ?? (() => {});
    this.now = opts.now ?? Date.now;
  }

  /**
   * A place at the endpoint: at once if it has capacity and nobody is queued, otherwise after
   * waiting in the fair queue. Throws a 429 when the queue is full, at the deadline, or on abort.
   * The returned release must be called when the upstream request ends (finally).
   */
  async acquire(endpointKey: string, limits: EndpointLimits, opts: AcquireEndpointOptions): Promise<Release> {
    if (!positive(limits.maxConcurrency) && !positive(limits.requestsPerMinute)) return noopRelease;
    if (this.closed) throw new GatewayError('server', 'Shutting down', { retryable: true });
    const deadline = opts.deadlineMs ?? Date.now() + this.maxWaitMs;
    let q = this.queues.get(endpointKey);
    if (q) q.limits = limits;
    let refused: AcquireResult | undefined = opts.refused;
    if (!refused && (!q || q.waiters.size === 0)) {
      const holder = this.newHolder();
      const r = await this.tryAcquire(endpointKey, limits, holder);
      if (r.ok) return this.held(endpointKey, limits, holder);
      refused = r;
      q = this.queues.get(endpointKey);
      if (q) q.limits = limits;
    }
    if (!q) {
      q = {
        key: endpointKey,
        limits,
        waiters: new FairQueue(),
        pumping: false,
        again: false,
        timer: undefined,
        backoffMs: this.pollMin * 2,
        last: undefined,
      };
      this.queues.set(endpointKey, q);
    }
    if (refused) q.last = refused;
    const queue = q;
    if (queue.waiters.size >= this.maxLength) {
      const size = queue.waiters.size;
      this.dropIfIdle(queue);
      throw new GatewayError('rate_limit_exceeded', `Endpoint ${endpointKey} is at capacity and its queue is full (${size} waiting)`, {
        retryable: true,
        retryAfter: this.retryAfterSeconds(queue),
        metadata: { endpoint: endpointKey, queue_length: size, queue_position: null, limit_type: this.limitType(queue) },
      });
    }
    if (opts.signal?.aborted || deadline <= Date.now()) {
      const position = queue.waiters.size + 1;
      this.dropIfIdle(queue);
      throw this.capacityError(queue, 0, position);
    }

    return new Promise<Release>((resolve, reject) => {
      const started = Date.now();
      let keepAlive: NodeJS.Timeout | undefined;
      const cleanup = () => {
        clearTimeout(deadlineTimer);
        if (keepAlive) clearInterval(keepAlive);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const giveUp = () => {
        if (w.settled) return;
        const position = queue.waiters.position(opts.queueKey, w);
        w.settled = true;
        cleanup();
        queue.waiters.remove(opts.queueKey, w);
        this.dropIfIdle(queue);
        reject(this.capacityError(queue, Date.now() - started, position));
      };
      const onAbort = () => giveUp();
      const w: Waiter = {
        queueKey: opts.queueKey,
        settled: false,
        grant: (release) => {
          w.settled = true;
          cleanup();
          resolve(release);
        },
        fail: (err) => {
          w.settled = true;
          cleanup();
          reject(err);
        },
      };
      const deadlineTimer = setTimeout(giveUp, Math.max(0, deadline - started));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      queue.waiters.push(opts.queueKey, w);
      const onWait = opts.onWait;
      if (onWait) {
        const tell = () => {
          if (w.settled) return;
          try {
            onWait(queue.waiters.position(opts.queueKey, w));
          } catch {
            // The caller's keep-alive failing must not break the queue.
          }
        };
        tell();
        keepAlive = setInterval(tell, this.keepAliveMs);
      }
      if (w.settled) return;
      // Right after a refusal, wait before asking again; otherwise ask now (capacity may be free).
      if (refused) this.schedule(queue, refused);
      else void this.pump(queue);
    });
  }

  /**
   * The store request for a place at the endpoint now, to be decided with the key's limits in one
   * step (Limits.admitKeyAt); undefined when the endpoint has no limits, this is closing, or others
   * already wait for it (they go first: this request joins the queue through `acquire`).
   */
  ask(endpointKey: string, limits: EndpointLimits): { request: AcquireRequest; holder: string } | undefined {
    if (!positive(limits.maxConcurrency) && !positive(limits.requestsPerMinute)) return undefined;
    if (this.closed || (this.queues.get(endpointKey)?.waiters.size ?? 0) > 0) return undefined;
    const holder = this.newHolder();
    return { request: this.request(endpointKey, limits, holder), holder };
  }

  /** The place the store granted to `ask`'s request at `chargedAt`: its release, and how to give it back unused. */
  placed(endpointKey: string, limits: EndpointLimits, holder: string, chargedAt: number): { release: Release; unused: () => void } {
    const release = this.held(endpointKey, limits, holder);
    let given = false;
    const unused = () => {
      if (given) return;
      given = true;
      release();
      this.refund(endpointKey, limits, chargedAt);
    };
    return { release, unused };
  }

  /** Waiting requests per endpoint, for tests and status pages. */
  queueLength(endpointKey: string): number {
    return this.queues.get(endpointKey)?.waiters.size ?? 0;
  }

  /** Fails every waiter and stops every timer. */
  close(): void {
    this.closed = true;
    for (const q of this.queues.values()) {
      if (q.timer) clearTimeout(q.timer);
      q.timer = undefined;
      for (const w of q.waiters.drain()) w.fail(new GatewayError('server', 'Shutting down', { retryable: true }));
    }
    this.queues.clear();
  }

  private newHolder(): string {
    return `${this.holderPrefix}:${++this.holders}`;
  }

  private rules(limits: EndpointLimits): RateRule[] {
    return positive(limits.requestsPerMinute) ? [{ name: 'rpm', limit: limits.requestsPerMinute, windowMs: MINUTE, cost: 1 }] : [];
  }

  private request(endpointKey: string, limits: EndpointLimits, holder: string): AcquireRequest {
    const slot = positive(limits.maxConcurrency)
      ? { key: `ep:${endpointKey}`, max: limits.maxConcurrency, leaseMs: this.leaseMs, holder }
      : null;
    return { slot, rateKey: `ep:${endpointKey}`, rules: this.rules(limits) };
  }

  private async tryAcquire(endpointKey: string, limits: EndpointLimits, holder: string): Promise<AcquireResult> {
    const { slot, rateKey, rules } = this.request(endpointKey, limits, holder);
    try {
      return await this.store.acquire(slot, rateKey, rules, this.now());
    } catch (err) {
      // A decision of the store itself (fail-closed during a Redis outage) reaches the client as it is.
      if (err instanceof GatewayError) throw err;
      this.onStoreError(err);
      if (this.failOpen) return { ok: true };
      throw err;
    }
  }

  /** The release of a granted place; renews the slot's lease while it is held. */
  private held(endpointKey: string, limits: EndpointLimits, holder: string): Release {
    if (!positive(limits.maxConcurrency)) return noopRelease;
    const max = limits.maxConcurrency;
    const slotKey = `ep:${endpointKey}`;
    const since = Date.now();
    let renew: NodeJS.Timeout | undefined = setInterval(
      () => {
        if (Date.now() - since > this.maxHoldMs) {
          clearInterval(renew);
          renew = undefined;
          return;
        }
        this.store.acquireSlot(slotKey, max, this.leaseMs, holder, this.now()).catch(this.onStoreError);
      },
      Math.max(1, Math.floor(this.leaseMs / 3)),
    );
    renew.unref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (renew) clearInterval(renew);
      renew = undefined;
      this.store
        .releaseSlot(slotKey, holder)
        .catch(this.onStoreError)
        .finally(() => {
          const q = this.queues.get(endpointKey);
          if (q && q.waiters.size > 0) void this.pump(q);
        });
    };
  }

  /** Serves the queue's head while the endpoint admits; then waits for a release or the next poll. */
  private async pump(q: EndpointQueue): Promise<void> {
    if (q.pumping) {
      q.again = true;
      return;
    }
    q.pumping = true;
    try {
      for (;;) {
        q.again = false;
        if (q.timer) clearTimeout(q.timer);
        q.timer = undefined;
        const w = q.waiters.peek();
        if (!w) break;
        const holder = this.newHolder();
        let r: AcquireResult;
        try {
          r = await this.tryAcquire(q.key, q.limits, holder);
        } catch (err) {
          if (err instanceof GatewayError) {
            // The store refuses to decide (fail-closed outage): the head gets that answer, not a longer wait.
            if (!w.settled) {
              q.waiters.shift();
              w.fail(err);
            }
            continue;
          }
          r = { ok: false, reason: 'concurrency' };
        }
        if (r.ok) {
          const release = this.held(q.key, q.limits, holder);
          if (w.settled) {
            // It gave up while we asked: hand the place back.
            release();
            this.refund(q.key, q.limits);
            continue;
          }
          // Still the head (only this loop serves; others only join at the back or leave settled):
          // taking it moves its key behind the others, the round-robin.
          q.waiters.shift();
          q.backoffMs = this.pollMin * 2;
          w.grant(release);
          continue;
        }
        q.last = r;
        if (q.again) continue;
        this.schedule(q, r);
        break;
      }
    } finally {
      q.pumping = false;
      this.dropIfIdle(q);
    }
  }

  /** Refunds the request-rate charge (made at `chargedAt`, default now) of a place given back unused. */
  private refund(endpointKey: string, limits: EndpointLimits, chargedAt?: number): void {
    if (!positive(limits.requestsPerMinute)) return;
    const now = this.now();
    this.store.adjust(`ep:${endpointKey}`, 'rpm', MINUTE, -1, now, chargedAt ?? now).catch(this.onStoreError);
  }

  private schedule(q: EndpointQueue, r: AcquireResult): void {
    if (q.timer || q.waiters.size === 0 || this.closed) return;
    let delay: number;
    if (!r.ok && r.reason === 'rate') {
      delay = Math.min(this.ratePollMax, Math.max(this.pollMin, r.retryAfterMs) + Math.random() * this.pollMin);
    } else {
      delay = Math.max(this.pollMin, q.backoffMs * (0.5 + Math.random() * 0.5));
      q.backoffMs = Math.min(this.pollMax, q.backoffMs * 2);
    }
    q.timer = setTimeout(() => {
      q.timer = undefined;
      void this.pump(q);
    }, delay);
  }

  private dropIfIdle(q: EndpointQueue): void {
    if (q.waiters.size > 0 || q.pumping) return;
    if (q.timer) clearTimeout(q.timer);
    q.timer = undefined;
    if (this.queues.get(q.key) === q) this.queues.delete(q.key);
  }

  private limitType(q: EndpointQueue): string {
    return q.last && !q.last.ok && q.last.reason === 'rate' ? 'requests_per_minute' : 'concurrency';
  }

  private retryAfterSeconds(q: EndpointQueue): number {
    const r = q.last;
    return r && !r.ok && r.reason === 'rate' ? Math.max(1, Math.ceil(r.retryAfterMs / 1000)) : 1;
  }

  private capacityError(q: EndpointQueue, waitedMs: number, position: number): GatewayError {
    return new GatewayError(
      'rate_limit_exceeded',
      `Endpoint ${q.key} is at capacity; waited ${waitedMs} ms at queue position ${position}`,
      {
        // Another endpoint may have room.
        retryable: true,
        retryAfter: this.retryAfterSeconds(q),
        metadata: { endpoint: q.key, queue_position: position, waited_ms: waitedMs, limit_type: this.limitType(q) },
      },
    );
  }
}

/**
 * The RateStore of a worker under `freeway serve --workers N` without Redis: every decision is
 * made by the primary process (rate-server.ts), which keeps the one MemoryRateStore all workers
 * share, so per-key and per-endpoint limits hold exactly across workers — the role Redis plays
 * across machines. Calls made during one turn of the event loop travel as one message and their
 * answers come back as one, so a busy worker pays one IPC round trip per turn, not per request;
 * a request with no limit configured asks nothing at all (limits.ts).
 */
import type { AcquireResult, RateRule, RateStore, SlotRequest, TakeResult } from '../limits/types.ts';
import type { PrimaryMessage, RateCall, RateOp, WorkerMessage } from './messages.ts';
import { isFreewayMessage } from './messages.ts';

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** The channel to the primary: `process` in a cluster worker; a fake in tests. */
export interface Channel {
  send(message: WorkerMessage, callback?: (err: Error | null) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

export class IpcRateStore implements RateStore {
  private readonly channel: Channel;
  private readonly pending = new Map<number, Pending>();
  private queued: RateCall[] = [];
  private flushing: NodeJS.Immediate | undefined;
  private nextId = 1;
  private closed = false;

  constructor(channel: Channel) {
    this.channel = channel;
    channel.on('message', this.onMessage);
  }

  take(key: string, rules: readonly RateRule[], now: number): Promise<TakeResult> {
    return this.call('take', [key, rules, now]) as Promise<TakeResult>;
  }

  acquire(slot: SlotRequest | null, rateKey: string, rules: readonly RateRule[], now: number): Promise<AcquireResult> {
    return this.call('acquire', [slot, rateKey, rules, now]) as Promise<AcquireResult>;
  }

  acquireSlot(key: string, max: number, leaseMs: number, holder: string, now: number): Promise<boolean> {
    return this.call('acquireSlot', [key, max, leaseMs, holder, now]) as Promise<boolean>;
  }

  async releaseSlot(key: string, holder: string): Promise<void> {
    await this.call('releaseSlot', [key, holder]);
  }

  async adjust(key: string, ruleName: string, windowMs: number, delta: number, now: number, chargedAt?: number): Promise<void> {
    await this.call('adjust', [key, ruleName, windowMs, delta, now, chargedAt ?? now]);
  }

  /** Fails what is still waiting; the primary's counts stay (other workers share them). */
  async close(): Promise<void> {
    this.closed = true;
    this.channel.off('message', this.onMessage);
    this.failAll(new Error('rate limits closed'));
  }

  /** Answers still awaited (tests). */
  get waiting(): number {
    return this.pending.size;
  }

  private call(op: RateOp, args: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('rate limits closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.queued.push([id, op, args]);
      this.flushing ??= setImmediate(this.flush);
    });
  }

  private readonly flush = (): void => {
    this.flushing = undefined;
    const calls = this.queued;
    this.queued = [];
    if (calls.length === 0) return;
    try {
      this.channel.send({ fw: 'rate', calls }, (err) => {
        if (err) this.fail(calls, err);
      });
    } catch (err) {
      // The channel is closed: the primary is gone (this worker is about to exit).
      this.fail(calls, err);
    }
  };

  private readonly onMessage = (m: unknown): void => {
    if (!isFreewayMessage(m) || m.fw !== 'rate') return;
    for (const [id, ok, value] of (m as Extract<PrimaryMessage, { fw: 'rate' }>).replies) {
      const p = this.pending.get(id);
      if (!p) continue;
      this.pending.delete(id);
      if (ok) p.resolve(value);
      else p.reject(new Error(`rate limits: ${String(value)}`));
    }
  };

  private fail(calls: RateCall[], err: unknown): void {
    for (const [id] of calls) {
      const p = this.pending.get(id);
      this.pending.delete(id);
      p?.reject(err);
    }
  }

  private failAll(err: unknown): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}

/**
 * The RateStore of a worker under `freeway serve --workers N` without Redis: every decision is
 * made by the primary process (rate-server.ts), which keeps the one MemoryRateStore all workers
 * share, so per-key and per-endpoint limits hold exactly across workers — the role Redis plays
 * across machines.
 *
 * Asking per request would cost every limited request an IPC round trip (about 30 % more CPU per
 * request, measured), so a rate ask also asks for a block of further units (rate-blocks.ts): the
 * next requests of that key are admitted here until the block is spent or its bucket ends, then
 * the next ask gives back what is left and asks again — one round trip per block, not per request.
 * One ask per key is in flight at a time; requests arriving meanwhile wait for its block, unless
 * the last ask granted none (near the limit), when each asks for itself. Calls made during one
 * turn of the event loop travel as one message. Endpoint places (concurrency) are asked per
 * request: they are given back, not spent.
 */
import type { AcquireRequest, AcquireResult, AdmitResult, RateRule, RateStore, SlotRequest, TakeResult } from '../limits/types.ts';
import type { PrimaryMessage, RateCall, RateOp, ReturnedBlock, WorkerMessage } from './messages.ts';
import { isFreewayMessage } from './messages.ts';
import type { Block } from './rate-blocks.ts';
import { correct, leftover, newBlock, spend, wantFor } from './rate-blocks.ts';

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

/** The answer to a `lease` call (MemoryRateStore.grant). */
type LeaseReply = { ok: true; granted: number[] } | Exclude<TakeResult, { ok: true }>;

interface KeyState {
  block: Block | undefined;
  /** The ask in flight; settles after its block (if any) is in place. */
  asking: Promise<void> | undefined;
  /** The last ask granted no block: requests meanwhile ask for themselves rather than queue. */
  dry: boolean;
  /** Requests admitted since the last ask, and those waiting for it: the size of the next block. */
  served: number;
  waiting: number;
}

const OK: Promise<TakeResult> = Promise.resolve(Object.freeze({ ok: true as const }));
const DONE: Promise<void> = Promise.resolve();
/** Key states are swept (blocks past their bucket given back) every this many asks. */
const SWEEP_EVERY = 1_024;

export class IpcRateStore implements RateStore {
  private readonly channel: Channel;
  private readonly pending = new Map<number, Pending>();
  private readonly keys = new Map<string, KeyState>();
  private queued: RateCall[] = [];
  private flushing: NodeJS.Immediate | undefined;
  private nextId = 1;
  private asks = 0;
  private closed = false;

  constructor(channel: Channel) {
    this.channel = channel;
    channel.on('message', this.onMessage);
  }

  take(key: string, rules: readonly RateRule[], now: number): Promise<TakeResult> {
    const s = this.keys.get(key);
    if (s?.block && spend(s.block, rules, now)) {
      s.served++;
      return OK;
    }
    return this.leased(key, rules, now);
  }

  acquire(slot: SlotRequest | null, rateKey: string, rules: readonly RateRule[], now: number): Promise<AcquireResult> {
    if (slot || rules.length === 0) return this.call('acquire', [slot, rateKey, rules, now]) as Promise<AcquireResult>;
    return this.take(rateKey, rules, now).then((r): AcquireResult => (r.ok ? r : { ...r, reason: 'rate' }));
  }

  /** The key's take (from its block when it can), then the endpoint's acquire: the primary decides each. */
  async admit(key: string, rules: readonly RateRule[], endpoint: AcquireRequest, now: number): Promise<AdmitResult> {
    const k = await this.take(key, rules, now);
    if (!k.ok) return k;
    return { ok: true, endpoint: await this.acquire(endpoint.slot, endpoint.rateKey, endpoint.rules, now) };
  }

  acquireSlot(key: string, max: number, leaseMs: number, holder: string, now: number): Promise<boolean> {
    return this.call('acquireSlot', [key, max, leaseMs, holder, now]) as Promise<boolean>;
  }

  async releaseSlot(key: string, holder: string): Promise<void> {
    await this.call('releaseSlot', [key, holder]);
  }

  adjust(key: string, ruleName: string, windowMs: number, delta: number, now: number, chargedAt?: number): Promise<void> {
    const b = this.keys.get(key)?.block;
    if (b && correct(b, ruleName, windowMs, delta, now, chargedAt ?? now)) return DONE;
    return this.call('adjust', [key, ruleName, windowMs, delta, now, chargedAt ?? now]).then(() => {});
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

  /** Units of `key` this worker may still spend without asking, per rule (tests). */
  held(key: string): number[] {
    return this.keys.get(key)?.block?.units.map((u) => u.left) ?? [];
  }

  private async leased(key: string, rules: readonly RateRule[], now: number): Promise<TakeResult> {
    for (;;) {
      let s = this.keys.get(key);
      if (!s) this.keys.set(key, (s = { block: undefined, asking: undefined, dry: false, served: 0, waiting: 0 }));
      if (s.block && spend(s.block, rules, now)) {
        s.served++;
        return { ok: true };
      }
      if (!s.asking) return this.ask(key, s, rules, now, true);
      if (s.dry) return this.ask(key, s, rules, now, false);
      s.waiting++;
      await s.asking;
      s.waiting--;
    }
  }

  /**
   * Asks the primary to admit this request, giving back what is left of the key's block; with
   * `forBlock`, also for the next block (and in-flight asks for the key wait for this one).
   */
  private ask(key: string, s: KeyState, rules: readonly RateRule[], now: number, forBlock: boolean): Promise<TakeResult> {
    if (++this.asks % SWEEP_EVERY === 0) this.sweep(now, key);
    const back = s.block ? leftover(s.block) : null;
    s.block = undefined;
    const requests = forBlock ? wantFor(s.served + s.waiting) : 0;
    if (forBlock) s.served = 0;
    const want = rules.map((r) => requests * Math.max(1, Math.ceil(r.cost)));
    const reply = this.call('lease', [key, rules, now, want, back]).then((r) => this.orBlock(key, rules, now, r as LeaseReply));
    if (!forBlock) return reply.then(toTake);
    let done!: () => void;
    s.asking = new Promise<void>((resolve) => (done = resolve));
    return reply.then(
      (r) => {
        s.served++;
        if (r.ok && r.granted.some((g) => g > 0)) {
          s.block = newBlock(rules, now, r.granted);
          s.dry = false;
        } else s.dry = true;
        s.asking = undefined;
        done();
        return toTake(r);
      },
      (err: unknown) => {
        s.asking = undefined;
        done();
        throw err;
      },
    );
  }

  /**
   * A refusal that crossed a block of this key on its way here (the primary recalled this worker
   * before the block arrived) is answered from that block: its units are charged, and spending
   * them is what the primary would have done.
   */
  private orBlock(key: string, rules: readonly RateRule[], now: number, r: LeaseReply): LeaseReply {
    const s = this.keys.get(key);
    if (r.ok || !s?.block || !spend(s.block, rules, now)) return r;
    s.served++;
    return { ok: true, granted: [] };
  }

  /** Gives back blocks whose bucket has passed and forgets idle keys but `asking` (memory follows the active keys). */
  private sweep(now: number, asking: string): void {
    for (const [key, s] of this.keys) {
      if (key === asking || s.asking || (s.block && now < s.block.until)) continue;
      const back = s.block ? leftover(s.block) : null;
      this.keys.delete(key);
      if (back) this.call('giveBack', [key, back]).catch(() => {});
    }
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
    if (!isFreewayMessage(m)) return;
    const msg = m as PrimaryMessage;
    if (msg.fw === 'recall') return this.recall(msg.id, msg.key);
    if (msg.fw !== 'rate') return;
    for (const [id, ok, value] of msg.replies) {
      const p = this.pending.get(id);
      if (!p) continue;
      this.pending.delete(id);
      if (ok) p.resolve(value);
      else p.reject(new Error(`rate limits: ${String(value)}`));
    }
  };

  /** The primary needs this key's units for another worker: what is left goes back now. */
  private recall(id: number, key: string): void {
    const s = this.keys.get(key);
    let block: ReturnedBlock | null = null;
    if (s?.block) {
      block = leftover(s.block);
      s.block = undefined;
    }
    try {
      this.channel.send({ fw: 'returned', id, block });
    } catch {
      // The primary is gone.
    }
  }

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

function toTake(r: LeaseReply): TakeResult {
  if (!r.ok) return r;
  return { ok: true };
}

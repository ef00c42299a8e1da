/**
 * The primary's side of shared rate limits without Redis: one MemoryRateStore that decides for
 * every worker (ipc-rate-store.ts). Each decision is synchronous underneath, so decisions from
 * different workers never interleave: a key's requests per minute and an endpoint's concurrency
 * hold exactly as in one process. Endpoint places a worker held when it died are given back at
 * once (they would otherwise wait for their lease to lapse).
 *
 * A rate ask may take a block of further units for the worker to spend itself (rate-blocks.ts):
 * at most a 2N-th of what is left (N workers), so blocks shrink as the limit nears and stop when
 * a rule could not cover one more request. Before refusing, the primary recalls the blocks other
 * workers hold for that key and decides again: a refusal means the key's allowance is spent, not
 * parked in an idle worker's block. A worker that died keeps its block's units charged until they
 * leave the window (what it spent of them is unknown): never more admitted than the limit.
 */
import { MemoryRateStore } from '../limits/memory-rate-store.ts';
import type { GrantResult, RateRule, SlotRequest } from '../limits/types.ts';
import type { PrimaryMessage, RateCall, RateReply, ReturnedBlock } from './messages.ts';

/** How long a recall waits for a worker's answer before the decision goes ahead without it. */
const RECALL_MS = 1_000;
/** Grants older than this are forgotten (longer than any rate window Freeway uses, a minute). */
const STALE_MS = 5 * 60_000;
const SWEEP_EVERY = 1_024;

export interface RateServerOptions {
  /** Workers sharing the limits: a block is at most a 2N-th of what is left. Default 2. */
  workers?: number;
  /** Sends a message to a worker; false if it cannot be reached. */
  send?(workerId: number, message: PrimaryMessage): boolean;
}

/** A decision that waits for other workers' blocks: answered on its own, not with its batch. */
class Recalling {
  readonly value: Promise<unknown>;
  constructor(value: Promise<unknown>) {
    this.value = value;
  }
}

export class RateServer {
  readonly store = new MemoryRateStore();
  private readonly share: number;
  private readonly send: (workerId: number, message: PrimaryMessage) => boolean;
  /** Per worker: holder → semaphore key of the endpoint places it holds. */
  private readonly slots = new Map<number, Map<string, string>>();
  /** Per key: the workers that may hold a block of it, and when it was last granted (ms epoch). */
  private readonly blocks = new Map<string, Map<number, number>>();
  private grants = 0;
  /** Recalls awaiting a worker's answer: id → worker and resolver. */
  private readonly recalls = new Map<number, { workerId: number; resolve(b: ReturnedBlock | null): void }>();
  private nextRecall = 1;
  /** Per key: the recall under way, which refused asks wait for before they are decided again. */
  private readonly recalling = new Map<string, Promise<void>>();

  constructor(opts: RateServerOptions = {}) {
    this.share = 2 * Math.max(1, opts.workers ?? 2);
    this.send = opts.send ?? (() => false);
  }

  /**
   * Decides one worker's batch, in order. `reply` gets the answers decided at once as one
   * message, and each answer that first recalled other workers' blocks as a message of its own
   * (so a recall never holds up the rest of the batch).
   */
  handle(workerId: number, calls: readonly RateCall[], reply: (replies: RateReply[]) => void): void {
    const answer = (id: number, p: Promise<unknown>) =>
      p.then(
        (value): RateReply => [id, true, value],
        (err: unknown): RateReply => [id, false, (err as Error)?.message ?? String(err)],
      );
    const now: Promise<RateReply>[] = [];
    for (const [id, op, args] of calls) {
      let v: Promise<unknown> | Recalling;
      try {
        v = this.one(workerId, op, args);
      } catch (err) {
        v = Promise.reject(err);
      }
      if (v instanceof Recalling) void answer(id, v.value).then((r) => reply([r]));
      else now.push(answer(id, v));
    }
    if (now.length > 0) void Promise.all(now).then(reply);
  }

  /** A worker's answer to a recall. */
  returned(workerId: number, id: number, block: ReturnedBlock | null): void {
    const r = this.recalls.get(id);
    if (!r || r.workerId !== workerId) return;
    this.recalls.delete(id);
    r.resolve(block);
  }

  /** The worker is gone: its endpoint places are free now; recalls to it are answered with nothing. */
  async forget(workerId: number): Promise<void> {
    for (const [id, r] of this.recalls) {
      if (r.workerId !== workerId) continue;
      this.recalls.delete(id);
      r.resolve(null);
    }
    for (const [key, holders] of this.blocks) {
      holders.delete(workerId);
      if (holders.size === 0) this.blocks.delete(key);
    }
    const held = this.slots.get(workerId);
    this.slots.delete(workerId);
    for (const [holder, key] of held ?? []) await this.store.releaseSlot(key, holder);
  }

  private held(workerId: number): Map<string, string> {
    let m = this.slots.get(workerId);
    if (!m) this.slots.set(workerId, (m = new Map()));
    return m;
  }

  private one(workerId: number, op: RateCall[1], a: unknown[]): Promise<unknown> | Recalling {
    // Arguments come from this program's own workers over a private channel: trusted shapes.
    switch (op) {
      case 'lease':
        return this.lease(workerId, a[0] as string, a[1] as RateRule[], a[2] as number, a[3] as number[], a[4] as ReturnedBlock | null);
      case 'giveBack':
        this.refund(a[0] as string, a[1] as ReturnedBlock);
        return Promise.resolve();
      case 'acquire':
        return (async () => {
          const slot = a[0] as SlotRequest | null;
          const r = await this.store.acquire(slot, a[1] as string, a[2] as RateRule[], a[3] as number);
          if (r.ok && slot) this.held(workerId).set(slot.holder, slot.key);
          return r;
        })();
      case 'acquireSlot':
        return (async () => {
          const ok = await this.store.acquireSlot(a[0] as string, a[1] as number, a[2] as number, a[3] as string, a[4] as number);
          if (ok) this.held(workerId).set(a[3] as string, a[0] as string);
          return ok;
        })();
      case 'releaseSlot':
        this.slots.get(workerId)?.delete(a[1] as string);
        return this.store.releaseSlot(a[0] as string, a[1] as string);
      case 'adjust':
        return this.store.adjust(a[0] as string, a[1] as string, a[2] as number, a[3] as number, a[4] as number, a[5] as number);
    }
  }

  /** A take with a block on top (MemoryRateStore.grant), after taking back what the worker returns. */
  private lease(
    workerId: number,
    key: string,
    rules: RateRule[],
    now: number,
    want: number[],
    back: ReturnedBlock | null,
  ): Promise<GrantResult> | Recalling {
    if (back) this.refund(key, back);
    const r = this.store.grant(key, rules, now, want, this.share);
    if (r.ok) {
      this.note(workerId, key, r);
      return Promise.resolve(r);
    }
    const recalled = this.recalling.get(key) ?? this.recallAll(key);
    if (!recalled) return Promise.resolve(r);
    return new Recalling(
      recalled.then(() => {
        const again = this.store.grant(key, rules, now, want, this.share);
        if (again.ok) this.note(workerId, key, again);
        return again;
      }),
    );
  }

  /**
   * Recalls every block of `key` and refunds what is left of them; undefined when no worker may
   * hold one. Asks refused while it runs wait for it too, then are decided again.
   */
  private recallAll(key: string): Promise<void> | undefined {
    // The asker too: a block granted to it may still be on its way to it.
    const holders = [...(this.blocks.get(key)?.keys() ?? [])];
    if (holders.length === 0) return undefined;
    this.blocks.delete(key);
    const done = Promise.all(holders.map((w) => this.recall(w, key))).then((blocks) => {
      this.recalling.delete(key);
      for (const b of blocks) if (b) this.refund(key, b);
    });
    this.recalling.set(key, done);
    return done;
  }

  /**
   * Who may hold a block: a worker once granted one, until it is recalled. Not forgotten when a
   * later ask returns it: an ask granted before may still be on its way (a needless recall
   * costs a message; a missed one, a refusal while units lie idle).
   */
  private note(workerId: number, key: string, r: { granted: number[] }): void {
    if (!r.granted.some((g) => g > 0)) return;
    let s = this.blocks.get(key);
    if (!s) this.blocks.set(key, (s = new Map()));
    s.set(workerId, Date.now());
    if (++this.grants % SWEEP_EVERY === 0) this.sweep();
  }

  /** Forgets grants old enough that their charge has left every window (recalling them would free nothing). */
  private sweep(): void {
    const before = Date.now() - STALE_MS;
    for (const [key, holders] of this.blocks) {
      for (const [w, at] of holders) if (at < before) holders.delete(w);
      if (holders.size === 0) this.blocks.delete(key);
    }
  }

  /** Asks a worker for what is left of its block of `key` (null: none, or no answer in time). */
  private recall(workerId: number, key: string): Promise<ReturnedBlock | null> {
    const id = this.nextRecall++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // Decide without it; what it returns later still goes back to the count.
        this.recalls.set(id, { workerId, resolve: (b) => b && this.refund(key, b) });
        resolve(null);
      }, RECALL_MS);
      timer.unref();
      this.recalls.set(id, {
        workerId,
        resolve: (b) => {
          clearTimeout(timer);
          resolve(b);
        },
      });
      if (!this.send(workerId, { fw: 'recall', id, key })) this.returned(workerId, id, null);
    });
  }

  /** Units a worker did not spend go back to the bucket they were charged in. */
  private refund(key: string, b: ReturnedBlock): void {
    for (const [rule, windowMs, units] of b.left) {
      if (units > 0) void this.store.adjust(key, rule, windowMs, -units, b.at, b.at);
    }
  }
}

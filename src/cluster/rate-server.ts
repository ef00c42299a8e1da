/**
 * The primary's side of shared rate limits without Redis: one MemoryRateStore that decides for
 * every worker (ipc-rate-store.ts). Each decision is synchronous underneath, so decisions from
 * different workers never interleave: a key's requests per minute and an endpoint's concurrency
 * hold exactly as in one process. Endpoint places a worker held when it died are given back at
 * once (they would otherwise wait for their lease to lapse).
 */
import { MemoryRateStore } from '../limits/memory-rate-store.ts';
import type { RateRule, SlotRequest } from '../limits/types.ts';
import type { RateCall, RateReply } from './messages.ts';

export class RateServer {
  readonly store = new MemoryRateStore();
  /** Per worker: holder → semaphore key of the endpoint places it holds. */
  private readonly slots = new Map<number, Map<string, string>>();

  /** Decides one worker's batch, in order; the answers in the same order. */
  async handle(workerId: number, calls: readonly RateCall[]): Promise<RateReply[]> {
    return Promise.all(
      calls.map(([id, op, args]) =>
        this.one(workerId, op, args).then(
          (value): RateReply => [id, true, value],
          (err: unknown): RateReply => [id, false, (err as Error)?.message ?? String(err)],
        ),
      ),
    );
  }

  /** The worker is gone: its endpoint places are free now. */
  async forget(workerId: number): Promise<void> {
    const held = this.slots.get(workerId);
    this.slots.delete(workerId);
    for (const [holder, key] of held ?? []) await this.store.releaseSlot(key, holder);
  }

  private held(workerId: number): Map<string, string> {
    let m = this.slots.get(workerId);
    if (!m) this.slots.set(workerId, (m = new Map()));
    return m;
  }

  private async one(workerId: number, op: RateCall[1], a: unknown[]): Promise<unknown> {
    // Arguments come from this program's own workers over a private channel: trusted shapes.
    switch (op) {
      case 'take':
        return this.store.take(a[0] as string, a[1] as RateRule[], a[2] as number);
      case 'acquire': {
        const slot = a[0] as SlotRequest | null;
        const r = await this.store.acquire(slot, a[1] as string, a[2] as RateRule[], a[3] as number);
        if (r.ok && slot) this.held(workerId).set(slot.holder, slot.key);
        return r;
      }
      case 'acquireSlot': {
        const ok = await this.store.acquireSlot(a[0] as string, a[1] as number, a[2] as number, a[3] as string, a[4] as number);
        if (ok) this.held(workerId).set(a[3] as string, a[0] as string);
        return ok;
      }
      case 'releaseSlot':
        this.slots.get(workerId)?.delete(a[1] as string);
        return this.store.releaseSlot(a[0] as string, a[1] as string);
      case 'adjust':
        return this.store.adjust(a[0] as string, a[1] as string, a[2] as number, a[3] as number, a[4] as number, a[5] as number);
    }
  }
}

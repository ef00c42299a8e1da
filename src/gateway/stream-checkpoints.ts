/**
 * While streams run, what each has delivered so far is written on its hold, all streams of the
 * process in one batch every `everyMs`: if the process dies, whoever settles its holds charges
 * that much and releases the rest. A crash therefore leaves at most `everyMs` of each stream (plus
 * the store's commit delay) unbilled. Only changed amounts are written, and only for streams that
 * have delivered something that costs; a stream shorter than `everyMs` is never checkpointed.
 */
import { upstreamCharged } from '../accounting/charge.ts';
import type { GenerationRecord, HoldCheckpoint } from '../store/types.ts';
import type { Store } from '../store/store.ts';
import type { FinishOptions, GenerationTracker } from './tracker.ts';

/** What a stream had delivered, priced, and the record to keep if it is cut here. */
export interface Delivered {
  upstreamNanos: number;
  feeNanos: number;
  record: GenerationRecord;
}

export const CRASH_ERROR =
  'interrupted: the Freeway process serving this stream stopped; charged for what was delivered by its last checkpoint';

/**
 * The checkpoint of a stream that has delivered what `opts` describes: priced as a stream the
 * client cut short (it pays for what it received), recorded as cut by a crash.
 */
export function deliveredSoFar(tracker: GenerationTracker, opts: FinishOptions): Delivered {
  const { record, charge } = tracker.finish({ ...opts, cancelled: true, error: null });
  return {
    upstreamNanos: upstreamCharged(charge),
    feeNanos: charge.feeNanos,
    record: { ...record, cancelled: false, finishReason: 'error', nativeFinishReason: null, error: CRASH_ERROR },
  };
}

interface Live {
  key: { hash: string; accountId: string };
  snapshot: () => Delivered | undefined;
  /** Charge last written, nano-dollars. */
  written: number;
}

export class StreamCheckpoints {
  private readonly store: Store;
  private readonly everyMs: number;
  private readonly ttlMs: number;
  private readonly onError: (err: unknown) => void;
  private readonly live = new Map<string, Live>();
  /** The lease that owns this process's holds (set once the lease is taken). */
  owner: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;

  constructor(store: Store, opts: { everyMs: number; ttlMs: number; onError: (err: unknown) => void }) {
    this.store = store;
    this.everyMs = opts.everyMs;
    this.ttlMs = opts.ttlMs;
    this.onError = opts.onError;
  }

  /** Starts checkpointing a stream; `snapshot` says what it has delivered (undefined: nothing yet). */
  track(id: string, key: { hash: string; accountId: string }, snapshot: () => Delivered | undefined): void {
    this.live.set(id, { key, snapshot, written: 0 });
    if (!this.timer) {
      this.timer = setInterval(this.tick, this.everyMs);
      this.timer.unref();
    }
  }

  /**
   * Stops checkpointing a stream, once no write of it is in flight (so its settlement lands after
   * the last checkpoint, never before). Resolves with whether a checkpoint was written: a stream
   * that held nothing then has a hold of 0 for its settlement to drop.
   */
  async untrack(id: string): Promise<boolean> {
    const e = this.live.get(id);
    this.live.delete(id);
    if (this.live.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    if (e && e.written > 0 && this.writing) await this.writing;
    return e !== undefined && e.written > 0;
  }

  private readonly tick = (): void => {
    if (this.writing || this.owner === undefined) return;
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.ttlMs);
    const batch: HoldCheckpoint[] = [];
    for (const [id, e] of this.live) {
      const d = e.snapshot();
      const total = d ? d.upstreamNanos + d.feeNanos : 0;
      if (!d || total === 0 || total === e.written) continue;
      e.written = total;
      batch.push({
        id,
        accountId: e.key.accountId,
        keyHash: e.key.hash,
        owner: this.owner,
        upstreamNanos: d.upstreamNanos,
        feeNanos: d.feeNanos,
        record: d.record,
        now,
        expiresAt,
      });
    }
    if (batch.length === 0) return;
    this.writing = this.store
      .checkpointHolds(batch)
      .catch(this.onError)
      .finally(() => (this.writing = undefined));
  };
}

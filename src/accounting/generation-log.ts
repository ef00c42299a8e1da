/**
 * Records generations off the request path: rows are buffered and written in one transaction per
 * tick. Reads see buffered rows too, so `/generation` works the moment a response ends.
 */
import type { GenerationRecord } from '../store/types.ts';
import type { Store } from '../store/store.ts';

export class GenerationLog {
  private buffer: GenerationRecord[] = [];
  private readonly pending = new Map<string, GenerationRecord>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly store: Store;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly onError: (err: unknown) => void;

  constructor(store: Store, opts: { flushMs?: number; maxBatch?: number; onError?: (err: unknown) => void } = {}) {
    this.store = store;
    this.flushMs = opts.flushMs ?? 20;
    this.maxBatch = opts.maxBatch ?? 500;
    this.onError = opts.onError ?? (() => {});
  }

  record(g: GenerationRecord): void {
    this.buffer.push(g);
    this.pending.set(g.id, g);
    if (this.buffer.length >= this.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  async get(id: string): Promise<GenerationRecord | undefined> {
    return this.pending.get(id) ?? (await this.store.getGeneration(id));
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.buffer;
    if (batch.length === 0) return this.flushing;
    this.buffer = [];
    this.flushing = this.flushing
      .then(() => this.store.insertGenerations(batch))
      .then(
        () => {
          for (const g of batch) this.pending.delete(g.id);
        },
        (err: unknown) => {
          // Keep the rows and try again shortly rather than lose a bill.
          this.buffer.unshift(...batch);
          // Unref'd: a store that is gone for good (shutdown) must not keep the process alive.
          this.timer ??= setTimeout(() => void this.flush(), 1_000).unref();
          this.onError(err);
        },
      );
    return this.flushing;
  }
}

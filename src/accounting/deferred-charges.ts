/**
 * Charges that could not commit when their answer ended (the database was away): the answer has
 * gone out, so the money is owed. Each is retried every second until it commits; meanwhile its hold
 * stays with this live process, so the credit stays held and nothing is charged twice (a charge is
 * keyed by its generation id). Should this process die first, the sweep settles the hold as for any
 * dead process: what the stream had delivered by its last checkpoint is charged.
 */
import { isOutage } from '../spec/errors.ts';

export interface DeferredChargesOptions {
  retryMs: number;
  /** How long one charge is retried before it is given up (logged at error; its hold goes to the sweep). */
  giveUpMs: number;
  onGiveUp: (id: string, err: unknown) => void;
  /** A retry failed for a reason other than the store being away. */
  onError: (id: string, err: unknown) => void;
}

interface Pending {
  attempt: () => Promise<void>;
  since: number;
}

export class DeferredCharges {
  private readonly pending = new Map<string, Pending>();
  private readonly opts: DeferredChargesOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(opts: DeferredChargesOptions) {
    this.opts = opts;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Retries `attempt` (which must be idempotent) until it resolves. */
  add(id: string, attempt: () => Promise<void>): void {
    this.pending.set(id, { attempt, since: Date.now() });
    if (!this.timer) {
      this.timer = setInterval(() => void this.retryAll(), this.opts.retryMs);
      this.timer.unref();
    }
  }

  /** One pass over every pending charge; shutdown calls it for a last try. */
  retryAll(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<void> {
    for (const [id, p] of [...this.pending]) {
      try {
        await p.attempt();
        this.pending.delete(id);
      } catch (err) {
        if (Date.now() - p.since >= this.opts.giveUpMs) {
          this.pending.delete(id);
          this.opts.onGiveUp(id, err);
          continue;
        }
        if (!isOutage(err)) this.opts.onError(id, err);
        // The store is still away: the rest would fail the same way.
        else break;
      }
    }
    if (this.pending.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * Group commit for one SQLite connection: writes run one after another inside ONE transaction,
 * so a busy gateway pays for one commit per batch instead of one per request (a commit costs
 * several times the writes themselves). An operation someone is waiting on (a hold before an
 * upstream call, a settlement before the answer's last bytes) is committed on the next turn of the
 * event loop, with everything queued before it; one whose caller has already answered (a released
 * hold, generation records, checkpoints) may wait up to DEFER_MS for company. Each operation still sees the effects of the ones before
 * it, exactly as if it had its own transaction; callers resolve only after the commit. If the
 * batch fails, its operations are retried one transaction each so one bad operation cannot sink
 * the others.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';

/** How long a write nobody waits on may wait for others to share its commit. */
const DEFER_MS = 20;
/** Writes per commit at most; a full batch commits at once. */
const MAX_BATCH = 256;
/** How long a commit waits for another process's write lock before it fails (the store's busy_timeout). */
const BUSY_MS = 10_000;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Work a batch carries besides its operations (see PendingCharges): `land` writes it, before any
 * operation that might read what it changes and before every commit; `discard` drops it when the
 * transaction rolls back.
 */
export interface Deferred {
  land(): void;
  discard(): void;
}

export interface WriteOptions {
  /** Someone waits for this write before going on: commit on the next turn of the event loop. */
  urgent?: boolean;
  /** The operation only adds to the deferred work (nothing it reads depends on it landing first). */
  defersOnly?: boolean;
}

interface Item {
  op: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  defersOnly: boolean;
}

export class GroupCommit {
  private readonly db: DatabaseSync;
  private readonly deferred: Deferred;
  private readonly batch: Item[] = [];
  /** Prepared once: a commit is two steps, not two parses. */
  private readonly beginSt: StatementSync;
  private readonly commitSt: StatementSync;
  private readonly rollbackSt: StatementSync;
  /** busy_timeout is 0, as `begin` left it (see there); `waitForLocks` sets it back. */
  private busyZero = false;
  private immediate: NodeJS.Immediate | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Inside a transaction (a batch's, or one of `tx`). */
  inTx = false;

  constructor(db: DatabaseSync, deferred: Deferred) {
    this.db = db;
    this.deferred = deferred;
    this.beginSt = db.prepare('BEGIN IMMEDIATE');
    this.commitSt = db.prepare('COMMIT');
    this.rollbackSt = db.prepare('ROLLBACK');
  }

  /**
   * Gives statements outside a transaction SQLite's own wait for another process's lock again
   * (busy_timeout); the store calls it before each. Commit after commit, nothing else runs in
   * between on a busy gateway, so the pragma costs one statement per change of mode, not two per commit.
   */
  waitForLocks(): void {
    if (!this.busyZero) return;
    this.db.exec(`PRAGMA busy_timeout = ${BUSY_MS}`);
    this.busyZero = false;
  }

  /** Writes are waiting for their commit. */
  get pending(): boolean {
    return this.batch.length > 0;
  }

  write<T>(op: () => T, opts: WriteOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.batch.push({ op, resolve: resolve as (v: unknown) => void, reject, defersOnly: opts.defersOnly === true });
      if (opts.urgent !== false || this.batch.length >= MAX_BATCH) {
        this.immediate ??= setImmediate(this.flush);
      } else if (!this.timer && !this.immediate) {
        this.timer = setTimeout(this.flush, DEFER_MS);
      }
    });
  }

  /** Commits every waiting write now. */
  readonly flush = (): void => {
    if (this.immediate) clearImmediate(this.immediate);
    if (this.timer) clearTimeout(this.timer);
    this.immediate = undefined;
    this.timer = undefined;
    const items = this.batch.splice(0);
    if (items.length === 0) return;
    let results: unknown[];
    try {
      results = this.tx(() =>
        items.map((i) => {
          if (!i.defersOnly) this.deferred.land();
          return i.op();
        }),
      );
    } catch {
      for (const i of items) {
        try {
          i.resolve(this.tx(i.op));
        } catch (err) {
          i.reject(err);
        }
      }
      return;
    }
    items.forEach((i, n) => i.resolve(results[n]));
  };

  /** One transaction of its own, now. */
  tx<T>(fn: () => T): T {
    this.begin();
    this.inTx = true;
    try {
      const out = fn();
      this.deferred.land();
      this.commitSt.run();
      return out;
    } catch (err) {
      this.deferred.discard();
      // A failed COMMIT may have ended the transaction already.
      if (this.db.isTransaction) this.rollbackSt.run();
      throw err;
    } finally {
      this.inTx = false;
    }
  }

  /**
   * Takes the write lock, waiting for another process that holds it (several workers on one file:
   * src/cluster). Not through SQLite's busy handler: it sleeps 1, 2, 5, 10, 15, 20, 25… ms between
   * tries, on the event loop, and a process that keeps re-taking the lock in back-to-back commits
   * can make it miss for hundreds of milliseconds (measured: 5 waits of 300 ms in 4,000 commits with
   * two processes writing flat out). Here the lock is tried again after 25 µs, doubling to 1 ms, for
   * as long as busy_timeout allowed (10 s). busy_timeout stays 0 after the commit (inside a write
   * transaction in WAL mode nothing waits for a lock) until a statement outside one needs it back.
   */
  private begin(): void {
    if (!this.busyZero) {
      this.db.exec('PRAGMA busy_timeout = 0');
      this.busyZero = true;
    }
    const deadline = performance.now() + BUSY_MS;
    for (let waitMs = 0.025; ; waitMs = Math.min(waitMs * 2, 1)) {
      try {
        this.beginSt.run();
        return;
      } catch (err) {
        if (!/database is locked|SQLITE_BUSY/i.test((err as Error).message ?? '') || performance.now() > deadline) throw err;
        Atomics.wait(pause, 0, 0, waitMs);
      }
    }
  }
}

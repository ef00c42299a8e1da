/**
 * The SQLite store's connection: the file opened in WAL mode, its group commit (group-commit.ts)
 * with the work that waits for it (pending-charges.ts, pending-generations.ts), its WAL checkpoints
 * (checkpointer.ts), and what the domain modules run on: each SQL text prepared once, and the two
 * ways to write, group commit and a transaction of its own. `q`, `grouped` and `tx` are arrows:
 * the pending work, leases.ts and stored-responses.ts are handed them alone, and call them directly.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import { startCheckpointer } from './checkpointer.ts';
import type { Checkpointer } from './checkpointer.ts';
import { GroupCommit } from './group-commit.ts';
import type { WriteOptions } from './group-commit.ts';
import { whileBusy } from './migrate.ts';
import { PendingCharges } from './pending-charges.ts';
import { PendingGenerations } from './pending-generations.ts';

export class Connection {
  readonly db: DatabaseSync;
  readonly writes: GroupCommit;
  /** What settlements and generation records leave for the group commit to land before each commit. */
  readonly charges: PendingCharges;
  readonly generationRows: PendingGenerations;
  private readonly cache = new Map<string, StatementSync>();
  /** Checkpoints the WAL on a worker thread (see checkpointer.ts). */
  private readonly checkpointer: Checkpointer | undefined;

  /** `checkpoints`: see SqliteStore's constructor. */
  constructor(path: string, checkpoints: 'thread' | 'elsewhere' = 'thread') {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    // busy_timeout first: switching to WAL takes a lock that another process opening the file may hold.
    this.db.exec('PRAGMA busy_timeout = 10000');
    whileBusy(() => this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;'));
    this.charges = new PendingCharges(this.q);
    this.generationRows = new PendingGenerations(this.q);
    this.writes = new GroupCommit(this.db, {
      land: () => {
        this.generationRows.land();
        this.charges.land();
      },
      discard: () => {
        this.generationRows.discard();
        this.charges.discard();
      },
    });
    if (path !== ':memory:' && checkpoints === 'elsewhere') {
      // Ten times SQLite's default: reached only if the other process's checkpoints stop.
      this.db.exec('PRAGMA wal_autocheckpoint = 10000');
    } else if (path !== ':memory:') {
      const autocheckpoint = () => {
        if (this.db.isOpen) this.db.exec('PRAGMA wal_autocheckpoint = 1000');
      };
      this.checkpointer = startCheckpointer(path, autocheckpoint);
      if (this.checkpointer) this.db.exec('PRAGMA wal_autocheckpoint = 0');
    }
  }

  /**
   * Prepared once per SQL text. Outside a transaction, writes still waiting for their group
   * commit go first, so every read in this process sees them.
   */
  readonly q = (sql: string): StatementSync => {
    if (!this.writes.inTx) {
      if (this.writes.pending) this.writes.flush();
      this.writes.waitForLocks();
    }
    let st = this.cache.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      // Integers arrive as bigint: a stored value past 2^53 then reads (and is reported, see
      // rows.ts) instead of throwing and failing every read of its table.
      st.setReadBigInts(true);
      this.cache.set(sql, st);
    }
    return st;
  };

  /** A write under group commit (see group-commit.ts). */
  readonly grouped = <T>(op: () => T, opts?: WriteOptions): Promise<T> => this.writes.write(op, opts);

  readonly tx = <T>(fn: () => T): T => this.writes.tx(fn);

  async close(): Promise<void> {
    if (this.writes.pending && this.db.isOpen) this.writes.flush();
    await this.checkpointer?.stop();
    if (this.db.isOpen) this.db.close();
  }
}

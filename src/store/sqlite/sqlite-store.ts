/**
 * The embedded store: one SQLite file through node:sqlite (no native addon), WAL journal. Every
 * money operation runs in a `BEGIN IMMEDIATE` transaction, which takes the write lock before the
 * first read, so a check and its update can never interleave with another writer (even another
 * process on the same file). The file, its group commit and statement cache are connection.ts's;
 * each domain is a module of its own (accounts.ts, keys.ts, money.ts, ledger.ts, leases.ts,
 * generations.ts, logged-content.ts, counters.ts, alerts.ts, stored-responses.ts), to which the
 * Store methods go (composed-store.ts).
 */
import type { DatabaseSync } from 'node:sqlite';
import { ComposedStore } from '../composed-store.ts';
import type { Store } from '../store.ts';
import { Accounts } from './accounts.ts';
import { Alerts } from './alerts.ts';
import { Connection } from './connection.ts';
import { Counters } from './counters.ts';
import { Generations } from './generations.ts';
import { Keys } from './keys.ts';
import { Leases } from './leases.ts';
import { Ledger } from './ledger.ts';
import { LoggedContent } from './logged-content.ts';
import { migrate } from './migrate.ts';
import { Money } from './money.ts';
import { OwnerLocks } from './owner-locks.ts';
import { StoredResponses } from './stored-responses.ts';

/** `./data/freeway.db`, `/abs/path.db` or `file:relative/or/absolute.db`. */
export function sqlitePathFromUrl(url: string): string {
  if (url.startsWith('file://')) return new URL(url).pathname;
  if (url.startsWith('file:')) return url.slice('file:'.length);
  return url;
}

export class SqliteStore extends ComposedStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly conn: Connection;
  /** The connection's database, kept here as tests reach it. */
  private readonly db: DatabaseSync;
  /** Which processes sharing the file are alive (see owner-locks.ts); none for an in-memory database. */
  private readonly owners: OwnerLocks | undefined;

  /**
   * `checkpoints`: 'thread' (the default) checkpoints the WAL on a worker thread of this process;
   * 'elsewhere' leaves it to another process that shares the file (the primary of several
   * workers, see checkpointer.ts), with SQLite's own automatic checkpoint kept only as a backstop
   * should that process stop doing it.
   */
  constructor(path: string, opts: { checkpoints?: 'thread' | 'elsewhere' } = {}) {
    const conn = new Connection(path, opts.checkpoints);
    const money = new Money(conn);
    super({
      accounts: new Accounts(conn),
      keys: new Keys(conn),
      money,
      // A reclaim is made of the money's own steps, so it stays one ledger.
      leases: new Leases({
        q: conn.q,
        grouped: conn.grouped,
        tx: conn.tx,
        drop: (id) => money.drop(id),
        charge: (accountId, keyHash, nanos, now) => conn.charges.add(accountId, keyHash, nanos, now),
        addGeneration: (g) => conn.generationRows.add(g),
      }),
      ledgerReads: new Ledger(conn),
      generations: new Generations(conn),
      content: new LoggedContent(conn),
      counters: new Counters(conn),
      alerts: new Alerts(conn),
      responses: new StoredResponses(conn.q),
    });
    this.conn = conn;
    this.db = conn.db;
    this.owners = path === ':memory:' ? undefined : new OwnerLocks(path);
  }

  migrate(): Promise<void> {
    return migrate(this.conn);
  }

  close(): Promise<void> {
    return this.conn.close();
  }

  holdOwner(owner: string): void {
    this.owners?.hold(owner);
  }

  ownerAlive(owner: string): boolean | undefined {
    return this.owners?.alive(owner);
  }

  dropOwner(owner: string): void {
    this.owners?.drop(owner);
  }
}

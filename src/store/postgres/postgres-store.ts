/**
 * The server store: PostgreSQL through `pg`, same schema and migrations as SQLite. Its connections
 * and the guard every statement runs under are guarded-pool.ts's; each domain is a module of its
 * own (accounts.ts, keys.ts, money.ts, ledger.ts, leases.ts, generations.ts, logged-content.ts,
 * counters.ts, alerts.ts, stored-responses.ts), to which the Store methods go (composed-store.ts).
 * Every money operation is one READ COMMITTED transaction that locks rows in one order (money.ts);
 * a transaction that still fails with a serialization failure or a deadlock is retried a few times
 * (connection.ts). A money operation is one transaction, so a cut in the middle leaves nothing half
 * written; PostgreSQL going away is a 503 until it is back, with no restart (guarded-pool.ts).
 *
 * `?schema=NAME` in the URL (stripped before pg sees it) puts every table in that schema: it is
 * created on migrate and set as the `search_path` of every connection.
 */
import type { DependencyState } from '../../infra/outage.ts';
import { ComposedStore } from '../composed-store.ts';
import type { Store } from '../store.ts';
import { Accounts } from './accounts.ts';
import { Alerts } from './alerts.ts';
import { Counters } from './counters.ts';
import { Generations } from './generations.ts';
import { GuardedPool } from './guarded-pool.ts';
import type { PostgresStoreOptions } from './guarded-pool.ts';
import { Keys } from './keys.ts';
import { Leases } from './leases.ts';
import { Ledger } from './ledger.ts';
import { LoggedContent } from './logged-content.ts';
import { migrate } from './migrate.ts';
import { Money } from './money.ts';
import { StoredResponses } from './stored-responses.ts';

export { parsePostgresUrl } from './connection.ts';
export type { PostgresStoreOptions } from './guarded-pool.ts';

export class PostgresStore extends ComposedStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly db: GuardedPool;
  /** The money module, whose hold and settlement groups close waits for. */
  private readonly moneyGroups: Money;
  private closed = false;

  constructor(url: string, opts: PostgresStoreOptions = {}) {
    const db = new GuardedPool(url, opts);
    const money = new Money(db);
    const generations = new Generations(db);
    super({
      accounts: new Accounts(db),
      keys: new Keys(db),
      money,
      // A reclaim is made of the money's own steps, so it takes its locks in the one order.
      leases: new Leases({
        q: db.q,
        tx: db.tx,
        drop: (cl, id) => money.drop(cl, id),
        spend: (cl, key, accountId, charge, now) => money.spend(cl, key, accountId, charge, now),
        insertGeneration: (cl, g) => generations.insert(cl, g),
      }),
      ledgerReads: new Ledger(db),
      generations,
      content: new LoggedContent(db),
      counters: new Counters(db),
      alerts: new Alerts(db),
      responses: new StoredResponses(db.q),
    });
    this.db = db;
    this.moneyGroups = money;
  }

  /** The store's state for /health: a `SELECT 1` bounded by `timeoutMs`, and the outage state. */
  ping(timeoutMs: number): Promise<DependencyState> {
    return this.db.ping(timeoutMs);
  }

  /** On a pool of its own (migrate.ts): migrations may run longer than a request's statement timeout. */
  migrate(): Promise<void> {
    return migrate(this.db.connection, this.db.schema);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.moneyGroups.drained();
    await this.db.end();
  }
}

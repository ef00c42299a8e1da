/**
 * The PostgreSQL store's connections: one pool, and the guard every statement and transaction runs
 * under. Waiting for a connection is bounded (`connectTimeoutMs`), every statement too
 * (`queryTimeoutMs`, on the server and, for a server that has gone silent, on the client), and an
 * error that means the server is unreachable becomes a 503 `service_unavailable` in the error
 * envelope. The pool drops broken connections and opens new ones: recovery needs no restart.
 * One ERROR line when the store goes down, one INFO line when a statement succeeds again.
 */
import pg from 'pg';
import type { QueryResultRow } from 'pg';
import { Outage } from '../../infra/outage.ts';
import type { DependencyState } from '../../infra/outage.ts';
import type { Logger } from '../../log.ts';
import { GatewayError } from '../../spec/errors.ts';
import type { Row } from '../rows.ts';
import { isUnavailable, parsePostgresUrl, transaction } from './connection.ts';
import type { Param, Queries } from './connection.ts';
import type { MoneyQueries } from './money.ts';

export interface PostgresStoreOptions {
  /** Longest wait for a connection, new or from the pool. Default 5 s. */
  connectTimeoutMs?: number;
  /** Longest a statement may run. Default 30 s. */
  queryTimeoutMs?: number;
  /** Where the outage's ERROR and recovery's INFO lines go. */
  log?: Logger;
}

/** Margin of the client-side timeout over the server's statement_timeout: the server's clean cancel comes first. */
const CLIENT_TIMEOUT_MARGIN_MS = 1_000;

/** `q`, `tx` and `batched` are arrows: leases.ts and stored-responses.ts are handed them alone, and call them directly. */
export class GuardedPool implements Queries, MoneyQueries {
  /** The pool's settings without its timeouts, for migrations' own pool (migrate.ts). */
  readonly connection: pg.PoolConfig;
  readonly schema: string | undefined;
  private readonly pool: pg.Pool;
  private readonly outage: Outage;
  private readonly connectTimeoutMs: number;

  constructor(url: string, opts: PostgresStoreOptions = {}) {
    const { connectionString, schema } = parsePostgresUrl(url);
    this.schema = schema;
    const queryTimeoutMs = opts.queryTimeoutMs ?? 30_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
    this.connection = {
      connectionString,
      connectionTimeoutMillis: this.connectTimeoutMs,
      // Dead peers are noticed by the OS instead of holding a pooled connection for ever.
      keepAlive: true,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    };
    this.pool = new pg.Pool({
      ...this.connection,
      max: 10,
      statement_timeout: queryTimeoutMs,
      query_timeout: queryTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on('error', (err) => {
      if (isUnavailable(err)) this.outage.markDown(err);
    });
    this.outage = new Outage(
      {
        down: (reason) => `PostgreSQL is unreachable (${reason}): requests that need the database answer 503 until it is back`,
        up: (ms) => `PostgreSQL is reachable again after ${(ms / 1000).toFixed(1)} s`,
      },
      opts.log,
    );
  }

  /** Runs one store operation: a lost database becomes a 503, and the outage is tracked. */
  private async guarded<T>(op: () => Promise<T>): Promise<T> {
    const startedAt = Date.now();
    try {
      const out = await op();
      if (this.outage.isDown) this.outage.markUp(startedAt);
      return out;
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      // Every pooled connection busy for the whole wait is load, not an outage: a 503 all the same.
      const busy = /timeout exceeded when trying to connect/.test((err as Error).message);
      if (!busy) this.outage.markDown(err);
      const message = busy
        ? `The database is busy (no free connection within ${this.connectTimeoutMs} ms); try again shortly.`
        : 'The database is unavailable; try again shortly.';
      throw new GatewayError('service_unavailable', message, {
        cause: err,
        retryable: false,
        retryAfter: 1,
        metadata: { dependency: 'database' },
      });
    }
  }

  readonly q: Queries['q'] = async (sql, params = [], client) => {
    // Inside a transaction the transaction's own guard sees the failure.
    if (client) return client.query<Row & QueryResultRow>(sql, params as Param[]);
    return this.guarded(() => this.pool.query<Row & QueryResultRow>(sql, params as Param[]));
  };

  /** Runs `fn` in a transaction on one connection, retrying on serialization failure / deadlock. */
  readonly tx: Queries['tx'] = (fn) => this.guarded(() => transaction(this.pool, fn));

  /** A transaction whose `fn` sends BEGIN and COMMIT itself (the hold and settlement groups, pg-batch.ts). */
  readonly batched: MoneyQueries['batched'] = (fn) => this.guarded(() => transaction(this.pool, fn, { batched: true }));

  /** The store's state for /health: a `SELECT 1` bounded by `timeoutMs`, and the outage state. */
  async ping(timeoutMs: number): Promise<DependencyState> {
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.q('SELECT 1'), slow]);
      return this.outage.state();
    } catch (err) {
      const state = this.outage.state();
      // Slow but not (yet) known to be down: say so without declaring an outage.
      return state.status === 'down' ? state : { status: 'down', since: new Date().toISOString(), reason: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

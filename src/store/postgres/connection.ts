/**
 * The PostgreSQL connection's side of the store: the database URL (with an optional `?schema=`)
 * and transactions that are run again when PostgreSQL reports a serialization failure or deadlock.
 */
import type pg from 'pg';
import type { PoolClient, QueryResult, QueryResultRow } from 'pg';
import type { Row } from '../rows.ts';

export type Param = string | number | null;

/**
 * What the store's domain modules run their statements through: `q` with a client runs on that
 * transaction's connection, without one on the pool, guarded (a lost database becomes a 503 and
 * counts toward the outage); `tx` is one guarded transaction, retried on serialization failure.
 */
export interface Queries {
  readonly q: (sql: string, params?: readonly Param[], client?: PoolClient) => Promise<QueryResult<Row & QueryResultRow>>;
  readonly tx: <T>(fn: (c: PoolClient) => Promise<T>) => Promise<T>;
}

/** Distinct values, sorted: the order in which rows of one table are locked, so that no two transactions deadlock. */
export const lockOrder = (values: readonly string[]): string[] => [...new Set(values)].sort();

/** Serialization failure and deadlock: the transaction is safe to run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 5;

/** Splits `?schema=NAME` off a PostgreSQL URL. */
export function parsePostgresUrl(url: string): { connectionString: string; schema: string | undefined } {
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? undefined;
  if (schema === undefined) return { connectionString: url, schema };
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name in database URL: ${schema}`);
  u.searchParams.delete('schema');
  return { connectionString: u.toString(), schema };
}

function sqlState(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** Network errors of the socket to PostgreSQL. */
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
]);
/** SQLSTATEs meaning the server cannot serve now: connection exceptions (class 08), shutdown, starting up, too many connections. */
const SERVER_UNAVAILABLE = /^(08|57P0[1-3]|53300)/;
/** What pg itself says when the connection is lost or never came (it sets no code on these). */
const DRIVER_LOST =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Connection terminated due to connection timeout|connection timeout/i;

/**
 * Whether an error means PostgreSQL is unreachable or not serving (rather than a fault in what
 * was asked): the request then gets a 503 and the store is shown down.
 */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = sqlState(err);
  if (code !== undefined && (NETWORK.has(code) || SERVER_UNAVAILABLE.test(code))) return true;
  if (err instanceof AggregateError) return err.errors.some(isUnavailable);
  return DRIVER_LOST.test(err.message);
}

/**
 * Runs `fn` in a transaction on one connection, retrying on serialization failure / deadlock.
 * `batched`: `fn` sends BEGIN and COMMIT itself, with its first and last statements (see
 * pg-batch.ts), so they cost no round trip of their own; a failure is still rolled back here.
 */
export async function transaction<T>(pool: pg.Pool, fn: (c: PoolClient) => Promise<T>, opts: { batched?: boolean } = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken: Error | undefined;
    // The pool listens for errors of idle connections only: one lost while this transaction holds
    // it would otherwise be an uncaught exception (a crash). The failing query rejects anyway.
    const onLost = (err: Error) => {
      broken ??= err;
    };
    client.on('error', onLost);
    try {
      if (!opts.batched) await client.query('BEGIN');
      const out = await fn(client);
      if (!opts.batched) await client.query('COMMIT');
      return out;
    } catch (err) {
      if (isUnavailable(err)) {
        // The connection is gone or stuck: the server rolls the transaction back when it drops the
        // session, so asking for a ROLLBACK would only wait out another timeout.
        broken = err as Error;
        throw err;
      }
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error;
      }
      if (!broken && attempt < MAX_ATTEMPTS && RETRYABLE.has(sqlState(err) ?? '')) {
        await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
        continue;
      }
      throw err;
    } finally {
      // A connection whose ROLLBACK failed is in an unknown state: destroy it rather than reuse it.
      // A broken connection is destroyed and may still report its socket's end: keep listening then.
      if (!broken) client.off('error', onLost);
      client.release(broken ?? false);
    }
  }
}

/**
 * The server store: PostgreSQL through `pg`, same schema and migrations as SQLite. Every money
 * operation is one READ COMMITTED transaction that takes row locks (`SELECT ... FOR UPDATE`) before
 * it reads what it checks, always in one order — key rows, then account rows — so concurrent
 * requests from any number of connections and processes serialize on the rows they touch and never
 * deadlock one another. A transaction that still fails with a serialization failure or a deadlock
 * is retried a few times.
 *
 * `?schema=NAME` in the URL (stripped before pg sees it) puts every table in that schema: it is
 * created on migrate and set as the `search_path` of every connection.
 *
 * PostgreSQL going away: waiting for a connection is bounded (`connectTimeoutMs`), every statement
 * too (`queryTimeoutMs`, on the server and, for a server that has gone silent, on the client), and
 * an error that means the server is unreachable becomes a 503 `service_unavailable` in the error
 * envelope. A money operation is one transaction, so one cut in the middle leaves nothing half
 * written. The pool drops broken connections and opens new ones: recovery needs no restart.
 * One ERROR line when the store goes down, one INFO line when a statement succeeds again.
 */
import pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import { rolledPeriodStart } from '../../accounting/periods.ts';
import { isUnavailable, parsePostgresUrl, transaction } from './connection.ts';
import { GroupQueue } from './group-queue.ts';
import { Leases } from './leases.ts';
import { reserveGroup } from './hold-batches.ts';
import { settleGroup } from './settle-batches.ts';
import { StoredResponses } from './stored-responses.ts';
import { Outage } from '../../infra/outage.ts';
import type { DependencyState } from '../../infra/outage.ts';
import type { Logger } from '../../log.ts';
import { GatewayError, isOutage } from '../../spec/errors.ts';
import type { Param } from './connection.ts';
import { assertCreditAmount, assertCreditFits } from '../../spec/money-bounds.ts';
import { postgresBoundStatements } from '../bounded-columns.ts';
import { activitySql, listGenerationsSql } from '../generation-queries.ts';
import { ledgerPageSql } from '../ledger-queries.ts';
import { MIGRATIONS } from '../migrations.ts';
import {
  accountFromRow,
  DROPPED_HOLD,
  KEY_PATCH_COLUMNS,
  alertFromRow,
  generationFromRow,
  activityFromRow,
  contentFromRow,
  contentParams,
  FIND_KEY_SQL,
  INSERT_CONTENT_SQL,
  keyFromRow,
  ledgerFromRow,
  usageFromRow,
  usageSql,
} from '../rows.ts';
import { GENERATION_COLUMNS, insertGenerationsSql, generationParams } from '../row-writes.ts';
import type { Row } from '../rows.ts';
import type {
  Account,
  AlertRecord,
  ApiKeyRecord,
  CounterResult,
  CounterWindow,
  CreditRequest,
  GenerationRecord,
  GenerationQuery,
  GenerationContent,
  ActivityQuery,
  ActivityRow,
  HoldCheckpoint,
  KeyKind,
  KeyPatch,
  LedgerEntry,
  LedgerPage,
  ProcessLease,
  ReserveRequest,
  ReserveResult,
  SettleRequest,
  Store,
  StoredResponse,
  UsageQuery,
  UsageRow,
} from '../types.ts';

export { parsePostgresUrl } from './connection.ts';

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

/** Key of the advisory lock that serializes migrations across processes ("Free" in ASCII). */
const MIGRATION_LOCK = 0x46726565;

/** Distinct values, sorted: the order in which rows of one table are locked. */
const lockOrder = (values: readonly string[]): string[] => [...new Set(values)].sort();

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly connection: pg.PoolConfig;
  private readonly schema: string | undefined;
  private readonly outage: Outage;
  private readonly connectTimeoutMs: number;
  private readonly holds = new GroupQueue<ReserveRequest, ReserveResult>(
    (group) => this.guarded(() => transaction(this.pool, (cl) => reserveGroup(cl, group), { batched: true })),
    isOutage,
  );
  private readonly settles = new GroupQueue<SettleRequest, boolean>(
    (group) => this.guarded(() => transaction(this.pool, (cl) => settleGroup(cl, group), { batched: true })),
    isOutage,
  );
  private readonly leases = new Leases({
    q: (sql, params, client) => this.q(sql, params, client),
    tx: (fn) => this.tx(fn),
    drop: (cl, id) => this.drop(cl, id),
    spend: (cl, key, accountId, charge, now) => this.spend(cl, key, accountId, charge, now),
    insertGeneration: (cl, g) => this.q(this.insertGenerationSql, generationParams(g), cl),
  });
  private readonly responses = new StoredResponses((sql, params) => this.q(sql, params));
  private closed = false;

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

  private async q(sql: string, params: readonly Param[] = [], client?: PoolClient): Promise<pg.QueryResult<Row & QueryResultRow>> {
    // Inside a transaction the transaction's own guard sees the failure.
    if (client) return client.query<Row & QueryResultRow>(sql, params as Param[]);
    return this.guarded(() => this.pool.query<Row & QueryResultRow>(sql, params as Param[]));
  }

  /** Runs `fn` in a transaction on one connection, retrying on serialization failure / deadlock. */
  private tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    return this.guarded(() => transaction(this.pool, fn));
  }

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

  async migrate(): Promise<void> {
    // Migrations may run longer than a request's statement timeout: their own pool, without one.
    const pool = new pg.Pool({ ...this.connection, max: 1 });
    pool.on('error', () => {});
    try {
      await this.migrateOn(pool);
    } finally {
      await pool.end();
    }
  }

  private async migrateOn(pool: pg.Pool): Promise<void> {
    await transaction(pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      if (this.schema) await c.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await c.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
    });
    for (const m of MIGRATIONS) {
      await transaction(pool, async (c) => {
        // Checked under the lock: two processes starting together apply each migration once.
        await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        const done = await c.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
        if (done.rowCount) return;
        for (const sql of m.sql) await c.query(sql);
        for (const sql of m.bounded ? postgresBoundStatements(m.bounded) : []) await c.query(sql);
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          new Date().toISOString(),
        ]);
      });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.holds.drained(), this.settles.drained()]);
    await this.pool.end();
  }

  // ---- accounts ----

  async createAccount(a: { id: string; name: string; prepaid: boolean; now: Date }): Promise<Account> {
    await this.q('INSERT INTO accounts (id, name, prepaid, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING', [
      a.id,
      a.name,
      a.prepaid ? 1 : 0,
      a.now.toISOString(),
    ]);
    return (await this.getAccount(a.id))!;
  }

  async getAccount(id: string): Promise<Account | undefined> {
    const row = (await this.q('SELECT * FROM accounts WHERE id = $1', [id])).rows[0];
    return row ? accountFromRow(row) : undefined;
  }

  async setAccountLogContent(id: string, on: boolean): Promise<boolean> {
    return ((await this.q('UPDATE accounts SET log_content = $1 WHERE id = $2', [on ? 1 : 0, id])).rowCount ?? 0) > 0;
  }

  async listAccounts(): Promise<Account[]> {
    return (await this.q('SELECT * FROM accounts ORDER BY created_at COLLATE "C", id COLLATE "C"')).rows.map(accountFromRow);
  }

  // ---- keys ----

  async createKey(k: ApiKeyRecord): Promise<void> {
    await this.q(
      `INSERT INTO api_keys (hash, name, label, kind, account_id, limit_nanos, limit_reset, usage_nanos, usage_total_nanos,
        period_start, reserved_nanos, disabled, expires_at, created_at, updated_at, requests_per_minute, tokens_per_minute)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, $8, 0, $9, $10, $11, $12, $13, $14)`,
      [
        k.hash,
        k.name,
        k.label,
        k.kind,
        k.accountId,
        k.limitNanos,
        k.limitReset,
        k.periodStart,
        k.disabled ? 1 : 0,
        k.expiresAt,
        k.createdAt,
        k.updatedAt,
        k.requestsPerMinute,
        k.tokensPerMinute,
      ],
    );
  }

  async findKey(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = (await this.q(FIND_KEY_SQL('$1'), [hash])).rows[0];
    return row ? keyFromRow(row) : undefined;
  }

  async listKeys(f: { accountId?: string; kind?: KeyKind; offset?: number; limit?: number }): Promise<ApiKeyRecord[]> {
    const where: string[] = [];
    const params: Param[] = [];
    if (f.accountId !== undefined) {
      params.push(f.accountId);
      where.push(`account_id = $${params.length}`);
    }
    if (f.kind !== undefined) {
      params.push(f.kind);
      where.push(`kind = $${params.length}`);
    }
    params.push(f.limit ?? 1000, f.offset ?? 0);
    const sql =
      `SELECT * FROM api_keys${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ` +
      `ORDER BY created_at COLLATE "C", hash COLLATE "C" LIMIT $${params.length - 1} OFFSET $${params.length}`;
    return (await this.q(sql, params)).rows.map(keyFromRow);
  }

  async updateKey(hash: string, patch: KeyPatch, now: Date): Promise<ApiKeyRecord | undefined> {
    const sets: string[] = [];
    const params: Param[] = [];
    for (const [k, col] of Object.entries(KEY_PATCH_COLUMNS) as Array<[keyof KeyPatch, string]>) {
      if (!(k in patch)) continue;
      const v = patch[k];
      params.push(typeof v === 'boolean' ? (v ? 1 : 0) : (v ?? null));
      sets.push(`${col} = $${params.length}`);
    }
    if (sets.length > 0) {
      params.push(now.toISOString());
      sets.push(`updated_at = $${params.length}`);
      params.push(hash);
      await this.q(`UPDATE api_keys SET ${sets.join(', ')} WHERE hash = $${params.length}`, params);
    }
    return this.findKey(hash);
  }

  async deleteKey(hash: string): Promise<boolean> {
    return this.tx(async (cl) => {
      await this.q('DELETE FROM alerts WHERE key_hash = $1', [hash], cl);
      return ((await this.q('DELETE FROM api_keys WHERE hash = $1', [hash], cl)).rowCount ?? 0) > 0;
    });
  }

  async countKeys(kind?: KeyKind): Promise<number> {
    const res = kind
      ? await this.q('SELECT COUNT(*) AS n FROM api_keys WHERE kind = $1', [kind])
      : await this.q('SELECT COUNT(*) AS n FROM api_keys');
    return Number(res.rows[0].n);
  }

  // ---- money ----

  async credit(c: CreditRequest): Promise<boolean> {
    assertCreditAmount(c.amountNanos);
    return this.tx(async (cl) => {
      // A concurrent credit with the same id waits here on the unique index, then inserts nothing.
      const inserted = await this.q(
        `INSERT INTO ledger (id, account_id, key_hash, kind, amount_nanos, note, created_at)
         VALUES ($1, $2, NULL, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
        [c.id, c.accountId, c.kind, c.amountNanos, c.note ?? null, c.now.toISOString()],
        cl,
      );
      if (!inserted.rowCount) return false;
      const purchased = c.kind === 'topup' ? c.amountNanos : 0;
      // With the account row locked: a credit past the bound is refused whole (the ledger row rolls back).
      const now = (await this.q('SELECT balance_nanos, purchased_nanos FROM accounts WHERE id = $1 FOR UPDATE', [c.accountId], cl)).rows[0];
      if (now) assertCreditFits(c.accountId, now.balance_nanos, now.purchased_nanos, c.amountNanos, c.kind === 'topup');
      const updated = await this.q(
        'UPDATE accounts SET balance_nanos = balance_nanos + $1, purchased_nanos = purchased_nanos + $2 WHERE id = $3',
        [c.amountNanos, purchased, c.accountId],
        cl,
      );
      if (!updated.rowCount) throw new Error(`no account ${c.accountId}`);
      return true;
    });
  }

  /** Locks key rows, then account rows, each in sorted order; returns the key rows found. */
  private async lockRows(cl: PoolClient, keyHashes: readonly string[], accountIds: readonly string[]): Promise<Map<string, ApiKeyRecord>> {
    const keys = new Map<string, ApiKeyRecord>();
    for (const hash of lockOrder(keyHashes)) {
      const row = (await this.q('SELECT * FROM api_keys WHERE hash = $1 FOR UPDATE', [hash], cl)).rows[0];
      if (row) keys.set(hash, keyFromRow(row));
    }
    for (const id of lockOrder(accountIds)) await this.q('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [id], cl);
    return keys;
  }

  /** Resets the key's period usage when its limit period has rolled over; returns the current usage. */
  private async rollPeriod(cl: PoolClient, key: ApiKeyRecord, now: Date): Promise<number> {
    const start = rolledPeriodStart(key.limitReset, key.periodStart, now);
    if (start === undefined) return key.usageNanos;
    await this.q('UPDATE api_keys SET usage_nanos = 0, period_start = $1 WHERE hash = $2', [start, key.hash], cl);
    return 0;
  }

  /**
   * Committed with the other holds of the moment, in one round trip (hold-batches.ts): the key's
   * limit against its usage and holds, then a prepaid account's balance against its holds, each
   * hold seeing the ones before it.
   */
  async reserve(r: ReserveRequest): Promise<ReserveResult> {
    return this.holds.add(r);
  }

  /**
   * Deletes a reservation (which locks it: a concurrent settle/release of the same id waits, then
   * finds nothing), locks its key and account plus `also`'s, in the one lock order, and gives the
   * amount back. Returns the locked key rows and whether there was a reservation.
   */
  private async drop(
    cl: PoolClient,
    id: string,
    also?: { keyHash: string; accountId: string },
  ): Promise<{ dropped: boolean; keys: Map<string, ApiKeyRecord>; row?: Row }> {
    const row = (await this.q(`DELETE FROM reservations WHERE id = $1 RETURNING ${DROPPED_HOLD}`, [id], cl)).rows[0];
    const keyHashes = [...(row ? [String(row.key_hash)] : []), ...(also ? [also.keyHash] : [])];
    const accountIds = [...(row ? [String(row.account_id)] : []), ...(also ? [also.accountId] : [])];
    const keys = await this.lockRows(cl, keyHashes, accountIds);
    if (!row) return { dropped: false, keys };
    const amount = Number(row.amount_nanos);
    await this.q('UPDATE api_keys SET reserved_nanos = reserved_nanos - $1 WHERE hash = $2', [amount, String(row.key_hash)], cl);
    await this.q('UPDATE accounts SET reserved_nanos = reserved_nanos - $1 WHERE id = $2', [amount, String(row.account_id)], cl);
    // The key row read under the lock no longer shows the reservation it just gave back.
    const key = keys.get(String(row.key_hash));
    if (key) keys.set(key.hash, { ...key, reservedNanos: key.reservedNanos - amount });
    return { dropped: true, keys, row };
  }

  /**
   * Committed with the other settlements of the moment, in one round trip (settle-batches.ts):
   * what `drop` then `spend` do, for each, under locks taken in the one order.
   */
  async settle(s: SettleRequest): Promise<boolean> {
    return this.settles.add(s);
  }

  /** Takes a charge from the account's balance and adds it to the key's usage (rows locked by the caller). */
  private async spend(cl: PoolClient, key: ApiKeyRecord | undefined, accountId: string, charge: number, now: Date): Promise<void> {
    if (charge === 0) return;
    await this.q('UPDATE accounts SET balance_nanos = balance_nanos - $1 WHERE id = $2', [charge, accountId], cl);
    if (key) {
      await this.rollPeriod(cl, key, now);
      await this.q(
        'UPDATE api_keys SET usage_nanos = usage_nanos + $1, usage_total_nanos = usage_total_nanos + $2 WHERE hash = $3',
        [charge, charge, key.hash],
        cl,
      );
    }
  }

  async release(reservationId: string): Promise<boolean> {
    return this.tx(async (cl) => (await this.drop(cl, reservationId)).dropped);
  }

  async releaseExpired(now: Date): Promise<number> {
    const ids = (await this.q('SELECT id FROM reservations WHERE expires_at < $1', [now.toISOString()])).rows.map((r) => String(r.id));
    let released = 0;
    for (const id of ids) if (await this.release(id)) released++;
    return released;
  }

  // ---- process leases and crashed streams ----

  renewLease(l: ProcessLease): Promise<void> {
    return this.leases.renewLease(l);
  }

  endLease(owner: string, expiredBefore?: Date): Promise<void> {
    return this.leases.endLease(owner, expiredBefore);
  }

  listLeases(): Promise<ProcessLease[]> {
    return this.leases.listLeases();
  }

  orphanOwners(): Promise<string[]> {
    return this.leases.orphanOwners();
  }

  checkpointHolds(cs: readonly HoldCheckpoint[]): Promise<void> {
    return this.leases.checkpointHolds(cs);
  }

  reclaimHolds(owners: readonly string[], now: Date): Promise<{ released: number; charged: number }> {
    return this.leases.reclaimHolds(owners, now);
  }

  // ---- ledger ----

  async ledger(accountId: string, limit = 100, page: LedgerPage = {}): Promise<LedgerEntry[]> {
    const { sql, params } = ledgerPageSql(accountId, limit, page, (i) => `$${i}`, ' COLLATE "C"');
    return (await this.q(sql, params)).rows.map(ledgerFromRow);
  }

  async ledgerSum(accountId: string): Promise<number> {
    return Number((await this.q('SELECT COALESCE(SUM(amount_nanos), 0) AS s FROM ledger WHERE account_id = $1', [accountId])).rows[0].s);
  }

  async ledgerTotals(accountId: string): Promise<{ credits: number; charges: number }> {
    const row = (
      await this.q(
        `SELECT COALESCE(SUM(CASE WHEN kind = 'charge' THEN 0 ELSE amount_nanos END), 0) AS credits,
                COALESCE(SUM(CASE WHEN kind = 'charge' THEN -amount_nanos ELSE 0 END), 0) AS charges
         FROM ledger WHERE account_id = $1`,
        [accountId],
      )
    ).rows[0];
    return { credits: Number(row.credits), charges: Number(row.charges) };
  }

  async openReservations(accountId?: string): Promise<number> {
    const res = accountId
      ? await this.q('SELECT COUNT(*) AS n FROM reservations WHERE account_id = $1', [accountId])
      : await this.q('SELECT COUNT(*) AS n FROM reservations');
    return Number(res.rows[0].n);
  }

  // ---- generations and usage ----

  private readonly insertGenerationSql = insertGenerationsSql([`(${GENERATION_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`]);

  async insertGenerations(recs: readonly GenerationRecord[]): Promise<void> {
    if (recs.length === 0) return;
    await this.tx(async (cl) => {
      for (const g of recs) await this.q(this.insertGenerationSql, generationParams(g), cl);
    });
  }

  async getGeneration(id: string): Promise<GenerationRecord | undefined> {
    const row = (await this.q('SELECT * FROM generations WHERE id = $1', [id])).rows[0];
    return row ? generationFromRow(row) : undefined;
  }

  async usage(q: UsageQuery): Promise<UsageRow[]> {
    const sql = usageSql(q.groupBy, (i) => `$${i}`, q.keyHash !== undefined, q.from !== undefined, q.to !== undefined);
    const params: Param[] = [q.accountId];
    if (q.keyHash !== undefined) params.push(q.keyHash);
    if (q.from !== undefined) params.push(q.from);
    if (q.to !== undefined) params.push(q.to);
    return (await this.q(sql, params)).rows.map(usageFromRow);
  }

  async listGenerations(q: GenerationQuery): Promise<GenerationRecord[]> {
    const { sql, params } = listGenerationsSql(q, (i) => `$${i}`);
    return (await this.q(sql, params)).rows.map(generationFromRow);
  }

  async activity(q: ActivityQuery): Promise<ActivityRow[]> {
    const { sql, params } = activitySql(q, (i) => `$${i}`);
    return (await this.q(sql, params)).rows.map(activityFromRow);
  }

  async saveContent(cs: readonly GenerationContent[]): Promise<void> {
    if (cs.length === 0) return;
    await this.tx(async (cl) => {
      for (const c of cs)
        await this.q(
          INSERT_CONTENT_SQL((i) => `$${i}`),
          contentParams(c),
          cl,
        );
    });
  }

  async getContent(id: string): Promise<GenerationContent | undefined> {
    const row = (await this.q('SELECT * FROM generation_content WHERE id = $1', [id])).rows[0];
    return row ? contentFromRow(row) : undefined;
  }

  async purgeContent(before: string): Promise<number> {
    return (await this.q('DELETE FROM generation_content WHERE created_at < $1', [before])).rowCount ?? 0;
  }

  // ---- counters ----

  async hitCounters(key: string, windows: readonly CounterWindow[]): Promise<CounterResult> {
    if (windows.length === 0) return { ok: true, counts: [] };
    return this.tx(async (cl): Promise<CounterResult> => {
      const names = lockOrder(windows.map((w) => w.name));
      // Make sure every row exists (a fresh row at count 0 counts the same as no row), then lock
      // them all in name order, so concurrent hits on one key queue up instead of racing.
      for (const name of names) {
        await this.q(
          'INSERT INTO counters (counter_key, name, window_start, count) VALUES ($1, $2, 0, 0) ON CONFLICT (counter_key, name) DO NOTHING',
          [key, name],
          cl,
        );
      }
      const current = new Map<string, { windowStart: number; count: number }>();
      for (const name of names) {
        const row = (
          await this.q('SELECT window_start, count FROM counters WHERE counter_key = $1 AND name = $2 FOR UPDATE', [key, name], cl)
        ).rows[0];
        current.set(name, { windowStart: Number(row.window_start), count: Number(row.count) });
      }
      const counts: number[] = [];
      for (const w of windows) {
        const row = current.get(w.name)!;
        const count = row.windowStart >= w.startMs ? row.count : 0;
        if (count >= w.limit) return { ok: false, window: w.name, count };
        counts.push(count + 1);
      }
      for (const [i, w] of windows.entries()) {
        await this.q(
          'UPDATE counters SET window_start = $1, count = $2 WHERE counter_key = $3 AND name = $4',
          [w.startMs, counts[i], key, w.name],
          cl,
        );
      }
      return { ok: true, counts };
    });
  }

  // ---- alerts ----

  async createAlert(a: AlertRecord): Promise<void> {
    await this.q(
      `INSERT INTO alerts (id, account_id, key_hash, threshold_kind, threshold_value, webhook_url, fired_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [a.id, a.accountId, a.keyHash, a.thresholdKind, a.thresholdValue, a.webhookUrl, a.firedAt, a.createdAt],
    );
  }

  async getAlert(id: string): Promise<AlertRecord | undefined> {
    const row = (await this.q('SELECT * FROM alerts WHERE id = $1', [id])).rows[0];
    return row ? alertFromRow(row) : undefined;
  }

  async listAlerts(accountId: string, keyHash?: string): Promise<AlertRecord[]> {
    const order = 'ORDER BY created_at COLLATE "C", id COLLATE "C"';
    const res =
      keyHash === undefined
        ? await this.q(`SELECT * FROM alerts WHERE account_id = $1 ${order}`, [accountId])
        : await this.q(`SELECT * FROM alerts WHERE account_id = $1 AND key_hash = $2 ${order}`, [accountId, keyHash]);
    return res.rows.map(alertFromRow);
  }

  async deleteAlert(id: string): Promise<boolean> {
    return ((await this.q('DELETE FROM alerts WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async markAlert(id: string, firedAt: string | null, expectFired: boolean): Promise<boolean> {
    // One UPDATE: a concurrent one on the same row waits for it, then re-checks the condition.
    const sql = `UPDATE alerts SET fired_at = $1 WHERE id = $2 AND fired_at IS ${expectFired ? 'NOT NULL' : 'NULL'}`;
    return ((await this.q(sql, [firedAt, id])).rowCount ?? 0) > 0;
  }

  // ---- stored responses ----

  saveResponse(r: StoredResponse): Promise<void> {
    return this.responses.saveResponse(r);
  }

  getResponse(id: string): Promise<StoredResponse | undefined> {
    return this.responses.getResponse(id);
  }

  deleteResponse(id: string, keyHash: string): Promise<boolean> {
    return this.responses.deleteResponse(id, keyHash);
  }

  purgeResponses(before: string): Promise<number> {
    return this.responses.purgeResponses(before);
  }
}

/**
 * The embedded store: one SQLite file through node:sqlite (no native addon), WAL journal. Every
 * money operation runs in a `BEGIN IMMEDIATE` transaction, which takes the write lock before the
 * first read, so a check and its update can never interleave with another writer (even another
 * process on the same file).
 */
import { isoTime } from '../../spec/iso-time.ts';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { SQLInputValue, StatementSync } from 'node:sqlite';
import { assertCreditAmount, assertCreditFits } from '../../spec/money-bounds.ts';
import { rolledPeriodStart } from '../../accounting/periods.ts';
import { activitySql, listGenerationsSql } from '../generation-queries.ts';
import { ledgerPageSql } from '../ledger-queries.ts';
import { MIGRATIONS } from '../migrations.ts';
import { addSqliteChecks } from './add-checks.ts';
import { startCheckpointer } from './checkpointer.ts';
import type { Checkpointer } from './checkpointer.ts';
import { GroupCommit } from './group-commit.ts';
import { Leases } from './leases.ts';
import { OwnerLocks } from './owner-locks.ts';
import type { WriteOptions } from './group-commit.ts';
import { CHARGE_SQL, PendingCharges } from './pending-charges.ts';
import { PendingGenerations } from './pending-generations.ts';
import { StoredResponses } from './stored-responses.ts';
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
import { chargeParams, settlementCharge } from '../row-writes.ts';
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

/** `./data/freeway.db`, `/abs/path.db` or `file:relative/or/absolute.db`. */
export function sqlitePathFromUrl(url: string): string {
  if (url.startsWith('file://')) return new URL(url).pathname;
  if (url.startsWith('file:')) return url.slice('file:'.length);
  return url;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs a start-up step, retrying for up to 10 s while another process holds a lock. Processes
 * opening a new file together can meet a lock SQLite will not wait for (its busy handler is skipped
 * where waiting could deadlock, e.g. while the file still switches to WAL): "database is locked" at
 * once, not after busy_timeout. Only start-up steps, which are idempotent, go through here.
 */
function whileBusy<T>(step: () => T): T {
  const deadline = Date.now() + 10_000;
  for (let waitMs = 5; ; waitMs = Math.min(waitMs * 2, 200)) {
    try {
      return step();
    } catch (err) {
      if (!/database is locked|SQLITE_BUSY/i.test((err as Error).message ?? '') || Date.now() > deadline) throw err;
      Atomics.wait(pause, 0, 0, waitMs);
    }
  }
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: DatabaseSync;
  private readonly cache = new Map<string, StatementSync>();
  /** Checkpoints the WAL on a worker thread (see checkpointer.ts). */
  private readonly checkpointer: Checkpointer | undefined;
  private readonly charges = new PendingCharges((sql) => this.q(sql));
  private readonly generationRows = new PendingGenerations((sql) => this.q(sql));
  private readonly writes: GroupCommit;
  private readonly leases = new Leases({
    q: (sql) => this.q(sql),
    grouped: (op, opts) => this.grouped(op, opts),
    tx: (fn) => this.tx(fn),
    drop: (id) => this.drop(id),
    charge: (accountId, keyHash, nanos, now) => this.charges.add(accountId, keyHash, nanos, now),
    addGeneration: (g) => this.generationRows.add(g),
  });
  private readonly responses = new StoredResponses((sql) => this.q(sql));
  /** Which processes sharing the file are alive (see owner-locks.ts); none for an in-memory database. */
  private readonly owners: OwnerLocks | undefined;

  /**
   * `checkpoints`: 'thread' (the default) checkpoints the WAL on a worker thread of this process;
   * 'elsewhere' leaves it to another process that shares the file (the primary of several
   * workers, see checkpointer.ts), with SQLite's own automatic checkpoint kept only as a backstop
   * should that process stop doing it.
   */
  constructor(path: string, opts: { checkpoints?: 'thread' | 'elsewhere' } = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    // busy_timeout first: switching to WAL takes a lock that another process opening the file may hold.
    this.db.exec('PRAGMA busy_timeout = 10000');
    whileBusy(() => this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;'));
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
    this.owners = path === ':memory:' ? undefined : new OwnerLocks(path);
    if (path !== ':memory:' && opts.checkpoints === 'elsewhere') {
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
  private q(sql: string): StatementSync {
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
  }

  /** A write under group commit (see group-commit.ts). */
  private grouped<T>(op: () => T, opts?: WriteOptions): Promise<T> {
    return this.writes.write(op, opts);
  }

  private tx<T>(fn: () => T): T {
    return this.writes.tx(fn);
  }

  async migrate(): Promise<void> {
    this.writes.waitForLocks();
    whileBusy(() =>
      this.db.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      ),
    );
    for (const m of MIGRATIONS) {
      whileBusy(() =>
        this.tx(() => {
          // Checked inside the write lock: two processes starting together apply each migration once.
          if (this.q('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version)) return;
          for (const sql of m.sql) this.db.exec(sql);
          if (m.bounded) addSqliteChecks(this.db, m.bounded);
          this.q('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
            m.version,
            m.name,
            new Date().toISOString(),
          );
        }),
      );
    }
  }

  async close(): Promise<void> {
    if (this.writes.pending && this.db.isOpen) this.writes.flush();
    await this.checkpointer?.stop();
    if (this.db.isOpen) this.db.close();
  }

  // ---- accounts ----

  async createAccount(a: { id: string; name: string; prepaid: boolean; now: Date }): Promise<Account> {
    this.q('INSERT INTO accounts (id, name, prepaid, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING').run(
      a.id,
      a.name,
      a.prepaid ? 1 : 0,
      a.now.toISOString(),
    );
    return (await this.getAccount(a.id))!;
  }

  async getAccount(id: string): Promise<Account | undefined> {
    const row = this.q('SELECT * FROM accounts WHERE id = ?').get(id) as Row | undefined;
    return row ? accountFromRow(row) : undefined;
  }

  async setAccountLogContent(id: string, on: boolean): Promise<boolean> {
    return Number(this.q('UPDATE accounts SET log_content = ? WHERE id = ?').run(on ? 1 : 0, id).changes) > 0;
  }

  async listAccounts(): Promise<Account[]> {
    return (this.q('SELECT * FROM accounts ORDER BY created_at, id').all() as Row[]).map(accountFromRow);
  }

  // ---- keys ----

  async createKey(k: ApiKeyRecord): Promise<void> {
    this.q(
      `INSERT INTO api_keys (hash, name, label, kind, account_id, limit_nanos, limit_reset, usage_nanos, usage_total_nanos,
        period_start, reserved_nanos, disabled, expires_at, created_at, updated_at, requests_per_minute, tokens_per_minute)
       VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, ?, 0, ?, ?, ?, ?, ?, ?)`,
    ).run(
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
    );
  }

  async findKey(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.q(FIND_KEY_SQL('?')).get(hash) as Row | undefined;
    return row ? keyFromRow(row) : undefined;
  }

  async listKeys(f: { accountId?: string; kind?: KeyKind; offset?: number; limit?: number }): Promise<ApiKeyRecord[]> {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (f.accountId !== undefined) {
      where.push('account_id = ?');
      params.push(f.accountId);
    }
    if (f.kind !== undefined) {
      where.push('kind = ?');
      params.push(f.kind);
    }
    const sql = `SELECT * FROM api_keys${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, hash LIMIT ? OFFSET ?`;
    return (this.q(sql).all(...params, f.limit ?? 1000, f.offset ?? 0) as Row[]).map(keyFromRow);
  }

  async updateKey(hash: string, patch: KeyPatch, now: Date): Promise<ApiKeyRecord | undefined> {
    const sets: string[] = [];
    const params: SQLInputValue[] = [];
    for (const [k, col] of Object.entries(KEY_PATCH_COLUMNS) as Array<[keyof KeyPatch, string]>) {
      if (!(k in patch)) continue;
      const v = patch[k];
      sets.push(`${col} = ?`);
      params.push(typeof v === 'boolean' ? (v ? 1 : 0) : (v ?? null));
    }
    if (sets.length > 0) {
      sets.push('updated_at = ?');
      params.push(now.toISOString());
      this.q(`UPDATE api_keys SET ${sets.join(', ')} WHERE hash = ?`).run(...params, hash);
    }
    return this.findKey(hash);
  }

  async deleteKey(hash: string): Promise<boolean> {
    return this.tx(() => {
      this.q('DELETE FROM alerts WHERE key_hash = ?').run(hash);
      return Number(this.q('DELETE FROM api_keys WHERE hash = ?').run(hash).changes) > 0;
    });
  }

  async countKeys(kind?: KeyKind): Promise<number> {
    const row = (
      kind ? this.q('SELECT COUNT(*) AS n FROM api_keys WHERE kind = ?').get(kind) : this.q('SELECT COUNT(*) AS n FROM api_keys').get()
    ) as Row;
    return Number(row.n);
  }

  // ---- money ----

  async credit(c: CreditRequest): Promise<boolean> {
    assertCreditAmount(c.amountNanos);
    return this.tx(() => {
      const inserted = this.q(
        `INSERT INTO ledger (id, account_id, key_hash, kind, amount_nanos, note, created_at)
         VALUES (?, ?, NULL, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      ).run(c.id, c.accountId, c.kind, c.amountNanos, c.note ?? null, c.now.toISOString());
      if (Number(inserted.changes) === 0) return false;
      const purchased = c.kind === 'topup' ? c.amountNanos : 0;
      // Under the write lock: a credit past the bound is refused whole (the ledger row rolls back).
      const now = this.q('SELECT balance_nanos, purchased_nanos FROM accounts WHERE id = ?').get(c.accountId) as Row | undefined;
      if (now) assertCreditFits(c.accountId, now.balance_nanos, now.purchased_nanos, c.amountNanos, c.kind === 'topup');
      const updated = this.q(
        'UPDATE accounts SET balance_nanos = balance_nanos + ?, purchased_nanos = purchased_nanos + ? WHERE id = ?',
      ).run(c.amountNanos, purchased, c.accountId);
      if (Number(updated.changes) === 0) throw new Error(`no account ${c.accountId}`);
      return true;
    });
  }

  /** Resets the key's period usage when its limit period has rolled over; returns the current usage. */
  private rollPeriod(key: ApiKeyRecord, now: Date): number {
    const start = rolledPeriodStart(key.limitReset, key.periodStart, now);
    if (start === undefined) return key.usageNanos;
    this.q('UPDATE api_keys SET usage_nanos = 0, period_start = ? WHERE hash = ?').run(start, key.hash);
    return 0;
  }

  async reserve(r: ReserveRequest): Promise<ReserveResult> {
    return this.grouped((): ReserveResult => {
      const keyRow = this.q('SELECT * FROM api_keys WHERE hash = ?').get(r.keyHash) as Row | undefined;
      if (!keyRow) return { ok: false, reason: 'key_limit', availableNanos: 0 };
      const key = keyFromRow(keyRow);
      const usage = this.rollPeriod(key, r.now);
      if (key.limitNanos !== null) {
        const available = key.limitNanos - usage - key.reservedNanos;
        if (available < r.amountNanos) return { ok: false, reason: 'key_limit', availableNanos: Math.max(0, available) };
      }
      const accountRow = this.q('SELECT * FROM accounts WHERE id = ?').get(r.accountId) as Row | undefined;
      if (!accountRow) return { ok: false, reason: 'balance', availableNanos: 0 };
      const account = accountFromRow(accountRow);
      if (account.prepaid) {
        const available = account.balanceNanos - account.reservedNanos;
        if (available < r.amountNanos) return { ok: false, reason: 'balance', availableNanos: Math.max(0, available) };
      }
      this.q('UPDATE api_keys SET reserved_nanos = reserved_nanos + ? WHERE hash = ?').run(r.amountNanos, r.keyHash);
      this.q('UPDATE accounts SET reserved_nanos = reserved_nanos + ? WHERE id = ?').run(r.amountNanos, r.accountId);
      this.q(
        'INSERT INTO reservations (id, account_id, key_hash, amount_nanos, expires_at, created_at, owner) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ).run(r.id, r.accountId, r.keyHash, r.amountNanos, isoTime(r.expiresAt), isoTime(r.now), r.owner ?? null);
      return { ok: true };
    });
  }

  /** Deletes a reservation and gives its amount back to the account and key; the deleted row, or undefined when there was none. */
  private drop(id: string): Row | undefined {
    const row = this.q(`DELETE FROM reservations WHERE id = ? RETURNING ${DROPPED_HOLD}`).get(id) as Row | undefined;
    if (!row) return undefined;
    const amount = Number(row.amount_nanos);
    this.q('UPDATE accounts SET reserved_nanos = reserved_nanos - ? WHERE id = ?').run(amount, String(row.account_id));
    this.q('UPDATE api_keys SET reserved_nanos = reserved_nanos - ? WHERE hash = ?').run(amount, String(row.key_hash));
    return row;
  }

  async settle(s: SettleRequest): Promise<boolean> {
    return this.grouped(
      () => {
        if (s.held !== false) this.drop(s.reservationId);
        if (s.generation) this.generationRows.add(s.generation);
        const charge = s.upstreamNanos + s.feeNanos;
        const inserted = this.q(CHARGE_SQL).run(...chargeParams(settlementCharge(s)));
        if (Number(inserted.changes) === 0) return false;
        if (charge === 0) return true;
        this.charges.add(s.accountId, s.keyHash, charge, s.now);
        return true;
        // Urgent: the answer's last bytes wait for this commit, so a client that has its whole answer
        // sees its charge from any process reading this file.
      },
      { defersOnly: true },
    );
  }

  async release(reservationId: string): Promise<boolean> {
    return this.grouped(() => this.drop(reservationId) !== undefined, { urgent: false });
  }

  async releaseExpired(now: Date): Promise<number> {
    const ids = (this.q('SELECT id FROM reservations WHERE expires_at < ?').all(now.toISOString()) as Row[]).map((r) => String(r.id));
    let released = 0;
    for (const id of ids) if (this.tx(() => this.drop(id)) !== undefined) released++;
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

  holdOwner(owner: string): void {
    this.owners?.hold(owner);
  }

  ownerAlive(owner: string): boolean | undefined {
    return this.owners?.alive(owner);
  }

  dropOwner(owner: string): void {
    this.owners?.drop(owner);
  }

  checkpointHolds(cs: readonly HoldCheckpoint[]): Promise<void> {
    return this.leases.checkpointHolds(cs);
  }

  reclaimHolds(owners: readonly string[], now: Date): Promise<{ released: number; charged: number }> {
    return this.leases.reclaimHolds(owners, now);
  }

  // ---- ledger ----

  async ledger(accountId: string, limit = 100, page: LedgerPage = {}): Promise<LedgerEntry[]> {
    const { sql, params } = ledgerPageSql(accountId, limit, page, () => '?');
    return (this.q(sql).all(...params) as Row[]).map(ledgerFromRow);
  }

  async ledgerSum(accountId: string): Promise<number> {
    return Number((this.q('SELECT COALESCE(SUM(amount_nanos), 0) AS s FROM ledger WHERE account_id = ?').get(accountId) as Row).s);
  }

  async ledgerTotals(accountId: string): Promise<{ credits: number; charges: number }> {
    const row = this.q(
      `SELECT COALESCE(SUM(CASE WHEN kind = 'charge' THEN 0 ELSE amount_nanos END), 0) AS credits,
              COALESCE(SUM(CASE WHEN kind = 'charge' THEN -amount_nanos ELSE 0 END), 0) AS charges
       FROM ledger WHERE account_id = ?`,
    ).get(accountId) as Row;
    return { credits: Number(row.credits), charges: Number(row.charges) };
  }

  async openReservations(accountId?: string): Promise<number> {
    const row = (
      accountId
        ? this.q('SELECT COUNT(*) AS n FROM reservations WHERE account_id = ?').get(accountId)
        : this.q('SELECT COUNT(*) AS n FROM reservations').get()
    ) as Row;
    return Number(row.n);
  }

  // ---- generations and usage ----

  async insertGenerations(recs: readonly GenerationRecord[]): Promise<void> {
    if (recs.length === 0) return;
    await this.grouped(
      () => {
        for (const g of recs) this.generationRows.add(g);
      },
      { urgent: false, defersOnly: true },
    );
  }

  async getGeneration(id: string): Promise<GenerationRecord | undefined> {
    const row = this.q('SELECT * FROM generations WHERE id = ?').get(id) as Row | undefined;
    return row ? generationFromRow(row) : undefined;
  }

  async usage(q: UsageQuery): Promise<UsageRow[]> {
    const sql = usageSql(q.groupBy, () => '?', q.keyHash !== undefined, q.from !== undefined, q.to !== undefined);
    const params: SQLInputValue[] = [q.accountId];
    if (q.keyHash !== undefined) params.push(q.keyHash);
    if (q.from !== undefined) params.push(q.from);
    if (q.to !== undefined) params.push(q.to);
    return (this.q(sql).all(...params) as Row[]).map(usageFromRow);
  }

  async listGenerations(q: GenerationQuery): Promise<GenerationRecord[]> {
    const { sql, params } = listGenerationsSql(q, () => '?');
    return (this.q(sql).all(...params) as Row[]).map(generationFromRow);
  }

  async activity(q: ActivityQuery): Promise<ActivityRow[]> {
    const { sql, params } = activitySql(q, () => '?');
    return (this.q(sql).all(...params) as Row[]).map(activityFromRow);
  }

  async saveContent(cs: readonly GenerationContent[]): Promise<void> {
    if (cs.length === 0) return;
    await this.grouped(
      () => {
        const st = this.q(INSERT_CONTENT_SQL(() => '?'));
        for (const c of cs) st.run(...contentParams(c));
      },
      { urgent: false },
    );
  }

  async getContent(id: string): Promise<GenerationContent | undefined> {
    const row = this.q('SELECT * FROM generation_content WHERE id = ?').get(id) as Row | undefined;
    return row ? contentFromRow(row) : undefined;
  }

  async purgeContent(before: string): Promise<number> {
    return Number(this.q('DELETE FROM generation_content WHERE created_at < ?').run(before).changes);
  }

  // ---- counters ----

  async hitCounters(key: string, windows: readonly CounterWindow[]): Promise<CounterResult> {
    return this.tx((): CounterResult => {
      const counts: number[] = [];
      for (const w of windows) {
        const row = this.q('SELECT window_start, count FROM counters WHERE counter_key = ? AND name = ?').get(key, w.name) as
          | Row
          | undefined;
        const count = row && Number(row.window_start) >= w.startMs ? Number(row.count) : 0;
        if (count >= w.limit) return { ok: false, window: w.name, count };
        counts.push(count + 1);
      }
      windows.forEach((w, i) => {
        this.q(
          `INSERT INTO counters (counter_key, name, window_start, count) VALUES (?, ?, ?, ?)
           ON CONFLICT (counter_key, name) DO UPDATE SET window_start = excluded.window_start, count = excluded.count`,
        ).run(key, w.name, w.startMs, counts[i]);
      });
      return { ok: true, counts };
    });
  }

  // ---- alerts ----

  async createAlert(a: AlertRecord): Promise<void> {
    this.q(
      `INSERT INTO alerts (id, account_id, key_hash, threshold_kind, threshold_value, webhook_url, fired_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(a.id, a.accountId, a.keyHash, a.thresholdKind, a.thresholdValue, a.webhookUrl, a.firedAt, a.createdAt);
  }

  async getAlert(id: string): Promise<AlertRecord | undefined> {
    const row = this.q('SELECT * FROM alerts WHERE id = ?').get(id) as Row | undefined;
    return row ? alertFromRow(row) : undefined;
  }

  async listAlerts(accountId: string, keyHash?: string): Promise<AlertRecord[]> {
    const rows =
      keyHash === undefined
        ? this.q('SELECT * FROM alerts WHERE account_id = ? ORDER BY created_at, id').all(accountId)
        : this.q('SELECT * FROM alerts WHERE account_id = ? AND key_hash = ? ORDER BY created_at, id').all(accountId, keyHash);
    return (rows as Row[]).map(alertFromRow);
  }

  async deleteAlert(id: string): Promise<boolean> {
    return Number(this.q('DELETE FROM alerts WHERE id = ?').run(id).changes) > 0;
  }

  async markAlert(id: string, firedAt: string | null, expectFired: boolean): Promise<boolean> {
    const sql = `UPDATE alerts SET fired_at = ? WHERE id = ? AND fired_at IS ${expectFired ? 'NOT NULL' : 'NULL'}`;
    return Number(this.q(sql).run(firedAt, id).changes) > 0;
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

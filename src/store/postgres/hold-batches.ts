/**
 * Holds on PostgreSQL, a group of them (group-queue.ts) in one transaction and one round trip
 * (pg-batch.ts): BEGIN, the key rows then the account rows locked (each sorted, the one lock
 * order), limit periods that rolled over restarted, then one statement per hold, in the order
 * the holds came, making the checks and — only when they pass — the hold, and COMMIT. Each
 * statement reads what the ones before it wrote (READ COMMITTED, on rows this transaction has
 * locked), so the checks are exactly those of one hold after another: never an overdraw.
 */
import type { PoolClient } from 'pg';
import { periodStart } from '../../accounting/periods.ts';
import type { ReserveRequest, ReserveResult } from '../types.ts';
import type { Row } from '../rows.ts';
import type { Param } from './connection.ts';
import { batch, list, literal } from './pg-batch.ts';
import { isoTime } from '../../spec/iso-time.ts';

/** The start of the period `now` is in, for the key row's `limit_reset` (periods.ts's rule, as SQL). */
export function periodStartSql(L: (v: Param) => string, now: Date): string {
  const starts = (['daily', 'weekly', 'monthly'] as const).map((x) => `WHEN ${L(x)} THEN ${L(periodStart(x, now).toISOString())}`);
  return `(CASE limit_reset ${starts.join(' ')} END)`;
}

/** Every hold's `now` must fall on one UTC day (the rolled-over periods are decided once for the group). */
export async function reserveGroup(cl: PoolClient, group: readonly ReserveRequest[]): Promise<ReserveResult[]> {
  const keys = list(group.map((r) => r.keyHash));
  const start = periodStartSql(literal, group[0].now);
  const out = [
    'BEGIN',
    `SELECT count(*) FROM (SELECT 1 FROM api_keys WHERE hash IN (${keys}) ORDER BY hash COLLATE "C" FOR UPDATE) k`,
    `SELECT count(*) FROM (SELECT 1 FROM accounts WHERE id IN (${list(group.map((r) => r.accountId))}) ORDER BY id COLLATE "C" FOR UPDATE) a`,
    `UPDATE api_keys SET usage_nanos = 0, period_start = ${start}
     WHERE hash IN (${keys}) AND limit_reset IS NOT NULL AND (period_start IS NULL OR period_start COLLATE "C" < ${start})`,
  ];
  const first = out.length;
  for (const r of group) out.push(holdSql(r));
  out.push('COMMIT');
  const results = await batch(cl, out);
  return group.map((_, i) => verdictOf(results[first + i].rows[0]));
}

/** One hold's checks and, when they pass, the hold, over its key and account rows (locked). */
function holdSql(r: ReserveRequest): string {
  const L = literal;
  const key = L(r.keyHash);
  const account = L(r.accountId);
  const amount = L(r.amountNanos);
  const keyAvailable = '(SELECT limit_nanos - usage_nanos - reserved_nanos FROM k)';
  const accountAvailable = '(SELECT balance_nanos - reserved_nanos FROM a)';
  const verdict = `CASE
      WHEN NOT EXISTS (SELECT 1 FROM k) THEN 'no_key'
      WHEN (SELECT limit_nanos FROM k) IS NOT NULL AND ${keyAvailable} < ${amount} THEN 'key_limit'
      WHEN NOT EXISTS (SELECT 1 FROM a) THEN 'no_account'
      WHEN (SELECT prepaid FROM a) = 1 AND ${accountAvailable} < ${amount} THEN 'balance'
      ELSE 'ok' END`;
  const ok = `(SELECT verdict FROM d) = 'ok'`;
  const hold = [r.id, r.accountId, r.keyHash, r.amountNanos, isoTime(r.expiresAt), isoTime(r.now), r.owner ?? null];
  return `WITH k AS (SELECT limit_nanos, usage_nanos, reserved_nanos FROM api_keys WHERE hash = ${key}),
     a AS (SELECT prepaid, balance_nanos, reserved_nanos FROM accounts WHERE id = ${account}),
     d AS (SELECT ${verdict} AS verdict, ${keyAvailable} AS key_available, ${accountAvailable} AS account_available),
     uk AS (UPDATE api_keys SET reserved_nanos = reserved_nanos + ${amount} WHERE hash = ${key} AND ${ok}),
     ua AS (UPDATE accounts SET reserved_nanos = reserved_nanos + ${amount} WHERE id = ${account} AND ${ok}),
     ins AS (INSERT INTO reservations (id, account_id, key_hash, amount_nanos, expires_at, created_at, owner)
       SELECT ${hold.map(L).join(', ')}
       WHERE ${ok})
     SELECT * FROM d`;
}

function verdictOf(d: Row): ReserveResult {
  switch (d.verdict) {
    case 'ok':
      return { ok: true };
    case 'key_limit':
      return { ok: false, reason: 'key_limit', availableNanos: Math.max(0, Number(d.key_available)) };
    case 'balance':
      return { ok: false, reason: 'balance', availableNanos: Math.max(0, Number(d.account_available)) };
    case 'no_account':
      return { ok: false, reason: 'balance', availableNanos: 0 };
    default:
      return { ok: false, reason: 'key_limit', availableNanos: 0 };
  }
}

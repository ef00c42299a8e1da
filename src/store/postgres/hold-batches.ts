/**
 * A hold on PostgreSQL in one round trip (pg-batch.ts): the statements a transaction of separate
 * queries ran, sent as one batch over rows locked in the one lock order (key row, account row).
 * PostgresStore.reserve runs it in a transaction; charges are settle-batches.ts's.
 */
import type { PoolClient } from 'pg';
import { periodStart } from '../../accounting/periods.ts';
import type { ReserveRequest, ReserveResult } from '../types.ts';
import type { Param } from './connection.ts';
import { batch, literal } from './pg-batch.ts';

/** The start of the period `now` is in, for the key row's `limit_reset` (periods.ts's rule, as SQL). */
export function periodStartSql(L: (v: Param) => string, now: Date): string {
  const starts = (['daily', 'weekly', 'monthly'] as const).map((x) => `WHEN ${L(x)} THEN ${L(periodStart(x, now).toISOString())}`);
  return `(CASE limit_reset ${starts.join(' ')} END)`;
}

export async function reserveBatched(cl: PoolClient, r: ReserveRequest): Promise<ReserveResult> {
  const L = literal;
  const key = L(r.keyHash);
  const account = L(r.accountId);
  const amount = L(r.amountNanos);
  const start = periodStartSql(L, r.now);
  const keyAvailable = '(SELECT limit_nanos - usage_nanos - reserved_nanos FROM k)';
  const accountAvailable = '(SELECT balance_nanos - reserved_nanos FROM a)';
  const verdict = `CASE
      WHEN NOT EXISTS (SELECT 1 FROM k) THEN 'no_key'
      WHEN (SELECT limit_nanos FROM k) IS NOT NULL AND ${keyAvailable} < ${amount} THEN 'key_limit'
      WHEN NOT EXISTS (SELECT 1 FROM a) THEN 'no_account'
      WHEN (SELECT prepaid FROM a) = 1 AND ${accountAvailable} < ${amount} THEN 'balance'
      ELSE 'ok' END`;
  const ok = `(SELECT verdict FROM d) = 'ok'`;
  const hold = [r.id, r.accountId, r.keyHash, r.amountNanos, r.expiresAt.toISOString(), r.now.toISOString(), r.owner ?? null];
  const results = await batch(cl, [
    'BEGIN',
    `SELECT 1 FROM api_keys WHERE hash = ${key} FOR UPDATE`,
    `SELECT 1 FROM accounts WHERE id = ${account} FOR UPDATE`,
    `UPDATE api_keys SET usage_nanos = 0, period_start = ${start}
     WHERE hash = ${key} AND limit_reset IS NOT NULL AND (period_start IS NULL OR period_start COLLATE "C" < ${start})`,
    `WITH k AS (SELECT limit_nanos, usage_nanos, reserved_nanos FROM api_keys WHERE hash = ${key}),
     a AS (SELECT prepaid, balance_nanos, reserved_nanos FROM accounts WHERE id = ${account}),
     d AS (SELECT ${verdict} AS verdict, ${keyAvailable} AS key_available, ${accountAvailable} AS account_available),
     uk AS (UPDATE api_keys SET reserved_nanos = reserved_nanos + ${amount} WHERE hash = ${key} AND ${ok}),
     ua AS (UPDATE accounts SET reserved_nanos = reserved_nanos + ${amount} WHERE id = ${account} AND ${ok}),
     ins AS (INSERT INTO reservations (id, account_id, key_hash, amount_nanos, expires_at, created_at, owner)
       SELECT ${hold.map(L).join(', ')}
       WHERE ${ok})
     SELECT * FROM d`,
    'COMMIT',
  ]);
  const d = results[results.length - 2].rows[0];
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

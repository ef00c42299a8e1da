/**
 * A hold and a charge on PostgreSQL, each in one round trip (pg-batch.ts): the statements a
 * transaction of separate queries ran, sent as one batch over rows locked in the one lock order
 * (hold, key rows, account rows). PostgresStore.reserve and .settle run them in a transaction.
 */
import type { PoolClient } from 'pg';
import { periodStart } from '../../accounting/periods.ts';
import type { ReserveRequest, ReserveResult, SettleRequest } from '../types.ts';
import { GENERATION_COLUMNS, generationParams } from '../rows.ts';
import type { Param } from './connection.ts';
import { batch, literal } from './pg-batch.ts';

/** The start of the period `now` is in, for the key row's `limit_reset` (periods.ts's rule, as SQL). */
function periodStartSql(L: (v: Param) => string, now: Date): string {
  const starts = (['daily', 'weekly', 'monthly'] as const).map((x) => `WHEN ${L(x)} THEN ${L(periodStart(x, now).toISOString())}`);
  return `(CASE limit_reset ${starts.join(' ')} END)`;
}

export async function reserveBatched(cl: PoolClient, r: ReserveRequest): Promise<ReserveResult> {
  const L = (v: Param) => literal(cl, v);
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

export async function settleBatched(cl: PoolClient, s: SettleRequest): Promise<boolean> {
  const L = (v: Param) => literal(cl, v);
  const id = L(s.reservationId);
  const hold = `(SELECT * FROM reservations WHERE id = ${id})`;
  const out = [
    'BEGIN',
    `SELECT 1 FROM reservations WHERE id = ${id} FOR UPDATE`,
    `SELECT 1 FROM api_keys WHERE hash = ${L(s.keyHash)} OR hash = (SELECT key_hash FROM ${hold} h) ORDER BY hash FOR UPDATE`,
    `SELECT 1 FROM accounts WHERE id = ${L(s.accountId)} OR id = (SELECT account_id FROM ${hold} h) ORDER BY id FOR UPDATE`,
    `UPDATE api_keys k SET reserved_nanos = k.reserved_nanos - h.amount_nanos FROM ${hold} h WHERE k.hash = h.key_hash`,
    `UPDATE accounts a SET reserved_nanos = a.reserved_nanos - h.amount_nanos FROM ${hold} h WHERE a.id = h.account_id`,
    `DELETE FROM reservations WHERE id = ${id}`,
  ];
  if (s.generation) {
    const values = generationParams(s.generation).map(L).join(', ');
    out.push(`INSERT INTO generations (${GENERATION_COLUMNS.join(', ')}) VALUES (${values}) ON CONFLICT (id) DO NOTHING`);
  }
  const charge = s.upstreamNanos + s.feeNanos;
  const ledger = [s.reservationId, s.accountId, s.keyHash, -charge, s.upstreamNanos, s.feeNanos, s.note ?? null, s.now.toISOString()].map(
    L,
  );
  let spend = '';
  if (charge !== 0) {
    const c = L(charge);
    const isNew = 'EXISTS (SELECT 1 FROM l)';
    // rolledPeriodStart in SQL: a period_start before the period `now` is in has rolled over.
    const start = periodStartSql(L, s.now);
    const rolled = `(limit_reset IS NOT NULL AND (period_start IS NULL OR period_start COLLATE "C" < ${start}))`;
    spend =
      `, a AS (UPDATE accounts SET balance_nanos = balance_nanos - ${c} WHERE id = ${L(s.accountId)} AND ${isNew})` +
      `, k AS (UPDATE api_keys SET usage_nanos = CASE WHEN ${rolled} THEN ${c} ELSE usage_nanos + ${c} END,` +
      ` period_start = CASE WHEN ${rolled} THEN ${start} ELSE period_start END, usage_total_nanos = usage_total_nanos + ${c}` +
      ` WHERE hash = ${L(s.keyHash)} AND ${isNew})`;
  }
  out.push(
    `WITH l AS (INSERT INTO ledger (id, account_id, key_hash, kind, amount_nanos, upstream_nanos, fee_nanos, note, created_at)
     VALUES (${ledger.slice(0, 3).join(', ')}, 'charge', ${ledger.slice(3).join(', ')}) ON CONFLICT (id) DO NOTHING RETURNING 1)` +
      `${spend} SELECT COUNT(*) AS n FROM l`,
  );
  out.push('COMMIT');
  const results = await batch(cl, out);
  return Number(results[results.length - 2].rows[0].n) > 0;
}

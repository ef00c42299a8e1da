/**
 * Charges on PostgreSQL, a group of them (group-queue.ts) in one transaction and one round trip.
 * The group's statements take their row locks in the one lock order — held reservations, key rows,
 * account rows, each sorted — so groups from any number of processes never deadlock one another
 * or a hold or release. Each settlement does what it did alone: its hold given back and dropped,
 * its record written, and its ledger row inserted unless one with its id exists, the charge
 * taken only for a new row (so a charge sent twice is taken once). Amounts of one key or
 * account are summed before they are applied: the same sums as one settlement after another.
 */
import type { PoolClient } from 'pg';
import { chargeParams, generationParams, insertChargesSql, insertGenerationsSql, settlementCharge } from '../row-writes.ts';
import type { SettleRequest } from '../types.ts';
import { periodStartSql } from './hold-batches.ts';
import { batch, list, literal } from './pg-batch.ts';

/**
 * Settles `group` in one round trip inside a transaction the caller opened with `batched` (BEGIN
 * and COMMIT are sent here). Every settlement's `now` must fall on one UTC day: a limit period
 * that rolled over is decided once for the group. Returns, per settlement, whether its charge was
 * new (false when its id had been charged already, or appears earlier in the group).
 */
export async function settleGroup(cl: PoolClient, group: readonly SettleRequest[]): Promise<boolean[]> {
  const L = literal;
  const held = group.filter((s) => s.held !== false).map((s) => s.reservationId);
  const ids = list(held);
  // The rows of the held reservations too (they name the same key and account unless a caller erred).
  const orHeld = (column: string, as: string) =>
    held.length > 0 ? ` OR ${as} IN (SELECT ${column} FROM reservations WHERE id IN (${ids}))` : '';
  const keys = `hash IN (${list(group.map((s) => s.keyHash))})${orHeld('key_hash', 'hash')}`;
  const accounts = `id IN (${list(group.map((s) => s.accountId))})${orHeld('account_id', 'id')}`;
  const out = ['BEGIN'];
  if (held.length > 0) {
    out.push(`SELECT count(*) FROM (SELECT 1 FROM reservations WHERE id IN (${ids}) ORDER BY id COLLATE "C" FOR UPDATE) r`);
  }
  out.push(
    `SELECT count(*) FROM (SELECT 1 FROM api_keys WHERE ${keys} ORDER BY hash COLLATE "C" FOR UPDATE) k`,
    `SELECT count(*) FROM (SELECT 1 FROM accounts WHERE ${accounts} ORDER BY id COLLATE "C" FOR UPDATE) a`,
  );
  if (held.length > 0) {
    // Given back per key and per account in one UPDATE each (one statement may change a row once).
    out.push(
      `WITH h AS (DELETE FROM reservations WHERE id IN (${ids}) RETURNING key_hash, account_id, amount_nanos),
       k AS (UPDATE api_keys SET reserved_nanos = reserved_nanos - s.amount
         FROM (SELECT key_hash, SUM(amount_nanos)::bigint AS amount FROM h GROUP BY key_hash) s WHERE hash = s.key_hash),
       a AS (UPDATE accounts SET reserved_nanos = reserved_nanos - s.amount
         FROM (SELECT account_id, SUM(amount_nanos)::bigint AS amount FROM h GROUP BY account_id) s WHERE id = s.account_id)
       SELECT count(*) FROM h`,
    );
  }
  const records = group.flatMap((s) => (s.generation ? [`(${generationParams(s.generation).map(L).join(', ')})`] : []));
  if (records.length > 0) {
    out.push(insertGenerationsSql(records));
  }
  const rows = group.map((s) => `(${chargeParams(settlementCharge(s)).map(L).join(', ')})`);
  // rolledPeriodStart in SQL: a period_start before the period `now` is in has rolled over.
  const start = periodStartSql(L, group[0].now);
  const rolled = `(limit_reset IS NOT NULL AND (period_start IS NULL OR period_start COLLATE "C" < ${start}))`;
  // A charge of zero leaves the key's period alone, as it always has.
  const sums = (column: string) =>
    `SELECT ${column}, -SUM(amount_nanos)::bigint AS charge FROM l GROUP BY ${column} HAVING bool_or(amount_nanos <> 0)`;
  out.push(
    `WITH l AS (${insertChargesSql(rows)}
       RETURNING id, account_id, key_hash, amount_nanos),
     a AS (UPDATE accounts SET balance_nanos = balance_nanos - s.charge FROM (${sums('account_id')}) s WHERE id = s.account_id),
     k AS (UPDATE api_keys SET usage_nanos = CASE WHEN ${rolled} THEN s.charge ELSE usage_nanos + s.charge END,
       period_start = CASE WHEN ${rolled} THEN ${start} ELSE period_start END, usage_total_nanos = usage_total_nanos + s.charge
       FROM (${sums('key_hash')}) s WHERE hash = s.key_hash)
     SELECT id FROM l`,
    'COMMIT',
  );
  const results = await batch(cl, out);
  const inserted = new Set(results[results.length - 2].rows.map((r) => String(r.id)));
  // A second settlement of one id in the group found the first's row: not new, as it would alone.
  return group.map((s) => inserted.delete(s.reservationId));
}

/**
 * Money on PostgreSQL: credits (top-ups, refunds, adjustments), holds and their settlement or
 * release. Every one is a READ COMMITTED transaction that takes row locks (`SELECT ... FOR UPDATE`)
 * before it reads what it checks, always in one order — key rows, then account rows — so
 * concurrent requests from any number of connections and processes serialize on the rows they
 * touch and never deadlock one another. Holds and settlements are committed in groups
 * (group-queue.ts), each group one transaction in one round trip.
 */
import type { PoolClient } from 'pg';
import { rolledPeriodStart } from '../../accounting/periods.ts';
import { isOutage } from '../../spec/errors.ts';
import { assertCreditAmount, assertCreditFits } from '../../spec/money-bounds.ts';
import { DROPPED_HOLD, keyFromRow } from '../rows.ts';
import type { Row } from '../rows.ts';
import { assertSameCredit } from '../credit-replay.ts';
import type { ApiKeyRecord, CreditRequest, ReserveRequest, ReserveResult, SettleRequest } from '../types.ts';
import { lockOrder } from './connection.ts';
import type { Queries } from './connection.ts';
import { GroupQueue } from './group-queue.ts';
import { reserveGroup } from './hold-batches.ts';
import { settleGroup } from './settle-batches.ts';

export interface MoneyQueries extends Queries {
  /** One guarded transaction whose `fn` sends BEGIN and COMMIT with its own statements (pg-batch.ts). */
  readonly batched: <T>(fn: (c: PoolClient) => Promise<T>) => Promise<T>;
}

export class Money {
  private readonly db: MoneyQueries;
  private readonly holds: GroupQueue<ReserveRequest, ReserveResult>;
  private readonly settles: GroupQueue<SettleRequest, boolean>;

  constructor(db: MoneyQueries) {
    this.db = db;
    this.holds = new GroupQueue<ReserveRequest, ReserveResult>((group) => db.batched((cl) => reserveGroup(cl, group)), isOutage);
    this.settles = new GroupQueue<SettleRequest, boolean>((group) => db.batched((cl) => settleGroup(cl, group)), isOutage);
  }

  /** Resolves once every hold and settlement handed in so far is committed (or failed). */
  async drained(): Promise<void> {
    await Promise.all([this.holds.drained(), this.settles.drained()]);
  }

  async credit(c: CreditRequest): Promise<boolean> {
    assertCreditAmount(c.amountNanos);
    return this.db.tx(async (cl) => {
      // A concurrent credit with the same id waits here on the unique index, then inserts nothing.
      const inserted = await this.db.q(
        `INSERT INTO ledger (id, account_id, key_hash, kind, amount_nanos, note, created_at)
         VALUES ($1, $2, NULL, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
        [c.id, c.accountId, c.kind, c.amountNanos, c.note ?? null, c.now.toISOString()],
        cl,
      );
      if (!inserted.rowCount) {
        assertSameCredit(c, (await this.db.q('SELECT account_id, kind, amount_nanos FROM ledger WHERE id = $1', [c.id], cl)).rows[0]);
        return false;
      }
      const purchased = c.kind === 'topup' ? c.amountNanos : 0;
      // With the account row locked: a credit past the bound is refused whole (the ledger row rolls back).
      const now = (await this.db.q('SELECT balance_nanos, purchased_nanos FROM accounts WHERE id = $1 FOR UPDATE', [c.accountId], cl))
        .rows[0];
      if (now) assertCreditFits(c.accountId, now.balance_nanos, now.purchased_nanos, c.amountNanos, c.kind === 'topup');
      const updated = await this.db.q(
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
      const row = (await this.db.q('SELECT * FROM api_keys WHERE hash = $1 FOR UPDATE', [hash], cl)).rows[0];
      if (row) keys.set(hash, keyFromRow(row));
    }
    for (const id of lockOrder(accountIds)) await this.db.q('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [id], cl);
    return keys;
  }

  /** Resets the key's period usage when its limit period has rolled over; returns the current usage. */
  private async rollPeriod(cl: PoolClient, key: ApiKeyRecord, now: Date): Promise<number> {
    const start = rolledPeriodStart(key.limitReset, key.periodStart, now);
    if (start === undefined) return key.usageNanos;
    await this.db.q('UPDATE api_keys SET usage_nanos = 0, period_start = $1 WHERE hash = $2', [start, key.hash], cl);
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
  async drop(
    cl: PoolClient,
    id: string,
    also?: { keyHash: string; accountId: string },
  ): Promise<{ dropped: boolean; keys: Map<string, ApiKeyRecord>; row?: Row }> {
    const row = (await this.db.q(`DELETE FROM reservations WHERE id = $1 RETURNING ${DROPPED_HOLD}`, [id], cl)).rows[0];
    const keyHashes = [...(row ? [String(row.key_hash)] : []), ...(also ? [also.keyHash] : [])];
    const accountIds = [...(row ? [String(row.account_id)] : []), ...(also ? [also.accountId] : [])];
    const keys = await this.lockRows(cl, keyHashes, accountIds);
    if (!row) return { dropped: false, keys };
    const amount = Number(row.amount_nanos);
    await this.db.q('UPDATE api_keys SET reserved_nanos = reserved_nanos - $1 WHERE hash = $2', [amount, String(row.key_hash)], cl);
    await this.db.q('UPDATE accounts SET reserved_nanos = reserved_nanos - $1 WHERE id = $2', [amount, String(row.account_id)], cl);
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
  async spend(cl: PoolClient, key: ApiKeyRecord | undefined, accountId: string, charge: number, now: Date): Promise<void> {
    if (charge === 0) return;
    await this.db.q('UPDATE accounts SET balance_nanos = balance_nanos - $1 WHERE id = $2', [charge, accountId], cl);
    if (key) {
      await this.rollPeriod(cl, key, now);
      await this.db.q(
        'UPDATE api_keys SET usage_nanos = usage_nanos + $1, usage_total_nanos = usage_total_nanos + $2 WHERE hash = $3',
        [charge, charge, key.hash],
        cl,
      );
    }
  }

  async release(reservationId: string): Promise<boolean> {
    return this.db.tx(async (cl) => (await this.drop(cl, reservationId)).dropped);
  }

  async releaseExpired(now: Date): Promise<number> {
    const ids = (await this.db.q('SELECT id FROM reservations WHERE expires_at < $1', [now.toISOString()])).rows.map((r) => String(r.id));
    let released = 0;
    for (const id of ids) if (await this.release(id)) released++;
    return released;
  }
}

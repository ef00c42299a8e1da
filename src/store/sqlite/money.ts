/**
 * Money on SQLite: credits (top-ups, refunds, adjustments), holds and their settlement or release.
 * Each runs under the write lock (`BEGIN IMMEDIATE`, taken before the first read), so a check and
 * its update never interleave with another writer, even another process on the same file. Holds
 * and settlements go through the group commit; what a settlement takes from balances and usage is
 * summed per batch (pending-charges.ts).
 */
import { rolledPeriodStart } from '../../accounting/periods.ts';
import { isoTime } from '../../spec/iso-time.ts';
import { assertCreditAmount, assertCreditFits } from '../../spec/money-bounds.ts';
import { chargeParams, settlementCharge } from '../row-writes.ts';
import { accountFromRow, DROPPED_HOLD, keyFromRow } from '../rows.ts';
import type { Row } from '../rows.ts';
import { assertSameCredit } from '../credit-replay.ts';
import type { ApiKeyRecord, CreditRequest, ReserveRequest, ReserveResult, SettleRequest } from '../types.ts';
import { CHARGE_SQL } from './pending-charges.ts';
import type { Connection } from './connection.ts';

export class Money {
  private readonly db: Connection;

  constructor(db: Connection) {
    this.db = db;
  }

  async credit(c: CreditRequest): Promise<boolean> {
    assertCreditAmount(c.amountNanos);
    return this.db.tx(() => {
      const inserted = this.db
        .q(
          `INSERT INTO ledger (id, account_id, key_hash, kind, amount_nanos, note, created_at)
         VALUES (?, ?, NULL, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        )
        .run(c.id, c.accountId, c.kind, c.amountNanos, c.note ?? null, c.now.toISOString());
      if (Number(inserted.changes) === 0) {
        assertSameCredit(c, this.db.q('SELECT account_id, kind, amount_nanos FROM ledger WHERE id = ?').get(c.id));
        return false;
      }
      const purchased = c.kind === 'topup' ? c.amountNanos : 0;
      // Under the write lock: a credit past the bound is refused whole (the ledger row rolls back).
      const now = this.db.q('SELECT balance_nanos, purchased_nanos FROM accounts WHERE id = ?').get(c.accountId) as Row | undefined;
      if (now) assertCreditFits(c.accountId, now.balance_nanos, now.purchased_nanos, c.amountNanos, c.kind === 'topup');
      const updated = this.db
        .q('UPDATE accounts SET balance_nanos = balance_nanos + ?, purchased_nanos = purchased_nanos + ? WHERE id = ?')
        .run(c.amountNanos, purchased, c.accountId);
      if (Number(updated.changes) === 0) throw new Error(`no account ${c.accountId}`);
      return true;
    });
  }

  /** Resets the key's period usage when its limit period has rolled over; returns the current usage. */
  private rollPeriod(key: ApiKeyRecord, now: Date): number {
    const start = rolledPeriodStart(key.limitReset, key.periodStart, now);
    if (start === undefined) return key.usageNanos;
    this.db.q('UPDATE api_keys SET usage_nanos = 0, period_start = ? WHERE hash = ?').run(start, key.hash);
    return 0;
  }

  async reserve(r: ReserveRequest): Promise<ReserveResult> {
    return this.db.grouped((): ReserveResult => {
      const keyRow = this.db.q('SELECT * FROM api_keys WHERE hash = ?').get(r.keyHash) as Row | undefined;
      if (!keyRow) return { ok: false, reason: 'key_limit', availableNanos: 0 };
      const key = keyFromRow(keyRow);
      const usage = this.rollPeriod(key, r.now);
      if (key.limitNanos !== null) {
        const available = key.limitNanos - usage - key.reservedNanos;
        if (available < r.amountNanos) return { ok: false, reason: 'key_limit', availableNanos: Math.max(0, available) };
      }
      const accountRow = this.db.q('SELECT * FROM accounts WHERE id = ?').get(r.accountId) as Row | undefined;
      if (!accountRow) return { ok: false, reason: 'balance', availableNanos: 0 };
      const account = accountFromRow(accountRow);
      if (account.prepaid) {
        const available = account.balanceNanos - account.reservedNanos;
        if (available < r.amountNanos) return { ok: false, reason: 'balance', availableNanos: Math.max(0, available) };
      }
      this.db.q('UPDATE api_keys SET reserved_nanos = reserved_nanos + ? WHERE hash = ?').run(r.amountNanos, r.keyHash);
      this.db.q('UPDATE accounts SET reserved_nanos = reserved_nanos + ? WHERE id = ?').run(r.amountNanos, r.accountId);
      this.db
        .q('INSERT INTO reservations (id, account_id, key_hash, amount_nanos, expires_at, created_at, owner) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(r.id, r.accountId, r.keyHash, r.amountNanos, isoTime(r.expiresAt), isoTime(r.now), r.owner ?? null);
      return { ok: true };
    });
  }

  /** Deletes a reservation and gives its amount back to the account and key; the deleted row, or undefined when there was none. */
  drop(id: string): Row | undefined {
    const row = this.db.q(`DELETE FROM reservations WHERE id = ? RETURNING ${DROPPED_HOLD}`).get(id) as Row | undefined;
    if (!row) return undefined;
    const amount = Number(row.amount_nanos);
    this.db.q('UPDATE accounts SET reserved_nanos = reserved_nanos - ? WHERE id = ?').run(amount, String(row.account_id));
    this.db.q('UPDATE api_keys SET reserved_nanos = reserved_nanos - ? WHERE hash = ?').run(amount, String(row.key_hash));
    return row;
  }

  async settle(s: SettleRequest): Promise<boolean> {
    return this.db.grouped(
      () => {
        if (s.held !== false) this.drop(s.reservationId);
        if (s.generation) this.db.generationRows.add(s.generation);
        const charge = s.upstreamNanos + s.feeNanos;
        const inserted = this.db.q(CHARGE_SQL).run(...chargeParams(settlementCharge(s)));
        if (Number(inserted.changes) === 0) return false;
        if (charge === 0) return true;
        this.db.charges.add(s.accountId, s.keyHash, charge, s.now);
        return true;
        // Urgent: the answer's last bytes wait for this commit, so a client that has its whole answer
        // sees its charge from any process reading this file.
      },
      { defersOnly: true },
    );
  }

  async release(reservationId: string): Promise<boolean> {
    return this.db.grouped(() => this.drop(reservationId) !== undefined, { urgent: false });
  }

  async releaseExpired(now: Date): Promise<number> {
    const ids = (this.db.q('SELECT id FROM reservations WHERE expires_at < ?').all(now.toISOString()) as Row[]).map((r) => String(r.id));
    let released = 0;
    for (const id of ids) if (this.db.tx(() => this.drop(id)) !== undefined) released++;
    return released;
  }
}

/** Reads of the money's record on SQLite: an account's ledger, its sums, and the holds still open. */
import { ledgerPageSql } from '../ledger-queries.ts';
import { ledgerFromRow } from '../rows.ts';
import type { Row } from '../rows.ts';
import type { LedgerEntry, LedgerPage } from '../types.ts';
import type { Connection } from './connection.ts';

export class Ledger {
  private readonly db: Connection;

  constructor(db: Connection) {
    this.db = db;
  }

  async ledger(accountId: string, limit = 100, page: LedgerPage = {}): Promise<LedgerEntry[]> {
    const { sql, params } = ledgerPageSql(accountId, limit, page, () => '?');
    return (this.db.q(sql).all(...params) as Row[]).map(ledgerFromRow);
  }

  async ledgerSum(accountId: string): Promise<number> {
    return Number((this.db.q('SELECT COALESCE(SUM(amount_nanos), 0) AS s FROM ledger WHERE account_id = ?').get(accountId) as Row).s);
  }

  async ledgerTotals(accountId: string): Promise<{ credits: number; charges: number }> {
    const row = this.db
      .q(
        `SELECT COALESCE(SUM(CASE WHEN kind = 'charge' THEN 0 ELSE amount_nanos END), 0) AS credits,
              COALESCE(SUM(CASE WHEN kind = 'charge' THEN -amount_nanos ELSE 0 END), 0) AS charges
       FROM ledger WHERE account_id = ?`,
      )
      .get(accountId) as Row;
    return { credits: Number(row.credits), charges: Number(row.charges) };
  }

  async openReservations(accountId?: string): Promise<number> {
    const row = (
      accountId
        ? this.db.q('SELECT COUNT(*) AS n FROM reservations WHERE account_id = ?').get(accountId)
        : this.db.q('SELECT COUNT(*) AS n FROM reservations').get()
    ) as Row;
    return Number(row.n);
  }
}

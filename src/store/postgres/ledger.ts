/** Reads of the money's record on PostgreSQL: an account's ledger, its sums, and the holds still open. */
import { ledgerPageSql } from '../ledger-queries.ts';
import { ledgerFromRow } from '../rows.ts';
import type { LedgerEntry, LedgerPage } from '../types.ts';
import type { Queries } from './connection.ts';

export class Ledger {
  private readonly db: Queries;

  constructor(db: Queries) {
    this.db = db;
  }

  async ledger(accountId: string, limit = 100, page: LedgerPage = {}): Promise<LedgerEntry[]> {
    const { sql, params } = ledgerPageSql(accountId, limit, page, (i) => `$${i}`, ' COLLATE "C"');
    return (await this.db.q(sql, params)).rows.map(ledgerFromRow);
  }

  async ledgerSum(accountId: string): Promise<number> {
    return Number((await this.db.q('SELECT COALESCE(SUM(amount_nanos), 0) AS s FROM ledger WHERE account_id = $1', [accountId])).rows[0].s);
  }

  async ledgerTotals(accountId: string): Promise<{ credits: number; charges: number }> {
    const row = (
      await this.db.q(
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
      ? await this.db.q('SELECT COUNT(*) AS n FROM reservations WHERE account_id = $1', [accountId])
      : await this.db.q('SELECT COUNT(*) AS n FROM reservations');
    return Number(res.rows[0].n);
  }
}

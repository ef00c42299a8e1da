/**
 * SQL for reading a page of an account's ledger, in the subset both engines speak: newest first
 * (created_at descending; movements of the same instant by id ascending, as the ledger has always
 * listed them), paged by keyset (the last row's pair) rather than offset, so
 * movements written while a client pages never shift or repeat a page (see LedgerPage).
 */
import type { Sql } from './generation-queries.ts';
import type { LedgerPage } from './types.ts';

/**
 * `collate` is what makes text compare bytewise on the engine (PostgreSQL's `COLLATE "C"`;
 * nothing on SQLite), used by the ORDER BY and the cursor bound alike so both agree.
 */
export function ledgerPageSql(accountId: string, limit: number, page: LedgerPage, ph: (i: number) => string, collate = ''): Sql {
  const params: Array<string | number> = [accountId];
  const where = [`account_id = ${ph(1)}`];
  if (page.kind !== undefined) {
    params.push(page.kind);
    where.push(`kind = ${ph(params.length)}`);
  }
  if (page.before) {
    params.push(page.before.createdAt, page.before.createdAt, page.before.id);
    const n = params.length;
    // Spelled out rather than as a row comparison (the two columns go opposite ways), with
    // `created_at <=` alone bounding the index range.
    where.push(`created_at${collate} <= ${ph(n - 2)} AND (created_at${collate} < ${ph(n - 1)} OR id${collate} > ${ph(n)})`);
  }
  params.push(limit);
  return {
    sql: `SELECT * FROM ledger WHERE ${where.join(' AND ')} ORDER BY created_at${collate} DESC, id${collate} LIMIT ${ph(params.length)}`,
    params,
  };
}

/**
 * Adds CHECK constraints to existing SQLite tables. SQLite has no `ALTER TABLE ... ADD CONSTRAINT`,
 * so each table is rebuilt the way SQLite documents (https://sqlite.org/lang_altertable.html,
 * "other kinds of table schema changes"): a new table from the current definition plus the
 * checks, the rows copied, the old table dropped, the new one renamed, its indexes made again.
 * The current definition is read from the schema itself, so columns added by any migration
 * before this one are kept. Runs inside the migration's transaction.
 */
import type { DatabaseSync } from 'node:sqlite';
import { constraintName, sqliteCheck, sqliteRepair } from '../bounded-columns.ts';
import type { BoundedColumn } from '../bounded-columns.ts';

export function addSqliteChecks(db: DatabaseSync, columns: readonly BoundedColumn[]): void {
  const tables = [...new Set(columns.map((c) => c.table))];
  for (const table of tables) {
    const mine = columns.filter((c) => c.table === table);
    for (const c of mine) db.exec(sqliteRepair(c));
    const def = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) as { sql: string } | undefined;
    if (!def) throw new Error(`cannot add checks: no table ${table}`);
    const indexes = (
      db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL").all(table) as Array<{
        sql: string;
      }>
    ).map((r) => r.sql);
    const body = def.sql.trim();
    const head = new RegExp(`^CREATE TABLE\\s+"?${table}"?\\s*\\(`, 'i');
    if (!head.test(body) || !body.endsWith(')')) throw new Error(`cannot add checks: unexpected definition of ${table}`);
    const checks = mine.map((c) => `CONSTRAINT ${constraintName(c)} CHECK (${sqliteCheck(c)})`).join(',\n  ');
    const rebuilt = `${body.slice(0, -1).replace(head, `CREATE TABLE ${table}__bounded (`)},\n  ${checks}\n)`;
    db.exec(rebuilt);
    // The same columns in the same order: the new definition is the old one plus constraints.
    db.exec(`INSERT INTO ${table}__bounded SELECT * FROM ${table}`);
    db.exec(`DROP TABLE ${table}`);
    db.exec(`ALTER TABLE ${table}__bounded RENAME TO ${table}`);
    for (const sql of indexes) db.exec(sql);
  }
}

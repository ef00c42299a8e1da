/**
 * Generation records of the current transaction, written together: one multi-row INSERT per
 * power-of-two chunk (16, 8, 4, 2, 1 rows) instead of one statement per record, so a batch of
 * settlements crosses from JavaScript into SQLite a few times rather than once per record. The
 * group commit lands them with the charges (see PendingCharges): before any operation that might
 * read them, and before the commit, so a reader who sees a charge sees its record.
 */
import type { SQLInputValue, StatementSync } from 'node:sqlite';
import { GENERATION_COLUMNS, generationParams, insertGenerationsSql } from '../row-writes.ts';
import type { GenerationRecord } from '../types.ts';
import type { Deferred } from './group-commit.ts';

const ROW = `(${GENERATION_COLUMNS.map(() => '?').join(', ')})`;
const CHUNKS = [16, 8, 4, 2, 1];

const SQL = new Map(CHUNKS.map((n) => [n, insertGenerationsSql(Array.from({ length: n }, () => ROW))]));

export class PendingGenerations implements Deferred {
  private readonly statement: (sql: string) => StatementSync;
  private records: GenerationRecord[] = [];

  constructor(statement: (sql: string) => StatementSync) {
    this.statement = statement;
  }

  add(g: GenerationRecord): void {
    this.records.push(g);
  }

  land(): void {
    if (this.records.length === 0) return;
    const records = this.records;
    this.records = [];
    let at = 0;
    for (const n of CHUNKS) {
      for (; records.length - at >= n; at += n) {
        const params: SQLInputValue[] = [];
        for (let i = at; i < at + n; i++) params.push(...generationParams(records[i]));
        this.statement(SQL.get(n) as string).run(...params);
      }
    }
  }

  discard(): void {
    this.records = [];
  }
}

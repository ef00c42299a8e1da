/**
 * Generation records on SQLite: writing them (as the group commit's deferred work,
 * pending-generations.ts), and the reads over them (one, a page, usage, daily activity).
 */
import type { SQLInputValue } from 'node:sqlite';
import { activitySql, listGenerationsSql } from '../generation-queries.ts';
import { activityFromRow, generationFromRow, usageFromRow, usageSql } from '../rows.ts';
import type { Row } from '../rows.ts';
import type { ActivityQuery, ActivityRow, GenerationQuery, GenerationRecord, UsageQuery, UsageRow } from '../types.ts';
import type { Connection } from './connection.ts';

export class Generations {
  private readonly db: Connection;

  constructor(db: Connection) {
    this.db = db;
  }

  async insertGenerations(recs: readonly GenerationRecord[]): Promise<void> {
    if (recs.length === 0) return;
    await this.db.grouped(
      () => {
        for (const g of recs) this.db.generationRows.add(g);
      },
      { urgent: false, defersOnly: true },
    );
  }

  async getGeneration(id: string): Promise<GenerationRecord | undefined> {
    const row = this.db.q('SELECT * FROM generations WHERE id = ?').get(id) as Row | undefined;
    return row ? generationFromRow(row) : undefined;
  }

  async usage(q: UsageQuery): Promise<UsageRow[]> {
    const sql = usageSql(q.groupBy, () => '?', q.keyHash !== undefined, q.from !== undefined, q.to !== undefined);
    const params: SQLInputValue[] = [q.accountId];
    if (q.keyHash !== undefined) params.push(q.keyHash);
    if (q.from !== undefined) params.push(q.from);
    if (q.to !== undefined) params.push(q.to);
    return (this.db.q(sql).all(...params) as Row[]).map(usageFromRow);
  }

  async listGenerations(q: GenerationQuery): Promise<GenerationRecord[]> {
    const { sql, params } = listGenerationsSql(q, () => '?');
    return (this.db.q(sql).all(...params) as Row[]).map(generationFromRow);
  }

  async activity(q: ActivityQuery): Promise<ActivityRow[]> {
    const { sql, params } = activitySql(q, () => '?');
    return (this.db.q(sql).all(...params) as Row[]).map(activityFromRow);
  }
}

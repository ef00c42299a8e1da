/** Generation records on PostgreSQL: writing them, and the reads over them (one, a page, usage, daily activity). */
import type { PoolClient } from 'pg';
import { activitySql, listGenerationsSql } from '../generation-queries.ts';
import { GENERATION_COLUMNS, generationParams, insertGenerationsSql } from '../row-writes.ts';
import { activityFromRow, generationFromRow, usageFromRow, usageSql } from '../rows.ts';
import type { ActivityQuery, ActivityRow, GenerationQuery, GenerationRecord, UsageQuery, UsageRow } from '../types.ts';
import type { Param, Queries } from './connection.ts';

/** One record's INSERT, built once at load rather than for every record. */
const INSERT_GENERATION_SQL = insertGenerationsSql([`(${GENERATION_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`]);

export class Generations {
  private readonly db: Queries;

  constructor(db: Queries) {
    this.db = db;
  }

  /** One record, in the caller's transaction (a reclaimed hold's charge and its record commit together). */
  insert(cl: PoolClient, g: GenerationRecord): Promise<unknown> {
    return this.db.q(INSERT_GENERATION_SQL, generationParams(g), cl);
  }

  async insertGenerations(recs: readonly GenerationRecord[]): Promise<void> {
    if (recs.length === 0) return;
    await this.db.tx(async (cl) => {
      for (const g of recs) await this.db.q(INSERT_GENERATION_SQL, generationParams(g), cl);
    });
  }

  async getGeneration(id: string): Promise<GenerationRecord | undefined> {
    const row = (await this.db.q('SELECT * FROM generations WHERE id = $1', [id])).rows[0];
    return row ? generationFromRow(row) : undefined;
  }

  async usage(q: UsageQuery): Promise<UsageRow[]> {
    const sql = usageSql(q.groupBy, (i) => `$${i}`, q.keyHash !== undefined, q.from !== undefined, q.to !== undefined);
    const params: Param[] = [q.accountId];
    if (q.keyHash !== undefined) params.push(q.keyHash);
    if (q.from !== undefined) params.push(q.from);
    if (q.to !== undefined) params.push(q.to);
    return (await this.db.q(sql, params)).rows.map(usageFromRow);
  }

  async listGenerations(q: GenerationQuery): Promise<GenerationRecord[]> {
    const { sql, params } = listGenerationsSql(q, (i) => `$${i}`);
    return (await this.db.q(sql, params)).rows.map(generationFromRow);
  }

  async activity(q: ActivityQuery): Promise<ActivityRow[]> {
    const { sql, params } = activitySql(q, (i) => `$${i}`);
    return (await this.db.q(sql, params)).rows.map(activityFromRow);
  }
}

/** Stored responses (the Responses API's `store: true`) on PostgreSQL. */
import type { QueryResult, QueryResultRow } from 'pg';
import { storedResponseFromRow } from '../rows.ts';
import type { Row } from '../rows.ts';
import type { StoredResponse } from '../types.ts';
import type { Param } from './connection.ts';

/** One guarded statement on the store's pool: a lost database becomes a 503 and counts toward the outage. */
type Query = (sql: string, params?: readonly Param[]) => Promise<QueryResult<Row & QueryResultRow>>;

export class StoredResponses {
  private readonly q: Query;

  constructor(q: Query) {
    this.q = q;
  }

  async saveResponse(r: StoredResponse): Promise<void> {
    await this.q(
      `INSERT INTO responses (id, key_hash, model, input, output, response, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (id) DO NOTHING`,
      [r.id, r.keyHash, r.model, JSON.stringify(r.input), JSON.stringify(r.output), JSON.stringify(r.response), r.createdAt],
    );
  }

  async getResponse(id: string): Promise<StoredResponse | undefined> {
    const row = (await this.q('SELECT * FROM responses WHERE id = $1', [id])).rows[0];
    return row ? storedResponseFromRow(row) : undefined;
  }

  async deleteResponse(id: string, keyHash: string): Promise<boolean> {
    return ((await this.q('DELETE FROM responses WHERE id = $1 AND key_hash = $2', [id, keyHash])).rowCount ?? 0) > 0;
  }

  async purgeResponses(before: string): Promise<number> {
    return (await this.q('DELETE FROM responses WHERE created_at < $1', [before])).rowCount ?? 0;
  }
}

/** Stored responses (the Responses API's `store: true`) on SQLite. */
import type { StatementSync } from 'node:sqlite';
import { storedResponseFromRow } from '../rows.ts';
import type { Row } from '../rows.ts';
import type { StoredResponse } from '../types.ts';

export class StoredResponses {
  /** The store's statement cache, which also lands pending group-commit writes before a read. */
  private readonly q: (sql: string) => StatementSync;

  constructor(q: (sql: string) => StatementSync) {
    this.q = q;
  }

  async saveResponse(r: StoredResponse): Promise<void> {
    this.q(
      `INSERT INTO responses (id, key_hash, model, input, output, response, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
    ).run(r.id, r.keyHash, r.model, JSON.stringify(r.input), JSON.stringify(r.output), JSON.stringify(r.response), r.createdAt);
  }

  async getResponse(id: string): Promise<StoredResponse | undefined> {
    const row = this.q('SELECT * FROM responses WHERE id = ?').get(id) as Row | undefined;
    return row ? storedResponseFromRow(row) : undefined;
  }

  async deleteResponse(id: string, keyHash: string): Promise<boolean> {
    return Number(this.q('DELETE FROM responses WHERE id = ? AND key_hash = ?').run(id, keyHash).changes) > 0;
  }

  async purgeResponses(before: string): Promise<number> {
    return Number(this.q('DELETE FROM responses WHERE created_at < ?').run(before).changes);
  }
}

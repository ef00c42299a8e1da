/** Logged content on PostgreSQL: the prompts and answers of accounts that log them, kept apart from the records. */
import { contentFromRow, contentParams, INSERT_CONTENT_SQL } from '../rows.ts';
import type { GenerationContent } from '../types.ts';
import type { Queries } from './connection.ts';

export class LoggedContent {
  private readonly db: Queries;

  constructor(db: Queries) {
    this.db = db;
  }

  async saveContent(cs: readonly GenerationContent[]): Promise<void> {
    if (cs.length === 0) return;
    await this.db.tx(async (cl) => {
      for (const c of cs)
        await this.db.q(
          INSERT_CONTENT_SQL((i) => `$${i}`),
          contentParams(c),
          cl,
        );
    });
  }

  async getContent(id: string): Promise<GenerationContent | undefined> {
    const row = (await this.db.q('SELECT * FROM generation_content WHERE id = $1', [id])).rows[0];
    return row ? contentFromRow(row) : undefined;
  }

  async purgeContent(before: string): Promise<number> {
    return (await this.db.q('DELETE FROM generation_content WHERE created_at < $1', [before])).rowCount ?? 0;
  }
}

/** Logged content on SQLite: the prompts and answers of accounts that log them, kept apart from the records. */
import { contentFromRow, contentParams, INSERT_CONTENT_SQL } from '../rows.ts';
import type { Row } from '../rows.ts';
import type { GenerationContent } from '../types.ts';
import type { Connection } from './connection.ts';

export class LoggedContent {
  private readonly db: Connection;

  constructor(db: Connection) {
    this.db = db;
  }

  async saveContent(cs: readonly GenerationContent[]): Promise<void> {
    if (cs.length === 0) return;
    await this.db.grouped(
      () => {
        const st = this.db.q(INSERT_CONTENT_SQL(() => '?'));
        for (const c of cs) st.run(...contentParams(c));
      },
      { urgent: false },
    );
  }

  async getContent(id: string): Promise<GenerationContent | undefined> {
    const row = this.db.q('SELECT * FROM generation_content WHERE id = ?').get(id) as Row | undefined;
    return row ? contentFromRow(row) : undefined;
  }

  async purgeContent(before: string): Promise<number> {
    return Number(this.db.q('DELETE FROM generation_content WHERE created_at < ?').run(before).changes);
  }
}

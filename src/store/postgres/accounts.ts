/** Accounts on PostgreSQL: creating, reading and listing them, and their content-logging switch. */
import { accountFromRow } from '../rows.ts';
import type { Account } from '../types.ts';
import type { Queries } from './connection.ts';

export class Accounts {
  private readonly db: Queries;

  constructor(db: Queries) {
    this.db = db;
  }

  async createAccount(a: { id: string; name: string; prepaid: boolean; now: Date }): Promise<Account> {
    await this.db.q('INSERT INTO accounts (id, name, prepaid, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING', [
      a.id,
      a.name,
      a.prepaid ? 1 : 0,
      a.now.toISOString(),
    ]);
    return (await this.getAccount(a.id))!;
  }

  async getAccount(id: string): Promise<Account | undefined> {
    const row = (await this.db.q('SELECT * FROM accounts WHERE id = $1', [id])).rows[0];
    return row ? accountFromRow(row) : undefined;
  }

  async setAccountLogContent(id: string, on: boolean): Promise<boolean> {
    return ((await this.db.q('UPDATE accounts SET log_content = $1 WHERE id = $2', [on ? 1 : 0, id])).rowCount ?? 0) > 0;
  }

  async listAccounts(): Promise<Account[]> {
    return (await this.db.q('SELECT * FROM accounts ORDER BY created_at COLLATE "C", id COLLATE "C"')).rows.map(accountFromRow);
  }
}

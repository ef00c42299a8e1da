/** Accounts on SQLite: creating, reading and listing them, and their content-logging switch. */
import { accountFromRow } from '../rows.ts';
import type { Row } from '../rows.ts';
import type { Account } from '../types.ts';
import type { Connection } from './connection.ts';

export class Accounts {
  private readonly db: Connection;

  constructor(db: Connection) {
    this.db = db;
  }

  async createAccount(a: { id: string; name: string; prepaid: boolean; now: Date }): Promise<Account> {
    this.db
      .q('INSERT INTO accounts (id, name, prepaid, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING')
      .run(a.id, a.name, a.prepaid ? 1 : 0, a.now.toISOString());
    return (await this.getAccount(a.id))!;
  }

  async getAccount(id: string): Promise<Account | undefined> {
    const row = this.db.q('SELECT * FROM accounts WHERE id = ?').get(id) as Row | undefined;
    return row ? accountFromRow(row) : undefined;
  }

  async setAccountLogContent(id: string, on: boolean): Promise<boolean> {
    return Number(this.db.q('UPDATE accounts SET log_content = ? WHERE id = ?').run(on ? 1 : 0, id).changes) > 0;
  }

  async listAccounts(): Promise<Account[]> {
    return (this.db.q('SELECT * FROM accounts ORDER BY created_at, id').all() as Row[]).map(accountFromRow);
  }
}

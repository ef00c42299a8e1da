/** Spend alerts on SQLite (an account's or one key's threshold and webhook), and their fired state. */
import { alertFromRow } from '../rows.ts';
import type { Row } from '../rows.ts';
import type { AlertRecord } from '../types.ts';
import type { Connection } from './connection.ts';

export class Alerts {
  private readonly db: Connection;

  constructor(db: Connection) {
    this.db = db;
  }

  async createAlert(a: AlertRecord): Promise<void> {
    this.db
      .q(
        `INSERT INTO alerts (id, account_id, key_hash, threshold_kind, threshold_value, webhook_url, fired_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(a.id, a.accountId, a.keyHash, a.thresholdKind, a.thresholdValue, a.webhookUrl, a.firedAt, a.createdAt);
  }

  async getAlert(id: string): Promise<AlertRecord | undefined> {
    const row = this.db.q('SELECT * FROM alerts WHERE id = ?').get(id) as Row | undefined;
    return row ? alertFromRow(row) : undefined;
  }

  async listAlerts(accountId: string, keyHash?: string): Promise<AlertRecord[]> {
    const rows =
      keyHash === undefined
        ? this.db.q('SELECT * FROM alerts WHERE account_id = ? ORDER BY created_at, id').all(accountId)
        : this.db.q('SELECT * FROM alerts WHERE account_id = ? AND key_hash = ? ORDER BY created_at, id').all(accountId, keyHash);
    return (rows as Row[]).map(alertFromRow);
  }

  async deleteAlert(id: string): Promise<boolean> {
    return Number(this.db.q('DELETE FROM alerts WHERE id = ?').run(id).changes) > 0;
  }

  async markAlert(id: string, firedAt: string | null, expectFired: boolean): Promise<boolean> {
    const sql = `UPDATE alerts SET fired_at = ? WHERE id = ? AND fired_at IS ${expectFired ? 'NOT NULL' : 'NULL'}`;
    return Number(this.db.q(sql).run(firedAt, id).changes) > 0;
  }
}

/** Spend alerts on PostgreSQL (an account's or one key's threshold and webhook), and their fired state. */
import { alertFromRow } from '../rows.ts';
import type { AlertRecord } from '../types.ts';
import type { Queries } from './connection.ts';

export class Alerts {
  private readonly db: Queries;

  constructor(db: Queries) {
    this.db = db;
  }

  async createAlert(a: AlertRecord): Promise<void> {
    await this.db.q(
      `INSERT INTO alerts (id, account_id, key_hash, threshold_kind, threshold_value, webhook_url, fired_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [a.id, a.accountId, a.keyHash, a.thresholdKind, a.thresholdValue, a.webhookUrl, a.firedAt, a.createdAt],
    );
  }

  async getAlert(id: string): Promise<AlertRecord | undefined> {
    const row = (await this.db.q('SELECT * FROM alerts WHERE id = $1', [id])).rows[0];
    return row ? alertFromRow(row) : undefined;
  }

  async listAlerts(accountId: string, keyHash?: string): Promise<AlertRecord[]> {
    const order = 'ORDER BY created_at COLLATE "C", id COLLATE "C"';
    const res =
      keyHash === undefined
        ? await this.db.q(`SELECT * FROM alerts WHERE account_id = $1 ${order}`, [accountId])
        : await this.db.q(`SELECT * FROM alerts WHERE account_id = $1 AND key_hash = $2 ${order}`, [accountId, keyHash]);
    return res.rows.map(alertFromRow);
  }

  async deleteAlert(id: string): Promise<boolean> {
    return ((await this.db.q('DELETE FROM alerts WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async markAlert(id: string, firedAt: string | null, expectFired: boolean): Promise<boolean> {
    // One UPDATE: a concurrent one on the same row waits for it, then re-checks the condition.
    const sql = `UPDATE alerts SET fired_at = $1 WHERE id = $2 AND fired_at IS ${expectFired ? 'NOT NULL' : 'NULL'}`;
    return ((await this.db.q(sql, [firedAt, id])).rowCount ?? 0) > 0;
  }
}

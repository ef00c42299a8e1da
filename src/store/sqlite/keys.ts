/**
 * API keys on SQLite: creating, finding (every request's first read), listing, patching, deleting
 * and counting them. What a key holds and spends is money.ts's.
 */
import type { SQLInputValue } from 'node:sqlite';
import { FIND_KEY_SQL, KEY_PATCH_COLUMNS, keyFromRow } from '../rows.ts';
import type { Row } from '../rows.ts';
import type { ApiKeyRecord, KeyKind, KeyPatch } from '../types.ts';
import { createKeyParams, createKeySql } from '../row-writes.ts';
import type { Connection } from './connection.ts';

const CREATE_KEY_SQL = createKeySql(() => '?');

export class Keys {
  private readonly db: Connection;

  constructor(db: Connection) {
    this.db = db;
  }

  async createKey(k: ApiKeyRecord): Promise<void> {
    this.db.q(CREATE_KEY_SQL).run(...createKeyParams(k));
  }

  async findKey(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.db.q(FIND_KEY_SQL('?')).get(hash) as Row | undefined;
    return row ? keyFromRow(row) : undefined;
  }

  async listKeys(f: { accountId?: string; kind?: KeyKind; offset?: number; limit?: number }): Promise<ApiKeyRecord[]> {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (f.accountId !== undefined) {
      where.push('account_id = ?');
      params.push(f.accountId);
    }
    if (f.kind !== undefined) {
      where.push('kind = ?');
      params.push(f.kind);
    }
    const sql = `SELECT * FROM api_keys${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, hash LIMIT ? OFFSET ?`;
    return (this.db.q(sql).all(...params, f.limit ?? 1000, f.offset ?? 0) as Row[]).map(keyFromRow);
  }

  async updateKey(hash: string, patch: KeyPatch, now: Date): Promise<ApiKeyRecord | undefined> {
    const sets: string[] = [];
    const params: SQLInputValue[] = [];
    for (const [k, col] of Object.entries(KEY_PATCH_COLUMNS) as Array<[keyof KeyPatch, string]>) {
      if (!(k in patch)) continue;
      const v = patch[k];
      sets.push(`${col} = ?`);
      params.push(typeof v === 'boolean' ? (v ? 1 : 0) : (v ?? null));
    }
    if (sets.length > 0) {
      sets.push('updated_at = ?');
      params.push(now.toISOString());
      this.db.q(`UPDATE api_keys SET ${sets.join(', ')} WHERE hash = ?`).run(...params, hash);
    }
    return this.findKey(hash);
  }

  /** A key's alerts go with it, in the same transaction: no alert is left pointing at no key. */
  async deleteKey(hash: string): Promise<boolean> {
    return this.db.tx(() => {
      this.db.q('DELETE FROM alerts WHERE key_hash = ?').run(hash);
      return Number(this.db.q('DELETE FROM api_keys WHERE hash = ?').run(hash).changes) > 0;
    });
  }

  async countKeys(kind?: KeyKind): Promise<number> {
    const row = (
      kind
        ? this.db.q('SELECT COUNT(*) AS n FROM api_keys WHERE kind = ?').get(kind)
        : this.db.q('SELECT COUNT(*) AS n FROM api_keys').get()
    ) as Row;
    return Number(row.n);
  }
}

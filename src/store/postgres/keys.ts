/**
 * API keys on PostgreSQL: creating, finding (every request's first read), listing, patching,
 * deleting and counting them. What a key holds and spends is money.ts's.
 */
import { FIND_KEY_SQL, KEY_PATCH_COLUMNS, keyFromRow } from '../rows.ts';
import type { ApiKeyRecord, KeyKind, KeyPatch } from '../types.ts';
import { createKeyParams, createKeySql } from '../row-writes.ts';
import type { Param, Queries } from './connection.ts';

const CREATE_KEY_SQL = createKeySql((i) => `$${i}`);

export class Keys {
  private readonly db: Queries;

  constructor(db: Queries) {
    this.db = db;
  }

  async createKey(k: ApiKeyRecord): Promise<void> {
    await this.db.q(CREATE_KEY_SQL, createKeyParams(k));
  }

  async findKey(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = (await this.db.q(FIND_KEY_SQL('$1'), [hash])).rows[0];
    return row ? keyFromRow(row) : undefined;
  }

  async listKeys(f: { accountId?: string; kind?: KeyKind; offset?: number; limit?: number }): Promise<ApiKeyRecord[]> {
    const where: string[] = [];
    const params: Param[] = [];
    if (f.accountId !== undefined) {
      params.push(f.accountId);
      where.push(`account_id = $${params.length}`);
    }
    if (f.kind !== undefined) {
      params.push(f.kind);
      where.push(`kind = $${params.length}`);
    }
    params.push(f.limit ?? 1000, f.offset ?? 0);
    const sql =
      `SELECT * FROM api_keys${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ` +
      `ORDER BY created_at COLLATE "C", hash COLLATE "C" LIMIT $${params.length - 1} OFFSET $${params.length}`;
    return (await this.db.q(sql, params)).rows.map(keyFromRow);
  }

  async updateKey(hash: string, patch: KeyPatch, now: Date): Promise<ApiKeyRecord | undefined> {
    const sets: string[] = [];
    const params: Param[] = [];
    for (const [k, col] of Object.entries(KEY_PATCH_COLUMNS) as Array<[keyof KeyPatch, string]>) {
      if (!(k in patch)) continue;
      const v = patch[k];
      params.push(typeof v === 'boolean' ? (v ? 1 : 0) : (v ?? null));
      sets.push(`${col} = $${params.length}`);
    }
    if (sets.length > 0) {
      params.push(now.toISOString());
      sets.push(`updated_at = $${params.length}`);
      params.push(hash);
      await this.db.q(`UPDATE api_keys SET ${sets.join(', ')} WHERE hash = $${params.length}`, params);
    }
    return this.findKey(hash);
  }

  /** A key's alerts go with it, in the same transaction: no alert is left pointing at no key. */
  async deleteKey(hash: string): Promise<boolean> {
    return this.db.tx(async (cl) => {
      await this.db.q('DELETE FROM alerts WHERE key_hash = $1', [hash], cl);
      return ((await this.db.q('DELETE FROM api_keys WHERE hash = $1', [hash], cl)).rowCount ?? 0) > 0;
    });
  }

  async countKeys(kind?: KeyKind): Promise<number> {
    const res = kind
      ? await this.db.q('SELECT COUNT(*) AS n FROM api_keys WHERE kind = $1', [kind])
      : await this.db.q('SELECT COUNT(*) AS n FROM api_keys');
    return Number(res.rows[0].n);
  }
}

/**
 * Opens the store a DATABASE_URL names. PostgreSQL URLs are recognised so the error is clear until
 * the PostgreSQL store lands.
 */
import { SqliteStore, sqlitePathFromUrl } from './sqlite/sqlite-store.ts';
import type { Store } from './types.ts';

export async function openStore(url: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    throw new Error('PostgreSQL storage is not available in this version; use a SQLite path or file: URL');
  }
  const store = new SqliteStore(sqlitePathFromUrl(url));
  await store.migrate();
  return store;
}

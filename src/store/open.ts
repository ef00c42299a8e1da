/**
 * Opens the store a DATABASE_URL names: `postgres://` / `postgresql://` → PostgreSQL, anything
 * else → a SQLite file (a path or a `file:` URL).
 */
import { SqliteStore, sqlitePathFromUrl } from './sqlite/sqlite-store.ts';
import type { Store } from './types.ts';

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

export async function openStore(url: string): Promise<Store> {
  let store: Store;
  if (isPostgresUrl(url)) {
    const { PostgresStore } = await import('./postgres/postgres-store.ts');
    store = new PostgresStore(url);
  } else {
    store = new SqliteStore(sqlitePathFromUrl(url));
  }
  await store.migrate();
  return store;
}

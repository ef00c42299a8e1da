/**
 * Opens the store a DATABASE_URL names: `postgres://` / `postgresql://` → PostgreSQL, anything
 * else → a SQLite file (a path or a `file:` URL).
 */
import type { PostgresStoreOptions } from './postgres/postgres-store.ts';
import { SqliteStore, sqlitePathFromUrl } from './sqlite/sqlite-store.ts';
import type { Store } from './types.ts';

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/** `opts` are PostgreSQL's timeouts and logger; a SQLite file has neither. */
export async function openStore(url: string, opts: PostgresStoreOptions = {}): Promise<Store> {
  let store: Store;
  if (isPostgresUrl(url)) {
    const { PostgresStore } = await import('./postgres/postgres-store.ts');
    store = new PostgresStore(url, opts);
  } else {
    store = new SqliteStore(sqlitePathFromUrl(url));
  }
  await store.migrate();
  return store;
}

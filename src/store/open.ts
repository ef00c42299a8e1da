/**
 * Opens the store a DATABASE_URL names: `postgres://` / `postgresql://` → PostgreSQL, anything
 * else → a SQLite file (a path or a `file:` URL).
 */
import type { PostgresStoreOptions } from './postgres/postgres-store.ts';
import { SqliteStore, sqlitePathFromUrl } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

export interface StoreOptions extends PostgresStoreOptions {
  /** A SQLite file's WAL checkpoints: on a thread of this process, or by another process sharing the file. */
  sqliteCheckpoints?: 'thread' | 'elsewhere';
}

/** `opts`: PostgreSQL's timeouts and logger, and where a SQLite file is checkpointed. */
export async function openStore(url: string, opts: StoreOptions = {}): Promise<Store> {
  let store: Store;
  if (isPostgresUrl(url)) {
    const { PostgresStore } = await import('./postgres/postgres-store.ts');
    store = new PostgresStore(url, opts);
  } else {
    store = new SqliteStore(sqlitePathFromUrl(url), { checkpoints: opts.sqliteCheckpoints });
  }
  await store.migrate();
  return store;
}

/**
 * Start-up on SQLite: the migrations, each in a write transaction that checks whether it is
 * applied, so processes starting together apply each once; and `whileBusy`, the retry every
 * start-up step goes through.
 */
import { MIGRATIONS } from '../migrations.ts';
import { addSqliteChecks } from './add-checks.ts';
import type { Connection } from './connection.ts';

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs a start-up step, retrying for up to 10 s while another process holds a lock. Processes
 * opening a new file together can meet a lock SQLite will not wait for (its busy handler is skipped
 * where waiting could deadlock, e.g. while the file still switches to WAL): "database is locked" at
 * once, not after busy_timeout. Only start-up steps, which are idempotent, go through here.
 */
export function whileBusy<T>(step: () => T): T {
  const deadline = Date.now() + 10_000;
  for (let waitMs = 5; ; waitMs = Math.min(waitMs * 2, 200)) {
    try {
      return step();
    } catch (err) {
      if (!/database is locked|SQLITE_BUSY/i.test((err as Error).message ?? '') || Date.now() > deadline) throw err;
      Atomics.wait(pause, 0, 0, waitMs);
    }
  }
}

/** Brings the file's schema up to the newest migration. */
export async function migrate(st: Connection): Promise<void> {
  const { db } = st;
  st.writes.waitForLocks();
  whileBusy(() =>
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)'),
  );
  for (const m of MIGRATIONS) {
    whileBusy(() =>
      st.tx(() => {
        // Checked inside the write lock: two processes starting together apply each migration once.
        if (st.q('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version)) return;
        for (const sql of m.sql) db.exec(sql);
        if (m.bounded) addSqliteChecks(db, m.bounded);
        st.q('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
      }),
    );
  }
}

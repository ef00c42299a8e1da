/**
 * Migrations on PostgreSQL: every one in its own transaction, under an advisory lock, so processes
 * starting together apply each exactly once. They run on a pool of their own without the requests'
 * statement timeout, which a migration may outlast.
 */
import pg from 'pg';
import { postgresBoundStatements } from '../bounded-columns.ts';
import { MIGRATIONS } from '../migrations.ts';
import { transaction } from './connection.ts';

/** Key of the advisory lock that serializes migrations across processes ("Free" in ASCII). */
const MIGRATION_LOCK = 0x46726565;

/** Brings the schema (`schema`: created first when named) up to the newest migration. */
export async function migrate(connection: pg.PoolConfig, schema: string | undefined): Promise<void> {
  const pool = new pg.Pool({ ...connection, max: 1 });
  pool.on('error', () => {});
  try {
    await migrateOn(pool, schema);
  } finally {
    await pool.end();
  }
}

async function migrateOn(pool: pg.Pool, schema: string | undefined): Promise<void> {
  await transaction(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    if (schema) await c.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await c.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
  });
  for (const m of MIGRATIONS) {
    await transaction(pool, async (c) => {
      // Checked under the lock: two processes starting together apply each migration once.
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const done = await c.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
      if (done.rowCount) return;
      for (const sql of m.sql) await c.query(sql);
      for (const sql of m.bounded ? postgresBoundStatements(m.bounded) : []) await c.query(sql);
      await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        new Date().toISOString(),
      ]);
    });
  }
}

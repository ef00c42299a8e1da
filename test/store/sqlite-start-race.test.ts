/**
 * Processes that open one new SQLite file at the same moment (replicas started together, as
 * `limits.test.ts` does) all start: none fails with "database is locked" while another switches the
 * file to WAL or migrates it, and each migration is applied once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const STORE = join(import.meta.dirname, '..', '..', 'src', 'store', 'sqlite', 'sqlite-store.ts');

/** A child that opens and migrates `path` when told to go, then says `ok` or the error. */
const CHILD = `
import { SqliteStore } from ${JSON.stringify(STORE)};
process.stdout.write('ready\\n');
process.stdin.once('data', async () => {
  try {
    const s = new SqliteStore(process.argv[1]);
    await s.migrate();
    await s.close();
    process.stdout.write('ok\\n');
  } catch (err) {
    process.stdout.write('error ' + err.message + '\\n');
  }
  process.exit(0);
});
`;

function child(path: string): { ready: Promise<void>; go: () => void; result: Promise<string> } {
  const c = spawn(process.execPath, ['--input-type=module', '-e', CHILD, path], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => (onReady = r));
  c.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (out.startsWith('ready\n')) onReady();
  });
  const result = new Promise<string>((resolve) => c.on('close', () => resolve(out.replace(/^ready\n/, '').trim())));
  void result.then(onReady);
  return { ready, go: () => c.stdin.write('go\n'), result };
}

test('six processes opening and migrating one new SQLite file at once all start, five times over', async () => {
  for (let round = 0; round < 5; round++) {
    const path = join(tempDir('freeway-race-'), 'freeway.db');
    const children = Array.from({ length: 6 }, () => child(path));
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const results = await Promise.all(children.map((c) => c.result));
    assert.deepEqual(
      results,
      results.map(() => 'ok'),
      `round ${round}: ${results.join(' | ')}`,
    );
    const db = new DatabaseSync(path);
    const versions = (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as Array<{ version: number }>).map(
      (r) => r.version,
    );
    db.close();
    assert.deepEqual(
      versions,
      MIGRATIONS.map((m) => m.version),
      'each migration once',
    );
  }
});

/**
 * WAL checkpoints run on a worker thread: the serving connection never checkpoints inside a
 * commit, yet the write-ahead log still reaches the database file; if the worker dies, the
 * connection checkpoints for itself again.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { createKey } from '../../src/accounting/keys.ts';
import { startCheckpointer } from '../../src/store/sqlite/checkpointer.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the serving connection leaves checkpoints to the worker, and the log reaches the database file', async () => {
  const path = join(tempDir('freeway-ckpt-'), 'freeway.db');
  const store = new SqliteStore(path);
  await store.migrate();
  // any: the connection is private; the test reads one of its settings.
  const db = (store as any).db as DatabaseSync;
  assert.equal(db.prepare('PRAGMA wal_autocheckpoint').get()?.wal_autocheckpoint, 0);
  await sleep(1_200);
  const before = statSync(path).size;
  for (let i = 0; i < 300; i++) await createKey(store, { name: `k${i}`, kind: 'inference' });
  // Nothing checkpoints inside the commits: the rows are in the log, not yet in the file.
  assert.ok(statSync(`${path}-wal`).size > 0);
  await sleep(1_500);
  assert.ok(statSync(path).size > before, 'the worker copied the log into the database file');
  assert.equal((await store.listKeys({ accountId: 'default' })).length >= 300, true);
  await store.close();
});

test('a worker that dies hands checkpointing back to the connection', async () => {
  const path = join(tempDir('freeway-ckpt-'), 'lost.db');
  new DatabaseSync(path).close();
  let lost = 0;
  // A path the worker cannot open makes it fail at once.
  const c = startCheckpointer(join(path, 'not-a-dir', 'x.db'), () => lost++);
  assert.ok(c);
  for (let i = 0; i < 50 && lost === 0; i++) await sleep(20);
  assert.equal(lost, 1);
  await c.stop();
});

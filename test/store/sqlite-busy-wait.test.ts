/**
 * Several processes on one SQLite file (`serve --workers N`): a commit that finds the write lock
 * taken by another connection waits for it and then commits, rather than failing (the store
 * waits in its own loop, not SQLite's busy handler: group-commit.ts). The other connection runs
 * on a thread of its own, as another worker runs in a process of its own.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { tempDir } from '../helpers/temp-dir.ts';

// Holds the write lock until told to let go (a SharedArrayBuffer flag), then commits.
const HOLDER = `
const { workerData, parentPort } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path);
db.exec('BEGIN IMMEDIATE');
db.exec("INSERT INTO accounts (id, name, prepaid, created_at) VALUES ('holder', 'h', 0, '2026-01-01')");
parentPort.postMessage('locked');
const flag = new Int32Array(workerData.flag);
Atomics.wait(flag, 0, 0);
db.exec('COMMIT');
db.close();
`;

test("a commit waits for another connection's write lock, then commits (both writes land)", async () => {
  const path = join(tempDir('freeway-busy-'), 'f.db');
  const store = new SqliteStore(path);
  await store.migrate();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const holder = new Worker(HOLDER, { eval: true, workerData: { path, flag: flag.buffer } });
  await new Promise((resolve) => holder.once('message', resolve));
  // Let go from another thread a little later: this thread is blocked in the commit meanwhile.
  const releaser = new Worker(
    `const { workerData } = require('node:worker_threads'); const f = new Int32Array(workerData);
    Atomics.wait(f, 0, 0, 30); Atomics.store(f, 0, 1); Atomics.notify(f, 0);`,
    { eval: true, workerData: flag.buffer },
  );
  const reserved = await store.reserve({
    id: 'r1',
    accountId: 'holder',
    keyHash: 'nokey',
    amountNanos: 1,
    now: new Date(),
    expiresAt: new Date(Date.now() + 60_000),
  });
  // The key does not exist, so the hold is refused; but the transaction ran after the holder's commit: its account is there.
  assert.deepEqual(reserved, { ok: false, reason: 'key_limit', availableNanos: 0 });
  assert.ok(await store.getAccount('holder'), "the other connection's write committed first");
  await store.createAccount({ id: 'after', name: 'a', prepaid: false, now: new Date() });
  assert.ok(await store.getAccount('after'));
  await holder.terminate();
  await releaser.terminate();
  await store.close();
});

/**
 * `freeway serve --workers 2` on the embedded default (SQLite, no PostgreSQL, no Redis): requests
 * spread across both workers (each connection pinned to a worker that /health names) still meet a
 * key's credit limit and its requests-per-minute exactly (also a limit large enough to be spent in
 * blocks); a worker killed with SIGKILL is replaced
 * and its credit holds are settled while the other worker keeps serving; SIGTERM to the primary
 * drains both workers, which give up their leases.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Client } from 'undici';
import { createKey } from '../../src/accounting/keys.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Emulator } from '../emulators/common.ts';
import { startOpenAIEmulator } from '../emulators/openai.ts';
import { startFreewayProcess } from '../helpers/freeway-process.ts';
import type { FreewayProcess } from '../helpers/freeway-process.ts';
import { chatOn as chat, connectionsPerWorker as pinned } from '../helpers/pinned-connections.ts';
import { tempDir } from '../helpers/temp-dir.ts';

let emu: Emulator;
let fw: FreewayProcess;
let store: SqliteStore;
let db: string;
const opened: Client[] = [];

before(async () => {
  emu = await startOpenAIEmulator();
  const dir = tempDir('freeway-workers-');
  db = join(dir, 'freeway.db');
  const env = { OPENAI_API_KEY: emu.apiKey, OPENAI_BASE_URL: `${emu.url}/v1`, DATABASE_URL: db, FREEWAY_ADMIN_KEY: 'admin-test' };
  fw = await startFreewayProcess({ cwd: dir, env, args: ['--workers', '2'] });
  // Leaves checkpoints to the primary, as the workers do: the test below sees whose they are.
  store = new SqliteStore(db, { checkpoints: 'elsewhere' });
  await store.migrate();
});

after(async () => {
  await Promise.all(opened.map((c) => c.destroy()));
  await fw?.kill();
  await store?.close();
  await emu?.close();
});

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${fw.output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function worstCase(c: Client, content: string, stream: boolean, maxTokens: number): Promise<number> {
  const probe = await createKey(store, { name: 'probe', kind: 'inference', limitNanos: 0 });
  const res = await chat(c, probe.key, content, { stream, maxTokens });
  assert.equal(res.statusCode, 402);
  return ((await res.body.json()) as { error: { metadata: { required_nanos: number } } }).error.metadata.required_nanos;
}

async function ledgerBalanced(keyHash: string, limit?: number): Promise<void> {
  await until('every hold settled', async () => (await store.openReservations()) === 0);
  const k = (await store.findKey(keyHash))!;
  assert.equal(k.reservedNanos, 0);
  if (limit !== undefined) assert.ok(k.usageTotalNanos <= limit, `usage ${k.usageTotalNanos} within the limit ${limit}`);
  const account = (await store.getAccount('default'))!;
  assert.equal(account.reservedNanos, 0);
  assert.equal(await store.ledgerSum('default'), account.balanceNanos, 'the balance is the sum of the ledger');
}

test("a key's credit limit holds exactly across two workers: 10 streams fit, 20 more are refused while they run", async () => {
  const [a, b] = await pinned(fw.url, 15, opened);
  const content = '[[long]] [[drip:50]]';
  const worst = await worstCase(a[0].client, content, true, 2_000);
  const limit = worst * 10 + Math.floor(worst / 2);
  const { key, record } = await createKey(store, { name: 'credit', kind: 'inference', limitNanos: limit });
  const stop = new AbortController();
  // 30 streams at once, 15 on each worker; each holds its worst case until it ends.
  const answers = await Promise.all(
    [...a, ...b].map(async (p) => {
      const res = await chat(p.client, key, content, { stream: true, maxTokens: 2_000, signal: stop.signal });
      if (res.statusCode !== 200) await res.body.text();
      else res.body.on('error', () => {}).resume();
      return { worker: p.worker, status: res.statusCode };
    }),
  );
  assert.equal(answers.filter((r) => r.status === 200).length, 10, 'exactly what the limit covers is admitted');
  assert.equal(answers.filter((r) => r.status === 402).length, 20);
  assert.equal(await store.openReservations(), 10, 'the ten admitted streams hold their worst case at once');
  const k = (await store.findKey(record.hash))!;
  assert.ok(k.reservedNanos + k.usageNanos <= limit, 'holds and usage never pass the limit');
  stop.abort();
  await ledgerBalanced(record.hash, limit);
});

test("a key's requests per minute hold exactly across two workers: 12 of 40 requests pass, spread over both", async () => {
  const [a, b] = await pinned(fw.url, 20, opened);
  const { key, record } = await createKey(store, { name: 'rpm', kind: 'inference', requestsPerMinute: 12 });
  const answers = await Promise.all(
    [...a, ...b].map(async (p) => {
      const res = await chat(p.client, key, 'hello');
      await res.body.text();
      return { worker: p.worker, status: res.statusCode };
    }),
  );
  assert.equal(answers.filter((r) => r.status === 200).length, 12, 'one count for the key, not one per worker');
  assert.equal(answers.filter((r) => r.status === 429).length, 28);
  await ledgerBalanced(record.hash);
});

test('a larger requests-per-minute limit, spent in blocks, still holds exactly: 150 of 300 pass over both workers', async () => {
  const [a, b] = await pinned(fw.url, 20, opened);
  const { key, record } = await createKey(store, { name: 'rpm-blocks', kind: 'inference', requestsPerMinute: 150 });
  const status = async (c: Client) => {
    const res = await chat(c, key, 'hello');
    await res.body.text();
    return res.statusCode;
  };
  // Worker A serves first (and takes blocks); then every connection of both sends, concurrently.
  const first = await Promise.all(a.map((p) => status(p.client)));
  const rest = await Promise.all(
    [...a, ...b].map(async (p) => {
      const out: number[] = [];
      for (let i = 0; i < 7; i++) out.push(await status(p.client));
      return out;
    }),
  );
  const all = [...first, ...rest.flat()];
  assert.equal(all.length, 300);
  assert.equal(all.filter((s) => s === 200).length, 150, 'exactly the limit, whichever worker held the blocks');
  assert.equal(all.filter((s) => s === 429).length, 150);
  // Then only worker B: nothing more fits in this minute.
  assert.equal(await status(b[0].client), 429);
  await ledgerBalanced(record.hash);
});

test('a worker killed mid-stream is restarted, and its holds are settled while the other worker keeps its own', async () => {
  const [a, b] = await pinned(fw.url, 4, opened);
  const { key, record } = await createKey(store, { name: 'crash', kind: 'inference', limitNanos: 1_000_000_000 });
  const stop = new AbortController();
  await Promise.all(
    [...a, ...b].map(async (p) => {
      const res = await chat(p.client, key, '[[long]] [[drip:100]]', { stream: true, maxTokens: 4_000, signal: stop.signal });
      assert.equal(res.statusCode, 200);
      res.body.on('error', () => {}).resume();
    }),
  );
  assert.equal(await store.openReservations(), 8);
  const leases = await store.listLeases();
  const ownerOf = (pid: number) => leases.find((l) => l.pid === pid)!.owner;
  const victim = a[0];
  const survivor = ownerOf(b[0].pid);
  process.kill(victim.pid, 'SIGKILL');
  await until("the killed worker's replacement", () => fw.output().includes(`replacing worker ${victim.worker}`));
  // The replacement settles the dead worker's holds before it serves; the survivor's stay.
  await until("the dead worker's holds settled", async () => (await store.openReservations()) === 4);
  const { DatabaseSync } = await import('node:sqlite');
  const raw = new DatabaseSync(db, { readOnly: true });
  const owners = raw
    .prepare('SELECT DISTINCT owner FROM reservations')
    .all()
    .map((r) => String(r.owner));
  raw.close();
  assert.deepEqual(owners, [survivor], "only the living worker's holds remain");
  assert.ok(!(await store.listLeases()).some((l) => l.pid === victim.pid), "the dead worker's lease is gone");
  // Two workers serve again, one of them new.
  const [c, d] = await pinned(fw.url, 1, opened);
  const pids = [c[0].pid, d[0].pid];
  assert.ok(!pids.includes(victim.pid) && pids.includes(b[0].pid), `serving: ${pids.join(', ')}`);
  const res = await chat(c[0].client, key, 'after the crash');
  assert.equal(res.statusCode, 200);
  await res.body.text();
  stop.abort();
  await ledgerBalanced(record.hash);
});

test('the primary checkpoints the shared file for both workers, which run no checkpointer thread of their own', async () => {
  const [a, b] = await pinned(fw.url, 1, opened);
  const threads = (pid: number) => readdirSync(`/proc/${pid}/task`).map((t) => readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim());
  for (const pid of [a[0].pid, b[0].pid, fw.child.pid!]) {
    assert.ok(!threads(pid).includes('WorkerThread'), `no worker thread in ${pid}: ${threads(pid).join(', ')}`);
  }
  const before = statSync(db).size;
  // Written by this test's connection, which (like the workers) checkpoints only past 10,000 pages of
  // log, far more than these rows: what copies them into the database file is the primary.
  for (let i = 0; i < 300; i++) await createKey(store, { name: `ckpt-${i}`, kind: 'inference' });
  await until('the primary copies the log into the database file', () => statSync(db).size > before, 10_000);
});

test('SIGTERM to the primary drains both workers: every lease given up, the process exits 0', async () => {
  for (const c of opened.splice(0)) await c.destroy();
  await fw.stop();
  assert.equal(fw.child.exitCode, 0, fw.output());
  assert.deepEqual(await store.listLeases(), []);
  assert.equal(await store.openReservations(), 0);
});

test('workers do not outlive their primary: SIGKILL to the primary, and both workers drain and exit', async () => {
  const dir = tempDir('freeway-workers-orphan-');
  const provider = { OPENAI_API_KEY: emu.apiKey, OPENAI_BASE_URL: `${emu.url}/v1` };
  const env = { ...provider, DATABASE_URL: join(dir, 'freeway.db'), FREEWAY_ADMIN_KEY: 'admin-test' };
  const p = await startFreewayProcess({ cwd: dir, env, args: ['--workers', '2'] });
  // The workers' pids are printed after the listening line: wait for them (a loaded machine can be between the two).
  const deadlineStart = Date.now() + 20_000;
  let found: RegExpExecArray | null;
  while (!(found = /pids (\d+), (\d+)/.exec(p.output())) && Date.now() < deadlineStart) await new Promise((r) => setTimeout(r, 25));
  if (!found) {
    await p.stop();
    assert.fail(`no worker pids were printed:\n${p.output()}`);
  }
  const pids = found.slice(1).map(Number);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  assert.ok(pids.every(alive));
  await p.kill();
  const deadline = Date.now() + 30_000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  assert.deepEqual(pids.filter(alive), [], 'no worker left serving without its primary');
});

test('--workers on an in-memory database (one per worker, nothing shared) is refused with a message naming it', async () => {
  const { spawnSync } = await import('node:child_process');
  const { cleanEnv } = await import('../helpers/freeway-process.ts');
  const cli = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
  const r = spawnSync(process.execPath, [cli, 'serve', '--port', '0', '--workers', '2'], {
    cwd: tempDir('freeway-workers-mem-'),
    env: cleanEnv({ DATABASE_URL: ':memory:' }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--workers needs a database the workers can share: a SQLite file or PostgreSQL, not :memory:/);
});

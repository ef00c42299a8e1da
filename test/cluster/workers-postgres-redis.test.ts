/**
 * `freeway serve --workers 2` on PostgreSQL + Redis (a replica of a multi-machine deployment that
 * also uses its cores): the primary prepares the PostgreSQL database, the workers share rate
 * limits through Redis (not the primary), exactly, and drain cleanly.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Client } from 'undici';
import { createKey } from '../../src/accounting/keys.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { Emulator } from '../emulators/common.ts';
import { startOpenAIEmulator } from '../emulators/openai.ts';
import { startFreewayProcess } from '../helpers/freeway-process.ts';
import type { FreewayProcess } from '../helpers/freeway-process.ts';
import { chatOn, connectionsPerWorker } from '../helpers/pinned-connections.ts';
import { dropPgSchema, needs, pgSchemaUrl, REDIS_URL } from '../helpers/services.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const skip = await needs('postgres', 'redis');
const { url, schema } = pgSchemaUrl('freeway_workers');
let emu: Emulator;
let fw: FreewayProcess;
let store: PostgresStore;
const opened: Client[] = [];

before(async () => {
  if (skip) return;
  emu = await startOpenAIEmulator();
  const provider = { OPENAI_API_KEY: emu.apiKey, OPENAI_BASE_URL: `${emu.url}/v1` };
  const env = { ...provider, DATABASE_URL: url, REDIS_URL, FREEWAY_ADMIN_KEY: 'admin-test' };
  fw = await startFreewayProcess({ cwd: tempDir(), env, args: ['--workers', '2'] });
  store = new PostgresStore(url);
  await store.migrate();
});

after(async () => {
  if (skip) return;
  await Promise.all(opened.map((c) => c.destroy()));
  await fw?.stop();
  await store?.close();
  await emu?.close();
  await dropPgSchema(schema);
});

test('two workers on PostgreSQL + Redis: rpm exact through Redis; drained, the ledger balances, no lease left', { skip }, async () => {
  const [a, b] = await connectionsPerWorker(fw.url, 20, opened);
  const res = await a[0].client.request({ path: '/health', method: 'GET' });
  const health = (await res.body.json()) as { store: { kind: string }; redis: { limits: string } };
  assert.equal(health.store.kind, 'postgres');
  assert.equal(health.redis.limits, 'shared');
  const rpm = await createKey(store, { name: 'rpm', kind: 'inference', requestsPerMinute: 12 });
  const statuses = await Promise.all(
    [...a, ...b].map(async (p) => {
      const res = await chatOn(p.client, rpm.key, 'hello');
      await res.body.text();
      return res.statusCode;
    }),
  );
  assert.equal(statuses.filter((s) => s === 200).length, 12);
  assert.equal(statuses.filter((s) => s === 429).length, 28);
  await fw.stop();
  assert.equal(fw.child.exitCode, 0);
  const deadline = Date.now() + 10_000;
  while ((await store.openReservations()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  assert.equal(await store.openReservations(), 0);
  assert.deepEqual(await store.listLeases(), [], 'both workers gave up their leases');
  const account = (await store.getAccount('default'))!;
  assert.equal(await store.ledgerSum('default'), account.balanceNanos);
});

/**
 * Two Freeway processes sharing one PostgreSQL database: 200 concurrent requests against a key
 * whose limit covers 20, split across both, and exactly 20 succeed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createKey } from '../../src/accounting/keys.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { Emulator } from '../emulators/common.ts';
import { startOpenAIEmulator } from '../emulators/openai.ts';
import { startFreewayProcesses } from '../helpers/freeway-process.ts';
import type { FreewayProcess } from '../helpers/freeway-process.ts';
import { dropPgSchema, needs, pgSchemaUrl } from '../helpers/services.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const skip = await needs('postgres');
const { url, schema } = pgSchemaUrl('freeway_e2e');
let emu: Emulator;
let gateways: FreewayProcess[] = [];
let store: PostgresStore;

before(async () => {
  if (skip) return;
  emu = await startOpenAIEmulator();
  const env = { OPENAI_API_KEY: emu.apiKey, OPENAI_BASE_URL: `${emu.url}/v1`, DATABASE_URL: url, FREEWAY_ADMIN_KEY: 'admin-test' };
  // Both start at once: migrations must still apply exactly once.
  gateways = await startFreewayProcesses([
    { cwd: tempDir(), env },
    { cwd: tempDir(), env },
  ]);
  store = new PostgresStore(url);
  await store.migrate();
});

after(async () => {
  if (skip) return;
  await Promise.all(gateways.map((g) => g.stop()));
  await store?.close();
  await emu.close();
  await dropPgSchema(schema);
});

async function chat(base: string, key: string, content: string) {
  const res = await fetch(`${base}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', max_tokens: 200, messages: [{ role: 'user', content }] }),
  });
  const body = (await res.json()) as { error?: { metadata?: { required_nanos?: number } } };
  return { status: res.status, body };
}

test('a per-key limit holds exactly across two processes', { skip }, async () => {
  const probe = await createKey(store, { name: 'probe', kind: 'inference', limitNanos: 0 });
  const content = 'go [[slow:2000]]';
  const refused = await chat(gateways[0].url, probe.key, content);
  assert.equal(refused.status, 402);
  const worst = refused.body.error!.metadata!.required_nanos!;
  const limit = worst * 20 + Math.floor(worst / 2);
  const { key, record } = await createKey(store, { name: 'shared', kind: 'inference', limitNanos: limit });
  const statuses = await Promise.all(Array.from({ length: 200 }, (_, i) => chat(gateways[i % 2].url, key, content).then((r) => r.status)));
  assert.equal(statuses.filter((s) => s === 200).length, 20);
  assert.equal(statuses.filter((s) => s === 402).length, 180);
  // Charges commit as responses leave the gateways: give the last ones a moment to land.
  const deadline = Date.now() + 5_000;
  while ((await store.openReservations()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const k = (await store.findKey(record.hash))!;
  assert.ok(k.usageTotalNanos <= limit);
  assert.equal(k.reservedNanos, 0);
  const account = (await store.getAccount('default'))!;
  assert.equal(await store.ledgerSum('default'), account.balanceNanos);
  assert.equal(await store.openReservations(), 0);
});

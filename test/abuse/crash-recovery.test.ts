/**
 * A Freeway process killed with SIGKILL in the middle of streamed requests: after a restart no
 * hold is stuck (its holds are settled at once, not after their TTL), the streams it was serving
 * are charged what they had delivered by their last checkpoint, the ledger balances, and nothing
 * is charged twice.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createKey } from '../../src/accounting/keys.ts';
import { DatabaseSync } from 'node:sqlite';
import { CRASH_ERROR } from '../../src/gateway/stream-checkpoints.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Emulator } from '../emulators/common.ts';
import { startOpenAIEmulator } from '../emulators/openai.ts';
import { startFreewayProcess } from '../helpers/freeway-process.ts';
import { readStream } from '../helpers/read-stream.ts';
import { tempDir } from '../helpers/temp-dir.ts';

let emu: Emulator;
before(async () => {
  emu = await startOpenAIEmulator();
});
after(() => emu.close());

test('SIGKILL mid-stream, then restart: holds released, ledger balanced, no double charge', async () => {
  const dir = tempDir('freeway-crash-');
  const db = join(dir, 'freeway.db');
  writeFileSync(join(dir, 'freeway.yaml'), 'billing:\n  reservationTtlSeconds: 1\n');
  const env = { OPENAI_API_KEY: emu.apiKey, OPENAI_BASE_URL: `${emu.url}/v1`, DATABASE_URL: db, FREEWAY_ADMIN_KEY: 'admin-test' };
  const first = await startFreewayProcess({ cwd: dir, env });
  const store = new SqliteStore(db);
  await store.migrate();
  const { key, record } = await createKey(store, { name: 'crash', kind: 'inference', limitNanos: 1_000_000_000 });
  const call = (content: string, stream: boolean, base = first.url) =>
    fetch(`${base}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', max_tokens: 400, stream, messages: [{ role: 'user', content }] }),
    });

  // Finished before the crash: charged once, and must stay charged once.
  const done = await Promise.all([1, 2, 3].map(async (i) => (await (await call(`quick ${i}`, false)).json()) as { id: string }));
  // In flight at the crash: streams that drip for seconds.
  const streams = await Promise.all([1, 2, 3, 4, 5].map(() => call('[[long]] [[drip:40]]', true)));
  for (const s of streams) await s.body!.getReader().read();
  assert.equal(await store.openReservations(), 5, 'five holds while the streams run');
  await first.kill();
  assert.equal(await store.openReservations(), 5, 'a killed process cleans up nothing');

  await new Promise((r) => setTimeout(r, 1_200)); // past the holds' 1 s lifetime
  const second = await startFreewayProcess({ cwd: dir, env });
  try {
    assert.equal(await store.openReservations(), 0, 'expired holds released on start');
    const account = (await store.getAccount('default'))!;
    assert.equal(account.reservedNanos, 0);
    assert.equal(await store.ledgerSum('default'), account.balanceNanos);
    const ledger = await store.ledger('default', 1000);
    for (const d of done) assert.equal(ledger.filter((e) => e.id === d.id).length, 1, 'charged exactly once');
    const charges = ledger.filter((e) => e.kind === 'charge').reduce((n, e) => n - e.amountNanos, 0);
    const k = (await store.findKey(record.hash))!;
    assert.equal(k.reservedNanos, 0);
    assert.equal(k.usageTotalNanos, charges, 'key usage equals what the ledger charged');
    // The restarted gateway serves the same key.
    const res = await call('after restart', false, second.url);
    assert.equal(res.status, 200);
  } finally {
    await second.stop();
    await store.close();
  }
});

test('SIGKILL during 20 streams, restart: every request the key can afford fits at once; the partial streams are charged what they delivered', async () => {
  const dir = tempDir('freeway-crash20-');
  const db = join(dir, 'freeway.db');
  // Default hold lifetime (30 minutes): only the process leases can free the holds in time.
  const env = { OPENAI_API_KEY: emu.apiKey, OPENAI_BASE_URL: `${emu.url}/v1`, DATABASE_URL: db, FREEWAY_ADMIN_KEY: 'admin-test' };
  const first = await startFreewayProcess({ cwd: dir, env });
  const store = new SqliteStore(db);
  await store.migrate();
  const body = (content: string, maxTokens: number, stream: boolean) =>
    JSON.stringify({ model: 'openai/gpt-4o-mini', max_tokens: maxTokens, stream, messages: [{ role: 'user', content }] });
  const call = (base: string, key: string, b: string) =>
    fetch(`${base}/api/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: b,
    });
  const streamBody = body('[[long]] [[drip:100]]', 4_000, true);
  const quickBody = body('quick one', 100, false);
  const probe = await createKey(store, { name: 'probe', kind: 'inference', limitNanos: 0 });
  const worst = async (b: string) =>
    ((await (await call(first.url, probe.key, b)).json()) as { error: { metadata: { required_nanos: number } } }).error.metadata
      .required_nanos;
  const streamWorst = await worst(streamBody);
  const quickWorst = await worst(quickBody);
  // The 20 streams' holds take the whole limit: while they are held, no quick request fits; once
  // released, 40 do (what the streams delivered costs far less than the rest of their holds).
  const limit = 20 * streamWorst + Math.floor(quickWorst / 2);
  assert.ok(limit - 40 * quickWorst > streamWorst, 'the scenario needs holds much larger than the quick requests');
  const { key, record } = await createKey(store, { name: 'crash20', kind: 'inference', limitNanos: limit });

  const readings = await Promise.all(Array.from({ length: 20 }, async () => readStream(await call(first.url, key, streamBody))));
  assert.equal((await call(first.url, key, quickBody)).status, 402, 'the running streams hold the whole limit');
  // Wait (on the store, not the clock) until every stream has checkpointed what it delivered.
  const raw = new DatabaseSync(db);
  const checkpointed = () =>
    Number((raw.prepare('SELECT COUNT(*) AS n FROM reservations WHERE delivered_record IS NOT NULL').get() as { n: number }).n);
  const deadline = Date.now() + 30_000;
  while (checkpointed() < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(checkpointed(), 20);
  await first.kill();
  await Promise.all(readings.map((r) => r.done));
  raw.close();

  const second = await startFreewayProcess({ cwd: dir, env });
  try {
    assert.equal(await store.openReservations(), 0, "the dead process's holds were settled at start-up");
    const k = (await store.findKey(record.hash))!;
    assert.equal(k.reservedNanos, 0);
    assert.ok(k.usageTotalNanos > 0, 'the partial streams are charged');
    let charged = 0;
    for (const r of readings) {
      const g = (await store.getGeneration(r.id))!;
      assert.ok(g, `generation ${r.id} recorded`);
      assert.equal(g.error, CRASH_ERROR);
      assert.ok(
        g.tokensCompletion > 0 && g.tokensCompletion <= Math.ceil(r.chars / 4),
        `charged ${g.tokensCompletion} tokens for ${r.chars} characters delivered`,
      );
      charged += g.costNanos;
    }
    assert.equal(k.usageTotalNanos, charged, 'key usage is exactly the checkpointed charges');
    assert.ok(charged < 20 * streamWorst);
    const account = (await store.getAccount('default'))!;
    assert.equal(await store.ledgerSum('default'), account.balanceNanos);
    // Everything the key can afford fits, right away.
    const statuses = await Promise.all(Array.from({ length: 40 }, () => call(second.url, key, quickBody).then((r) => r.status)));
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      'all 40 affordable requests fit',
    );
  } finally {
    await second.stop();
    await store.close();
  }
});

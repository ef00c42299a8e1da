/**
 * A Freeway process killed with SIGKILL in the middle of streamed requests: after a restart no
 * hold is stuck, the ledger balances, and nothing is charged twice.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createKey } from '../../src/accounting/keys.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Emulator } from '../emulators/common.ts';
import { startOpenAIEmulator } from '../emulators/openai.ts';
import { startFreewayProcess } from '../helpers/freeway-process.ts';
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

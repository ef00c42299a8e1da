/**
 * Two Freeway processes on one PostgreSQL database, and on one SQLite file:
 *  - a client that has received its whole answer from one sees its charge from the other, at
 *    once, for whole and streamed answers (the charge commits before the answer's last bytes);
 *  - when one is killed mid-stream, the other settles its holds within seconds, charging the
 *    partial streams what they had delivered by their last checkpoint.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createKey } from '../../src/accounting/keys.ts';
import { CRASH_ERROR } from '../../src/gateway/stream-checkpoints.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/store.ts';
import type { Emulator } from '../emulators/common.ts';
import { startOpenAIEmulator } from '../emulators/openai.ts';
import { startFreewayProcesses } from '../helpers/freeway-process.ts';
import type { FreewayProcess } from '../helpers/freeway-process.ts';
import { readStream } from '../helpers/read-stream.ts';
import { dropPgSchema, needs, PG_URL, pgSchemaUrl } from '../helpers/services.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const skip = await needs('postgres');

/** Counts a key's holds that carry a checkpoint, reading the database directly. */
async function checkpointCounter(
  engine: 'postgres' | 'sqlite',
  db: string,
  keyHash: string,
): Promise<{ count(): Promise<number>; close(): Promise<void> }> {
  const sql = 'SELECT COUNT(*) AS n FROM reservations WHERE delivered_record IS NOT NULL AND key_hash = ';
  if (engine === 'sqlite') {
    const raw = new DatabaseSync(db);
    const st = raw.prepare(`${sql}?`);
    return { count: async () => Number((st.get(keyHash) as { n: number }).n), close: async () => raw.close() };
  }
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`SET search_path TO "${schema}"`);
  return { count: async () => Number((await client.query(`${sql}$1`, [keyHash])).rows[0].n), close: () => client.end() };
}
const { url, schema } = pgSchemaUrl('freeway_e2e_holds');

for (const engine of ['postgres', 'sqlite'] as const)
  describe(`two gateways on ${engine === 'postgres' ? 'PostgreSQL' : 'one SQLite file'}: charges and crashed holds`, {
    skip: engine === 'postgres' ? skip : false,
  }, () => {
    let emu: Emulator;
    let gateways: FreewayProcess[] = [];
    let store: Store;
    let env: Record<string, string>;
    let db: string;

    before(async () => {
      emu = await startOpenAIEmulator();
      db = engine === 'postgres' ? url : join(tempDir('freeway-two-sqlite-'), 'freeway.db');
      env = { OPENAI_API_KEY: emu.apiKey, OPENAI_BASE_URL: `${emu.url}/v1`, DATABASE_URL: db, FREEWAY_ADMIN_KEY: 'admin-test' };
      gateways = await startFreewayProcesses([
        { cwd: tempDir(), env },
        { cwd: tempDir(), env },
      ]);
      store = await openStore(db);
    });

    after(async () => {
      await Promise.all(gateways.map((g) => g.stop()));
      await store?.close();
      await emu?.close();
      if (engine === 'postgres') await dropPgSchema(schema);
    });

    const call = (base: string, key: string, body: Record<string, unknown>) =>
      fetch(`${base}/api/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }], ...body }),
      });

    /** Usage and holds of the key, as /key on `base` shows them, in nano-dollars. */
    async function keyView(base: string, key: string): Promise<{ usage: number; reserved: number }> {
      const res = await fetch(`${base}/api/v1/key`, { headers: { authorization: `Bearer ${key}` } });
      const { data } = (await res.json()) as { data: { usage: number; reserved: number } };
      return { usage: Math.round(data.usage * 1e9), reserved: Math.round(data.reserved * 1e9) };
    }

    /** The cost a streamed answer reports in its final usage chunk, read to the end. */
    async function streamedCost(res: Response): Promise<number> {
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.ok(text.endsWith('data: [DONE]\n\n'));
      const usage = text
        .split('\n\n')
        .map((f) => /^data: (\{.*)$/m.exec(f)?.[1])
        .filter((d): d is string => d !== undefined)
        .map((d) => JSON.parse(d) as { usage?: { cost: number } })
        .find((c) => c.usage)?.usage;
      assert.ok(usage, 'a final usage chunk');
      return Math.round(usage.cost * 1e9);
    }

    test('read your own charge from the other process right after the answer, whole and streamed: never a hold', async () => {
      const { key } = await createKey(store, { name: 'read-your-charge', kind: 'inference', limitNanos: 1_000_000_000 });
      let expected = 0;
      for (let i = 0; i < 20; i++) {
        const [served, other] = [gateways[i % 2], gateways[(i + 1) % 2]];
        const streamed = i % 4 >= 2;
        const res = await call(served.url, key, { max_tokens: 50, stream: streamed });
        const id = res.headers.get('x-generation-id');
        let cost: number;
        if (streamed) cost = await streamedCost(res);
        else {
          assert.equal(res.status, 200);
          cost = Math.round(((await res.json()) as { usage: { cost: number } }).usage.cost * 1e9);
        }
        expected += cost;
        const what = `request ${i + 1} (${streamed ? 'streamed' : 'whole'})`;
        const seen = await keyView(other.url, key);
        assert.deepEqual(seen, { usage: expected, reserved: 0 }, `${what}: /key on the other process`);
        // The generation record commits with the charge: the other process has it too.
        const gen = await fetch(`${other.url}/api/v1/generation?id=${id}`, { headers: { authorization: `Bearer ${key}` } });
        assert.equal(gen.status, 200, `${what}: /generation on the other process`);
        assert.equal(Math.round(((await gen.json()) as { data: { total_cost: number } }).data.total_cost * 1e9), cost);
      }
      assert.ok(expected > 0);
    });

    test('one process killed during 10 streams: the other settles its holds within seconds and charges what was delivered', async () => {
      const { key, record } = await createKey(store, { name: 'crash-pg', kind: 'inference', limitNanos: 1_000_000_000 });
      const victim = gateways[0];
      const readings = await Promise.all(
        Array.from({ length: 10 }, async () =>
          readStream(
            await call(victim.url, key, {
              max_tokens: 4_000,
              stream: true,
              messages: [{ role: 'user', content: '[[long]] [[drip:100]]' }],
            }),
          ),
        ),
      );
      // Wait (on the database, not the clock) until every stream has checkpointed what it delivered.
      const checkpointed = await checkpointCounter(engine, db, record.hash);
      try {
        const deadline = Date.now() + 30_000;
        while ((await checkpointed.count()) < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.equal(await checkpointed.count(), 10);
      } finally {
        await checkpointed.close();
      }
      await victim.kill();
      const killedAt = Date.now();
      await Promise.all(readings.map((r) => r.done));
      // The survivor's sweep (every 2 s by default) finds the dead process's holds (on this host at
      // once, by its PID; elsewhere when its 10 s lease lapses).
      while ((await store.findKey(record.hash))!.reservedNanos > 0 && Date.now() - killedAt < 30_000)
        await new Promise((r) => setTimeout(r, 50));
      const settledMs = Date.now() - killedAt;
      const k = (await store.findKey(record.hash))!;
      assert.equal(k.reservedNanos, 0, "the dead process's holds are gone");
      assert.ok(settledMs < 15_000, `settled ${settledMs} ms after the kill`);
      let charged = 0;
      for (const r of readings) {
        const g = (await store.getGeneration(r.id))!;
        assert.equal(g.error, CRASH_ERROR);
        assert.ok(
          g.tokensCompletion > 0 && g.tokensCompletion <= Math.ceil(r.chars / 4),
          `charged ${g.tokensCompletion} tokens for ${r.chars} characters delivered`,
        );
        charged += g.costNanos;
      }
      assert.ok(k.usageTotalNanos > 0);
      assert.equal(k.usageTotalNanos, charged, 'key usage is exactly the checkpointed charges');
      assert.equal(await store.ledgerSum('default'), (await store.getAccount('default'))!.balanceNanos);
      // The survivor serves the key on.
      assert.equal((await call(gateways[1].url, key, { max_tokens: 20 })).status, 200);
    });
  });

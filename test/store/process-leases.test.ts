/**
 * Holds know which process owns them: against SQLite and PostgreSQL, the sweep settles the holds
 * of a process whose lease lapsed, of a process on this host whose PID is gone (at once), of a
 * process whose SQLite lock file is free (at once), and of
 * owners with no lease at all — charging what a stream had delivered by its last checkpoint,
 * releasing the rest — and leaves live processes' holds alone.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ProcessLeases, thisHost } from '../../src/accounting/leases.ts';
import { CRASH_ERROR } from '../../src/gateway/stream-checkpoints.ts';
import { createLogger } from '../../src/log.ts';
import { GatewayError } from '../../src/spec/errors.ts';
import { openStore } from '../../src/store/open.ts';
import type { GenerationRecord, ProcessLease } from '../../src/store/types.ts';
import type { Store } from '../../src/store/store.ts';
import { dropPgSchema, needs, pgSchemaUrl } from '../helpers/services.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const pgSkip = await needs('postgres');
const pgSchema = pgSchemaUrl('freeway_leases');

const LEASE = { leaseMs: 10_000, sweepMs: 2_000 };
const quiet = createLogger('silent');

function record(id: string, keyHash: string, accountId: string, costNanos: number): GenerationRecord {
  return {
    id,
    keyHash,
    accountId,
    model: 'openai/gpt-4o-mini',
    providerId: 'openai',
    providerName: 'OpenAI',
    upstreamModel: 'gpt-4o-mini',
    upstreamId: null,
    apiType: 'completions',
    streamed: true,
    cancelled: false,
    finishReason: 'error',
    nativeFinishReason: null,
    tokensPrompt: 10,
    tokensCompletion: 20,
    tokensCached: 0,
    tokensCacheWrite: 0,
    tokensReasoning: 0,
    usageEstimated: true,
    costNanos,
    promptCostNanos: 1,
    completionCostNanos: costNanos - 1,
    upstreamCostNanos: costNanos,
    feeNanos: 0,
    latencyMs: 1000,
    ttftMs: 10,
    generationMs: 990,
    error: CRASH_ERROR,
    createdAt: new Date().toISOString(),
    legs: [],
  };
}

/** A PID that surely belongs to no process: one that just exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

const dbPath = join(tempDir('freeway-leases-'), 'f.db');

function scenarios(name: string, open: () => Promise<Store>, skip: false | string) {
  describe(`process leases: ${name}`, { skip }, () => {
    let store: Store;
    before(async () => {
      store = await open();
      await store.migrate();
    });
    after(() => store?.close());

    /** An account and a key with a limit, and holds of `owner` on it. */
    async function setUp(owner: string, holds: number, amount = 1_000) {
      const accountId = `acct-${randomUUID()}`;
      await store.createAccount({ id: accountId, name: 'a', prepaid: false, now: new Date() });
      const hash = `key-${randomUUID()}`;
      const now = new Date();
      await store.createKey({
        hash,
        name: 'k',
        label: 'k',
        kind: 'inference',
        accountId,
        limitNanos: 1_000_000,
        limitReset: null,
        usageNanos: 0,
        usageTotalNanos: 0,
        periodStart: null,
        reservedNanos: 0,
        disabled: false,
        expiresAt: null,
        createdAt: now.toISOString(),
        updatedAt: now.toISOString(),
        requestsPerMinute: null,
        tokensPerMinute: null,
      });
      const ids: string[] = [];
      for (let i = 0; i < holds; i++) {
        const id = `gen-${randomUUID()}`;
        const r = await store.reserve({
          id,
          accountId,
          keyHash: hash,
          amountNanos: amount,
          now,
          expiresAt: new Date(now.getTime() + 3_600_000),
          owner,
        });
        assert.equal(r.ok, true);
        ids.push(id);
      }
      return { accountId, hash, ids };
    }

    const lease = (owner: string, over: Partial<ProcessLease> = {}): ProcessLease => ({
      owner,
      host: 'elsewhere',
      pid: 1,
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      startedAt: new Date().toISOString(),
      ...over,
    });

    test('a lapsed lease: checkpointed streams charged what they delivered, the rest released; a live lease keeps its holds', async () => {
      const dead = randomUUID();
      const live = randomUUID();
      await store.renewLease(lease(dead, { expiresAt: new Date(Date.now() - 1).toISOString() }));
      await store.renewLease(lease(live));
      const d = await setUp(dead, 3);
      const l = await setUp(live, 2);
      // Two of the dead process's streams had checkpointed; the third had delivered nothing.
      await store.checkpointHolds(
        d.ids.slice(0, 2).map((id, i) => ({
          id,
          accountId: d.accountId,
          keyHash: d.hash,
          owner: dead,
          upstreamNanos: 100 + i,
          feeNanos: 5,
          record: record(id, d.hash, d.accountId, 105 + i),
          now: new Date(),
          expiresAt: new Date(Date.now() + 3_600_000),
        })),
      );
      const me = new ProcessLeases(store, LEASE, quiet);
      await me.start();
      try {
        const k = (await store.findKey(d.hash))!;
        assert.equal(k.reservedNanos, 0, 'every hold of the dead process is gone');
        assert.equal(k.usageTotalNanos, 105 + 106, 'charged exactly the checkpointed amounts');
        assert.equal(await store.openReservations(d.accountId), 0);
        const ledger = await store.ledger(d.accountId);
        assert.deepEqual(ledger.map((e) => e.id).sort(), d.ids.slice(0, 2).sort());
        assert.equal(await store.ledgerSum(d.accountId), (await store.getAccount(d.accountId))!.balanceNanos);
        const g = (await store.getGeneration(d.ids[0]))!;
        assert.equal(g.error, CRASH_ERROR);
        assert.equal(g.costNanos, 105);
        assert.equal(await store.getGeneration(d.ids[2]), undefined, 'nothing delivered, nothing recorded');
        assert.equal((await store.findKey(l.hash))!.reservedNanos, 2_000, 'a live process keeps its holds');
        const leases = (await store.listLeases()).map((x) => x.owner);
        assert.ok(!leases.includes(dead), 'the dead lease is removed');
        assert.ok(leases.includes(live) && leases.includes(me.owner));
        // Its process settles late (it was only paused): nothing is charged twice.
        assert.equal(
          await store.settle({
            reservationId: d.ids[0],
            accountId: d.accountId,
            keyHash: d.hash,
            upstreamNanos: 500,
            feeNanos: 0,
            now: new Date(),
          }),
          false,
        );
        assert.equal((await store.findKey(d.hash))!.usageTotalNanos, 211);
      } finally {
        await me.stop();
        for (const id of l.ids) await store.release(id);
        await store.endLease(live);
      }
      assert.ok(!(await store.listLeases()).some((x) => x.owner === me.owner), 'a clean stop gives the lease up');
    });

    test('a process on this host whose PID is gone: its holds go at once, though its lease has not lapsed', async () => {
      const gone = randomUUID();
      await store.renewLease(lease(gone, { host: thisHost(), pid: await deadPid() }));
      const g = await setUp(gone, 2);
      const me = new ProcessLeases(store, LEASE, quiet);
      const swept = await me.start();
      try {
        assert.ok(swept.released >= 2);
        assert.equal((await store.findKey(g.hash))!.reservedNanos, 0);
        assert.ok(!(await store.listLeases()).some((x) => x.owner === gone));
      } finally {
        await me.stop();
      }
    });

    test('SQLite: a process whose lock file is free is gone at once (any PID namespace); one that holds it is alive however late its lease', {
      skip: name !== 'sqlite',
    }, async () => {
      const gone = randomUUID();
      const slow = randomUUID();
      const holders = [gone, slow].map((owner) =>
        spawn(process.execPath, [join(import.meta.dirname, 'owner-lock-worker.ts'), dbPath, owner]),
      );
      await Promise.all(holders.map((c) => new Promise((r) => c.stdout!.once('data', r))));
      try {
        // Elsewhere as far as PIDs go (another container); one lease current, the other long lapsed.
        await store.renewLease(lease(gone));
        await store.renewLease(lease(slow, { expiresAt: new Date(Date.now() - 60_000).toISOString() }));
        const g = await setUp(gone, 2);
        const s = await setUp(slow, 1);
        holders[0].kill('SIGKILL');
        await new Promise((r) => holders[0].once('exit', r));
        const me = new ProcessLeases(store, LEASE, quiet);
        await me.start();
        try {
          assert.equal((await store.findKey(g.hash))!.reservedNanos, 0, 'its lock is free: gone, though its lease is current');
          assert.equal((await store.findKey(s.hash))!.reservedNanos, 1_000, 'its lock is held: alive, though its lease lapsed');
        } finally {
          await me.stop();
          for (const id of s.ids) await store.release(id);
          await store.endLease(slow);
        }
      } finally {
        for (const c of holders) c.kill('SIGKILL');
      }
    });

    test('holds whose owner has no lease at all are orphans, settled by the next sweep; holds without an owner wait for their TTL', async () => {
      const o = await setUp(randomUUID(), 2);
      const legacy = await setUp(undefined as unknown as string, 1); // placed before leases existed
      const me = new ProcessLeases(store, LEASE, quiet);
      await me.start();
      try {
        assert.equal((await store.findKey(o.hash))!.reservedNanos, 0);
        assert.equal((await store.findKey(legacy.hash))!.reservedNanos, 1_000, 'no owner: released by TTL only');
        assert.equal((await me.sweep(new Date(Date.now() + 3_600_001))).expired >= 1, true);
        assert.equal((await store.findKey(legacy.hash))!.reservedNanos, 0);
      } finally {
        await me.stop();
      }
    });

    test('after the database was away for longer than a lease, lapsed leases get a lease of grace before their holds are taken', async () => {
      // Every process lost its lease at once; the first back must not take the others for dead.
      let down = false;
      let renewed = 0;
      const flaky = new Proxy(store, {
        get(target, prop) {
          if (prop === 'renewLease') {
            return async (l: ProcessLease) => {
              if (down) throw new GatewayError('service_unavailable', 'The database is unavailable; try again shortly.');
              await target.renewLease(l);
              renewed++;
            };
          }
          const v = Reflect.get(target, prop) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      const settings = { leaseMs: 1_500, sweepMs: 50 };
      const me = new ProcessLeases(flaky, settings, quiet);
      await me.start();
      const other = randomUUID();
      try {
        down = true;
        await new Promise((r) => setTimeout(r, settings.leaseMs + 500));
        // The other process could not renew either: its lease has lapsed.
        await store.renewLease(lease(other, { expiresAt: new Date(Date.now() - 100).toISOString() }));
        const o = await setUp(other, 2);
        const before = renewed;
        down = false;
        const back = Date.now();
        while (renewed === before) await new Promise((r) => setTimeout(r, 5));
        await new Promise((r) => setTimeout(r, 3 * settings.sweepMs));
        if (Date.now() - back < settings.leaseMs) {
          assert.equal((await store.findKey(o.hash))!.reservedNanos, 2_000, 'within the grace, its holds stay');
        }
        // It never renews: once the grace is over, it is taken for dead.
        const deadline = Date.now() + 15_000;
        while ((await store.findKey(o.hash))!.reservedNanos > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.equal((await store.findKey(o.hash))!.reservedNanos, 0, 'after the grace, its holds are settled');
        assert.ok(Date.now() - back >= settings.leaseMs, 'not before a lease of grace had passed');
      } finally {
        down = false;
        await me.stop();
        await store.endLease(other);
      }
    });

    test('a checkpoint of a stream that held nothing is a hold of 0 that its settlement drops; the charge is made once', async () => {
      const owner = randomUUID();
      await store.renewLease(lease(owner));
      const s = await setUp(owner, 0);
      const id = `gen-${randomUUID()}`;
      const cp = {
        id,
        accountId: s.accountId,
        keyHash: s.hash,
        owner,
        upstreamNanos: 40,
        feeNanos: 2,
        record: record(id, s.hash, s.accountId, 42),
        now: new Date(),
        expiresAt: new Date(Date.now() + 60_000),
      };
      await store.checkpointHolds([cp]);
      await store.checkpointHolds([{ ...cp, upstreamNanos: 80, feeNanos: 4 }]);
      assert.equal(await store.openReservations(s.accountId), 1);
      assert.equal((await store.findKey(s.hash))!.reservedNanos, 0);
      assert.equal(
        await store.settle({
          reservationId: id,
          accountId: s.accountId,
          keyHash: s.hash,
          upstreamNanos: 200,
          feeNanos: 10,
          now: new Date(),
          held: true,
        }),
        true,
      );
      assert.equal(await store.openReservations(s.accountId), 0);
      assert.equal((await store.findKey(s.hash))!.usageTotalNanos, 210);
      // The process dies later: nothing of that settled stream is charged again.
      assert.deepEqual(await store.reclaimHolds([owner], new Date()), { released: 0, charged: 0 });
      await store.endLease(owner);
    });
  });
}

scenarios('sqlite', async () => openStore(dbPath), false);
scenarios('postgres', async () => openStore(pgSchema.url), pgSkip);
after(async () => {
  if (!pgSkip) await dropPgSchema(pgSchema.schema);
});

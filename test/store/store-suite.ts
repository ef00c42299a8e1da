/**
 * The store conformance suite: the same scenarios against every engine, so SQLite and PostgreSQL
 * cannot drift apart. Each scenario uses its own accounts and keys, tracks the reservations it
 * expects to be open, and checks the money invariants when it ends (balance = sum of the ledger,
 * reserved totals = sum of open reservations), then releases whatever it left open.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type {
  Account,
  AlertRecord,
  ApiKeyRecord,
  CounterWindow,
  GenerationRecord,
  ReserveResult,
  SettleRequest,
  UsageRow,
} from '../../src/store/types.ts';
import type { Store } from '../../src/store/store.ts';
import type { GatewayError } from '../../src/spec/errors.ts';

const T0 = new Date('2025-03-10T12:00:00.000Z');
const at = (iso: string) => new Date(iso);
const plus = (d: Date, ms: number) => new Date(d.getTime() + ms);
const uid = (prefix: string) => `${prefix}-${randomUUID()}`;

interface Open {
  accountId: string;
  keyHash: string;
  amount: number;
  expiresAt: Date;
}

/** One scenario's accounts, keys and the reservations it believes are open. */
class Fixture {
  readonly open = new Map<string, Open>();
  readonly accounts = new Set<string>();
  readonly keys = new Set<string>();
  private readonly store: Store;
  /** Open reservations in the whole store when the scenario started (0 unless an earlier one failed). */
  private openBefore = 0;

  constructor(store: Store) {
    this.store = store;
  }

  async start(): Promise<void> {
    this.openBefore = await this.store.openReservations();
  }

  async account(opts: { prepaid?: boolean; topup?: number; now?: Date } = {}): Promise<Account> {
    const id = uid('acct');
    const now = opts.now ?? T0;
    await this.store.createAccount({ id, name: `Account ${id}`, prepaid: opts.prepaid ?? false, now });
    this.accounts.add(id);
    if (opts.topup)
      assert.equal(await this.store.credit({ id: uid('topup'), accountId: id, kind: 'topup', amountNanos: opts.topup, now }), true);
    return (await this.store.getAccount(id))!;
  }

  keyRecord(accountId: string, over: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
    const hash = over.hash ?? uid('key');
    return {
      requestsPerMinute: null,
      tokensPerMinute: null,
      hash,
      name: 'test key',
      label: `sk-fw-v1-${hash.slice(4, 7)}...`,
      kind: 'inference',
      accountId,
      limitNanos: null,
      limitReset: null,
      usageNanos: 0,
      usageTotalNanos: 0,
      periodStart: null,
      reservedNanos: 0,
      disabled: false,
      expiresAt: null,
      createdAt: T0.toISOString(),
      updatedAt: T0.toISOString(),
      ...over,
    };
  }

  async key(accountId: string, over: Partial<ApiKeyRecord> = {}): Promise<ApiKeyRecord> {
    const rec = this.keyRecord(accountId, over);
    await this.store.createKey(rec);
    this.keys.add(rec.hash);
    return (await this.store.findKey(rec.hash))!;
  }

  async reserve(
    accountId: string,
    keyHash: string,
    amountNanos: number,
    opts: { id?: string; now?: Date; expiresAt?: Date } = {},
  ): Promise<ReserveResult & { id: string }> {
    const id = opts.id ?? uid('gen');
    const now = opts.now ?? T0;
    const expiresAt = opts.expiresAt ?? plus(now, 3_600_000);
    const res = await this.store.reserve({ id, accountId, keyHash, amountNanos, now, expiresAt });
    if (res.ok) this.open.set(id, { accountId, keyHash, amount: amountNanos, expiresAt });
    return { ...res, id };
  }

  async settle(s: Omit<SettleRequest, 'now'> & { now?: Date }): Promise<boolean> {
    const charged = await this.store.settle({ ...s, now: s.now ?? T0 });
    this.open.delete(s.reservationId);
    return charged;
  }

  async release(id: string): Promise<boolean> {
    const released = await this.store.release(id);
    this.open.delete(id);
    return released;
  }

  async releaseExpired(now: Date): Promise<number> {
    const n = await this.store.releaseExpired(now);
    for (const [id, o] of this.open) if (o.expiresAt.getTime() < now.getTime()) this.open.delete(id);
    return n;
  }

  /** Balance = ledger sum; reserved totals and open counts = what this scenario holds open. */
  async verify(): Promise<void> {
    for (const id of this.accounts) {
      const a = (await this.store.getAccount(id))!;
      assert.equal(await this.store.ledgerSum(id), a.balanceNanos, `ledger sum = balance of ${id}`);
      const totals = await this.store.ledgerTotals(id);
      assert.equal(totals.credits - totals.charges, a.balanceNanos, `ledger totals of ${id}`);
      const open = [...this.open.values()].filter((o) => o.accountId === id);
      assert.equal(
        a.reservedNanos,
        open.reduce((s, o) => s + o.amount, 0),
        `reserved of account ${id}`,
      );
      assert.equal(await this.store.openReservations(id), open.length, `open reservations of ${id}`);
    }
    for (const hash of this.keys) {
      const k = await this.store.findKey(hash);
      if (!k) continue;
      const open = [...this.open.values()].filter((o) => o.keyHash === hash);
      assert.equal(
        k.reservedNanos,
        open.reduce((s, o) => s + o.amount, 0),
        `reserved of key ${hash}`,
      );
    }
    // Nothing outside this scenario's accounts moved either.
    assert.equal(await this.store.openReservations(), this.openBefore + this.open.size, 'open reservations overall');
  }

  /** Verifies, releases what is still open, verifies again. */
  async finish(): Promise<void> {
    await this.verify();
    for (const id of [...this.open.keys()]) assert.equal(await this.release(id), true);
    await this.verify();
  }
}

function generation(over: Partial<GenerationRecord> & Pick<GenerationRecord, 'keyHash' | 'accountId'>): GenerationRecord {
  return {
    id: uid('gen'),
    model: 'alpha',
    providerId: 'pone',
    providerName: 'Provider One',
    upstreamModel: 'alpha-upstream',
    upstreamId: 'up-1',
    apiType: 'completions',
    streamed: false,
    cancelled: false,
    legs: [],
    serviceTier: null,
    router: null,
    finishReason: 'stop',
    nativeFinishReason: 'end_turn',
    tokensPrompt: 10,
    tokensCompletion: 20,
    tokensCached: 0,
    tokensCacheWrite: 0,
    tokensReasoning: 0,
    usageEstimated: false,
    costNanos: 1000,
    promptCostNanos: 300,
    completionCostNanos: 700,
    upstreamCostNanos: 900,
    feeNanos: 100,
    latencyMs: 250,
    ttftMs: null,
    generationMs: null,
    error: null,
    createdAt: T0.toISOString(),
    ...over,
  };
}

/** What `usage()` should return, computed in JS (binary string order, like the SQL ORDER BY). */
function expectedUsage(gens: readonly GenerationRecord[], groupBy: Array<'day' | 'model' | 'provider' | 'key'>): UsageRow[] {
  const groups = new Map<string, { dims: Partial<UsageRow>; parts: string[]; rows: GenerationRecord[] }>();
  for (const g of gens) {
    const dims: Partial<UsageRow> = {};
    const parts: string[] = [];
    for (const d of groupBy) {
      const v = d === 'day' ? g.createdAt.slice(0, 10) : d === 'model' ? g.model : d === 'provider' ? g.providerId : g.keyHash;
      parts.push(v);
      if (d === 'key') dims.keyHash = v;
      else dims[d] = v;
    }
    const k = JSON.stringify(parts);
    const grp = groups.get(k) ?? { dims, parts, rows: [] };
    grp.rows.push(g);
    groups.set(k, grp);
  }
  const cmp = (a: string[], b: string[]) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    return 0;
  };
  const sum = (rows: GenerationRecord[], f: (g: GenerationRecord) => number) => rows.reduce((s, g) => s + f(g), 0);
  return [...groups.values()]
    .sort((a, b) => cmp(a.parts, b.parts))
    .map(({ dims, rows }) => ({
      ...dims,
      requests: rows.length,
      tokensPrompt: sum(rows, (g) => g.tokensPrompt),
      tokensCompletion: sum(rows, (g) => g.tokensCompletion),
      tokensCached: sum(rows, (g) => g.tokensCached),
      tokensReasoning: sum(rows, (g) => g.tokensReasoning),
      costNanos: sum(rows, (g) => g.costNanos),
    }));
}

/**
 * `ordered`: the store applies operations issued together in the order they were issued (SQLite
 * groups them into one transaction); PostgreSQL runs them concurrently, in no defined order.
 */
export function storeSuite(
  name: string,
  open: () => Promise<Store>,
  cleanup: () => Promise<void>,
  opts: { ordered?: boolean; skip?: string | false } = {},
): void {
  describe(`store conformance: ${name}`, { skip: opts.skip }, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
      await cleanup();
    });

    /** A scenario with its own fixture, whose invariants are checked when it ends. */
    const scenario = (title: string, fn: (fx: Fixture) => Promise<void>, skip = false) =>
      it(title, { skip }, async () => {
        const fx = new Fixture(store);
        await fx.start();
        await fn(fx);
        await fx.finish();
      });

    describe('schema and accounts', () => {
      scenario('migrate twice is a no-op and keeps data', async (fx) => {
        const a = await fx.account({ topup: 500 });
        await store.migrate();
        await store.migrate();
        assert.deepEqual(await store.getAccount(a.id), a);
      });

      scenario('accounts: create, get, list; createAccount is idempotent on id', async (fx) => {
        const id = uid('acct');
        fx.accounts.add(id);
        const created = await store.createAccount({ id, name: 'First', prepaid: true, now: T0 });
        assert.deepEqual(created, {
          id,
          name: 'First',
          prepaid: true,
          balanceNanos: 0,
          reservedNanos: 0,
          purchasedNanos: 0,
          createdAt: T0.toISOString(),
        });
        const again = await store.createAccount({ id, name: 'Second', prepaid: false, now: plus(T0, 1000) });
        assert.deepEqual(again, created, 'a second create returns the existing account unchanged');
        assert.deepEqual(await store.getAccount(id), created);
        assert.equal(await store.getAccount(uid('missing')), undefined);

        const other = await fx.account({ prepaid: false, now: plus(T0, 5000) });
        const listed = (await store.listAccounts()).filter((a) => fx.accounts.has(a.id));
        assert.deepEqual(listed, [created, other], 'listed in creation order');
      });
    });

    describe('keys', () => {
      scenario('create, find, list with offset/limit, count by kind', async (fx) => {
        const a = await fx.account();
        const b = await fx.account();
        const countInference = await store.countKeys('inference');
        const countManagement = await store.countKeys('management');
        const countAll = await store.countKeys();

        const k1 = fx.keyRecord(a.id, {
          createdAt: '2025-03-10T10:00:00.000Z',
          updatedAt: '2025-03-10T10:00:00.000Z',
          limitNanos: 5000,
          limitReset: 'monthly',
        });
        const k2 = fx.keyRecord(a.id, {
          createdAt: '2025-03-10T11:00:00.000Z',
          updatedAt: '2025-03-10T11:00:00.000Z',
          expiresAt: '2026-01-01T00:00:00.000Z',
        });
        const k3 = fx.keyRecord(a.id, { createdAt: '2025-03-10T12:00:00.000Z', updatedAt: '2025-03-10T12:00:00.000Z', disabled: true });
        const m1 = fx.keyRecord(b.id, { kind: 'management' });
        // Created out of order: listing sorts by creation time.
        for (const k of [k3, k1, m1, k2]) {
          await store.createKey(k);
          fx.keys.add(k.hash);
        }

        assert.deepEqual(await store.findKey(k1.hash), k1);
        assert.deepEqual(await store.findKey(k3.hash), k3);
        assert.deepEqual(await store.findKey(m1.hash), m1);
        assert.equal(await store.findKey(uid('nokey')), undefined);

        assert.deepEqual(await store.listKeys({ accountId: a.id }), [k1, k2, k3]);
        assert.deepEqual(await store.listKeys({ accountId: a.id, offset: 1, limit: 1 }), [k2]);
        assert.deepEqual(await store.listKeys({ accountId: a.id, offset: 2 }), [k3]);
        assert.deepEqual(await store.listKeys({ accountId: a.id, limit: 2 }), [k1, k2]);
        assert.deepEqual(await store.listKeys({ accountId: a.id, kind: 'management' }), []);
        assert.deepEqual(await store.listKeys({ accountId: b.id, kind: 'management' }), [m1]);
        assert.ok((await store.listKeys({ kind: 'management' })).some((k) => k.hash === m1.hash));
        assert.ok(!(await store.listKeys({ kind: 'management' })).some((k) => k.hash === k1.hash));

        assert.equal(await store.countKeys('inference'), countInference + 3);
        assert.equal(await store.countKeys('management'), countManagement + 1);
        assert.equal(await store.countKeys(), countAll + 4);
      });

      scenario('update changes only the patched fields and updatedAt; delete', async (fx) => {
        const a = await fx.account();
        const k = await fx.key(a.id);
        const t1 = plus(T0, 60_000);
        const updated = await store.updateKey(
          k.hash,
          { name: 'renamed', limitNanos: 12345, limitReset: 'daily', disabled: true, expiresAt: '2026-06-01T00:00:00.000Z' },
          t1,
        );
        assert.deepEqual(updated, {
          ...k,
          name: 'renamed',
          limitNanos: 12345,
          limitReset: 'daily',
          disabled: true,
          expiresAt: '2026-06-01T00:00:00.000Z',
          updatedAt: t1.toISOString(),
        });
        assert.deepEqual(await store.findKey(k.hash), updated);

        const t2 = plus(T0, 120_000);
        const cleared = await store.updateKey(k.hash, { limitNanos: null, limitReset: null, disabled: false, expiresAt: null }, t2);
        assert.deepEqual(cleared, {
          ...updated,
          limitNanos: null,
          limitReset: null,
          disabled: false,
          expiresAt: null,
          updatedAt: t2.toISOString(),
        });

        const t3 = plus(T0, 180_000);
        const renamedOnly = await store.updateKey(k.hash, { name: 'again' }, t3);
        assert.deepEqual(renamedOnly, { ...cleared!, name: 'again', updatedAt: t3.toISOString() });

        assert.deepEqual(await store.updateKey(k.hash, {}, plus(T0, 240_000)), renamedOnly, 'an empty patch changes nothing');
        assert.equal(await store.updateKey(uid('nokey'), { name: 'x' }, t1), undefined);

        assert.equal(await store.deleteKey(k.hash), true);
        assert.equal(await store.findKey(k.hash), undefined);
        assert.equal(await store.deleteKey(k.hash), false);
        assert.deepEqual(await store.listKeys({ accountId: a.id }), []);
      });
    });

    describe('credit', () => {
      scenario('top-up raises balance and purchased; a repeated id credits once; adjustments may be negative', async (fx) => {
        const a = await fx.account({ prepaid: true });
        assert.equal(
          await store.credit({ id: 'c1-' + a.id, accountId: a.id, kind: 'topup', amountNanos: 1000, note: 'card', now: T0 }),
          true,
        );
        assert.equal(await store.credit({ id: 'c1-' + a.id, accountId: a.id, kind: 'topup', amountNanos: 1000, now: T0 }), false);
        let acct = (await store.getAccount(a.id))!;
        assert.equal(acct.balanceNanos, 1000);
        assert.equal(acct.purchasedNanos, 1000);

        assert.equal(
          await store.credit({ id: 'c2-' + a.id, accountId: a.id, kind: 'adjustment', amountNanos: -300, now: plus(T0, 1000) }),
          true,
        );
        assert.equal(await store.credit({ id: 'c3-' + a.id, accountId: a.id, kind: 'refund', amountNanos: 50, now: plus(T0, 2000) }), true);
        acct = (await store.getAccount(a.id))!;
        assert.equal(acct.balanceNanos, 750);
        assert.equal(acct.purchasedNanos, 1000, 'only top-ups count as purchased');
        assert.equal(await store.ledgerSum(a.id), 750);
        assert.deepEqual(await store.ledgerTotals(a.id), { credits: 750, charges: 0 });

        const entries = await store.ledger(a.id);
        assert.deepEqual(
          entries.map((e) => [e.id, e.kind, e.amountNanos, e.keyHash]),
          [
            ['c3-' + a.id, 'refund', 50, null],
            ['c2-' + a.id, 'adjustment', -300, null],
            ['c1-' + a.id, 'topup', 1000, null],
          ],
          'newest first',
        );
        assert.equal(entries[2].note, 'card');
        assert.equal(entries[2].createdAt, T0.toISOString());
        assert.equal((await store.ledger(a.id, 1)).length, 1);

        const ghost = uid('ghost');
        await assert.rejects(store.credit({ id: uid('c'), accountId: ghost, kind: 'topup', amountNanos: 10, now: T0 }));
        assert.equal(await store.ledgerSum(ghost), 0, 'a credit to no account leaves no ledger row');
      });

      scenario('an id reused for a different credit is refused with what it already stands for, and changes nothing', async (fx) => {
        const a = await fx.account({ prepaid: true });
        const b = await fx.account({ prepaid: true });
        const id = uid('invoice');
        assert.equal(await store.credit({ id, accountId: a.id, kind: 'topup', amountNanos: 20_000_000_000, now: T0 }), true);
        for (const changed of [
          { accountId: a.id, kind: 'topup' as const, amountNanos: 50_000_000_000 },
          { accountId: b.id, kind: 'topup' as const, amountNanos: 20_000_000_000 },
          { accountId: a.id, kind: 'refund' as const, amountNanos: 20_000_000_000 },
        ]) {
          await assert.rejects(store.credit({ id, ...changed, now: T0 }), (err: GatewayError) => {
            assert.equal(err.status, 400);
            assert.match(err.message, new RegExp(`already used for a topup of \\$20 to account ${a.id}`));
            return true;
          });
        }
        assert.equal((await store.getAccount(a.id))!.balanceNanos, 20_000_000_000);
        assert.equal((await store.getAccount(b.id))!.balanceNanos, 0);
        assert.equal(
          await store.credit({ id, accountId: a.id, kind: 'topup', amountNanos: 20_000_000_000, now: T0 }),
          false,
          'a true retry',
        );
      });

      scenario('the ledger pages newest first (ties by id), stable while movements are added, and filters by kind', async (fx) => {
        const a = await fx.account({ prepaid: true });
        // Seven movements, three of them in the same millisecond (the id breaks the tie).
        const made: Array<[string, 'topup' | 'refund' | 'adjustment', Date]> = [
          [`m1-${a.id}`, 'topup', T0],
          [`m2-${a.id}`, 'adjustment', plus(T0, 1000)],
          [`m3a-${a.id}`, 'refund', plus(T0, 2000)],
          [`m3b-${a.id}`, 'topup', plus(T0, 2000)],
          [`m3c-${a.id}`, 'adjustment', plus(T0, 2000)],
          [`m4-${a.id}`, 'topup', plus(T0, 3000)],
          [`m5-${a.id}`, 'refund', plus(T0, 4000)],
        ];
        for (const [id, kind, now] of made) assert.equal(await store.credit({ id, accountId: a.id, kind, amountNanos: 10, now }), true);
        const newestFirst = [`m5-${a.id}`, `m4-${a.id}`, `m3a-${a.id}`, `m3b-${a.id}`, `m3c-${a.id}`, `m2-${a.id}`, `m1-${a.id}`];
        assert.deepEqual(
          (await store.ledger(a.id, 100)).map((e) => e.id),
          newestFirst,
        );

        const seen: string[] = [];
        let before: { createdAt: string; id: string } | undefined;
        for (let i = 0; i < 10; i++) {
          const page = await store.ledger(a.id, 2, { before });
          if (page.length === 0) break;
          seen.push(...page.map((e) => e.id));
          before = page.at(-1);
          // A movement written between pages is newer than the cursor: it never shifts the rest.
          if (i === 0)
            assert.equal(
              await store.credit({ id: `late-${a.id}`, accountId: a.id, kind: 'topup', amountNanos: 1, now: plus(T0, 9000) }),
              true,
            );
        }
        assert.deepEqual(seen, newestFirst, 'every movement once, in order, across pages of 2 that split the tied millisecond');

        assert.deepEqual(
          (await store.ledger(a.id, 100, { kind: 'refund' })).map((e) => e.id),
          [`m5-${a.id}`, `m3a-${a.id}`],
        );
        const firstTopup = await store.ledger(a.id, 1, { kind: 'topup' });
        assert.deepEqual(
          firstTopup.map((e) => e.id),
          [`late-${a.id}`],
        );
        assert.deepEqual(
          (await store.ledger(a.id, 100, { kind: 'topup', before: firstTopup[0] })).map((e) => e.id),
          [`m4-${a.id}`, `m3b-${a.id}`, `m1-${a.id}`],
        );
      });
    });

    describe('reserve, settle, release', () => {
      scenario('the key limit is enforced, counting usage and open reservations', async (fx) => {
        const a = await fx.account();
        const k = await fx.key(a.id, { limitNanos: 100 });
        assert.equal((await fx.reserve(a.id, k.hash, 60)).ok, true);
        const refused = await fx.reserve(a.id, k.hash, 50);
        assert.deepEqual(
          { ok: refused.ok, ...(refused.ok ? {} : { reason: refused.reason, availableNanos: refused.availableNanos }) },
          {
            ok: false,
            reason: 'key_limit',
            availableNanos: 40,
          },
        );
        assert.equal((await fx.reserve(a.id, k.hash, 40)).ok, true);
        assert.equal((await store.findKey(k.hash))!.reservedNanos, 100);
        assert.equal((await store.getAccount(a.id))!.reservedNanos, 100);
        assert.equal(await store.openReservations(a.id), 2);
        const none = await fx.reserve(a.id, k.hash, 1);
        assert.equal(!none.ok && none.reason === 'key_limit' && none.availableNanos === 0, true);
        const unknown = await fx.reserve(a.id, uid('nokey'), 1);
        assert.equal(!unknown.ok && unknown.reason === 'key_limit' && unknown.availableNanos === 0, true);
      });

      scenario('a prepaid balance is enforced; a postpaid account is not balance-checked', async (fx) => {
        const pre = await fx.account({ prepaid: true, topup: 100 });
        const kp = await fx.key(pre.id);
        assert.equal((await fx.reserve(pre.id, kp.hash, 70)).ok, true);
        const refused = await fx.reserve(pre.id, kp.hash, 40);
        assert.equal(!refused.ok && refused.reason === 'balance' && refused.availableNanos === 30, true, JSON.stringify(refused));
        assert.equal((await fx.reserve(pre.id, kp.hash, 30)).ok, true);

        const empty = await fx.account({ prepaid: true });
        const ke = await fx.key(empty.id);
        const r0 = await fx.reserve(empty.id, ke.hash, 1);
        assert.equal(!r0.ok && r0.reason === 'balance' && r0.availableNanos === 0, true);

        const negative = await fx.account({ prepaid: true });
        await store.credit({ id: uid('adj'), accountId: negative.id, kind: 'adjustment', amountNanos: -50, now: T0 });
        const kn = await fx.key(negative.id);
        const rn = await fx.reserve(negative.id, kn.hash, 1);
        assert.equal(!rn.ok && rn.reason === 'balance' && rn.availableNanos === 0, true, 'availability is never negative');

        const post = await fx.account({ prepaid: false });
        const kpost = await fx.key(post.id);
        assert.equal((await fx.reserve(post.id, kpost.hash, 1_000_000_000)).ok, true);
        assert.equal((await store.getAccount(post.id))!.reservedNanos, 1_000_000_000);

        // The key limit still applies to a postpaid account.
        const limited = await fx.key(post.id, { limitNanos: 10 });
        const rl = await fx.reserve(post.id, limited.hash, 11);
        assert.equal(!rl.ok && rl.reason === 'key_limit' && rl.availableNanos === 10, true);
      });

      scenario('settle charges upstream + fee once, drops the reservation, moves key usage', async (fx) => {
        const a = await fx.account({ prepaid: true, topup: 1000 });
        const k = await fx.key(a.id, { limitNanos: 500 });
        const r = await fx.reserve(a.id, k.hash, 200);
        assert.equal(r.ok, true);
        const t1 = plus(T0, 5000);
        assert.equal(
          await fx.settle({
            reservationId: r.id,
            accountId: a.id,
            keyHash: k.hash,
            upstreamNanos: 100,
            feeNanos: 10,
            note: 'model x',
            now: t1,
          }),
          true,
        );
        let acct = (await store.getAccount(a.id))!;
        let key = (await store.findKey(k.hash))!;
        assert.equal(acct.balanceNanos, 890);
        assert.equal(acct.reservedNanos, 0);
        assert.equal(acct.purchasedNanos, 1000);
        assert.deepEqual(await store.ledgerTotals(a.id), { credits: 1000, charges: 110 });
        assert.equal(key.reservedNanos, 0);
        assert.equal(key.usageNanos, 110);
        assert.equal(key.usageTotalNanos, 110);
        assert.equal(await store.openReservations(a.id), 0);
        const [charge] = await store.ledger(a.id, 1);
        assert.deepEqual(charge, {
          id: r.id,
          accountId: a.id,
          keyHash: k.hash,
          kind: 'charge',
          amountNanos: -110,
          upstreamNanos: 100,
          feeNanos: 10,
          note: 'model x',
          createdAt: t1.toISOString(),
        });

        assert.equal(
          await fx.settle({ reservationId: r.id, accountId: a.id, keyHash: k.hash, upstreamNanos: 100, feeNanos: 10 }),
          false,
          'second settle',
        );
        assert.equal(
          await fx.settle({ reservationId: r.id, accountId: a.id, keyHash: k.hash, upstreamNanos: 999, feeNanos: 0 }),
          false,
          'other amount, same id',
        );
        acct = (await store.getAccount(a.id))!;
        key = (await store.findKey(k.hash))!;
        assert.equal(acct.balanceNanos, 890);
        assert.equal(key.usageNanos, 110);
        assert.equal(key.usageTotalNanos, 110);

        const over = await fx.reserve(a.id, k.hash, 391);
        assert.equal(!over.ok && over.reason === 'key_limit' && over.availableNanos === 390, true, JSON.stringify(over));
        assert.equal((await fx.reserve(a.id, k.hash, 390)).ok, true);
      });

      scenario('settling for nothing records the charge row and changes no balance', async (fx) => {
        const a = await fx.account({ prepaid: true, topup: 100 });
        const k = await fx.key(a.id, { limitNanos: 100 });
        const r = await fx.reserve(a.id, k.hash, 50);
        assert.equal(await fx.settle({ reservationId: r.id, accountId: a.id, keyHash: k.hash, upstreamNanos: 0, feeNanos: 0 }), true);
        assert.equal(await fx.settle({ reservationId: r.id, accountId: a.id, keyHash: k.hash, upstreamNanos: 0, feeNanos: 0 }), false);
        const acct = (await store.getAccount(a.id))!;
        const key = (await store.findKey(k.hash))!;
        assert.equal(acct.balanceNanos, 100);
        assert.equal(acct.reservedNanos, 0);
        assert.equal(key.usageNanos, 0);
        assert.equal(key.reservedNanos, 0);
        const [row] = await store.ledger(a.id, 1);
        assert.equal(row.id, r.id);
        assert.equal(row.amountNanos, 0);
      });

      scenario('settle after the reservation expired and was released charges exactly once', async (fx) => {
        const a = await fx.account({ prepaid: true, topup: 1000 });
        const k = await fx.key(a.id, { limitNanos: 1000 });
        const r = await fx.reserve(a.id, k.hash, 300, { now: T0, expiresAt: plus(T0, 1000) });
        assert.equal(r.ok, true);
        assert.equal(await fx.releaseExpired(plus(T0, 2000)), 1);
        assert.equal((await store.getAccount(a.id))!.reservedNanos, 0);
        assert.equal((await store.findKey(k.hash))!.reservedNanos, 0);
        assert.equal(
          await fx.settle({ reservationId: r.id, accountId: a.id, keyHash: k.hash, upstreamNanos: 200, feeNanos: 20, now: plus(T0, 3000) }),
          true,
        );
        assert.equal(
          await fx.settle({ reservationId: r.id, accountId: a.id, keyHash: k.hash, upstreamNanos: 200, feeNanos: 20, now: plus(T0, 4000) }),
          false,
        );
        const acct = (await store.getAccount(a.id))!;
        const key = (await store.findKey(k.hash))!;
        assert.equal(acct.balanceNanos, 780);
        assert.equal(acct.reservedNanos, 0);
        assert.equal(key.usageNanos, 220);
        assert.equal(key.usageTotalNanos, 220);
        assert.equal(key.reservedNanos, 0);
        assert.equal((await store.ledger(a.id)).filter((e) => e.kind === 'charge').length, 1);
      });

      scenario('release gives the hold back, once', async (fx) => {
        const a = await fx.account({ prepaid: true, topup: 300 });
        const k = await fx.key(a.id, { limitNanos: 300 });
        const r = await fx.reserve(a.id, k.hash, 300);
        assert.equal(r.ok, true);
        assert.equal((await fx.reserve(a.id, k.hash, 1)).ok, false);
        assert.equal(await fx.release(r.id), true);
        assert.equal(await fx.release(r.id), false);
        const acct = (await store.getAccount(a.id))!;
        const key = (await store.findKey(k.hash))!;
        assert.equal(acct.balanceNanos, 300, 'release charges nothing');
        assert.equal(acct.reservedNanos, 0);
        assert.equal(key.reservedNanos, 0);
        assert.equal(key.usageNanos, 0);
        assert.equal(await store.ledgerSum(a.id), 300);
        assert.equal((await fx.reserve(a.id, k.hash, 300)).ok, true, 'the whole amount is available again');
        assert.equal(await store.release(uid('nores')), false);
      });

      scenario('releaseExpired releases only reservations that expired before now', async (fx) => {
        const a = await fx.account();
        const k = await fx.key(a.id);
        const r1 = await fx.reserve(a.id, k.hash, 1, { expiresAt: plus(T0, 10_000) });
        const r2 = await fx.reserve(a.id, k.hash, 2, { expiresAt: plus(T0, 20_000) });
        const r3 = await fx.reserve(a.id, k.hash, 4, { expiresAt: plus(T0, 60_000) });
        assert.ok(r1.ok && r2.ok && r3.ok);
        assert.equal(await fx.releaseExpired(plus(T0, 10_000)), 0, 'expiring exactly now is not yet expired');
        assert.equal(await fx.releaseExpired(plus(T0, 30_000)), 2);
        assert.equal(await fx.releaseExpired(plus(T0, 30_000)), 0);
        assert.equal(await store.openReservations(a.id), 1);
        assert.equal((await store.getAccount(a.id))!.reservedNanos, 4);
        assert.equal((await store.findKey(k.hash))!.reservedNanos, 4);
        assert.equal(await fx.release(r1.id), false, 'already released');
        await fx.verify();
      });

      scenario('a daily limit stops counting yesterday’s usage', async (fx) => {
        const a = await fx.account();
        const k = await fx.key(a.id, { limitNanos: 100, limitReset: 'daily' });
        const day1 = at('2025-03-10T10:00:00.000Z');
        const day2 = at('2025-03-11T01:00:00.000Z');
        const r1 = await fx.reserve(a.id, k.hash, 80, { now: day1 });
        assert.equal(r1.ok, true);
        assert.equal((await store.findKey(k.hash))!.periodStart, '2025-03-10T00:00:00.000Z');
        assert.equal(
          await fx.settle({ reservationId: r1.id, accountId: a.id, keyHash: k.hash, upstreamNanos: 80, feeNanos: 0, now: day1 }),
          true,
        );
        const same = await fx.reserve(a.id, k.hash, 30, { now: plus(day1, 3_600_000) });
        assert.equal(!same.ok && same.reason === 'key_limit' && same.availableNanos === 20, true, JSON.stringify(same));

        const r2 = await fx.reserve(a.id, k.hash, 30, { now: day2 });
        assert.equal(r2.ok, true, 'a new day, a new allowance');
        let key = (await store.findKey(k.hash))!;
        assert.equal(key.usageNanos, 0);
        assert.equal(key.usageTotalNanos, 80);
        assert.equal(key.periodStart, '2025-03-11T00:00:00.000Z');
        assert.equal(
          await fx.settle({ reservationId: r2.id, accountId: a.id, keyHash: k.hash, upstreamNanos: 25, feeNanos: 5, now: day2 }),
          true,
        );
        key = (await store.findKey(k.hash))!;
        assert.equal(key.usageNanos, 30);
        assert.equal(key.usageTotalNanos, 110);
        const r3 = await fx.reserve(a.id, k.hash, 71, { now: day2 });
        assert.equal(!r3.ok && r3.availableNanos === 70, true);
      });

      scenario('a settle in a new period counts only toward the new period', async (fx) => {
        const a = await fx.account();
        const k = await fx.key(a.id, { limitNanos: 100, limitReset: 'daily' });
        const day1 = at('2025-03-10T23:59:00.000Z');
        const day2 = at('2025-03-11T00:01:00.000Z');
        const r1 = await fx.reserve(a.id, k.hash, 50, { now: day1 });
        const r2 = await fx.reserve(a.id, k.hash, 50, { now: day1 });
        assert.ok(r1.ok && r2.ok);
        assert.equal(
          await fx.settle({ reservationId: r1.id, accountId: a.id, keyHash: k.hash, upstreamNanos: 40, feeNanos: 0, now: day1 }),
          true,
        );
        // r2 finishes after midnight: its charge belongs to day 2.
        assert.equal(
          await fx.settle({ reservationId: r2.id, accountId: a.id, keyHash: k.hash, upstreamNanos: 30, feeNanos: 0, now: day2 }),
          true,
        );
        const key = (await store.findKey(k.hash))!;
        assert.equal(key.usageNanos, 30);
        assert.equal(key.usageTotalNanos, 70);
        assert.equal(key.periodStart, '2025-03-11T00:00:00.000Z');
      });

      scenario('monthly and weekly limits reset at the start of the month / on Monday', async (fx) => {
        const a = await fx.account();
        const monthly = await fx.key(a.id, { limitNanos: 100, limitReset: 'monthly' });
        const endOfMarch = at('2025-03-31T23:00:00.000Z');
        const r = await fx.reserve(a.id, monthly.hash, 100, { now: endOfMarch });
        assert.equal(
          await fx.settle({
            reservationId: r.id,
            accountId: a.id,
            keyHash: monthly.hash,
            upstreamNanos: 100,
            feeNanos: 0,
            now: endOfMarch,
          }),
          true,
        );
        assert.equal(
          (await fx.reserve(a.id, monthly.hash, 1, { now: at('2025-03-01T00:00:00.000Z') })).ok,
          false,
          'earlier in March: still spent',
        );
        assert.equal((await fx.reserve(a.id, monthly.hash, 1, { now: endOfMarch })).ok, false);
        assert.equal((await fx.reserve(a.id, monthly.hash, 100, { now: at('2025-04-01T00:30:00.000Z') })).ok, true);
        assert.equal((await store.findKey(monthly.hash))!.periodStart, '2025-04-01T00:00:00.000Z');

        const weekly = await fx.key(a.id, { limitNanos: 100, limitReset: 'weekly' });
        const sunday = at('2025-03-16T20:00:00.000Z');
        const r2 = await fx.reserve(a.id, weekly.hash, 100, { now: sunday });
        assert.equal((await store.findKey(weekly.hash))!.periodStart, '2025-03-10T00:00:00.000Z');
        assert.equal(
          await fx.settle({ reservationId: r2.id, accountId: a.id, keyHash: weekly.hash, upstreamNanos: 100, feeNanos: 0, now: sunday }),
          true,
        );
        assert.equal((await fx.reserve(a.id, weekly.hash, 1, { now: sunday })).ok, false);
        assert.equal((await fx.reserve(a.id, weekly.hash, 100, { now: at('2025-03-17T00:00:00.000Z') })).ok, true);
      });

      scenario(
        'settlements and a hold issued together: each sees the ones before it, midnight splits periods',
        async (fx) => {
          // Issued in one turn of the event loop, so a store that groups writes takes them in one batch.
          const a = await fx.account({ prepaid: true, topup: 1000 });
          const k = await fx.key(a.id, { limitNanos: 100, limitReset: 'daily' });
          const day1 = at('2025-03-10T23:59:59.990Z');
          const day2 = at('2025-03-11T00:00:00.010Z');
          const rs = await Promise.all([1, 2, 3].map(() => fx.reserve(a.id, k.hash, 30, { now: day1 })));
          assert.ok(rs.every((r) => r.ok));
          const [r1, r2, r3] = rs as Array<{ ok: true; id: string }>;
          const together = await Promise.all([
            fx.settle({ reservationId: r1.id, accountId: a.id, keyHash: k.hash, upstreamNanos: 20, feeNanos: 0, now: day1 }),
            fx.settle({ reservationId: r2.id, accountId: a.id, keyHash: k.hash, upstreamNanos: 25, feeNanos: 0, now: day1 }),
            // After midnight: counts toward day 2 only.
            fx.settle({ reservationId: r3.id, accountId: a.id, keyHash: k.hash, upstreamNanos: 30, feeNanos: 5, now: day2 }),
            // Day 2 has used 35 of 100: a hold of 66 is one too many, 65 fits.
            fx.reserve(a.id, k.hash, 66, { now: day2 }),
            fx.reserve(a.id, k.hash, 65, { now: day2 }),
          ]);
          assert.deepEqual(together.slice(0, 3), [true, true, true]);
          const [tooMuch, fits] = together.slice(3) as Array<{ ok: boolean; reason?: string; availableNanos?: number; id?: string }>;
          assert.deepEqual(
            { ok: tooMuch.ok, reason: tooMuch.reason, available: tooMuch.availableNanos },
            { ok: false, reason: 'key_limit', available: 65 },
          );
          assert.equal(fits.ok, true);
          const key = (await store.findKey(k.hash))!;
          assert.equal(key.usageNanos, 35);
          assert.equal(key.usageTotalNanos, 80);
          assert.equal(key.periodStart, '2025-03-11T00:00:00.000Z');
          assert.equal((await store.getAccount(a.id))!.balanceNanos, 920);
          await fx.release(fits.id!);
        },
        !opts.ordered,
      );

      scenario('a lifetime limit (no reset) never resets', async (fx) => {
        const a = await fx.account();
        const k = await fx.key(a.id, { limitNanos: 100 });
        const r = await fx.reserve(a.id, k.hash, 100, { now: T0 });
        await fx.settle({ reservationId: r.id, accountId: a.id, keyHash: k.hash, upstreamNanos: 90, feeNanos: 0, now: T0 });
        const later = await fx.reserve(a.id, k.hash, 11, { now: at('2027-01-01T00:00:00.000Z') });
        assert.equal(!later.ok && later.availableNanos === 10, true);
        assert.equal((await store.findKey(k.hash))!.periodStart, null);
      });
    });

    describe('concurrency', () => {
      const settleAll = async (fx: Fixture, accountId: string, keyHash: string, ids: string[]) => {
        const charged = await Promise.all(
          ids.map((id) => fx.settle({ reservationId: id, accountId, keyHash, upstreamNanos: 9, feeNanos: 1 })),
        );
        assert.equal(charged.filter(Boolean).length, ids.length);
      };

      scenario('200 concurrent reserves against a key limit of 200: exactly 20 succeed', async (fx) => {
        const a = await fx.account({ prepaid: false });
        const k = await fx.key(a.id, { limitNanos: 200 });
        const results = await Promise.all(Array.from({ length: 200 }, () => fx.reserve(a.id, k.hash, 10)));
        const ok = results.filter((r) => r.ok);
        assert.equal(ok.length, 20);
        assert.ok(results.every((r) => r.ok || (r.reason === 'key_limit' && r.availableNanos === 0)));
        assert.equal((await store.findKey(k.hash))!.reservedNanos, 200);
        await fx.verify();
        await settleAll(
          fx,
          a.id,
          k.hash,
          ok.map((r) => r.id),
        );
        const acct = (await store.getAccount(a.id))!;
        assert.equal(acct.balanceNanos, -200, 'a postpaid tab');
        assert.equal(acct.reservedNanos, 0);
        assert.equal((await store.findKey(k.hash))!.usageNanos, 200);
        assert.equal(await store.openReservations(a.id), 0);
      });

      scenario('200 concurrent reserves against a prepaid balance of 200: exactly 20 succeed; settling them empties it', async (fx) => {
        const a = await fx.account({ prepaid: true, topup: 200 });
        const k = await fx.key(a.id);
        const results = await Promise.all(Array.from({ length: 200 }, () => fx.reserve(a.id, k.hash, 10)));
        const ok = results.filter((r) => r.ok);
        assert.equal(ok.length, 20);
        assert.ok(results.every((r) => r.ok || (r.reason === 'balance' && r.availableNanos === 0)));
        await fx.verify();
        await settleAll(
          fx,
          a.id,
          k.hash,
          ok.map((r) => r.id),
        );
        // Settle every one again, concurrently: nothing more is charged.
        const again = await Promise.all(
          ok.map((r) => fx.settle({ reservationId: r.id, accountId: a.id, keyHash: k.hash, upstreamNanos: 9, feeNanos: 1 })),
        );
        assert.equal(again.filter(Boolean).length, 0);
        const acct = (await store.getAccount(a.id))!;
        assert.equal(acct.balanceNanos, 0);
        assert.equal(acct.reservedNanos, 0);
        assert.equal(await store.ledgerSum(a.id), 0);
        assert.deepEqual(await store.ledgerTotals(a.id), { credits: 200, charges: 200 });
        assert.equal(await store.openReservations(a.id), 0);
        assert.equal((await store.findKey(k.hash))!.usageTotalNanos, 200);
      });

      scenario('concurrent duplicate settles of one reservation charge once', async (fx) => {
        const a = await fx.account({ prepaid: true, topup: 100 });
        const k = await fx.key(a.id);
        const r = await fx.reserve(a.id, k.hash, 50);
        const charged = await Promise.all(
          Array.from({ length: 20 }, () =>
            fx.settle({ reservationId: r.id, accountId: a.id, keyHash: k.hash, upstreamNanos: 40, feeNanos: 2 }),
          ),
        );
        assert.equal(charged.filter(Boolean).length, 1);
        assert.equal((await store.getAccount(a.id))!.balanceNanos, 58);
      });

      scenario('concurrent reserves, settles and releases across two keys of one account stay consistent', async (fx) => {
        const a = await fx.account({ prepaid: true, topup: 10_000 });
        const k1 = await fx.key(a.id, { limitNanos: 3000 });
        const k2 = await fx.key(a.id, { limitNanos: 3000 });
        const work = Array.from({ length: 60 }, async (_, i) => {
          const k = i % 2 ? k1 : k2;
          const r = await fx.reserve(a.id, k.hash, 100);
          if (!r.ok) return;
          if (i % 3 === 0) await fx.release(r.id);
          else await fx.settle({ reservationId: r.id, accountId: a.id, keyHash: k.hash, upstreamNanos: 50, feeNanos: 5 });
        });
        await Promise.all(work);
        await fx.verify();
        const acct = (await store.getAccount(a.id))!;
        assert.equal(acct.balanceNanos, 10_000 - 40 * 55);
        const usage = (await store.findKey(k1.hash))!.usageNanos + (await store.findKey(k2.hash))!.usageNanos;
        assert.equal(usage, 40 * 55);
      });
    });

    describe('generations and usage', () => {
      scenario('insert and read back generations; usage groups and filters', async (fx) => {
        const a = await fx.account();
        const other = await fx.account();
        const k1 = await fx.key(a.id);
        const k2 = await fx.key(a.id);
        const gens: GenerationRecord[] = [];
        const days = ['2025-03-10', '2025-03-11', '2025-03-12'];
        let i = 0;
        for (const day of days) {
          for (const key of [k1, k2]) {
            for (const model of ['alpha', 'beta']) {
              i++;
              gens.push(
                generation({
                  keyHash: key.hash,
                  accountId: a.id,
                  model,
                  providerId: i % 3 === 0 ? 'ptwo' : 'pone',
                  createdAt: `${day}T${String(i % 24).padStart(2, '0')}:15:00.000Z`,
                  tokensPrompt: 100 + i,
                  tokensCompletion: 10 * i,
                  tokensCached: i % 4,
                  tokensReasoning: i % 5,
                  costNanos: 1_000_000_000 * i + 7,
                  streamed: i % 2 === 0,
                  cancelled: i === 5,
                  usageEstimated: i === 7,
                  upstreamId: i === 3 ? null : `up-${i}`,
                  ttftMs: i % 2 ? 120 : null,
                  generationMs: i % 2 ? 900 : null,
                  error: i === 4 ? 'upstream 500' : null,
                  apiType: i === 6 ? 'embeddings' : 'completions',
                  serviceTier: i === 2 ? 'flex' : null,
                  router: i === 1 ? 'openrouter/auto' : null,
                }),
              );
            }
          }
        }
        // Another account's generations never show up.
        const foreign = generation({ keyHash: k1.hash, accountId: other.id, createdAt: '2025-03-10T05:00:00.000Z' });
        await store.insertGenerations([...gens.slice(0, 5), foreign]);
        await store.insertGenerations(gens.slice(3));
        await store.insertGenerations([{ ...gens[0], costNanos: 1 }]);
        await store.insertGenerations([]);

        assert.deepEqual(await store.getGeneration(gens[0].id), gens[0], 'a repeated id is ignored');
        for (const g of gens) assert.deepEqual(await store.getGeneration(g.id), g);
        assert.equal(await store.getGeneration(uid('nogen')), undefined);

        assert.deepEqual(await store.usage({ accountId: a.id, groupBy: [] }), expectedUsage(gens, []));
        assert.equal((await store.usage({ accountId: a.id, groupBy: [] }))[0].requests, 12);
        for (const groupBy of [
          ['day'],
          ['model'],
          ['provider'],
          ['key'],
          ['day', 'model'],
          ['key', 'provider'],
          ['day', 'model', 'provider', 'key'],
        ] as const) {
          assert.deepEqual(
            await store.usage({ accountId: a.id, groupBy: [...groupBy] }),
            expectedUsage(gens, [...groupBy]),
            groupBy.join(','),
          );
        }
        const byKey = await store.usage({ accountId: a.id, keyHash: k2.hash, groupBy: ['day'] });
        assert.deepEqual(
          byKey,
          expectedUsage(
            gens.filter((g) => g.keyHash === k2.hash),
            ['day'],
          ),
        );
        assert.equal(byKey.length, 3);

        const ranged = await store.usage({ accountId: a.id, from: '2025-03-11', to: '2025-03-12', groupBy: ['day', 'model'] });
        assert.deepEqual(
          ranged,
          expectedUsage(
            gens.filter((g) => g.createdAt >= '2025-03-11' && g.createdAt < '2025-03-12'),
            ['day', 'model'],
          ),
        );
        assert.deepEqual(
          ranged.map((r) => r.day),
          ['2025-03-11', '2025-03-11'],
        );

        const fromOnly = await store.usage({ accountId: a.id, keyHash: k1.hash, from: '2025-03-12', groupBy: ['model'] });
        assert.deepEqual(
          fromOnly,
          expectedUsage(
            gens.filter((g) => g.keyHash === k1.hash && g.createdAt >= '2025-03-12'),
            ['model'],
          ),
        );
        assert.equal(
          fromOnly.reduce((s, r) => s + r.requests, 0),
          2,
        );

        assert.deepEqual(await store.usage({ accountId: a.id, from: '2030-01-01', groupBy: ['day'] }), []);
        assert.deepEqual(await store.usage({ accountId: other.id, groupBy: ['key'] }), expectedUsage([foreign], ['key']));
      });
    });

    describe('alerts', () => {
      const alert = (accountId: string, over: Partial<AlertRecord> = {}): AlertRecord => ({
        id: uid('alert'),
        accountId,
        keyHash: null,
        thresholdKind: 'usd',
        thresholdValue: 1_000_000_000,
        webhookUrl: null,
        firedAt: null,
        createdAt: T0.toISOString(),
        ...over,
      });

      scenario('create, get, list (oldest first, by key), delete; deleting a key deletes its alerts', async (fx) => {
        const a = await fx.account({ prepaid: true });
        const other = await fx.account();
        const k1 = await fx.key(a.id, { limitNanos: 5_000_000_000 });
        const k2 = await fx.key(a.id, { limitNanos: 1000 });
        const acct = alert(a.id, {
          thresholdKind: 'percent',
          thresholdValue: 2500,
          webhookUrl: 'https://hooks.example.com/a?t=1',
          createdAt: '2025-03-10T12:00:02.000Z',
        });
        const key1 = alert(a.id, { keyHash: k1.hash, thresholdValue: 9_007_199_254_740_991, createdAt: '2025-03-10T12:00:01.000Z' });
        const key2 = alert(a.id, { keyHash: k2.hash, firedAt: '2025-03-10T12:30:00.000Z', createdAt: '2025-03-10T12:00:03.000Z' });
        const foreign = alert(other.id);
        for (const x of [acct, key1, key2, foreign]) await store.createAlert(x);

        assert.deepEqual(await store.getAlert(acct.id), acct);
        assert.deepEqual(await store.getAlert(key1.id), key1, 'a BIGINT threshold round-trips exactly');
        assert.deepEqual(await store.getAlert(key2.id), key2);
        assert.equal(await store.getAlert(uid('noalert')), undefined);
        assert.deepEqual(await store.listAlerts(a.id), [key1, acct, key2]);
        assert.deepEqual(await store.listAlerts(a.id, k2.hash), [key2]);
        assert.deepEqual(await store.listAlerts(other.id), [foreign]);
        assert.deepEqual(await store.listAlerts(uid('acct')), []);

        assert.equal(await store.deleteAlert(acct.id), true);
        assert.equal(await store.deleteAlert(acct.id), false);
        assert.deepEqual(await store.listAlerts(a.id), [key1, key2]);
        assert.equal(await store.deleteKey(k1.hash), true);
        assert.deepEqual(await store.listAlerts(a.id), [key2], "a deleted key's alerts go with it");
        assert.deepEqual(await store.listAlerts(other.id), [foreign]);
        await store.deleteAlert(key2.id);
        await store.deleteAlert(foreign.id);
      });

      scenario('markAlert is a compare-and-set: fire once per crossing, re-arm once', async (fx) => {
        const a = await fx.account({ prepaid: true });
        const x = alert(a.id);
        await store.createAlert(x);
        const t1 = '2025-03-10T13:00:00.000Z';
        assert.equal(await store.markAlert(x.id, t1, false), true, 'armed → fired');
        assert.equal(await store.markAlert(x.id, '2025-03-10T13:00:01.000Z', false), false, 'already fired');
        assert.equal((await store.getAlert(x.id))!.firedAt, t1, 'the first firing time stays');
        assert.equal(await store.markAlert(x.id, null, true), true, 'fired → armed');
        assert.equal(await store.markAlert(x.id, null, true), false, 'already armed');
        assert.equal((await store.getAlert(x.id))!.firedAt, null);
        assert.equal(await store.markAlert(uid('noalert'), t1, false), false);
        assert.equal(await store.markAlert(uid('noalert'), null, true), false);

        // Many checkers see the same crossing at once: exactly one wins, then exactly one re-arms.
        const fired = await Promise.all(
          Array.from({ length: 30 }, (_, i) => store.markAlert(x.id, `2025-03-10T14:00:${String(i).padStart(2, '0')}.000Z`, false)),
        );
        assert.equal(fired.filter(Boolean).length, 1);
        const rearmed = await Promise.all(Array.from({ length: 30 }, () => store.markAlert(x.id, null, true)));
        assert.equal(rearmed.filter(Boolean).length, 1);
        await store.deleteAlert(x.id);
      });
    });

    describe('stored responses', () => {
      it('saves and reads back a response byte for byte; unknown ids are undefined; the first save wins', async () => {
        const id = uid('resp');
        const signature = 'EqQBCkgIARABGAIiQL+/9k=='.repeat(20);
        const saved = {
          id,
          keyHash: uid('key'),
          model: 'anthropic/claude-sonnet-4-5',
          input: [
            { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'héllo — 👋 "quoted" \\ back\nslash' }] },
            { type: 'function_call_output', call_id: 'toolu_01', output: '{"temp":21}' },
          ],
          output: [
            { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Thinking' }], encrypted_content: `fw1.${signature}` },
            { type: 'function_call', id: 'fc_1', call_id: 'toolu_02', name: 'lookup', arguments: '{"city": "Paris"}', status: 'completed' },
          ],
          response: { id, object: 'response', status: 'completed', usage: { input_tokens: 12, output_tokens: 3 }, metadata: { a: 'b' } },
          createdAt: T0.toISOString(),
        };
        await store.saveResponse(saved);
        assert.deepEqual(await store.getResponse(id), saved);
        assert.equal(await store.getResponse(uid('resp')), undefined);
        await store.saveResponse({ ...saved, keyHash: uid('key'), output: [], createdAt: plus(T0, 1000).toISOString() });
        assert.deepEqual(await store.getResponse(id), saved, 'a second save of the same id changes nothing');
      });

      it('deletes a response only for its own key; purges those created before a time', async () => {
        const keyHash = uid('key');
        const rec = (id: string, at: Date) => ({
          id,
          keyHash,
          model: 'm',
          input: [],
          output: [],
          response: { id },
          createdAt: at.toISOString(),
        });
        // Far in the past, so that no other test's responses are old enough to be purged here.
        const old = [uid('resp'), uid('resp')];
        const young = uid('resp');
        for (const id of old) await store.saveResponse(rec(id, new Date('1990-01-01T00:00:00.000Z')));
        await store.saveResponse(rec(young, new Date('1990-01-02T00:00:00.000Z')));

        assert.equal(await store.deleteResponse(old[0], uid('key')), false, "another key's delete changes nothing");
        assert.ok(await store.getResponse(old[0]));
        assert.equal(await store.deleteResponse(old[0], keyHash), true);
        assert.equal(await store.getResponse(old[0]), undefined);
        assert.equal(await store.deleteResponse(old[0], keyHash), false);

        assert.equal(await store.purgeResponses('1990-01-01T12:00:00.000Z'), 1);
        assert.equal(await store.getResponse(old[1]), undefined);
        assert.ok(await store.getResponse(young), 'a younger one stays');
        await store.deleteResponse(young, keyHash);
      });
    });

    describe('counters', () => {
      const minute = (startMs: number, limit: number): CounterWindow => ({ name: 'minute', startMs, limit });
      const day = (startMs: number, limit: number): CounterWindow => ({ name: 'day', startMs, limit });
      const M = 60_000;
      const base = Date.UTC(2025, 2, 10, 12, 0);

      it('refuses the hit past the limit, with the window; a newer window restarts', async () => {
        const key = uid('ctr');
        for (let i = 1; i <= 3; i++) assert.deepEqual(await store.hitCounters(key, [minute(base, 3)]), { ok: true, counts: [i] });
        assert.deepEqual(await store.hitCounters(key, [minute(base, 3)]), { ok: false, window: 'minute', count: 3 });
        assert.deepEqual(
          await store.hitCounters(key, [minute(base, 3)]),
          { ok: false, window: 'minute', count: 3 },
          'a refused hit counts nothing',
        );
        assert.deepEqual(await store.hitCounters(key, [minute(base + M, 3)]), { ok: true, counts: [1] });
        assert.deepEqual(await store.hitCounters(key, [minute(base + M, 3)]), { ok: true, counts: [2] });
        assert.deepEqual(await store.hitCounters(uid('ctr'), [minute(base + M, 3)]), { ok: true, counts: [1] }, 'counters are per key');
      });

      it('a window whose limit is 0 reads the count without counting (how /key shows free requests)', async () => {
        const key = uid('ctr');
        assert.deepEqual(await store.hitCounters(key, [day(base, 0)]), { ok: false, window: 'day', count: 0 }, 'no counter yet');
        for (let i = 1; i <= 2; i++) await store.hitCounters(key, [day(base, 5)]);
        assert.deepEqual(await store.hitCounters(key, [day(base, 0)]), { ok: false, window: 'day', count: 2 });
        assert.deepEqual(await store.hitCounters(key, [day(base, 5)]), { ok: true, counts: [3] }, 'reading counted nothing');
      });

      it('with two windows, either one full refuses and neither is incremented', async () => {
        const key = uid('ctr');
        const d0 = base;
        const d1 = base + 1440 * M;
        assert.deepEqual(await store.hitCounters(key, [minute(base, 2), day(d0, 3)]), { ok: true, counts: [1, 1] });
        assert.deepEqual(await store.hitCounters(key, [minute(base, 2), day(d0, 3)]), { ok: true, counts: [2, 2] });
        assert.deepEqual(await store.hitCounters(key, [minute(base, 2), day(d0, 3)]), { ok: false, window: 'minute', count: 2 });
        // The refused hit did not count toward the day.
        assert.deepEqual(await store.hitCounters(key, [minute(base + M, 2), day(d0, 3)]), { ok: true, counts: [1, 3] });
        assert.deepEqual(await store.hitCounters(key, [minute(base + 2 * M, 2), day(d0, 3)]), { ok: false, window: 'day', count: 3 });
        // Nor toward the new minute: it is still empty.
        assert.deepEqual(await store.hitCounters(key, [minute(base + 2 * M, 2), day(d1, 3)]), { ok: true, counts: [1, 1] });
        // Windows are checked in the order given.
        assert.deepEqual(await store.hitCounters(key, [day(d1, 1), minute(base + 2 * M, 1)]), { ok: false, window: 'day', count: 1 });
      });

      it('50 concurrent hits with a limit of 10: exactly 10 pass', async () => {
        const key = uid('ctr');
        const results = await Promise.all(Array.from({ length: 50 }, () => store.hitCounters(key, [minute(base, 10), day(base, 1000)])));
        const ok = results.filter((r) => r.ok);
        assert.equal(ok.length, 10);
        assert.deepEqual(
          ok.map((r) => (r.ok ? r.counts[0] : 0)).sort((x, y) => x - y),
          [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        );
        assert.ok(results.every((r) => r.ok || (r.window === 'minute' && r.count === 10)));
        assert.deepEqual(await store.hitCounters(key, [minute(base + M, 10), day(base, 1000)]), { ok: true, counts: [1, 11] });
      });
    });
  });
}

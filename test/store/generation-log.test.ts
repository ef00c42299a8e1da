/**
 * The generation log's reads on both engines: every filter of listGenerations, keyset paging that
 * neither repeats nor skips while rows are inserted between pages, the attribution columns, usage
 * by app and user, and the daily activity rows.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../src/store/open.ts';
import type { GenerationQuery, GenerationRecord } from '../../src/store/types.ts';
import type { Store } from '../../src/store/store.ts';
import { dropPgSchema, needs, pgSchemaUrl } from '../helpers/services.ts';

let seq = 0;
function gen(over: Partial<GenerationRecord> & Pick<GenerationRecord, 'createdAt'>): GenerationRecord {
  seq += 1;
  return {
    id: `gen-${String(seq).padStart(5, '0')}`,
    keyHash: 'k1',
    accountId: 'a1',
    model: 'm/alpha',
    providerId: 'pone',
    providerName: 'Provider One',
    upstreamModel: 'alpha-up',
    upstreamId: null,
    apiType: 'completions',
    streamed: false,
    cancelled: false,
    finishReason: 'stop',
    nativeFinishReason: null,
    tokensPrompt: 10,
    tokensCompletion: 5,
    tokensCached: 0,
    tokensCacheWrite: 0,
    tokensReasoning: 1,
    usageEstimated: false,
    costNanos: 100,
    promptCostNanos: 60,
    completionCostNanos: 40,
    upstreamCostNanos: 100,
    feeNanos: 0,
    latencyMs: 10,
    ttftMs: null,
    generationMs: null,
    error: null,
    legs: [],
    ...over,
  };
}

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();

function suite(name: string, open: () => Promise<Store>, cleanup: () => Promise<void>, skip: string | false) {
  describe(`generation log (${name})`, { skip }, () => {
    let store: Store;
    const all: GenerationRecord[] = [];
    before(async () => {
      store = await open();
      await store.migrate();
      all.push(
        gen({ createdAt: at(0), user: 'alice', appTitle: 'Writer', appReferer: 'https://writer.example', sessionId: 's-1' }),
        gen({ createdAt: at(1), user: 'bob', appTitle: 'Writer', keyHash: 'k2' }),
        gen({ createdAt: at(2), model: 'm/beta', providerId: 'ptwo', providerName: 'Provider Two', error: 'upstream 500', costNanos: 0 }),
        gen({ createdAt: at(3), cancelled: true, user: 'alice' }),
        gen({ createdAt: at(4), accountId: 'a2', keyHash: 'k3', user: 'alice', appTitle: 'Other' }),
        // Two at the same instant: the id orders them.
        gen({ createdAt: at(5), model: 'm/beta' }),
        gen({ createdAt: at(5) }),
        gen({ createdAt: new Date(Date.UTC(2026, 0, 2, 3)).toISOString(), tokensReasoning: 7 }),
      );
      await store.insertGenerations(all);
    });
    after(async () => {
      await store.close();
      await cleanup();
    });

    const ids = (rows: GenerationRecord[]) => rows.map((r) => r.id);
    const newestFirst = (a: GenerationRecord, b: GenerationRecord) =>
      a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1;
    const expect = (pred: (g: GenerationRecord) => boolean) =>
      all
        .filter(pred)
        .sort(newestFirst)
        .map((g) => g.id);
    const list = (q: Partial<GenerationQuery>) => store.listGenerations({ limit: 100, ...q });

    it('keeps who a request was for, and reads it back', async () => {
      const g = await store.getGeneration(all[0].id);
      assert.equal(g?.user, 'alice');
      assert.equal(g?.sessionId, 's-1');
      assert.equal(g?.appTitle, 'Writer');
      assert.equal(g?.appReferer, 'https://writer.example');
      const none = await store.getGeneration(all[2].id);
      assert.deepEqual([none?.user, none?.sessionId, none?.appTitle, none?.appReferer], [undefined, undefined, undefined, undefined]);
    });

    it('lists newest first, every account without one, and filters each field exactly', async () => {
      assert.deepEqual(
        ids(await list({})),
        expect(() => true),
      );
      assert.deepEqual(
        ids(await list({ accountId: 'a1' })),
        expect((g) => g.accountId === 'a1'),
      );
      assert.deepEqual(
        ids(await list({ accountId: 'a1', keyHash: 'k2' })),
        expect((g) => g.keyHash === 'k2'),
      );
      assert.deepEqual(ids(await list({ accountId: 'a1', keyHash: 'k3' })), []);
      assert.deepEqual(
        ids(await list({ model: 'm/beta' })),
        expect((g) => g.model === 'm/beta'),
      );
      assert.deepEqual(
        ids(await list({ providerId: 'ptwo' })),
        expect((g) => g.providerId === 'ptwo'),
      );
      assert.deepEqual(
        ids(await list({ status: 'error' })),
        expect((g) => g.error !== null),
      );
      assert.deepEqual(
        ids(await list({ status: 'cancelled' })),
        expect((g) => g.cancelled),
      );
      assert.deepEqual(
        ids(await list({ status: 'success' })),
        expect((g) => g.error === null && !g.cancelled),
      );
      assert.deepEqual(
        ids(await list({ appTitle: 'Writer' })),
        expect((g) => g.appTitle === 'Writer'),
      );
      assert.deepEqual(
        ids(await list({ accountId: 'a1', user: 'alice' })),
        expect((g) => g.accountId === 'a1' && g.user === 'alice'),
      );
      assert.deepEqual(
        ids(await list({ from: at(1), to: at(4) })),
        expect((g) => g.createdAt >= at(1) && g.createdAt < at(4)),
      );
    });

    it('pages by cursor without repeating or skipping, while newer rows arrive between pages', async () => {
      const seen: string[] = [];
      let before: GenerationQuery['before'];
      let inserted = 0;
      for (;;) {
        const page = await list({ accountId: 'a1', limit: 2, before });
        seen.push(...ids(page));
        if (page.length < 2) break;
        const last = page.at(-1)!;
        before = { createdAt: last.createdAt, id: last.id };
        // A request finishing now lands above the pages already read, never inside the rest.
        const fresh = gen({ createdAt: new Date(Date.UTC(2026, 5, 1, 0, inserted++)).toISOString() });
        await store.insertGenerations([fresh]);
      }
      assert.deepEqual(
        seen,
        expect((g) => g.accountId === 'a1'),
      );
      assert.ok(inserted >= 3);
    });

    it('reports usage by app and by user, unnamed ones together as null', async () => {
      const byApp = await store.usage({ accountId: 'a1', groupBy: ['app'], to: at(60) });
      const apps = new Map(byApp.map((r) => [r.app, r.requests]));
      assert.equal(apps.get('Writer'), 2);
      assert.equal(apps.get(null), 4);
      const byUser = await store.usage({ accountId: 'a1', groupBy: ['user'], to: at(60) });
      const users = new Map(byUser.map((r) => [r.user, r.requests]));
      assert.deepEqual([users.get('alice'), users.get('bob'), users.get(null)], [2, 1, 3]);
    });

    it('sums activity by day, model and endpoint, within the window and for one key or user', async () => {
      const rows = await store.activity({ accountId: 'a1', from: at(0), to: new Date(Date.UTC(2026, 0, 3)).toISOString() });
      const day1 = rows.filter((r) => r.day === '2026-01-01');
      const alpha = day1.find((r) => r.model === 'm/alpha')!;
      assert.equal(alpha.requests, 4);
      assert.equal(alpha.tokensPrompt, 40);
      assert.equal(alpha.costNanos, 400);
      assert.equal(alpha.providerName, 'Provider One');
      const beta = day1
        .filter((r) => r.model === 'm/beta')
        .map((r) => [r.providerId, r.requests])
        .sort();
      assert.deepEqual(beta, [
        ['pone', 1],
        ['ptwo', 1],
      ]);
      const day2 = rows.filter((r) => r.day === '2026-01-02');
      assert.deepEqual(
        day2.map((r) => [r.requests, r.tokensReasoning]),
        [[1, 7]],
      );
      const k2 = await store.activity({ accountId: 'a1', keyHash: 'k2', from: at(0), to: at(60) });
      assert.deepEqual(
        k2.map((r) => r.requests),
        [1],
      );
      const alice = await store.activity({ accountId: 'a1', user: 'alice', from: at(0), to: at(60) });
      assert.deepEqual(
        alice.map((r) => r.requests),
        [2],
      );
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'freeway-genlog-'));
suite(
  'sqlite',
  () => openStore(join(dir, 'freeway.db')),
  async () => rmSync(dir, { recursive: true, force: true }),
  false,
);

const pgSkip = await needs('postgres');
const { url, schema } = pgSchemaUrl();
suite(
  'postgres',
  () => openStore(url),
  () => dropPgSchema(schema),
  pgSkip,
);

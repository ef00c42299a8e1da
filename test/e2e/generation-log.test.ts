/**
 * The generation log over HTTP, on SQLite and on PostgreSQL: what a request's attribution leaves on
 * its record, GET /generations (filters, paging while requests land, who sees what), /usage by app
 * and user, OpenRouter's /activity read by the OpenRouter SDK, and opt-in content logging (off by
 * default, per key or account, the answer as delivered, no header kept, the retention sweep).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OpenRouter } from '@openrouter/sdk';
import OpenAI from 'openai';
import { hashKey } from '../../src/accounting/keys.ts';
import { assertOpenRouterShape, sseData } from '../helpers/openrouter-schemas.ts';
import { dropPgSchema, needs, pgSchemaUrl } from '../helpers/services.ts';
import { ADMIN_KEY, MODELS, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

const MODEL = MODELS.openai;

function suite(name: string, env: () => Record<string, string>, cleanup: () => Promise<void>, skip: string | false) {
  describe(`the generation log (${name})`, { skip }, () => {
    let stack: Stack;
    const keys: Record<'k1' | 'k2' | 'k3' | 'mgmt' | 'otherMgmt', string> = { k1: '', k2: '', k3: '', mgmt: '', otherMgmt: '' };
    const ids: Record<string, string> = {};

    async function api(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(`${stack.baseURL}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      // any: answers are asserted on field by field
      return { status: res.status, json: (await res.json()) as any, id: res.headers.get('x-generation-id') };
    }

    async function chat(key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
      const request = { model: MODEL, max_tokens: 20, messages: [{ role: 'user', content: 'hello' }], ...body };
      const r = await api('POST', '/chat/completions', key, request, headers);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      return r.json as { id: string; choices: Array<{ message: { content: string } }> };
    }

    before(async () => {
      stack = await startStack({ env: env() });
      for (const id of ['acme', 'other']) assert.equal((await api('POST', '/accounts', ADMIN_KEY, { id, prepaid: false })).status, 201);
      const key = async (account: string, kind = 'inference') =>
        (await api('POST', '/keys', ADMIN_KEY, { name: `${account}-${kind}`, account, kind })).json.key as string;
      keys.k1 = await key('acme');
      keys.k2 = await key('acme');
      keys.k3 = await key('other');
      keys.mgmt = await key('acme', 'management');
      keys.otherMgmt = await key('other', 'management');

      const writer = { 'X-Title': 'Writer', 'HTTP-Referer': 'https://writer.example' };
      ids.alice = (await chat(keys.k1, { user: 'alice', session_id: 's-1' }, writer)).id;
      ids.bob = (await chat(keys.k2, { user: 'bob' }, { 'X-OpenRouter-Title': 'Editor', 'X-Title': 'Legacy', 'x-session-id': 's-hdr' })).id;
      ids.other = (await chat(keys.k3, { user: 'alice' }, { 'X-Title': 'Writer' })).id;
      const client = new OpenAI({ apiKey: keys.k1, baseURL: stack.baseURL, maxRetries: 0, defaultHeaders: { 'X-Title': 'T'.repeat(300) } });
      const messages = [{ role: 'user' as const, content: 'stream me' }];
      const stream = await client.chat.completions.create({ model: MODEL, max_tokens: 20, stream: true, messages });
      for await (const chunk of stream) ids.streamed = chunk.id;
    });
    after(async () => {
      await stack?.close();
      await cleanup();
    });

    test('each record keeps the user, session, app and origin; a title or user past its bound is cut, a session_id refused', async () => {
      const a = (await api('GET', `/generation?id=${ids.alice}`, keys.k1)).json.data;
      assertOpenRouterShape('generation', { data: a });
      assert.deepEqual(
        [a.external_user, a.session_id, a.app_title, a.http_referer, a.origin],
        ['alice', 's-1', 'Writer', 'https://writer.example', 'https://writer.example'],
      );
      const b = (await api('GET', `/generation?id=${ids.bob}`, keys.k2)).json.data;
      // X-OpenRouter-Title wins over the legacy X-Title; the body's session wins over x-session-id, which stands in without one.
      assert.deepEqual([b.external_user, b.session_id, b.app_title, b.http_referer], ['bob', 's-hdr', 'Editor', null]);
      const s = (await api('GET', `/generation?id=${ids.streamed}`, keys.k1)).json.data;
      assert.equal(s.app_title, 'T'.repeat(256));
      // A key of the default account, so the listings below stay as they are.
      const spare = await stack.newKey();
      const x = [{ role: 'user', content: 'x' }];
      const long = await api('POST', '/chat/completions', spare, { model: MODEL, user: `${'u'.repeat(255)}😀`, messages: x });
      assert.equal(long.status, 200);
      // Cut before the emoji whose first half would be the 256th character.
      assert.equal((await api('GET', `/generation?id=${long.json.id}`, spare)).json.data.external_user, 'u'.repeat(255));
      const session = await api('POST', '/chat/completions', spare, { model: MODEL, session_id: 's'.repeat(257), messages: x });
      assert.equal(session.status, 400);
      assert.equal(session.json.error.metadata.param, 'session_id');
    });

    test('an inference key lists its own generations, newest first, and cannot ask for another key or account', async () => {
      const mine = await api('GET', '/generations', keys.k1);
      assert.equal(mine.status, 200);
      assert.deepEqual(
        mine.json.data.map((g: { id: string }) => g.id),
        [ids.streamed, ids.alice],
      );
      assert.equal(mine.json.next_cursor, null);
      assert.equal((await api('GET', `/generations?key=${hashKey(keys.k2)}`, keys.k1)).status, 403);
      assert.equal((await api('GET', '/generations?account=other', keys.k1)).status, 403);
      const filtered = await api('GET', '/generations?user=alice', keys.k1);
      assert.deepEqual(
        filtered.json.data.map((g: { id: string }) => g.id),
        [ids.alice],
      );
    });

    test('a management key sees its account only; the admin every account', async () => {
      const acme = await api('GET', '/generations', keys.mgmt);
      assert.deepEqual(new Set(acme.json.data.map((g: { id: string }) => g.id)), new Set([ids.alice, ids.bob, ids.streamed]));
      assert.equal((await api('GET', '/generations?account=other', keys.mgmt)).status, 403);
      const other = await api('GET', '/generations', keys.otherMgmt);
      assert.deepEqual(
        other.json.data.map((g: { id: string }) => g.id),
        [ids.other],
      );
      const all = await api('GET', '/generations?limit=500', ADMIN_KEY);
      for (const id of Object.values(ids))
        assert.ok(
          all.json.data.some((g: { id: string }) => g.id === id),
          id,
        );
      const adminByKey = await api('GET', `/generations?key=${hashKey(keys.k3)}`, ADMIN_KEY);
      assert.deepEqual(
        adminByKey.json.data.map((g: { id: string }) => g.id),
        [ids.other],
      );
      const byApp = await api('GET', '/generations?app=Writer', ADMIN_KEY);
      assert.deepEqual(new Set(byApp.json.data.map((g: { id: string }) => g.id)), new Set([ids.alice, ids.other]));
      const query = `key=${hashKey(keys.k2)}&model=${encodeURIComponent(MODEL)}&provider=openai&status=success`;
      const byKey = await api('GET', `/generations?${query}`, keys.mgmt);
      assert.deepEqual(
        byKey.json.data.map((g: { id: string }) => g.id),
        [ids.bob],
      );
      const none = await api('GET', `/generations?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, keys.mgmt);
      assert.deepEqual(none.json.data, []);
    });

    test('pages by cursor: nothing repeated or skipped while new generations land', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      const landed: string[] = [];
      do {
        const page = await api('GET', `/generations?limit=1${cursor ? `&cursor=${cursor}` : ''}`, keys.mgmt);
        assert.equal(page.status, 200);
        seen.push(...page.json.data.map((g: { id: string }) => g.id));
        cursor = page.json.next_cursor;
        if (cursor) landed.push((await chat(keys.k2, {})).id);
      } while (cursor);
      assert.deepEqual(new Set(seen), new Set([ids.alice, ids.bob, ids.streamed]));
      assert.equal(seen.length, 3);
      assert.equal(landed.length, 2);
    });

    test('bad parameters are a 400 in the envelope naming the parameter', async () => {
      for (const [query, param] of [
        ['limit=0', 'limit'],
        ['limit=501', 'limit'],
        ['limit=ten', 'limit'],
        ['status=fine', 'status'],
        ['cursor=bm90IGEgY3Vyc29y', 'cursor'],
        ['from=yesterday', 'from'],
        ['colour=red', 'colour'],
        ['model=a&model=b', 'model'],
        ['user=', 'user'],
        ['key=', 'key'],
      ] as const) {
        const r = await api('GET', `/generations?${query}`, keys.mgmt);
        assert.equal(r.status, 400, query);
        assertOpenRouterShape('error', r.json);
        assert.equal(r.json.error.metadata.param, param, query);
      }
    });

    test('/usage groups by app and by user', async () => {
      const r = await api('GET', '/usage?group_by=app,user', keys.mgmt);
      assert.equal(r.status, 200);
      type Row = { app: string | null; user: string | null; requests: number };
      const row = (app: string | null, user: string | null) => (r.json.data as Row[]).find((x) => x.app === app && x.user === user);
      assert.equal(row('Writer', 'alice')?.requests, 1);
      assert.equal(row('Editor', 'bob')?.requests, 1);
      assert.ok(row('T'.repeat(256), null));
    });

    test("/activity in OpenRouter's shape, read by the OpenRouter SDK", async () => {
      // Today's requests are not in the last 30 completed days: a day of them is written as yesterday's.
      const yesterday = new Date(Date.now() - 86_400_000);
      const g = (await stack.gw.app.generations.get(ids.alice))!;
      await stack.gw.app.store.insertGenerations([{ ...g, id: `${g.id}-y`, createdAt: yesterday.toISOString() }]);
      const raw = await api('GET', '/activity', keys.mgmt);
      assert.equal(raw.status, 200);
      assertOpenRouterShape('activity', raw.json);
      const sdk = new OpenRouter({ apiKey: keys.mgmt, serverURL: stack.baseURL });
      const res = await sdk.analytics.getUserActivity({ date: yesterday.toISOString().slice(0, 10) });
      assert.equal(res.data.length, 1);
      const [row] = res.data;
      assert.equal(row.model, MODEL);
      assert.equal(row.requests, 1);
      assert.equal(row.promptTokens, g.tokensPrompt);
      assert.equal(row.endpointId, `${g.providerId}:${g.upstreamModel}`);
      assert.equal((await api('GET', '/activity', keys.otherMgmt)).json.data.length, 0);
      assert.equal((await api('GET', '/activity', keys.k1)).status, 403);
      assert.equal((await api('GET', '/activity?date=2001-01-01', keys.mgmt)).status, 400);
    });

    describe('content logging', () => {
      test('is off by default', async () => {
        const r = await api('GET', `/generation/content?id=${ids.alice}`, keys.k1);
        assert.equal(r.status, 404);
      });

      test('per key: the prompt and the answer as delivered, whole and streamed; never a header', async () => {
        const on = await api('PATCH', `/keys/${hashKey(keys.k1)}`, keys.mgmt, { log_content: true });
        assert.equal(on.json.data.log_content, true);
        const headers = { 'X-Title': 'Writer', 'HTTP-Referer': 'https://secret-referer.example' };
        const whole = await chat(keys.k1, { messages: [{ role: 'user', content: 'remember this prompt' }] }, headers);
        const client = new OpenAI({ apiKey: keys.k1, baseURL: stack.baseURL, maxRetries: 0 });
        const messages = [{ role: 'user' as const, content: 'stream this prompt' }];
        const stream = await client.chat.completions.create({ model: MODEL, max_tokens: 20, stream: true, messages });
        let streamedId = '';
        let delivered = '';
        for await (const chunk of stream) {
          streamedId = chunk.id;
          delivered += chunk.choices[0]?.delta?.content ?? '';
        }
        assert.ok(delivered.length > 0);

        const w = await api('GET', `/generation/content?id=${whole.id}`, keys.k1);
        assert.equal(w.status, 200, JSON.stringify(w.json));
        assertOpenRouterShape('generation.content', w.json);
        assert.equal(w.json.data.output.completion, whole.choices[0].message.content);
        assert.match(JSON.stringify(w.json.data.input.messages), /remember this prompt/);
        assert.equal(w.json.data.error, null);
        const s = await api('GET', `/generation/content?id=${streamedId}`, keys.k1);
        assert.equal(s.json.data.output.completion, delivered);
        assert.match(JSON.stringify(s.json.data.input), /stream this prompt/);

        // The management key of the account reads it; another key of the account, or another account, cannot.
        assert.equal((await api('GET', `/generation/content?id=${whole.id}`, keys.mgmt)).status, 200);
        assert.equal((await api('GET', `/generation/content?id=${whole.id}`, keys.k2)).status, 404);
        assert.equal((await api('GET', `/generation/content?id=${whole.id}`, keys.otherMgmt)).status, 404);

        // What is stored holds no header: not the key, not the referer.
        await stack.gw.app.content.flush();
        const stored = JSON.stringify(await stack.gw.app.store.getContent(whole.id));
        assert.ok(stored.includes('remember this prompt'));
        for (const secret of [keys.k1, 'secret-referer', 'Bearer']) assert.ok(!stored.includes(secret), secret);
        assert.equal((await api('GET', '/generation/content', keys.k1)).status, 400);
      });

      test("per account, a key's own setting winning; other accounts untouched", async () => {
        assert.equal((await api('PATCH', '/accounts/other', keys.mgmt, { log_content: true })).status, 403);
        const acc = await api('PATCH', '/accounts/acme', keys.mgmt, { log_content: true });
        assert.equal(acc.status, 200);
        assert.equal(acc.json.data.log_content, true);
        await api('PATCH', `/keys/${hashKey(keys.k1)}`, keys.mgmt, { log_content: false });
        const k2 = (await chat(keys.k2, { messages: [{ role: 'user', content: 'account logs me' }] })).id;
        const k1 = (await chat(keys.k1, {})).id;
        const k3 = (await chat(keys.k3, {})).id;
        assert.equal((await api('GET', `/generation/content?id=${k2}`, keys.k2)).status, 200);
        assert.equal((await api('GET', `/generation/content?id=${k1}`, keys.k1)).status, 404);
        assert.equal((await api('GET', `/generation/content?id=${k3}`, keys.k3)).status, 404);
        // Back to the account's setting.
        const reset = await api('PATCH', `/keys/${hashKey(keys.k1)}`, keys.mgmt, { log_content: null });
        assert.equal(reset.json.data.log_content, null);
        const again = (await chat(keys.k1, {})).id;
        assert.equal((await api('GET', `/generation/content?id=${again}`, keys.k1)).status, 200);
        await api('PATCH', '/accounts/acme', keys.mgmt, { log_content: false });
      });

      test('the Anthropic door passing an Anthropic stream through, and the Responses door, log what they delivered', async () => {
        await api('PATCH', `/keys/${hashKey(keys.k2)}`, keys.mgmt, { log_content: true });
        try {
          const res = await fetch(`${stack.baseURL}/messages`, {
            method: 'POST',
            headers: { 'x-api-key': keys.k2, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
            body: JSON.stringify({
              model: MODELS.anthropic,
              max_tokens: 50,
              stream: true,
              messages: [{ role: 'user', content: 'through the messages door' }],
            }),
          });
          assert.equal(res.status, 200);
          const id = res.headers.get('x-generation-id')!;
          // any: Anthropic stream events, read for their text deltas
          const events = sseData(await res.text()) as any[];
          const deltas = events.filter((e) => e.type === 'content_block_delta' && e.delta?.type === 'text_delta');
          const delivered = deltas.map((e) => e.delta.text).join('');
          assert.ok(delivered.length > 0);
          const m = await api('GET', `/generation/content?id=${id}`, keys.k2);
          assert.equal(m.status, 200);
          assert.equal(m.json.data.output.completion, delivered);
          assert.match(JSON.stringify(m.json.data.input), /through the messages door/);

          const r = await api('POST', '/responses', keys.k2, { model: MODEL, input: 'through the responses door', store: false });
          assert.equal(r.status, 200, JSON.stringify(r.json));
          const parts = (r.json.output as Array<{ content?: Array<{ text?: string }> }>).flatMap((o) => o.content ?? []);
          const text = parts.map((c) => c.text ?? '').join('');
          const rid = (await api('GET', '/generations?limit=1', keys.k2)).json.data[0].id;
          const rc = await api('GET', `/generation/content?id=${rid}`, keys.k2);
          assert.equal(rc.json.data.output.completion, text);
          assert.match(JSON.stringify(rc.json.data.input), /through the responses door/);
        } finally {
          await api('PATCH', `/keys/${hashKey(keys.k2)}`, keys.mgmt, { log_content: null });
        }
      });

      test('writing content never holds up the answer: a store that does not answer delays nothing', async () => {
        const store = stack.gw.app.store;
        const save = store.saveContent.bind(store);
        let release!: () => void;
        const stuck = new Promise<void>((resolve) => (release = resolve));
        let calls = 0;
        let entered!: () => void;
        const writing = new Promise<void>((resolve) => (entered = resolve));
        // Whatever earlier tests queued is written first, so the next write is this test's.
        await stack.gw.app.content.flush();
        store.saveContent = async (cs) => {
          calls++;
          entered();
          await stuck;
          return save(cs);
        };
        try {
          await api('PATCH', `/keys/${hashKey(keys.k2)}`, keys.mgmt, { log_content: true });
          const first = await chat(keys.k2, { messages: [{ role: 'user', content: 'first' }] });
          // The first one's write starts, and hangs.
          void stack.gw.app.content.flush();
          await writing;
          const second = await chat(keys.k2, { messages: [{ role: 'user', content: 'second' }] });
          assert.ok(first.choices[0].message.content && second.choices[0].message.content);
          assert.equal(calls, 1, 'the answer came while the write was stuck');
        } finally {
          release();
          store.saveContent = save;
        }
        await stack.gw.app.content.flush();
        await api('PATCH', `/keys/${hashKey(keys.k2)}`, keys.mgmt, { log_content: null });
      });

      test('the sweep deletes what is past its retention and keeps the rest', async () => {
        const app = stack.gw.app;
        const old = new Date(Date.now() - stack.settings.contentLog.retentionMs - 60_000).toISOString();
        const fresh = new Date().toISOString();
        const output = { completion: 'x', reasoning: null, truncated: false };
        const base = { accountId: 'acme', keyHash: 'h', input: { messages: [] }, output };
        await app.store.saveContent([
          { ...base, id: 'old-content', createdAt: old },
          { ...base, id: 'fresh-content', createdAt: fresh },
        ]);
        assert.ok((await app.content.sweep()) >= 1);
        assert.equal(await app.store.getContent('old-content'), undefined);
        assert.ok(await app.store.getContent('fresh-content'));
      });
    });
  });
}

suite(
  'sqlite',
  () => ({}),
  async () => {},
  false,
);

const pgSkip = await needs('postgres');
const pg = pgSchemaUrl();
suite(
  'postgres',
  () => ({ DATABASE_URL: pg.url }),
  () => dropPgSchema(pg.schema),
  pgSkip,
);

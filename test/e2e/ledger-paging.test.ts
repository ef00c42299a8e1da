/**
 * `GET /credits/ledger` a page at a time: an opaque cursor, newest first, every movement once
 * while new ones arrive between pages, a kind filter, and clear errors for a bad cursor or kind.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN_KEY, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;

before(async () => {
  stack = await startStack();
  await stack.gw.app.store.createAccount({ id: 'pages', name: 'Pages', prepaid: true, now: new Date() });
});
after(() => stack.close());

// any: ledger responses are asserted on field by field
async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${stack.baseURL}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

test('the ledger pages through every movement once, newest first, while movements are added', async () => {
  for (let i = 1; i <= 7; i++) {
    const kind = i % 3 === 0 ? 'refund' : 'topup';
    assert.equal((await api('POST', '/credits', { account: 'pages', amount: i, kind, id: `m${i}` })).status, 201);
    // Each in its own millisecond, so "newest first" alone fixes the order (ties go by id).
    await new Promise((r) => setTimeout(r, 3));
  }
  const whole = (await api('GET', '/credits/ledger?account=pages&limit=500')).json.data.map((e: { id: string }) => e.id);
  assert.deepEqual(whole, ['m7', 'm6', 'm5', 'm4', 'm3', 'm2', 'm1'], 'newest first');
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const r = await api('GET', `/credits/ledger?account=pages&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200);
    assert.ok(r.json.data.length <= 3);
    seen.push(...r.json.data.map((e: { id: string }) => e.id));
    cursor = r.json.next_cursor;
    if (pages++ === 0) {
      assert.equal(typeof cursor, 'string', 'a full first page says there is more');
      // A top-up between pages is newer than the cursor: the next pages neither shift nor repeat.
      assert.equal((await api('POST', '/credits', { account: 'pages', amount: 100, id: 'late' })).status, 201);
    }
  } while (cursor !== null && pages < 10);
  assert.deepEqual(seen, whole, 'every movement once, in the order of the whole listing');
  assert.equal(pages, 3, 'pages of 3, 3 and 1; the last has no next_cursor');

  const latest = await api('GET', '/credits/ledger?account=pages&limit=1');
  assert.equal(latest.json.data[0].id, 'late');
  assert.equal(latest.json.data[0].amount, 100);

  const refunds = await api('GET', '/credits/ledger?account=pages&kind=refund');
  assert.deepEqual(
    refunds.json.data.map((e: { id: string; kind: string }) => [e.id, e.kind]),
    [
      ['m6', 'refund'],
      ['m3', 'refund'],
    ],
  );
  assert.equal(refunds.json.next_cursor, null);
});

test('a cursor or kind the API did not give is a 400 naming the parameter', async () => {
  const bad = await api('GET', '/credits/ledger?account=pages&cursor=not-a-cursor');
  assert.equal(bad.status, 400);
  assert.match(bad.json.error.message, /cursor/);
  const kind = await api('GET', '/credits/ledger?account=pages&kind=gift');
  assert.equal(kind.status, 400);
  assert.match(kind.json.error.message, /kind/);
});

/**
 * The management API and the key's own view: keys CRUD in OpenRouter's shape, /key, /credits,
 * /usage, accounts, and who may see what.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { ADMIN_KEY, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';

let stack: Stack;

before(async () => {
  stack = await startStack({
    yaml: 'billing:\n  freeModels:\n    perMinute: 2\n    perDay: 3\nmodels:\n  openai/gpt-4o-mini:\n    endpoints:\n      - provider: openai\n        model: gpt-4o-mini\n      - provider: openai\n        model: gpt-4o-mini\n        free: true\n',
  });
});
after(() => stack.close());

// any: management responses are asserted on field by field
async function api(
  method: string,
  path: string,
  body?: unknown,
  token = ADMIN_KEY,
): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${stack.baseURL}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

describe('keys', () => {
  test('create, get, list, patch, delete', async () => {
    const created = await api('POST', '/keys', { name: 'bob', limit: 5, limit_reset: 'monthly', expires_at: '2099-01-01T00:00:00Z' });
    assert.equal(created.status, 201);
    const { hash } = created.json.data;
    assert.equal(created.json.data.limit, 5);
    assert.equal(created.json.data.limit_remaining, 5);
    assert.equal(created.json.data.limit_reset, 'monthly');
    assert.equal(created.json.data.expires_at, '2099-01-01T00:00:00.000Z');
    const got = await api('GET', `/keys/${hash}`);
    assert.equal(got.json.data.name, 'bob');
    const list = await api('GET', '/keys');
    assert.ok(list.json.data.some((k: { hash: string }) => k.hash === hash));
    const patched = await api('PATCH', `/keys/${hash}`, { name: 'robert', limit: 7, disabled: true });
    assert.equal(patched.json.data.name, 'robert');
    assert.equal(patched.json.data.limit, 7);
    assert.equal(patched.json.data.disabled, true);
    const hidden = await api('GET', '/keys');
    assert.ok(!hidden.json.data.some((k: { hash: string }) => k.hash === hash), 'disabled keys hidden by default');
    const shown = await api('GET', '/keys?include_disabled=true');
    assert.ok(shown.json.data.some((k: { hash: string }) => k.hash === hash));
    // The disabled key no longer calls models.
    const client = new OpenAI({ apiKey: created.json.key, baseURL: stack.baseURL, maxRetries: 0 });
    await assert.rejects(
      client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
      (e: InstanceType<typeof OpenAI.APIError>) => e.status === 401,
    );
    assert.deepEqual((await api('DELETE', `/keys/${hash}`)).json, { deleted: true });
    assert.equal((await api('GET', `/keys/${hash}`)).status, 404);
  });

  test('strict validation names the field', async () => {
    const r = await api('POST', '/keys', { name: 'x', limit_reset: 'yearly' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.metadata.param, 'limit_reset');
    const r2 = await api('POST', '/keys', { name: 'x', Limit: 3 });
    assert.equal(r2.status, 400);
    assert.match(r2.json.error.message, /Unrecognized key\(s\) in object: 'Limit'/);
  });

  test('an expired key is refused with a message saying so', async () => {
    const created = await api('POST', '/keys', { name: 'old', expires_at: '2000-01-01T00:00:00Z' });
    const r = await api(
      'POST',
      '/chat/completions',
      { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] },
      created.json.key,
    );
    assert.equal(r.status, 401);
    assert.match(r.json.error.message, /expired/);
  });
});

describe('the key itself, credits and usage', () => {
  test('/key and /auth/key show the calling key only, with usage after a request', async () => {
    const created = await api('POST', '/keys', { name: 'carol', limit: 1 });
    const key = created.json.key;
    await api(
      'POST',
      '/chat/completions',
      { model: 'openai/gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content: 'count me' }] },
      key,
    );
    for (const path of ['/key', '/auth/key']) {
      const r = await api('GET', path, undefined, key);
      assert.equal(r.status, 200);
      assert.equal(r.json.data.label, created.json.data.label);
      assert.equal(r.json.data.limit, 1);
      assert.ok(r.json.data.usage > 0);
      assert.ok(r.json.data.limit_remaining < 1);
      assert.equal(r.json.data.is_free_tier, true);
      assert.equal(r.json.data.is_management_key, false);
    }
  });

  test('inference keys cannot manage keys or see another account', async () => {
    const created = await api('POST', '/keys', { name: 'dave' });
    assert.equal((await api('GET', '/keys', undefined, created.json.key)).status, 403);
    // Its own usage it may read (the dashboard's Activity page), another key's or account's not.
    const own = await api('GET', '/usage?group_by=key', undefined, created.json.key);
    assert.equal(own.status, 200);
    assert.ok(own.json.data.every((r: { key_hash: string }) => r.key_hash === created.json.data.hash));
    assert.equal((await api('GET', '/usage?key=someone-else', undefined, created.json.key)).status, 403);
    assert.equal((await api('GET', '/usage?account=other', undefined, created.json.key)).status, 403);
    assert.equal((await api('POST', '/credits', { amount: 5 }, created.json.key)).status, 403);
  });

  test('accounts, top-ups, /credits arithmetic and per-account management keys', async () => {
    assert.equal((await api('POST', '/accounts', { id: 'acme', name: 'Acme' })).status, 201);
    const topup = await api('POST', '/credits', { account: 'acme', amount: 12.5, id: 'invoice-1' });
    assert.equal(topup.status, 201);
    const again = await api('POST', '/credits', { account: 'acme', amount: 12.5, id: 'invoice-1' });
    assert.equal(again.json.credited, false, 'same id credits once');
    const changed = await api('POST', '/credits', { account: 'acme', amount: 50, id: 'invoice-1' });
    assert.equal(changed.status, 400, 'the same id for another amount is a mistake, not a retry');
    assert.match(changed.json.error.message, /invoice-1.*already used for a topup of \$12\.5 to account acme/);
    const credits = await api('GET', '/credits?account=acme');
    assert.equal(credits.json.data.total_credits, 12.5);
    assert.equal(credits.json.data.total_usage, 0);
    // A management key of acme sees acme only.
    const mgmt = await api('POST', '/keys', { name: 'acme-admin', account: 'acme', kind: 'management' });
    const mine = await api('GET', '/credits', undefined, mgmt.json.key);
    assert.equal(mine.json.data.id, 'acme');
    assert.equal((await api('GET', '/credits?account=default', undefined, mgmt.json.key)).status, 403);
    const worker = await api('POST', '/keys', { name: 'acme-worker' }, mgmt.json.key);
    assert.equal(worker.json.data.account, 'acme');
    await api(
      'POST',
      '/chat/completions',
      { model: 'openai/gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content: 'spend' }] },
      worker.json.key,
    );
    const after = await api('GET', '/credits', undefined, worker.json.key);
    assert.ok(after.json.data.total_usage > 0);
    assert.equal(
      Math.round((after.json.data.total_credits - after.json.data.total_usage) * 1e9),
      Math.round(after.json.data.balance * 1e9),
      'balance = total_credits - total_usage',
    );
  });

  test('/usage groups by day, model, provider and key', async () => {
    const r = await api('GET', '/usage?group_by=model,provider,key');
    assert.equal(r.status, 200);
    const row = r.json.data.find((x: { model: string }) => x.model === 'openai/gpt-4o-mini');
    assert.ok(row && row.requests > 0 && row.prompt_tokens > 0 && row.usage > 0 && row.provider === 'openai' && row.key_hash);
    const byDay = await api('GET', '/usage?group_by=day');
    assert.match(byDay.json.data[0].date, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal((await api('GET', '/usage?group_by=planet')).status, 400);
  });
});

describe('free models', () => {
  test(':free variants are listed, cost nothing, and have their own limits with a 429 that explains', async () => {
    const models = (await (await fetch(`${stack.baseURL}/models`)).json()) as { data: Array<{ id: string; pricing: { prompt: string } }> };
    assert.equal(models.data.find((m) => m.id === 'openai/gpt-4o-mini:free')?.pricing.prompt, '0');
    const created = await api('POST', '/keys', { name: 'freeloader' });
    const call = () =>
      api(
        'POST',
        '/chat/completions',
        { model: 'openai/gpt-4o-mini:free', messages: [{ role: 'user', content: 'free?' }] },
        created.json.key,
      );
    const first = await call();
    assert.equal(first.status, 200);
    assert.equal(first.json.usage.cost, 0);
    assert.equal((await call()).status, 200);
    const limited = await call();
    assert.equal(limited.status, 429);
    assert.match(limited.json.error.message, /free-models-per-min \(2 requests per minute\)/);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal(limited.headers.get('x-ratelimit-limit'), '2');
    assert.equal(limited.headers.get('x-ratelimit-remaining'), '0');
    assert.ok(Number(limited.headers.get('x-ratelimit-reset')) > Date.now());
    // The key sees its day's free requests (the refused one not counted), and looking does not count.
    for (let i = 0; i < 2; i++) {
      const me = await api('GET', '/key', undefined, created.json.key);
      assert.deepEqual(me.json.data.free_model_daily_requests, { limit: 3, used: 2, remaining: 1 });
    }
    // The paid variant is not limited.
    const paid = await api(
      'POST',
      '/chat/completions',
      { model: 'openai/gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'paid' }] },
      created.json.key,
    );
    assert.equal(paid.status, 200);
  });
});

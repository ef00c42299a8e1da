/**
 * Amounts that would break the ledger, through the admin API and the CLI: each one is a 400 (or a
 * CLI error) naming the field and the bound; the balance never passes 2^53 − 1 nanos; and a
 * database holding a value from before the bounds still lists its accounts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { MAX_STORED_NANOS } from '../../src/spec/money-bounds.ts';
import { cleanEnv } from '../helpers/freeway-process.ts';
import { ADMIN_KEY, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';
import { tempDir } from '../helpers/temp-dir.ts';

let stack: Stack;
before(async () => {
  // A model at the dearest price a config may set ($1,000 a token), for a hold past the bound.
  stack = await startStack({
    yaml: 'models:\n  test/dearest:\n    endpoints:\n      - provider: openai\n        model: gpt-4o-mini\n        pricing: { prompt: "1000", completion: "1000" }\n',
  });
});
after(() => stack.close());

async function admin(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: { data?: Record<string, unknown>; error?: { message: string; metadata: Record<string, unknown> } } }> {
  const res = await fetch(`${stack.baseURL}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as never };
}

async function newAccount(): Promise<string> {
  const id = `acct-${Math.random().toString(36).slice(2, 10)}`;
  assert.equal((await admin('POST', '/accounts', { id, prepaid: true })).status, 201);
  return id;
}

describe('POST /credits', () => {
  test('a $1e9 top-up is a 400 naming the bound on a single amount; the account is untouched', async () => {
    const account = await newAccount();
    const r = await admin('POST', '/credits', { account, amount: 1e9 });
    assert.equal(r.status, 400);
    assert.match(r.json.error!.message, /^amount: must be at most \$1,000,000 \(the bound on a single amount\)/);
    assert.equal(r.json.error!.metadata.param, 'amount');
    assert.equal(r.json.error!.metadata.bound_usd, '$1,000,000');
    const list = await admin('GET', '/accounts');
    assert.equal(list.status, 200);
  });

  test('amounts that are not plain, exact, bounded USD are refused, each clearly', async () => {
    const account = await newAccount();
    const cases: Array<[unknown, RegExp]> = [
      [1e300, /at most \$1,000,000/],
      // Amounts are JSON numbers: text, even a number's, is refused, and never read as NaN.
      ['1e300', /expected an amount of USD \(a number\), got string/],
      ['NaN', /expected an amount of USD \(a number\), got string/],
      ['Infinity', /expected an amount of USD \(a number\), got string/],
      [-5, /must not be negative/],
      [1e-10, /more than 9 decimal places/],
      [0.1234567891, /more than 9 decimal places/],
      [0, /must not be zero/],
      [null, /expected an amount of USD/],
    ];
    for (const [amount, pattern] of cases) {
      const r = await admin('POST', '/credits', { account, amount });
      assert.equal(r.status, 400, String(amount));
      assert.match(r.json.error!.message, pattern, String(amount));
    }
    // The raw JSON number 1e400 parses as Infinity: refused too, not stored as one.
    const inf = await admin('POST', '/credits', `{"account":"${account}","amount":1e400}`);
    assert.equal(inf.status, 400);
    const adj = await admin('POST', '/credits', { account, amount: -1e300, kind: 'adjustment' });
    assert.equal(adj.status, 400);
    assert.match(adj.json.error!.message, /at least -\$1,000,000/);
    const a = await admin('GET', `/credits?account=${account}`);
    assert.equal(a.json.data!.balance, 0);
  });

  test('ten $1,000,000 top-ups: the tenth would pass the stored bound and is a 400 naming it; reads stay exact', async () => {
    const account = await newAccount();
    for (let i = 0; i < 9; i++) assert.equal((await admin('POST', '/credits', { account, amount: 1_000_000 })).status, 201);
    const tenth = await admin('POST', '/credits', { account, amount: 1_000_000 });
    assert.equal(tenth.status, 400);
    assert.match(
      tenth.json.error!.message,
      /would make account .*'s balance \$10,000,000, beyond \$9,007,199\.254740991 \(the bound on a stored balance/,
    );
    const credits = await admin('GET', `/credits?account=${account}`);
    assert.equal(credits.status, 200);
    assert.equal(credits.json.data!.balance, 9_000_000);
    assert.equal(credits.json.data!.total_credits, 9_000_000);
    assert.equal((await admin('GET', '/accounts')).status, 200);
    const store = stack.gw.app.store;
    assert.equal(await store.ledgerSum(account), (await store.getAccount(account))!.balanceNanos);
  });
});

describe('key limits, rates and alert thresholds', () => {
  test('a key limit of 1e19 or 1e300 is a 400, not a float or Infinity shown as unlimited', async () => {
    for (const limit of [1e19, 1e300, 1_000_000.5]) {
      const r = await admin('POST', '/keys', { name: 'huge', limit });
      assert.equal(r.status, 400, String(limit));
      assert.match(r.json.error!.message, /^limit: must be at most \$1,000,000/);
    }
    const ok = await admin('POST', '/keys', { name: 'fine', limit: 1_000_000 });
    assert.equal(ok.status, 201);
    const hash = (ok.json.data as { hash: string }).hash;
    const patched = await admin('PATCH', `/keys/${hash}`, { limit: 1e300 });
    assert.equal(patched.status, 400);
    const rates = await admin('PATCH', `/keys/${hash}`, { tokens_per_minute: 3e9 });
    assert.equal(rates.status, 400);
    assert.match(rates.json.error!.message, /tokens_per_minute: must be between 1 and 2147483647/);
    const k = await admin('GET', `/keys/${hash}`);
    assert.equal((k.json.data as { limit: number }).limit, 1_000_000);
  });

  test('an alert threshold past the bound is a 400', async () => {
    const ok = await admin('POST', '/keys', { name: 'alerting', limit: 10 });
    const hash = (ok.json.data as { hash: string }).hash;
    const r = await admin('POST', '/alerts', { key_hash: hash, threshold_usd: 1e300 });
    assert.equal(r.status, 400);
    assert.match(r.json.error!.message, /threshold_usd: must be at most \$1,000,000/);
  });

  test('a request whose worst case is past $1,000,000 is a 400 naming the bound, not an inexact hold', async () => {
    const res = await fetch(`${stack.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'test/dearest', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2000 }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { message: string; metadata: { param: string } } };
    assert.equal(body.error.metadata.param, 'max_tokens');
    assert.match(body.error.message, /more than \$1,000,000, the bound on a single amount; set a lower max_tokens/);
  });
});

test('a database holding an amount from before the bounds still lists its accounts (GET /accounts is 200)', async () => {
  const account = await newAccount();
  await stack.gw.app.store.credit({ id: `t-${account}`, accountId: account, kind: 'topup', amountNanos: 5, now: new Date() });
  // What a $1e9 top-up left behind before the bounds existed (the checks set aside to plant it).
  const db = new DatabaseSync(join(stack.dir, 'freeway.db'));
  try {
    db.exec('PRAGMA busy_timeout = 10000; PRAGMA ignore_check_constraints = ON');
    db.exec(`UPDATE accounts SET balance_nanos = 1000000000000000005 WHERE id = '${account}'`);
  } finally {
    db.close();
  }
  const list = await admin('GET', '/accounts');
  assert.equal(list.status, 200);
  const row = (list.json.data as unknown as Array<{ id: string; balance: number }>).find((a) => a.id === account)!;
  assert.equal(row.balance, MAX_STORED_NANOS / 1e9);
  assert.equal((await admin('GET', `/credits?account=${account}`)).status, 200);
});

test('freeway credits add: past the bounds, the CLI says which bound and changes nothing', () => {
  const dir = tempDir('freeway-bounds-cli-');
  const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args], {
      cwd: dir,
      env: cleanEnv({ DATABASE_URL: join(dir, 'freeway.db') }),
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  assert.equal(run('accounts', 'create', 'big').code, 0);
  let r = run('credits', 'add', '1000000000', '--account', 'big');
  assert.equal(r.code, 1);
  assert.match(r.err, /must be at most \$1,000,000 \(the bound on a single amount\)/);
  r = run('credits', 'add', '0.0000000001', '--account', 'big');
  assert.equal(r.code, 1);
  assert.match(r.err, /more than 9 decimal places/);
  for (let i = 0; i < 9; i++) assert.equal(run('credits', 'add', '1000000', '--account', 'big').code, 0);
  r = run('credits', 'add', '1000000', '--account', 'big');
  assert.equal(r.code, 1);
  assert.match(r.err, /beyond \$9,007,199\.254740991 \(the bound on a stored balance/);
  r = run('credits', 'show', '--account', 'big');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /balance \$9000000,? held \$0/);
  r = run('keys', 'create', 'k', '--limit', '1e300');
  assert.equal(r.code, 1);
  r = run('keys', 'create', 'k', '--limit', '2000000');
  assert.equal(r.code, 1);
  assert.match(r.err, /at most \$1,000,000/);
});

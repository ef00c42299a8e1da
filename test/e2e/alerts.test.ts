/**
 * Credit alerts through the whole gateway: real requests spend a key's limit or an account's
 * credit until an alert crosses; a real HTTP receiver checks each webhook's HMAC signature and
 * body; crossings fire once, re-arm when credit comes back, and failed deliveries are retried.
 */
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createKey } from '../../src/accounting/keys.ts';
import { ConfigError, loadSettings } from '../../src/config/load.ts';
import { ADMIN_KEY, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const SECRET = 'whsec-test-secret';
const MODEL = 'openai/gpt-4o-mini';
const REQUEST = { model: MODEL, messages: [{ role: 'user', content: 'a short answer' }], max_tokens: 20 };

interface Delivery {
  path: string;
  body: Record<string, unknown>;
  raw: string;
  headers: Record<string, string | string[] | undefined>;
  status: number;
}

/** The webhook receiver: records every POST; `failures[path]` answers that many with a 500 first. */
const received: Delivery[] = [];
const failures: Record<string, number> = {};
let receiver: Server;
let hookBase: string;
let stack: Stack;
const logs: string[] = [];
/** Cost of one REQUEST, nano-dollars (the emulator is deterministic). */
let C = 0;

before(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      const fail = (failures[path] ?? 0) > 0;
      if (fail) failures[path]--;
      const status = fail ? 500 : 204;
      received.push({ path, raw, body: JSON.parse(raw) as Record<string, unknown>, headers: req.headers, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  stack = await startStack({
    // The receiver is on loopback: alerts' own webhooks may reach it only because the operator allows it.
    yaml: `alerts:\n  webhookUrl: ${hookBase}/hook\n  retryBaseMs: 20\n  allowInternalHosts: [127.0.0.1]\n`,
    env: { FREEWAY_WEBHOOK_SECRET: SECRET },
  });
  const log = stack.gw.app.log;
  for (const level of ['info', 'warn', 'error'] as const) log[level] = (m: string) => void logs.push(`${level.toUpperCase()} ${m}`);
  const probe = await newKey();
  await chat(probe.key);
  C = (await stack.gw.app.store.findKey(probe.hash))!.usageTotalNanos;
  assert.ok(C > 0);
});
after(async () => {
  await stack?.close();
  await new Promise((r) => receiver?.close(r));
});

async function newKey(opts: { account?: string; limitNanos?: number } = {}) {
  const { key, record } = await createKey(stack.gw.app.store, {
    name: 'k',
    kind: 'inference',
    accountId: opts.account,
    limitNanos: opts.limitNanos,
  });
  return { key, hash: record.hash };
}

async function api(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const res = await fetch(`${stack.baseURL}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

/** One paid request; then waits until the alert checks (and webhook deliveries) it caused are done. */
async function chat(key: string): Promise<void> {
  const { status, json } = await api('POST', '/chat/completions', key, REQUEST);
  assert.equal(status, 200, JSON.stringify(json));
  await stack.gw.app.billing.settled();
  await stack.gw.app.alerts.idle();
}

const hooksFor = (alertId: string) => received.filter((d) => d.body.alert_id === alertId);

function assertSigned(d: Delivery): void {
  assert.equal(d.headers['content-type'], 'application/json');
  const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(d.raw).digest('hex')}`);
  const got = Buffer.from(String(d.headers['x-freeway-signature']));
  assert.ok(got.length === expected.length && timingSafeEqual(got, expected), 'HMAC-SHA256 of the raw body with the shared secret');
  const ts = Number(d.headers['x-freeway-timestamp']);
  assert.ok(Math.abs(ts - Date.now() / 1000) < 60, 'timestamp is now, in seconds');
}

describe('key alerts', () => {
  test('a $ alert on a key limit fires once per crossing, signed; re-arms when the limit is raised; /key shows it', async () => {
    const L = 100 * C;
    const { key, hash } = await newKey({ limitNanos: L });
    const created = await api('POST', '/alerts', ADMIN_KEY, { key_hash: hash, threshold_usd: (L - 2.5 * C) / 1e9 });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const id = created.json.data.id as string;
    assert.deepEqual(created.json.data, {
      id,
      account: 'default',
      key_hash: hash,
      threshold: { kind: 'usd', value: (L - 2.5 * C) / 1e9 },
      webhook_url: null,
      fired: false,
      fired_at: null,
      created_at: created.json.data.created_at,
    });

    await chat(key);
    await chat(key);
    assert.equal(hooksFor(id).length, 0, 'not yet: L - 2C is above the threshold');
    const quiet = await api('GET', '/key', key);
    assert.equal(quiet.json.data.credit_alert, false);
    assert.deepEqual(quiet.json.data.alerts, [
      { id, scope: 'key', threshold: { kind: 'usd', value: (L - 2.5 * C) / 1e9 }, fired: false, fired_at: null },
    ]);

    await chat(key); // L - 3C: crossed
    const [first] = hooksFor(id);
    assert.equal(hooksFor(id).length, 1);
    assertSigned(first);
    assert.equal(first.path, '/hook', 'the configured webhook');
    assert.deepEqual(first.body, {
      type: 'credit_alert',
      alert_id: id,
      account: 'default',
      key_hash: hash,
      threshold: { kind: 'usd', value: (L - 2.5 * C) / 1e9 },
      remaining_usd: (L - 3 * C) / 1e9,
      fired_at: first.body.fired_at,
    });
    assert.ok(logs.some((l) => l.startsWith(`WARN credit alert ${id}: key ${hash} of account default has $${(L - 3 * C) / 1e9} left`)));
    const flagged = await api('GET', '/key', key);
    assert.equal(flagged.json.data.credit_alert, true);
    assert.deepEqual(flagged.json.data.alerts[0], {
      id,
      scope: 'key',
      threshold: { kind: 'usd', value: (L - 2.5 * C) / 1e9 },
      fired: true,
      fired_at: first.body.fired_at,
    });

    await chat(key);
    await chat(key);
    assert.equal(hooksFor(id).length, 1, 'further spending below the threshold does not fire again');

    // Raising the limit by 4C puts what is left (L - C) back above the threshold: re-armed.
    const patched = await api('PATCH', `/keys/${hash}`, ADMIN_KEY, { limit: (L + 4 * C) / 1e9 });
    assert.equal(patched.status, 200);
    await stack.gw.app.alerts.idle();
    assert.equal((await api('GET', '/key', key)).json.data.credit_alert, false);
    assert.ok(logs.some((l) => l.startsWith(`INFO credit alert ${id} re-armed`)));

    await chat(key); // L - 2C
    assert.equal(hooksFor(id).length, 1);
    await chat(key); // L - 3C: the second crossing
    assert.equal(hooksFor(id).length, 2);
    assertSigned(hooksFor(id)[1]);
    assert.equal(hooksFor(id)[1].body.remaining_usd, (L - 3 * C) / 1e9);
    assert.notEqual(hooksFor(id)[1].body.fired_at, first.body.fired_at);
    assert.equal((await api('GET', '/key', key)).json.data.credit_alert, true);
  });

  test("the key's owner sets a percent alert with its own webhook; a failing receiver gets it on the 3rd attempt", async () => {
    const { key, hash } = await newKey({ limitNanos: 10 * C });
    failures['/flaky'] = 2;
    // 75% left of 10C: fires when 7.5C or less is left, on the 3rd request.
    const created = await api('POST', '/key/alerts', key, { threshold_percent: 75, webhook_url: `${hookBase}/flaky` });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const id = created.json.data.id as string;
    assert.equal(created.json.data.key_hash, hash);
    assert.deepEqual(created.json.data.threshold, { kind: 'percent', value: 75 });

    await chat(key);
    await chat(key);
    assert.equal(hooksFor(id).length, 0);
    await chat(key);
    const tries = hooksFor(id);
    assert.deepEqual(
      tries.map((d) => [d.path, d.status]),
      [
        ['/flaky', 500],
        ['/flaky', 500],
        ['/flaky', 204],
      ],
    );
    for (const d of tries) assertSigned(d);
    assert.equal(new Set(tries.map((d) => d.raw)).size, 1, 'every attempt carries the same body');
    assert.equal(tries[0].body.remaining_usd, (7 * C) / 1e9);
    assert.deepEqual(tries[0].body.threshold, { kind: 'percent', value: 75 });
    const retried = logs.filter((l) => l.includes(`credit alert ${id}: webhook ${hookBase} failed`));
    assert.equal(retried.length, 2);
    assert.match(retried[0], /^WARN .*attempt 1 of 5: HTTP 500\); retrying in 20 ms$/);
    assert.match(retried[1], /attempt 2 of 5: HTTP 500\); retrying in 40 ms$/);

    // The owner can delete its own alert.
    assert.equal((await api('DELETE', `/key/alerts/${id}`, key)).status, 200);
    assert.deepEqual((await api('GET', '/key', key)).json.data.alerts, []);
    assert.equal((await api('DELETE', `/key/alerts/${id}`, key)).status, 404);
  });

  test('a receiver that keeps failing is given up on after 5 attempts, with a log line', async () => {
    const { key, hash } = await newKey({ limitNanos: 10 * C });
    failures['/down'] = 100;
    const created = await api('POST', '/alerts', ADMIN_KEY, {
      key_hash: hash,
      threshold_usd: (10 * C) / 1e9,
      webhook_url: `${hookBase}/down`,
    });
    await chat(key);
    const id = created.json.data.id as string;
    assert.equal(hooksFor(id).length, 5);
    assert.ok(logs.some((l) => l === `ERROR credit alert ${id}: webhook ${hookBase} failed 5 times (last: HTTP 500); giving up`));
    assert.equal((await api('GET', '/key', key)).json.data.credit_alert, true, 'it fired, even if nobody heard');
    failures['/down'] = 0;
  });
});

describe('account alerts', () => {
  test('a percent alert on a prepaid account fires after a top-up and spending; another top-up re-arms it', async () => {
    assert.equal((await api('POST', '/accounts', ADMIN_KEY, { id: 'acme', prepaid: true })).status, 201);
    const created = await api('POST', '/alerts', ADMIN_KEY, { account: 'acme', threshold_percent: 80 });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const id = created.json.data.id as string;
    const { key } = await newKey({ account: 'acme' });

    // 20C bought; 80% of it is 16C, reached by the 4th request.
    assert.equal((await api('POST', '/credits', ADMIN_KEY, { account: 'acme', amount: (20 * C) / 1e9 })).status, 201);
    await stack.gw.app.alerts.idle();
    for (let i = 1; i <= 3; i++) await chat(key);
    assert.equal(hooksFor(id).length, 0);
    assert.equal((await api('GET', '/key', key)).json.data.credit_alert, false);
    await chat(key);
    assert.equal(hooksFor(id).length, 1);
    const [d] = hooksFor(id);
    assertSigned(d);
    assert.deepEqual(d.body, {
      type: 'credit_alert',
      alert_id: id,
      account: 'acme',
      key_hash: null,
      threshold: { kind: 'percent', value: 80 },
      remaining_usd: (16 * C) / 1e9,
      fired_at: d.body.fired_at,
    });
    const view = (await api('GET', '/key', key)).json.data;
    assert.equal(view.credit_alert, true, "a key sees its account's alert");
    assert.deepEqual(
      view.alerts.map((a: { scope: string; fired: boolean }) => [a.scope, a.fired]),
      [['account', true]],
    );

    // Another 20C: 36C of 40C left, above 80% again.
    assert.equal((await api('POST', '/credits', ADMIN_KEY, { account: 'acme', amount: (20 * C) / 1e9 })).status, 201);
    await stack.gw.app.alerts.idle();
    const listed = await api('GET', '/alerts?account=acme', ADMIN_KEY);
    assert.deepEqual(
      listed.json.data.map((a: { id: string; fired: boolean }) => [a.id, a.fired]),
      [[id, false]],
    );
    for (let i = 1; i <= 3; i++) await chat(key); // 33C left: 82.5%
    assert.equal(hooksFor(id).length, 1);
    await chat(key); // 32C: 80%
    assert.equal(hooksFor(id).length, 2);

    // Billing.credit (the in-process path) re-arms too.
    await stack.gw.app.billing.credit('acme', 'topup', 40 * C);
    await stack.gw.app.alerts.idle();
    assert.equal((await stack.gw.app.store.getAlert(id))!.firedAt, null);

    assert.equal((await api('DELETE', `/alerts/${id}`, ADMIN_KEY)).status, 200);
    assert.deepEqual((await api('GET', '/alerts?account=acme', ADMIN_KEY)).json.data, []);
  });
});

describe('validation', () => {
  test('every bad alert is a 400 naming the field, or the right 401/403/404', async () => {
    const limited = await newKey({ limitNanos: 1e9 });
    const unlimited = await newKey();
    const bad = async (path: string, token: string, body: unknown, status: number, param?: string) => {
      const r = await api('POST', path, token, body);
      assert.equal(r.status, status, `${JSON.stringify(body)} → ${JSON.stringify(r.json)}`);
      if (param) assert.equal(r.json.error.metadata?.param, param, r.json.error.message);
      return r.json.error.message as string;
    };
    await bad('/alerts', ADMIN_KEY, { key_hash: limited.hash }, 400, 'threshold_usd');
    await bad('/alerts', ADMIN_KEY, { key_hash: limited.hash, threshold_usd: 1, threshold_percent: 5 }, 400, 'threshold_percent');
    await bad('/alerts', ADMIN_KEY, { key_hash: limited.hash, threshold_usd: -1 }, 400, 'threshold_usd');
    await bad('/alerts', ADMIN_KEY, { key_hash: limited.hash, threshold_usd: '1' }, 400, 'threshold_usd');
    await bad('/alerts', ADMIN_KEY, { key_hash: limited.hash, threshold_percent: 101 }, 400, 'threshold_percent');
    await bad('/alerts', ADMIN_KEY, { key_hash: limited.hash, threshold_usd: 1, webhook_url: 'ftp://example.com/x' }, 400, 'webhook_url');
    await bad('/alerts', ADMIN_KEY, { key_hash: limited.hash, threshold_usd: 1, webhook_url: 'not a url' }, 400, 'webhook_url');
    await bad('/alerts', ADMIN_KEY, { key_hash: limited.hash, threshold_usd: 1, when: 'soon' }, 400, 'body');
    await bad('/alerts', ADMIN_KEY, { key_hash: limited.hash, threshold_usd: 1, account: 'acme2' }, 400, 'account');
    assert.match(await bad('/alerts', ADMIN_KEY, { key_hash: unlimited.hash, threshold_usd: 1 }, 400, 'key_hash'), /has no credit limit/);
    assert.match(await bad('/alerts', ADMIN_KEY, { threshold_usd: 1 }, 400, 'account'), /postpaid/);
    await bad('/alerts', ADMIN_KEY, { key_hash: 'nope', threshold_usd: 1 }, 404);
    await bad('/alerts', ADMIN_KEY, { account: 'nope', threshold_usd: 1 }, 404);
    await bad('/alerts', limited.key, { key_hash: limited.hash, threshold_usd: 1 }, 403);
    await bad('/alerts', 'sk-fw-v1-wrong', { key_hash: limited.hash, threshold_usd: 1 }, 401);

    assert.match(await bad('/key/alerts', unlimited.key, { threshold_usd: 1 }, 400, 'limit'), /has no credit limit/);
    await bad('/key/alerts', limited.key, { threshold_usd: 1, key_hash: unlimited.hash }, 400, 'body');
    await bad('/key/alerts', limited.key, { threshold_percent: 'lots' }, 400, 'threshold_percent');
    await bad('/key/alerts', ADMIN_KEY, { threshold_usd: 1 }, 403);
    await bad('/key/alerts', 'sk-fw-v1-wrong', { threshold_usd: 1 }, 401);

    // One key's owner cannot delete another key's alert; nobody can delete what does not exist.
    const other = await api('POST', '/alerts', ADMIN_KEY, { key_hash: limited.hash, threshold_usd: 0.5 });
    assert.equal(other.status, 201);
    const limited2 = await newKey({ limitNanos: 1e9 });
    assert.equal((await api('DELETE', `/key/alerts/${other.json.data.id}`, limited2.key)).status, 404);
    assert.equal((await api('DELETE', '/alerts/alert_nope', ADMIN_KEY)).status, 404);
    assert.equal((await api('GET', `/alerts?key_hash=${limited.hash}`, ADMIN_KEY)).json.data.length, 1);
    // At most 20 per key.
    for (let i = 1; i < 20; i++) assert.equal((await api('POST', '/key/alerts', limited.key, { threshold_usd: i / 100 })).status, 201);
    assert.match(await bad('/key/alerts', limited.key, { threshold_usd: 0.3 }, 400), /already has 20 alerts/);
    // Deleting the key deletes its alerts.
    assert.equal((await api('DELETE', `/keys/${limited.hash}`, ADMIN_KEY)).status, 200);
    assert.equal((await api('GET', `/alerts?key_hash=${limited.hash}`, ADMIN_KEY)).json.data.length, 0);
  });

  test('config: alerts.webhookUrl must be an http(s) URL; the secret defaults to FREEWAY_WEBHOOK_SECRET', async () => {
    const dir = tempDir('freeway-cfg-');
    writeFileSync(join(dir, 'freeway.yaml'), 'alerts:\n  webhookUrl: ftp://example.com\n');
    await assert.rejects(
      loadSettings({ cwd: dir, env: {} }),
      (e: Error) => e instanceof ConfigError && /alerts\.webhookUrl must be an http\(s\) URL/.test(e.message),
    );
    writeFileSync(join(dir, 'freeway.yaml'), 'alerts:\n  webhookUrl: https://hooks.example.com/x\n');
    const s = await loadSettings({ cwd: dir, env: { FREEWAY_WEBHOOK_SECRET: 'from-env' } });
    assert.deepEqual(s.alerts, {
      webhookUrl: 'https://hooks.example.com/x',
      secret: 'from-env',
      retryBaseMs: 500,
      maxAttempts: 5,
      timeoutMs: 10_000,
      allowInternalHosts: [],
      maxResponseBytes: 65_536,
    });
    writeFileSync(join(dir, 'freeway.yaml'), 'alerts:\n  secret: from-file\n  retryBaseMs: 5\n');
    const t = await loadSettings({ cwd: dir, env: { FREEWAY_WEBHOOK_SECRET: 'from-env' } });
    assert.equal(t.alerts.secret, 'from-file');
    assert.equal(t.alerts.retryBaseMs, 5);
  });
});

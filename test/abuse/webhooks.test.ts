/**
 * Fault and abuse: credit-alert webhooks as a hostile tenant would aim them. An inference key may
 * set its alert's webhook_url, so every route into the gateway's own host, its network or a cloud
 * metadata service is refused with a 400 saying why; a name re-pointed at loopback after the
 * alert was made (DNS rebinding) gets no connection; redirects are not followed; answers are read
 * only up to their caps. The operator's allow-list lets named internal hosts through, and is how
 * these tests reach their loopback receivers at all. DNS is a table of this file's (the gateway's
 * resolver hook), so names point where each test needs them.
 */
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTcpServer, isIP } from 'node:net';
import type { AddressInfo, Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createKey } from '../../src/accounting/keys.ts';
import { ConfigError, loadSettings } from '../../src/config/load.ts';
import { ADMIN_KEY, startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const PUBLIC_V4 = '93.184.216.34';
const PUBLIC_V6 = '2606:2800:220:1:248:1893:25c8:1946';
const REQUEST = { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 };

/** This file's DNS: a name's answers, or a function giving the next answer; unknown names are NXDOMAIN. */
const dns = new Map<string, string[] | (() => string[])>();
const lookups = new Map<string, number>();
async function lookupHost(host: string): Promise<LookupAddress[]> {
  lookups.set(host, (lookups.get(host) ?? 0) + 1);
  const entry = dns.get(host);
  if (!entry) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return (typeof entry === 'function' ? entry() : entry).map((address) => ({ address, family: isIP(address) }));
}

/** A TCP listener that only counts who connects: proof that nothing reached it. */
async function tcpCounter(): Promise<{ server: TcpServer; port: number; connections: () => number }> {
  let n = 0;
  const server = createTcpServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, connections: () => n };
}

interface Hit {
  path: string;
  host: string | undefined;
  body: string;
  closed: Promise<void>;
}

/** The allow-listed receiver (hooks.internal → 127.0.0.1): each path answers its own way. */
const hits: Hit[] = [];
const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {};
let receiver: Server;
let receiverPort = 0;
let trap: Awaited<ReturnType<typeof tcpCounter>>;
let stack: Stack;
const logs: string[] = [];

before(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const closed = new Promise<void>((r) => res.on('close', () => r()));
      hits.push({ path: req.url ?? '/', host: req.headers.host, body: Buffer.concat(chunks).toString('utf8'), closed });
      (routes[req.url ?? '/'] ?? ((_q, s) => s.writeHead(204).end()))(req, res);
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverPort = (receiver.address() as AddressInfo).port;
  trap = await tcpCounter();
  dns.set('hooks.internal', ['127.0.0.1']);
  dns.set('public.test', [PUBLIC_V4, PUBLIC_V6]);
  dns.set('loopback.test', ['127.0.0.1']);
  dns.set('metadata.test', ['169.254.169.254']);
  dns.set('mixed.test', [PUBLIC_V4, '10.0.0.7']);
  dns.set('v6-loopback.test', [PUBLIC_V6, '::1']);
  dns.set('mapped.test', ['::ffff:127.0.0.1']);
  dns.set('other.internal', ['10.20.30.40']);
  stack = await startStack({
    yaml: 'alerts:\n  retryBaseMs: 20\n  allowInternalHosts: [hooks.internal]\n',
    lookupHost,
  });
  const log = stack.gw.app.log;
  for (const level of ['info', 'warn', 'error'] as const) log[level] = (m: string) => void logs.push(`${level.toUpperCase()} ${m}`);
});

after(async () => {
  await stack?.close();
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
  await new Promise((r) => trap?.server.close(r));
});

async function api(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const res = await fetch(`${stack.baseURL}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

/** A key with a $1 limit, and the alert its owner sets at $1 left: the key's first charge fires it. */
async function alertedKey(webhookUrl: string): Promise<{ key: string; id: string }> {
  const { key } = await createKey(stack.gw.app.store, { name: 'tenant', kind: 'inference', limitNanos: 1e9 });
  const created = await api('POST', '/key/alerts', key, { threshold_usd: 1, webhook_url: webhookUrl });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  return { key, id: created.json.data.id as string };
}

/** One paid request; then waits until the alert checks and webhook deliveries it caused are over. */
async function spend(key: string): Promise<void> {
  const { status, json } = await api('POST', '/chat/completions', key, REQUEST);
  assert.equal(status, 200, JSON.stringify(json));
  await stack.gw.app.billing.settled();
  await stack.gw.app.alerts.idle();
}

const logsOf = (id: string) => logs.filter((l) => l.includes(`credit alert ${id}: webhook`));

/** With the delivery caps changed for one test (the settings object the running gateway reads). */
async function withAlertSettings(patch: Partial<Stack['settings']['alerts']>, fn: () => Promise<void>): Promise<void> {
  const saved = { ...stack.settings.alerts };
  Object.assign(stack.settings.alerts, patch);
  try {
    await fn();
  } finally {
    Object.assign(stack.settings.alerts, saved);
  }
}

describe('creating an alert whose webhook is not public', () => {
  const REFUSED: Array<[string, RegExp]> = [
    ['http://127.0.0.1:9/hook', /127\.0\.0\.1 is a loopback address/],
    ['http://[::1]:8080/', /\[::1\] is a loopback address/],
    ['http://localhost:8080/', /localhost is this machine/],
    ['http://LOCALHOST./', /localhost\. is this machine/],
    ['http://api.localhost/', /api\.localhost is this machine/],
    ['http://169.254.169.254/latest/meta-data/iam/security-credentials/', /link-local address \(where cloud metadata/],
    ['http://[fe80::1]/', /link-local/],
    ['http://10.0.0.1/', /private address/],
    ['http://172.16.5.4/', /private address/],
    ['http://192.168.1.1/', /private address/],
    ['http://100.64.0.1/', /carrier-grade NAT/],
    ['http://[fd00::1]/', /unique-local/],
    ['http://224.0.0.1/', /multicast/],
    ['http://[ff02::1]/', /multicast/],
    ['http://0.0.0.0:8080/', /unspecified/],
    ['http://[::]/', /unspecified/],
    ['http://255.255.255.255/', /broadcast/],
    ['http://240.0.0.1/', /reserved/],
    ['http://[::ffff:127.0.0.1]/', /loopback address embedded in an IPv6 address/],
    ['http://[::ffff:169.254.169.254]/', /link-local .*embedded/],
    ['http://[::127.0.0.1]/', /IPv4-compatible/],
    ['http://[64:ff9b::10.0.0.1]/', /private address \(RFC 1918\) embedded/],
    ['http://[2002:7f00:1::1]/', /loopback address embedded/],
    // Numeric spellings of 127.0.0.1: the URL parser (WHATWG) normalises them before any check.
    ['http://2130706433/', /127\.0\.0\.1 is a loopback address/],
    ['http://0x7f.1/', /127\.0\.0\.1 is a loopback address/],
    ['http://127.1/', /127\.0\.0\.1 is a loopback address/],
    ['http://0177.0.0.1/', /127\.0\.0\.1 is a loopback address/],
    // Names: every address they resolve to must be public.
    ['http://loopback.test/', /loopback\.test resolves to a loopback address/],
    ['https://metadata.test/', /metadata\.test resolves to a link-local/],
    ['http://mixed.test/', /mixed\.test resolves to a private address/],
    ['http://v6-loopback.test/', /v6-loopback\.test resolves to a loopback address/],
    ['http://mapped.test/', /mapped\.test resolves to a loopback address embedded/],
    ['http://other.internal/', /other\.internal resolves to a private address/],
    ['http://nowhere.test/', /nowhere\.test could not be resolved \(ENOTFOUND\); a webhook must name a host that resolves/],
    ['ftp://public.test/', /must be an http\(s\) URL/],
  ];

  test('an inference key gets a 400 naming webhook_url and the reason, for every kind of address', async () => {
    const { key } = await createKey(stack.gw.app.store, { name: 'tenant', kind: 'inference', limitNanos: 1e9 });
    for (const [url, why] of REFUSED) {
      const r = await api('POST', '/key/alerts', key, { threshold_usd: 0.5, webhook_url: url });
      assert.equal(r.status, 400, `${url} → ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error.code, 400);
      assert.equal(r.json.error.metadata?.param, 'webhook_url', url);
      assert.match(r.json.error.message, /^webhook_url: /);
      assert.match(r.json.error.message, why, url);
      assert.doesNotMatch(r.json.error.message, /10\.0\.0\.7|10\.20\.30\.40|resolves to [\d:]/, 'what a name resolves to is not told');
      // An address refused says how the operator could allow it.
      if (!/could not be resolved|http\(s\) URL/.test(r.json.error.message))
        assert.match(r.json.error.message, /alerts\.allowInternalHosts/);
    }
    assert.deepEqual((await api('GET', '/key', key)).json.data.alerts, [], 'nothing was stored');
  });

  test('credentials in the URL are refused, and neither they nor the path are echoed', async () => {
    const { key } = await createKey(stack.gw.app.store, { name: 'tenant', kind: 'inference', limitNanos: 1e9 });
    const creds = await api('POST', '/key/alerts', key, { threshold_usd: 0.5, webhook_url: 'https://bob:hunter2@public.test/hook' });
    assert.equal(creds.status, 400);
    assert.match(creds.json.error.message, /must not carry credentials/);
    assert.doesNotMatch(JSON.stringify(creds.json), /hunter2|bob/);
    const path = await api('POST', '/key/alerts', key, { threshold_usd: 0.5, webhook_url: 'http://10.1.1.1/hooks/T0KEN-SECRET' });
    assert.equal(path.status, 400);
    assert.doesNotMatch(JSON.stringify(path.json), /T0KEN-SECRET/);
  });

  test('management keys and the admin are held to the same rule', async () => {
    const { key, record } = await createKey(stack.gw.app.store, { name: 'tenant', kind: 'inference', limitNanos: 1e9 });
    void key;
    const mgmt = await createKey(stack.gw.app.store, { name: 'mgmt', kind: 'management' });
    for (const token of [ADMIN_KEY, mgmt.key]) {
      const r = await api('POST', '/alerts', token, {
        key_hash: record.hash,
        threshold_usd: 0.5,
        webhook_url: 'http://169.254.169.254/latest/',
      });
      assert.equal(r.status, 400, JSON.stringify(r.json));
      assert.equal(r.json.error.metadata?.param, 'webhook_url');
      assert.match(r.json.error.message, /link-local/);
    }
  });

  test('public addresses, public names and allow-listed internal hosts are accepted', async () => {
    const { key } = await createKey(stack.gw.app.store, { name: 'tenant', kind: 'inference', limitNanos: 1e9 });
    for (const url of [
      `https://${PUBLIC_V4}/hook`,
      `http://[${PUBLIC_V6}]:8443/`,
      'http://public.test:8080/hook?token=x',
      `http://hooks.internal:${receiverPort}/ok`,
    ]) {
      const r = await api('POST', '/key/alerts', key, { threshold_usd: 0.5, webhook_url: url });
      assert.equal(r.status, 201, `${url} → ${JSON.stringify(r.json)}`);
      assert.equal(r.json.data.webhook_url, url);
    }
  });
});

describe('delivering', () => {
  test('a name re-pointed at loopback after creation (DNS rebinding) gets no connection; refused once, not retried', async () => {
    let answers = 0;
    dns.set('rebind.test', () => (answers++ === 0 ? [PUBLIC_V4] : ['127.0.0.1']));
    let mixed = 0;
    dns.set('rebind-mixed.test', () => (mixed++ === 0 ? [PUBLIC_V4] : [PUBLIC_V4, '127.0.0.1']));
    const a = await alertedKey(`http://rebind.test:${trap.port}/hook?token=SECRET-TOKEN`);
    const b = await alertedKey(`http://rebind-mixed.test:${trap.port}/hook`);
    await spend(a.key);
    await spend(b.key);
    assert.equal(trap.connections(), 0, 'nothing connected to the loopback listener');
    assert.equal(lookups.get('rebind.test'), 2, 'resolved at creation and once at delivery: no retries');
    assert.equal(lookups.get('rebind-mixed.test'), 2);
    assert.deepEqual(logsOf(a.id), [
      `WARN credit alert ${a.id}: webhook http://rebind.test:${trap.port} refused (it resolved to 127.0.0.1): rebind.test resolves to a loopback address; ` +
        'webhooks go to public addresses only (the operator can allow internal hosts with alerts.allowInternalHosts); not delivered',
    ]);
    assert.equal(logsOf(b.id).length, 1);
    assert.match(logsOf(b.id)[0], /^WARN .*refused \(it resolved to 127\.0\.0\.1\): rebind-mixed\.test resolves to a loopback address/);
    assert.ok(!logs.some((l) => l.includes('SECRET-TOKEN')), 'the path (and its token) is never logged');
    assert.equal((await api('GET', '/key', a.key)).json.data.credit_alert, true, 'the alert fired; only the webhook was refused');
  });

  test('an alert stored before these rules, aimed at loopback, is refused at delivery', async () => {
    const { key, record } = await createKey(stack.gw.app.store, { name: 'old', kind: 'inference', limitNanos: 1e9 });
    const id = 'alert_legacy';
    await stack.gw.app.store.createAlert({
      id,
      accountId: record.accountId,
      keyHash: record.hash,
      thresholdKind: 'usd',
      thresholdValue: 1e9,
      webhookUrl: `http://admin:pw@127.0.0.1:${trap.port}/x`,
      firedAt: null,
      createdAt: new Date().toISOString(),
    });
    stack.gw.app.alerts.created(record.accountId);
    await spend(key);
    assert.equal(trap.connections(), 0);
    assert.equal(logsOf(id).length, 1);
    assert.match(logsOf(id)[0], /^WARN credit alert alert_legacy: webhook http:\/\/127\.0\.0\.1:\d+ refused: must not carry credentials/);
    assert.ok(!logs.some((l) => l.includes('admin:pw')));
  });

  test('an allow-listed name is connected to at the address checked, with its own Host header', async () => {
    const { key, id } = await alertedKey(`http://hooks.internal:${receiverPort}/pinned`);
    await spend(key);
    const got = hits.filter((h) => h.path === '/pinned');
    // hooks.internal exists only in this file's DNS: a second, system lookup would have failed.
    assert.equal(got.length, 1);
    assert.equal(got[0].host, `hooks.internal:${receiverPort}`);
    assert.equal(JSON.parse(got[0].body).alert_id, id);
    assert.deepEqual(logsOf(id), []);
  });

  test('a redirect is not followed: the listener it points to gets nothing', async () => {
    const target = await tcpCounter();
    routes['/redirect'] = (_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${target.port}/stolen` }).end();
    try {
      const { key, id } = await alertedKey(`http://hooks.internal:${receiverPort}/redirect`);
      await spend(key);
      assert.equal(target.connections(), 0);
      assert.equal(hits.filter((h) => h.path === '/redirect').length, 5, 'a failed delivery, retried as any other');
      assert.ok(logsOf(id).some((l) => l.includes('attempt 1 of 5: HTTP 302, a redirect (not followed)')));
      assert.ok(logsOf(id).some((l) => l.startsWith(`ERROR credit alert ${id}`) && l.includes('failed 5 times')));
    } finally {
      await new Promise((r) => target.server.close(r));
    }
  });

  test('an endless answer is read up to the cap, then dropped; the delivery counts', async () => {
    routes['/endless'] = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
      };
      res.on('drain', pump);
      pump();
    };
    // A deadline far away: only the read cap can end this answer.
    await withAlertSettings({ timeoutMs: 600_000 }, async () => {
      const { key, id } = await alertedKey(`http://hooks.internal:${receiverPort}/endless`);
      await spend(key);
      const got = hits.filter((h) => h.path === '/endless');
      assert.equal(got.length, 1, 'delivered on the first attempt');
      await got[0].closed;
      assert.deepEqual(logsOf(id), []);
    });
  });

  test('an answer that never comes ends at the deadline and is retried; one that drips ends there too', async () => {
    const silent: ServerResponse[] = [];
    routes['/silent'] = (_req, res) => void silent.push(res);
    routes['/drip'] = (_req, res) => {
      res.writeHead(200);
      const t = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(t));
    };
    await withAlertSettings({ timeoutMs: 300, maxAttempts: 2 }, async () => {
      const s = await alertedKey(`http://hooks.internal:${receiverPort}/silent`);
      await spend(s.key);
      assert.equal(silent.length, 2);
      await Promise.all(hits.filter((h) => h.path === '/silent').map((h) => h.closed));
      assert.match(logsOf(s.id)[0], /attempt 1 of 2: timed out\)/);
      assert.match(logsOf(s.id)[1], /^ERROR .*failed 2 times \(last: timed out\); giving up$/);

      const d = await alertedKey(`http://hooks.internal:${receiverPort}/drip`);
      await spend(d.key);
      const got = hits.filter((h) => h.path === '/drip');
      assert.equal(got.length, 1, 'a 200 is a delivery, however slowly its body comes');
      await got[0].closed;
      assert.deepEqual(logsOf(d.id), []);
    });
  });
});

test('config: alerts.allowInternalHosts takes names, addresses and CIDR ranges, and nothing else', async () => {
  const dir = tempDir('freeway-cfg-');
  writeFileSync(join(dir, 'freeway.yaml'), 'alerts:\n  allowInternalHosts: [hooks.internal, 10.0.0.5, "10.1.0.0/16", "fd00::/8"]\n');
  const s = await loadSettings({ cwd: dir, env: {} });
  assert.deepEqual(s.alerts.allowInternalHosts, ['hooks.internal', '10.0.0.5', '10.1.0.0/16', 'fd00::/8']);
  writeFileSync(join(dir, 'freeway.yaml'), 'alerts:\n  allowInternalHosts: ["http://hooks.internal/"]\n');
  await assert.rejects(
    loadSettings({ cwd: dir, env: {} }),
    (e: Error) => e instanceof ConfigError && /allowInternalHosts.*host name, an IP address or a CIDR range/.test(e.message),
  );
});

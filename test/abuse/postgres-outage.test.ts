/**
 * Fault and abuse: PostgreSQL goes away under traffic, through a TCP proxy of the test's own (the
 * real server is shared and never touched), refused and then silent:
 * - every request answers 200 or a 503 in the error envelope that names the database — never a
 *   500, never a hang (bounded by the configured connect and statement timeouts);
 * - /health shows the store down (503), one ERROR line per outage;
 * - when it is back, requests succeed again without a restart and /health recovers;
 * - the money is consistent: balance = sum of the ledger, reserved = sum of open holds, no hold
 *   whose charge is also in the ledger (a half-written settle), key usage = its charges; charges
 *   and releases the database refused are retried until they land, so once it is back no hold is
 *   left and every answer that reached its client is charged exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { DEFAULT_ACCOUNT } from '../../src/accounting/keys.ts';
import { ADMIN_KEY, captureLogger, startStack } from '../helpers/stack.ts';
import type { CapturedLine, Stack } from '../helpers/stack.ts';
import { dropPgSchema, needs, PG_URL, pgSchemaUrl } from '../helpers/services.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import type { CutMode, TcpProxy } from '../helpers/tcp-proxy.ts';

const skip = await needs('postgres');

const CONNECT_MS = 1_000;
const QUERY_MS = 1_500;
/** Longest any request may take while the database is away: a connection wait plus a statement, and a margin for a loaded machine. */
const BOUND_MS = CONNECT_MS + QUERY_MS + 1_000 + 3_000;

interface Outcome {
  status: number;
  ms: number;
  error?: { code: number; message: string };
  inBandError?: boolean;
}

/** Answers that reached their client whole, over the whole file (both outages share one key). */
let answeredWhole = 0;

async function chat(stack: Stack, key: string, stream: boolean): Promise<Outcome> {
  const t0 = performance.now();
  try {
    const res = await fetch(`${stack.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', max_tokens: 20, stream, messages: [{ role: 'user', content: 'count to five' }] }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    const error = res.status === 200 ? undefined : (JSON.parse(text) as { error: { code: number; message: string } }).error;
    // A stream whose answer failed after its headers left says so in-band.
    const inBandError = stream && text.includes('"error"');
    if (res.status === 200 && !inBandError) answeredWhole++;
    return { status: res.status, ms: performance.now() - t0, error, inBandError };
  } catch (err) {
    return { status: -1, ms: performance.now() - t0, error: { code: -1, message: String(err) } };
  }
}

async function storeHealth(stack: Stack): Promise<{ http: number; status: string; store: { status: string; reason?: string } }> {
  const res = await fetch(`${stack.gw.url}/health`);
  const body = (await res.json()) as { status: string; store: { status: string; reason?: string } };
  return { http: res.status, ...body };
}

const pgLines = (lines: CapturedLine[], level: CapturedLine['level'], from: number) =>
  lines.slice(from).filter((l) => l.level === level && /PostgreSQL/.test(l.msg));

describe('PostgreSQL outage mid-traffic', { skip }, () => {
  let proxy: TcpProxy;
  let stack: Stack;
  let schema: string;
  let direct: pg.Client;
  const log = captureLogger();
  let key: string;
  let keyHash: string;

  before(async () => {
    const made = pgSchemaUrl('freeway_outage');
    schema = made.schema;
    const u = new URL(PG_URL);
    proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
    stack = await startStack({
      env: { DATABASE_URL: proxy.via(made.url) },
      yaml: `database: { connectTimeoutMs: ${CONNECT_MS}, queryTimeoutMs: ${QUERY_MS} }\n`,
      log,
    });
    // A key with a limit: every request holds, then settles, so the outage meets money in flight.
    const res = await fetch(`${stack.baseURL}/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'outage', limit: 100 }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const created = (await res.json()) as { key: string; data: { hash: string } };
    key = created.key;
    keyHash = created.data.hash;
    direct = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
    await direct.connect();
  });

  after(async () => {
    await stack?.close();
    await proxy?.close();
    await direct?.end();
    if (schema) await dropPgSchema(schema);
  });

  /** Traffic from 4 clients (half of them streaming) until stopped; every outcome with when it started. */
  function traffic(): { stop: () => Promise<Array<Outcome & { at: number }>> } {
    let running = true;
    const all: Array<Outcome & { at: number }> = [];
    const workers = Array.from({ length: 4 }, async (_, i) => {
      while (running) {
        const at = Date.now();
        all.push({ ...(await chat(stack, key, i % 2 === 1)), at });
      }
    });
    return {
      stop: async () => {
        running = false;
        await Promise.all(workers);
        return all;
      },
    };
  }

  async function until200(): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      const r = await chat(stack, key, false);
      if (r.status === 200) return Date.now() - t0;
      assert.ok(r.status === 503, `while recovering: ${r.status} ${JSON.stringify(r.error)}`);
      assert.ok(Date.now() - t0 < 20_000, 'requests succeed again without a restart');
      await sleep(100);
    }
  }

  const outage = (mode: CutMode) => async () => {
    const from = log.lines.length;
    assert.equal((await chat(stack, key, false)).status, 200);
    const t = traffic();
    await sleep(300);
    const cutAt = Date.now();
    await proxy.cut(mode);
    // Long enough for cached key lookups to lapse (5 s) and every kind of request to meet the outage.
    await sleep(6_000);
    const h = await storeHealth(stack);
    const restoredAt = Date.now();
    await proxy.restore();
    await until200();
    const outcomes = await t.stop();

    assert.equal(h.http, 503, 'health answers 503 while the database is away');
    assert.equal(h.store.status, 'down');
    assert.ok((h.store.reason ?? '').length > 0);
    for (const o of outcomes) {
      assert.ok(o.status === 200 || o.status === 503, `only 200 or 503, got ${o.status}: ${JSON.stringify(o.error)}`);
      if (o.status === 503) {
        assert.equal(o.error?.code, 503);
        assert.match(o.error?.message ?? '', /database is (unavailable|busy)/);
      }
      if (o.at >= cutAt && o.at < restoredAt) assert.ok(o.ms < BOUND_MS, `a request during the outage took ${o.ms.toFixed(0)} ms`);
    }
    const during = outcomes.filter((o) => o.at >= cutAt + 500 && o.at < restoredAt);
    assert.ok(
      during.some((o) => o.status === 503),
      'the outage was met',
    );
    assert.ok(
      outcomes.some((o) => o.at < cutAt && o.status === 200),
      'traffic flowed before',
    );
    assert.equal(pgLines(log.lines, 'error', from).filter((l) => /unreachable/.test(l.msg)).length, 1, 'one ERROR line for the outage');

    const back = await storeHealth(stack);
    assert.equal(back.http, 200);
    assert.equal(back.store.status, 'up');
    assert.equal(pgLines(log.lines, 'info', from).filter((l) => /reachable again/.test(l.msg)).length, 1);
    await checkLedger();
  };

  async function checkLedger(): Promise<void> {
    await stack.gw.app.billing.settled();
    for (let i = 0; i < 50 && stack.gw.app.deferredCharges.size > 0; i++) await stack.gw.app.deferredCharges.retryAll();
    assert.equal(stack.gw.app.deferredCharges.size, 0, 'deferred charges landed');
    await stack.gw.app.generations.flush();
    const one = async (sql: string, params: unknown[] = []) => (await direct.query(sql, params)).rows[0] as Record<string, string | null>;
    const account = await one('SELECT balance_nanos, reserved_nanos FROM accounts WHERE id = $1', [DEFAULT_ACCOUNT]);
    const ledger = await one('SELECT COALESCE(SUM(amount_nanos), 0) AS s FROM ledger WHERE account_id = $1', [DEFAULT_ACCOUNT]);
    const holds = await one('SELECT COALESCE(SUM(amount_nanos), 0) AS s, COUNT(*) AS n FROM reservations WHERE account_id = $1', [
      DEFAULT_ACCOUNT,
    ]);
    const halfWritten = await one('SELECT COUNT(*) AS n FROM reservations r JOIN ledger l ON l.id = r.id');
    const charges = await one(
      `SELECT COALESCE(SUM(-amount_nanos), 0) AS s, COUNT(*) AS n FROM ledger WHERE key_hash = $1 AND kind = 'charge'`,
      [keyHash],
    );
    const usage = await one('SELECT usage_total_nanos FROM api_keys WHERE hash = $1', [keyHash]);
    assert.equal(BigInt(account.balance_nanos!), BigInt(ledger.s!), 'balance = sum of the ledger');
    assert.equal(BigInt(account.reserved_nanos!), BigInt(holds.s!), 'reserved = sum of open holds');
    assert.equal(Number(halfWritten.n), 0, 'no hold whose charge was also written');
    assert.equal(BigInt(usage.usage_total_nanos!), BigInt(charges.s!), "the key's usage = its charges");
    assert.ok(Number(charges.n) > 0, 'requests were charged');
    // Charges and releases the database refused are retried until they land: no hold is left, and
    // every answer that went out is charged.
    assert.equal(Number(holds.n), 0, 'no hold left once the database is back');
    assert.equal(Number(charges.n), answeredWhole, 'every answer that went out is charged, once');
  }

  test('refused: 503s in the envelope within bounds, recovery without restart, ledger consistent', outage('refuse'));
  test('silent (accepts, never answers): the same', outage('blackhole'));
});

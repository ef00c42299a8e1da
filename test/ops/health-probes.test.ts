/**
 * /health/live and /health/ready: ready while the store and Redis answer and an endpoint is live,
 * 503 with the reason when not, and ready again once they are back. Outages are made with TCP
 * proxies of the test's own in front of the shared PostgreSQL and Redis, which are never touched.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MemoryHealth } from '../../src/router/health/memory-health.ts';
import { endpointKey } from '../../src/catalog/endpoint-key.ts';
import { dropPgSchema, needs, PG_URL, pgSchemaUrl, REDIS_URL } from '../helpers/services.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';

interface Ready {
  http: number;
  status: string;
  reasons?: string[];
  checks: { store: { status: string }; redis?: { status: string }; endpoints: { total: number; live: number } };
}

async function ready(stack: Stack): Promise<Ready> {
  const r = await fetch(`${stack.gw.url}/health/ready`);
  return { http: r.status, ...((await r.json()) as Omit<Ready, 'http'>) };
}

/** Asks until `want` holds (the gateway notices a dependency coming back on its own schedule); bounded. */
async function until(stack: Stack, want: (r: Ready) => boolean): Promise<Ready> {
  let last = await ready(stack);
  for (let i = 0; i < 150 && !want(last); i++) {
    await new Promise((r) => setTimeout(r, 100));
    last = await ready(stack);
  }
  return last;
}

describe('probes of a gateway on SQLite', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => stack?.close());

  test('live answers 200; ready answers 200 with what it checked; /health still answers', async () => {
    const live = await fetch(`${stack.gw.url}/health/live`);
    assert.equal(live.status, 200);
    assert.deepEqual(await live.json(), { status: 'live' });
    const r = await ready(stack);
    assert.equal(r.http, 200);
    assert.equal(r.status, 'ready');
    assert.equal(r.checks.store.status, 'up');
    assert.equal(r.checks.redis, undefined);
    assert.ok(r.checks.endpoints.live > 0 && r.checks.endpoints.live === r.checks.endpoints.total);
    assert.equal((await fetch(`${stack.gw.url}/health`)).status, 200);
  });

  test('every circuit open: not ready, and says so; ready again when they close', async () => {
    const health = new MemoryHealth({ failureThreshold: 1, cooldownMs: 3_600_000 });
    const keys = new Set(stack.gw.app.catalog.all().flatMap((m) => m.endpoints.map((e) => endpointKey(e))));
    for (const k of keys) health.record(k, { ok: false, status: 503, at: Date.now() });
    const saved = stack.gw.app.health;
    stack.gw.app.health = health;
    try {
      const r = await ready(stack);
      assert.equal(r.http, 503);
      assert.equal(r.status, 'not_ready');
      assert.equal(r.checks.endpoints.live, 0);
      assert.match(r.reasons!.join(' '), /circuit is open/);
    } finally {
      stack.gw.app.health = saved;
    }
    assert.equal((await ready(stack)).http, 200);
  });
});

describe('probes of a gateway with no provider', () => {
  test('not ready: no model is served, and the reason says what to set', async () => {
    const stack = await startStack({ env: { OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '', GEMINI_API_KEY: '' } });
    try {
      const r = await ready(stack);
      assert.equal(r.http, 503);
      assert.match(r.reasons!.join(' '), /no provider is configured/);
      assert.equal((await fetch(`${stack.gw.url}/health/live`)).status, 200);
    } finally {
      await stack.close();
    }
  });
});

const skip = await needs('postgres', 'redis');

describe('probes of a gateway on PostgreSQL and Redis, through proxies that are cut', { skip }, () => {
  let pgProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let stack: Stack;
  let schema: string;

  before(async () => {
    const made = pgSchemaUrl('freeway_ready');
    schema = made.schema;
    const pgUrl = new URL(PG_URL);
    const redisUrl = new URL(REDIS_URL);
    pgProxy = await startTcpProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    redisProxy = await startTcpProxy({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
    stack = await startStack({
      env: { DATABASE_URL: pgProxy.via(made.url), REDIS_URL: redisProxy.via(REDIS_URL) },
      yaml: 'database: { connectTimeoutMs: 500, queryTimeoutMs: 1000 }\nredis: { commandTimeoutMs: 300, connectTimeoutMs: 500 }\n',
    });
  });
  after(async () => {
    await stack?.close();
    await pgProxy?.close();
    await redisProxy?.close();
    if (schema) await dropPgSchema(schema);
  });

  test('ready with both up', async () => {
    const r = await ready(stack);
    assert.equal(r.http, 200, JSON.stringify(r));
    assert.equal(r.checks.store.status, 'up');
    assert.equal(r.checks.redis?.status, 'up');
  });

  test('the store away: not ready, naming the store; ready again when it is back', async () => {
    await pgProxy.cut('refuse');
    const down = await ready(stack);
    assert.equal(down.http, 503);
    assert.equal(down.checks.store.status, 'down');
    assert.match(down.reasons!.join(' '), /postgres store does not answer/);
    assert.equal((await fetch(`${stack.gw.url}/health/live`)).status, 200, 'still live: restarting would not help');
    await pgProxy.restore();
    const back = await until(stack, (r) => r.http === 200);
    assert.equal(back.http, 200, JSON.stringify(back));
  });

  test('Redis away: not ready, naming Redis; ready again when it is back', async () => {
    await redisProxy.cut('refuse');
    const down = await until(stack, (r) => r.http === 503);
    assert.equal(down.http, 503);
    assert.equal(down.checks.redis?.status, 'down');
    assert.equal(down.checks.store.status, 'up');
    assert.match(down.reasons!.join(' '), /Redis does not answer/);
    await redisProxy.restore();
    const back = await until(stack, (r) => r.http === 200);
    assert.equal(back.http, 200, JSON.stringify(back));
  });
});

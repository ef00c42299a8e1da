/**
 * Fault and abuse: the suite on a machine without PostgreSQL and Redis. A test file that needs them
 * skips at once with one line saying how to run it, keeps no connection alive and prints no client
 * library's error traces — unless FREEWAY_TEST_REQUIRE_SERVICES=1 (as .ci/run sets), when an absent
 * service fails the run instead of skipping silently.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
/** One file per kind of dependent test: Redis through ioredis, PostgreSQL across processes, a whole gateway on Redis. */
const FILES = ['test/limits/redis-limits.test.ts', 'test/store/postgres-multiprocess.test.ts', 'test/router/health-redis.test.ts'];

/** A port that accepts connections and never answers: the slowest way for a service to be absent. */
let silent: Server;
const sockets = new Set<Socket>();
before(async () => {
  silent = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
});
after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent.close(r));
});

function run(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  // A test runner inside this one would report to it (NODE_TEST_CONTEXT) rather than print.
  const { NODE_TEST_CONTEXT: _, ...outer } = process.env;
  const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-timeout=60000', ...FILES], {
    cwd: root,
    env: { ...outer, FREEWAY_TEST_REQUIRE_SERVICES: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, out });
    }),
  );
}

const port = () => (silent.address() as { port: number }).port;

for (const [how, urls] of [
  ['refused', () => ({ FREEWAY_TEST_PG_URL: 'postgres://postgres@127.0.0.1:1/test', FREEWAY_TEST_REDIS_URL: 'redis://127.0.0.1:1' })],
  [
    'silent',
    () => ({ FREEWAY_TEST_PG_URL: `postgres://postgres@127.0.0.1:${port()}/test`, FREEWAY_TEST_REDIS_URL: `redis://127.0.0.1:${port()}` }),
  ],
] as const) {
  test(`services absent (${how}): the tests that need them skip at once, saying how to run them`, async () => {
    const { code, out } = await run(urls());
    assert.equal(code, 0, out);
    assert.match(out, /# skipped: redis not reachable at .* set FREEWAY_TEST_REDIS_URL to run these tests/);
    assert.match(out, /# skipped: postgres not reachable at .* set FREEWAY_TEST_PG_URL to run these tests/);
    assert.match(out, /ℹ fail 0/);
    assert.doesNotMatch(out, /ℹ pass [1-9]/, 'nothing that needs a service ran');
    assert.doesNotMatch(out, /Unhandled error event|ECONNREFUSED.*\n\s+at /, 'no client library traces');
  });
}

test('services absent with FREEWAY_TEST_REQUIRE_SERVICES=1 (CI): the run fails, naming what is missing', async () => {
  const { code, out } = await run({
    FREEWAY_TEST_PG_URL: 'postgres://postgres@127.0.0.1:1/test',
    FREEWAY_TEST_REDIS_URL: 'redis://127.0.0.1:1',
    FREEWAY_TEST_REQUIRE_SERVICES: '1',
  });
  assert.notEqual(code, 0);
  assert.match(out, /redis is required \(FREEWAY_TEST_REQUIRE_SERVICES=1\)/);
  assert.match(out, /postgres is required \(FREEWAY_TEST_REQUIRE_SERVICES=1\)/);
});

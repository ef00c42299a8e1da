/**
 * Rate limits through the gateway: per-key requests per minute, per-endpoint concurrency with a
 * fair queue (keep-alives while waiting, 429 with the queue position past the deadline), and two
 * Freeway processes sharing Redis holding a per-key limit exactly.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createKey } from '../../src/accounting/keys.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Emulator } from '../emulators/common.ts';
import { startOpenAIEmulator } from '../emulators/openai.ts';
import { startFreewayProcesses } from '../helpers/freeway-process.ts';
import { needs, REDIS_URL } from '../helpers/services.ts';
import { startStack } from '../helpers/stack.ts';
import type { Stack } from '../helpers/stack.ts';
import { tempDir } from '../helpers/temp-dir.ts';

async function chat(base: string, key: string, content: string, stream = false) {
  const res = await fetch(`${base}/api/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', max_tokens: 50, stream, messages: [{ role: 'user', content }] }),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('one process', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      keepAliveMs: 50,
      yaml: `limits:
  perKey: { requestsPerMinute: 3 }
  queue: { maxWaitMs: 1200 }
providers:
  openai:
    maxConcurrency: 1
`,
    });
  });
  after(() => stack.close());

  test('a key past its requests per minute gets a 429 that says which limit and when', async () => {
    const key = await stack.newKey('rpm');
    for (let i = 0; i < 3; i++) assert.equal((await chat(stack.gw.url, key, `n${i}`)).status, 200);
    const r = await chat(stack.gw.url, key, 'one too many');
    assert.equal(r.status, 429);
    assert.match(JSON.parse(r.text).error.message, /requests per minute for this key \(3\)/);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    assert.equal(r.headers.get('x-ratelimit-limit'), '3');
    assert.equal(r.headers.get('x-ratelimit-remaining'), '0');
    // Another key is not affected.
    assert.equal((await chat(stack.gw.url, await stack.newKey('other'), 'fine')).status, 200);
  });

  test("a key's own requests_per_minute (set through the management API) overrides the default", async () => {
    const admin = { authorization: 'Bearer freeway-admin-test-key', 'content-type': 'application/json' };
    const created = (await (
      await fetch(`${stack.baseURL}/keys`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ name: 'tight', requests_per_minute: 1 }),
      })
    ).json()) as {
      key: string;
      data: { hash: string; rate_limit: { requests_per_minute: number } };
    };
    assert.equal(created.data.rate_limit.requests_per_minute, 1);
    assert.equal((await chat(stack.gw.url, created.key, 'first')).status, 200);
    const second = await chat(stack.gw.url, created.key, 'second');
    assert.equal(second.status, 429);
    assert.match(JSON.parse(second.text).error.message, /requests per minute for this key \(1\)/);
    // Raising it through PATCH lets the key through again.
    await fetch(`${stack.baseURL}/keys/${created.data.hash}`, {
      method: 'PATCH',
      headers: admin,
      body: JSON.stringify({ requests_per_minute: 100 }),
    });
    stack.gw.app.keys.forget(created.data.hash);
    assert.equal((await chat(stack.gw.url, created.key, 'third')).status, 200);
  });

  test('a full endpoint queues the next request (keep-alives while it waits) and serves it when a slot frees', async () => {
    const a = await stack.newKey('a');
    const b = await stack.newKey('b');
    // The slot is held 250 ms; the queue waits up to 1.2 s, so a loaded machine still serves it.
    const slow = chat(stack.gw.url, a, 'hold the slot [[slow:250]]');
    await new Promise((r) => setTimeout(r, 60));
    const queued = await chat(stack.gw.url, b, 'wait for it', true);
    assert.equal((await slow).status, 200);
    assert.match(queued.text, /: FREEWAY QUEUED \(position 1\)/);
    const said = queued.text
      .split('\n\n')
      .filter((f) => f.startsWith('data: {'))
      .map((f) => JSON.parse(f.slice(6)).choices[0]?.delta?.content ?? '')
      .join('');
    assert.match(said, /You said: wait for it/);
    assert.match(queued.text, /data: \[DONE\]/);
  });

  test('past the queue deadline: 429 with Retry-After and the position it had', async () => {
    const a = await stack.newKey('c');
    const b = await stack.newKey('d');
    const slow = chat(stack.gw.url, a, 'hog [[slow:2000]]');
    await new Promise((r) => setTimeout(r, 60));
    const r = await chat(stack.gw.url, b, 'too late');
    assert.equal(r.status, 429);
    const body = JSON.parse(r.text);
    assert.match(body.error.message, /at capacity; waited \d+ ms at queue position 1/);
    assert.equal(body.error.metadata.queue_position, 1);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    assert.equal((await slow).status, 200);
  });
});

describe('two processes sharing Redis', { skip: await needs('redis') }, () => {
  let emu: Emulator;
  before(async () => {
    emu = await startOpenAIEmulator();
  });
  after(() => emu.close());

  test('hold a per-key limit of N requests per minute exactly', async () => {
    const dir = tempDir('freeway-redis-');
    const db = join(dir, 'freeway.db');
    writeFileSync(join(dir, 'freeway.yaml'), 'limits:\n  perKey: { requestsPerMinute: 10 }\n');
    const env = { OPENAI_API_KEY: emu.apiKey, OPENAI_BASE_URL: `${emu.url}/v1`, DATABASE_URL: db, FREEWAY_ADMIN_KEY: 'admin', REDIS_URL };
    const gateways = await startFreewayProcesses([
      { cwd: dir, env },
      { cwd: dir, env },
    ]);
    const store = new SqliteStore(db);
    await store.migrate();
    try {
      const { key } = await createKey(store, { name: 'shared', kind: 'inference' });
      const statuses = await Promise.all(
        Array.from({ length: 40 }, (_, i) => chat(gateways[i % 2].url, key, `r${i}`).then((r) => r.status)),
      );
      assert.equal(statuses.filter((s) => s === 200).length, 10);
      assert.equal(statuses.filter((s) => s === 429).length, 30);
    } finally {
      await Promise.all(gateways.map((g) => g.stop()));
      await store.close();
    }
  });
});

/**
 * Operator commands against the same database the gateway uses: keys, accounts, credits, usage.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { cleanEnv } from '../helpers/freeway-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

test('keys, accounts, credits and usage from the command line', async () => {
  const dir = tempDir('freeway-ops-');
  const db = join(dir, 'freeway.db');
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args], {
      cwd: dir,
      env: cleanEnv({ DATABASE_URL: db }),
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  let r = run('accounts', 'create', 'acme', '--name', 'Acme Inc');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Created prepaid account acme/);
  r = run('keys', 'create', 'ci-bot', '--account', 'acme', '--limit', '2.50', '--reset', 'daily');
  assert.equal(r.code, 0, r.err);
  const key = /(sk-fw-v1-[0-9a-f]{64})/.exec(r.out)?.[1];
  const hash = /hash ([0-9a-f]{64})/.exec(r.out)?.[1];
  assert.ok(key && hash);
  r = run('keys', 'list', '--account', 'acme');
  assert.match(r.out, /ci-bot .* \$2\.5\/daily .* active/);
  r = run('credits', 'add', '10', '--account', 'acme');
  assert.match(r.out, /balance \$10,? held \$0, available \$10; credits \$10, usage \$0\./);
  r = run('keys', 'disable', hash.slice(0, 12));
  assert.match(r.out, /Disabled key "ci-bot"/);
  r = run('keys', 'list', '--account', 'acme', '--all');
  assert.match(r.out, /disabled/);
  r = run('usage', '--account', 'acme', '--by', 'day,model');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /\(none\)/);
  r = run('credits', 'add', 'lots');
  assert.equal(r.code, 1);
  assert.match(r.err, /amount must be an amount in USD/);
  r = run('keys', 'delete', 'ffff');
  assert.equal(r.code, 1);
  assert.match(r.err, /no key whose hash starts with ffff/);

  const store = new SqliteStore(db);
  await store.migrate();
  try {
    const k = (await store.findKey(hash))!;
    assert.equal(k.accountId, 'acme');
    assert.equal(k.limitNanos, 2_500_000_000);
    assert.equal(k.disabled, true);
    assert.equal((await store.getAccount('acme'))!.balanceNanos, 10_000_000_000);
    assert.equal(await store.ledgerSum('acme'), 10_000_000_000);
    const g = { id: 'gen-cli', keyHash: hash, accountId: 'acme', model: 'm', providerId: 'p', providerName: 'P', upstreamModel: 'u' };
    await store.insertGenerations([
      {
        ...g,
        upstreamId: null,
        apiType: 'completions',
        streamed: false,
        cancelled: false,
        finishReason: 'stop',
        nativeFinishReason: null,
        tokensPrompt: 3,
        tokensCompletion: 4,
        tokensCached: 0,
        tokensCacheWrite: 0,
        tokensReasoning: 0,
        usageEstimated: false,
        costNanos: 0,
        promptCostNanos: 0,
        completionCostNanos: 0,
        upstreamCostNanos: 0,
        feeNanos: 0,
        latencyMs: 1,
        ttftMs: null,
        generationMs: null,
        error: null,
        createdAt: new Date().toISOString(),
        legs: [],
        appTitle: 'Writer',
        user: 'alice',
      },
    ]);
  } finally {
    await store.close();
  }
  r = run('usage', '--account', 'acme', '--by', 'app,user');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Writer\s+alice\s+1\s+3\s+4/);
  r = run('usage', '--by', 'colour');
  assert.equal(r.code, 1);
  assert.match(r.err, /--by takes day, model, provider, key, app or user/);
});

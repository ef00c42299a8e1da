/**
 * Upgrading a database made by an earlier version keeps every row: keys and generations written
 * under schema version 1 survive the migrations that came after.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { tempDir } from '../helpers/temp-dir.ts';

test('a version-1 SQLite database upgrades without losing data', async () => {
  const path = join(tempDir('freeway-upgrade-'), 'old.db');
  const old = new DatabaseSync(path);
  old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  for (const sql of MIGRATIONS[0].sql) old.exec(sql);
  old.prepare('INSERT INTO schema_migrations VALUES (1, ?, ?)').run(MIGRATIONS[0].name, '2026-01-01T00:00:00.000Z');
  old
    .prepare('INSERT INTO api_keys (hash, name, label, kind, limit_nanos, disabled, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)')
    .run('a'.repeat(64), 'legacy', 'sk-fw-v1-abc...xyz', 'inference', 5_000_000_000, '2026-01-01T00:00:00.000Z');
  old
    .prepare(
      `INSERT INTO generations (id, key_hash, model, provider_id, provider_name, upstream_model, upstream_id, api_type, streamed, cancelled,
      finish_reason, native_finish_reason, tokens_prompt, tokens_completion, tokens_cached, tokens_cache_write, tokens_reasoning,
      usage_estimated, cost_nanos, prompt_cost_nanos, completion_cost_nanos, latency_ms, ttft_ms, generation_ms, error, created_at)
     VALUES ('gen-1', ?, 'openai/gpt-4o-mini', 'openai', 'OpenAI', 'gpt-4o-mini', NULL, 'completions', 0, 0, 'stop', 'stop', 10, 5, 0, 0, 0, 0,
      4500, 1500, 3000, 12, NULL, NULL, NULL, '2026-01-01T00:00:01.000Z')`,
    )
    .run('a'.repeat(64));
  old.close();

  const store = new SqliteStore(path);
  await store.migrate();
  await store.migrate(); // idempotent
  try {
    const k = (await store.findKey('a'.repeat(64)))!;
    assert.equal(k.name, 'legacy');
    assert.equal(k.limitNanos, 5_000_000_000);
    assert.equal(k.accountId, 'default');
    assert.equal(k.usageNanos, 0);
    assert.equal(k.updatedAt, '2026-01-01T00:00:00.000Z');
    const g = (await store.getGeneration('gen-1'))!;
    assert.equal(g.costNanos, 4500);
    assert.equal(g.upstreamCostNanos, 4500, 'old costs become the upstream cost');
    assert.equal(g.feeNanos, 0);
    assert.equal(g.accountId, 'default');
  } finally {
    await store.close();
  }
});

test('upgrading a SQLite database with amounts that broke the ledger: brought to the bound, then bounded by the schema, every row and index kept', async () => {
  const path = join(tempDir('freeway-upgrade-'), 'bad.db');
  const old = new DatabaseSync(path);
  old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const before = MIGRATIONS.filter((m) => m.bounded === undefined && m.version < 7);
  for (const m of before) {
    for (const sql of m.sql) old.exec(sql);
    old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, '2026-01-01T00:00:00.000Z');
  }
  // What a $1e9 top-up and a limit of 1e300 left behind before the bounds.
  old.exec(
    `INSERT INTO accounts (id, name, prepaid, balance_nanos, purchased_nanos, created_at) VALUES ('rich', 'Rich', 1, 1000000000000000000, 1000000000000000000, 'x')`,
  );
  old.exec(`INSERT INTO accounts (id, name, prepaid, balance_nanos, created_at) VALUES ('plain', 'Plain', 1, 42, 'y')`);
  old.exec(
    `INSERT INTO ledger (id, account_id, key_hash, kind, amount_nanos, created_at) VALUES ('big', 'rich', NULL, 'topup', 1000000000000000000, 'x')`,
  );
  old
    .prepare(
      `INSERT INTO api_keys (hash, name, label, kind, limit_nanos, disabled, created_at, account_id, tokens_per_minute) VALUES (?, 'k', 'l', 'inference', 1e300, 0, 'x', 'rich', 1e19)`,
    )
    .run('b'.repeat(64));
  old.close();

  const store = new SqliteStore(path);
  await store.migrate();
  try {
    const rich = (await store.getAccount('rich'))!;
    assert.equal(rich.balanceNanos, Number.MAX_SAFE_INTEGER);
    assert.equal(rich.purchasedNanos, Number.MAX_SAFE_INTEGER);
    assert.equal((await store.getAccount('plain'))!.balanceNanos, 42);
    assert.equal((await store.listAccounts()).length, 2);
    const k = (await store.findKey('b'.repeat(64)))!;
    assert.equal(k.limitNanos, Number.MAX_SAFE_INTEGER);
    assert.equal(k.tokensPerMinute, 2_147_483_647);
    assert.equal((await store.ledger('rich'))[0].amountNanos, Number.MAX_SAFE_INTEGER);
  } finally {
    await store.close();
  }
  const db = new DatabaseSync(path);
  try {
    const indexes = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").all() as Array<{ name: string }>
    ).map((r) => r.name);
    assert.ok(
      [
        'api_keys_account',
        'generations_key_created',
        'generations_account_created',
        'ledger_account_created',
        'generations_account_user_created',
        'alerts_account',
      ].every((i) => indexes.includes(i)),
      indexes.join(),
    );
    assert.throws(
      () => db.exec(`UPDATE accounts SET balance_nanos = 1e19 WHERE id = 'plain'`),
      /CHECK constraint failed: accounts_balance_nanos_bounds/,
    );
    assert.throws(() => db.exec(`UPDATE api_keys SET limit_nanos = 0.5`), /CHECK constraint failed: api_keys_limit_nanos_bounds/);
  } finally {
    db.close();
  }
});

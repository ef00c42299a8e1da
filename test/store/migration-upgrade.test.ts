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
  old.prepare('INSERT INTO api_keys (hash, name, label, kind, limit_nanos, disabled, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)').run(
    'a'.repeat(64), 'legacy', 'sk-fw-v1-abc...xyz', 'inference', 5_000_000_000, '2026-01-01T00:00:00.000Z',
  );
  old.prepare(
    `INSERT INTO generations (id, key_hash, model, provider_id, provider_name, upstream_model, upstream_id, api_type, streamed, cancelled,
      finish_reason, native_finish_reason, tokens_prompt, tokens_completion, tokens_cached, tokens_cache_write, tokens_reasoning,
      usage_estimated, cost_nanos, prompt_cost_nanos, completion_cost_nanos, latency_ms, ttft_ms, generation_ms, error, created_at)
     VALUES ('gen-1', ?, 'openai/gpt-4o-mini', 'openai', 'OpenAI', 'gpt-4o-mini', NULL, 'completions', 0, 0, 'stop', 'stop', 10, 5, 0, 0, 0, 0,
      4500, 1500, 3000, 12, NULL, NULL, NULL, '2026-01-01T00:00:01.000Z')`,
  ).run('a'.repeat(64));
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

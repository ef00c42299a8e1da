/**
 * Versioned schema migrations, applied in order on start. Never edit a shipped migration: add one.
 * SQL here is the common subset of SQLite and PostgreSQL.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'keys and generations',
    sql: [
      `CREATE TABLE api_keys (
        hash TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        label TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('inference', 'management')),
        limit_nanos BIGINT,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
      )`,
      `CREATE TABLE generations (
        id TEXT PRIMARY KEY,
        key_hash TEXT NOT NULL,
        model TEXT NOT NULL,
        provider_id TEXT NOT NULL,
        provider_name TEXT NOT NULL,
        upstream_model TEXT NOT NULL,
        upstream_id TEXT,
        api_type TEXT NOT NULL,
        streamed INTEGER NOT NULL,
        cancelled INTEGER NOT NULL,
        finish_reason TEXT,
        native_finish_reason TEXT,
        tokens_prompt INTEGER NOT NULL,
        tokens_completion INTEGER NOT NULL,
        tokens_cached INTEGER NOT NULL,
        tokens_cache_write INTEGER NOT NULL,
        tokens_reasoning INTEGER NOT NULL,
        usage_estimated INTEGER NOT NULL,
        cost_nanos BIGINT NOT NULL,
        prompt_cost_nanos BIGINT NOT NULL,
        completion_cost_nanos BIGINT NOT NULL,
        latency_ms INTEGER NOT NULL,
        ttft_ms INTEGER,
        generation_ms INTEGER,
        error TEXT,
        created_at TEXT NOT NULL
      )`,
      `CREATE INDEX generations_key_created ON generations (key_hash, created_at)`,
    ],
  },
];

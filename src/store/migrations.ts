/**
 * Versioned schema migrations, applied in order on start. Never edit a shipped migration: add one.
 * SQL here is the common subset of SQLite and PostgreSQL; what the two engines must do differently
 * is said as data (`bounded`) that each store turns into its own statements.
 */
import { BOUNDED_COLUMNS } from './bounded-columns.ts';
import type { BoundedColumn } from './bounded-columns.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string[];
  /**
   * Columns to constrain to whole numbers within bounds, after `sql` (see bounded-columns.ts):
   * CHECKs by a table rebuild on SQLite, `ADD CONSTRAINT ... CHECK` on PostgreSQL.
   */
  bounded?: readonly BoundedColumn[];
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
  {
    version: 2,
    name: 'accounts, ledger, reservations, key limits, counters',
    sql: [
      `CREATE TABLE accounts (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        prepaid INTEGER NOT NULL DEFAULT 0,
        balance_nanos BIGINT NOT NULL DEFAULT 0,
        reserved_nanos BIGINT NOT NULL DEFAULT 0,
        purchased_nanos BIGINT NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
      )`,
      `ALTER TABLE api_keys ADD COLUMN account_id TEXT NOT NULL DEFAULT 'default'`,
      `ALTER TABLE api_keys ADD COLUMN limit_reset TEXT`,
      `ALTER TABLE api_keys ADD COLUMN usage_nanos BIGINT NOT NULL DEFAULT 0`,
      `ALTER TABLE api_keys ADD COLUMN usage_total_nanos BIGINT NOT NULL DEFAULT 0`,
      `ALTER TABLE api_keys ADD COLUMN period_start TEXT`,
      `ALTER TABLE api_keys ADD COLUMN reserved_nanos BIGINT NOT NULL DEFAULT 0`,
      `ALTER TABLE api_keys ADD COLUMN expires_at TEXT`,
      `ALTER TABLE api_keys ADD COLUMN updated_at TEXT`,
      `UPDATE api_keys SET updated_at = created_at`,
      `CREATE INDEX api_keys_account ON api_keys (account_id)`,
      `CREATE TABLE ledger (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        key_hash TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('topup', 'charge', 'refund', 'adjustment')),
        amount_nanos BIGINT NOT NULL,
        upstream_nanos BIGINT,
        fee_nanos BIGINT,
        note TEXT,
        created_at TEXT NOT NULL
      )`,
      `CREATE INDEX ledger_account_created ON ledger (account_id, created_at)`,
      `CREATE TABLE reservations (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        key_hash TEXT NOT NULL,
        amount_nanos BIGINT NOT NULL,
        expires_at TEXT NOT NULL,
        created_at TEXT NOT NULL
      )`,
      `CREATE INDEX reservations_expires ON reservations (expires_at)`,
      `ALTER TABLE generations ADD COLUMN account_id TEXT NOT NULL DEFAULT 'default'`,
      `ALTER TABLE generations ADD COLUMN upstream_cost_nanos BIGINT NOT NULL DEFAULT 0`,
      `ALTER TABLE generations ADD COLUMN fee_nanos BIGINT NOT NULL DEFAULT 0`,
      `UPDATE generations SET upstream_cost_nanos = cost_nanos`,
      `CREATE INDEX generations_account_created ON generations (account_id, created_at)`,
      `CREATE TABLE counters (
        counter_key TEXT NOT NULL,
        name TEXT NOT NULL,
        window_start BIGINT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (counter_key, name)
      )`,
    ],
  },
  {
    version: 3,
    name: 'credit alerts',
    sql: [
      `CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        key_hash TEXT,
        threshold_kind TEXT NOT NULL CHECK (threshold_kind IN ('usd', 'percent')),
        threshold_value BIGINT NOT NULL,
        webhook_url TEXT,
        fired_at TEXT,
        created_at TEXT NOT NULL
      )`,
      `CREATE INDEX alerts_account ON alerts (account_id)`,
    ],
  },
  {
    version: 4,
    name: 'generation legs (mid-stream failover)',
    sql: [`ALTER TABLE generations ADD COLUMN legs TEXT`],
  },
  {
    version: 5,
    name: 'stored responses (Responses API, store: true)',
    sql: [
      `CREATE TABLE responses (
        id TEXT PRIMARY KEY,
        key_hash TEXT NOT NULL,
        model TEXT NOT NULL,
        input TEXT NOT NULL,
        output TEXT NOT NULL,
        response TEXT NOT NULL,
        created_at TEXT NOT NULL
      )`,
      `CREATE INDEX responses_key_created ON responses (key_hash, created_at)`,
    ],
  },
  {
    version: 6,
    name: 'per-key rate limits',
    sql: [`ALTER TABLE api_keys ADD COLUMN requests_per_minute INTEGER`, `ALTER TABLE api_keys ADD COLUMN tokens_per_minute INTEGER`],
  },
  {
    version: 7,
    name: 'process leases, hold owners and delivery checkpoints',
    sql: [
      // One row per running gateway process, renewed every few seconds; a lapsed lease means its holds are orphans.
      `CREATE TABLE process_leases (
        owner TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        expires_at TEXT NOT NULL,
        started_at TEXT NOT NULL
      )`,
      // The process that placed a hold (null: placed before leases existed, released by its TTL).
      `ALTER TABLE reservations ADD COLUMN owner TEXT`,
      // What a stream had delivered at its last checkpoint: charged if its process dies.
      `ALTER TABLE reservations ADD COLUMN delivered_upstream_nanos BIGINT NOT NULL DEFAULT 0`,
      `ALTER TABLE reservations ADD COLUMN delivered_fee_nanos BIGINT NOT NULL DEFAULT 0`,
      `ALTER TABLE reservations ADD COLUMN delivered_record TEXT`,
      `CREATE INDEX reservations_owner ON reservations (owner)`,
    ],
  },
  {
    version: 8,
    name: 'money columns hold whole nano-dollars within exact bounds',
    sql: [],
    bounded: BOUNDED_COLUMNS,
  },
  {
    version: 9,
    name: 'stored responses expire: an index for the purge by age',
    sql: [`CREATE INDEX responses_created ON responses (created_at)`],
  },
  {
    version: 10,
    name: 'the processing tier a generation was served and charged at',
    sql: [`ALTER TABLE generations ADD COLUMN service_tier TEXT`],
  },
  {
    version: 11,
    name: 'the generation log: who a request was for (user, session, app, origin), indexes for listing it, opt-in content',
    sql: [
      // `user` is a reserved word in PostgreSQL: the column is user_id.
      `ALTER TABLE generations ADD COLUMN user_id TEXT`,
      `ALTER TABLE generations ADD COLUMN session_id TEXT`,
      `ALTER TABLE generations ADD COLUMN app_title TEXT`,
      `ALTER TABLE generations ADD COLUMN app_referer TEXT`,
      // A page of the log is one index range in (created_at, id) order: across every account (the
      // admin's view), within an account, and within an account by the filters a year of rows
      // makes too slow to scan for (key, model, app, user). These replace (key_hash, created_at)
      // and (account_id, created_at), which lacked the id that orders rows of the same instant.
      `DROP INDEX generations_key_created`,
      `DROP INDEX generations_account_created`,
      `CREATE INDEX generations_created ON generations (created_at, id)`,
      `CREATE INDEX generations_account_created ON generations (account_id, created_at, id)`,
      `CREATE INDEX generations_key_created ON generations (account_id, key_hash, created_at, id)`,
      `CREATE INDEX generations_account_model_created ON generations (account_id, model, created_at, id)`,
      `CREATE INDEX generations_account_app_created ON generations (account_id, app_title, created_at, id)`,
      `CREATE INDEX generations_account_user_created ON generations (account_id, user_id, created_at, id)`,
      // Opt-in content logging: an account's setting, and a key's own (null: its account's).
      `ALTER TABLE accounts ADD COLUMN log_content INTEGER NOT NULL DEFAULT 0`,
      `ALTER TABLE api_keys ADD COLUMN log_content INTEGER`,
      `CREATE TABLE generation_content (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        key_hash TEXT NOT NULL,
        input TEXT NOT NULL,
        output TEXT NOT NULL,
        created_at TEXT NOT NULL
      )`,
      `CREATE INDEX generation_content_created ON generation_content (created_at)`,
    ],
  },
  {
    version: 12,
    name: 'the model router a generation was asked for (openrouter/auto, openrouter/free)',
    sql: [`ALTER TABLE generations ADD COLUMN router TEXT`],
  },
  {
    version: 13,
    name: 'fewer index pages written per request: app and user indexes hold only rows that name one, holds unindexed',
    sql: [
      // Every index a row enters is one more page written per commit. A row without an app or a
      // user can never match a filter on one (`app_title = ?` implies NOT NULL, which both planners
      // prove), so those two indexes keep only the rows that name one.
      `DROP INDEX generations_account_app_created`,
      `DROP INDEX generations_account_user_created`,
      `CREATE INDEX generations_account_app_created ON generations (account_id, app_title, created_at, id) WHERE app_title IS NOT NULL`,
      `CREATE INDEX generations_account_user_created ON generations (account_id, user_id, created_at, id) WHERE user_id IS NOT NULL`,
      // Open holds are a few rows per request in flight, swept every few seconds: scanning them
      // costs less than keeping two indexes that every hold and every settlement rewrite.
      `DROP INDEX reservations_expires`,
      `DROP INDEX reservations_owner`,
    ],
  },
];

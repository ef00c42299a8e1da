/**
 * The embedded store: one SQLite file through node:sqlite (no native addon), WAL journal.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import { MIGRATIONS } from '../migrations.ts';
import type { ApiKeyRecord, GenerationRecord, KeyKind, Store } from '../types.ts';

type Row = Record<string, unknown>;

const GENERATION_COLUMNS = [
  'id', 'key_hash', 'model', 'provider_id', 'provider_name', 'upstream_model', 'upstream_id', 'api_type',
  'streamed', 'cancelled', 'finish_reason', 'native_finish_reason', 'tokens_prompt', 'tokens_completion',
  'tokens_cached', 'tokens_cache_write', 'tokens_reasoning', 'usage_estimated', 'cost_nanos',
  'prompt_cost_nanos', 'completion_cost_nanos', 'latency_ms', 'ttft_ms', 'generation_ms', 'error', 'created_at',
] as const;

function generationParams(g: GenerationRecord): Array<string | number | null> {
  return [
    g.id, g.keyHash, g.model, g.providerId, g.providerName, g.upstreamModel, g.upstreamId, g.apiType,
    g.streamed ? 1 : 0, g.cancelled ? 1 : 0, g.finishReason, g.nativeFinishReason, g.tokensPrompt,
    g.tokensCompletion, g.tokensCached, g.tokensCacheWrite, g.tokensReasoning, g.usageEstimated ? 1 : 0,
    g.costNanos, g.promptCostNanos, g.completionCostNanos, g.latencyMs, g.ttftMs, g.generationMs, g.error, g.createdAt,
  ];
}

function generationFromRow(r: Row): GenerationRecord {
  const n = (v: unknown): number => Number(v ?? 0);
  const nn = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  const s = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  return {
    id: String(r.id),
    keyHash: String(r.key_hash),
    model: String(r.model),
    providerId: String(r.provider_id),
    providerName: String(r.provider_name),
    upstreamModel: String(r.upstream_model),
    upstreamId: s(r.upstream_id),
    apiType: r.api_type === 'embeddings' ? 'embeddings' : 'completions',
    streamed: n(r.streamed) === 1,
    cancelled: n(r.cancelled) === 1,
    finishReason: s(r.finish_reason),
    nativeFinishReason: s(r.native_finish_reason),
    tokensPrompt: n(r.tokens_prompt),
    tokensCompletion: n(r.tokens_completion),
    tokensCached: n(r.tokens_cached),
    tokensCacheWrite: n(r.tokens_cache_write),
    tokensReasoning: n(r.tokens_reasoning),
    usageEstimated: n(r.usage_estimated) === 1,
    costNanos: n(r.cost_nanos),
    promptCostNanos: n(r.prompt_cost_nanos),
    completionCostNanos: n(r.completion_cost_nanos),
    latencyMs: n(r.latency_ms),
    ttftMs: nn(r.ttft_ms),
    generationMs: nn(r.generation_ms),
    error: s(r.error),
    createdAt: String(r.created_at),
  };
}

function keyFromRow(r: Row): ApiKeyRecord {
  return {
    hash: String(r.hash),
    name: String(r.name),
    label: String(r.label),
    kind: r.kind === 'management' ? 'management' : 'inference',
    limitNanos: r.limit_nanos === null || r.limit_nanos === undefined ? null : Number(r.limit_nanos),
    disabled: Number(r.disabled) === 1,
    createdAt: String(r.created_at),
  };
}

/** `./data/freeway.db`, `/abs/path.db` or `file:relative/or/absolute.db`. */
export function sqlitePathFromUrl(url: string): string {
  if (url.startsWith('file://')) return new URL(url).pathname;
  if (url.startsWith('file:')) return url.slice('file:'.length);
  return url;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: DatabaseSync;
  private stmts: {
    insertKey: StatementSync;
    findKey: StatementSync;
    insertGeneration: StatementSync;
    getGeneration: StatementSync;
  } | undefined;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;');
  }

  async migrate(): Promise<void> {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const applied = new Set(
      (this.db.prepare('SELECT version FROM schema_migrations').all() as Row[]).map((r) => Number(r.version)),
    );
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      this.db.exec('BEGIN IMMEDIATE');
      try {
        for (const sql of m.sql) this.db.exec(sql);
        this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
        this.db.exec('COMMIT');
      } catch (err) {
        this.db.exec('ROLLBACK');
        throw err;
      }
    }
    this.stmts = {
      insertKey: this.db.prepare(
        'INSERT INTO api_keys (hash, name, label, kind, limit_nanos, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      findKey: this.db.prepare('SELECT * FROM api_keys WHERE hash = ?'),
      insertGeneration: this.db.prepare(
        `INSERT OR IGNORE INTO generations (${GENERATION_COLUMNS.join(', ')}) VALUES (${GENERATION_COLUMNS.map(() => '?').join(', ')})`,
      ),
      getGeneration: this.db.prepare('SELECT * FROM generations WHERE id = ?'),
    };
  }

  private get s() {
    if (!this.stmts) throw new Error('store used before migrate()');
    return this.stmts;
  }

  async createKey(rec: ApiKeyRecord): Promise<void> {
    this.s.insertKey.run(rec.hash, rec.name, rec.label, rec.kind, rec.limitNanos, rec.disabled ? 1 : 0, rec.createdAt);
  }

  async findKey(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.s.findKey.get(hash) as Row | undefined;
    return row ? keyFromRow(row) : undefined;
  }

  async countKeys(kind?: KeyKind): Promise<number> {
    const row = (kind
      ? this.db.prepare('SELECT COUNT(*) AS n FROM api_keys WHERE kind = ?').get(kind)
      : this.db.prepare('SELECT COUNT(*) AS n FROM api_keys').get()) as Row;
    return Number(row.n);
  }

  async insertGenerations(recs: readonly GenerationRecord[]): Promise<void> {
    if (recs.length === 0) return;
    this.db.exec('BEGIN');
    try {
      for (const g of recs) this.s.insertGeneration.run(...generationParams(g));
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  async getGeneration(id: string): Promise<GenerationRecord | undefined> {
    const row = this.s.getGeneration.get(id) as Row | undefined;
    return row ? generationFromRow(row) : undefined;
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }
}

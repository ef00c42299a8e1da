/**
 * What both stores write for a request's money and record, as SQL and parameters in one order:
 * generation records, charge rows in the ledger, and stream checkpoints on holds. The engines differ
 * only in placeholders (or literals, in PostgreSQL's batches), which each caller passes in.
 */
import { isoTime } from '../spec/iso-time.ts';
import type { ApiKeyRecord, GenerationRecord, HoldCheckpoint, SettleRequest } from './types.ts';

export const GENERATION_COLUMNS = [
  'id',
  'key_hash',
  'account_id',
  'model',
  'provider_id',
  'provider_name',
  'upstream_model',
  'upstream_id',
  'api_type',
  'streamed',
  'cancelled',
  'finish_reason',
  'native_finish_reason',
  'tokens_prompt',
  'tokens_completion',
  'tokens_cached',
  'tokens_cache_write',
  'tokens_reasoning',
  'usage_estimated',
  'cost_nanos',
  'prompt_cost_nanos',
  'completion_cost_nanos',
  'upstream_cost_nanos',
  'fee_nanos',
  'latency_ms',
  'ttft_ms',
  'generation_ms',
  'error',
  'created_at',
  'legs',
  'service_tier',
  'router',
  'user_id',
  'session_id',
  'app_title',
  'app_referer',
] as const;

/**
 * The statement that writes generation records, one `(…)` per row in `values` (placeholders or
 * literals, as the engine takes them); a record whose id is there already is skipped (the first
 * write wins).
 */
export function insertGenerationsSql(values: readonly string[]): string {
  return `INSERT INTO generations (${GENERATION_COLUMNS.join(', ')}) VALUES ${values.join(', ')} ON CONFLICT (id) DO NOTHING`;
}

/** A charge's ledger row: a settlement's, or what a dead process's stream had delivered. */
export interface ChargeRow {
  id: string;
  accountId: string;
  keyHash: string;
  upstreamNanos: number;
  feeNanos: number;
  note: string | null;
  now: Date;
}

/**
 * The INSERT of charge rows, `values` each one row's parenthesised placeholders or literals for
 * chargeParams; a charge whose id is there already is skipped (a settlement retried charges once).
 */
export function insertChargesSql(values: readonly string[]): string {
  return `INSERT INTO ledger (id, account_id, key_hash, kind, amount_nanos, upstream_nanos, fee_nanos, note, created_at)
         VALUES ${values.join(', ')} ON CONFLICT (id) DO NOTHING`;
}

/** A settlement's charge row. */
export function settlementCharge(s: SettleRequest): ChargeRow {
  const { accountId, keyHash, upstreamNanos, feeNanos, now } = s;
  return { id: s.reservationId, accountId, keyHash, upstreamNanos, feeNanos, note: s.note ?? null, now };
}

/** One charge row's INSERT, `ph(i)` the engine's placeholder for the i-th of chargeParams (1-based). */
export function chargeSql(ph: (i: number) => string): string {
  return insertChargesSql([`(${Array.from({ length: 9 }, (_, i) => ph(i + 1)).join(', ')})`]);
}

export function chargeParams(c: ChargeRow): Array<string | number | null> {
  return [c.id, c.accountId, c.keyHash, 'charge', -(c.upstreamNanos + c.feeNanos), c.upstreamNanos, c.feeNanos, c.note, isoTime(c.now)];
}

/** A new key's row (usage and holds start at 0); `ph(i)` is the engine's i-th placeholder. */
export function createKeySql(ph: (i: number) => string): string {
  const p = Array.from({ length: 14 }, (_, i) => ph(i + 1));
  return `INSERT INTO api_keys (hash, name, label, kind, account_id, limit_nanos, limit_reset, usage_nanos, usage_total_nanos,
        period_start, reserved_nanos, disabled, expires_at, created_at, updated_at, requests_per_minute, tokens_per_minute)
       VALUES (${p.slice(0, 7).join(', ')}, 0, 0, ${p[7]}, 0, ${p.slice(8).join(', ')})`;
}

export function createKeyParams(k: ApiKeyRecord): Array<string | number | null> {
  return [
    k.hash,
    k.name,
    k.label,
    k.kind,
    k.accountId,
    k.limitNanos,
    k.limitReset,
    k.periodStart,
    k.disabled ? 1 : 0,
    k.expiresAt,
    k.createdAt,
    k.updatedAt,
    k.requestsPerMinute,
    k.tokensPerMinute,
  ];
}

export function generationParams(g: GenerationRecord): Array<string | number | null> {
  return [
    g.id,
    g.keyHash,
    g.accountId,
    g.model,
    g.providerId,
    g.providerName,
    g.upstreamModel,
    g.upstreamId,
    g.apiType,
    g.streamed ? 1 : 0,
    g.cancelled ? 1 : 0,
    g.finishReason,
    g.nativeFinishReason,
    g.tokensPrompt,
    g.tokensCompletion,
    g.tokensCached,
    g.tokensCacheWrite,
    g.tokensReasoning,
    g.usageEstimated ? 1 : 0,
    g.costNanos,
    g.promptCostNanos,
    g.completionCostNanos,
    g.upstreamCostNanos,
    g.feeNanos,
    g.latencyMs,
    g.ttftMs,
    g.generationMs,
    g.error,
    g.createdAt,
    g.legs.length > 0 ? JSON.stringify(g.legs) : null,
    g.serviceTier ?? null,
    g.router ?? null,
    g.user ?? null,
    g.sessionId ?? null,
    g.appTitle ?? null,
    g.appReferer ?? null,
  ];
}

/** Creates a stream's checkpoint on its hold, or a hold of 0 carrying it when the stream held nothing. */
export const UPSERT_CHECKPOINT_COLUMNS = [
  'id',
  'account_id',
  'key_hash',
  'amount_nanos',
  'expires_at',
  'created_at',
  'owner',
  'delivered_upstream_nanos',
  'delivered_fee_nanos',
  'delivered_record',
] as const;

export function checkpointSql(placeholder: (i: number) => string): string {
  const values = UPSERT_CHECKPOINT_COLUMNS.map((_, i) => placeholder(i + 1)).join(', ');
  return (
    `INSERT INTO reservations (${UPSERT_CHECKPOINT_COLUMNS.join(', ')}) VALUES (${values}) ON CONFLICT (id) DO UPDATE SET ` +
    'delivered_upstream_nanos = excluded.delivered_upstream_nanos, delivered_fee_nanos = excluded.delivered_fee_nanos, delivered_record = excluded.delivered_record'
  );
}

export function checkpointParams(c: HoldCheckpoint): Array<string | number | null> {
  return [
    c.id,
    c.accountId,
    c.keyHash,
    0,
    isoTime(c.expiresAt),
    isoTime(c.now),
    c.owner,
    c.upstreamNanos,
    c.feeNanos,
    JSON.stringify(c.record),
  ];
}

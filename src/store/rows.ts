/**
 * Row → record mapping shared by the SQLite and PostgreSQL stores (same schema, same columns);
 * what they write for a request's money and record is in row-writes.ts.
 * Drivers return BIGINT as number, bigint or string; everything passes through Number(), and
 * money through `money`, which never throws on what it finds.
 */
import { MAX_PER_MINUTE, MAX_STORED_NANOS } from '../spec/money-bounds.ts';
import type {
  Account,
  AlertRecord,
  ApiKeyRecord,
  GenerationLeg,
  GenerationRecord,
  KeyPatch,
  LedgerEntry,
  LimitReset,
  ProcessLease,
  StoredResponse,
} from './types.ts';

export type Row = Record<string, unknown>;

const n = (v: unknown): number => Number(v ?? 0);
const nn = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const s = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

let report: (message: string) => void = (m) => process.stderr.write(`${new Date().toISOString()} ERROR ${m}\n`);
const reported = new Set<string>();

/** Where a stored amount that cannot be read exactly is reported (the app passes its logger). */
export function reportStoredAmountsTo(fn: (message: string) => void): void {
  report = fn;
}

const BOUND = BigInt(MAX_STORED_NANOS);

/** The nearest amount within ±MAX_STORED_NANOS to a stored value that is not one. */
function clampStored(v: unknown): number {
  if (typeof v === 'bigint') return Number(v > BOUND ? BOUND : v < -BOUND ? -BOUND : v);
  const x = typeof v === 'number' ? v : Number(v);
  if (Number.isNaN(x)) return 0;
  return Math.max(-MAX_STORED_NANOS, Math.min(MAX_STORED_NANOS, Math.round(x)));
}

/**
 * A stored amount of nano-dollars. The schema keeps every one an integer within ±(2^53 − 1), but a
 * row written before it did (or by hand) may hold more, a float, or text: such a value is read as
 * the nearest amount within the bound and reported as an error, once per value, so one bad row
 * never makes a whole listing fail.
 */
function money(v: unknown, column: string, row: string): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'bigint' && v <= BOUND && v >= -BOUND) return Number(v);
  if (typeof v === 'string' && /^-?\d{1,16}$/.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
  const read = clampStored(v);
  const what = `${column} of ${row}`;
  if (!reported.has(`${what}=${String(v)}`)) {
    reported.add(`${what}=${String(v)}`);
    report(
      `stored ${what} is ${String(v)}, not a whole number of nano-dollars within ±${MAX_STORED_NANOS}; read as ${read} until the row is corrected`,
    );
  }
  return read;
}

const moneyOrNull = (v: unknown, column: string, row: string): number | null =>
  v === null || v === undefined ? null : money(v, column, row);

export function generationFromRow(r: Row): GenerationRecord {
  return {
    id: String(r.id),
    keyHash: String(r.key_hash),
    accountId: String(r.account_id),
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
    costNanos: money(r.cost_nanos, 'generations.cost_nanos', String(r.id)),
    promptCostNanos: money(r.prompt_cost_nanos, 'generations.prompt_cost_nanos', String(r.id)),
    completionCostNanos: money(r.completion_cost_nanos, 'generations.completion_cost_nanos', String(r.id)),
    upstreamCostNanos: money(r.upstream_cost_nanos, 'generations.upstream_cost_nanos', String(r.id)),
    feeNanos: money(r.fee_nanos, 'generations.fee_nanos', String(r.id)),
    latencyMs: n(r.latency_ms),
    ttftMs: nn(r.ttft_ms),
    generationMs: nn(r.generation_ms),
    error: s(r.error),
    createdAt: String(r.created_at),
    legs: typeof r.legs === 'string' ? (JSON.parse(r.legs) as GenerationLeg[]) : [],
    serviceTier: s(r.service_tier),
    router: s(r.router),
    // Only what was sent: a record without them reads back as it was written.
    ...(r.user_id != null ? { user: String(r.user_id) } : {}),
    ...(r.session_id != null ? { sessionId: String(r.session_id) } : {}),
    ...(r.app_title != null ? { appTitle: String(r.app_title) } : {}),
    ...(r.app_referer != null ? { appReferer: String(r.app_referer) } : {}),
  };
}

/** The columns a key update may change, by field. */
export const KEY_PATCH_COLUMNS: Record<keyof KeyPatch, string> = {
  name: 'name',
  limitNanos: 'limit_nanos',
  limitReset: 'limit_reset',
  disabled: 'disabled',
  expiresAt: 'expires_at',
  requestsPerMinute: 'requests_per_minute',
  tokensPerMinute: 'tokens_per_minute',
  logContent: 'log_content',
};

export function keyFromRow(r: Row): ApiKeyRecord {
  return {
    hash: String(r.hash),
    name: String(r.name),
    label: String(r.label),
    kind: r.kind === 'management' ? 'management' : 'inference',
    accountId: String(r.account_id),
    limitNanos: moneyOrNull(r.limit_nanos, 'api_keys.limit_nanos', `key ${String(r.hash)}`),
    limitReset: (s(r.limit_reset) as LimitReset | null) ?? null,
    usageNanos: money(r.usage_nanos, 'api_keys.usage_nanos', `key ${String(r.hash)}`),
    usageTotalNanos: money(r.usage_total_nanos, 'api_keys.usage_total_nanos', `key ${String(r.hash)}`),
    periodStart: s(r.period_start),
    reservedNanos: money(r.reserved_nanos, 'api_keys.reserved_nanos', `key ${String(r.hash)}`),
    disabled: n(r.disabled) === 1,
    expiresAt: s(r.expires_at),
    requestsPerMinute: perMinute(r.requests_per_minute),
    tokensPerMinute: perMinute(r.tokens_per_minute),
    // Content logging is said only where it is on or set (absent: off, or the account's).
    ...(r.log_content != null ? { logContent: n(r.log_content) === 1 } : {}),
    ...(n(r.account_log_content) === 1 ? { accountLogContent: true } : {}),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at ?? r.created_at),
  };
}

/** A stored per-key rate; one that is not a usable whole number (written before the schema refused it) reads as the bound. */
function perMinute(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const x = Number(v);
  return Number.isSafeInteger(x) && x >= 1 ? Math.min(x, MAX_PER_MINUTE) : x >= 1 ? MAX_PER_MINUTE : 1;
}

export function accountFromRow(r: Row): Account {
  return {
    id: String(r.id),
    name: String(r.name),
    prepaid: n(r.prepaid) === 1,
    balanceNanos: money(r.balance_nanos, 'accounts.balance_nanos', `account ${String(r.id)}`),
    reservedNanos: money(r.reserved_nanos, 'accounts.reserved_nanos', `account ${String(r.id)}`),
    purchasedNanos: money(r.purchased_nanos, 'accounts.purchased_nanos', `account ${String(r.id)}`),
    ...(n(r.log_content) === 1 ? { logContent: true } : {}),
    createdAt: String(r.created_at),
  };
}

export function ledgerFromRow(r: Row): LedgerEntry {
  return {
    id: String(r.id),
    accountId: String(r.account_id),
    keyHash: s(r.key_hash),
    kind: String(r.kind) as LedgerEntry['kind'],
    amountNanos: money(r.amount_nanos, 'ledger.amount_nanos', String(r.id)),
    upstreamNanos: moneyOrNull(r.upstream_nanos, 'ledger.upstream_nanos', String(r.id)),
    feeNanos: moneyOrNull(r.fee_nanos, 'ledger.fee_nanos', String(r.id)),
    note: s(r.note),
    createdAt: String(r.created_at),
  };
}

export function alertFromRow(r: Row): AlertRecord {
  return {
    id: String(r.id),
    accountId: String(r.account_id),
    keyHash: s(r.key_hash),
    thresholdKind: r.threshold_kind === 'percent' ? 'percent' : 'usd',
    thresholdValue: money(r.threshold_value, 'alerts.threshold_value', String(r.id)),
    webhookUrl: s(r.webhook_url),
    firedAt: s(r.fired_at),
    createdAt: String(r.created_at),
  };
}

/** SQL for a usage report: the same text works on both engines (`substr` exists in both). */
export function usageSql(
  groupBy: readonly string[],
  placeholders: (i: number) => string,
  hasKey: boolean,
  hasFrom: boolean,
  hasTo: boolean,
) {
  const dims: Record<string, string> = {
    day: 'substr(created_at, 1, 10) AS day',
    hour: 'substr(created_at, 1, 13) AS hour',
    model: 'model',
    provider: 'provider_id AS provider',
    key: 'key_hash AS key_hash',
    app: 'app_title AS app',
    user: 'user_id AS user_id',
  };
  const groupCols: Record<string, string> = {
    day: 'substr(created_at, 1, 10)',
    hour: 'substr(created_at, 1, 13)',
    model: 'model',
    provider: 'provider_id',
    key: 'key_hash',
    app: 'app_title',
    user: 'user_id',
  };
  const select = groupBy.map((g) => dims[g]);
  const where = ['account_id = ' + placeholders(1)];
  let i = 2;
  if (hasKey) where.push(`key_hash = ${placeholders(i++)}`);
  if (hasFrom) where.push(`created_at >= ${placeholders(i++)}`);
  if (hasTo) where.push(`created_at < ${placeholders(i++)}`);
  const group = groupBy.map((g) => groupCols[g]);
  return (
    `SELECT ${[
      ...select,
      'COUNT(*) AS requests',
      'SUM(tokens_prompt) AS tokens_prompt',
      'SUM(tokens_completion) AS tokens_completion',
      'SUM(tokens_cached) AS tokens_cached',
      'SUM(tokens_reasoning) AS tokens_reasoning',
      'SUM(cost_nanos) AS cost_nanos',
    ].join(', ')} ` +
    `FROM generations WHERE ${where.join(' AND ')}` +
    (group.length > 0 ? ` GROUP BY ${group.join(', ')} ORDER BY ${group.join(', ')}` : '')
  );
}

export function usageFromRow(r: Row): import('./types.ts').UsageRow {
  return {
    ...(r.day !== undefined ? { day: String(r.day) } : {}),
    ...(r.hour !== undefined ? { hour: String(r.hour) } : {}),
    ...(r.model !== undefined ? { model: String(r.model) } : {}),
    ...(r.provider !== undefined ? { provider: String(r.provider) } : {}),
    ...(r.key_hash !== undefined ? { keyHash: String(r.key_hash) } : {}),
    ...(r.app !== undefined ? { app: s(r.app) } : {}),
    ...(r.user_id !== undefined ? { user: s(r.user_id) } : {}),
    requests: n(r.requests),
    tokensPrompt: n(r.tokens_prompt),
    tokensCompletion: n(r.tokens_completion),
    tokensCached: n(r.tokens_cached),
    tokensReasoning: n(r.tokens_reasoning),
    costNanos: money(r.cost_nanos, 'usage report cost_nanos', 'a group'),
  };
}

export function storedResponseFromRow(r: Row): StoredResponse {
  return {
    id: String(r.id),
    keyHash: String(r.key_hash),
    model: String(r.model),
    input: JSON.parse(String(r.input)) as unknown[],
    output: JSON.parse(String(r.output)) as unknown[],
    response: JSON.parse(String(r.response)) as Record<string, unknown>,
    createdAt: String(r.created_at),
  };
}

export function leaseFromRow(r: Row): ProcessLease {
  return { owner: String(r.owner), host: String(r.host), pid: n(r.pid), expiresAt: String(r.expires_at), startedAt: String(r.started_at) };
}

/** The columns a dropped hold returns: what it held, and what its stream had delivered. */
export const DROPPED_HOLD = 'account_id, key_hash, amount_nanos, delivered_upstream_nanos, delivered_fee_nanos, delivered_record';

/** The generation record a crashed stream's checkpoint carried, if any (unreadable: none). */
export function deliveredRecord(r: Row): GenerationRecord | undefined {
  if (typeof r.delivered_record !== 'string') return undefined;
  try {
    return JSON.parse(r.delivered_record) as GenerationRecord;
  } catch {
    return undefined;
  }
}

export const RECLAIM_NOTE = 'cut short when the Freeway process serving it died: charged what was delivered by its last checkpoint';

export const ORPHAN_OWNERS_SQL =
  'SELECT DISTINCT owner FROM reservations r WHERE owner IS NOT NULL AND NOT EXISTS (SELECT 1 FROM process_leases l WHERE l.owner = r.owner)';

export function activityFromRow(r: Row): import('./types.ts').ActivityRow {
  return {
    day: String(r.day),
    model: String(r.model),
    providerId: String(r.provider_id),
    providerName: String(r.provider_name),
    upstreamModel: String(r.upstream_model),
    requests: n(r.requests),
    tokensPrompt: n(r.tokens_prompt),
    tokensCompletion: n(r.tokens_completion),
    tokensReasoning: n(r.tokens_reasoning),
    costNanos: money(r.cost_nanos, 'activity cost_nanos', 'a group'),
  };
}

/** A key with its account's content-logging setting (one read serves authentication and the decision to log). */
export const FIND_KEY_SQL = (ph: string) =>
  `SELECT k.*, a.log_content AS account_log_content FROM api_keys k LEFT JOIN accounts a ON a.id = k.account_id WHERE k.hash = ${ph}`;

export const INSERT_CONTENT_SQL = (ph: (i: number) => string) =>
  'INSERT INTO generation_content (id, account_id, key_hash, input, output, created_at) ' +
  `VALUES (${[1, 2, 3, 4, 5, 6].map(ph).join(', ')}) ON CONFLICT (id) DO NOTHING`;

export function contentParams(c: import('./types.ts').GenerationContent): string[] {
  return [c.id, c.accountId, c.keyHash, JSON.stringify(c.input), JSON.stringify(c.output), c.createdAt];
}

export function contentFromRow(r: Row): import('./types.ts').GenerationContent {
  return {
    id: String(r.id),
    accountId: String(r.account_id),
    keyHash: String(r.key_hash),
    input: JSON.parse(String(r.input)) as unknown,
    output: JSON.parse(String(r.output)) as import('./types.ts').GenerationContent['output'],
    createdAt: String(r.created_at),
  };
}

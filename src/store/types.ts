/**
 * What the store keeps and what its calls carry: accounts, keys, ledger entries, holds, generation
 * records and the queries over them. What a store does with them is store.ts's.
 */

export type KeyKind = 'inference' | 'management';
export type LimitReset = 'daily' | 'weekly' | 'monthly';

export interface Account {
  id: string;
  name: string;
  /**
   * Prepaid accounts spend only what they hold: a request that could cost more than
   * `balance - reserved` is refused. Postpaid accounts run a tab (balance may go negative);
   * key limits apply either way.
   */
  prepaid: boolean;
  /** Always equal to the sum of the account's ledger entries. */
  balanceNanos: number;
  /** Sum of open reservations. */
  reservedNanos: number;
  /** Sum of every top-up ever (unlocks the higher free-model allowance). */
  purchasedNanos: number;
  /** Whether its keys' prompts and completions are kept (content logging; a key may say otherwise). */
  logContent?: boolean;
  createdAt: string;
}

export interface ApiKeyRecord {
  /** sha256 of the key, hex; the key itself is never stored. */
  hash: string;
  name: string;
  /** Masked display form, e.g. `sk-fw-v1-3f2...9ab`. */
  label: string;
  kind: KeyKind;
  accountId: string;
  /** Credit limit in nano-dollars per period (or for ever when `limitReset` is null); null for none. */
  limitNanos: number | null;
  limitReset: LimitReset | null;
  /** Spent in the current limit period. */
  usageNanos: number;
  /** Spent since the key was created. */
  usageTotalNanos: number;
  /** Start of the current limit period (ISO), when the limit resets. */
  periodStart: string | null;
  /** Sum of this key's open reservations. */
  reservedNanos: number;
  disabled: boolean;
  expiresAt: string | null;
  /** The key's own rate limits; null = the configured default (`limits.perKey`). */
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  /** Content logging for this key: on, off, or null (absent) for its account's setting. */
  logContent?: boolean | null;
  /** Its account's content logging, as read with the key (findKey). */
  accountLogContent?: boolean;
  createdAt: string;
  updatedAt: string;
}

export type KeyPatch = Partial<
  Pick<
    ApiKeyRecord,
    'name' | 'limitNanos' | 'limitReset' | 'disabled' | 'expiresAt' | 'requestsPerMinute' | 'tokensPerMinute' | 'logContent'
  >
>;

export type LedgerKind = 'topup' | 'charge' | 'refund' | 'adjustment';

export interface LedgerEntry {
  /** Unique movement id; a charge's id is its generation id, so nothing is charged twice. */
  id: string;
  accountId: string;
  keyHash: string | null;
  kind: LedgerKind;
  /** Signed: credits positive, charges negative. */
  amountNanos: number;
  /** For charges: what the upstream cost, and Freeway's fee; amount = -(upstream + fee). */
  upstreamNanos: number | null;
  feeNanos: number | null;
  note: string | null;
  createdAt: string;
}

/** Which ledger page to read: movements older than `before` (the last row of the previous page), of one kind. */
export interface LedgerPage {
  before?: { createdAt: string; id: string };
  kind?: LedgerKind;
}

export interface GenerationRecord {
  id: string;
  keyHash: string;
  accountId: string;
  model: string;
  providerId: string;
  providerName: string;
  upstreamModel: string;
  upstreamId: string | null;
  apiType: 'completions' | 'embeddings';
  streamed: boolean;
  cancelled: boolean;
  finishReason: string | null;
  nativeFinishReason: string | null;
  tokensPrompt: number;
  tokensCompletion: number;
  tokensCached: number;
  tokensCacheWrite: number;
  tokensReasoning: number;
  /** True when the upstream reported no usage and the counts are Freeway's estimate. */
  usageEstimated: boolean;
  /** What the key was charged: upstream cost + fee (0 when zero-completion insurance applied). */
  costNanos: number;
  promptCostNanos: number;
  completionCostNanos: number;
  upstreamCostNanos: number;
  feeNanos: number;
  /** Whole request, ms. */
  latencyMs: number;
  /** Time to first token, ms (streams). */
  ttftMs: number | null;
  /** From first token to the end, ms. */
  generationMs: number | null;
  error: string | null;
  createdAt: string;
  /**
   * When a stream failed over mid-way, every upstream that served part of it, in order, with its
   * tokens and cost; empty for the usual single-upstream generation.
   */
  legs: GenerationLeg[];
  /** The processing tier the (last) upstream said it served, which set the price; null when it did not say. */
  serviceTier?: string | null;
  /** The model router the request named (`openrouter/auto`, `openrouter/free`); null when it named a model. */
  router?: string | null;
  /**
   * Who the request says it is for (see gateway/attribution.ts): the end user (`user`), the session
   * (`session_id` / `x-session-id`), the app (`X-OpenRouter-Title` / `X-Title`) and its origin
   * (`HTTP-Referer`). Absent or null when not sent (and on records written before they were kept).
   */
  user?: string | null;
  sessionId?: string | null;
  appTitle?: string | null;
  appReferer?: string | null;
}

export interface GenerationLeg {
  provider: string;
  upstreamModel: string;
  tokensPrompt: number;
  tokensCompletion: number;
  upstreamCostNanos: number;
  usageEstimated: boolean;
  error: string | null;
  /** The processing tier this upstream said it served, when it said. */
  serviceTier?: string;
}

export interface ReserveRequest {
  /** The reservation id; becomes the ledger id of the charge that settles it. */
  id: string;
  accountId: string;
  keyHash: string;
  amountNanos: number;
  now: Date;
  expiresAt: Date;
  /** The process lease that owns the hold (see ProcessLease); its holds go when the lease lapses. */
  owner?: string;
}

/**
 * A running gateway process, alive while it keeps renewing `expiresAt`. Holds carry their owner's
 * id, so the holds of a process that died are found and settled within seconds by any live one.
 */
export interface ProcessLease {
  owner: string;
  /** Where the process runs (host name and PID namespace): a process on the same host can check `pid` directly. */
  host: string;
  pid: number;
  expiresAt: string;
  startedAt: string;
}

/**
 * What a stream had delivered at a moment: if its process dies before settling, this much is
 * charged (and `record` kept as the generation, marked as cut by a crash) and the rest released.
 */
export interface HoldCheckpoint {
  /** The hold's id (the generation id). */
  id: string;
  accountId: string;
  keyHash: string;
  owner: string;
  upstreamNanos: number;
  feeNanos: number;
  record: GenerationRecord;
  now: Date;
  /** Lifetime of the hold a checkpoint creates for a stream that held nothing (no limit to hold against). */
  expiresAt: Date;
}

export type ReserveResult = { ok: true } | { ok: false; reason: 'key_limit' | 'balance'; availableNanos: number };

export interface SettleRequest {
  reservationId: string;
  /** The account and key to charge even if the reservation has already expired. */
  accountId: string;
  keyHash: string;
  upstreamNanos: number;
  feeNanos: number;
  note?: string;
  now: Date;
  /** Whether a hold was placed under reservationId (false: there is none to drop). Default true. */
  held?: boolean;
  /** The generation's record, written in the same transaction (so it is there whenever the charge is). */
  generation?: GenerationRecord;
}

export interface CreditRequest {
  id: string;
  accountId: string;
  kind: Exclude<LedgerKind, 'charge'>;
  /** Positive adds to the balance; an adjustment may be negative. */
  amountNanos: number;
  note?: string;
  now: Date;
}

export type UsageDimension = 'day' | 'hour' | 'model' | 'provider' | 'key' | 'app' | 'user';

export interface UsageQuery {
  accountId: string;
  keyHash?: string;
  from?: string;
  to?: string;
  groupBy: UsageDimension[];
}

export interface UsageRow {
  day?: string;
  /** `YYYY-MM-DDTHH` (UTC). */
  hour?: string;
  model?: string;
  provider?: string;
  keyHash?: string;
  /** The app title (null: requests that named none). */
  app?: string | null;
  user?: string | null;
  requests: number;
  tokensPrompt: number;
  tokensCompletion: number;
  tokensCached: number;
  tokensReasoning: number;
  costNanos: number;
}

export type GenerationStatus = 'success' | 'error' | 'cancelled';

/** A page of the generation log (GET /api/v1/generations): every filter is an exact match; none means all. */
export interface GenerationQuery {
  /** Unset: every account (the admin's view). */
  accountId?: string;
  keyHash?: string;
  model?: string;
  providerId?: string;
  status?: GenerationStatus;
  appTitle?: string;
  user?: string;
  /** ISO times: created at or after `from`, before `to`. */
  from?: string;
  to?: string;
  /** Only generations strictly older than this one in (createdAt, id) order: where the previous page ended. */
  before?: { createdAt: string; id: string };
  limit: number;
}

/** One row of OpenRouter's `/activity`: a day's use of one model on one endpoint. */
export interface ActivityQuery {
  accountId: string;
  keyHash?: string;
  user?: string;
  from: string;
  to: string;
}

export interface ActivityRow {
  day: string;
  model: string;
  providerId: string;
  providerName: string;
  upstreamModel: string;
  requests: number;
  tokensPrompt: number;
  tokensCompletion: number;
  tokensReasoning: number;
  costNanos: number;
}

export interface CounterWindow {
  /** `minute`, `day`, ...: one counter per key and name. */
  name: string;
  /** Start of the window the counter belongs to (ms since epoch); an older counter restarts at 0. */
  startMs: number;
  limit: number;
}

export type CounterResult = { ok: true; counts: number[] } | { ok: false; window: string; count: number };

export type AlertKind = 'usd' | 'percent';

/**
 * A credit alert: fires once when what is left falls to its threshold, re-arms when it rises above.
 * An account alert (keyHash null) watches the account's balance; a key alert its remaining limit.
 */
export interface AlertRecord {
  id: string;
  accountId: string;
  keyHash: string | null;
  thresholdKind: AlertKind;
  /** Nano-dollars for `usd`, basis points (1% = 100) for `percent`. */
  thresholdValue: number;
  /** Overrides the configured webhook. */
  webhookUrl: string | null;
  /** When the current crossing fired; null while armed. */
  firedAt: string | null;
  createdAt: string;
}

/**
 * A Responses-API response kept with `store: true`, so a later request by the same key can continue
 * it with `previous_response_id`.
 */
export interface StoredResponse {
  /** `resp_...`. */
  id: string;
  /** The key that created it; only that key may read or continue it. */
  keyHash: string;
  model: string;
  /** The conversation this response answered, as Responses input items (earlier stored turns included). */
  input: unknown[];
  /** This response's output items. */
  output: unknown[];
  /** The response object as returned to the client. */
  response: Record<string, unknown>;
  createdAt: string;
}

/**
 * What a logged generation said (content logging): the prompt as Freeway's internal messages, and
 * the answer as delivered to the client. JSON, as stored.
 */
export interface GenerationContent {
  id: string;
  accountId: string;
  keyHash: string;
  input: unknown;
  output: { completion: string; reasoning: string | null; truncated: boolean };
  createdAt: string;
}

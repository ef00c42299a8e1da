/**
 * The store interface: everything Freeway persists goes through it, and every operation that moves
 * money is one atomic call here, so no caller can interleave a check and an update. SQLite and
 * PostgreSQL implement it with the same schema and migrations.
 */
import type { DependencyState } from '../infra/outage.ts';

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

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** A store on a server (PostgreSQL): whether it answers within `timeoutMs`, for /health. A file store has no outage. */
  ping?(timeoutMs: number): Promise<DependencyState>;

  createAccount(a: { id: string; name: string; prepaid: boolean; now: Date }): Promise<Account>;
  getAccount(id: string): Promise<Account | undefined>;
  /** Turns an account's content logging on or off; false when there is no such account. */
  setAccountLogContent(id: string, on: boolean): Promise<boolean>;
  listAccounts(): Promise<Account[]>;

  createKey(rec: ApiKeyRecord): Promise<void>;
  findKey(hash: string): Promise<ApiKeyRecord | undefined>;
  listKeys(filter: { accountId?: string; kind?: KeyKind; offset?: number; limit?: number }): Promise<ApiKeyRecord[]>;
  updateKey(hash: string, patch: KeyPatch, now: Date): Promise<ApiKeyRecord | undefined>;
  deleteKey(hash: string): Promise<boolean>;
  countKeys(kind?: KeyKind): Promise<number>;

  /** Adds a credit movement and changes the balance in one transaction; false when `id` exists. */
  credit(c: CreditRequest): Promise<boolean>;
  /** Holds `amountNanos` against the key's remaining limit and (prepaid) the account's balance, atomically. */
  reserve(r: ReserveRequest): Promise<ReserveResult>;
  /**
   * Charges upstream + fee and drops the reservation, atomically and idempotently: a second
   * settle of the same reservation charges nothing. Returns whether this call charged.
   */
  settle(s: SettleRequest): Promise<boolean>;
  /** Drops a reservation without charging. */
  release(reservationId: string): Promise<boolean>;
  /** Releases reservations that expired before `now` (a crashed process's); returns how many. */
  releaseExpired(now: Date): Promise<number>;
  /** Creates or renews a process lease. */
  renewLease(l: ProcessLease): Promise<void>;
  /** Removes a lease: at clean shutdown, or a dead one after its holds were reclaimed (only if still expired before `expiredBefore`). */
  endLease(owner: string, expiredBefore?: Date): Promise<void>;
  listLeases(): Promise<ProcessLease[]>;
  /** Owners of open holds that have no lease at all (their process is gone). */
  orphanOwners(): Promise<string[]>;
  /**
   * Liveness the operating system vouches for, where the engine has it (SQLite: a lock file per
   * process beside the database). `holdOwner` takes this process's; `ownerAlive` says whether
   * another's process is alive (undefined: cannot tell); `dropOwner` gives one up or cleans it away.
   */
  holdOwner?(owner: string): void;
  ownerAlive?(owner: string): boolean | undefined;
  dropOwner?(owner: string): void;
  /**
   * Records on each hold what its stream has delivered so far (one batch); a stream that held
   * nothing gets a hold of 0 carrying the checkpoint. The caller stops checkpointing a stream
   * (and waits for its last write) before settling it, so no checkpoint recreates a settled hold.
   */
  checkpointHolds(cs: readonly HoldCheckpoint[]): Promise<void>;
  /**
   * Settles every hold of these (dead) owners: the checkpointed amount is charged (ledger entry,
   * generation record) and the rest released, one hold per transaction.
   */
  reclaimHolds(owners: readonly string[], now: Date): Promise<{ released: number; charged: number }>;
  /** Newest first (created_at descending, then id ascending); `page` continues after a previous page's last row. */
  ledger(accountId: string, limit?: number, page?: LedgerPage): Promise<LedgerEntry[]>;
  ledgerSum(accountId: string): Promise<number>;
  /** Credits (top-ups, refunds, adjustments; signed) and charges (positive) of an account's ledger. */
  ledgerTotals(accountId: string): Promise<{ credits: number; charges: number }>;
  openReservations(accountId?: string): Promise<number>;

  insertGenerations(recs: readonly GenerationRecord[]): Promise<void>;
  getGeneration(id: string): Promise<GenerationRecord | undefined>;
  usage(q: UsageQuery): Promise<UsageRow[]>;
  /** Newest first, in (createdAt, id) order: paging by `before` neither repeats nor skips a row that was there. */
  listGenerations(q: GenerationQuery): Promise<GenerationRecord[]>;
  /** Daily totals by model and endpoint, oldest day first. */
  activity(q: ActivityQuery): Promise<ActivityRow[]>;
  /** Saves logged content (an id that exists keeps the first). */
  saveContent(cs: readonly GenerationContent[]): Promise<void>;
  getContent(id: string): Promise<GenerationContent | undefined>;
  /** Deletes the content logged before `before` (ISO time); returns how many. */
  purgeContent(before: string): Promise<number>;

  /** Checks every window's counter and, only when all are under their limit, increments them all. */
  hitCounters(key: string, windows: readonly CounterWindow[]): Promise<CounterResult>;

  createAlert(a: AlertRecord): Promise<void>;
  getAlert(id: string): Promise<AlertRecord | undefined>;
  /** An account's alerts (its own and its keys'), oldest first; only one key's with `keyHash`. */
  listAlerts(accountId: string, keyHash?: string): Promise<AlertRecord[]>;
  deleteAlert(id: string): Promise<boolean>;
  /**
   * Compare-and-set of the fired state: sets `fired_at` to `firedAt` only if the alert is currently
   * fired (`expectFired`) or armed (`!expectFired`). Returns whether this call changed it, so of
   * two processes seeing the same crossing exactly one fires.
   */
  markAlert(id: string, firedAt: string | null, expectFired: boolean): Promise<boolean>;

  /** Saves a stored response; saving an id that exists keeps the first. */
  saveResponse(r: StoredResponse): Promise<void>;
  getResponse(id: string): Promise<StoredResponse | undefined>;
  /** Deletes the key's stored response; false when there was none of that key. */
  deleteResponse(id: string, keyHash: string): Promise<boolean>;
  /** Deletes every stored response created before `before` (ISO time); returns how many. */
  purgeResponses(before: string): Promise<number>;
}

/**
 * The store interface: everything Freeway persists goes through it, and every operation that moves
 * money is one atomic call here, so no caller can interleave a check and an update. SQLite and
 * PostgreSQL implement it with the same schema and migrations (the records are types.ts's).
 */
import type { DependencyState } from '../infra/outage.ts';
import type {
  KeyKind,
  Account,
  ApiKeyRecord,
  KeyPatch,
  LedgerEntry,
  LedgerPage,
  GenerationRecord,
  ReserveRequest,
  ProcessLease,
  HoldCheckpoint,
  ReserveResult,
  SettleRequest,
  CreditRequest,
  UsageQuery,
  UsageRow,
  GenerationQuery,
  ActivityQuery,
  ActivityRow,
  CounterWindow,
  CounterResult,
  AlertRecord,
  StoredResponse,
  GenerationContent,
} from './types.ts';

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

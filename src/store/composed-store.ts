/**
 * A Store made of one module a domain, the same for both engines: each Store method goes to its
 * domain's module in one direct call (no wrapper, promise or step of its own on the way). An
 * engine's store (sqlite/sqlite-store.ts, postgres/postgres-store.ts) opens its connection, builds
 * its modules on it, and adds what is its alone: migrations, close, health.
 */
import type {
  Account,
  ActivityQuery,
  ActivityRow,
  AlertRecord,
  ApiKeyRecord,
  CounterResult,
  CounterWindow,
  CreditRequest,
  GenerationContent,
  GenerationQuery,
  GenerationRecord,
  HoldCheckpoint,
  KeyKind,
  KeyPatch,
  LedgerEntry,
  LedgerPage,
  ProcessLease,
  ReserveRequest,
  ReserveResult,
  SettleRequest,
  StoredResponse,
  UsageQuery,
  UsageRow,
} from './types.ts';
import type { Store } from './store.ts';

/** The Store methods each domain's module answers. */
export interface Domains {
  accounts: Pick<Store, 'createAccount' | 'getAccount' | 'setAccountLogContent' | 'listAccounts'>;
  keys: Pick<Store, 'createKey' | 'findKey' | 'listKeys' | 'updateKey' | 'deleteKey' | 'countKeys'>;
  money: Pick<Store, 'credit' | 'reserve' | 'settle' | 'release' | 'releaseExpired'>;
  leases: Pick<Store, 'renewLease' | 'endLease' | 'listLeases' | 'orphanOwners' | 'checkpointHolds' | 'reclaimHolds'>;
  ledgerReads: Pick<Store, 'ledger' | 'ledgerSum' | 'ledgerTotals' | 'openReservations'>;
  generations: Pick<Store, 'insertGenerations' | 'getGeneration' | 'usage' | 'listGenerations' | 'activity'>;
  content: Pick<Store, 'saveContent' | 'getContent' | 'purgeContent'>;
  counters: Pick<Store, 'hitCounters'>;
  alerts: Pick<Store, 'createAlert' | 'getAlert' | 'listAlerts' | 'deleteAlert' | 'markAlert'>;
  responses: Pick<Store, 'saveResponse' | 'getResponse' | 'deleteResponse' | 'purgeResponses'>;
}

export abstract class ComposedStore implements Omit<Store, 'kind' | 'migrate' | 'close'> {
  private readonly accounts: Domains['accounts'];
  private readonly keys: Domains['keys'];
  private readonly money: Domains['money'];
  private readonly leases: Domains['leases'];
  private readonly ledgerReads: Domains['ledgerReads'];
  private readonly generations: Domains['generations'];
  private readonly content: Domains['content'];
  private readonly counters: Domains['counters'];
  private readonly alerts: Domains['alerts'];
  private readonly responses: Domains['responses'];

  constructor(domains: Domains) {
    this.accounts = domains.accounts;
    this.keys = domains.keys;
    this.money = domains.money;
    this.leases = domains.leases;
    this.ledgerReads = domains.ledgerReads;
    this.generations = domains.generations;
    this.content = domains.content;
    this.counters = domains.counters;
    this.alerts = domains.alerts;
    this.responses = domains.responses;
  }

  // ---- accounts ----
  createAccount(a: { id: string; name: string; prepaid: boolean; now: Date }): Promise<Account> {
    return this.accounts.createAccount(a);
  }

  getAccount(id: string): Promise<Account | undefined> {
    return this.accounts.getAccount(id);
  }

  setAccountLogContent(id: string, on: boolean): Promise<boolean> {
    return this.accounts.setAccountLogContent(id, on);
  }

  listAccounts(): Promise<Account[]> {
    return this.accounts.listAccounts();
  }

  // ---- keys ----
  createKey(k: ApiKeyRecord): Promise<void> {
    return this.keys.createKey(k);
  }

  findKey(hash: string): Promise<ApiKeyRecord | undefined> {
    return this.keys.findKey(hash);
  }

  listKeys(f: { accountId?: string; kind?: KeyKind; offset?: number; limit?: number }): Promise<ApiKeyRecord[]> {
    return this.keys.listKeys(f);
  }

  updateKey(hash: string, patch: KeyPatch, now: Date): Promise<ApiKeyRecord | undefined> {
    return this.keys.updateKey(hash, patch, now);
  }

  deleteKey(hash: string): Promise<boolean> {
    return this.keys.deleteKey(hash);
  }

  countKeys(kind?: KeyKind): Promise<number> {
    return this.keys.countKeys(kind);
  }

  // ---- money ----
  credit(c: CreditRequest): Promise<boolean> {
    return this.money.credit(c);
  }

  reserve(r: ReserveRequest): Promise<ReserveResult> {
    return this.money.reserve(r);
  }

  settle(s: SettleRequest): Promise<boolean> {
    return this.money.settle(s);
  }

  release(reservationId: string): Promise<boolean> {
    return this.money.release(reservationId);
  }

  releaseExpired(now: Date): Promise<number> {
    return this.money.releaseExpired(now);
  }

  // ---- process leases and crashed streams ----
  renewLease(l: ProcessLease): Promise<void> {
    return this.leases.renewLease(l);
  }

  endLease(owner: string, expiredBefore?: Date): Promise<void> {
    return this.leases.endLease(owner, expiredBefore);
  }

  listLeases(): Promise<ProcessLease[]> {
    return this.leases.listLeases();
  }

  orphanOwners(): Promise<string[]> {
    return this.leases.orphanOwners();
  }

  checkpointHolds(cs: readonly HoldCheckpoint[]): Promise<void> {
    return this.leases.checkpointHolds(cs);
  }

  reclaimHolds(owners: readonly string[], now: Date): Promise<{ released: number; charged: number }> {
    return this.leases.reclaimHolds(owners, now);
  }

  // ---- ledger ----
  ledger(accountId: string, limit?: number, page?: LedgerPage): Promise<LedgerEntry[]> {
    return this.ledgerReads.ledger(accountId, limit, page);
  }

  ledgerSum(accountId: string): Promise<number> {
    return this.ledgerReads.ledgerSum(accountId);
  }

  ledgerTotals(accountId: string): Promise<{ credits: number; charges: number }> {
    return this.ledgerReads.ledgerTotals(accountId);
  }

  openReservations(accountId?: string): Promise<number> {
    return this.ledgerReads.openReservations(accountId);
  }

  // ---- generations and usage ----
  insertGenerations(recs: readonly GenerationRecord[]): Promise<void> {
    return this.generations.insertGenerations(recs);
  }

  getGeneration(id: string): Promise<GenerationRecord | undefined> {
    return this.generations.getGeneration(id);
  }

  usage(q: UsageQuery): Promise<UsageRow[]> {
    return this.generations.usage(q);
  }

  listGenerations(q: GenerationQuery): Promise<GenerationRecord[]> {
    return this.generations.listGenerations(q);
  }

  activity(q: ActivityQuery): Promise<ActivityRow[]> {
    return this.generations.activity(q);
  }

  // ---- logged content ----
  saveContent(cs: readonly GenerationContent[]): Promise<void> {
    return this.content.saveContent(cs);
  }

  getContent(id: string): Promise<GenerationContent | undefined> {
    return this.content.getContent(id);
  }

  purgeContent(before: string): Promise<number> {
    return this.content.purgeContent(before);
  }

  // ---- counters ----
  hitCounters(key: string, windows: readonly CounterWindow[]): Promise<CounterResult> {
    return this.counters.hitCounters(key, windows);
  }

  // ---- alerts ----
  createAlert(a: AlertRecord): Promise<void> {
    return this.alerts.createAlert(a);
  }

  getAlert(id: string): Promise<AlertRecord | undefined> {
    return this.alerts.getAlert(id);
  }

  listAlerts(accountId: string, keyHash?: string): Promise<AlertRecord[]> {
    return this.alerts.listAlerts(accountId, keyHash);
  }

  deleteAlert(id: string): Promise<boolean> {
    return this.alerts.deleteAlert(id);
  }

  markAlert(id: string, firedAt: string | null, expectFired: boolean): Promise<boolean> {
    return this.alerts.markAlert(id, firedAt, expectFired);
  }

  // ---- stored responses ----
  saveResponse(r: StoredResponse): Promise<void> {
    return this.responses.saveResponse(r);
  }

  getResponse(id: string): Promise<StoredResponse | undefined> {
    return this.responses.getResponse(id);
  }

  deleteResponse(id: string, keyHash: string): Promise<boolean> {
    return this.responses.deleteResponse(id, keyHash);
  }

  purgeResponses(before: string): Promise<number> {
    return this.responses.purgeResponses(before);
  }
}

/**
 * API keys: generation, hashing, display labels, and a short-lived lookup cache so authenticating
 * a request is a hash and a map read, not a database query.
 */
import { hash, randomBytes } from 'node:crypto';
import type { ApiKeyRecord, KeyKind, LimitReset } from '../store/types.ts';
import type { Store } from '../store/store.ts';

export const KEY_PREFIX = 'sk-fw-v1-';

export function generateKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('hex');
}

export function hashKey(key: string): string {
  return hash('sha256', key);
}

export function labelOf(key: string): string {
  return `${key.slice(0, KEY_PREFIX.length + 3)}...${key.slice(-3)}`;
}

export const DEFAULT_ACCOUNT = 'default';

export async function createKey(
  store: Store,
  opts: {
    name: string;
    kind: KeyKind;
    accountId?: string;
    limitNanos?: number | null;
    limitReset?: LimitReset | null;
    expiresAt?: string | null;
    requestsPerMinute?: number | null;
    tokensPerMinute?: number | null;
  },
): Promise<{ key: string; record: ApiKeyRecord }> {
  const key = generateKey();
  const now = new Date().toISOString();
  const record: ApiKeyRecord = {
    hash: hashKey(key),
    name: opts.name,
    label: labelOf(key),
    kind: opts.kind,
    accountId: opts.accountId ?? DEFAULT_ACCOUNT,
    limitNanos: opts.limitNanos ?? null,
    limitReset: opts.limitReset ?? null,
    usageNanos: 0,
    usageTotalNanos: 0,
    periodStart: null,
    reservedNanos: 0,
    disabled: false,
    expiresAt: opts.expiresAt ?? null,
    requestsPerMinute: opts.requestsPerMinute ?? null,
    tokensPerMinute: opts.tokensPerMinute ?? null,
    createdAt: now,
    updatedAt: now,
  };
  await store.createKey(record);
  return { key, record };
}

/** Caches key lookups (hits and misses) for `ttlMs`, so a disabled key stops working within that. */
export class KeyCache {
  private readonly entries = new Map<string, { rec: ApiKeyRecord | undefined; expires: number }>();
  private readonly store: Store;
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(store: Store, ttlMs = 5_000, maxEntries = 10_000) {
    this.store = store;
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
  }

  async lookup(hash: string): Promise<ApiKeyRecord | undefined> {
    const now = Date.now();
    const hit = this.entries.get(hash);
    if (hit && hit.expires > now) return hit.rec;
    const rec = await this.store.findKey(hash);
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(hash, { rec, expires: now + this.ttlMs });
    return rec;
  }

  forget(hash: string): void {
    this.entries.delete(hash);
  }

  /** Forgets every cached key of an account (its settings changed). */
  forgetAccount(accountId: string): void {
    for (const [hash, e] of this.entries) if (e.rec?.accountId === accountId) this.entries.delete(hash);
  }
}

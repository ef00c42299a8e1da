/**
 * A key's per-minute limits as store rules, the 429 of a refusal, and the correction of the token
 * charge once the real count is known: what Limits.admitKey and Limits.admitKeyAt share.
 */
import { GatewayError } from '../spec/errors.ts';
import { MINUTE, positive } from './options.ts';
import type { KeyLimits, SettleTokens } from './options.ts';
import type { RateRefusal, RateRule, RateStore } from './types.ts';

export interface KeyCharge {
  /** Under the store's key `key:<hash>`. */
  storeKey: string;
  rules: RateRule[];
  /** Tokens charged up front (tpm), corrected by the settle. */
  estimate: number;
  /** Whether a tpm rule is charged (otherwise there is nothing to settle). */
  tpm: boolean;
}

export const noopSettle: SettleTokens = async () => {};

/** The rules of a key's limits for one request; undefined when it has none. */
export function keyCharge(keyHash: string, limits: KeyLimits, estimatedTokens: number): KeyCharge | undefined {
  const rules: RateRule[] = [];
  if (positive(limits.requestsPerMinute)) rules.push({ name: 'rpm', limit: limits.requestsPerMinute, windowMs: MINUTE, cost: 1 });
  const estimate = Math.max(1, Math.ceil(Number.isFinite(estimatedTokens) ? estimatedTokens : 1));
  const tpm = positive(limits.tokensPerMinute);
  if (tpm) rules.push({ name: 'tpm', limit: limits.tokensPerMinute!, windowMs: MINUTE, cost: estimate });
  if (rules.length === 0) return undefined;
  return { storeKey: `key:${keyHash}`, rules, estimate, tpm };
}

/** The 429 of a key's refusal: which limit, when to retry, the X-RateLimit headers. */
export function keyRefusal(r: RateRefusal): GatewayError {
  const perMinute = r.rule === 'rpm' ? 'requests per minute' : 'tokens per minute';
  const headers = {
    'X-RateLimit-Limit': String(r.limit),
    'X-RateLimit-Remaining': String(r.remaining),
    'X-RateLimit-Reset': String(r.resetAt),
  };
  return new GatewayError('rate_limit_exceeded', `Rate limit exceeded: ${perMinute} for this key (${r.limit}).`, {
    // Another endpoint would not help: the limit is the key's.
    retryable: false,
    retryAfter: Math.max(1, Math.ceil(r.retryAfterMs / 1000)),
    headers,
    metadata: {
      limit_type: r.rule === 'rpm' ? 'requests_per_minute' : 'tokens_per_minute',
      limit: r.limit,
      remaining: r.remaining,
      reset_at: r.resetAt,
      retry_after_ms: r.retryAfterMs,
      headers,
    },
  });
}

/** Corrects an admitted charge (made at `chargedAt`) with the real token count, once. */
export function settler(
  store: RateStore,
  c: KeyCharge,
  chargedAt: number,
  now: () => number,
  onStoreError: (err: unknown) => void,
): SettleTokens {
  if (!c.tpm) return noopSettle;
  let settled = false;
  return async (actualTokens: number) => {
    if (settled) return;
    settled = true;
    const actual = Math.max(0, Math.ceil(Number.isFinite(actualTokens) ? actualTokens : 0));
    const delta = actual - c.estimate;
    if (delta === 0) return;
    try {
      await store.adjust(c.storeKey, 'tpm', MINUTE, delta, now(), chargedAt);
    } catch (err) {
      onStoreError(err);
    }
  };
}

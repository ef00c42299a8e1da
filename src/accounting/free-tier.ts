/**
 * Allowances for `:free` model variants, per key: requests per minute and per day, the daily
 * allowance higher once the account has ever bought enough credits (OpenRouter's rules by
 * default). Counted in the store, so every Freeway process sharing it sees the same counts.
 */
import type { Settings } from '../config/load.ts';
import type { Candidate } from '../router/types.ts';
import { GatewayError } from '../spec/errors.ts';
import type { ApiKeyRecord } from '../store/types.ts';
import type { Store } from '../store/store.ts';
import { formatScaled } from '../spec/money.ts';

export const FREE_SUFFIX = ':free';

/** What the allowance reads: the configured limits and the store that counts (the app passes itself). */
interface FreeTierDeps {
  settings: Pick<Settings, 'billing'>;
  store: Store;
}

/** Today's (UTC) free-model requests of a key: the day's allowance, what is used and what is left. */
export async function freeRequestsToday(app: FreeTierDeps, key: ApiKeyRecord): Promise<{ limit: number; used: number; remaining: number }> {
  const cfg = app.settings.billing.freeModels;
  const account = await app.store.getAccount(key.accountId);
  const limit = (account?.purchasedNanos ?? 0) >= cfg.creditsForHigherLimitNanos ? cfg.perDayWithCredits : cfg.perDay;
  const dayStart = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  // A window whose limit is 0 is refused before anything is counted: this reads the count only.
  const r = await app.store.hitCounters(`free:${key.hash}`, [{ name: 'day', startMs: dayStart, limit: 0 }]);
  const used = r.ok ? 0 : r.count;
  return { limit, used, remaining: Math.max(0, limit - used) };
}

export async function checkFreeTier(app: FreeTierDeps, key: ApiKeyRecord, candidates: readonly Candidate[]): Promise<void> {
  if (!candidates[0]?.model.id.endsWith(FREE_SUFFIX)) return;
  const cfg = app.settings.billing.freeModels;
  const account = await app.store.getAccount(key.accountId);
  const bought = (account?.purchasedNanos ?? 0) >= cfg.creditsForHigherLimitNanos;
  const perDay = bought ? cfg.perDayWithCredits : cfg.perDay;
  const now = Date.now();
  const minuteStart = Math.floor(now / 60_000) * 60_000;
  const dayStart = Math.floor(now / 86_400_000) * 86_400_000;
  const r = await app.store.hitCounters(`free:${key.hash}`, [
    { name: 'minute', startMs: minuteStart, limit: cfg.perMinute },
    { name: 'day', startMs: dayStart, limit: perDay },
  ]);
  if (r.ok) return;
  const perMinute = r.window === 'minute';
  const limit = perMinute ? cfg.perMinute : perDay;
  const resetMs = perMinute ? minuteStart + 60_000 : dayStart + 86_400_000;
  const retryAfter = Math.max(1, Math.ceil((resetMs - now) / 1000));
  const name = perMinute ? 'free-models-per-min' : bought ? 'free-models-per-day-high-balance' : 'free-models-per-day';
  const raise = perMinute
    ? `Wait ${retryAfter} s, or use the paid variant (drop ":free").`
    : bought
      ? `It resets at ${new Date(resetMs).toISOString()}; or use the paid variant (drop ":free").`
      : `Add $${formatScaled(BigInt(cfg.creditsForHigherLimitNanos), 9)} of credits to unlock ${cfg.perDayWithCredits} free model requests per day, or use the paid variant (drop ":free").`;
  const headers = {
    'X-RateLimit-Limit': String(limit),
    'X-RateLimit-Remaining': '0',
    'X-RateLimit-Reset': String(resetMs),
  };
  throw new GatewayError(
    'rate_limit_exceeded',
    `Rate limit exceeded: ${name} (${limit} requests per ${perMinute ? 'minute' : 'day'}). ${raise}`,
    {
      retryable: false,
      retryAfter,
      headers,
      metadata: { limit_source: name, headers },
    },
  );
}

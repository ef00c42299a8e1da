/**
 * How a key is shown: OpenRouter's KeyRecord (management API) and the `/key` view (the key itself).
 * Every field OpenRouter always sends is here, `null` where Freeway has no such thing (users,
 * organizations); its workspace — where a key spends — is Freeway's account.
 */
import type { App } from '../../app.ts';
import { nanosToUsd } from '../../spec/money.ts';
import { nextPeriodStart, periodStart } from '../../accounting/periods.ts';
import type { ApiKeyRecord } from '../../store/types.ts';

/** Spend today, this week, this month (UTC), from the generation records. */
async function periodUsage(app: App, k: ApiKeyRecord): Promise<{ daily: number; weekly: number; monthly: number }> {
  const now = new Date();
  const month = periodStart('monthly', now);
  const week = periodStart('weekly', now);
  const from = (month < week ? month : week).toISOString();
  const rows = await app.store.usage({ accountId: k.accountId, keyHash: k.hash, from, groupBy: ['day'] });
  const day = periodStart('daily', now).toISOString().slice(0, 10);
  const sum = (since: Date) => rows.filter((r) => (r.day ?? '') >= since.toISOString().slice(0, 10)).reduce((n, r) => n + r.costNanos, 0);
  return { daily: sum(new Date(`${day}T00:00:00Z`)), weekly: sum(week), monthly: sum(month) };
}

/** Limit left in the current period, in nano-dollars (a period that has rolled over starts afresh). */
export function remainingNanos(k: ApiKeyRecord, now = new Date()): number | null {
  if (k.limitNanos === null) return null;
  const rolled = k.limitReset !== null && (k.periodStart === null || k.periodStart < periodStart(k.limitReset, now).toISOString());
  return Math.max(0, k.limitNanos - (rolled ? 0 : k.usageNanos) - k.reservedNanos);
}

export async function keyRecord(app: App, k: ApiKeyRecord): Promise<Record<string, unknown>> {
  const u = await periodUsage(app, k);
  const remaining = remainingNanos(k);
  const requestsPerMinute = k.requestsPerMinute ?? app.settings.limits.perKey.requestsPerMinute ?? null;
  return {
    hash: k.hash,
    name: k.name,
    label: k.label,
    kind: k.kind,
    account: k.accountId,
    disabled: k.disabled,
    limit: k.limitNanos === null ? null : nanosToUsd(k.limitNanos),
    limit_remaining: remaining === null ? null : nanosToUsd(remaining),
    limit_reset: k.limitReset,
    limit_resets_at: k.limitReset ? nextPeriodStart(k.limitReset, new Date()).toISOString() : null,
    include_byok_in_limit: false,
    usage: nanosToUsd(k.usageTotalNanos),
    usage_daily: nanosToUsd(u.daily),
    usage_weekly: nanosToUsd(u.weekly),
    usage_monthly: nanosToUsd(u.monthly),
    byok_usage: 0,
    byok_usage_daily: 0,
    byok_usage_weekly: 0,
    byok_usage_monthly: 0,
    reserved: nanosToUsd(k.reservedNanos),
    // Content logging: the key's own setting (null: its account's).
    log_content: k.logContent ?? null,
    rate_limit: {
      requests_per_minute: requestsPerMinute,
      tokens_per_minute: k.tokensPerMinute ?? app.settings.limits.perKey.tokensPerMinute ?? null,
      // OpenRouter's deprecated shape, which its SDK still requires on `/key`; -1 is no limit.
      requests: requestsPerMinute ?? -1,
      interval: '1m',
      note: "Deprecated in OpenRouter's API; see requests_per_minute and tokens_per_minute.",
    },
    created_at: k.createdAt,
    updated_at: k.updatedAt,
    expires_at: k.expiresAt,
    creator_user_id: null,
    external_user: null,
    workspace_id: k.accountId,
  };
}

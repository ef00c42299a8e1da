/**
 * `GET /key` (also `/auth/key`): the calling key's own limit, usage, remaining credit and
 * free-tier state. An inference key sees only itself.
 */
import { freeRequestsToday } from '../../accounting/free-tier.ts';
import { hashKey } from '../../accounting/keys.ts';
import { GatewayError } from '../../spec/errors.ts';
import { bearerToken, isExpired } from '../auth.ts';
import { sendJson } from '../respond.ts';
import type { RouteContext } from '../server.ts';
import { keyAlertsView } from './alerts.ts';
import { keyRecord } from './key-view.ts';

export async function handleKeySelf(ctx: RouteContext): Promise<void> {
  const { app } = ctx;
  const token = bearerToken(ctx.req);
  if (!token) throw new GatewayError('authentication', 'Missing Authentication header', { retryable: false });
  const hash = hashKey(token);
  if (app.adminKeyHash === hash) {
    sendJson(ctx.res, 200, { data: adminView(app.settings.billing.freeModels.perDay) });
    return;
  }
  // Fresh from the store, not the auth cache: this is where people check what they have left.
  const k = await app.store.findKey(hash);
  if (!k || k.disabled || isExpired(k)) throw new GatewayError('authentication', 'Invalid API key', { retryable: false });
  const account = await app.store.getAccount(k.accountId);
  const free = app.settings.billing.freeModels;
  const today = await freeRequestsToday(app, k);
  const view = await keyRecord(app, k);
  sendJson(ctx.res, 200, {
    data: {
      ...view,
      is_free_tier: (account?.purchasedNanos ?? 0) === 0,
      is_management_key: k.kind === 'management',
      // Freeway's own: only the operator's FREEWAY_ADMIN_KEY is the admin (every account).
      is_admin: false,
      is_provisioning_key: k.kind === 'management',
      free_models: { requests_per_minute: free.perMinute, requests_per_day: today.limit },
      free_model_daily_requests: today,
      // Freeway routes to each provider's own (global) endpoints and has no organizations.
      allowed_data_regions: ['global'],
      organization_id: null,
      ...(await keyAlertsView(ctx, k)),
    },
  });
}

/** The admin key's own view, in the same shape: it manages, spends nothing and calls no model. */
function adminView(freePerDay: number): Record<string, unknown> {
  return {
    label: 'admin',
    is_management_key: true,
    is_admin: true,
    is_provisioning_key: true,
    is_free_tier: false,
    limit: null,
    limit_remaining: null,
    limit_reset: null,
    include_byok_in_limit: false,
    usage: 0,
    usage_daily: 0,
    usage_weekly: 0,
    usage_monthly: 0,
    byok_usage: 0,
    byok_usage_daily: 0,
    byok_usage_weekly: 0,
    byok_usage_monthly: 0,
    expires_at: null,
    creator_user_id: null,
    organization_id: null,
    workspace_id: null,
    allowed_data_regions: [],
    free_model_daily_requests: { limit: freePerDay, used: 0, remaining: freePerDay },
    rate_limit: { requests: -1, interval: '1m', note: "Deprecated in OpenRouter's API." },
  };
}

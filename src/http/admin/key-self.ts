/**
 * `GET /key` (also `/auth/key`): the calling key's own limit, usage, remaining credit and
 * free-tier state. An inference key sees only itself.
 */
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
    sendJson(ctx.res, 200, { data: { label: 'admin', is_management_key: true, is_provisioning_key: true, limit: null, usage: 0 } });
    return;
  }
  // Fresh from the store, not the auth cache: this is where people check what they have left.
  const k = await app.store.findKey(hash);
  if (!k || k.disabled || isExpired(k)) throw new GatewayError('authentication', 'Invalid API key', { retryable: false });
  const account = await app.store.getAccount(k.accountId);
  const free = app.settings.billing.freeModels;
  const bought = (account?.purchasedNanos ?? 0) >= free.creditsForHigherLimitNanos;
  const view = await keyRecord(app, k);
  sendJson(ctx.res, 200, {
    data: {
      ...view,
      is_free_tier: (account?.purchasedNanos ?? 0) === 0,
      is_management_key: k.kind === 'management',
      is_provisioning_key: k.kind === 'management',
      free_models: { requests_per_minute: free.perMinute, requests_per_day: bought ? free.perDayWithCredits : free.perDay },
      ...(await keyAlertsView(ctx, k)),
    },
  });
}

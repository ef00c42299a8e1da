/**
 * Credit alerts over HTTP. Management: `GET/POST /alerts`, `DELETE /alerts/{id}` (the admin any
 * account's, a management key its own account's). A key's owner: `POST /key/alerts` and
 * `DELETE /key/alerts/{id}` for its own key; `GET /key` shows them.
 */
import { randomUUID } from 'node:crypto';
import { thresholdView } from '../../accounting/alerts.ts';
import { WebhookRefused, WebhookUnresolved } from '../../accounting/webhook-target.ts';
import { hashKey } from '../../accounting/keys.ts';
import { MAX_AMOUNT_NANOS, parseUsd } from '../../spec/money-bounds.ts';
import { fail, num, obj, onlyKeys, str } from '../../spec/validate.ts';
import type { Obj } from '../../spec/validate.ts';
import { GatewayError } from '../../spec/errors.ts';
import type { AlertRecord, ApiKeyRecord } from '../../store/types.ts';
import { accountInScope, bearerToken, isExpired, requireManagementKey } from '../auth.ts';
import { readJson } from '../body.ts';
import { sendJson } from '../respond.ts';
import type { RouteContext } from '../server.ts';

/** Alerts per key, and per account on the account itself: each is evaluated after every charge. */
const MAX_ALERTS = 20;

export function alertView(a: AlertRecord): Record<string, unknown> {
  return {
    id: a.id,
    account: a.accountId,
    key_hash: a.keyHash,
    threshold: thresholdView(a),
    webhook_url: a.webhookUrl,
    fired: a.firedAt !== null,
    fired_at: a.firedAt,
    created_at: a.createdAt,
  };
}

function threshold(body: Obj): Pick<AlertRecord, 'thresholdKind' | 'thresholdValue'> {
  const { threshold_usd: usd, threshold_percent: percent } = body;
  if (usd !== undefined && percent !== undefined) fail('threshold_percent', 'give threshold_usd or threshold_percent, not both');
  if (usd !== undefined)
    return { thresholdKind: 'usd', thresholdValue: parseUsd(usd, 'threshold_usd', { minNanos: 0, maxNanos: MAX_AMOUNT_NANOS }) };
  if (percent !== undefined)
    return { thresholdKind: 'percent', thresholdValue: Math.round(num(percent, 'threshold_percent', 0, 100) * 100) };
  return fail('threshold_usd', 'required: the dollars left (threshold_usd) or the percent left (threshold_percent) at which to alert');
}

/**
 * An alert's own webhook: checked as its delivery will be (public addresses only, unless the
 * operator allows the host), so a tenant cannot point Freeway at its own network. The 400 names
 * the host and why, never the rest of the URL (paths often carry tokens).
 */
async function webhookUrl(ctx: RouteContext, v: unknown): Promise<string | null> {
  if (v === undefined || v === null) return null;
  const s = str(v, 'webhook_url');
  try {
    await ctx.app.alerts.checkWebhook(s);
  } catch (err) {
    if (err instanceof WebhookRefused) fail('webhook_url', err.message);
    if (err instanceof WebhookUnresolved) fail('webhook_url', `${err.message}; a webhook must name a host that resolves`);
    throw err;
  }
  return s;
}

const noLimit = (param: string, k: ApiKeyRecord): never =>
  fail(param, `key ${k.hash} has no credit limit, so it has nothing to run low on; set a limit first (PATCH /api/v1/keys/${k.hash})`);

/** Checks the body, then the count, then stores the alert. */
async function create(ctx: RouteContext, body: Obj, accountId: string, key: ApiKeyRecord | null): Promise<void> {
  const t = threshold(body);
  const hook = await webhookUrl(ctx, body.webhook_url);
  const existing = (await ctx.app.store.listAlerts(accountId, key?.hash)).filter((a) => key !== null || a.keyHash === null);
  if (existing.length >= MAX_ALERTS) fail(key ? 'key_hash' : 'account', `already has ${MAX_ALERTS} alerts; delete one first`);
  const a: AlertRecord = {
    id: `alert_${randomUUID()}`,
    accountId,
    keyHash: key?.hash ?? null,
    ...t,
    webhookUrl: hook,
    firedAt: null,
    createdAt: new Date().toISOString(),
  };
  await ctx.app.store.createAlert(a);
  ctx.app.alerts.created(a.accountId);
  sendJson(ctx.res, 201, { data: alertView(a) });
}

export async function handleCreateAlert(ctx: RouteContext): Promise<void> {
  const scope = await requireManagementKey(ctx.app, ctx.req);
  const body = obj(await readJson(ctx.req, 16 * 1024), 'body');
  onlyKeys(body, 'body', new Set(['account', 'key_hash', 'threshold_usd', 'threshold_percent', 'webhook_url']));
  const requested = body.account === undefined ? undefined : str(body.account, 'account');
  if (body.key_hash !== undefined && body.key_hash !== null) {
    const hash = str(body.key_hash, 'key_hash');
    const k = await ctx.app.store.findKey(hash);
    if (!k || (!scope.admin && k.accountId !== scope.accountId))
      throw new GatewayError('not_found', `No key with hash ${hash}`, { retryable: false });
    if (requested !== undefined && requested !== k.accountId)
      fail('account', `key ${hash} belongs to account ${k.accountId}, not ${requested}`);
    if (k.kind !== 'inference') fail('key_hash', 'is a management key, which spends no credit');
    if (k.limitNanos === null) noLimit('key_hash', k);
    await create(ctx, body, k.accountId, k);
    return;
  }
  const accountId = accountInScope(scope, requested);
  const account = await ctx.app.store.getAccount(accountId);
  if (!account) throw new GatewayError('not_found', `No account ${accountId}`, { retryable: false });
  if (!account.prepaid) {
    fail(
      'account',
      `account ${accountId} is postpaid (it runs a tab, so it has no credit to run low on); alert on a key's limit instead (key_hash)`,
    );
  }
  await create(ctx, body, accountId, null);
}

export async function handleListAlerts(ctx: RouteContext): Promise<void> {
  const scope = await requireManagementKey(ctx.app, ctx.req);
  const accountId = accountInScope(scope, ctx.url.searchParams.get('account'));
  const alerts = await ctx.app.store.listAlerts(accountId, ctx.url.searchParams.get('key_hash') ?? undefined);
  sendJson(ctx.res, 200, { data: alerts.map(alertView) });
}

export async function handleDeleteAlert(ctx: RouteContext): Promise<void> {
  const scope = await requireManagementKey(ctx.app, ctx.req);
  const a = await ctx.app.store.getAlert(ctx.params.id);
  if (!a || (!scope.admin && a.accountId !== scope.accountId))
    throw new GatewayError('not_found', `No alert ${ctx.params.id}`, { retryable: false });
  await ctx.app.store.deleteAlert(a.id);
  sendJson(ctx.res, 200, { deleted: true });
}

/** The calling inference key, fresh from the store (its limit may have just changed). */
async function ownKey(ctx: RouteContext): Promise<ApiKeyRecord> {
  const token = bearerToken(ctx.req);
  if (!token) throw new GatewayError('authentication', 'Missing Authentication header', { retryable: false });
  const hash = hashKey(token);
  if (hash === ctx.app.adminKeyHash) {
    throw new GatewayError('permission_denied', 'The admin key has no credit of its own; create alerts with POST /api/v1/alerts', {
      retryable: false,
    });
  }
  const k = await ctx.app.store.findKey(hash);
  if (!k || k.disabled || isExpired(k)) throw new GatewayError('authentication', 'Invalid API key', { retryable: false });
  if (k.kind !== 'inference') {
    throw new GatewayError('permission_denied', 'Management keys spend no credit; create alerts with POST /api/v1/alerts', {
      retryable: false,
    });
  }
  return k;
}

export async function handleCreateOwnAlert(ctx: RouteContext): Promise<void> {
  const k = await ownKey(ctx);
  const body = obj(await readJson(ctx.req, 16 * 1024), 'body');
  onlyKeys(body, 'body', new Set(['threshold_usd', 'threshold_percent', 'webhook_url']));
  if (k.limitNanos === null) noLimit('limit', k);
  await create(ctx, body, k.accountId, k);
}

export async function handleDeleteOwnAlert(ctx: RouteContext): Promise<void> {
  const k = await ownKey(ctx);
  const a = await ctx.app.store.getAlert(ctx.params.id);
  if (!a || a.keyHash !== k.hash) throw new GatewayError('not_found', `No alert ${ctx.params.id} on this key`, { retryable: false });
  await ctx.app.store.deleteAlert(a.id);
  sendJson(ctx.res, 200, { deleted: true });
}

/** What `GET /key` shows: the alerts watching this key's credit (its own, and its account's). */
export async function keyAlertsView(ctx: RouteContext, k: ApiKeyRecord): Promise<{ alerts: unknown[]; credit_alert: boolean }> {
  const alerts = (await ctx.app.store.listAlerts(k.accountId)).filter((a) => a.keyHash === k.hash || a.keyHash === null);
  return {
    alerts: alerts.map((a) => ({
      id: a.id,
      scope: a.keyHash ? 'key' : 'account',
      threshold: thresholdView(a),
      fired: a.firedAt !== null,
      fired_at: a.firedAt,
    })),
    credit_alert: alerts.some((a) => a.firedAt !== null),
  };
}

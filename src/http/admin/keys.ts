/**
 * Key management, OpenRouter's provisioning shape: `GET/POST /keys`, `GET/PATCH/DELETE /keys/{hash}`.
 * The admin key manages every account's keys (`account` parameter); a management key its own.
 */
import { createKey } from '../../accounting/keys.ts';
import { MAX_AMOUNT_NANOS, MAX_PER_MINUTE, parseUsd } from '../../spec/money-bounds.ts';
import { bool, fail, int, isoDate, obj, oneOf, onlyKeys, str } from '../../spec/validate.ts';
import type { Obj } from '../../spec/validate.ts';
import { GatewayError } from '../../spec/errors.ts';
import type { KeyPatch, LimitReset } from '../../store/types.ts';
import { accountInScope, requireManagementKey } from '../auth.ts';
import type { ManagementScope } from '../auth.ts';
import { readJson } from '../body.ts';
import { sendJson } from '../respond.ts';
import type { RouteContext } from '../server.ts';
import { keyRecord } from './key-view.ts';

const RESETS = ['daily', 'weekly', 'monthly'] as const;

/** A key's name, the same rule on create and rename (a rename to "" or 100 KB would be kept otherwise). */
function keyName(v: unknown): string {
  const name = str(v, 'name').trim();
  if (name.length === 0 || name.length > 200) fail('name', 'must be 1-200 characters');
  return name;
}

function limitNanos(v: unknown): number | null {
  if (v === null) return null;
  if (typeof v !== 'number') fail('limit', 'must be a non-negative number of USD, or null (no limit)');
  return parseUsd(v, 'limit', { minNanos: 0, maxNanos: MAX_AMOUNT_NANOS });
}

function limitReset(v: unknown): LimitReset | null {
  return v === null ? null : oneOf(v, 'limit_reset', RESETS);
}

function perMinute(v: unknown, param: string): number | null {
  return v === null ? null : int(v, param, 1, MAX_PER_MINUTE);
}

function expiresAt(v: unknown): string | null {
  if (v === null) return null;
  return new Date(isoDate(str(v, 'expires_at'), 'expires_at', 'an ISO 8601 date-time')).toISOString();
}

async function keyInScope(ctx: RouteContext, scope: ManagementScope) {
  const k = await ctx.app.store.findKey(ctx.params.hash);
  if (!k || (!scope.admin && k.accountId !== scope.accountId)) {
    throw new GatewayError('not_found', `No key with hash ${ctx.params.hash}`, { retryable: false });
  }
  return k;
}

export async function handleListKeys(ctx: RouteContext): Promise<void> {
  const scope = await requireManagementKey(ctx.app, ctx.req);
  const accountId = accountInScope(scope, ctx.url.searchParams.get('account'));
  const offset = Number(ctx.url.searchParams.get('offset') ?? 0);
  // A safe integer: the store cannot take 1e308 as an offset.
  if (!Number.isSafeInteger(offset) || offset < 0) fail('offset', 'must be a non-negative integer');
  const includeDisabled = ctx.url.searchParams.get('include_disabled') === 'true';
  const keys = await ctx.app.store.listKeys({ accountId, offset, limit: 100 });
  const shown = keys.filter((k) => includeDisabled || !k.disabled);
  sendJson(ctx.res, 200, { data: await Promise.all(shown.map((k) => keyRecord(ctx.app, k))) });
}

export async function handleCreateKey(ctx: RouteContext): Promise<void> {
  const scope = await requireManagementKey(ctx.app, ctx.req);
  const body = obj(await readJson(ctx.req, 64 * 1024), 'body');
  onlyKeys(
    body,
    'body',
    new Set([
      'name',
      'limit',
      'limit_reset',
      'expires_at',
      'account',
      'kind',
      'include_byok_in_limit',
      'creator_user_id',
      'workspace_id',
      'requests_per_minute',
      'tokens_per_minute',
    ]),
  );
  const name = keyName(body.name);
  const accountId = accountInScope(scope, body.account === undefined ? undefined : str(body.account, 'account'));
  if (!(await ctx.app.store.getAccount(accountId))) throw new GatewayError('not_found', `No account ${accountId}`, { retryable: false });
  const kind = body.kind === undefined ? 'inference' : oneOf(body.kind, 'kind', ['inference', 'management'] as const);
  const { key, record } = await createKey(ctx.app.store, {
    name,
    kind,
    accountId,
    limitNanos: body.limit === undefined ? null : limitNanos(body.limit),
    limitReset: body.limit_reset === undefined ? null : limitReset(body.limit_reset),
    expiresAt: body.expires_at === undefined ? null : expiresAt(body.expires_at),
    requestsPerMinute: body.requests_per_minute === undefined ? null : perMinute(body.requests_per_minute, 'requests_per_minute'),
    tokensPerMinute: body.tokens_per_minute === undefined ? null : perMinute(body.tokens_per_minute, 'tokens_per_minute'),
  });
  sendJson(ctx.res, 201, { key, data: await keyRecord(ctx.app, record) });
}

export async function handleGetKey(ctx: RouteContext): Promise<void> {
  const scope = await requireManagementKey(ctx.app, ctx.req);
  sendJson(ctx.res, 200, { data: await keyRecord(ctx.app, await keyInScope(ctx, scope)) });
}

export async function handleUpdateKey(ctx: RouteContext): Promise<void> {
  const scope = await requireManagementKey(ctx.app, ctx.req);
  const k = await keyInScope(ctx, scope);
  const body: Obj = obj(await readJson(ctx.req, 64 * 1024), 'body');
  onlyKeys(
    body,
    'body',
    new Set([
      'name',
      'disabled',
      'limit',
      'limit_reset',
      'expires_at',
      'include_byok_in_limit',
      'requests_per_minute',
      'tokens_per_minute',
      'log_content',
    ]),
  );
  const patch: KeyPatch = {};
  if (body.name !== undefined) patch.name = keyName(body.name);
  if (body.disabled !== undefined) patch.disabled = bool(body.disabled, 'disabled');
  if (body.limit !== undefined) patch.limitNanos = limitNanos(body.limit);
  if (body.limit_reset !== undefined) patch.limitReset = limitReset(body.limit_reset);
  if (body.expires_at !== undefined) patch.expiresAt = expiresAt(body.expires_at);
  if (body.requests_per_minute !== undefined) patch.requestsPerMinute = perMinute(body.requests_per_minute, 'requests_per_minute');
  if (body.tokens_per_minute !== undefined) patch.tokensPerMinute = perMinute(body.tokens_per_minute, 'tokens_per_minute');
  // Content logging: true or false for this key, null for its account's setting.
  if (body.log_content !== undefined) patch.logContent = body.log_content === null ? null : bool(body.log_content, 'log_content');
  const updated = await ctx.app.store.updateKey(k.hash, patch, new Date());
  ctx.app.keys.forget(k.hash);
  // A new limit may re-arm (or cross) the key's credit alerts.
  if ('limitNanos' in patch || 'limitReset' in patch) ctx.app.alerts.check(k.accountId);
  sendJson(ctx.res, 200, { data: await keyRecord(ctx.app, updated!) });
}

export async function handleDeleteKey(ctx: RouteContext): Promise<void> {
  const scope = await requireManagementKey(ctx.app, ctx.req);
  const k = await keyInScope(ctx, scope);
  await ctx.app.store.deleteKey(k.hash);
  ctx.app.keys.forget(k.hash);
  sendJson(ctx.res, 200, { deleted: true });
}

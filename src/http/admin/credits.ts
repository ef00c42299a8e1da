/**
 * Credits and usage: `GET /credits` (OpenRouter's shape), `POST /credits` (top-up, refund or
 * adjustment), `GET /usage` (by day, model, provider, key, app and user), `GET/POST /accounts`,
 * `PATCH /accounts/{id}` (content logging).
 */
import { randomUUID } from 'node:crypto';
import { MAX_AMOUNT_NANOS, parseUsd } from '../../spec/money-bounds.ts';
import { nanosToUsd } from '../../spec/money.ts';
import { bool, isoDate, fail, obj, oneOf, onlyKeys, str } from '../../spec/validate.ts';
import { GatewayError } from '../../spec/errors.ts';
import type { Account, LedgerKind, LedgerPage, UsageDimension } from '../../store/types.ts';
import { accountInScope, bearerToken, requireInferenceKey, requireManagementKey } from '../auth.ts';
import { readJson } from '../body.ts';
import { decodeCursor, encodeCursor } from '../page-cursor.ts';
import { sendJson } from '../respond.ts';
import type { RouteContext } from '../server.ts';
import { hashKey } from '../../accounting/keys.ts';

export function accountView(a: Account, totals: { credits: number; charges: number }): Record<string, unknown> {
  return {
    id: a.id,
    name: a.name,
    prepaid: a.prepaid,
    balance: nanosToUsd(a.balanceNanos),
    reserved: nanosToUsd(a.reservedNanos),
    available: nanosToUsd(a.balanceNanos - a.reservedNanos),
    purchased: nanosToUsd(a.purchasedNanos),
    log_content: a.logContent ?? false,
    total_credits: nanosToUsd(totals.credits),
    total_usage: nanosToUsd(totals.charges),
    created_at: a.createdAt,
  };
}

const LEDGER_KINDS: readonly LedgerKind[] = ['topup', 'charge', 'refund', 'adjustment'];

/** The account a credits/usage call is about: a management caller's choice, or an inference key's own. */
async function callerAccount(ctx: RouteContext): Promise<string> {
  const token = bearerToken(ctx.req);
  const rec = token ? await ctx.app.keys.lookup(hashKey(token)) : undefined;
  if (rec?.kind === 'inference') return (await requireInferenceKey(ctx.app, ctx.req)).accountId;
  return accountInScope(await requireManagementKey(ctx.app, ctx.req), ctx.url.searchParams.get('account'));
}

async function getAccountOr404(ctx: RouteContext, id: string): Promise<Account> {
  const a = await ctx.app.store.getAccount(id);
  if (!a) throw new GatewayError('not_found', `No account ${id}`, { retryable: false });
  return a;
}

export async function handleGetCredits(ctx: RouteContext): Promise<void> {
  const id = await callerAccount(ctx);
  const a = await getAccountOr404(ctx, id);
  const totals = await ctx.app.store.ledgerTotals(id);
  // OpenRouter's identity: balance = total_credits - total_usage.
  sendJson(ctx.res, 200, {
    data: { total_credits: nanosToUsd(totals.credits), total_usage: nanosToUsd(totals.charges), ...accountView(a, totals) },
  });
}

export async function handleAddCredits(ctx: RouteContext): Promise<void> {
  const scope = await requireManagementKey(ctx.app, ctx.req);
  if (!scope.admin) throw new GatewayError('permission_denied', 'Only the admin key can add credits', { retryable: false });
  const body = obj(await readJson(ctx.req, 16 * 1024), 'body');
  onlyKeys(body, 'body', new Set(['account', 'amount', 'kind', 'note', 'id']));
  const accountId = accountInScope(scope, body.account === undefined ? undefined : str(body.account, 'account'));
  await getAccountOr404(ctx, accountId);
  const kind = body.kind === undefined ? 'topup' : oneOf(body.kind, 'kind', ['topup', 'refund', 'adjustment'] as const);
  // Exact nanos within the bound on a single amount; the store refuses one that would take the balance past its own.
  const nanos = parseUsd(body.amount, 'amount', {
    minNanos: kind === 'adjustment' ? -MAX_AMOUNT_NANOS : 0,
    maxNanos: MAX_AMOUNT_NANOS,
    nonZero: true,
  });
  // A caller-supplied id makes the top-up idempotent (retries do not credit twice).
  const id = body.id === undefined ? `${kind}-${randomUUID()}` : str(body.id, 'id');
  const credited = await ctx.app.store.credit({
    id,
    accountId,
    kind,
    amountNanos: nanos,
    note: body.note === undefined ? undefined : str(body.note, 'note'),
    now: new Date(),
  });
  if (credited) ctx.app.alerts.check(accountId);
  const a = await getAccountOr404(ctx, accountId);
  sendJson(ctx.res, credited ? 201 : 200, { credited, data: accountView(a, await ctx.app.store.ledgerTotals(accountId)) });
}

const DIMENSIONS = ['day', 'hour', 'model', 'provider', 'key', 'app', 'user'] as const;

/** Whose usage: a management caller's account (and any key of it), or an inference key's own (its key only). */
async function usageScope(ctx: RouteContext, p: URLSearchParams): Promise<{ accountId: string; keyHash?: string }> {
  const token = bearerToken(ctx.req);
  const rec = token ? await ctx.app.keys.lookup(hashKey(token)) : undefined;
  if (rec?.kind === 'inference') {
    const k = await requireInferenceKey(ctx.app, ctx.req);
    const asked = p.get('key');
    if (asked !== null && asked !== k.hash)
      throw new GatewayError('permission_denied', 'An inference key sees only its own usage', { retryable: false });
    const account = p.get('account');
    if (account !== null && account !== k.accountId)
      throw new GatewayError('permission_denied', `This key cannot see account ${account}`, { retryable: false });
    return { accountId: k.accountId, keyHash: k.hash };
  }
  const accountId = accountInScope(await requireManagementKey(ctx.app, ctx.req), p.get('account'));
  return { accountId, keyHash: p.get('key') ?? undefined };
}

export async function handleUsage(ctx: RouteContext): Promise<void> {
  const p = ctx.url.searchParams;
  const { accountId, keyHash } = await usageScope(ctx, p);
  const groupBy = (p.get('group_by') ?? 'day')
    .split(',')
    .filter(Boolean)
    .map((g) => oneOf(g, 'group_by', DIMENSIONS) as UsageDimension);
  const date = (name: string) => {
    const v = p.get(name);
    if (v === null) return undefined;
    return new Date(isoDate(v, name)).toISOString();
  };
  await ctx.app.generations.flush();
  const rows = await ctx.app.store.usage({ accountId, keyHash, from: date('from'), to: date('to'), groupBy });
  sendJson(ctx.res, 200, {
    data: rows.map((r) => ({
      ...(r.day !== undefined ? { date: r.day } : {}),
      // The UTC hour, as `YYYY-MM-DDTHH`.
      ...(r.hour !== undefined ? { hour: r.hour } : {}),
      ...(r.model !== undefined ? { model: r.model } : {}),
      ...(r.provider !== undefined ? { provider: r.provider } : {}),
      ...(r.keyHash !== undefined ? { key_hash: r.keyHash } : {}),
      // null: the requests that named no app (no X-Title) or no user.
      ...(r.app !== undefined ? { app: r.app } : {}),
      ...(r.user !== undefined ? { user: r.user } : {}),
      requests: r.requests,
      prompt_tokens: r.tokensPrompt,
      completion_tokens: r.tokensCompletion,
      cached_tokens: r.tokensCached,
      reasoning_tokens: r.tokensReasoning,
      usage: nanosToUsd(r.costNanos),
    })),
  });
}

export async function handleListAccounts(ctx: RouteContext): Promise<void> {
  const scope = await requireManagementKey(ctx.app, ctx.req);
  const all = scope.admin ? await ctx.app.store.listAccounts() : [await getAccountOr404(ctx, scope.accountId!)];
  sendJson(ctx.res, 200, { data: await Promise.all(all.map(async (a) => accountView(a, await ctx.app.store.ledgerTotals(a.id)))) });
}

/** `PATCH /accounts/{id}`: content logging for the account's keys (`log_content`); the admin any account, a management key its own. */
export async function handleUpdateAccount(ctx: RouteContext): Promise<void> {
  const scope = await requireManagementKey(ctx.app, ctx.req);
  const id = accountInScope(scope, ctx.params.id);
  const body = obj(await readJson(ctx.req, 16 * 1024), 'body');
  onlyKeys(body, 'body', new Set(['log_content']));
  if (body.log_content !== undefined) {
    if (!(await ctx.app.store.setAccountLogContent(id, bool(body.log_content, 'log_content')))) await getAccountOr404(ctx, id);
    // The keys this process has cached carry the old setting.
    ctx.app.keys.forgetAccount(id);
  }
  const a = await getAccountOr404(ctx, id);
  sendJson(ctx.res, 200, { data: accountView(a, await ctx.app.store.ledgerTotals(id)) });
}

export async function handleCreateAccount(ctx: RouteContext): Promise<void> {
  const scope = await requireManagementKey(ctx.app, ctx.req);
  if (!scope.admin) throw new GatewayError('permission_denied', 'Only the admin key can create accounts', { retryable: false });
  const body = obj(await readJson(ctx.req, 16 * 1024), 'body');
  onlyKeys(body, 'body', new Set(['id', 'name', 'prepaid']));
  const id = str(body.id, 'id');
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(id)) fail('id', 'must be a lowercase slug (a-z, 0-9, _ and -), at most 64 characters');
  if (await ctx.app.store.getAccount(id))
    throw new GatewayError('invalid_request', `Account ${id} already exists`, { status: 409, retryable: false });
  const a = await ctx.app.store.createAccount({
    id,
    name: body.name === undefined ? id : str(body.name, 'name'),
    prepaid: body.prepaid === undefined ? true : bool(body.prepaid, 'prepaid'),
    now: new Date(),
  });
  sendJson(ctx.res, 201, { data: accountView(a, { credits: 0, charges: 0 }) });
}

/**
 * `GET /credits/ledger`: an account's ledger movements, newest first, a page at a time (`limit`,
 * default 100, at most 500; `cursor` is the previous page's `next_cursor`; `kind` keeps one kind) —
 * top-ups, refunds, adjustments and per-request charges (upstream cost and fee apart).
 */
export async function handleLedger(ctx: RouteContext): Promise<void> {
  const scope = await requireManagementKey(ctx.app, ctx.req);
  const p = ctx.url.searchParams;
  const accountId = accountInScope(scope, p.get('account'));
  await getAccountOr404(ctx, accountId);
  const raw = p.get('limit');
  const limit = raw === null ? 100 : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) fail('limit', 'must be an integer from 1 to 500');
  const cursor = p.get('cursor');
  const kind = p.get('kind');
  const page: LedgerPage = {
    before: cursor === null ? undefined : decodeCursor(cursor),
    kind: kind === null ? undefined : oneOf(kind, 'kind', LEDGER_KINDS),
  };
  // One row more than the page says whether there is a next page.
  const rows = await ctx.app.store.ledger(accountId, limit + 1, page);
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  sendJson(ctx.res, 200, {
    next_cursor: rows.length > limit && last ? encodeCursor(last) : null,
    data: shown.map((e) => ({
      id: e.id,
      kind: e.kind,
      amount: nanosToUsd(e.amountNanos),
      upstream: e.upstreamNanos === null ? null : nanosToUsd(e.upstreamNanos),
      fee: e.feeNanos === null ? null : nanosToUsd(e.feeNanos),
      key_hash: e.keyHash,
      note: e.note,
      created_at: e.createdAt,
    })),
  });
}

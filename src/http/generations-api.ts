/**
 * The generation log: `GET /generations` (a filtered, cursor-paged list, newest first) and
 * OpenRouter's `GET /activity` (daily totals by model and endpoint). An inference key sees its own
 * generations only; a management key its account's; the admin key every account's.
 */
import { hashKey } from '../accounting/keys.ts';
import { nanosToUsd } from '../spec/money.ts';
import { renderGeneration } from '../doors/openai/generation.ts';
import { fail, int, isoDate, oneOf } from '../spec/validate.ts';
import { GatewayError } from '../spec/errors.ts';
import type { GenerationQuery, GenerationStatus } from '../store/types.ts';
import { accountInScope, bearerToken, requireInferenceKey, requireManagementKey } from './auth.ts';
import { decodeCursor, encodeCursor } from './page-cursor.ts';
import { sendJson } from './respond.ts';
import type { RouteContext } from './server.ts';

/** What a caller may see: one key's generations, one account's, or (admin) all. */
interface Visibility {
  accountId?: string;
  keyHash?: string;
}

async function visibility(ctx: RouteContext, p: URLSearchParams): Promise<Visibility> {
  const token = bearerToken(ctx.req);
  const rec = token ? await ctx.app.keys.lookup(hashKey(token)) : undefined;
  if (rec?.kind === 'inference') {
    const key = await requireInferenceKey(ctx.app, ctx.req);
    const asked = one(p, 'key');
    // Another key's generations are not this key's to see, whether or not they exist.
    if (asked !== undefined && asked !== key.hash) {
      throw new GatewayError('permission_denied', 'An inference key sees only its own generations', { retryable: false });
    }
    const account = one(p, 'account');
    if (account !== undefined && account !== key.accountId) {
      throw new GatewayError('permission_denied', `This key cannot see account ${account}`, { retryable: false });
    }
    return { accountId: key.accountId, keyHash: key.hash };
  }
  const scope = await requireManagementKey(ctx.app, ctx.req);
  const account = one(p, 'account');
  const keyHash = one(p, 'key');
  let accountId: string | undefined;
  if (!scope.admin || account !== undefined) accountId = accountInScope(scope, account);
  // The admin without `account` sees every account; asking for one key, that key's (which the indexes lead with).
  else if (keyHash !== undefined) accountId = (await ctx.app.keys.lookup(keyHash))?.accountId;
  return { ...(accountId !== undefined ? { accountId } : {}), ...(keyHash !== undefined ? { keyHash } : {}) };
}

const LIST_PARAMS = new Set(['key', 'account', 'model', 'provider', 'status', 'app', 'user', 'from', 'to', 'limit', 'cursor']);
const STATUSES: readonly GenerationStatus[] = ['success', 'error', 'cancelled'];
export const MAX_PAGE = 500;

function onlyParams(p: URLSearchParams, allowed: ReadonlySet<string>): void {
  for (const name of p.keys()) {
    if (!allowed.has(name)) fail(name, `unknown query parameter; expected one of ${[...allowed].join(', ')}`);
  }
}

function one(p: URLSearchParams, name: string): string | undefined {
  const all = p.getAll(name);
  if (all.length > 1) fail(name, 'may be given once');
  if (all.length === 1 && all[0] === '') fail(name, 'must not be empty');
  return all[0];
}

function time(p: URLSearchParams, name: string): string | undefined {
  const v = one(p, name);
  if (v === undefined) return undefined;
  return new Date(isoDate(v, name)).toISOString();
}

export async function handleListGenerations(ctx: RouteContext): Promise<void> {
  const p = ctx.url.searchParams;
  const seen = await visibility(ctx, p);
  onlyParams(p, LIST_PARAMS);
  const status = one(p, 'status');
  const limitRaw = one(p, 'limit');
  const cursor = one(p, 'cursor');
  const q: GenerationQuery = {
    ...seen,
    model: one(p, 'model'),
    providerId: one(p, 'provider'),
    status: status === undefined ? undefined : oneOf(status, 'status', STATUSES),
    appTitle: one(p, 'app'),
    user: one(p, 'user'),
    from: time(p, 'from'),
    to: time(p, 'to'),
    before: cursor === undefined ? undefined : decodeCursor(cursor),
    limit: limitRaw === undefined ? 50 : int(/^\d{1,4}$/.test(limitRaw) ? Number(limitRaw) : NaN, 'limit', 1, MAX_PAGE),
  };
  // Generations still in the write buffer are listed too.
  await ctx.app.generations.flush();
  // One row more than the page says whether there is a next page.
  const rows = await ctx.app.store.listGenerations({ ...q, limit: q.limit + 1 });
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  sendJson(ctx.res, 200, {
    data: page.map(renderGeneration),
    next_cursor: rows.length > q.limit && last ? encodeCursor(last) : null,
  });
}

const ACTIVITY_PARAMS = new Set(['date', 'api_key_hash', 'user_id', 'account']);
const DAY_MS = 86_400_000;

/**
 * OpenRouter's `/activity`: the last 30 completed UTC days (or one of them, `date`), one row per
 * day, model and endpoint. Like OpenRouter it needs a management key; `account` picks the admin's.
 */
export async function handleActivity(ctx: RouteContext): Promise<void> {
  const scope = await requireManagementKey(ctx.app, ctx.req);
  const p = ctx.url.searchParams;
  onlyParams(p, ACTIVITY_PARAMS);
  const accountId = accountInScope(scope, one(p, 'account'));
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const first = today - 30 * DAY_MS;
  let from = new Date(first).toISOString();
  let to = new Date(today).toISOString();
  const date = one(p, 'date');
  if (date !== undefined) {
    const ms = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T00:00:00Z`) : NaN;
    if (Number.isNaN(ms)) fail('date', 'must be a day, YYYY-MM-DD');
    if (ms < first || ms >= today) fail('date', 'must be one of the last 30 completed UTC days');
    from = new Date(ms).toISOString();
    to = new Date(ms + DAY_MS).toISOString();
  }
  await ctx.app.generations.flush();
  const rows = await ctx.app.store.activity({ accountId, keyHash: one(p, 'api_key_hash'), user: one(p, 'user_id'), from, to });
  sendJson(ctx.res, 200, {
    data: rows.map((r) => ({
      date: r.day,
      model: r.model,
      // Freeway's catalog ids carry no version date: the permaslug is the id.
      model_permaslug: r.model,
      // The endpoint as Freeway names it everywhere (router/types.ts endpointKey).
      endpoint_id: `${r.providerId}:${r.upstreamModel}`,
      provider_name: r.providerName,
      usage: nanosToUsd(r.costNanos),
      byok_usage_inference: 0,
      requests: r.requests,
      prompt_tokens: r.tokensPrompt,
      completion_tokens: r.tokensCompletion,
      reasoning_tokens: r.tokensReasoning,
    })),
  });
}

/**
 * `GET /generation/content?id=`: what a logged generation said (OpenRouter's shape), for whoever
 * may see the generation. None was logged (logging was off, or its retention passed): 404.
 */
export async function handleGenerationContent(ctx: RouteContext): Promise<void> {
  const p = ctx.url.searchParams;
  const id = p.get('id');
  const seen = await visibility(ctx, new URLSearchParams());
  if (!id) fail('id', 'query parameter is required');
  const c = await ctx.app.content.get(id);
  const visible = (x: { accountId: string; keyHash: string }) =>
    (seen.accountId === undefined || x.accountId === seen.accountId) && (seen.keyHash === undefined || x.keyHash === seen.keyHash);
  // Another's content is indistinguishable from none.
  if (!c || !visible(c)) {
    const why = 'content logging is off for its key, or its retention passed';
    throw new GatewayError('not_found', `No content was logged for generation ${id} (${why})`, { retryable: false });
  }
  const g = await ctx.app.generations.get(id);
  sendJson(ctx.res, 200, {
    data: {
      input: c.input,
      output: { completion: c.output.completion, reasoning: c.output.reasoning },
      // Freeway's own: the answer was longer than what content logging keeps.
      truncated: c.output.truncated,
      error: g?.error ? { message: g.error, previous_errors: [], provider_name: g.providerName, raw: null, status: null } : null,
    },
  });
}

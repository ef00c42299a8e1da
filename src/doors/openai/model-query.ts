/**
 * The catalog's query language, as OpenRouter's `GET /models` speaks it: one parser and one filter
 * for every catalog route (`/models`, `/models/count`, `/models/user`, `/embeddings/models`), so a
 * count always agrees with the list it counts.
 *
 * Strict in: an unknown parameter, a value outside OpenRouter's vocabulary or a malformed number is
 * a 400 naming the parameter; a filter OpenRouter has that Freeway has no data for is a 400 that
 * says so, rather than a list that silently ignored it.
 */
import { withFee } from '../../accounting/billing.ts';
import { usdPerMillionToFemto } from '../../spec/money.ts';
import type { CatalogModel, Endpoint } from '../../catalog/types.ts';
import { providerMatches } from '../../router/plan/filters.ts';
import { modelSupportedParameters } from '../../router/plan/parameters.ts';
import type { RouteHealth } from '../../router/plan/plan.ts';
import { endpointKey } from '../../catalog/endpoint-key.ts';
import { fail } from '../../spec/validate.ts';
import { isRouterRow } from './router-models.ts';

export const SORTS = [
  'most-popular',
  'newest',
  'top-weekly',
  'pricing-low-to-high',
  'pricing-high-to-low',
  'context-high-to-low',
  'throughput-high-to-low',
  'latency-low-to-high',
  'intelligence-high-to-low',
  'coding-high-to-low',
  'agentic-high-to-low',
  'design-arena-elo-high-to-low',
] as const;
export type ModelSort = (typeof SORTS)[number];

export const CATEGORIES = [
  'programming',
  'roleplay',
  'marketing',
  'marketing/seo',
  'technology',
  'science',
  'translation',
  'legal',
  'finance',
  'health',
  'trivia',
  'academia',
] as const;

const OUTPUT_MODALITIES = ['text', 'image', 'embeddings', 'audio', 'video', 'rerank', 'speech', 'transcription', 'decisions'];
const INPUT_MODALITIES = ['text', 'image', 'audio', 'file', 'video'];

/** OpenRouter's limit when a page is asked for without one, and the most one page may hold. */
export const DEFAULT_LIMIT = 500;
export const MAX_LIMIT = 1000;

/** OpenRouter filters whose data Freeway's catalog does not have: asked for, they are a 400 that says so. */
const NO_DATA: Record<string, string> = {
  arch: 'model architecture families',
  distillable: 'distillation terms',
  region: 'data regions',
  min_intelligence_index: 'benchmark indices',
  max_intelligence_index: 'benchmark indices',
  min_coding_index: 'benchmark indices',
  max_coding_index: 'benchmark indices',
  min_agentic_index: 'benchmark indices',
  max_agentic_index: 'benchmark indices',
  min_tool_success_rate: 'tool-calling success rates',
  max_tool_success_rate: 'tool-calling success rates',
  use_rss: 'an RSS feed',
  use_rss_chat_links: 'an RSS feed',
  endpoints: 'per-route model lists',
};

/** The parameters of `/models` (and `/models/user`, `/models/count`). */
export const LIST_PARAMS: ReadonlySet<string> = new Set([
  'q',
  'sort',
  'offset',
  'limit',
  'category',
  'supported_parameters',
  'output_modalities',
  'input_modalities',
  'context',
  'min_price',
  'max_price',
  'min_output_price',
  'max_output_price',
  'model_authors',
  'providers',
  'zdr',
  'min_age_days',
  'max_age_days',
]);

export interface ModelQuery {
  /** Lower-case search terms; a model matches when its id or name holds every one. */
  terms: string[];
  sort?: ModelSort;
  /** Present when the client asked for a page (`offset` or `limit`); otherwise the whole list. */
  page?: { offset: number; limit: number };
  /** Output modalities of which a model must have one; `all` skips the filter. Default `text`. */
  output: ReadonlySet<string> | 'all';
  /** Input modalities a model must accept, every one. */
  input: string[];
  parameters: string[];
  category?: string;
  /** Least context length, tokens. */
  context?: number;
  /** Femto-dollars per token, bounds on the listed (top endpoint's, fee included) price. */
  minPrompt?: bigint;
  maxPrompt?: bigint;
  minCompletion?: bigint;
  maxCompletion?: bigint;
  authors: string[];
  providers: string[];
  zdr: boolean;
  minAgeDays?: number;
  maxAgeDays?: number;
}

function list(value: string, param: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) fail(param, 'must be a comma-separated list of values');
  return items;
}

function listOf(value: string, param: string, allowed: readonly string[]): string[] {
  const items = list(value, param).map((s) => s.toLowerCase());
  const bad = items.filter((s) => !allowed.includes(s));
  if (bad.length > 0) fail(param, `unknown value ${bad.map((b) => JSON.stringify(b)).join(', ')} (expected ${allowed.join(', ')})`);
  return items;
}

function one<T extends string>(value: string, param: string, allowed: readonly T[]): T {
  const v = value.trim().toLowerCase();
  if (!(allowed as readonly string[]).includes(v)) {
    fail(param, `unknown value ${JSON.stringify(value)} (expected one of ${allowed.join(', ')})`);
  }
  return v as T;
}

function integer(value: string, param: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(value.trim())) fail(param, `must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}`);
  const n = Number(value.trim());
  if (n < min || n > max) fail(param, `must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}`);
  return n;
}

function days(value: string, param: string): number {
  const n = Number(value.trim());
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) fail(param, 'must be a non-negative number of days');
  return n;
}

/** A price bound in USD per million tokens, as femto-dollars per token. */
function perMillion(value: string, param: string): bigint {
  try {
    return usdPerMillionToFemto(value);
  } catch {
    return fail(param, 'must be a non-negative decimal number (USD per million tokens)');
  }
}

/**
 * Parses a catalog route's query. `allowed` names the parameters the route takes (a known one it
 * does not take is a 400 too); `fixedOutput` is the output filter of a route that has one of its own.
 */
export function parseModelQuery(params: URLSearchParams, allowed: ReadonlySet<string> = LIST_PARAMS, fixedOutput?: string): ModelQuery {
  const seen = new Set<string>();
  for (const name of params.keys()) {
    if (seen.has(name)) fail(name, 'given more than once');
    seen.add(name);
    if (allowed.has(name)) continue;
    if (NO_DATA[name]) fail(name, `not supported: Freeway's catalog has no ${NO_DATA[name]} to filter by`);
    fail(name, LIST_PARAMS.has(name) ? 'not accepted by this route' : 'unknown query parameter');
  }
  const get = (name: string): string | undefined => params.get(name) ?? undefined;
  const q: ModelQuery = { terms: [], output: new Set(['text']), input: [], parameters: [], authors: [], providers: [], zdr: false };
  const search = get('q');
  if (search !== undefined) {
    if (search.length > 200) fail('q', 'must be at most 200 characters');
    q.terms = searchKey(search)
      .split(/\s+/)
      .filter((t) => t !== '');
  }
  const sort = get('sort');
  if (sort !== undefined) q.sort = one(sort, 'sort', SORTS);
  const offset = get('offset');
  const limit = get('limit');
  if (offset !== undefined || limit !== undefined) {
    q.page = {
      offset: offset === undefined ? 0 : integer(offset, 'offset', 0),
      limit: limit === undefined ? DEFAULT_LIMIT : integer(limit, 'limit', 1, MAX_LIMIT),
    };
  }
  const category = get('category');
  if (category !== undefined) q.category = one(category, 'category', CATEGORIES);
  const supported = get('supported_parameters');
  if (supported !== undefined) q.parameters = list(supported, 'supported_parameters');
  const output = fixedOutput ?? get('output_modalities');
  if (output !== undefined) {
    q.output = output.trim().toLowerCase() === 'all' ? 'all' : new Set(listOf(output, 'output_modalities', OUTPUT_MODALITIES));
  }
  const input = get('input_modalities');
  if (input !== undefined) q.input = listOf(input, 'input_modalities', INPUT_MODALITIES);
  const context = get('context');
  if (context !== undefined) q.context = integer(context, 'context', 0);
  const price = (name: string) => (get(name) === undefined ? undefined : perMillion(get(name)!, name));
  const [minPrompt, maxPrompt] = ['min_price', 'max_price'].map(price);
  const [minCompletion, maxCompletion] = ['min_output_price', 'max_output_price'].map(price);
  Object.assign(q, defined({ minPrompt, maxPrompt, minCompletion, maxCompletion }));
  const authors = get('model_authors');
  if (authors !== undefined) q.authors = list(authors, 'model_authors').map((a) => a.toLowerCase());
  const providers = get('providers');
  if (providers !== undefined) q.providers = list(providers, 'providers');
  const zdr = get('zdr');
  if (zdr !== undefined) q.zdr = one(zdr, 'zdr', ['true', 'false'] as const) === 'true';
  const minAge = get('min_age_days');
  if (minAge !== undefined) q.minAgeDays = days(minAge, 'min_age_days');
  const maxAge = get('max_age_days');
  if (maxAge !== undefined) q.maxAgeDays = days(maxAge, 'max_age_days');
  return q;
}

function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Case and `.`/`-` folded, so `claude sonnet 4.5` finds `anthropic/claude-sonnet-4-5`. */
function searchKey(s: string): string {
  return s.toLowerCase().replace(/\./g, '-');
}

/** Whether a model can be served: one with no known price anywhere cannot be until the operator prices it (see Endpoint.unpriced). */
export const servable = (m: CatalogModel): boolean => m.endpoints.some((e) => !e.unpriced);

/** Whether the listed price is the model's: not unknown, nor a router's that varies with the model that serves ("-1" both). */
const hasOnePrice = (m: CatalogModel): boolean => servable(m) && !(isRouterRow(m) && m.variablePrice);

/** What a model produces, in OpenRouter's output-modality vocabulary. */
export function outputModalities(m: CatalogModel): string[] {
  return m.outputModalities ?? (m.kind === 'embedding' ? ['embeddings'] : ['text']);
}

/**
 * Zero data retention, as the router's `provider.zdr` filter reads it (router/plan/filters.ts): the
 * provider keeps no prompts (`dataCollection: deny`).
 */
export const isZdr = (e: Endpoint): boolean => e.dataCollection === 'deny';

/** The endpoint whose price `/models` shows for the model. */
const top = (m: CatalogModel): Endpoint => m.endpoints[0];

export interface SelectContext {
  markupBp: number;
  health: RouteHealth;
  now?: number;
}

/** The catalog's models a query selects, filtered and in its order (the whole list; see pageOf). */
export function selectModels(models: readonly CatalogModel[], q: ModelQuery, ctx: SelectContext): CatalogModel[] {
  const now = ctx.now ?? Date.now();
  const fee = (f: bigint) => withFee(f, ctx.markupBp);
  const out = models.filter((m) => {
    if (q.output !== 'all' && !outputModalities(m).some((o) => (q.output as ReadonlySet<string>).has(o))) return false;
    if (q.terms.length > 0) {
      const hay = `${searchKey(m.id)} ${searchKey(m.name)}`;
      if (!q.terms.every((t) => hay.includes(t))) return false;
    }
    if (!q.input.every((i) => (m.inputModalities as string[]).includes(i))) return false;
    if (q.parameters.length > 0) {
      const params = m.kind === 'embedding' ? [] : modelSupportedParameters(m.endpoints);
      if (!q.parameters.every((p) => params.includes(p))) return false;
    }
    if (q.category !== undefined && !(m.categories ?? []).includes(q.category)) return false;
    if (q.context !== undefined && (contextOf(m) ?? -1) < q.context) return false;
    const p = top(m).pricing;
    // A model with no known price is listed (priced "-1", as OpenRouter shows what has none), but no price bound holds for it.
    // Nor for a router charged at the rate of whichever model serves ("-1" too).
    const priceBound = [q.minPrompt, q.maxPrompt, q.minCompletion, q.maxCompletion].some((b) => b !== undefined);
    if (priceBound && !hasOnePrice(m)) return false;
    if (q.minPrompt !== undefined && fee(p.prompt) < q.minPrompt) return false;
    if (q.maxPrompt !== undefined && fee(p.prompt) > q.maxPrompt) return false;
    if (q.minCompletion !== undefined && fee(p.completion) < q.minCompletion) return false;
    if (q.maxCompletion !== undefined && fee(p.completion) > q.maxCompletion) return false;
    if (q.authors.length > 0 && !q.authors.includes(m.id.slice(0, m.id.indexOf('/')).toLowerCase())) return false;
    // A router is served by no provider of its own (it may pick any model's), so `providers` and
    // `zdr` leave it out: `/providers` counts what each one serves by the same filter.
    const servedBy = (e: Endpoint) => !e.unpriced && q.providers.some((s) => providerMatches(e.provider, s));
    if (q.providers.length > 0 && (isRouterRow(m) || !m.endpoints.some(servedBy))) return false;
    if (q.zdr && (isRouterRow(m) || !m.endpoints.some((e) => !e.unpriced && isZdr(e)))) return false;
    const ageDays = (now / 1000 - m.created) / 86_400;
    if (q.minAgeDays !== undefined && ageDays < q.minAgeDays) return false;
    if (q.maxAgeDays !== undefined && ageDays > q.maxAgeDays) return false;
    return true;
  });
  return q.sort ? sortModels(out, q.sort, ctx) : out;
}

function contextOf(m: CatalogModel): number | null {
  return m.contextLength ?? top(m).contextLength;
}

/**
 * Sorted by OpenRouter's `sort`; ties and models without the measure keep the default order (by
 * id), the unmeasured last. Freeway has no popularity or benchmark data, so those sorts are the
 * default order, as OpenRouter's are when no model has a score.
 */
function sortModels(models: CatalogModel[], sort: ModelSort, ctx: SelectContext): CatalogModel[] {
  // Unknown prices sort last either way (null is the unmeasured).
  const price = (m: CatalogModel) =>
    hasOnePrice(m) ? withFee(top(m).pricing.prompt, ctx.markupBp) + withFee(top(m).pricing.completion, ctx.markupBp) : null;
  const best = (m: CatalogModel, pick: 'latency' | 'throughput'): number | null => {
    // A router's speed is the speed of whichever model it picks: unmeasured, as it is.
    if (isRouterRow(m)) return null;
    let v: number | null = null;
    for (const e of m.endpoints) {
      if (e.unpriced) continue;
      const s = ctx.health.stats(endpointKey(e), ctx.now);
      const p50 = (pick === 'latency' ? s.latency30m : s.throughput30m)?.p50;
      if (p50 !== undefined && (v === null || (pick === 'latency' ? p50 < v : p50 > v))) v = p50;
    }
    return v;
  };
  let key: ((m: CatalogModel) => number | bigint | null) | undefined;
  let descending = false;
  switch (sort) {
    case 'pricing-low-to-high':
      key = price;
      break;
    case 'pricing-high-to-low':
      key = price;
      descending = true;
      break;
    case 'context-high-to-low':
      key = contextOf;
      descending = true;
      break;
    case 'newest':
      key = (m) => m.created;
      descending = true;
      break;
    case 'throughput-high-to-low':
      key = (m) => best(m, 'throughput');
      descending = true;
      break;
    case 'latency-low-to-high':
      key = (m) => best(m, 'latency');
      break;
    default:
      return models;
  }
  const keyed = models.map((m, i) => ({ m, i, k: key(m) }));
  keyed.sort((a, b) => {
    if (a.k === null || b.k === null) return a.k === b.k ? a.i - b.i : a.k === null ? 1 : -1;
    if (a.k === b.k) return a.i - b.i;
    return (a.k < b.k ? -1 : 1) * (descending ? -1 : 1);
  });
  return keyed.map((x) => x.m);
}

export interface Page<T> {
  data: T[];
  total_count: number;
  links: { next: string | null };
}

/**
 * One page of a selected list, OpenRouter's envelope: `total_count` counts the whole selection, and
 * `links.next` is the same query at the next offset (null on the last page, or with no paging).
 */
export function pageOf<T>(items: readonly T[], q: ModelQuery, url: URL): Page<T> {
  if (!q.page) return { data: [...items], total_count: items.length, links: { next: null } };
  const { offset, limit } = q.page;
  const data = items.slice(offset, offset + limit);
  let next: string | null = null;
  if (offset + limit < items.length) {
    const params = new URLSearchParams(url.searchParams);
    params.set('offset', String(offset + limit));
    params.set('limit', String(limit));
    next = `${url.pathname}?${params.toString()}`;
  }
  return { data, total_count: items.length, links: { next } };
}

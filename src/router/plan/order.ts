/**
 * The route planner's ordering of the endpoints that passed the filters: `provider.order` first;
 * else an explicit sort; else OpenRouter's load balancing (first choice drawn with weight
 * 1/price², the rest by price). Endpoints missing `preferred_*` thresholds go last; a sticky
 * endpoint (prompt caching) goes first unless `order` is pinned; `allow_fallbacks: false` keeps
 * only the `order` providers, or only the first choice.
 */
import type { Endpoint } from '../../catalog/types.ts';
import type { Candidate } from '../types.ts';
import { endpointKey } from '../../catalog/endpoint-key.ts';
import type { EndpointStats, Percentiles } from '../types.ts';
import { providerMatches } from './filters.ts';
import type { Left } from './filters.ts';
import type { RoutePreferences, Sort } from './preferences.ts';
import { hasCacheDiscount } from './sticky.ts';

const priceOf = (e: Endpoint): bigint => e.pricing.prompt + e.pricing.completion;

function cmpPrice(a: Candidate, b: Candidate): number {
  const pa = priceOf(a.endpoint);
  const pb = priceOf(b.endpoint);
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/**
 * Index of the first choice: weight 1/price² (price = prompt + completion per token). Free
 * endpoints are the limit of that (infinite weight): when any is present, one of them is drawn.
 */
export function pickByInversePriceSquared(endpoints: readonly Pick<Endpoint, 'pricing'>[], r: number): number {
  const prices = endpoints.map((e) => priceOf(e as Endpoint));
  let weights: number[];
  if (prices.some((p) => p === 0n)) weights = prices.map((p) => (p === 0n ? 1 : 0));
  else {
    const min = prices.reduce((a, b) => (b < a ? b : a));
    weights = prices.map((p) => (Number(min) / Number(p)) ** 2);
  }
  const total = weights.reduce((a, b) => a + b, 0);
  let x = r * total;
  for (const [i, w] of weights.entries()) {
    if (x < w) return i;
    x -= w;
  }
  let last = weights.length - 1;
  while (last > 0 && weights[last] === 0) last--;
  return last;
}

export interface Ctx {
  prefs: RoutePreferences;
  random: () => number;
  stats: (c: Candidate) => EndpointStats;
  /** The endpoint that served this conversation before, if any (looked up when first asked). */
  stickyEndpoint: () => string | undefined;
}

function p50(p: Percentiles | null): number | null {
  return p ? p.p50 : null;
}

function sortItems(items: readonly Candidate[], sort: Sort, ctx: Ctx): Candidate[] {
  const byStat = (get: (s: EndpointStats) => number | null, higherFirst: boolean) => (a: Candidate, b: Candidate) => {
    const va = get(ctx.stats(a));
    const vb = get(ctx.stats(b));
    if (va === null || vb === null) return va === vb ? cmpPrice(a, b) : va === null ? 1 : -1;
    if (va !== vb) return higherFirst ? vb - va : va - vb;
    return cmpPrice(a, b);
  };
  const cmp =
    sort === 'price'
      ? cmpPrice
      : sort === 'throughput'
        ? byStat((s) => p50(s.throughput30m), true)
        : byStat((s) => p50(s.latency30m), false);
  return [...items].sort(cmp);
}

/** `preferred_min_throughput` / `preferred_max_latency`: unknown stats do not count against an endpoint. */
function meetsThresholds(c: Candidate, ctx: Ctx): boolean {
  const { preferredMinThroughput: minTp, preferredMaxLatency: maxLat } = ctx.prefs;
  if (!minTp && !maxLat) return true;
  const s = ctx.stats(c);
  for (const k of ['p50', 'p75', 'p90', 'p99'] as const) {
    const tp = s.throughput30m?.[k];
    if (minTp?.[k] !== undefined && tp !== undefined && tp < minTp[k]) return false;
    const lat = s.latency30m?.[k];
    if (maxLat?.[k] !== undefined && lat !== undefined && lat > maxLat[k] * 1000) return false;
  }
  return true;
}

function split(items: readonly Candidate[], ctx: Ctx): [Candidate[], Candidate[]] {
  const good: Candidate[] = [];
  const slow: Candidate[] = [];
  for (const c of items) (meetsThresholds(c, ctx) ? good : slow).push(c);
  return [good, slow];
}

/** Default order: explicit sort, or load balancing (weighted random first, the rest by price). */
function balanced(items: readonly Candidate[], sort: Sort | undefined, ctx: Ctx): Candidate[] {
  if (sort) return sortItems(items, sort, ctx);
  const byPrice = sortItems(items, 'price', ctx);
  if (byPrice.length < 2) return byPrice;
  const i = pickByInversePriceSquared(
    byPrice.map((c) => c.endpoint),
    ctx.random(),
  );
  return [byPrice[i], ...byPrice.slice(0, i), ...byPrice.slice(i + 1)];
}

export function orderGroup(
  items: readonly Candidate[],
  sort: Sort | undefined,
  ctx: Ctx,
): { list: Candidate[]; cut: Map<Candidate, Left> } {
  const { prefs } = ctx;
  const cut = new Map<Candidate, Left>();
  if (prefs.order && prefs.order.length > 0) {
    const placed = new Set<Candidate>();
    const list: Candidate[] = [];
    for (const slug of prefs.order) {
      const hits = items.filter((c) => !placed.has(c) && providerMatches(c.endpoint.provider, slug));
      for (const c of sortItems(hits, sort ?? 'price', ctx)) {
        placed.add(c);
        list.push(c);
      }
    }
    const rest = items.filter((c) => !placed.has(c));
    if (prefs.allowFallbacks) {
      const [good, slow] = split(rest, ctx);
      list.push(...sortItems(good, sort ?? 'price', ctx), ...sortItems(slow, sort ?? 'price', ctx));
    } else {
      for (const c of rest) cut.set(c, { stage: 'order', reason: 'not in provider.order, and provider.allow_fallbacks is false' });
    }
    return { list, cut };
  }
  const [good, slow] = split(items, ctx);
  const list = [...balanced(good, sort, ctx), ...sortItems(slow, sort ?? 'price', ctx)];
  const sticky = list.length > 1 ? ctx.stickyEndpoint() : undefined;
  if (sticky !== undefined) {
    const i = list.findIndex((c) => endpointKey(c.endpoint) === sticky && hasCacheDiscount(c.endpoint));
    if (i > 0) list.unshift(...list.splice(i, 1));
  }
  if (!prefs.allowFallbacks) {
    for (const c of list.slice(1))
      cut.set(c, { stage: 'order', reason: 'provider.allow_fallbacks is false: only the first choice is tried' });
    list.length = Math.min(list.length, 1);
  }
  return { list, cut };
}

/**
 * The route planner: from the models a request names to the endpoints to try, in order, with
 * OpenRouter's semantics.
 *
 * 1. Each ref (`model`, then `models[]`) resolves to a catalog model; `:nitro` / `:floor` /
 *    `:exacto` are routing variants (sort by throughput / price / throughput) stripped from the id.
 * 2. Hard filters drop endpoints, each with a reason: provider allow/deny lists, data policy,
 *    quantization, max_price, capabilities the request needs, `require_parameters`.
 * 3. Endpoints whose circuit is open are dropped too, unless that would leave nothing to try.
 * 4. Order, per model (or across models with `sort.partition: 'none'`): `provider.order` first;
 *    else an explicit sort; else OpenRouter's load balancing (first choice drawn with weight
 *    1/price², the rest by price). Endpoints missing `preferred_*` thresholds go last. A sticky
 *    endpoint (prompt caching) goes first unless `order` is pinned. `allow_fallbacks: false`
 *    keeps only the `order` providers, or only the first choice.
 *
 * Pure and synchronous; deterministic given `random`.
 */
import { withFee } from '../../accounting/billing.ts';
import { formatScaled } from '../../accounting/money.ts';
import type { Catalog } from '../../catalog/catalog.ts';
import type { CatalogModel, Endpoint, Modality } from '../../catalog/types.ts';
import { unknownModel } from '../../gateway/resolve.ts';
import type { Candidate } from '../../gateway/resolve.ts';
import type { ProviderInstance } from '../../providers/types.ts';
import { GatewayError } from '../../spec/errors.ts';
import { endpointKey } from '../types.ts';
import type { EndpointStats, Exclusion, Health, Percentiles } from '../types.ts';
import type { RouteNeeds } from './needs.ts';
import { supportedParameters } from './parameters.ts';
import type { RoutePreferences, Sort } from './preferences.ts';
import { hasCacheDiscount } from './sticky.ts';

export type RouteHealth = Pick<Health, 'circuit' | 'stats'>;

export interface PlanInput {
  catalog: Catalog;
  /** `model`, then the `models[]` fallbacks; may carry `:nitro` / `:floor` / `:exacto`. */
  refs: readonly string[];
  kind: CatalogModel['kind'];
  needs: RouteNeeds;
  prefs: RoutePreferences;
  health: RouteHealth;
  /** Conversation key → endpointKey that served it before (see stickyKeyOf). */
  sticky?: { get(key: string): string | undefined };
  /** The conversation's key, or how to work it out (only done when there is a choice to make). */
  stickyKey?: string | (() => string | undefined);
  /** Uniform in [0, 1); Math.random when absent. */
  random?: () => number;
  /** Freeway's fee in basis points, so `max_price` compares with what the key is charged. Default 0. */
  markupBp?: number;
  /** Clock passed to health lookups. */
  now?: number;
}

export interface RoutePlan {
  /** First choice, then fallbacks, in order. Never empty (planRoute throws instead). */
  candidates: Candidate[];
  /** Every endpoint of the requested models left out, with why. */
  excluded: Exclusion[];
}

/** A health source for callers without one: everything available, no stats. */
export const NO_HEALTH: RouteHealth = {
  circuit: () => 'closed',
  stats: () => ({
    uptime5m: null,
    uptime30m: null,
    latency5m: null,
    latency30m: null,
    throughput5m: null,
    throughput30m: null,
    circuit: 'closed',
  }),
};

/** Why an endpoint was left out, in pipeline order: the 404's message names the last stage anything survived to. */
const STAGES = [
  'provider', 'data_policy', 'quantization', 'max_price', 'tools', 'structured_outputs', 'image_input', 'file_input',
  'audio_input', 'max_tokens', 'context_length', 'require_parameters', 'health', 'order',
] as const;
type Stage = (typeof STAGES)[number];

interface Left {
  stage: Stage;
  reason: string;
}

/** Whether `slug` (from order/only/ignore) names this provider: its id, its display name, or an id prefix `slug/…`. */
export function providerMatches(p: Pick<ProviderInstance, 'id' | 'name'>, slug: string): boolean {
  const s = slug.toLowerCase();
  const id = p.id.toLowerCase();
  return s === id || s === p.name.toLowerCase() || id.startsWith(`${s}/`);
}

const VARIANT_SORT: Record<string, Sort> = { nitro: 'throughput', floor: 'price', exacto: 'throughput' };

function resolveRef(catalog: Catalog, ref: string, i: number, kind: CatalogModel['kind']): { model: CatalogModel; sort?: Sort } {
  let model = catalog.get(ref);
  let sort: Sort | undefined;
  if (!model) {
    const m = /^(.+):(nitro|floor|exacto)$/.exec(ref);
    if (m) {
      model = catalog.get(m[1]);
      sort = VARIANT_SORT[m[2]];
    }
  }
  if (!model) throw unknownModel(catalog, ref, i === 0 ? 'model' : `models[${i - 1}]`);
  if (model.kind !== kind) {
    throw new GatewayError('invalid_request', `${model.id} is ${kind === 'chat' ? 'an embedding model' : 'not an embedding model'}`, {
      metadata: { param: 'model' },
    });
  }
  return sort ? { model, sort } : { model };
}

/** `limit` (a JS number, decimal) × 10^-shift as an exact comparison with an integer `femto`. */
function exceeds(femto: bigint, limit: number, shift: number): boolean {
  const m = /^(\d+)(?:\.(\d+))?(?:e([-+]?\d+))?$/.exec(String(limit));
  if (!m) return false;
  const digits = BigInt(m[1] + (m[2] ?? ''));
  const exp = Number(m[3] ?? 0) - (m[2] ?? '').length + shift;
  return exp >= 0 ? femto > digits * 10n ** BigInt(exp) : femto * 10n ** BigInt(-exp) > digits;
}

const perMillion = (femto: bigint) => `$${formatScaled(femto, 9)}/M`;
const perUnit = (femto: bigint) => `$${formatScaled(femto, 15)}`;

const MODALITY_STAGE: Array<[keyof RouteNeeds, Modality, Stage]> = [
  ['images', 'image', 'image_input'],
  ['files', 'file', 'file_input'],
  ['audio', 'audio', 'audio_input'],
];

/** Every hard filter the endpoint fails, in pipeline order. */
function hardFilters(c: Candidate, needs: RouteNeeds, prefs: RoutePreferences, markupBp: number): Left[] {
  const { model, endpoint: e } = c;
  const out: Left[] = [];
  const p = e.provider;
  if (prefs.only && prefs.only.length > 0 && !prefs.only.some((s) => providerMatches(p, s))) {
    out.push({ stage: 'provider', reason: 'provider not in provider.only' });
  }
  if (prefs.ignore?.some((s) => providerMatches(p, s))) out.push({ stage: 'provider', reason: 'provider in provider.ignore' });
  if (prefs.dataCollection === 'deny' && e.dataCollection === 'allow') {
    out.push({ stage: 'data_policy', reason: 'provider may store or train on prompts (data_collection: deny)' });
  }
  if (prefs.zdr && e.dataCollection === 'allow') {
    out.push({ stage: 'data_policy', reason: 'provider may retain prompts (zdr)' });
  }
  if (prefs.quantizations && prefs.quantizations.length > 0) {
    const q = (e.quantization ?? 'unknown').toLowerCase();
    if (!prefs.quantizations.includes(q)) out.push({ stage: 'quantization', reason: `quantization ${q} not in provider.quantizations` });
  }
  const max = prefs.maxPrice;
  if (max) {
    const fee = (f: bigint) => withFee(f, markupBp);
    const checks: Array<[string, number | undefined, bigint, number, (f: bigint) => string]> = [
      ['prompt', max.prompt, fee(e.pricing.prompt), 9, perMillion],
      ['completion', max.completion, fee(e.pricing.completion), 9, perMillion],
      ['request', max.request, fee(e.pricing.request ?? 0n), 15, perUnit],
      ['image', needs.images ? max.image : undefined, fee(e.pricing.image ?? 0n), 15, perUnit],
    ];
    for (const [name, limit, femto, shift, show] of checks) {
      if (limit !== undefined && exceeds(femto, limit, shift)) {
        const asked = shift === 9 ? `$${limit}/M` : `$${limit}`;
        out.push({ stage: 'max_price', reason: `${name} price ${show(femto)} exceeds max_price.${name} ${asked}` });
      }
    }
  }
  if (needs.tools && !e.supportsTools) out.push({ stage: 'tools', reason: 'does not support tool use' });
  if (needs.jsonSchema && !e.supportsStructuredOutputs) {
    out.push({ stage: 'structured_outputs', reason: 'does not support structured outputs (json_schema)' });
  }
  for (const [need, modality, stage] of MODALITY_STAGE) {
    if (needs[need] && !model.inputModalities.includes(modality)) out.push({ stage, reason: `model does not accept ${modality} input` });
  }
  const maxOut = e.maxOutputTokens ?? model.maxOutputTokens;
  if (needs.maxTokens !== undefined && maxOut !== null && needs.maxTokens > maxOut) {
    out.push({ stage: 'max_tokens', reason: `max_tokens ${needs.maxTokens} exceeds the endpoint's maximum output of ${maxOut} tokens` });
  }
  const context = e.contextLength ?? model.contextLength;
  if (context !== null && needs.promptTokens > context) {
    out.push({ stage: 'context_length', reason: `prompt of about ${needs.promptTokens} tokens exceeds the context length of ${context}` });
  }
  if (prefs.requireParameters && needs.parameters.size > 0) {
    const supported = new Set(supportedParameters(e));
    const missing = [...needs.parameters].filter((x) => !supported.has(x)).sort();
    if (missing.length > 0) out.push({ stage: 'require_parameters', reason: `does not support ${missing.join(', ')} (require_parameters)` });
  }
  return out;
}

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

interface Ctx {
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
  const i = pickByInversePriceSquared(byPrice.map((c) => c.endpoint), ctx.random());
  return [byPrice[i], ...byPrice.slice(0, i), ...byPrice.slice(i + 1)];
}

function orderGroup(items: readonly Candidate[], sort: Sort | undefined, ctx: Ctx): { list: Candidate[]; cut: Map<Candidate, Left> } {
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
    for (const c of list.slice(1)) cut.set(c, { stage: 'order', reason: 'provider.allow_fallbacks is false: only the first choice is tried' });
    list.length = Math.min(list.length, 1);
  }
  return { list, cut };
}

function noEndpoints(stage: Stage | undefined, ids: string, needs: RouteNeeds, prefs: RoutePreferences): string {
  switch (stage) {
    case 'provider':
      return `No allowed providers are available for the selected model${ids.includes(',') ? 's' : ''} (${ids}).`;
    case 'data_policy':
      return `No endpoints found matching your data policy for ${ids}.`;
    case 'quantization':
      return `No endpoints found for ${ids} with the requested quantizations: ${(prefs.quantizations ?? []).join(', ')}.`;
    case 'max_price':
      return `No endpoints found for ${ids} within your max_price.`;
    case 'tools':
      return 'No endpoints found that support tool use.';
    case 'structured_outputs':
      return 'No endpoints found that support structured outputs (response_format json_schema).';
    case 'image_input':
      return 'No endpoints found that support image input.';
    case 'file_input':
      return 'No endpoints found that support file input.';
    case 'audio_input':
      return 'No endpoints found that support audio input.';
    case 'max_tokens':
      return `No endpoints found that support max_tokens of ${needs.maxTokens}.`;
    case 'context_length':
      return `No endpoints found with a context length of at least ${needs.promptTokens} tokens.`;
    case 'require_parameters':
      return 'No endpoints found that can handle the requested parameters.';
    case 'order':
      return `No endpoints found for the request with manual order: ${(prefs.order ?? []).join(', ')}.`;
    default:
      return `No endpoints found for ${ids}.`;
  }
}

/**
 * The common case without the general machinery: one model with one endpoint, no provider order,
 * and the endpoint meets the request's requirements. Then it is the route whatever its health
 * (with every circuit open, trying beats failing outright), exactly as planRoute would find.
 */
function singleEndpoint(input: PlanInput): Candidate | undefined {
  const { prefs } = input;
  if (input.refs.length !== 1 || (prefs.order && prefs.order.length > 0)) return undefined;
  const { model } = resolveRef(input.catalog, input.refs[0], 0, input.kind);
  if (model.endpoints.length !== 1) return undefined;
  const c = { model, endpoint: model.endpoints[0] };
  return hardFilters(c, input.needs, prefs, input.markupBp ?? 0).length === 0 ? c : undefined;
}

export function planRoute(input: PlanInput): RoutePlan {
  const single = singleEndpoint(input);
  if (single) return { candidates: [single], excluded: [] };
  const { catalog, needs, prefs, health } = input;
  const markupBp = input.markupBp ?? 0;
  const models: Array<{ model: CatalogModel; sort?: Sort }> = [];
  const seen = new Set<string>();
  for (const [i, ref] of input.refs.entries()) {
    const r = resolveRef(catalog, ref, i, input.kind);
    if (seen.has(r.model.id)) continue;
    seen.add(r.model.id);
    models.push(r);
  }

  // Hard filters, remembering every endpoint in traversal order for the exclusion list.
  const all: Candidate[] = [];
  const left = new Map<Candidate, Left>();
  const passed = new Map<CatalogModel, Candidate[]>();
  for (const { model } of models) {
    const ok: Candidate[] = [];
    for (const endpoint of model.endpoints) {
      const c = { model, endpoint };
      all.push(c);
      const fails = hardFilters(c, needs, prefs, markupBp);
      if (fails.length > 0) left.set(c, { stage: fails[0].stage, reason: fails.map((f) => f.reason).join('; ') });
      else ok.push(c);
    }
    passed.set(model, ok);
  }

  const statsCache = new Map<string, EndpointStats>();
  let stickyLooked = false;
  let stickyFound: string | undefined;
  const stickyEndpoint = (): string | undefined => {
    if (stickyLooked) return stickyFound;
    stickyLooked = true;
    if (prefs.order && prefs.order.length > 0) return undefined;
    const key = typeof input.stickyKey === 'function' ? input.stickyKey() : input.stickyKey;
    stickyFound = key === undefined ? undefined : input.sticky?.get(key);
    return stickyFound;
  };
  const ctx: Ctx = {
    prefs,
    random: input.random ?? Math.random,
    stickyEndpoint,
    stats: (c) => {
      const key = endpointKey(c.endpoint);
      let s = statsCache.get(key);
      if (!s) {
        s = health.stats(key, input.now);
        statsCache.set(key, s);
      }
      return s;
    },
  };

  const build = (keep: (c: Candidate) => boolean) => {
    const groups: Array<{ items: Candidate[]; sort?: Sort }> =
      prefs.sortPartition === 'none' && prefs.sort
        ? [{ items: models.flatMap(({ model }) => passed.get(model)!.filter(keep)), sort: prefs.sort }]
        : models.map(({ model, sort }) => ({ items: passed.get(model)!.filter(keep), sort: sort ?? prefs.sort }));
    const list: Candidate[] = [];
    const cut = new Map<Candidate, Left>();
    for (const g of groups) {
      const r = orderGroup(g.items, g.sort, ctx);
      list.push(...r.list);
      for (const [c, l] of r.cut) cut.set(c, l);
    }
    return { list, cut };
  };

  const available = new Set<Candidate>();
  // Read the circuit without side effects: isAvailable() would hand out half-open probes to
  // endpoints this request may never try. A half-open endpoint stays in the route.
  for (const ok of passed.values()) for (const c of ok) if (health.circuit(endpointKey(c.endpoint), input.now) !== 'open') available.add(c);
  let plan = build((c) => available.has(c));
  const anyPassed = [...passed.values()].some((ok) => ok.length > 0);
  if (plan.list.length === 0 && anyPassed) {
    // Every usable endpoint's circuit is open: trying one beats failing outright.
    plan = build(() => true);
  } else {
    for (const ok of passed.values()) {
      for (const c of ok) if (!available.has(c)) left.set(c, { stage: 'health', reason: 'circuit open after recent failures' });
    }
  }
  for (const [c, l] of plan.cut) left.set(c, l);

  const excluded: Exclusion[] = [];
  for (const c of all) {
    const l = left.get(c);
    if (l) excluded.push({ provider: c.endpoint.provider.id, model: c.model.id, reason: l.reason });
  }
  if (plan.list.length === 0) {
    let stage: Stage | undefined;
    for (const l of left.values()) if (stage === undefined || STAGES.indexOf(l.stage) > STAGES.indexOf(stage)) stage = l.stage;
    const ids = models.map((m) => m.model.id).join(', ');
    throw new GatewayError('not_found', noEndpoints(stage, ids, needs, prefs), {
      metadata: { requested_models: models.map((m) => m.model.id), considered: excluded },
      retryable: false,
    });
  }
  return { candidates: plan.list, excluded };
}

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
import type { Catalog } from '../../catalog/catalog.ts';
import { presetsServing } from '../../catalog/unserved.ts';
import type { CatalogModel } from '../../catalog/types.ts';
import { contextTooLong, GatewayError } from '../../spec/errors.ts';
import { endpointKey } from '../../catalog/endpoint-key.ts';
import type { Candidate, EndpointStats, Exclusion, Health } from '../types.ts';
import { hardFilters, noEndpoints, STAGES } from './filters.ts';
import type { Left, Stage } from './filters.ts';
import type { RouteNeeds } from './needs.ts';
import { orderGroup } from './order.ts';
import type { Ctx } from './order.ts';
import type { RoutePreferences, Sort } from './preferences.ts';

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

const VARIANT_SORT: Record<string, Sort> = { nitro: 'throughput', floor: 'price', exacto: 'throughput' };

/** An unknown model's 404, with close matches from the catalog. */
export function unknownModel(catalog: Catalog, ref: string, param = 'model'): GatewayError {
  const missing = unservedMessage(catalog, ref);
  if (missing) {
    return new GatewayError('not_found', missing.message, { metadata: { param, providers: missing.providers }, retryable: false });
  }
  const suggestions = catalog.suggest(ref);
  const hint = suggestions.length > 0 ? ` Did you mean ${suggestions.map((s) => JSON.stringify(s)).join(', ')}?` : '';
  const none = catalog.size === 0 ? ' No provider is configured: set a provider API key such as OPENAI_API_KEY.' : '';
  // The ref is the client's: a huge one is named by its start, not sent back whole.
  const name = ref.length > 256 ? `${ref.slice(0, 64)}... (${ref.length} characters)` : ref;
  return new GatewayError('not_found', `${name} is not a valid model ID.${hint}${none}`, {
    metadata: { param, suggestions },
    retryable: false,
  });
}

/**
 * A model the data knows but no configured provider serves: which providers would, and the
 * variable that configures each (the README's quick start names Claude with only an OpenAI key).
 */
function unservedMessage(catalog: Catalog, ref: string): { message: string; providers: string[] } | undefined {
  const bare = ref.replace(/:(nitro|floor|exacto|free)$/, '');
  const live = new Set(catalog.all().flatMap((m) => m.endpoints.map((e) => e.provider.id)));
  const presets = presetsServing(bare).filter((p) => !live.has(p.id) && p.keyEnv);
  if (presets.length === 0) return undefined;
  const how = presets.map((p) => `${p.name} (set ${p.keyEnv} or providers.${p.id}.apiKey)`).join(', or ');
  return {
    message: `${ref} is not served by any configured provider. It is served by ${how}; then restart Freeway.`,
    providers: presets.map((p) => p.id),
  };
}

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
    const shortOfOutput: Candidate[] = [];
    for (const endpoint of model.endpoints) {
      const c = { model, endpoint };
      all.push(c);
      const fails = hardFilters(c, needs, prefs, markupBp);
      // Too much output asked is fitted to the cap when it is the only fault (below), so with another
      // fault (a prompt too long, no tool support) the other one is why the endpoint is out.
      const decisive = fails.find((f) => f.stage !== 'max_tokens') ?? fails[0];
      if (decisive) left.set(c, { stage: decisive.stage, reason: fails.map((f) => f.reason).join('; ') });
      else ok.push(c);
      if (fails.length === 1 && fails[0].stage === 'max_tokens') shortOfOutput.push(c);
    }
    // More output than any endpoint of the model gives: served at its maximum, with a warning
    // (gateway/chat-route.ts fitOutput), unless the caller asked for strict parameters.
    if (ok.length === 0 && shortOfOutput.length > 0 && !prefs.requireParameters) {
      for (const c of shortOfOutput) left.delete(c);
      ok.push(...shortOfOutput);
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
    if (stage === 'context_length') {
      // Served nowhere because it is too long: a 400 that says by how much (clients compact on it), not a 404.
      let maxContext = 0;
      for (const [c, l] of left)
        if (l.stage === 'context_length') maxContext = Math.max(maxContext, c.endpoint.contextLength ?? c.model.contextLength ?? 0);
      throw contextTooLong(needs.promptTokens, maxContext, {
        requested_models: models.map((m) => m.model.id),
        considered: excluded,
      });
    }
    throw new GatewayError('not_found', noEndpoints(stage, ids, needs, prefs), {
      metadata: { requested_models: models.map((m) => m.model.id), considered: excluded },
      retryable: false,
    });
  }
  return { candidates: plan.list, excluded };
}

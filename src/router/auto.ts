/**
 * The model routers: `openrouter/auto` (alias `freeway/auto`) and `openrouter/free` name no model;
 * they pick one from the catalog for the request, and the route planner then routes to it like any
 * model the client named.
 *
 * - Both consider only models with an endpoint that can serve the request: the same hard filters
 *   the planner applies (tools, structured outputs, image/file/audio input, context length, output
 *   cap, `provider` preferences, an unknown price), plus reasoning when the request asks for it (a
 *   model known to reason).
 * - `auto` ranks them by the operator's policy (`routing.auto`): `cheapest` (prompt + completion
 *   price of its cheapest usable endpoint), `fastest` (best median throughput the health tracker
 *   has measured; unmeasured models follow, cheapest first), or `ordered` (the configured list, in
 *   order). Its pool is `routing.auto.models`, else every chat model that is not a `:free` variant.
 * - `free` picks at random (as OpenRouter's) among the `:free` models.
 * - Models with capacity come first: one with every usable endpoint's circuit open goes last.
 * - Sticky: a conversation that was routed before goes back to the same model while it still fits.
 *
 * The answer is the first choice then fallbacks, as a `models` list would be. Pure; deterministic
 * given `random`.
 */
import type { Catalog } from '../catalog/catalog.ts';
import type { CatalogModel, Endpoint } from '../catalog/types.ts';
import { GatewayError } from '../spec/errors.ts';
import { hardFilters } from './plan/filters.ts';
import type { RouteNeeds } from './plan/needs.ts';
import type { RouteHealth } from './plan/plan.ts';
import type { RoutePreferences } from './plan/preferences.ts';
import { endpointKey } from '../catalog/endpoint-key.ts';

export type ModelRouter = 'auto' | 'free';

const ROUTERS: ReadonlyMap<string, ModelRouter> = new Map([
  ['openrouter/auto', 'auto'],
  ['freeway/auto', 'auto'],
  ['openrouter/free', 'free'],
]);

/** The router a model ref names, if it names one. */
export function routerOf(ref: string): ModelRouter | undefined {
  return ROUTERS.get(ref.toLowerCase());
}

export interface AutoPolicy {
  policy: 'cheapest' | 'fastest' | 'ordered';
  models?: readonly string[];
}

export const DEFAULT_AUTO_POLICY: AutoPolicy = { policy: 'cheapest' };

/** How many models a router hands the planner: its choice and two fallbacks. */
export const ROUTER_CHOICES = 3;

export interface ChooseInput {
  catalog: Catalog;
  router: ModelRouter;
  needs: RouteNeeds;
  prefs: RoutePreferences;
  health: RouteHealth;
  policy?: AutoPolicy;
  /** Freeway's fee, so `max_price` compares with what the key is charged. */
  markupBp?: number;
  /** The model this conversation went to before, if any (sticky routing). */
  sticky?: string;
  /** Uniform in [0, 1); Math.random when absent (the free router's draw). */
  random?: () => number;
  now?: number;
}

interface Scored {
  model: CatalogModel;
  hasCapacity: boolean;
  price: bigint;
  throughput: number | null;
  rank: number;
}

const isFreeModel = (m: CatalogModel): boolean => m.id.endsWith(':free') || (m.endpoints.length > 0 && m.endpoints.every((e) => e.free));

function pool(catalog: Catalog, router: ModelRouter, policy: AutoPolicy): CatalogModel[] {
  const chat = (m: CatalogModel | undefined): m is CatalogModel => m !== undefined && m.kind === 'chat';
  if (router === 'free') return catalog.all().filter((m) => chat(m) && isFreeModel(m));
  if (policy.models) return policy.models.map((id) => catalog.get(id)).filter(chat);
  return catalog.all().filter((m) => chat(m) && !isFreeModel(m));
}

/**
 * The models a router can route to at all: its pool, less those with no priced endpoint (which no
 * request can reach, router/plan/filters.ts). Empty when the router can serve nothing here; what
 * `GET /models` describes a router by (doors/openai/router-models.ts).
 */
export function routablePool(catalog: Catalog, router: ModelRouter, policy: AutoPolicy = DEFAULT_AUTO_POLICY): CatalogModel[] {
  return pool(catalog, router, policy).filter((m) => m.endpoints.some((e) => !e.unpriced));
}

/** The endpoints of `m` that can serve the request. */
function usableEndpoints(m: CatalogModel, input: ChooseInput): Endpoint[] {
  const reasoning = input.needs.parameters.has('reasoning');
  return m.endpoints.filter(
    (endpoint) =>
      hardFilters({ model: m, endpoint }, input.needs, input.prefs, input.markupBp ?? 0).length === 0 &&
      (!reasoning || endpoint.supportsReasoning === true),
  );
}

/** What the request needs, for the 404 when nothing in the pool has it. */
function describeNeeds(input: ChooseInput): string {
  const n = input.needs;
  const wants = [
    n.tools && 'tool use',
    n.jsonSchema && 'structured outputs',
    n.images && 'image input',
    n.files && 'file input',
    n.audio && 'audio input',
    n.parameters.has('reasoning') && 'reasoning',
    n.promptTokens > 0 && `a context of at least ${n.promptTokens} tokens`,
    n.maxTokens !== undefined && `${n.maxTokens} output tokens`,
  ].filter((w): w is string => typeof w === 'string');
  return wants.length > 0 ? ` (it needs ${wants.join(', ')})` : '';
}

/** The models to route the request to, best first; throws a 404 when none can serve it. */
export function chooseModels(input: ChooseInput): string[] {
  const policy = input.policy ?? DEFAULT_AUTO_POLICY;
  const random = input.random ?? Math.random;
  const scored: Scored[] = [];
  for (const [rank, model] of pool(input.catalog, input.router, policy).entries()) {
    const usable = usableEndpoints(model, input);
    if (usable.length === 0) continue;
    let price: bigint | undefined;
    let throughput: number | null = null;
    let hasCapacity = false;
    for (const e of usable) {
      const p = e.pricing.prompt + e.pricing.completion;
      if (price === undefined || p < price) price = p;
      const key = endpointKey(e);
      if (input.health.circuit(key, input.now) !== 'open') hasCapacity = true;
      if (input.router === 'auto' && policy.policy === 'fastest') {
        const t = input.health.stats(key, input.now).throughput30m?.p50 ?? null;
        if (t !== null && (throughput === null || t > throughput)) throughput = t;
      }
    }
    scored.push({ model, hasCapacity, price: price!, throughput, rank: input.router === 'free' ? random() : rank });
  }
  if (scored.length === 0) {
    const name = input.router === 'free' ? 'openrouter/free' : 'openrouter/auto';
    const what = input.router === 'free' ? 'free model' : 'model';
    throw new GatewayError('not_found', `${name}: no ${what} in the catalog can serve this request${describeNeeds(input)}.`, {
      metadata: { param: 'model' },
      retryable: false,
    });
  }
  scored.sort((a, b) => {
    if (a.hasCapacity !== b.hasCapacity) return a.hasCapacity ? -1 : 1;
    if (input.router === 'free' || policy.policy === 'ordered') return a.rank - b.rank;
    if (policy.policy === 'fastest' && a.throughput !== b.throughput) {
      if (a.throughput === null || b.throughput === null) return a.throughput === null ? 1 : -1;
      return b.throughput - a.throughput;
    }
    return a.price === b.price ? a.model.id.localeCompare(b.model.id) : a.price < b.price ? -1 : 1;
  });
  const ids = scored.map((s) => s.model.id);
  const stuck = input.sticky === undefined ? -1 : ids.indexOf(input.sticky);
  // Back to the conversation's model while it fits and has capacity (an open circuit would only fail it).
  if (stuck > 0 && scored[stuck].hasCapacity) ids.unshift(...ids.splice(stuck, 1));
  return ids.slice(0, ROUTER_CHOICES);
}

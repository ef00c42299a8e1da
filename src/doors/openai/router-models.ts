/**
 * The model routers as rows of the catalog routes (`/models`, `/models/user`, `/models/count`,
 * `/model/{author}/{slug}`, `/models/{author}/{slug}/endpoints`), as OpenRouter lists its own:
 * clients and model pickers choose from `/models`, so a router that works here is listed, and one
 * that cannot serve anything here is not.
 *
 * - `openrouter/auto` ("Auto Router"): listed while its pool (`routing.auto.models`, else every
 *   paid chat model) has a model with a priced endpoint. Priced "-1", OpenRouter's own value for it:
 *   each request is charged at the rate of the model that serves it.
 * - `openrouter/free` ("Free Models Router"): listed while a `:free` model is configured. Priced
 *   "0", as OpenRouter's: every model it picks among is free.
 * - `freeway/auto` is another name for `openrouter/auto`, not a row of its own (as an alias of a
 *   model is not): `/model/freeway/auto` and its endpoints answer with the `openrouter/auto` row.
 *
 * Each row describes what the router routes among on this gateway, not on OpenRouter: its context
 * length and output cap are the largest of those models', its modalities and supported parameters
 * their union, its description names them, and its endpoints are theirs. A row is a CatalogModel
 * (so one filter and one sort serve every row) built per catalog build and policy; it is never in
 * the catalog, so routing never sees it.
 */
import type { Catalog } from '../../catalog/catalog.ts';
import type { CatalogModel, Endpoint, Modality } from '../../catalog/types.ts';
import { DEFAULT_AUTO_POLICY, routablePool, routerOf } from '../../router/auto.ts';
import type { AutoPolicy, ModelRouter } from '../../router/auto.ts';

export interface RouterRow extends CatalogModel {
  router: ModelRouter;
  /** The models it routes among (each has a priced endpoint); `endpoints` are their priced endpoints. */
  routesTo: readonly CatalogModel[];
  /** Charged at the rate of whichever model serves (listed "-1"), rather than one price. */
  variablePrice: boolean;
}

export const isRouterRow = (m: CatalogModel): m is RouterRow => (m as Partial<RouterRow>).router !== undefined;

interface Listing {
  id: string;
  router: ModelRouter;
  name: string;
  /** OpenRouter's `created` for the router, so a client that knows it sees the same row. */
  created: number;
}

/** In id order (the catalog's default order). */
const LISTINGS: readonly Listing[] = [
  // 2023-11-08, the Auto Router's release on OpenRouter.
  { id: 'openrouter/auto', router: 'auto', name: 'Auto Router', created: 1_699_401_600 },
  // 2026-02-01, the Free Models Router's.
  { id: 'openrouter/free', router: 'free', name: 'Free Models Router', created: 1_769_904_000 },
];

/** How many of the models it routes among a description names before "and N more". */
const NAMED = 25;

const INPUT_ORDER: readonly Modality[] = ['text', 'image', 'file', 'audio', 'video'];
const OUTPUT_ORDER: readonly string[] = ['text', 'image', 'audio', 'video', 'embeddings'];

const POLICY_TEXT: Record<AutoPolicy['policy'], string> = {
  cheapest: 'the cheapest of them that has what the request needs',
  fastest: 'the fastest this gateway has measured of those that have what the request needs (unmeasured ones after, cheapest first)',
  ordered: "the first in the operator's list that has what the request needs",
};

const NEEDS = 'tool use, structured outputs, image, file or audio input, reasoning, context length, provider preferences';

function named(models: readonly CatalogModel[], id: string): string {
  const shown = models.slice(0, NAMED).map((m) => m.id);
  const more = models.length - shown.length;
  const rest = more > 0 ? `, and ${more} more (/api/v1/models/${id}/endpoints lists them all)` : '';
  return `${shown.join(', ')}${rest}`;
}

/** `one of the 3 free models`, `the one free model`. */
const oneOf = (n: number, what: string) => (n === 1 ? `the one ${what}` : `one of the ${n} ${what}s`);

function describe(l: Listing, models: readonly CatalogModel[], policy: AutoPolicy, variablePrice: boolean): string {
  const n = models.length;
  if (l.router === 'auto') {
    return (
      `Routes each request to ${oneOf(n, 'model')} this gateway serves: ${POLICY_TEXT[policy.policy]} (${NEEDS}), ` +
      'then the next ones as fallbacks; a conversation stays on its model. Charged at the rate of the model that serves ' +
      "(priced -1 here: it varies), and the answer's `model` names it. Also called freeway/auto. " +
      `Routes among: ${named(models, l.id)}.`
    );
  }
  return (
    `Picks at random, for each request, ${oneOf(n, 'free model')} this gateway serves ` +
    `that has what the request needs (${NEEDS}); a conversation stays on its model. ` +
    `${variablePrice ? 'Charged at the rate of the model that serves' : 'Free of charge'}, and the answer's \`model\` names the model that served. ` +
    `Routes among: ${named(models, l.id)}.`
  );
}

const maxOf = (values: Array<number | null>): number | null =>
  values.reduce<number | null>((a, v) => (v === null ? a : a === null || v > a ? v : a), null);

function row(l: Listing, models: readonly CatalogModel[], policy: AutoPolicy): RouterRow {
  const endpoints: Endpoint[] = [];
  const contexts: Array<number | null> = [];
  const outputs: Array<number | null> = [];
  const input = new Set<Modality>();
  const output = new Set<string>();
  for (const m of models) {
    for (const e of m.endpoints) {
      if (e.unpriced) continue;
      endpoints.push(e);
      contexts.push(e.contextLength ?? m.contextLength);
      outputs.push(e.maxOutputTokens ?? m.maxOutputTokens);
    }
    for (const i of m.inputModalities) input.add(i);
    for (const o of m.outputModalities ?? ['text']) output.add(o);
  }
  const variablePrice = l.router === 'auto' || !endpoints.every((e) => e.pricing.prompt === 0n && e.pricing.completion === 0n);
  return {
    id: l.id,
    name: l.name,
    description: describe(l, models, policy, variablePrice),
    created: l.created,
    kind: 'chat',
    // The largest among the models it routes to here. OpenRouter lists 2,000,000 for its Auto
    // Router (the largest in its own pool); a self-hosted gateway's pool is the operator's, and a
    // client sizing a prompt by a context no model here has would only meet a 404.
    contextLength: maxOf(contexts),
    maxOutputTokens: maxOf(outputs),
    // What any of them takes: the router sends a request only to one that takes what it holds.
    inputModalities: INPUT_ORDER.filter((i) => input.has(i)),
    outputModalities: OUTPUT_ORDER.filter((o) => output.has(o)) as CatalogModel['outputModalities'],
    endpoints,
    // OpenRouter's tokenizer group for its routers.
    tokenizer: 'Router',
    instructType: null,
    knowledgeCutoff: null,
    huggingFaceId: null,
    expirationDate: null,
    router: l.router,
    routesTo: models,
    variablePrice,
  };
}

interface Built {
  policyKey: string;
  rows: RouterRow[];
  /** The catalog's listed models and the router rows, in id order. */
  listed: CatalogModel[];
}

/** Per catalog build (each build has a new `all()` array), for the policy it was built for. */
const built = new WeakMap<readonly CatalogModel[], Built>();

function build(catalog: Catalog, policy: AutoPolicy | undefined): Built {
  const all = catalog.all();
  const p = policy ?? DEFAULT_AUTO_POLICY;
  const policyKey = JSON.stringify(p);
  const hit = built.get(all);
  if (hit && hit.policyKey === policyKey) return hit;
  const rows: RouterRow[] = [];
  for (const l of LISTINGS) {
    const models = routablePool(catalog, l.router, p);
    if (models.length > 0) rows.push(row(l, models, p));
  }
  const listed: CatalogModel[] = [...all];
  for (const r of rows) {
    // Where the catalog's id order puts it (Catalog sorts with localeCompare).
    const at = listed.findIndex((m) => m.id.localeCompare(r.id) > 0);
    listed.splice(at === -1 ? listed.length : at, 0, r);
  }
  const b = { policyKey, rows, listed };
  built.set(all, b);
  return b;
}

/** The rows of the routers that can serve something here. */
export function routerRows(catalog: Catalog, policy: AutoPolicy | undefined): readonly RouterRow[] {
  return build(catalog, policy).rows;
}

/** The catalog's listed models with the router rows among them, in id order: what `/models` selects from. */
export function listedModels(catalog: Catalog, policy: AutoPolicy | undefined): readonly CatalogModel[] {
  return build(catalog, policy).listed;
}

/**
 * The router a model id names, with its row when it is listed (`row` absent: the router can serve
 * nothing here); undefined when the id names no router.
 */
export function routerRowFor(
  catalog: Catalog,
  policy: AutoPolicy | undefined,
  id: string,
): { router: ModelRouter; row?: RouterRow } | undefined {
  const router = routerOf(id);
  if (!router) return undefined;
  const found = routerRows(catalog, policy).find((r) => r.router === router);
  return found ? { router, row: found } : { router };
}

/** Why a router that is not listed cannot be used here, for its 404. */
export function unservableReason(router: ModelRouter): string {
  return router === 'free'
    ? 'openrouter/free: no free model is configured on this gateway (an endpoint marked free: true makes one)'
    : 'openrouter/auto: no model it may route to has a priced endpoint on this gateway';
}

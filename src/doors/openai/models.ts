/**
 * OpenRouter's Model object, and the catalog routes that list them (`/models`, `/models/user`,
 * `/models/count`, `/embeddings/models`, `/model/{author}/{slug}`), the model routers among them
 * (router-models.ts). Each model's JSON is rendered once per catalog build, so a list is filtering
 * and string joins.
 */
import { withFee } from '../../accounting/billing.ts';
import { modelSupportedParameters } from '../../router/plan/parameters.ts';
import { femtoToUsdString } from '../../spec/money.ts';
import type { CatalogModel, Endpoint } from '../../catalog/types.ts';
import { requireInferenceKey } from '../../http/auth.ts';
import { endBody, sendJson } from '../../http/respond.ts';
import type { RouteContext } from '../../http/server.ts';
import { GatewayError } from '../../spec/errors.ts';
import { LIST_PARAMS, outputModalities, pageOf, parseModelQuery, selectModels } from './model-query.ts';
import type { ModelQuery } from './model-query.ts';
import { isRouterRow, listedModels, routerRowFor, unservableReason } from './router-models.ts';

/** Prices as the key will be charged them: the endpoint's price plus Freeway's fee. */
function pricing(e: Endpoint, markupBp: number): Record<string, string> {
  const p = e.pricing;
  const usd = (femto: bigint) => femtoToUsdString(withFee(femto, markupBp));
  const out: Record<string, string> = { prompt: usd(p.prompt), completion: usd(p.completion) };
  if (p.cacheRead !== undefined) out.input_cache_read = usd(p.cacheRead);
  if (p.cacheWrite !== undefined) out.input_cache_write = usd(p.cacheWrite);
  if (p.reasoning !== undefined) out.internal_reasoning = usd(p.reasoning);
  if (p.request !== undefined) out.request = usd(p.request);
  if (p.image !== undefined) out.image = usd(p.image);
  if (p.webSearch !== undefined) out.web_search = usd(p.webSearch);
  return out;
}

/**
 * A model no one has priced yet (a provider lists it, the data has no price): listed so the
 * operator and clients see it, with OpenRouter's "-1" (a price not fixed in advance) rather than
 * "0", which would read as free. It is not served until priced (router/plan/filters.ts).
 */
const UNPRICED = { prompt: '-1', completion: '-1' };

/**
 * A router charged at the rate of whichever model serves (`openrouter/auto`): "-1", as OpenRouter
 * lists its Auto Router. The routed model's own row has the price.
 */
const VARIABLE = { prompt: '-1', completion: '-1' };

export function modelObject(m: CatalogModel, markupBp = 0): Record<string, unknown> {
  const top = m.endpoints[0];
  const router = isRouterRow(m) ? m : undefined;
  const output = outputModalities(m);
  return {
    id: m.id,
    canonical_slug: m.id,
    hugging_face_id: m.huggingFaceId ?? null,
    name: m.name,
    created: m.created,
    description: m.description,
    context_length: m.contextLength,
    architecture: {
      modality: `${m.inputModalities.join('+')}->${output.join('+')}`,
      input_modalities: m.inputModalities,
      output_modalities: output,
      // OpenRouter always names a tokenizer group; `Other` is its own word for none of its named ones.
      tokenizer: m.tokenizer ?? 'Other',
      instruct_type: m.instructType ?? null,
    },
    knowledge_cutoff: m.knowledgeCutoff ?? null,
    expiration_date: m.expirationDate ?? null,
    pricing: router?.variablePrice ? VARIABLE : top.unpriced ? UNPRICED : pricing(top, markupBp),
    // A router's: the largest context and output cap among the models it routes to.
    top_provider: {
      context_length: router ? m.contextLength : (top.contextLength ?? m.contextLength),
      max_completion_tokens: router ? m.maxOutputTokens : (top.maxOutputTokens ?? m.maxOutputTokens),
      is_moderated: false,
    },
    per_request_limits: null,
    supported_parameters: m.kind === 'embedding' ? [] : modelSupportedParameters(m.endpoints),
    default_parameters: {},
    supported_voices: null,
    links: { details: `/api/v1/models/${m.id}/endpoints` },
  };
}

/** Each model's rendered JSON, kept per catalog build (models are rebuilt, never changed in place). */
const rendered = new WeakMap<CatalogModel, { markupBp: number; text: string }>();

function modelJson(m: CatalogModel, markupBp: number): string {
  let hit = rendered.get(m);
  if (!hit || hit.markupBp !== markupBp) {
    hit = { markupBp, text: JSON.stringify(modelObject(m, markupBp)) };
    rendered.set(m, hit);
  }
  return hit.text;
}

/** The catalog's models and the routers that can serve something here (router-models.ts), as the query selects them. */
function select(ctx: RouteContext, q: ModelQuery): CatalogModel[] {
  const models = listedModels(ctx.app.catalog, ctx.app.settings.routing.auto);
  return selectModels(models, q, { markupBp: ctx.app.billing.settings.markupBp, health: ctx.app.health });
}

/** A page of models in OpenRouter's list envelope, assembled from each model's cached JSON. */
function sendModels(ctx: RouteContext, q: ModelQuery): void {
  const markupBp = ctx.app.billing.settings.markupBp;
  const page = pageOf(select(ctx, q), q, ctx.url);
  const data = page.data.map((m) => modelJson(m, markupBp)).join(',');
  const text = `{"data":[${data}],"total_count":${page.total_count},"links":${JSON.stringify(page.links)}}`;
  ctx.res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  endBody(ctx.res, text);
}

/** `GET /models`: the catalog, filtered, sorted and paged as OpenRouter's (see model-query.ts). Public. */
export async function handleModels(ctx: RouteContext): Promise<void> {
  sendModels(ctx, parseModelQuery(ctx.url.searchParams));
}

/**
 * `GET /models/user`: the models the calling key may use, with the same filters. Freeway restricts
 * no model per key (free-tier allowances limit how often, not which), so it is the public list — for
 * a valid inference key only, as on OpenRouter.
 */
export async function handleUserModels(ctx: RouteContext): Promise<void> {
  await requireInferenceKey(ctx.app, ctx.req);
  sendModels(ctx, parseModelQuery(ctx.url.searchParams));
}

const EMBEDDING_PARAMS: ReadonlySet<string> = new Set([...LIST_PARAMS].filter((p) => p !== 'output_modalities'));

/** `GET /embeddings/models`: the embedding models, as `/models?output_modalities=embeddings` lists them. */
export async function handleEmbeddingModels(ctx: RouteContext): Promise<void> {
  sendModels(ctx, parseModelQuery(ctx.url.searchParams, EMBEDDING_PARAMS, 'embeddings'));
}

/** `GET /models/count`: how many models `/models` lists for the same filters. */
export async function handleModelsCount(ctx: RouteContext): Promise<void> {
  sendJson(ctx.res, 200, { data: { count: select(ctx, parseModelQuery(ctx.url.searchParams)).length } });
}

/**
 * The model a catalog route names: a catalog model, or a router's row (`freeway/auto` is the
 * `openrouter/auto` row). A 404 when there is none, or the router can serve nothing here.
 */
export function findListedModel(ctx: RouteContext, id: string): CatalogModel {
  const routed = routerRowFor(ctx.app.catalog, ctx.app.settings.routing.auto, id);
  if (routed?.row) return routed.row;
  if (routed) throw new GatewayError('not_found', unservableReason(routed.router), { retryable: false });
  const m = ctx.app.catalog.get(id);
  if (!m) throw new GatewayError('not_found', `Model ${id} not found`, { retryable: false });
  return m;
}

export async function handleModel(ctx: RouteContext): Promise<void> {
  const m = findListedModel(ctx, `${ctx.params.author}/${ctx.params.slug}`);
  sendJson(ctx.res, 200, { data: modelObject(m, ctx.app.billing.settings.markupBp) });
}

/**
 * `GET /models/{author}/{slug}/endpoints`: the endpoints serving one model (a model router's: those
 * of the models it routes to), in OpenRouter's shape,
 * with each one's live health (circuit, uptime, TTFT and throughput percentiles); and
 * `GET /endpoints/zdr`, the zero-data-retention endpoints of every model in that shape. Public.
 *
 * Prices and architecture come from the `/models` renderer (`modelObject`, applied to the model
 * narrowed to one endpoint), so the two routes cannot disagree; supported parameters are the ones
 * routing checks `require_parameters` against.
 */
import type { CatalogModel, Endpoint } from '../catalog/types.ts';
import { findListedModel, modelObject } from '../doors/openai/models.ts';
import { isRouterRow } from '../doors/openai/router-models.ts';
import { supportedParameters } from '../router/plan/parameters.ts';
import type { EndpointStats, Percentiles } from '../router/types.ts';
import { endpointKey } from '../catalog/endpoint-key.ts';
import { isZdr, servable } from '../doors/openai/model-query.ts';
import { invalidRequest } from '../spec/errors.ts';
import { sendJson } from './respond.ts';
import type { RouteContext } from './server.ts';

export async function handleModelEndpoints(ctx: RouteContext): Promise<void> {
  const m = findListedModel(ctx, `${ctx.params.author}/${ctx.params.slug}`);
  const { health } = ctx.app;
  const markupBp = ctx.app.billing.settings.markupBp;
  const model = modelObject(m, markupBp);
  // A router has no endpoint of its own: it lists those of the models it routes to, each under its
  // model's id and name (`model_id`, `name`), with that model's price.
  const endpoints = isRouterRow(m)
    ? m.routesTo.flatMap((r) =>
        r.endpoints.filter((e) => !e.unpriced).map((e) => endpointObject(r, e, health.stats(endpointKey(e)), markupBp)),
      )
    : m.endpoints.map((e) => endpointObject(m, e, health.stats(endpointKey(e)), markupBp));
  sendJson(ctx.res, 200, {
    data: {
      id: m.id,
      name: m.name,
      created: m.created,
      description: m.description,
      architecture: model.architecture,
      endpoints,
    },
  });
}

/**
 * `GET /endpoints/zdr`: every endpoint that keeps no prompts (the router's `provider.zdr`), across the
 * models `/models` lists, in the same shape and with the same health as a model's endpoints. Public.
 */
export async function handleZdrEndpoints(ctx: RouteContext): Promise<void> {
  const unknown = [...ctx.url.searchParams.keys()][0];
  if (unknown !== undefined) throw invalidRequest(`${unknown}: unknown query parameter`, { param: unknown });
  const { health } = ctx.app;
  const markupBp = ctx.app.billing.settings.markupBp;
  const data: Record<string, unknown>[] = [];
  for (const m of ctx.app.catalog.all()) {
    if (!servable(m)) continue;
    for (const e of m.endpoints) if (!e.unpriced && isZdr(e)) data.push(endpointObject(m, e, health.stats(endpointKey(e)), markupBp));
  }
  sendJson(ctx.res, 200, { data });
}

export function endpointObject(m: CatalogModel, e: Endpoint, stats: EndpointStats, markupBp: number): Record<string, unknown> {
  const priced = modelObject({ ...m, endpoints: [e] }, markupBp);
  const contextLength = e.contextLength ?? m.contextLength;
  const params = m.kind === 'embedding' ? [] : [...supportedParameters(e)];
  const toolChoice = params.includes('tool_choice');
  return {
    name: `${e.provider.name}: ${m.name}`,
    model_id: m.id,
    model_name: m.name,
    // OpenRouter's schema (and its SDK) require a number here: 0 says "not known", where
    // `max_prompt_tokens`, which may be null, says it plainly.
    context_length: contextLength ?? 0,
    pricing: priced.pricing,
    provider_name: e.provider.name,
    tag: e.provider.id,
    quantization: e.quantization,
    max_completion_tokens: e.maxOutputTokens ?? m.maxOutputTokens,
    // No separate prompt cap is known: the prompt may use the whole context.
    max_prompt_tokens: contextLength,
    // Embedding models take none of the chat vocabulary (as in `/models`).
    supported_parameters: params,
    // Which `tool_choice` values work: Freeway translates all four for every protocol it speaks.
    supports_tool_choice: { auto: toolChoice, none: toolChoice, required: toolChoice, function: toolChoice },
    // OpenRouter: 0 is normal, negative codes are degraded. A half-open circuit is still not
    // generally available (one probe at a time), so it reports like an open one. An endpoint
    // without a price is not served at all until the operator prices it: -10, disabled.
    status: e.unpriced ? -10 : stats.circuit === 'closed' ? 0 : -1,
    uptime_last_5m: round(stats.uptime5m, 2),
    uptime_last_30m: round(stats.uptime30m, 2),
    // Not tracked beyond 30 minutes; null is OpenRouter's "not enough data".
    uptime_last_1d: null,
    // OpenRouter's examples give latency in seconds (its prose says ms); health keeps ms.
    latency_last_30m: scale(stats.latency30m, 1 / 1000, 3),
    throughput_last_30m: scale(stats.throughput30m, 1, 2),
    supports_implicit_caching: implicitCaching(e),
  };
}

/**
 * Caching without `cache_control` markers: OpenAI-style and Gemini upstreams cache prompt prefixes
 * on their own, and a cache-read price says this endpoint bills for it. Anthropic caches only what
 * the request marks.
 */
function implicitCaching(e: Endpoint): boolean {
  return e.pricing.cacheRead !== undefined && e.provider.protocol !== 'anthropic';
}

function round(v: number | null, digits: number): number | null {
  if (v === null) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function scale(p: Percentiles | null, factor: number, digits: number): Percentiles | null {
  if (!p) return null;
  const s = (v: number) => round(v * factor, digits) as number;
  return { p50: s(p.p50), p75: s(p.p75), p90: s(p.p90), p99: s(p.p99) };
}

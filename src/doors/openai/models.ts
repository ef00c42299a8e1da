/**
 * `GET /models`: OpenRouter's Model objects for everything the live providers can serve. Public.
 * The rendered list is cached per catalog build, so a request is a string write.
 */
import { withFee } from '../../accounting/billing.ts';
import { modelSupportedParameters } from '../../router/plan/parameters.ts';
import { femtoToUsdString } from '../../accounting/money.ts';
import type { Catalog } from '../../catalog/catalog.ts';
import type { CatalogModel, Endpoint } from '../../catalog/types.ts';
import { sendJson } from '../../http/respond.ts';
import type { RouteContext } from '../../http/server.ts';
import { GatewayError } from '../../spec/errors.ts';

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

export function modelObject(m: CatalogModel, markupBp = 0): Record<string, unknown> {
  const top = m.endpoints[0];
  const output = m.outputModalities ?? (m.kind === 'embedding' ? ['embeddings'] : ['text']);
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
    pricing: top.unpriced ? UNPRICED : pricing(top, markupBp),
    top_provider: {
      context_length: top.contextLength ?? m.contextLength,
      max_completion_tokens: top.maxOutputTokens ?? m.maxOutputTokens,
      is_moderated: false,
    },
    per_request_limits: null,
    supported_parameters: m.kind === 'embedding' ? [] : modelSupportedParameters(m.endpoints),
    default_parameters: {},
    supported_voices: null,
    links: { details: `/api/v1/models/${m.id}/endpoints` },
  };
}

const cache = new WeakMap<readonly CatalogModel[], { text: string; count: number }>();

function renderAll(catalog: Catalog, markupBp: number): { text: string; count: number } {
  const all = catalog.all();
  let hit = cache.get(all);
  if (!hit) {
    const data = all.map((m) => modelObject(m, markupBp));
    hit = { text: JSON.stringify({ data, total_count: data.length, links: { next: null } }), count: data.length };
    cache.set(all, hit);
  }
  return hit;
}

/** The models `/models` lists for a query's `output_modalities` and `supported_parameters` filters. */
function filteredModels(ctx: RouteContext, out: string | null, supported: string | null): Record<string, unknown>[] {
  const wantOut = out && out !== 'all' ? new Set(out.split(',')) : undefined;
  const wantParams = supported ? supported.split(',').filter(Boolean) : [];
  return ctx.app.catalog
    .all()
    .map((m) => modelObject(m, ctx.app.billing.settings.markupBp))
    .filter((m) => {
      const arch = m.architecture as { output_modalities: string[] };
      if (wantOut && !arch.output_modalities.some((o) => wantOut.has(o))) return false;
      const params = m.supported_parameters as string[];
      return wantParams.every((p) => params.includes(p));
    });
}

export async function handleModels(ctx: RouteContext): Promise<void> {
  const { url, app, res } = ctx;
  const out = url.searchParams.get('output_modalities');
  const supported = url.searchParams.get('supported_parameters');
  if (!out && !supported) {
    const { text } = renderAll(app.catalog, app.billing.settings.markupBp);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  const data = filteredModels(ctx, out, supported);
  sendJson(res, 200, { data, total_count: data.length, links: { next: null } });
}

/** `GET /embeddings/models`: the embedding models, as `/models?output_modalities=embeddings` lists them. */
export async function handleEmbeddingModels(ctx: RouteContext): Promise<void> {
  const data = filteredModels(ctx, 'embeddings', ctx.url.searchParams.get('supported_parameters'));
  sendJson(ctx.res, 200, { data, total_count: data.length, links: { next: null } });
}

/** `GET /models/count`: how many models `/models` lists for the same filters. */
export async function handleModelsCount(ctx: RouteContext): Promise<void> {
  const out = ctx.url.searchParams.get('output_modalities');
  const supported = ctx.url.searchParams.get('supported_parameters');
  const count = !out && !supported ? renderAll(ctx.app.catalog, ctx.app.billing.settings.markupBp).count : filteredModels(ctx, out, supported).length;
  sendJson(ctx.res, 200, { data: { count } });
}

export async function handleModel(ctx: RouteContext): Promise<void> {
  const id = `${ctx.params.author}/${ctx.params.slug}`;
  const m = ctx.app.catalog.get(id);
  if (!m) throw new GatewayError('not_found', `Model ${id} not found`, { retryable: false });
  sendJson(ctx.res, 200, { data: modelObject(m, ctx.app.billing.settings.markupBp) });
}

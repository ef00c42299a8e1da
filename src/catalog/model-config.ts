/**
 * The config's `models:` section applied to the built catalog: it adds models and overrides what
 * the data says. An id that names a model already there by another spelling (the dashed
 * `anthropic/claude-sonnet-4-5` for `anthropic/claude-sonnet-4.5`) applies to that model.
 */
import { usdPerTokenToFemto } from '../spec/money.ts';
import type { ModelConfig, PricingConfig } from '../config/schema.ts';
import type { ProviderInstance } from '../providers/types.ts';
import { idKey } from './canonical.ts';
import { familyDefaults, familyReasons, isEmbeddingModel } from './defaults.ts';
import { FREE } from './types.ts';
import type { CatalogModel, Endpoint, Pricing } from './types.ts';

export function pricingFrom(cfg: PricingConfig | undefined, fallback: Pricing): Pricing {
  if (!cfg) return fallback;
  const f = (v: string | undefined): bigint | undefined => (v === undefined ? undefined : usdPerTokenToFemto(v));
  return {
    prompt: f(cfg.prompt) ?? fallback.prompt,
    completion: f(cfg.completion) ?? fallback.completion,
    cacheRead: f(cfg.input_cache_read) ?? fallback.cacheRead,
    cacheWrite: f(cfg.input_cache_write) ?? fallback.cacheWrite,
    reasoning: f(cfg.internal_reasoning) ?? fallback.reasoning,
    request: f(cfg.request) ?? fallback.request,
    image: f(cfg.image) ?? fallback.image,
    webSearch: f(cfg.web_search) ?? fallback.webSearch,
  };
}

export const reasons = (v: boolean | undefined): { supportsReasoning?: boolean } => (v === undefined ? {} : { supportsReasoning: v });

/** Priced endpoints first, then cheapest: the catalog order, which the router refines per request. */
export function sortEndpoints(endpoints: Endpoint[]): void {
  const cost = (e: Endpoint) => e.pricing.prompt + e.pricing.completion;
  endpoints.sort((a, b) => Number(a.unpriced === true) - Number(b.unpriced === true) || Number(cost(a) - cost(b)));
}

export interface ModelConfigContext {
  models: Map<string, CatalogModel>;
  aliases: Map<string, string>;
  /** `provider\nupstream` → the endpoint the data built for it. */
  known: ReadonlyMap<string, Endpoint>;
  live: ReadonlyMap<string, ProviderInstance>;
  notes: string[];
  nowSec: number;
}

/** The listed model a configured id names: itself, an alias, or the same id spelled with dots or dashes. */
function targetOf(ctx: ModelConfigContext, id: string): string {
  if (ctx.models.has(id)) return id;
  const alias = ctx.aliases.get(id);
  if (alias !== undefined && ctx.models.has(alias)) return alias;
  const key = idKey(id);
  for (const m of ctx.models.keys()) if (idKey(m) === key) return m;
  return id;
}

export function applyModelConfig(ctx: ModelConfigContext, configuredId: string, cfg: ModelConfig): void {
  const { models, live, notes } = ctx;
  const id = targetOf(ctx, configuredId);
  if (id !== configuredId) ctx.aliases.set(configuredId, id);
  const existing = models.get(id);
  let endpoints: Endpoint[] = existing?.endpoints ?? [];
  if (cfg.endpoints) {
    endpoints = [];
    for (const e of cfg.endpoints) {
      const provider = live.get(e.provider);
      if (!provider) {
        notes.push(`models.${configuredId}: endpoint ${e.provider}/${e.model} is skipped because provider ${e.provider} is not live`);
        continue;
      }
      const known = ctx.known.get(`${provider.id}\n${e.model}`);
      const basePricing = e.free ? FREE : (known?.pricing ?? FREE);
      const pricing = e.free ? FREE : pricingFrom(e.pricing ?? cfg.pricing, basePricing);
      const unpriced = !e.free && !e.pricing && !cfg.pricing && (known ? known.unpriced === true : Boolean(provider.apiKey));
      if (unpriced) {
        const what = `models.${configuredId}: ${e.provider}/${e.model}`;
        notes.push(`${what} has no known price; it is not served until you set its pricing (or free: true)`);
      }
      endpoints.push({
        provider,
        upstreamModel: e.model,
        pricing,
        free: e.free === true,
        ...(unpriced ? { unpriced: true } : {}),
        contextLength: e.contextLength ?? cfg.contextLength ?? known?.contextLength ?? null,
        maxOutputTokens: e.maxOutputTokens ?? cfg.maxOutputTokens ?? known?.maxOutputTokens ?? null,
        quantization: e.quantization ?? known?.quantization ?? null,
        dataCollection: e.dataCollection ?? known?.dataCollection ?? 'allow',
        supportsTools: e.supportsTools ?? known?.supportsTools ?? true,
        supportsStructuredOutputs: e.supportsStructuredOutputs ?? known?.supportsStructuredOutputs ?? true,
        ...reasons(e.supportsReasoning ?? known?.supportsReasoning ?? familyReasons(e.model)),
      });
    }
  } else if (cfg.pricing) {
    // A configured price makes an endpoint priced.
    endpoints = endpoints.map(({ unpriced: _u, ...e }) => ({ ...e, pricing: pricingFrom(cfg.pricing, e.pricing) }));
  }
  if (endpoints.length === 0) {
    models.delete(id);
    return;
  }
  sortEndpoints(endpoints);
  const fam = familyDefaults(id);
  models.set(id, {
    ...existing,
    id,
    name: cfg.name ?? existing?.name ?? id,
    description: cfg.description ?? existing?.description ?? '',
    created: existing?.created ?? ctx.nowSec,
    kind: existing?.kind ?? (isEmbeddingModel(id) ? 'embedding' : 'chat'),
    contextLength: cfg.contextLength ?? existing?.contextLength ?? endpoints[0].contextLength,
    maxOutputTokens: cfg.maxOutputTokens ?? existing?.maxOutputTokens ?? fam.maxOutputTokens,
    inputModalities: cfg.inputModalities ?? existing?.inputModalities ?? fam.inputModalities,
    endpoints,
  });
}

/**
 * Builds the catalog once (at start-up, and again when a provider's model list arrives): priced
 * models of each live provider, plus the models the provider lists or the config declares, plus the
 * config's `models:` section, which adds models and overrides anything above.
 */
import type { Settings } from '../config/load.ts';
import type { ModelConfig, PricingConfig } from '../config/schema.ts';
import { usdPerTokenToFemto } from '../spec/money.ts';
import { PRESET_BY_ID } from '../providers/presets.ts';
import type { ProviderInstance } from '../providers/types.ts';
import { familyDefaults, familyReasons, isEmbeddingModel } from './defaults.ts';
import { matches, pricedModels } from './genai-prices-source.ts';
import { tierPrices } from './service-tiers.ts';
import type { PricedModel } from './genai-prices-source.ts';
import { FREE } from './types.ts';
import type { CatalogModel, Endpoint, Pricing } from './types.ts';

export interface BuildInput {
  settings: Settings;
  /** Model ids each provider reported from its own list endpoint. */
  discovered: ReadonlyMap<string, readonly string[]>;
  now?: Date;
}

export interface BuildOutput {
  models: Map<string, CatalogModel>;
  /** Things an operator should know (unpriced models, endpoints of providers that are not live). */
  notes: string[];
}

function createdFrom(id: string, fallback: number): number {
  const m = /(20\d\d)-?(\d\d)-?(\d\d)/.exec(id);
  if (!m) return fallback;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 1000;
  return Number.isFinite(t) ? t : fallback;
}

function titleOf(provider: ProviderInstance, name: string): string {
  return `${provider.name}: ${name}`;
}

function pricingFrom(cfg: PricingConfig | undefined, fallback: Pricing): Pricing {
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

const reasons = (v: boolean | undefined): { supportsReasoning?: boolean } => (v === undefined ? {} : { supportsReasoning: v });

export function buildCatalog(input: BuildInput): BuildOutput {
  const { settings } = input;
  const nowSec = Math.floor((input.now ?? new Date()).getTime() / 1000);
  const models = new Map<string, CatalogModel>();
  const notes: string[] = [];
  const live = new Map(settings.providers.map((p) => [p.id, p]));

  const add = (provider: ProviderInstance, upstream: string, name: string, pricing: Pricing, extra: Partial<CatalogModel> & { unpriced?: boolean } = {}) => {
    const author = PRESET_BY_ID.get(provider.id)?.authorSlug ?? provider.id;
    const id = `${author}/${upstream}`;
    const embedding = isEmbeddingModel(upstream);
    const fam = embedding ? { maxOutputTokens: null, inputModalities: ['text' as const] } : familyDefaults(upstream);
    const endpoint: Endpoint = {
      provider,
      upstreamModel: upstream,
      pricing,
      free: false,
      ...(extra.unpriced ? { unpriced: true } : {}),
      contextLength: extra.contextLength ?? null,
      maxOutputTokens: fam.maxOutputTokens,
      quantization: null,
      dataCollection: provider.dataCollection ?? 'allow',
      supportsTools: !embedding,
      supportsStructuredOutputs: !embedding,
      ...reasons(embedding ? false : familyReasons(upstream)),
    };
    models.set(id, {
      id,
      name: titleOf(provider, name),
      description: extra.description ?? '',
      created: createdFrom(upstream, nowSec),
      kind: embedding ? 'embedding' : 'chat',
      contextLength: extra.contextLength ?? null,
      maxOutputTokens: fam.maxOutputTokens,
      inputModalities: fam.inputModalities,
      endpoints: [endpoint],
    });
  };

  for (const provider of settings.providers) {
    const preset = PRESET_BY_ID.get(provider.id);
    const priced: PricedModel[] = (preset?.pricesId ? pricedModels(preset.pricesId, input.now) : []).filter(
      (pm) => !preset?.excludeModels?.test(pm.id),
    );
    for (const pm of priced) add(provider, pm.id, pm.name, pm.pricing, { contextLength: pm.contextLength, description: pm.description });
    const extra = [...(settings.declaredModels.get(provider.id) ?? []), ...(input.discovered.get(provider.id) ?? [])];
    const declared = new Set(settings.declaredModels.get(provider.id) ?? []);
    const keyless = !provider.apiKey;
    for (const upstream of extra) {
      const author = preset?.authorSlug ?? provider.id;
      if (models.has(`${author}/${upstream}`)) continue;
      const match = priced.find((pm) => matches(pm.match, upstream));
      if (match) add(provider, upstream, match.name, match.pricing, { contextLength: match.contextLength });
      else if (keyless || declared.has(upstream)) {
        if (!keyless) notes.push(`${provider.id}/${upstream} has no known price; it is not served until you set its pricing (or free: true) under models:`);
        add(provider, upstream, upstream, FREE, { unpriced: !keyless });
      }
    }
  }

  for (const [id, cfg] of Object.entries(settings.models)) applyModelConfig(models, id, cfg, live, notes, nowSec);
  splitFreeVariants(models);
  priceServerTools(models);
  priceServiceTiers(models);
  return { models, notes };
}

/** Anthropic's web search: $10 per 1,000 searches (https://docs.anthropic.com/en/docs/about-claude/pricing). */
const ANTHROPIC_WEB_SEARCH_FEMTO = 10_000_000_000_000n;
/**
 * Grounding with Google Search (https://ai.google.dev/gemini-api/docs/pricing): Gemini 3 bills each
 * search query, $14 per 1,000; Gemini 2.5 and older each grounded prompt, $35 per 1,000. The free
 * daily allowances are the operator's account's, not a price: searches are charged from the first.
 */
const GEMINI_SEARCH_QUERY_FEMTO = 14_000_000_000_000n;
const GEMINI_GROUNDED_PROMPT_FEMTO = 35_000_000_000_000n;
const GEMINI_BILLS_PER_QUERY = /^gemini-(?:[3-9]|\d\d)/;

/**
 * Tools the upstream runs itself and bills per use (Anthropic's web search, Gemini's Google Search)
 * are priced on every endpoint of that protocol that is not free, unless the config set a price:
 * their cost is charged from the usage the upstream reports, like tokens.
 */
function priceServerTools(models: Map<string, CatalogModel>): void {
  for (const m of models.values()) {
    for (const e of m.endpoints) {
      if (e.free || e.pricing.webSearch !== undefined) continue;
      if (e.provider.protocol === 'anthropic') e.pricing = { ...e.pricing, webSearch: ANTHROPIC_WEB_SEARCH_FEMTO };
      else if (e.provider.protocol === 'gemini') {
        e.pricing = GEMINI_BILLS_PER_QUERY.test(e.upstreamModel)
          ? { ...e.pricing, webSearch: GEMINI_SEARCH_QUERY_FEMTO }
          : { ...e.pricing, groundedPrompt: GEMINI_GROUNDED_PROMPT_FEMTO };
      }
    }
  }
}

/** Each paid endpoint's price at the processing tiers that change it (./service-tiers.ts), from its final standard price. */
function priceServiceTiers(models: Map<string, CatalogModel>): void {
  for (const m of models.values()) {
    for (const e of m.endpoints) {
      const tiers = e.free ? undefined : tierPrices(PRESET_BY_ID.get(e.provider.id)?.pricesId, e.upstreamModel, e.pricing);
      if (tiers) e.pricing = { ...e.pricing, tiers };
    }
  }
}

function applyModelConfig(
  models: Map<string, CatalogModel>,
  id: string,
  cfg: ModelConfig,
  live: ReadonlyMap<string, ProviderInstance>,
  notes: string[],
  nowSec: number,
): void {
  const existing = models.get(id);
  let endpoints: Endpoint[] = existing?.endpoints ?? [];
  if (cfg.endpoints) {
    endpoints = [];
    for (const e of cfg.endpoints) {
      const provider = live.get(e.provider);
      if (!provider) {
        notes.push(`models.${id}: endpoint ${e.provider}/${e.model} is skipped because provider ${e.provider} is not live`);
        continue;
      }
      const author = PRESET_BY_ID.get(provider.id)?.authorSlug ?? provider.id;
      const known = models.get(`${author}/${e.model}`)?.endpoints[0];
      const basePricing = e.free ? FREE : (known?.pricing ?? FREE);
      const pricing = e.free ? FREE : pricingFrom(e.pricing ?? cfg.pricing, basePricing);
      const unpriced = !e.free && !e.pricing && !cfg.pricing && (known ? known.unpriced === true : Boolean(provider.apiKey));
      if (unpriced) notes.push(`models.${id}: ${e.provider}/${e.model} has no known price; it is not served until you set its pricing (or free: true)`);
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
  // Cheapest first: the catalog order, which the router refines per request.
  endpoints.sort((a, b) => Number(a.pricing.prompt + a.pricing.completion - (b.pricing.prompt + b.pricing.completion)));
  const fam = familyDefaults(id);
  models.set(id, {
    id,
    name: cfg.name ?? existing?.name ?? id,
    description: cfg.description ?? existing?.description ?? '',
    created: existing?.created ?? nowSec,
    kind: existing?.kind ?? (isEmbeddingModel(id) ? 'embedding' : 'chat'),
    contextLength: cfg.contextLength ?? existing?.contextLength ?? endpoints[0].contextLength,
    maxOutputTokens: cfg.maxOutputTokens ?? existing?.maxOutputTokens ?? fam.maxOutputTokens,
    inputModalities: cfg.inputModalities ?? existing?.inputModalities ?? fam.inputModalities,
    endpoints,
  });
}

/**
 * Endpoints the operator marked `free: true` serve the model's `:free` variant, which has its own
 * allowances; the plain id keeps the paid endpoints (and disappears when there are none, so the
 * free allowance cannot be sidestepped).
 */
function splitFreeVariants(models: Map<string, CatalogModel>): void {
  for (const m of [...models.values()]) {
    const free = m.endpoints.filter((e) => e.free);
    if (free.length === 0 || m.id.endsWith(':free')) continue;
    models.set(`${m.id}:free`, { ...m, id: `${m.id}:free`, name: `${m.name} (free)`, endpoints: free });
    const paid = m.endpoints.filter((e) => !e.free);
    if (paid.length > 0) models.set(m.id, { ...m, endpoints: paid });
    else models.delete(m.id);
  }
}

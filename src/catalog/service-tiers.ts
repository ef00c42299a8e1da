/**
 * What a processing tier costs where it changes the price: a small reviewed table, since
 * @pydantic/genai-prices (0.1.8) knows only the standard tier. Keyed like the catalog's prices,
 * by the provider's id in genai-prices (`pricesId` in providers/presets.ts).
 *
 * - OpenAI (https://developers.openai.com/api/docs/guides/flex-processing, read 2026-12): "Tokens
 *   are priced at Batch API rates, with additional discounts from prompt caching" — flex is half
 *   the standard price of every kind of token, for every model. Priority processing has a price per
 *   model (https://openai.com/api-priority-processing/): the table below; a model it does not list
 *   is charged at 2.5 times its standard price, the dearest ratio on that page (GPT-5.5), so a
 *   priority answer is never charged below what it costs. OpenAI renamed priority "fast" on
 *   2026-07-30 and takes both words.
 * - Anthropic: its Priority Tier draws a prepaid capacity commitment down at the standard relative
 *   rates (https://platform.claude.com/docs/en/api/service-tiers); per token it costs what standard
 *   does, so Anthropic has no entry and `usage.service_tier: "priority"` is charged at list price.
 *
 * The tier that is charged is the one the upstream says it served (the answer's `service_tier`):
 * flex may be served as default, priority may be downgraded to default when its capacity is short.
 */
import { usdPerMillionToFemto } from '../spec/money.ts';
import type { Pricing, PricedTier } from './types.ts';

/** USD per million tokens, as the price page writes them: input, cached input, output. */
type TierRow = readonly [model: string, input: string, cachedInput: string | null, output: string];

interface TierRule {
  /** Flex: the standard price times num/den, every kind of token. */
  flex?: { num: bigint; den: bigint };
  priority?: {
    /** Models by id, matched with or without a dated-snapshot suffix (`gpt-4o-2024-08-06`). */
    table: readonly TierRow[];
    /** A model the table lacks: the standard price times num/den. */
    otherwise: { num: bigint; den: bigint };
  };
}

const OPENAI_PRIORITY: readonly TierRow[] = [
  ['gpt-5.6-sol', '10.00', '1.00', '60.00'],
  ['gpt-5.6-terra', '4.00', '0.40', '24.00'],
  ['gpt-5.6-luna', '0.40', '0.04', '2.40'],
  ['gpt-5.5', '12.50', '1.25', '75.00'],
  ['gpt-5.4-mini', '1.50', '0.15', '9.00'],
  ['gpt-5.4', '5.00', '0.50', '30.00'],
  ['gpt-5.2', '3.50', '0.35', '28.00'],
  ['gpt-5.1-codex', '2.50', '0.25', '20.00'],
  ['gpt-5.1', '2.50', '0.25', '20.00'],
  ['gpt-5-codex', '2.50', '0.25', '20.00'],
  ['gpt-5-mini', '0.45', '0.045', '3.60'],
  ['gpt-5', '2.50', '0.25', '20.00'],
  ['gpt-4.1-mini', '0.70', '0.175', '2.80'],
  ['gpt-4.1-nano', '0.20', '0.05', '0.80'],
  ['gpt-4.1', '3.50', '0.875', '14.00'],
  ['gpt-4o-2024-05-13', '8.75', null, '26.25'],
  ['gpt-4o-mini', '0.25', '0.125', '1.00'],
  ['gpt-4o', '4.25', '2.125', '17.00'],
  ['o3', '3.50', '0.875', '14.00'],
];

const TIER_RULES: Readonly<Record<string, TierRule>> = {
  openai: { flex: { num: 1n, den: 2n }, priority: { table: OPENAI_PRIORITY, otherwise: { num: 5n, den: 2n } } },
};

/** The upstream's word for the tier it served, as the catalog prices it; undefined: the standard price. */
export function pricedTier(word: string | undefined): PricedTier | undefined {
  if (word === 'flex') return 'flex';
  if (word === 'priority' || word === 'fast') return 'priority';
  return undefined;
}

/** The price of `tier` on an endpoint, or its standard price when the tier does not change it. */
export function tierPricing(p: Pricing, tier: string | undefined): Pricing {
  const t = pricedTier(tier);
  return (t !== undefined && p.tiers?.[t]) || p;
}

/**
 * The tiers an answer may be served at, for a request that asks for `requested`: the standard one
 * always (flex and priority both fall back to it), and the one asked for. An `auto` request is
 * served at the OpenAI project's default tier, which is the standard one unless its owner changed it.
 */
export function possibleTiers(requested: unknown): (PricedTier | undefined)[] {
  const t = typeof requested === 'string' ? pricedTier(requested) : undefined;
  return t === undefined ? [undefined] : [undefined, t];
}

function scaled(v: bigint | undefined, f: { num: bigint; den: bigint }): bigint | undefined {
  // Rounded up: a fraction of a femto-dollar is never charged below the published price.
  return v === undefined ? undefined : (v * f.num + f.den - 1n) / f.den;
}

function scaledTokens(p: Pricing, f: { num: bigint; den: bigint }): Pricing {
  const { tiers: _t, ...base } = p;
  return {
    ...base,
    prompt: scaled(p.prompt, f) ?? 0n,
    completion: scaled(p.completion, f) ?? 0n,
    cacheRead: scaled(p.cacheRead, f),
    cacheWrite: scaled(p.cacheWrite, f),
    reasoning: scaled(p.reasoning, f),
  };
}

/** The model itself, or a dated snapshot of it (`gpt-4o-2024-08-06`). */
function matchesRow(model: string, row: TierRow): boolean {
  return model === row[0] || (model.startsWith(`${row[0]}-`) && /^\d{4}-\d{2}-\d{2}$/.test(model.slice(row[0].length + 1)));
}

/**
 * The tier prices of one endpoint of a provider priced as `pricesId`, from its standard price
 * `p`; undefined when no tier changes this provider's price.
 */
export function tierPrices(pricesId: string | undefined, model: string, p: Pricing): Pricing['tiers'] {
  const rule = pricesId !== undefined && Object.hasOwn(TIER_RULES, pricesId) ? TIER_RULES[pricesId] : undefined;
  if (!rule) return undefined;
  const tiers: NonNullable<Pricing['tiers']> = {};
  if (rule.flex) tiers.flex = scaledTokens(p, rule.flex);
  if (rule.priority) {
    const row = rule.priority.table.find((r) => matchesRow(model, r));
    const { tiers: _t, ...base } = p;
    const prompt = row ? usdPerMillionToFemto(row[1]) : 0n;
    tiers.priority = row
      ? {
          ...base,
          prompt,
          cacheRead: row[2] === null ? undefined : usdPerMillionToFemto(row[2]),
          // The page lists no cache-write price: it keeps its standard ratio to input.
          cacheWrite: p.cacheWrite === undefined || p.prompt === 0n ? undefined : scaled(p.cacheWrite, { num: prompt, den: p.prompt }),
          completion: usdPerMillionToFemto(row[3]),
          // Reasoning tokens are output tokens on OpenAI.
          reasoning: undefined,
        }
      : scaledTokens(p, rule.priority.otherwise);
  }
  return tiers;
}

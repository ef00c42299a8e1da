/**
 * The exact cost of one generation from its usage and the endpoint's prices.
 */
import type { Usage } from '../spec/response.ts';
import type { Pricing } from '../catalog/types.ts';
import { tierPricing } from '../catalog/service-tiers.ts';
import { femtoToNanos } from '../spec/money.ts';

export interface CostBreakdown {
  /** Nano-dollars for prompt tokens (uncached, cache reads, cache writes). */
  promptNanos: number;
  /** Nano-dollars for completion tokens (including reasoning), the per-request fee and server-side searches. */
  completionNanos: number;
  totalNanos: number;
}

/**
 * `images`: input images, for a model priced per image (`image`) as well as per token. The price is
 * the one of the tier the upstream says it served (`usage.serviceTier`), where that tier has its own.
 */
export function computeCost(usage: Usage, pricing: Pricing, images = 0): CostBreakdown {
  const p = tierPricing(pricing, usage.serviceTier);
  const cacheRead = BigInt(usage.cacheReadTokens);
  const cacheWrite = BigInt(usage.cacheWriteTokens);
  const uncached = BigInt(Math.max(0, usage.inputTokens - usage.cacheReadTokens - usage.cacheWriteTokens));
  const reasoning = BigInt(Math.min(usage.reasoningTokens, usage.outputTokens));
  const visible = BigInt(usage.outputTokens) - (p.reasoning !== undefined ? reasoning : 0n);
  const promptFemto =
    uncached * p.prompt +
    cacheRead * (p.cacheRead ?? p.prompt) +
    cacheWrite * (p.cacheWrite ?? p.prompt) +
    BigInt(images) * (p.image ?? 0n);
  const completionFemto =
    visible * p.completion +
    (p.reasoning !== undefined ? reasoning * p.reasoning : 0n) +
    (p.request ?? 0n) +
    BigInt(usage.webSearchRequests ?? 0) * (p.webSearch ?? 0n) +
    ((usage.webSearchRequests ?? 0) > 0 ? (p.groundedPrompt ?? 0n) : 0n);
  const promptNanos = femtoToNanos(promptFemto);
  const totalNanos = femtoToNanos(promptFemto + completionFemto);
  return { promptNanos, completionNanos: totalNanos - promptNanos, totalNanos };
}

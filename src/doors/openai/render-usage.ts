/**
 * OpenRouter's usage object: token counts with cache and reasoning details, and what the request
 * cost, shown in full: the upstream's price, Freeway's fee, and the total charged.
 */
import { nanosToUsd } from '../../spec/money.ts';
import type { Charge } from '../../accounting/charge.ts';
import type { Usage } from '../../spec/response.ts';

export function renderUsage(u: Usage, c: Charge): Record<string, unknown> {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    cost: nanosToUsd(c.chargedNanos),
    is_byok: false,
    prompt_tokens_details: { cached_tokens: u.cacheReadTokens, cache_write_tokens: u.cacheWriteTokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens, image_tokens: 0, audio_tokens: 0 },
    cost_details: {
      upstream_inference_cost: nanosToUsd(c.upstream.totalNanos),
      upstream_inference_prompt_cost: nanosToUsd(c.upstream.promptNanos),
      upstream_inference_completions_cost: nanosToUsd(c.upstream.completionNanos),
      freeway_fee: nanosToUsd(c.feeNanos),
      total_cost: nanosToUsd(c.chargedNanos),
      ...(c.insured ? { zero_completion_insurance: true } : {}),
      // The tier the upstream said it served, whose prices these are (flex is half price on OpenAI).
      ...(c.serviceTier !== undefined ? { service_tier: c.serviceTier } : {}),
    },
  };
}

/**
 * OpenRouter's usage object: token counts with cache and reasoning details, and the cost in USD.
 */
import type { CostBreakdown } from '../../accounting/cost.ts';
import { nanosToUsd } from '../../accounting/money.ts';
import type { Usage } from '../../spec/response.ts';

export function renderUsage(u: Usage, cost: CostBreakdown): Record<string, unknown> {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    cost: nanosToUsd(cost.totalNanos),
    is_byok: false,
    prompt_tokens_details: { cached_tokens: u.cacheReadTokens, cache_write_tokens: u.cacheWriteTokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens, image_tokens: 0, audio_tokens: 0 },
    cost_details: {
      upstream_inference_cost: nanosToUsd(cost.totalNanos),
      upstream_inference_prompt_cost: nanosToUsd(cost.promptNanos),
      upstream_inference_completions_cost: nanosToUsd(cost.completionNanos),
    },
  };
}

import type { Usage } from '../../spec/response.ts';

const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/**
 * OpenAI usage (read loosely: DeepSeek's `prompt_cache_hit_tokens`, OpenRouter's cache writes), with
 * the tier the answer says served it (its `service_tier`, beside `usage`), which sets the price.
 */
export function convertOpenAIUsage(u: unknown, serviceTier?: unknown): Usage | undefined {
  if (!u || typeof u !== 'object') return undefined;
  const o = u as Record<string, unknown>;
  const pd = (o.prompt_tokens_details ?? {}) as Record<string, unknown>;
  const cd = (o.completion_tokens_details ?? {}) as Record<string, unknown>;
  return {
    inputTokens: n(o.prompt_tokens),
    outputTokens: n(o.completion_tokens),
    cacheReadTokens: n(pd.cached_tokens) || n(o.prompt_cache_hit_tokens),
    cacheWriteTokens: n(pd.cache_write_tokens),
    reasoningTokens: n(cd.reasoning_tokens),
    ...(typeof serviceTier === 'string' && serviceTier !== '' ? { serviceTier } : {}),
    raw: u,
  };
}

/**
 * Gemini usageMetadata → internal Usage. Gemini counts thinking apart from the answer
 * (`thoughtsTokenCount` is not in `candidatesTokenCount`), so output = candidates + thoughts.
 * `promptTokenCount` already includes cached tokens; `toolUsePromptTokenCount` (results of
 * Google-run tools such as search) is billed as input and added to it.
 */
import type { Usage } from '../../spec/response.ts';
import type { GeminiCandidate, GeminiUsageMetadata } from './wire-types.ts';

const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

export function convertGeminiUsage(u: GeminiUsageMetadata | undefined | null): Usage | undefined {
  if (!u || typeof u !== 'object') return undefined;
  const thoughts = n(u.thoughtsTokenCount);
  return {
    inputTokens: n(u.promptTokenCount) + n(u.toolUsePromptTokenCount),
    outputTokens: n(u.candidatesTokenCount) + thoughts,
    cacheReadTokens: n(u.cachedContentTokenCount),
    cacheWriteTokens: 0,
    reasoningTokens: thoughts,
    raw: u,
  };
}

/**
 * The Google Search queries a grounded answer ran (`groundingMetadata.webSearchQueries`), which
 * Google bills (per query on Gemini 3, per grounded prompt before: catalog/build.ts prices both).
 */
export function searchQueries(candidate: GeminiCandidate | undefined): number {
  const q = candidate?.groundingMetadata?.webSearchQueries;
  return Array.isArray(q) ? q.length : 0;
}

/** Usage with the answer's searches, when it ran any. */
export function withSearches(u: Usage, searches: number): Usage {
  return searches > 0 ? { ...u, webSearchRequests: searches } : u;
}

/**
 * Gemini usageMetadata → internal Usage. Gemini counts thinking apart from the answer
 * (`thoughtsTokenCount` is not in `candidatesTokenCount`), so output = candidates + thoughts.
 * `promptTokenCount` already includes cached tokens; `toolUsePromptTokenCount` (results of
 * Google-run tools such as search) is billed as input and added to it.
 */
import type { Usage } from '../../spec/response.ts';
import type { GeminiUsageMetadata } from './wire-types.ts';

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

/**
 * Gemini usageMetadata → internal Usage. Gemini counts thinking apart from the answer
 * (`thoughtsTokenCount` is not in `candidatesTokenCount`), so output = candidates + thoughts.
 * `promptTokenCount` already includes cached tokens; `toolUsePromptTokenCount` (results of
 * Google-run tools such as search) is billed as input and added to it.
 */
import type { Usage, UrlCitation } from '../../spec/response.ts';
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

type Loose = Record<string, unknown> | null | undefined;

/**
 * A grounded answer's sources as citations of `text`: each grounding support's segment (UTF-8 byte
 * offsets in the text of the candidate, as Gemini counts them) over the web chunks it names.
 */
export function groundingCitations(candidate: GeminiCandidate | undefined, text: string): UrlCitation[] {
  const g = candidate?.groundingMetadata;
  const chunks = Array.isArray(g?.groundingChunks) ? (g.groundingChunks as Loose[]) : [];
  const supports = Array.isArray(g?.groundingSupports) ? (g.groundingSupports as Loose[]) : [];
  const bytes = Buffer.from(text);
  const at = (byte: unknown): number => bytes.subarray(0, Math.max(0, Math.min(bytes.length, n(byte)))).toString().length;
  const out: UrlCitation[] = [];
  for (const s of supports) {
    const seg = (s?.segment ?? {}) as Record<string, unknown>;
    const indices = Array.isArray(s?.groundingChunkIndices) ? s.groundingChunkIndices : [];
    for (const i of indices) {
      const web = (typeof i === 'number' ? chunks[i]?.web : undefined) as Loose;
      if (typeof web?.uri !== 'string') continue;
      out.push({
        url: web.uri,
        ...(typeof web.title === 'string' ? { title: web.title } : {}),
        ...(typeof seg.text === 'string' ? { content: seg.text } : {}),
        startIndex: at(seg.startIndex),
        endIndex: at(seg.endIndex),
      });
    }
  }
  return out;
}

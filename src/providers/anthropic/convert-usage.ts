/**
 * Anthropic usage → internal Usage. Anthropic's `input_tokens` excludes cached tokens; the internal
 * convention (OpenAI's) counts every prompt token, so cache reads and writes are added back in.
 */
import type { Usage } from '../../spec/response.ts';
import { serviceTierOf } from './convert-options.ts';
import type { WireUsage } from './wire-types.ts';

const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);

export function convertUsage(u: WireUsage | null | undefined): Usage {
  const input = n(u?.input_tokens);
  const cacheWrite = n(u?.cache_creation_input_tokens);
  const cacheRead = n(u?.cache_read_input_tokens);
  return {
    inputTokens: input + cacheWrite + cacheRead,
    outputTokens: n(u?.output_tokens),
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    // Only newer API versions break reasoning out of output_tokens; otherwise it is unknown (0).
    reasoningTokens: n(u?.output_tokens_details?.thinking_tokens),
    // Server tools: web searches are billed per search on top of tokens.
    ...(n(u?.server_tool_use?.web_search_requests) > 0 ? { webSearchRequests: n(u?.server_tool_use?.web_search_requests) } : {}),
    // Priority Tier costs what standard does per token (catalog/service-tiers.ts); kept for the record.
    ...(serviceTierOf(u) !== undefined ? { serviceTier: serviceTierOf(u) } : {}),
    raw: u ?? undefined,
  };
}

/**
 * Folds a later usage report (a stream's `message_delta`) into an earlier one (`message_start`):
 * fields present in the update are cumulative totals and replace the earlier values.
 */
export function mergeUsage(base: WireUsage | undefined, update: WireUsage | null | undefined): WireUsage | undefined {
  if (!update) return base;
  const out: WireUsage = { ...(base ?? {}) };
  for (const [key, value] of Object.entries(update)) if (value !== null && value !== undefined) out[key] = value;
  return out;
}

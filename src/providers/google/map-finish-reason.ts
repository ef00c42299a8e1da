/**
 * Gemini finish reasons → unified. Gemini ends a function-call answer with STOP, so STOP becomes
 * `tool_calls` when the answer has calls.
 *
 * - The safety family (SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, IMAGE_*) →
 *   `content_filter`: the model was stopped by a filter.
 * - MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, TOO_MANY_TOOL_CALLS → `error`: the model tried
 *   to call a tool and failed, so the answer is unusable as it stands; saying `stop` would make a
 *   client treat an empty or partial answer as complete. The raw word is kept for diagnosis.
 * - OTHER, LANGUAGE, FINISH_REASON_UNSPECIFIED and anything new → `stop` (or `tool_calls`).
 */
import type { FinishReason } from '../../spec/response.ts';

const CONTENT_FILTER = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);
const TOOL_FAILURE = new Set(['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL', 'TOO_MANY_TOOL_CALLS']);

export function mapGeminiFinishReason(raw: unknown, hasToolCalls: boolean): FinishReason {
  const r = typeof raw === 'string' && raw.length > 0 ? raw : null;
  if (r === 'MAX_TOKENS') return { unified: 'length', raw: r };
  if (r !== null && CONTENT_FILTER.has(r)) return { unified: 'content_filter', raw: r };
  if (r !== null && TOOL_FAILURE.has(r)) return { unified: 'error', raw: r };
  return { unified: hasToolCalls ? 'tool_calls' : 'stop', raw: r };
}

/** A prompt Gemini refused outright (`promptFeedback.blockReason`, no candidates). */
export function mapGeminiBlockReason(raw: string): FinishReason {
  return { unified: 'content_filter', raw };
}

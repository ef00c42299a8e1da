/** Anthropic `stop_reason` → the unified finish reason (the raw word is kept alongside). */
import type { FinishReason, UnifiedFinishReason } from '../../spec/response.ts';

const UNIFIED: Record<string, UnifiedFinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  // A server-tool turn paused by the API; what arrived is a complete (if interim) answer.
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

export function mapStopReason(raw: string | null | undefined): FinishReason {
  if (raw === null || raw === undefined || raw === '') return { unified: 'stop', raw: null };
  return { unified: UNIFIED[raw] ?? 'stop', raw };
}

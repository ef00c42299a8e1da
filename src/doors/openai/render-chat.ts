/**
 * Internal ChatResult → OpenRouter's `chat.completion` object.
 */
import type { Charge } from '../../gateway/tracker.ts';
import { reasoningText } from '../../spec/reasoning.ts';
import type { ChatResult } from '../../spec/response.ts';
import { renderUsage } from './render-usage.ts';

export interface RenderMeta {
  id: string;
  created: number;
  model: string;
  providerName: string;
  excludeReasoning: boolean;
}

export function renderChatCompletion(meta: RenderMeta, r: ChatResult, cost: Charge): Record<string, unknown> {
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: r.text.length > 0 || r.toolCalls.length === 0 ? r.text : null,
    refusal: r.refusal ?? null,
    reasoning: null,
  };
  if (!meta.excludeReasoning && r.reasoning.length > 0) {
    message.reasoning = reasoningText(r.reasoning) || null;
    message.reasoning_details = r.reasoning;
  }
  if (r.toolCalls.length > 0) {
    message.tool_calls = r.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
  }
  const out: Record<string, unknown> = {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    provider: meta.providerName,
    system_fingerprint: null,
    choices: [
      { index: 0, logprobs: null, finish_reason: r.finish.unified, native_finish_reason: r.finish.raw, message },
    ],
    usage: renderUsage(r.usage, cost),
  };
  if (r.warnings && r.warnings.length > 0) out.warnings = r.warnings;
  return out;
}

/**
 * Internal ChatResult → OpenRouter's `chat.completion` object.
 */
import type { Charge } from '../../accounting/charge.ts';
import { reasoningText } from '../../spec/reasoning.ts';
import type { ChatResult } from '../../spec/response.ts';
import { renderUsage } from './render-usage.ts';

export interface RenderMeta {
  id: string;
  created: number;
  model: string;
  providerName: string;
  excludeReasoning: boolean;
  /** The door's own warnings about the request (before the adapter's). */
  warnings?: readonly string[];
}

function warningsOf(meta: RenderMeta, r: ChatResult): string[] {
  return [...(meta.warnings ?? []), ...(r.warnings ?? [])];
}

export function renderChatCompletion(meta: RenderMeta, r: ChatResult, cost: Charge): Record<string, unknown> {
  if (r.openAIBody) return passOn(meta, r, r.openAIBody, cost);
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
  // The web sources, as OpenAI's search models and OpenRouter's web search annotate an answer.
  if (r.citations && r.citations.length > 0) {
    message.annotations = r.citations.map((c) => ({
      type: 'url_citation',
      url_citation: {
        url: c.url,
        title: c.title ?? '',
        ...(c.content !== undefined ? { content: c.content } : {}),
        start_index: c.startIndex,
        end_index: c.endIndex,
      },
    }));
  }
  const out: Record<string, unknown> = {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    provider: meta.providerName,
    system_fingerprint: null,
    choices: [{ index: 0, logprobs: null, finish_reason: r.finish.unified, native_finish_reason: r.finish.raw, message }],
    usage: renderUsage(r.usage, cost),
  };
  // The upstream's own tier; none said, none claimed.
  if (r.serviceTier !== undefined) out.service_tier = r.serviceTier;
  const warnings = warningsOf(meta, r);
  if (warnings.length > 0) out.warnings = warnings;
  return out;
}

/** The upstream's own body (same format), with what Freeway vouches for put on it. */
function passOn(meta: RenderMeta, r: ChatResult, body: Record<string, unknown>, cost: Charge): Record<string, unknown> {
  const [first] = body.choices as Array<Record<string, unknown>>;
  const choice: Record<string, unknown> = { ...first, finish_reason: r.finish.unified, native_finish_reason: r.finish.raw };
  if (meta.excludeReasoning && first.message && typeof first.message === 'object') {
    const { reasoning_details: _details, ...message } = first.message as Record<string, unknown>;
    choice.message = { ...message, reasoning: null };
  }
  const out: Record<string, unknown> = {
    ...body,
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    provider: meta.providerName,
    // Required, and nullable, in OpenRouter's schema: some OpenAI-compatible upstreams leave it out.
    system_fingerprint: body.system_fingerprint ?? null,
    choices: [choice],
    usage: renderUsage(r.usage, cost),
  };
  const warnings = warningsOf(meta, r);
  if (warnings.length > 0) out.warnings = warnings;
  return out;
}

/**
 * Internal ChatResult → Anthropic's `message` object, for a request translated to another
 * provider. (An Anthropic upstream's answer is relayed as it came and never passes through here.)
 *
 * - `id` is Freeway's generation id (`gen-...`), the same one `x-generation-id` and
 *   `/api/v1/generation?id=` use; Anthropic clients treat message ids as opaque.
 * - `model` names the model that served as the client asked for it (tracker.ts `askedAs`).
 * - Content order: reasoning blocks, then the text, then `tool_use` blocks (ids as codec.ts maps them).
 * - `usage` is Anthropic's: `input_tokens` excludes cache reads and writes, which have their own
 *   fields; `cost` and `cost_details` (USD) are added as OpenRouter adds them to its usage.
 * - `warnings` (what Freeway changed or left out, as on chat completions) only when there are some;
 *   Anthropic's clients ignore fields they do not know.
 */
import { nanosToUsd } from '../../spec/money.ts';
import type { Charge } from '../../accounting/charge.ts';
import type { ChatResult, FinishReason, Usage } from '../../spec/response.ts';
import { reasoningBlock, toAnthropicToolId } from './codec.ts';

export interface MessageMeta {
  id: string;
  model: string;
}

const ANTHROPIC_STOP_REASONS = new Set([
  'end_turn',
  'max_tokens',
  'stop_sequence',
  'tool_use',
  'pause_turn',
  'refusal',
  'model_context_window_exceeded',
]);

/** Anthropic's `stop_reason` for an internal finish (an Anthropic upstream's own word is kept). */
export function stopReason(finish: FinishReason, hasToolCalls: boolean): string {
  if (finish.raw !== null && ANTHROPIC_STOP_REASONS.has(finish.raw)) return finish.raw;
  switch (finish.unified) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return hasToolCalls ? 'tool_use' : 'end_turn';
  }
}

/** Usage in Anthropic's shape, plus what the request cost. */
export function renderAnthropicUsage(u: Usage, c: Charge): Record<string, unknown> {
  return {
    input_tokens: Math.max(0, u.inputTokens - u.cacheReadTokens - u.cacheWriteTokens),
    output_tokens: u.outputTokens,
    cache_creation_input_tokens: u.cacheWriteTokens,
    cache_read_input_tokens: u.cacheReadTokens,
    cost: nanosToUsd(c.chargedNanos),
    cost_details: {
      upstream_inference_cost: nanosToUsd(c.upstream.totalNanos),
      upstream_inference_prompt_cost: nanosToUsd(c.upstream.promptNanos),
      upstream_inference_completions_cost: nanosToUsd(c.upstream.completionNanos),
      freeway_fee: nanosToUsd(c.feeNanos),
      total_cost: nanosToUsd(c.chargedNanos),
      ...(c.insured ? { zero_completion_insurance: true } : {}),
      ...(c.serviceTier !== undefined ? { service_tier: c.serviceTier } : {}),
    },
  };
}

/** The tool_use `input` object of a call's argument text (anything not an object becomes `{}`). */
export function toolInput(args: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(args);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function renderMessage(meta: MessageMeta, r: ChatResult, cost: Charge): Record<string, unknown> {
  const content: Array<Record<string, unknown>> = r.reasoning.map((d) => reasoningBlock(d));
  if (r.text.length > 0) content.push({ type: 'text', text: r.text });
  for (const call of r.toolCalls) {
    content.push({ type: 'tool_use', id: toAnthropicToolId(call.id), name: call.name, input: toolInput(call.arguments) });
  }
  return {
    id: meta.id,
    type: 'message',
    role: 'assistant',
    model: meta.model,
    content,
    stop_reason: stopReason(r.finish, r.toolCalls.length > 0),
    stop_sequence: null,
    usage: renderAnthropicUsage(r.usage, cost),
    ...(r.warnings && r.warnings.length > 0 ? { warnings: r.warnings } : {}),
  };
}

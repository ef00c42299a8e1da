/** Anthropic Message (non-streamed) → internal ChatResult. */
import { GatewayError } from '../../spec/errors.ts';
import { ANTHROPIC_FORMAT } from '../../spec/reasoning.ts';
import type { ReasoningDetail } from '../../spec/reasoning.ts';
import type { ToolCall } from '../../spec/request.ts';
import type { ChatResult } from '../../spec/response.ts';
import { serviceTierOf } from './convert-options.ts';
import { convertUsage } from './convert-usage.ts';
import { mapStopReason } from './map-stop-reason.ts';
import type { WireMessageResponse } from './wire-types.ts';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export function fromMessagesResponse(json: unknown, providerName: string, warnings: string[]): ChatResult {
  if (!json || typeof json !== 'object' || !Array.isArray((json as WireMessageResponse).content)) {
    throw new GatewayError('provider_unavailable', `${providerName} returned a response that is not a message`, {
      metadata: { provider_name: providerName, raw: json },
    });
  }
  const msg = json as WireMessageResponse;
  let text = '';
  const reasoning: ReasoningDetail[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of msg.content ?? []) {
    switch (block?.type) {
      case 'text':
        // Citations split one answer into several text blocks; they read as one text.
        text += str(block.text);
        break;
      case 'thinking':
        reasoning.push({
          type: 'reasoning.text',
          text: str(block.thinking),
          signature: str(block.signature) || null,
          format: ANTHROPIC_FORMAT,
          index: reasoning.length,
        });
        break;
      case 'redacted_thinking':
        reasoning.push({ type: 'reasoning.encrypted', data: str(block.data), format: ANTHROPIC_FORMAT, index: reasoning.length });
        break;
      case 'tool_use':
        toolCalls.push({ id: str(block.id), name: str(block.name), arguments: JSON.stringify(block.input ?? {}) });
        break;
      default:
        // Server tool blocks (web search and the like) have no internal form yet.
        break;
    }
  }
  return {
    ...(msg.id ? { upstreamId: msg.id } : {}),
    text,
    reasoning,
    toolCalls,
    finish: mapStopReason(msg.stop_reason),
    usage: convertUsage(msg.usage),
    ...(serviceTierOf(msg.usage) !== undefined ? { serviceTier: serviceTierOf(msg.usage) } : {}),
    refusal: null,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

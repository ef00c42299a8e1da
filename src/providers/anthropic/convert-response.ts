/** Anthropic Message (non-streamed) → internal ChatResult. */
import { GatewayError } from '../../spec/errors.ts';
import { ANTHROPIC_FORMAT } from '../../spec/reasoning.ts';
import type { ReasoningDetail } from '../../spec/reasoning.ts';
import type { ToolCall } from '../../spec/request.ts';
import type { ChatResult, UrlCitation } from '../../spec/response.ts';
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
  const citations: UrlCitation[] = [];
  for (const block of msg.content ?? []) {
    switch (block?.type) {
      case 'text': {
        // Citations split one answer into several text blocks; they read as one text, each citing its own span.
        const start = text.length;
        text += str(block.text);
        citations.push(...webCitations(block.citations, start, text.length));
        break;
      }
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
    ...(citations.length > 0 ? { citations } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** A text block's web search citations (`web_search_result_location`) over its span of the answer. */
function webCitations(raw: unknown, startIndex: number, endIndex: number): UrlCitation[] {
  if (!Array.isArray(raw)) return [];
  const out: UrlCitation[] = [];
  for (const c of raw as Array<Record<string, unknown> | null>) {
    if (c?.type !== 'web_search_result_location' || typeof c.url !== 'string') continue;
    out.push({
      url: c.url,
      ...(typeof c.title === 'string' ? { title: c.title } : {}),
      ...(typeof c.cited_text === 'string' ? { content: c.cited_text } : {}),
      startIndex,
      endIndex,
    });
  }
  return out;
}

/**
 * Internal stream events → `chat.completion.chunk` JSON strings. The constant head of every chunk
 * is serialised once per response.
 */
import type { Charge } from '../../gateway/tracker.ts';
import type { GatewayError } from '../../spec/errors.ts';
import type { FinishReason, StreamEvent, Usage } from '../../spec/response.ts';
import { renderUsage } from './render-usage.ts';
import type { StreamRenderer } from '../../gateway/stream-generation.ts';

export class ChatChunkRenderer implements StreamRenderer {
  private readonly head: string;
  private roleSent = false;
  private readonly excludeReasoning: boolean;

  constructor(meta: { id: string; created: number; model: string; providerName: string; excludeReasoning: boolean }) {
    this.head =
      `data: {"id":${JSON.stringify(meta.id)},"object":"chat.completion.chunk","created":${meta.created},` +
      `"model":${JSON.stringify(meta.model)},"provider":${JSON.stringify(meta.providerName)},"system_fingerprint":null,"choices":[`;
    this.excludeReasoning = meta.excludeReasoning;
  }

  private choice(delta: Record<string, unknown>, finish: FinishReason | null): string {
    if (!this.roleSent) {
      delta = { role: 'assistant', ...delta };
      this.roleSent = true;
    }
    const f = finish ? `${JSON.stringify(finish.unified)},"native_finish_reason":${JSON.stringify(finish.raw)}` : 'null,"native_finish_reason":null';
    return `{"index":0,"delta":${JSON.stringify(delta)},"finish_reason":${f},"logprobs":null}`;
  }

  /** The chunk for one content event, or undefined when the event produces no chunk. */
  event(ev: StreamEvent): string | undefined {
    switch (ev.type) {
      case 'text':
        return `${this.head}${this.choice({ content: ev.text }, null)}]}\n\n`;
      case 'reasoning': {
        if (this.excludeReasoning) return undefined;
        const detail: Record<string, unknown> = { type: ev.kind, index: ev.index };
        if (ev.kind === 'reasoning.text') {
          detail.text = ev.text ?? '';
          if (ev.signature !== undefined) detail.signature = ev.signature;
        } else if (ev.kind === 'reasoning.summary') detail.summary = ev.text ?? '';
        else detail.data = ev.data ?? '';
        if (ev.id !== undefined) detail.id = ev.id;
        if (ev.format !== undefined) detail.format = ev.format;
        const text = ev.kind === 'reasoning.encrypted' ? null : (ev.text ?? null);
        return `${this.head}${this.choice({ content: '', reasoning: text, reasoning_details: [detail] }, null)}]}\n\n`;
      }
      case 'tool-call-start':
        return `${this.head}${this.choice(
          { content: null, tool_calls: [{ index: ev.index, id: ev.id, type: 'function', function: { name: ev.name, arguments: '' } }] },
          null,
        )}]}\n\n`;
      case 'tool-call-delta':
        return `${this.head}${this.choice({ tool_calls: [{ index: ev.index, function: { arguments: ev.argumentsDelta } }] }, null)}]}\n\n`;
      default:
        return undefined;
    }
  }

  /** The last chunk: finish reason and usage together (tolerated by every client, never `choices: []`). */
  final(finish: FinishReason, usage: Usage, cost: Charge): string {
    return `${this.head}${this.choice({}, finish)}],"usage":${JSON.stringify(renderUsage(usage, cost))}}\n\ndata: [DONE]\n\n`;
  }

  /** An in-band error after the response has started (HTTP status is already 200). */
  error(err: GatewayError, usage: Usage, cost: Charge): string {
    const body = err.toBody().error;
    return (
      `${this.head}${this.choice({ content: '' }, { unified: 'error', raw: 'error' })}],` +
      `"error":${JSON.stringify(body)},"usage":${JSON.stringify(renderUsage(usage, cost))}}\n\ndata: [DONE]\n\n`
    );
  }
}

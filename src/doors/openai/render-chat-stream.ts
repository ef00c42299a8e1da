/**
 * Internal stream events → `chat.completion.chunk` JSON strings. The constant head of every chunk
 * is serialised once per response.
 *
 * A chunk carries no `system_fingerprint` unless the upstream gave one: OpenRouter's schema for a
 * chunk is string-or-absent (its SDK refuses `null`), unlike the whole answer's, which is
 * required-and-nullable. The rule for every answer shape: never `null` where the schema says
 * string-or-absent, always present where it says required-nullable.
 */
import type { Charge } from '../../accounting/charge.ts';
import type { GatewayError } from '../../spec/errors.ts';
import type { FinishReason, StreamEvent, Usage } from '../../spec/response.ts';
import { renderUsage } from './render-usage.ts';
import type { ChunkMeta, StreamEnding, StreamRenderer } from '../../gateway/stream-generation.ts';

/**
 * Warnings waiting for the next frame: they ride on it as a top-level `warnings` array, as they do
 * on a whole answer (an extra field, which clients and OpenRouter's SDK schemas let through).
 */
export class PendingWarnings {
  private list: string[];

  constructor(initial: readonly string[] = []) {
    this.list = [...initial];
  }

  add(warnings: readonly string[]): void {
    this.list.push(...warnings);
  }

  /** `,"warnings":[...]` for the next frame's object, once, or ''. */
  take(): string {
    if (this.list.length === 0) return '';
    const out = `,"warnings":${JSON.stringify(this.list)}`;
    this.list = [];
    return out;
  }

  /** The same, put on a frame's object. */
  takeInto(out: Record<string, unknown>): void {
    if (this.list.length === 0) return;
    out.warnings = this.list;
    this.list = [];
  }
}

export class ChatChunkRenderer implements StreamRenderer {
  private readonly head: string;
  private readonly meta: { id: string; created: number; model: string; providerName: string };
  private roleSent = false;
  private readonly excludeReasoning: boolean;
  private readonly pending: PendingWarnings;

  /** `warnings`: the door's own, about the request, shown on the first frame. */
  constructor(meta: ChunkMeta & { excludeReasoning: boolean; warnings?: readonly string[] }) {
    this.meta = meta;
    this.pending = new PendingWarnings(meta.warnings);
    this.head =
      `data: {"id":${JSON.stringify(meta.id)},"object":"chat.completion.chunk","created":${meta.created},` +
      `"model":${JSON.stringify(meta.model)},"provider":${JSON.stringify(meta.providerName)},"choices":[`;
    this.excludeReasoning = meta.excludeReasoning;
  }

  private choice(delta: Record<string, unknown>, finish: FinishReason | null): string {
    if (!this.roleSent) {
      delta = { role: 'assistant', ...delta };
      this.roleSent = true;
    }
    const f = finish
      ? `${JSON.stringify(finish.unified)},"native_finish_reason":${JSON.stringify(finish.raw)}`
      : 'null,"native_finish_reason":null';
    return `{"index":0,"delta":${JSON.stringify(delta)},"finish_reason":${f},"logprobs":null}`;
  }

  warn(warnings: readonly string[]): void {
    this.pending.add(warnings);
  }

  /** The end of a rendered chunk's object (after its choices). */
  private end(): string {
    return `]${this.pending.take()}}\n\n`;
  }

  /** The chunk for one content event, or undefined when the event produces no chunk. */
  event(ev: StreamEvent): string | undefined {
    switch (ev.type) {
      case 'text':
        return `${this.head}${this.choice({ content: ev.text }, null)}${this.end()}`;
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
        return `${this.head}${this.choice({ content: '', reasoning: text, reasoning_details: [detail] }, null)}${this.end()}`;
      }
      case 'tool-call-start':
        return `${this.head}${this.choice(
          { content: null, tool_calls: [{ index: ev.index, id: ev.id, type: 'function', function: { name: ev.name, arguments: '' } }] },
          null,
        )}${this.end()}`;
      case 'tool-call-delta': {
        const delta = { tool_calls: [{ index: ev.index, function: { arguments: ev.argumentsDelta } }] };
        return `${this.head}${this.choice(delta, null)}${this.end()}`;
      }
      default:
        return undefined;
    }
  }

  /**
   * An upstream's own chunk (same-format passthrough), sent as it came but for Freeway's id,
   * model and provider, the role on the first delta, and the finish reason and usage, which the
   * last chunk carries for the whole answer. Undefined (render the events instead) when reasoning
   * is to be left out of a chunk that has some.
   */
  chunk(chunk: Record<string, unknown>, events: readonly StreamEvent[]): string | undefined {
    if (this.excludeReasoning && events.some((e) => e.type === 'reasoning')) return undefined;
    const choices = chunk.choices;
    if (!Array.isArray(choices) || choices.length !== 1) return undefined;
    const choice = choices[0] as Record<string, unknown>;
    const delta = choice.delta;
    if (!delta || typeof delta !== 'object') return undefined;
    if (!this.roleSent) {
      choice.delta = { role: 'assistant', ...delta };
      this.roleSent = true;
    } else if ('role' in delta) delete (delta as Record<string, unknown>).role;
    choice.finish_reason = null;
    choice.native_finish_reason = null;
    // The chunk was parsed for this frame alone: written in place (keys keep their order, as a copy's
    // would), without a copy of every chunk.
    const { id, created, model, providerName } = this.meta;
    chunk.id = id;
    chunk.object = 'chat.completion.chunk';
    chunk.created = created;
    chunk.model = model;
    chunk.provider = providerName;
    if (chunk.usage !== undefined) delete chunk.usage;
    if (chunk.system_fingerprint === null) delete chunk.system_fingerprint;
    this.pending.takeInto(chunk);
    return `data: ${JSON.stringify(chunk)}\n\n`;
  }

  /** The last chunk: finish reason and usage together (tolerated by every client, never `choices: []`). */
  final(finish: FinishReason, usage: Usage, cost: Charge, about: StreamEnding = {}): string {
    const tier = about.serviceTier !== undefined ? `,"service_tier":${JSON.stringify(about.serviceTier)}` : '';
    return (
      `${this.head}${this.choice({}, finish)}]${tier},"usage":${JSON.stringify(renderUsage(usage, cost))}` +
      `${this.pending.take()}}\n\ndata: [DONE]\n\n`
    );
  }

  /** An in-band error after the response has started (HTTP status is already 200). */
  error(err: GatewayError, usage: Usage, cost: Charge): string {
    const body = err.toBody().error;
    return (
      `${this.head}${this.choice({ content: '' }, { unified: 'error', raw: 'error' })}],` +
      `"error":${JSON.stringify(body)},"usage":${JSON.stringify(renderUsage(usage, cost))}${this.pending.take()}}\n\ndata: [DONE]\n\n`
    );
  }
}

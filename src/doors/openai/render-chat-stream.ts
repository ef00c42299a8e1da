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

/**
 * The closing frames of an OpenAI-format stream (chat and legacy completions), and the one rule for
 * where its usage goes. `head` opens a chunk up to its choices array; `choice` is the last choice;
 * `error` the in-band error an ending that failed carries, `shared` what both chunks carry
 * (`service_tier`); `warnings` rides on the first.
 *
 * With `stream_options.include_usage` (`usageApart`), as OpenAI sends it: the choice's chunk without
 * usage, then a chunk with `choices: []` and the usage. Clients that ask for it are OpenAI's, and
 * some add up the usage of every chunk that has it (LangChain's ChatOpenAI copies it from the choice
 * chunks and the usage chunk alike): usage on both would count the answer twice. Without it
 * (OpenRouter's clients, which always get usage), one chunk carries the finish reason and the usage
 * together, which every client tolerates, and never `choices: []`, which some do not. An error
 * chunk keeps the usage on it either way: clients stop reading there (the openai SDK throws on it),
 * so usage sent after it would never be seen, nor what the partial answer cost.
 */
export function closingFrames(
  head: string,
  choice: string,
  parts: { error?: string; shared?: string; usage: string; warnings: string; usageApart: boolean },
): string {
  const { error = '', shared = '', usage, warnings, usageApart } = parts;
  if (!usageApart || error) return `${head}${choice}]${shared}${error},"usage":${usage}${warnings}}\n\ndata: [DONE]\n\n`;
  return `${head}${choice}]${shared}${warnings}}\n\n${head}]${shared},"usage":${usage}}\n\ndata: [DONE]\n\n`;
}

export class ChatChunkRenderer implements StreamRenderer {
  private readonly head: string;
  private readonly meta: { id: string; created: number; model: string; providerName: string };
  private roleSent = false;
  private readonly excludeReasoning: boolean;
  private readonly usageApart: boolean;
  private readonly pending: PendingWarnings;

  /**
   * `warnings`: the door's own, about the request, shown on the first frame. `includeUsage`: the
   * client's `stream_options.include_usage` (where the usage goes, closingFrames).
   */
  constructor(meta: ChunkMeta & { excludeReasoning: boolean; includeUsage?: boolean; warnings?: readonly string[] }) {
    this.meta = meta;
    this.usageApart = meta.includeUsage === true;
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
   * closing frames carry for the whole answer (closingFrames; the upstream's own usage chunk, which
   * has no content, is never relayed). Undefined (render the events instead) when reasoning is to
   * be left out of a chunk that has some.
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

  /** The last chunks: the finish reason and the usage (on one chunk or two, closingFrames). */
  final(finish: FinishReason, usage: Usage, cost: Charge, about: StreamEnding = {}): string {
    const tier = about.serviceTier !== undefined ? `,"service_tier":${JSON.stringify(about.serviceTier)}` : '';
    return closingFrames(this.head, this.choice({}, finish), {
      shared: tier,
      usage: JSON.stringify(renderUsage(usage, cost)),
      warnings: this.pending.take(),
      usageApart: this.usageApart,
    });
  }

  /** An in-band error after the response has started (HTTP status is already 200), its usage on it (closingFrames). */
  error(err: GatewayError, usage: Usage, cost: Charge): string {
    return closingFrames(this.head, this.choice({ content: '' }, { unified: 'error', raw: 'error' }), {
      error: `,"error":${JSON.stringify(err.toBody().error)}`,
      usage: JSON.stringify(renderUsage(usage, cost)),
      warnings: this.pending.take(),
      usageApart: this.usageApart,
    });
  }
}

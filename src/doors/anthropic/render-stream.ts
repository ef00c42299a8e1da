/**
 * Internal stream events → Anthropic's SSE event sequence, for a request translated to another
 * provider (an Anthropic upstream's stream is relayed byte for byte instead, through `passthrough`,
 * which notes where it left the message so that a continuation on another endpoint carries it on):
 *
 *   message_start, ping, then per content block content_block_start, content_block_delta...,
 *   content_block_stop, and at the end message_delta (stop_reason, usage) and message_stop.
 *
 * Blocks open and close as the kind of event changes: text (`text_delta`), thinking
 * (`thinking_delta`, then its `signature_delta` just before the block stops), redacted_thinking
 * (whole in its `content_block_start`, so its data is gathered first), tool_use (an empty
 * `input_json_delta` first, then the argument fragments as they arrive). A fragment for a tool call
 * whose block has already closed (providers that interleave parallel calls) is still sent under
 * that block's index. Ids and non-Anthropic reasoning are mapped as codec.ts describes.
 *
 * `message_start` carries an estimate of the input tokens (the upstream has not counted yet);
 * `message_delta` carries the exact, cumulative usage and cost, which clients take as final.
 * Warnings (what Freeway or the adapter changed in the request) ride on `message_start`'s message
 * as a top-level `warnings` array, as on a whole answer; any known only later (a mid-stream
 * failover's next endpoint) ride on `message_delta`.
 * A failure is `event: error` with Anthropic's error body.
 */
import type { Charge } from '../../accounting/charge.ts';
import type { StreamRenderer } from '../../gateway/stream-generation.ts';
import type { GatewayError } from '../../spec/errors.ts';
import type { ReasoningDetail } from '../../spec/reasoning.ts';
import type { FinishReason, StreamEvent, Usage } from '../../spec/response.ts';
import { foreignSignature, isNative, reasoningBlock, toAnthropicToolId } from './codec.ts';
import { anthropicErrorFrame } from './errors.ts';
import { renameInEvents } from './passthrough.ts';
import { renderAnthropicUsage, stopReason } from './render-message.ts';

type ReasoningEvent = Extract<StreamEvent, { type: 'reasoning' }>;

interface Gathered {
  type: ReasoningDetail['type'];
  key: number;
  signature: string;
  data: string;
  id?: string;
  format?: string;
}

type OpenBlock =
  | { kind: 'text'; index: number }
  | { kind: 'thinking'; index: number; detail: Gathered }
  | { kind: 'redacted'; detail: Gathered }
  | { kind: 'tool'; index: number; key: number }
  /** A block an upstream's own bytes opened (passthrough): only its stop is left to send. */
  | { kind: 'passed'; index: number };

const frame = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export class AnthropicStreamRenderer implements StreamRenderer {
  private readonly id: string;
  private readonly model: string;
  private readonly promptTokens: number;
  private started = false;
  private open: OpenBlock | undefined;
  private nextIndex = 0;
  private readonly toolIndex = new Map<number, number>();
  /** Frames produced while handling one event; collected so each event returns one string. */
  private pending = '';
  /** Warnings for `message_start`, then (once it went out) for `message_delta`. */
  private readonly warnings: string[];
  private readonly lateWarnings: string[] = [];

  /** `warnings`: the door's own, about the request. */
  constructor(meta: { id: string; model: string; promptTokens: number; warnings?: readonly string[] }) {
    this.id = meta.id;
    this.model = meta.model;
    this.promptTokens = meta.promptTokens;
    this.warnings = [...(meta.warnings ?? [])];
  }

  warn(warnings: readonly string[]): void {
    const seen = new Set([...this.warnings, ...this.lateWarnings]);
    const fresh = warnings.filter((w) => !seen.has(w));
    (this.started ? this.lateWarnings : this.warnings).push(...fresh);
  }

  private start(): string {
    if (this.started) return '';
    this.started = true;
    const message = {
      id: this.id,
      type: 'message',
      role: 'assistant',
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: this.promptTokens, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      ...(this.warnings.length > 0 ? { warnings: this.warnings } : {}),
    };
    return frame('message_start', { type: 'message_start', message }) + frame('ping', { type: 'ping' });
  }

  private delta(index: number, delta: Record<string, unknown>): string {
    return frame('content_block_delta', { type: 'content_block_delta', index, delta });
  }

  /** The type of the last block begun. */
  private lastBegun: unknown;

  private begin(block: Record<string, unknown>): number {
    const index = this.nextIndex++;
    this.lastBegun = block.type;
    this.pending += frame('content_block_start', { type: 'content_block_start', index, content_block: block });
    return index;
  }

  private stop(index: number): string {
    return frame('content_block_stop', { type: 'content_block_stop', index });
  }

  private close(): void {
    const b = this.open;
    this.open = undefined;
    if (!b) return;
    if (b.kind === 'text' || b.kind === 'tool' || b.kind === 'passed') {
      this.pending += this.stop(b.index);
    } else if (b.kind === 'thinking') {
      const d = b.detail;
      const signature = isNative(d) ? d.signature : foreignSignature(detailOf(d));
      if (signature !== '') this.pending += this.delta(b.index, { type: 'signature_delta', signature });
      this.pending += this.stop(b.index);
    } else {
      const index = this.begin(reasoningBlock(detailOf(b.detail)));
      this.pending += this.stop(index);
    }
  }

  private reasoning(ev: ReasoningEvent): void {
    const cur = this.open;
    const same = (cur?.kind === 'thinking' || cur?.kind === 'redacted') && cur.detail.key === ev.index && cur.detail.type === ev.kind;
    let detail: Gathered;
    if (same) detail = cur.detail;
    else {
      this.close();
      detail = { type: ev.kind, key: ev.index, signature: '', data: '' };
      if (ev.kind === 'reasoning.encrypted') this.open = { kind: 'redacted', detail };
      else this.open = { kind: 'thinking', index: this.begin({ type: 'thinking', thinking: '', signature: '' }), detail };
    }
    if (ev.id !== undefined) detail.id = ev.id;
    if (ev.format !== undefined) detail.format = ev.format;
    if (ev.signature) detail.signature += ev.signature;
    if (ev.data) detail.data += ev.data;
    const open = this.open;
    if (ev.text && open?.kind === 'thinking') this.pending += this.delta(open.index, { type: 'thinking_delta', thinking: ev.text });
  }

  /**
   * Anthropic's own events, passed through: `message_start` names the model as the client asked
   * for it and carries the warnings; the blocks they open and close are noted, so that rendered
   * events after them (a continuation on another endpoint) carry on with the same message.
   */
  passthrough(events: string): string {
    return events.replace(/(^|\n)event: ?(\w+)\r?\ndata: ?([^\r\n]*)/g, (all, lead: string, name: string, data: string) => {
      const o = parsed(data);
      if (name === 'message_start' && !this.started) {
        this.started = true;
        return lead + renameInEvents(all.slice(lead.length), this.model, this.warnings);
      }
      const index = typeof o?.index === 'number' ? o.index : undefined;
      if (name === 'content_block_start' && index !== undefined) {
        const block = o?.content_block as { type?: unknown } | undefined;
        this.lastBegun = block?.type;
        this.nextIndex = Math.max(this.nextIndex, index + 1);
        this.open = block?.type === 'text' ? { kind: 'text', index } : { kind: 'passed', index };
      } else if (name === 'content_block_stop' && index !== undefined && this.open && 'index' in this.open && this.open.index === index) {
        this.open = undefined;
      }
      return all;
    });
  }

  event(ev: StreamEvent): string | undefined {
    this.pending = this.start();
    switch (ev.type) {
      case 'text': {
        if (ev.text === '') break;
        if (this.open?.kind !== 'text') {
          this.close();
          this.open = { kind: 'text', index: this.begin({ type: 'text', text: '' }) };
        }
        this.pending += this.delta(this.open.index, { type: 'text_delta', text: ev.text });
        break;
      }
      case 'reasoning':
        this.reasoning(ev);
        break;
      case 'tool-call-start': {
        this.close();
        const index = this.begin({ type: 'tool_use', id: toAnthropicToolId(ev.id), name: ev.name, input: {} });
        this.open = { kind: 'tool', index, key: ev.index };
        this.toolIndex.set(ev.index, index);
        this.pending += this.delta(index, { type: 'input_json_delta', partial_json: '' });
        break;
      }
      case 'tool-call-delta': {
        const index = this.toolIndex.get(ev.index);
        if (index !== undefined && ev.argumentsDelta !== '') {
          this.pending += this.delta(index, { type: 'input_json_delta', partial_json: ev.argumentsDelta });
        }
        break;
      }
      default:
        break;
    }
    const out = this.pending;
    this.pending = '';
    return out === '' ? undefined : out;
  }

  final(finish: FinishReason, usage: Usage, cost: Charge): string {
    this.pending = this.start();
    // A signature that came after the answer's text (Gemini signs its last text part) would make a
    // block after the final text, and Anthropic's clients read the last block as the answer: it is
    // left out (a text part's signature is optional on Gemini's next turn; a call's comes before it).
    if (this.open?.kind === 'redacted' && this.lastBegun === 'text') this.open = undefined;
    this.close();
    const delta = { stop_reason: stopReason(finish, this.toolIndex.size > 0), stop_sequence: null };
    const out =
      this.pending +
      frame('message_delta', {
        type: 'message_delta',
        delta,
        usage: renderAnthropicUsage(usage, cost),
        ...(this.lateWarnings.length > 0 ? { warnings: this.lateWarnings } : {}),
      }) +
      frame('message_stop', { type: 'message_stop' });
    this.pending = '';
    return out;
  }

  error(err: GatewayError, _usage: Usage, _cost: Charge): string {
    return anthropicErrorFrame(err);
  }
}

function parsed(data: string): Record<string, unknown> | undefined {
  try {
    const o: unknown = JSON.parse(data);
    return typeof o === 'object' && o !== null ? (o as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The detail a gathered block stands for (what a whole response would have carried). */
function detailOf(g: Gathered): ReasoningDetail {
  const common = { ...(g.id !== undefined ? { id: g.id } : {}), ...(g.format !== undefined ? { format: g.format } : {}), index: g.key };
  if (g.type === 'reasoning.encrypted') return { type: 'reasoning.encrypted', data: g.data, ...common };
  if (g.type === 'reasoning.summary') return { type: 'reasoning.summary', summary: '', ...common };
  return { type: 'reasoning.text', text: '', ...(g.signature !== '' ? { signature: g.signature } : {}), ...common };
}

/**
 * Internal stream events → the Responses API's `response.*` server-sent events, each with its
 * `sequence_number`, in the order OpenAI documents: `response.created`, `response.in_progress`,
 * then per output item `output_item.added` … deltas … `.done` events … `output_item.done`, and
 * `response.completed` (or `response.incomplete` / `response.failed`) with usage and cost.
 *
 * Items: the message closes when a function call starts; function calls and the reasoning item
 * close at the end (the reasoning item's encrypted_content needs every detail, and Gemini sends
 * thought signatures alongside its function calls).
 *
 * Warnings (the door's, and what each upstream's adapter dropped) are on the response object as a
 * whole response has them: `response.created` shows those known before the first content, the
 * final response all of them.
 */
import type { Charge } from '../../accounting/charge.ts';
import type { StreamEnding, StreamRenderer } from '../../gateway/stream-generation.ts';
import type { GatewayError } from '../../spec/errors.ts';
import type { ReasoningDetail } from '../../spec/reasoning.ts';
import type { FinishReason, StreamEvent, Usage } from '../../spec/response.ts';
import type { Obj } from '../../spec/validate.ts';
import { responseError, responseErrorType } from './errors.ts';
import {
  functionCallItem,
  messageItem,
  newItemId,
  outputText,
  reasoningItem,
  renderUsage,
  responseObject,
  statusOf,
} from './render-response.ts';
import type { ResponseMeta, ResponseStatus } from './render-response.ts';
import { clientToolName } from './parse-tools.ts';

interface MessageState {
  kind: 'message';
  index: number;
  id: string;
  text: string;
  done: boolean;
}

interface CallState {
  kind: 'call';
  index: number;
  id: string;
  callId: string;
  name: string;
  args: string;
  done: boolean;
}

interface ReasoningState {
  kind: 'reasoning';
  index: number;
  id: string;
  summary: string;
  details: ReasoningDetail[];
  byIndex: Map<number, ReasoningDetail>;
  done: boolean;
}

type ItemState = MessageState | CallState | ReasoningState;

export class ResponsesStreamRenderer implements StreamRenderer {
  private readonly meta: ResponseMeta;
  private readonly onDone: (response: Obj) => void;
  private seq = 0;
  private started = false;
  private readonly items: ItemState[] = [];
  private message: MessageState | undefined;
  private reasoning: ReasoningState | undefined;
  private readonly calls = new Map<number, CallState>();

  /** `onDone` receives the final response object of a stream that did not fail (for `store`). */
  constructor(meta: ResponseMeta, onDone: (response: Obj) => void = () => {}) {
    this.meta = meta;
    this.onDone = onDone;
  }

  /** The upstreams' warnings (the door's own are in `meta`), shown as a whole response shows them. */
  private readonly warnings: string[] = [];

  warn(warnings: readonly string[]): void {
    const seen = new Set([...this.meta.warnings, ...this.warnings]);
    this.warnings.push(...warnings.filter((w) => !seen.has(w)));
  }

  private frame(type: string, payload: Obj): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.seq++, ...payload })}\n\n`;
  }

  /** `response.created` and `response.in_progress`, once, before anything else. */
  private head(): string {
    if (this.started) return '';
    this.started = true;
    const response = responseObject(this.meta, { warnings: this.warnings, status: 'in_progress', output: [], usage: null });
    return this.frame('response.created', { response }) + this.frame('response.in_progress', { response });
  }

  private added(item: ItemState, snapshot: Obj): string {
    this.items.push(item);
    return this.frame('response.output_item.added', { output_index: item.index, item: snapshot });
  }

  private openMessage(): string {
    if (this.message && !this.message.done) return '';
    const m: MessageState = { kind: 'message', index: this.items.length, id: newItemId('msg', this.meta.id), text: '', done: false };
    this.message = m;
    return (
      this.added(m, { type: 'message', id: m.id, status: 'in_progress', role: 'assistant', content: [] }) +
      this.frame('response.content_part.added', { item_id: m.id, output_index: m.index, content_index: 0, part: outputText('') })
    );
  }

  private openReasoning(): ReasoningState {
    if (!this.reasoning) {
      const r: ReasoningState = {
        kind: 'reasoning',
        index: this.items.length,
        id: newItemId('rs', this.meta.id),
        summary: '',
        details: [],
        byIndex: new Map(),
        done: false,
      };
      this.reasoning = r;
    }
    return this.reasoning;
  }

  /** Folds a reasoning event into its detail (same index = same detail; fields arrive as deltas). */
  private addDetail(r: ReasoningState, ev: Extract<StreamEvent, { type: 'reasoning' }>): void {
    let d = r.byIndex.get(ev.index);
    if (!d) {
      d =
        ev.kind === 'reasoning.text'
          ? { type: ev.kind, text: '' }
          : ev.kind === 'reasoning.summary'
            ? { type: ev.kind, summary: '' }
            : { type: ev.kind, data: '' };
      r.byIndex.set(ev.index, d);
      r.details.push(d);
    }
    if (d.type === 'reasoning.text') {
      if (ev.text) d.text += ev.text;
      if (ev.signature) d.signature = (d.signature ?? '') + ev.signature;
    } else if (d.type === 'reasoning.summary') {
      if (ev.text) d.summary += ev.text;
    } else if (ev.data) d.data += ev.data;
    if (ev.id !== undefined) d.id = ev.id;
    if (ev.format !== undefined) d.format = ev.format;
  }

  event(ev: StreamEvent): string | undefined {
    switch (ev.type) {
      case 'text': {
        if (ev.text.length === 0) return undefined;
        let out = this.head() + this.openMessage();
        const m = this.message!;
        m.text += ev.text;
        out += this.frame('response.output_text.delta', {
          item_id: m.id,
          output_index: m.index,
          content_index: 0,
          delta: ev.text,
          logprobs: [],
        });
        return out;
      }
      case 'reasoning': {
        let out = this.head();
        const fresh = !this.reasoning;
        const r = this.openReasoning();
        if (fresh) out += this.added(r, { type: 'reasoning', id: r.id, summary: [] });
        this.addDetail(r, ev);
        const text = ev.kind !== 'reasoning.encrypted' ? (ev.text ?? '') : '';
        if (text && !this.meta.excludeReasoning) {
          if (r.summary === '') {
            out += this.frame('response.reasoning_summary_part.added', {
              item_id: r.id,
              output_index: r.index,
              summary_index: 0,
              part: { type: 'summary_text', text: '' },
            });
          }
          r.summary += text;
          out += this.frame('response.reasoning_summary_text.delta', {
            item_id: r.id,
            output_index: r.index,
            summary_index: 0,
            delta: text,
          });
        }
        return out;
      }
      case 'tool-call-start': {
        let out = this.head() + this.closeMessage('completed');
        const c: CallState = {
          kind: 'call',
          index: this.items.length,
          id: newItemId('fc', this.meta.id),
          callId: ev.id,
          name: ev.name,
          args: '',
          done: false,
        };
        this.calls.set(ev.index, c);
        out += this.added(c, functionCallItem(c.id, { id: c.callId, name: c.name, arguments: '' }, 'in_progress', this.meta.toolNames));
        return out;
      }
      case 'tool-call-delta': {
        const c = this.calls.get(ev.index);
        if (!c || ev.argumentsDelta.length === 0) return undefined;
        c.args += ev.argumentsDelta;
        return this.frame('response.function_call_arguments.delta', { item_id: c.id, output_index: c.index, delta: ev.argumentsDelta });
      }
      default:
        return undefined;
    }
  }

  private closeMessage(status: 'completed' | 'incomplete'): string {
    const m = this.message;
    if (!m || m.done) return '';
    m.done = true;
    const base = { item_id: m.id, output_index: m.index, content_index: 0 };
    return (
      this.frame('response.output_text.done', { ...base, text: m.text, logprobs: [] }) +
      this.frame('response.content_part.done', { ...base, part: outputText(m.text) }) +
      this.frame('response.output_item.done', { output_index: m.index, item: messageItem(m.id, m.text, status) })
    );
  }

  /** Closes every open item in output order; returns the frames and the finished items. */
  private closeAll(status: 'completed' | 'incomplete'): { frames: string; output: Obj[] } {
    let frames = '';
    for (const it of this.items) {
      if (it.done) continue;
      if (it.kind === 'message') frames += this.closeMessage(status);
      else if (it.kind === 'call') {
        it.done = true;
        frames +=
          this.frame('response.function_call_arguments.done', {
            item_id: it.id,
            output_index: it.index,
            name: clientToolName(this.meta.toolNames, it.name).name,
            arguments: it.args,
          }) + this.frame('response.output_item.done', { output_index: it.index, item: this.snapshot(it, status) });
      } else {
        it.done = true;
        if (it.summary) {
          const base = { item_id: it.id, output_index: it.index, summary_index: 0 };
          frames +=
            this.frame('response.reasoning_summary_text.done', { ...base, text: it.summary }) +
            this.frame('response.reasoning_summary_part.done', { ...base, part: { type: 'summary_text', text: it.summary } });
        }
        frames += this.frame('response.output_item.done', { output_index: it.index, item: this.snapshot(it, status) });
      }
    }
    return { frames, output: this.items.map((it) => this.snapshot(it, status)) };
  }

  private snapshot(it: ItemState, status: 'completed' | 'incomplete'): Obj {
    if (it.kind === 'message') return messageItem(it.id, it.text, status);
    if (it.kind === 'call')
      return functionCallItem(it.id, { id: it.callId, name: it.name, arguments: it.args }, 'completed', this.meta.toolNames);
    return reasoningItem(it.id, it.details, this.meta.excludeReasoning);
  }

  final(finish: FinishReason, usage: Usage, cost: Charge, about: StreamEnding = {}): string {
    const { status, incomplete } = statusOf(finish);
    let out = this.head();
    // A turn with no content at all still has its (empty) message, as a whole response would.
    if (this.items.length === 0) out += this.openMessage();
    const closed = this.closeAll(status === 'incomplete' ? 'incomplete' : 'completed');
    out += closed.frames;
    const usageOut = renderUsage(usage, cost);
    const response = responseObject(this.meta, {
      status,
      incomplete,
      output: closed.output,
      usage: usageOut,
      warnings: this.warnings,
      ...(about.serviceTier !== undefined ? { serviceTier: about.serviceTier } : {}),
    });
    this.onDone(response);
    return out + this.frame(status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response });
  }

  error(err: GatewayError, usage: Usage, cost: Charge): string {
    let out = this.head();
    const closed = this.closeAll('incomplete');
    out += closed.frames;
    const error = responseError(err);
    const status: ResponseStatus = 'failed';
    out += this.frame('error', { code: error.code, message: error.message, param: null });
    const errorType = responseErrorType(err);
    const state = { status, error, errorType, output: closed.output, usage: renderUsage(usage, cost), warnings: this.warnings };
    const response = responseObject(this.meta, state);
    return out + this.frame('response.failed', { response });
  }
}

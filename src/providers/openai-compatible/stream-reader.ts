/**
 * Reads an OpenAI Chat Completions SSE stream, synchronously, network read by network read: each
 * upstream chunk becomes its internal stream events. The async event stream (convert-stream.ts)
 * and the same-format passthrough (a chat-completions client, an OpenAI-compatible upstream) both
 * read through it, so what a chunk means is decided in one place. A malformed chunk is skipped
 * (servers under load occasionally emit one).
 */
import { GatewayError } from '../../spec/errors.ts';
import type { StreamEvent, Usage } from '../../spec/response.ts';
import { SseParser, tryParseJson } from '../sse.ts';
import type { OpenAIQuirks } from '../types.ts';
import { isReasoningDetail } from './convert-response.ts';
import { convertOpenAIUsage } from './convert-usage.ts';
import { mapOpenAIFinishReason } from './map-finish-reason.ts';
import { bodyError } from './parse-error.ts';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** One upstream chunk: the parsed JSON as sent, and what it means. */
export interface ReadChunk {
  chunk: Obj;
  events: StreamEvent[];
  /**
   * Whether the chunk already says what its events say in OpenRouter's chunk shape, so a
   * chat-completions client can be sent the chunk itself: false when reading it took
   * normalising (reasoning under another field or without details, a tool call's index renumbered
   * or its id made up, several choices, legacy `text`).
   */
  verbatim: boolean;
}

export class OpenAIStreamReader {
  private readonly parser = new SseParser();
  private readonly providerName: string;
  private readonly reasoningField: string;
  private started = false;
  private finishRaw: unknown = undefined;
  private usage: Usage | undefined;
  private sawToolCalls = false;
  /** upstream tool-call index → our index */
  private readonly toolIndex = new Map<number, number>();
  /** `[DONE]` seen: the answer is complete, whatever follows. */
  done = false;
  /** An in-band error ended the stream. */
  failed = false;
  /** Set while reading a chunk: see ReadChunk.verbatim. */
  private verbatim = true;

  constructor(providerName: string, q: OpenAIQuirks) {
    this.providerName = providerName;
    this.reasoningField = q.reasoningField ?? 'reasoning';
  }

  /** The chunks one network read completes. */
  push(bytes: Uint8Array | string): ReadChunk[] {
    return this.read(this.parser.push(bytes));
  }

  /**
   * The body ended: the chunks still buffered, then the closing events — `finish` and `usage`, or
   * an `error` when the upstream stopped before finishing.
   */
  end(): { chunks: ReadChunk[]; closing: StreamEvent[] } {
    const chunks = this.read(this.parser.end());
    if (this.failed) return { chunks, closing: [] };
    if (!this.done && this.finishRaw === undefined) {
      return {
        chunks,
        closing: [
          {
            type: 'error',
            error: new GatewayError('provider_unavailable', `${this.providerName} closed the stream before it finished`, {
              metadata: { provider_name: this.providerName },
            }),
          },
        ],
      };
    }
    const closing: StreamEvent[] = [{ type: 'finish', finish: mapOpenAIFinishReason(this.finishRaw, this.sawToolCalls) }];
    if (this.usage) closing.push({ type: 'usage', usage: this.usage });
    return { chunks, closing };
  }

  private read(messages: readonly { data: string }[]): ReadChunk[] {
    const out: ReadChunk[] = [];
    for (const msg of messages) {
      if (this.done || this.failed) break;
      if (msg.data === '[DONE]') {
        this.done = true;
        break;
      }
      const parsed = tryParseJson(msg.data);
      if (!parsed.ok) continue;
      const chunk = obj(parsed.value);
      this.verbatim = true;
      out.push({ chunk, events: this.meaning(chunk), verbatim: this.verbatim });
    }
    return out;
  }

  private meaning(chunk: Obj): StreamEvent[] {
    const events: StreamEvent[] = [];
    if (!this.started) {
      this.started = true;
      const tier = str(chunk.service_tier);
      events.push({ type: 'start', upstreamId: str(chunk.id), ...(tier !== undefined ? { serviceTier: tier } : {}) });
    }
    if (chunk.error) {
      this.failed = true;
      events.push({ type: 'error', error: bodyError(this.providerName, chunk.error, 'stream error') });
      return events;
    }
    const u = convertOpenAIUsage(chunk.usage, chunk.service_tier);
    if (u) this.usage = u;
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    const choice = obj(choices[0]);
    const delta = obj(choice.delta);
    if (choices.length > 1 || (choice.index !== undefined && choice.index !== 0)) this.verbatim = false;
    const rText = str(delta[this.reasoningField]) ?? str(delta.reasoning) ?? str(delta.reasoning_content);
    if (Array.isArray(delta.reasoning_details)) {
      for (const d of delta.reasoning_details) {
        if (!isReasoningDetail(d)) {
          this.verbatim = false;
          continue;
        }
        events.push({
          type: 'reasoning',
          index: typeof d.index === 'number' ? d.index : 0,
          kind: d.type,
          text: d.type === 'reasoning.text' ? d.text : d.type === 'reasoning.summary' ? d.summary : undefined,
          signature: d.type === 'reasoning.text' ? (d.signature ?? undefined) : undefined,
          data: d.type === 'reasoning.encrypted' ? d.data : undefined,
          id: d.id ?? undefined,
          format: d.format ?? undefined,
        });
      }
    } else if (rText) {
      this.verbatim = false;
      events.push({ type: 'reasoning', index: 0, kind: 'reasoning.text', text: rText, format: 'unknown' });
    }
    if (delta.reasoning_content !== undefined) this.verbatim = false;
    // Legacy /completions chunks carry `text` on the choice instead of a delta.
    if (choice.text !== undefined) this.verbatim = false;
    const content = str(delta.content) ?? str(choice.text);
    if (content) events.push({ type: 'text', text: content });
    if (Array.isArray(delta.tool_calls)) {
      for (const raw of delta.tool_calls) {
        const tc = obj(raw);
        const upstreamIndex = typeof tc.index === 'number' ? tc.index : this.toolIndex.size;
        const f = obj(tc.function);
        let index = this.toolIndex.get(upstreamIndex);
        if (index === undefined) {
          index = this.toolIndex.size;
          this.toolIndex.set(upstreamIndex, index);
          this.sawToolCalls = true;
          if (typeof tc.id !== 'string' || typeof f.name !== 'string') this.verbatim = false;
          events.push({
            type: 'tool-call-start',
            index,
            id: str(tc.id) ?? `call_${Date.now().toString(36)}${index}`,
            name: str(f.name) ?? '',
          });
        }
        if (index !== tc.index) this.verbatim = false;
        const args = str(f.arguments);
        if (args) events.push({ type: 'tool-call-delta', index, argumentsDelta: args });
      }
    }
    if (choice.finish_reason) this.finishRaw = choice.finish_reason;
    return events;
  }
}

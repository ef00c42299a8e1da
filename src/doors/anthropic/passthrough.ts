/**
 * Anthropic upstream, Anthropic client: the request goes through untouched (the client's body with
 * the upstream's model id, its `anthropic-beta` and `anthropic-version` headers) and the answer
 * comes back as it came — the JSON body, or the SSE bytes as they arrive — except that it names
 * the model the way the client asked for it (clients compare it with what they sent: Claude Code
 * keeps thinking blocks only for the same model). Freeway only watches: the same parsers the
 * Anthropic adapter uses read the id, stop reason and usage (cache reads and writes included) for
 * billing and the generation record.
 */
import type { IncomingMessage } from 'node:http';
import type { Candidate } from '../../router/types.ts';
import { networkError, readText } from '../../providers/http-client.ts';
import { convertStream } from '../../providers/anthropic/convert-stream.ts';
import { fromMessagesResponse } from '../../providers/anthropic/convert-response.ts';
import { ADAPTERS } from '../../providers/registry.ts';
import type { CallContext, Target } from '../../providers/types.ts';
import { GatewayError } from '../../spec/errors.ts';
import type { ChatResult, StreamEvent } from '../../spec/response.ts';

/** Whether this candidate can take the client's body raw. */
export function passesThrough(c: Candidate, foreign: boolean): boolean {
  return c.endpoint.provider.protocol === 'anthropic' && !foreign && ADAPTERS.anthropic.passthrough !== undefined;
}

/**
 * The client's headers that travel with its body: its `anthropic-beta` features (also read from
 * OpenRouter's `x-anthropic-beta`; all of them, comma-joined, each once) and its `anthropic-version`.
 */
export function forwardedHeaders(req: IncomingMessage): Record<string, string> {
  const list = (v: string | string[] | undefined): string[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
  const features = [...list(req.headers['anthropic-beta']), ...list(req.headers['x-anthropic-beta'])]
    .flatMap((v) => v.split(','))
    .map((f) => f.trim())
    .filter((f) => f !== '');
  const beta = [...new Set(features)].join(',');
  const version = req.headers['anthropic-version'];
  return {
    ...(beta ? { 'anthropic-beta': beta } : {}),
    ...(typeof version === 'string' && version !== '' ? { 'anthropic-version': version } : {}),
  };
}

/**
 * An Anthropic answer (or `message_start` event data) naming the model as the client asked for it,
 * with Freeway's `warnings` about the request (a top-level array, only when there are some).
 */
function renamed(json: unknown, model: string, warnings: readonly string[] = []): unknown {
  if (typeof json !== 'object' || json === null) return json;
  const o = json as Record<string, unknown>;
  if (o.type === 'message_start' && typeof o.message === 'object' && o.message !== null) {
    return { ...o, message: renamed(o.message, model, warnings) };
  }
  if (typeof o.model !== 'string') return json;
  return { ...o, model, ...(warnings.length > 0 ? { warnings } : {}) };
}

/**
 * Rewrites the `message_start` event among whole SSE events to name `model` and carry `warnings`;
 * the rest stays byte for byte.
 */
export function renameInEvents(text: string, model: string, warnings: readonly string[] = []): string {
  return text.replace(/(^|\n)(event: ?message_start\r?\ndata: ?)([^\r\n]*)/, (all, lead: string, head: string, data: string) => {
    try {
      return lead + head + JSON.stringify(renamed(JSON.parse(data), model, warnings));
    } catch {
      return all;
    }
  });
}

async function send(path: string, target: Target, body: string, headers: Record<string, string>, ctx: CallContext) {
  const adapter = ADAPTERS[target.provider.protocol];
  if (!adapter.passthrough) throw new GatewayError('server', `${target.provider.name} cannot take requests raw`, { retryable: false });
  return adapter.passthrough(path, body, target, ctx, headers);
}

/** A whole answer relayed as it came, with what billing needs read from it. */
export interface RawAnswer extends ChatResult {
  raw: string;
}

/**
 * `model`: the name the answer gives the model (the client's own); `warnings`: what Freeway changed
 * in the request (added to the answer as on every door, only when there are some).
 */
export async function passThroughWhole(
  target: Target,
  body: string,
  headers: Record<string, string>,
  ctx: CallContext,
  model: string,
  warnings: string[] = [],
): Promise<RawAnswer> {
  const name = target.provider.name;
  const res = await send('messages', target, body, headers, ctx);
  let raw: string;
  try {
    raw = await readText(res.body);
  } catch (err) {
    throw networkError(name, err, ctx.signal);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new GatewayError('provider_unavailable', `${name} returned a response that is not JSON`, {
      metadata: { provider_name: name, raw: raw.slice(0, 2000) },
    });
  }
  const result = fromMessagesResponse(json, name, []);
  return { ...result, raw: JSON.stringify(renamed(json, model, warnings)) };
}

/** `/messages/count_tokens`, relayed as it came. */
export async function passThroughCount(target: Target, body: string, headers: Record<string, string>, ctx: CallContext): Promise<string> {
  const res = await send('messages/count_tokens', target, body, headers, ctx);
  try {
    return await readText(res.body);
  } catch (err) {
    throw networkError(target.provider.name, err, ctx.signal);
  }
}

/**
 * Where relayed bytes go. Only whole events reach the client: a stream cut off mid-event (a
 * dropped connection, a deadline) leaves no fragment for the error frame that follows to be glued
 * to. Nothing goes out before the first content (or the end of an answer that has none): until
 * then another endpoint can still take over unseen, and the client gets Freeway's keep-alives
 * meanwhile. Everything from the stream's closing events on (`message_delta` with the final usage,
 * `message_stop`) is held until `releaseClosing`: the client has its whole answer only once its
 * charge is committed. Remembers whether anything was written (after which the answer cannot
 * start over elsewhere) and whether the upstream itself reported an error in-band.
 */
export class RawSink {
  wrote = false;
  sawError = false;
  private open = false;
  /** Whole events held until the first content. */
  private early = '';
  /** The start of an event not yet complete. */
  private partial = '';
  /** From the first closing event on, everything waits for the charge. */
  private closing = false;
  private closingHeld = '';
  private readonly out: (text: string) => Promise<void> | undefined;
  private readonly first: () => void;
  /** The model name the client asked with, written into `message_start`; set per upstream. */
  model: string | undefined;
  /** What Freeway changed in the request, added to `message_start`'s message; set per upstream. */
  warnings: readonly string[] = [];
  private started = false;

  constructor(out: (text: string) => Promise<void> | undefined, onFirstWrite: () => void) {
    this.out = out;
    this.first = onFirstWrite;
  }

  /** A new upstream starts: whatever the last one left unsent is dropped. */
  discard(): void {
    this.early = '';
    this.partial = '';
    this.started = false;
  }

  write(text: string): Promise<void> | undefined {
    if (text === '') return undefined;
    const all = this.partial + text;
    const end = lastEventEnd(all);
    this.partial = all.slice(end);
    if (end === 0) return undefined;
    let whole = all.slice(0, end);
    if (!this.started && this.model !== undefined && /event: ?message_start/.test(whole)) {
      this.started = true;
      whole = renameInEvents(whole, this.model, this.warnings);
    }
    if (!this.open) {
      this.early += whole;
      return undefined;
    }
    return this.send(whole);
  }

  /** Content arrived (or the answer ended): what was held goes out, and everything after it. */
  release(): Promise<void> | undefined {
    if (this.open) return undefined;
    this.open = true;
    const early = this.early;
    this.early = '';
    return early === '' ? undefined : this.send(early);
  }

  /** The body ended: an event left without its blank line is still an event. */
  finish(): Promise<void> | undefined {
    const rest = this.partial;
    this.partial = '';
    this.release();
    return rest === '' ? undefined : this.send(rest);
  }

  /** The charge is committed: the closing events go out. */
  releaseClosing(): void {
    const rest = this.closingHeld;
    this.closingHeld = '';
    this.closing = false;
    if (rest !== '') void this.out(rest);
  }

  /** `text` is whole events. */
  private send(text: string): Promise<void> | undefined {
    if (!this.wrote) {
      this.wrote = true;
      this.first();
    }
    if (/(^|[\r\n])event: ?error\r?\n/.test(text)) this.sawError = true;
    if (this.closing) {
      this.closingHeld += text;
      return undefined;
    }
    const at = closingStart(text);
    if (at === -1) return this.out(text);
    this.closing = true;
    this.closingHeld = text.slice(at);
    return at === 0 ? undefined : this.out(text.slice(0, at));
  }
}

/** The events that end an Anthropic stream (final usage, then the end). */
const CLOSING = /(^|\n)(event: ?message_delta|event: ?message_stop)\r?\n/;

/** Where the first closing event of whole events starts; -1 when there is none. */
function closingStart(text: string): number {
  const m = CLOSING.exec(text);
  return m === null ? -1 : m.index + m[1].length;
}

/** Where the last complete event of `text` ends (after its blank line); 0 when none does. */
function lastEventEnd(text: string): number {
  const lf = text.lastIndexOf('\n\n');
  const crlf = text.lastIndexOf('\r\n\r\n');
  return Math.max(lf === -1 ? 0 : lf + 2, crlf === -1 ? 0 : crlf + 4);
}

/** Relays every chunk to the sink as it is read, then hands it on unchanged. */
async function* tee(body: AsyncIterable<Uint8Array | string>, sink: RawSink): AsyncGenerator<Uint8Array | string> {
  // A leading byte-order mark is content too: the client gets it as the upstream sent it.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  for await (const chunk of body) {
    const pending = sink.write(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    if (pending) await pending;
    yield chunk;
  }
  sink.write(decoder.decode());
  sink.finish();
}

/** Lets the held events go at the first content, before the relay sees it. */
async function* releasingOnContent(events: AsyncIterable<StreamEvent>, sink: RawSink): AsyncGenerator<StreamEvent> {
  for await (const ev of events) {
    if (ev.type === 'text' || ev.type === 'reasoning' || ev.type === 'tool-call-start' || ev.type === 'tool-call-delta') {
      const pending = sink.release();
      if (pending) await pending;
    }
    yield ev;
  }
}

/**
 * Opens the upstream stream. Nothing reaches the client until the first content; from then on
 * every whole event does, as it came, while the events (start, usage, finish, errors) serve the
 * accounting.
 */
export async function passThroughStream(
  target: Target,
  body: string,
  headers: Record<string, string>,
  ctx: CallContext,
  sink: RawSink,
  model: string,
  warnings: readonly string[] = [],
): Promise<AsyncIterable<StreamEvent>> {
  sink.discard();
  sink.model = model;
  sink.warnings = warnings;
  const res = await send('messages', target, body, headers, ctx);
  return releasingOnContent(convertStream(tee(res.body, sink), target.provider.name, ctx.signal), sink);
}

/**
 * Anthropic upstream, Anthropic client: the request goes through untouched (the client's body with
 * the upstream's model id, its `anthropic-beta` and `anthropic-version` headers) and the answer
 * comes back as it came — the JSON body, or the SSE bytes as they arrive — except that it names
 * the model the way the client asked for it (clients compare it with what they sent: Claude Code
 * keeps thinking blocks only for the same model). Freeway only watches: the same parsers the
 * Anthropic adapter uses read the id, stop reason and usage (cache reads and writes included) for
 * billing and the generation record. A stream is a passthrough source of the shared stream driver
 * (gateway/stream-passthrough.ts); its bytes reach the client through the door's renderer, which
 * renames the model and notes where the message stands (render-stream.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Candidate } from '../../router/types.ts';
import { networkError, readText } from '../../providers/http-client.ts';
import { convertStream } from '../../providers/anthropic/convert-stream.ts';
import { fromMessagesResponse } from '../../providers/anthropic/convert-response.ts';
import { ADAPTERS } from '../../providers/registry.ts';
import type { CallContext, Target } from '../../providers/types.ts';
import { GatewayError } from '../../spec/errors.ts';
import type { ChatResult } from '../../spec/response.ts';
import type { PassthroughBytes, PassthroughStream } from '../../gateway/stream-passthrough.ts';

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
 * Where a passthrough upstream's bytes wait (PassthroughBytes). Only whole events leave it: a
 * stream cut off mid-event (a dropped connection, a deadline) leaves no fragment for what follows
 * to be glued to. Nothing goes out before the first content: until then another endpoint can still
 * take over unseen. The closing events (`message_delta` with the final usage, `message_stop`) wait
 * for the end: the client has its whole answer only once its charge is committed. The upstream's
 * own `event: error` waits too: another endpoint may yet carry the answer on, and otherwise it is
 * the error the client gets.
 */
export class RawSink implements PassthroughBytes {
  private out: ((text: string) => Promise<void> | undefined) | undefined;
  private open = false;
  /** Whole events held until the first content. */
  private early = '';
  /** The start of an event not yet complete. */
  private partial = '';
  /** From the first closing event on, everything waits for the charge. */
  private closing = '';
  private error = '';

  connect(out: (text: string) => Promise<void> | undefined): void {
    this.out = out;
  }

  write(text: string): Promise<void> | undefined {
    if (text === '') return undefined;
    const all = this.partial + text;
    const end = lastEventEnd(all);
    this.partial = all.slice(end);
    return this.take(all.slice(0, end));
  }

  release(): Promise<void> | undefined {
    if (this.open) return undefined;
    this.open = true;
    const early = this.early;
    this.early = '';
    return early === '' ? undefined : this.out?.(early);
  }

  /** The body ended: an event left without its blank line is still an event. */
  finish(): void {
    const rest = this.partial;
    this.partial = '';
    void this.take(rest);
  }

  ending(failed: boolean): string {
    if (failed) return this.error;
    const all = this.early + this.closing;
    this.early = this.closing = '';
    return all;
  }

  /** Sorts whole events: sent, held until content, held for the end. */
  private take(events: string): Promise<void> | undefined {
    let now = '';
    for (const ev of splitEvents(events)) {
      if (/^event: ?error\r?\n/.test(ev)) this.error += ev;
      else if (this.closing !== '' || CLOSING.test(ev)) this.closing += ev;
      else if (this.open) now += ev;
      else this.early += ev;
    }
    return now === '' ? undefined : this.out?.(now);
  }
}

/** The events that end an Anthropic stream (final usage, then the end). */
const CLOSING = /^event: ?(message_delta|message_stop)\r?\n/;

/** Whole events, each with its blank line (the last may lack it, at the end of a body). */
function splitEvents(text: string): string[] {
  return text === '' ? [] : (text.match(/[\s\S]*?(?:\r?\n\r?\n|$)/g) ?? []).filter((e) => e !== '');
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

/**
 * Opens the upstream stream: its bytes for the client, and the events they mean (start, usage,
 * finish, errors) for the accounting. `warnings`: what Freeway changed in the body.
 */
export async function passThroughStream(
  target: Target,
  body: string,
  headers: Record<string, string>,
  ctx: CallContext,
  warnings: string[] = [],
): Promise<PassthroughStream> {
  const res = await send('messages', target, body, headers, ctx);
  const sink = new RawSink();
  return { events: convertStream(tee(res.body, sink), target.provider.name, ctx.signal), bytes: sink, warnings };
}

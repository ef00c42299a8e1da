/**
 * Anthropic upstream, Anthropic client: the request goes through untouched (the client's body with
 * the upstream's model id, its `anthropic-beta` header) and the answer comes back as it came —
 * the JSON body, or the SSE bytes as they arrive. Freeway only watches: the same parsers the
 * Anthropic adapter uses read the id, stop reason and usage (cache reads and writes included) for
 * billing and the generation record.
 */
import type { IncomingMessage } from 'node:http';
import type { Candidate } from '../../gateway/resolve.ts';
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

/** The client's headers that travel with its body: `anthropic-beta` (all of them, comma-joined). */
export function forwardedHeaders(req: IncomingMessage): Record<string, string> {
  const beta = req.headers['anthropic-beta'];
  const value = Array.isArray(beta) ? beta.join(',') : beta;
  return value ? { 'anthropic-beta': value } : {};
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

export async function passThroughWhole(target: Target, body: string, headers: Record<string, string>, ctx: CallContext): Promise<RawAnswer> {
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
  return { ...fromMessagesResponse(json, name, []), raw };
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

/** The events that end an Anthropic stream (final usage, then the end): held back until the charge commits. */
const CLOSING = ['event: message_delta', 'event: message_stop'];

/**
 * Where relayed bytes go. Remembers whether anything was written (after which the answer cannot
 * start over elsewhere) and whether the upstream itself reported an error in-band. Everything from
 * the stream's closing events on (`message_delta` with the final usage, `message_stop`) is held
 * until `release`: the client has its whole answer only once its charge is committed.
 */
export class RawSink {
  wrote = false;
  sawError = false;
  private tail = '';
  /** The text of a frame that may be a closing event, not yet written. */
  private unsent = '';
  /** Inside a frame whose start has been written already. */
  private midFrame = false;
  private holding = false;
  private held = '';
  private lastChar = '';
  private readonly out: (text: string) => Promise<void> | undefined;
  private readonly first: () => void;

  constructor(out: (text: string) => Promise<void> | undefined, onFirstWrite: () => void) {
    this.out = out;
    this.first = onFirstWrite;
  }

  write(text: string): Promise<void> | undefined {
    if (text === '') return undefined;
    if (!this.wrote) {
      this.wrote = true;
      this.first();
    }
    // An `event: error` line may straddle two reads: look at the end of the last one too.
    const seen = this.tail + text;
    if (/(^|[\r\n])event: ?error\r?\n/.test(seen)) this.sawError = true;
    this.tail = seen.slice(-32);
    if (this.holding) {
      this.held += text;
      return undefined;
    }
    const buf = this.unsent + text;
    this.unsent = '';
    // Find where the next frame starts: a frame already begun is relayed to its end. Its closing
    // blank line may straddle two reads, so the last character written counts too.
    let start = 0;
    if (this.midFrame && this.lastChar === '\n' && buf.startsWith('\n')) start = 1;
    else if (this.midFrame) {
      const end = buf.indexOf('\n\n');
      if (end === -1) return this.send(buf);
      start = end + 2;
    }
    for (;;) {
      const end = buf.indexOf('\n\n', start);
      const frame = buf.slice(start, end === -1 ? undefined : end + 2);
      const head = frame.replace(/^[\r\n]+/, '');
      if (CLOSING.some((c) => head.startsWith(c))) {
        this.holding = true;
        this.held = buf.slice(start);
        return this.send(buf.slice(0, start));
      }
      if (end === -1) {
        // An unfinished frame that may turn out to be a closing event waits for the rest of its first line.
        if (frame !== '' && CLOSING.some((c) => c.startsWith(head))) {
          this.unsent = frame;
          this.midFrame = false;
          return this.send(buf.slice(0, start));
        }
        this.midFrame = frame !== '';
        return this.send(buf);
      }
      start = end + 2;
    }
  }

  private send(text: string): Promise<void> | undefined {
    if (text === '') return undefined;
    this.lastChar = text[text.length - 1];
    return this.out(text);
  }

  /** Sends what was held back (the closing events). */
  release(): void {
    const rest = this.unsent + this.held;
    this.unsent = '';
    this.held = '';
    this.holding = false;
    void this.send(rest);
  }
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
}

/**
 * Opens the upstream stream. Nothing reaches the client until the events are read; from then on
 * every byte does, while the events (start, usage, finish, errors) serve the accounting.
 */
export async function passThroughStream(
  target: Target,
  body: string,
  headers: Record<string, string>,
  ctx: CallContext,
  sink: RawSink,
): Promise<AsyncIterable<StreamEvent>> {
  const res = await send('messages', target, body, headers, ctx);
  return convertStream(tee(res.body, sink), target.provider.name, ctx.signal);
}

/**
 * The one SSE parser (WHATWG event-stream framing): `\n`, `\r\n` or `\r` line ends, comments,
 * multi-line `data:`, `event:` names. Yields one message per blank-line-terminated event.
 */
export interface SseMessage {
  event?: string;
  data: string;
}

/**
 * The parser itself, fed chunk by chunk: `push` returns the messages a chunk completes. Adapters
 * on the hot path use it directly, so a stream costs one async step per network read rather than
 * one per message.
 */
export class SseParser {
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private event: string | undefined;
  private data: string[] = [];

  private takeLine(line: string): SseMessage | undefined {
    if (line === '') {
      if (this.data.length === 0) {
        this.event = undefined;
        return undefined;
      }
      const msg: SseMessage = { event: this.event, data: this.data.join('\n') };
      this.event = undefined;
      this.data = [];
      return msg;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    return undefined;
  }

  push(chunk: Uint8Array | string): SseMessage[] {
    const out: SseMessage[] = [];
    const buffer = this.buffer + (typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true }));
    let start = 0;
    // Positions of the next '\n' and '\r' at or after `start`; -1 when there is none in the buffer.
    let nl = buffer.indexOf('\n');
    let cr = buffer.indexOf('\r');
    while (true) {
      let end: number;
      let next: number;
      if (cr === -1 || (nl !== -1 && nl < cr)) {
        if (nl === -1) break;
        end = nl;
        next = nl + 1;
      } else {
        // A '\r' at the very end may be the first half of '\r\n': wait for more.
        if (cr === buffer.length - 1) break;
        end = cr;
        next = buffer.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
      }
      const msg = this.takeLine(buffer.slice(start, end));
      start = next;
      if (nl !== -1 && nl < start) nl = buffer.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = buffer.indexOf('\r', start);
      if (msg) out.push(msg);
    }
    this.buffer = start === 0 ? buffer : buffer.slice(start);
    return out;
  }

  /** The body ended: whatever is left, including a last event without its blank line. */
  end(): SseMessage[] {
    const out: SseMessage[] = [];
    const rest = this.buffer + this.decoder.decode();
    this.buffer = '';
    if (rest.length > 0) {
      const msg = this.takeLine(rest);
      if (msg) out.push(msg);
    }
    if (this.data.length > 0) out.push({ event: this.event, data: this.data.join('\n') });
    this.data = [];
    return out;
  }
}

export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseMessage> {
  const parser = new SseParser();
  for await (const chunk of body) yield* parser.push(chunk);
  yield* parser.end();
}

/** Parses JSON from the network without ever throwing. */
export function tryParseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

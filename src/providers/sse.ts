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
  /** The event's data lines so far, joined (undefined: none yet). */
  private data: string | undefined;

  private takeData(value: string): undefined {
    this.data = this.data === undefined ? value : `${this.data}\n${value}`;
    return undefined;
  }

  private takeLine(line: string): SseMessage | undefined {
    if (line === '') {
      if (this.data === undefined) {
        this.event = undefined;
        return undefined;
      }
      const msg: SseMessage = { event: this.event, data: this.data };
      this.event = undefined;
      this.data = undefined;
      return msg;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.takeData(value);
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
      // `data: ` lines, nearly all of a stream, without slicing the line first.
      const msg =
        buffer.charCodeAt(start) === 100 &&
        buffer.charCodeAt(start + 1) === 97 &&
        buffer.charCodeAt(start + 2) === 116 &&
        buffer.charCodeAt(start + 3) === 97 &&
        buffer.charCodeAt(start + 4) === 58 &&
        buffer.charCodeAt(start + 5) === 32 &&
        end >= start + 6
          ? this.takeData(buffer.slice(start + 6, end))
          : this.takeLine(buffer.slice(start, end));
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
    if (this.data !== undefined) out.push({ event: this.event, data: this.data });
    this.data = undefined;
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

/**
 * The one SSE parser (WHATWG event-stream framing): `\n`, `\r\n` or `\r` line ends, comments,
 * multi-line `data:`, `event:` names. Yields one message per blank-line-terminated event.
 */
export interface SseMessage {
  event?: string;
  data: string;
}

export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event: string | undefined;
  let data: string[] = [];

  const takeLine = (line: string): SseMessage | undefined => {
    if (line === '') {
      if (data.length === 0) {
        event = undefined;
        return undefined;
      }
      const msg: SseMessage = { event, data: data.join('\n') };
      event = undefined;
      data = [];
      return msg;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    return undefined;
  };

  for await (const chunk of body) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
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
      const msg = takeLine(buffer.slice(start, end));
      start = next;
      if (nl !== -1 && nl < start) nl = buffer.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = buffer.indexOf('\r', start);
      if (msg) yield msg;
    }
    buffer = start === 0 ? buffer : buffer.slice(start);
  }
  buffer += decoder.decode();
  if (buffer.length > 0) {
    const msg = takeLine(buffer);
    if (msg) yield msg;
  }
  // A stream that ends without the final blank line still delivers its last event.
  if (data.length > 0) yield { event, data: data.join('\n') };
}

/** Parses JSON from the network without ever throwing. */
export function tryParseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

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
    for (let i = 0; i < buffer.length; i++) {
      const c = buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      // A lone '\r' at the end of the buffer may be the first half of '\r\n': wait for more.
      if (c === 13 && i === buffer.length - 1) break;
      const msg = takeLine(buffer.slice(start, i));
      if (c === 13 && buffer.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
      if (msg) yield msg;
    }
    buffer = buffer.slice(start);
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

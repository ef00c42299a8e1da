/**
 * Reading a streamed chat-completions answer the way a client does, counting the content it has
 * received, for tests that kill the gateway mid-stream.
 */
import assert from 'node:assert/strict';

/** A streamed answer being read: the generation id, and the content characters received so far. */
interface Reading {
  id: string;
  chars: number;
  /** Resolves when the body ends or breaks (as when its gateway is killed). */
  done: Promise<void>;
}

/** Reads a streamed chat answer in the background; resolves once its first content has arrived. */
export async function readStream(res: Response): Promise<Reading> {
  assert.equal(res.status, 200);
  const reading: Reading = { id: res.headers.get('x-generation-id')!, chars: 0, done: Promise.resolve() };
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let first: () => void = () => {};
  const started = new Promise<void>((r) => (first = r));
  reading.done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buf.indexOf('\n\n')) !== -1) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = /^data: (\{.*)$/m.exec(frame)?.[1];
          const content = data
            ? (JSON.parse(data) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content
            : undefined;
          if (content) {
            reading.chars += content.length;
            first();
          }
        }
      }
    } catch {
      // The gateway died mid-stream: what arrived is what counts.
    } finally {
      first();
    }
  })();
  await started;
  return reading;
}

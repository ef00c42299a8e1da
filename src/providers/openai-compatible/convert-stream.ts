/**
 * OpenAI Chat Completions SSE → internal stream events, for doors whose format differs from the
 * upstream's. A dropped connection or an in-band error becomes an `error` event.
 */
import type { StreamEvent } from '../../spec/response.ts';
import { streamDroppedError } from '../http-client.ts';
import type { OpenAIQuirks } from '../types.ts';
import { OpenAIStreamReader } from './stream-reader.ts';

export async function* convertOpenAIStream(
  body: AsyncIterable<Uint8Array>,
  providerName: string,
  q: OpenAIQuirks,
  signal: AbortSignal,
): AsyncGenerator<StreamEvent> {
  const reader = new OpenAIStreamReader(providerName, q);
  let reads: AsyncIterator<Uint8Array> | undefined;
  try {
    // One async step per network read; the chunks a read completes are handled synchronously.
    const iterator = body[Symbol.asyncIterator]();
    reads = iterator;
    for (;;) {
      const read = await iterator.next();
      if (read.done) {
        reads = undefined;
        const { chunks, closing } = reader.end();
        for (const c of chunks) yield* c.events;
        yield* closing;
        return;
      }
      // After [DONE] the rest of the body is read and ignored rather than abandoned (abandoning
      // destroys it, at the cost of an AbortError with a stack per stream).
      for (const c of reader.push(read.value)) yield* c.events;
      if (reader.failed) return;
    }
  } catch (err) {
    // A connection that drops after [DONE] lost nothing.
    if (!reader.done) {
      yield { type: 'error', error: streamDroppedError(providerName, err, signal) };
      return;
    }
    yield* reader.end().closing;
  } finally {
    // Left early (an in-band error): release the body rather than leave the socket hanging.
    if (reads) void reads.return?.();
  }
}

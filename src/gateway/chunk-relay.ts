/**
 * The same-format stream path: an OpenAI-compatible upstream answering a chat-completions client.
 * The upstream's chunks go to the client as they are (the renderer only puts Freeway's id, model
 * and provider on them), read synchronously as each network read arrives: no async step per
 * event, no re-rendering, and every field the upstream sent (logprobs, refusal, annotations...)
 * survives. The events each chunk means are still observed for billing, failover and the record.
 */
import { streamDroppedError } from '../providers/http-client.ts';
import type { ChatChunkStream } from '../providers/types.ts';
import type { ReadChunk } from '../providers/openai-compatible/stream-reader.ts';
import type { SseResponse } from '../http/sse-response.ts';
import { flushWarnings, observe } from './relay.ts';
import type { StreamLeg } from './relay.ts';
import type { StreamRenderer } from './stream-generation.ts';
import type { GenerationTracker } from './tracker.ts';

/**
 * Relays one upstream's chunks until it finishes or fails, recording on the leg what they meant.
 * Never rejects (a failure is `leg.error`).
 */
export function relayChunks(
  leg: StreamLeg,
  stream: ChatChunkStream,
  renderer: StreamRenderer,
  sse: SseResponse,
  tracker: GenerationTracker,
  signal: AbortSignal,
): Promise<void> {
  const { body, reader } = stream;
  if (stream.warnings && stream.warnings.length > 0) leg.warnings = [...(leg.warnings ?? []), ...stream.warnings];
  const providerName = leg.candidate.endpoint.provider.name;

  /**
   * The frames for some chunks, up to one that ends the leg with an error (`failed`): what came
   * before it still reaches the client, which is what the leg records as sent.
   */
  const frames = (chunks: readonly ReadChunk[]): { out: string; failed: boolean } => {
    let out = '';
    for (const c of chunks) {
      let content = false;
      for (const ev of c.events) {
        const seen = observe(leg, ev, tracker);
        if (seen === 'error') return { out, failed: true };
        if (seen === 'content') content = true;
      }
      if (!content) continue;
      flushWarnings(leg, renderer);
      const frame = c.verbatim && renderer.chunk ? renderer.chunk(c.chunk, c.events) : undefined;
      if (frame !== undefined) out += frame;
      else for (const ev of c.events) out += renderer.event(ev) ?? '';
    }
    return { out, failed: false };
  };

  return new Promise<void>((resolve) => {
    let ended = false;
    const finish = (): void => {
      if (ended) return;
      ended = true;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
      resolve();
    };
    const send = (out: string): void => {
      if (out === '') return;
      const backpressure = sse.write(out);
      if (backpressure) {
        body.pause();
        // While the client is not reading, neither are we: the upstream's silence is not its own.
        leg.watch?.pause();
        void backpressure.then(() => {
          leg.watch?.resume();
          body.resume();
        });
      }
    };
    const onData = (bytes: Buffer): void => {
      const { out, failed } = frames(reader.push(bytes));
      send(out);
      if (failed) {
        // An in-band error: nothing more from this upstream is wanted.
        body.destroy();
        finish();
      }
      // After [DONE] the rest of the body is still read (and ignored) so the socket can be reused.
    };
    const onEnd = (): void => {
      const { chunks, closing } = reader.end();
      const { out, failed } = frames(chunks);
      send(out);
      if (!failed) for (const ev of closing) observe(leg, ev, tracker);
      finish();
    };
    const onError = (err: unknown): void => {
      // A connection that drops after [DONE] lost nothing.
      if (reader.done) return onEnd();
      observe(leg, { type: 'error', error: streamDroppedError(providerName, err, signal) }, tracker);
      finish();
    };
    const onClose = (): void => {
      if (!body.readableEnded && !ended) onError(new Error('The upstream closed the connection'));
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('close', onClose);
  });
}

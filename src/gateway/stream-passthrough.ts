/**
 * The raw-passthrough source of a streamed answer: an upstream that speaks the door's own wire
 * format (an Anthropic endpoint behind the Messages door), its bytes relayed as they came. Its
 * events (read from those same bytes) serve billing, deadlines and failover like any leg's; its
 * bytes go out through the door's renderer, which notes what they opened, so that a later leg's
 * rendered events carry on the same stream (mid-stream failover onto a translated endpoint).
 */
import type { SseResponse } from '../http/sse-response.ts';
import { asGatewayError } from '../spec/errors.ts';
import type { StreamEvent } from '../spec/response.ts';
import { flushWarnings, observe } from './relay.ts';
import type { StreamLeg } from './relay.ts';
import type { StreamRenderer } from './stream-generation.ts';
import type { GenerationTracker } from './tracker.ts';

/**
 * Where an upstream's bytes wait. Only whole wire events leave it. Nothing goes out before the
 * leg's first content: until then another endpoint can still take over unseen.
 */
export interface PassthroughBytes {
  /** Where whole events go once released (set when the leg is relayed). */
  connect(out: (text: string) => Promise<void> | undefined): void;
  /** The first content arrived: what was held goes out, and every whole event after it as it is read. */
  release(): Promise<void> | undefined;
  /**
   * What is still held when the leg ends: on success its closing events (final usage, the end),
   * which wait for the charge to commit; on failure the upstream's own error event, if it sent one.
   */
  ending(failed: boolean): string;
}

/** An opened passthrough upstream. */
export interface PassthroughStream {
  /** What the bytes mean, read from them as they are relayed. */
  events: AsyncIterable<StreamEvent>;
  bytes: PassthroughBytes;
  /** What Freeway changed in the body it passed (shown with the leg's first content, as every leg's are). */
  warnings?: string[];
}

/**
 * Relays one passthrough upstream until it finishes or fails, recording on the leg what its bytes
 * meant. Never rejects (a failure is `leg.error`).
 */
export async function relayPassthrough(
  leg: StreamLeg,
  source: PassthroughStream,
  renderer: StreamRenderer,
  sse: SseResponse,
  tracker: GenerationTracker,
): Promise<void> {
  if (source.warnings && source.warnings.length > 0) leg.warnings = [...(leg.warnings ?? []), ...source.warnings];
  source.bytes.connect((text) => {
    // A renderer without `passthrough` belongs to a door that never opens raw sources.
    const backpressure = sse.write(renderer.passthrough ? renderer.passthrough(text) : text);
    if (!backpressure) return undefined;
    // While the client is not reading, neither are we: the upstream's silence is not its own.
    leg.watch?.pause();
    return backpressure.then(() => leg.watch?.resume());
  });
  try {
    for await (const ev of source.events) {
      const seen = observe(leg, ev, tracker);
      if (seen === 'error') return;
      if (seen === 'meta') continue;
      flushWarnings(leg, renderer);
      const pending = source.bytes.release();
      if (pending) await pending;
    }
  } catch (err) {
    leg.error = asGatewayError(err);
  }
}

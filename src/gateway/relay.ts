/**
 * Relaying one upstream's stream events to the client (one "leg" of an answer; a mid-stream
 * failover makes several): what each event says is recorded on the leg, content goes through the
 * door's renderer.
 */
import { captureReasoning, captureText } from '../accounting/content-log.ts';
import type { SseResponse } from '../http/sse-response.ts';
import type { StreamWatch } from '../providers/deadlines.ts';
import { redactSecret } from '../providers/redact.ts';
import { asGatewayError } from '../spec/errors.ts';
import type { GatewayError } from '../spec/errors.ts';
import type { FinishReason, StreamEvent, Usage } from '../spec/response.ts';
import type { Candidate } from '../router/types.ts';
import type { StreamRenderer } from './stream-generation.ts';
import type { GenerationTracker } from './tracker.ts';

/** What one upstream contributed to the stream. */
export interface StreamLeg {
  candidate: Candidate;
  upstreamId?: string;
  /** The processing tier the upstream reported (`service_tier`). */
  serviceTier?: string;
  /** What the adapter dropped or rewrote, not yet shown to the client (shown with the leg's first content). */
  warnings?: string[];
  finish?: FinishReason;
  usage?: Usage;
  error?: GatewayError;
  /**
   * Visible text relayed, for a continuation; kept only up to CONTINUABLE_CHARS (past it `text`
   * is dropped and `textCapped` set), so a huge answer does not stay in memory as it streams.
   */
  text: string;
  textCapped?: boolean;
  outputChars: number;
  toolCalls: number;
  /** The request's stream deadlines, told what each event was (first content, idle gaps). */
  watch?: StreamWatch;
}

/**
 * Longest answer a mid-stream failover resumes (~256k tokens: past any model's output limit). A
 * longer one ends with the in-band error instead, and holds no copy of what it sent.
 */
export const CONTINUABLE_CHARS = 1024 * 1024;

/** What an event was, for the relay: content for the client, bookkeeping, or the end of the leg. */
export type Observed = 'content' | 'meta' | 'error';

/**
 * Records on the leg what one upstream event says, and tells the deadlines: every event is a
 * complete upstream event that meant something (comments, keep-alive pings and empty deltas make
 * none), and content meets the first-token deadline.
 */
export function observe(leg: StreamLeg, ev: StreamEvent, tracker: GenerationTracker): Observed {
  leg.watch?.event();
  switch (ev.type) {
    case 'start':
      leg.upstreamId = ev.upstreamId;
      if (ev.serviceTier !== undefined) leg.serviceTier = ev.serviceTier;
      return 'meta';
    case 'warnings':
      leg.warnings = [...(leg.warnings ?? []), ...ev.warnings];
      return 'meta';
    case 'finish':
      leg.finish = ev.finish;
      return 'meta';
    case 'usage':
      leg.usage = ev.usage;
      return 'meta';
    case 'error':
      // Upstream words can echo the provider key; it never reaches the client.
      leg.error = redactSecret(ev.error, leg.candidate.endpoint.provider.apiKey);
      return 'error';
    case 'text':
      leg.outputChars += ev.text.length;
      if (tracker.content) captureText(tracker.content, ev.text);
      if (leg.textCapped) break;
      leg.text += ev.text;
      if (leg.text.length > CONTINUABLE_CHARS) {
        leg.text = '';
        leg.textCapped = true;
      }
      break;
    case 'reasoning':
      leg.outputChars += (ev.text ?? '').length;
      if (tracker.content && ev.text) captureReasoning(tracker.content, ev.text);
      break;
    case 'tool-call-start':
      leg.toolCalls++;
      break;
    case 'tool-call-delta':
      leg.outputChars += ev.argumentsDelta.length;
      break;
  }
  tracker.markFirstToken();
  leg.watch?.content();
  return 'content';
}

/**
 * Hands the renderer the leg's warnings, once, before its first content: a leg that fails before
 * any content (and is replaced by another endpoint) never shows the warnings of a request it did
 * not serve.
 */
export function flushWarnings(leg: StreamLeg, renderer: StreamRenderer): void {
  if (!leg.warnings || leg.warnings.length === 0) return;
  renderer.warn?.(leg.warnings);
  leg.warnings = undefined;
}

/**
 * Relays one upstream's events to the client through the renderer until it finishes or fails,
 * recording on the leg what it produced. Never rejects (a failure is `leg.error`).
 */
export async function relay(
  leg: StreamLeg,
  events: AsyncIterable<StreamEvent>,
  renderer: StreamRenderer,
  sse: SseResponse,
  tracker: GenerationTracker,
): Promise<void> {
  try {
    for await (const ev of events) {
      const seen = observe(leg, ev, tracker);
      if (seen === 'error') return;
      if (seen === 'meta') continue;
      flushWarnings(leg, renderer);
      const chunk = renderer.event(ev);
      if (chunk !== undefined) {
        const backpressure = sse.write(chunk);
        if (backpressure) {
          // While the client is not reading, neither are we: the upstream's silence is not its own.
          leg.watch?.pause();
          await backpressure;
          leg.watch?.resume();
        }
      }
    }
  } catch (err) {
    leg.error = asGatewayError(err);
  }
}

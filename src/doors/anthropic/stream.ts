/**
 * Streams one generation to an Anthropic client when an Anthropic endpoint, whose stream is
 * relayed raw, is among the candidates. (Requests that only other providers can serve go through
 * the shared `streamGeneration` with this door's renderer instead.)
 *
 * The money and the record work as in `streamGeneration`: free-tier check, per-key admission, the
 * worst-case hold, endpoint slots, settlement and the generation record, including when the client
 * goes away. Endpoints are tried in order — raw or translated, whichever each candidate needs — and
 * an endpoint that fails before anything reached the client is replaced invisibly by the next (a
 * raw stream's bytes are held until its first content: RawSink). After bytes went out the answer
 * cannot start over: it ends with an in-band `event: error`
 * (unless the upstream already sent its own). Mid-stream continuation on another endpoint is not
 * offered on this path, since a raw stream cannot be stitched to a translated one.
 */
import type { App } from '../../app.ts';
import { clientGone } from '../../gateway/call-context.ts';
import { recordFailure, settleOrLog } from '../../gateway/metering.ts';
import type { HoldInput } from '../../gateway/metering.ts';
import { tryCandidates } from '../../gateway/resolve.ts';
import type { Candidate } from '../../gateway/resolve.ts';
import { flushWarnings, relay } from '../../gateway/relay.ts';
import type { StreamLeg } from '../../gateway/relay.ts';
import { checkpointStream, cutByDeadline, failUnseen, openFirstLeg } from '../../gateway/stream-generation.ts';
import type { StreamRenderer } from '../../gateway/stream-generation.ts';
import { generated } from '../../gateway/tracker.ts';
import type { GenerationTracker } from '../../gateway/tracker.ts';
import type { RouteContext } from '../../http/server.ts';
import { SseResponse } from '../../http/sse-response.ts';
import type { CallContext } from '../../providers/types.ts';
import { endpointKey } from '../../router/types.ts';
import { emptyUsage } from '../../spec/response.ts';
import type { FinishReason, StreamEvent, Usage } from '../../spec/response.ts';
import type { ApiKeyRecord } from '../../store/types.ts';
import { anthropicErrorFrame } from './errors.ts';
import { RawSink } from './passthrough.ts';

export interface MixedStreamJob {
  key: ApiKeyRecord;
  hold: HoldInput;
  candidates: readonly Candidate[];
  tracker: GenerationTracker;
  callCtx: CallContext;
  /** Whether a candidate takes the body raw. */
  raw: (c: Candidate) => boolean;
  openRaw: (c: Candidate, sink: RawSink) => Promise<AsyncIterable<StreamEvent>>;
  openTranslated: (c: Candidate) => Promise<AsyncIterable<StreamEvent>>;
  renderer: (c: Candidate) => StreamRenderer;
  onServed?: (c: Candidate) => void;
  /** Prompt size estimate for when the upstream reports no usage. */
  promptTokens: () => number;
}

interface Leg extends StreamLeg {
  renderer?: StreamRenderer;
  /** Whether this leg's renderer sent anything. */
  rendered: boolean;
}

export async function streamMixed(app: App, ctx: RouteContext, job: MixedStreamJob): Promise<void> {
  const { tracker, callCtx } = job;
  const sse = new SseResponse(ctx.res, { 'x-generation-id': tracker.id }, { keepAliveMs: app.settings.keepAliveMs });
  // Keep-alive comments go out until the first raw bytes do; from then on Anthropic pings itself.
  const sink = new RawSink((text) => sse.write(text), () => sse.stop());
  const first = await openFirstLeg(app, sse, job, (c) => (job.raw(c) ? job.openRaw(c, sink) : job.openTranslated(c)), anthropicErrorFrame);
  if (!first) return;
  const { opened, held, settleTokens, openInSlot: open, opts } = first;
  const legs: Leg[] = [];
  checkpointStream(app, job, legs);
  let leg: Leg;
  let { value: events, candidate } = opened;
  for (;;) {
    leg = {
      candidate,
      renderer: job.raw(candidate) ? undefined : job.renderer(candidate),
      text: '',
      outputChars: 0,
      toolCalls: 0,
      rendered: false,
      watch: callCtx.watch,
    };
    // Only the current leg counts: a failed one before it delivered nothing (else there is no next).
    legs.splice(0, legs.length, leg);
    leg.rendered = await relay(leg, events, leg.renderer, sse, tracker);
    if (!leg.error || callCtx.signal.aborted) break;
    recordFailure(app, candidate, leg.error.status, leg.error);
    // Nothing reached the client: the next endpoint starts over, unseen.
    if (sink.wrote || leg.rendered) break;
    const rest = job.candidates.slice(job.candidates.indexOf(candidate) + 1);
    const next = await tryCandidates(rest, callCtx.signal, open, opts).catch(() => undefined);
    if (!next) break;
    ({ value: events, candidate } = next);
  }
  // The total deadline is not the client leaving: the client is still there to be told.
  const cancelled = clientGone(callCtx.signal);
  if (leg.error && !cancelled && !sse.headersSent) await failUnseen(app, sse, tracker, held, settleTokens, leg.error);
  const estimated = leg.usage === undefined;
  const usage = leg.usage ?? { ...emptyUsage(), inputTokens: job.promptTokens(), outputTokens: Math.ceil(leg.outputChars / 4) };
  const error = leg.error;
  const finish: FinishReason = error ? { unified: 'error', raw: leg.finish?.raw ?? null } : (leg.finish ?? { unified: 'stop', raw: null });
  const { record, charge } = tracker.finish({
    modelId: candidate.model.id,
    endpoint: candidate.endpoint,
    usage,
    usageEstimated: estimated,
    upstreamId: leg.upstreamId,
    finishReason: finish.unified,
    nativeFinishReason: finish.raw,
    // Content relayed, tokens counted, or the upstream's own finish (not the default above).
    produced: leg.outputChars > 0 || leg.toolCalls > 0 || generated(usage, leg.finish?.unified ?? null),
    cancelled,
    cut: cutByDeadline(error, leg.outputChars > 0 || leg.toolCalls > 0),
    error: error && !cancelled ? error.message : null,
  });
  if (!error) {
    job.onServed?.(candidate);
    const secs = tracker.firstTokenAt === undefined ? 0 : (performance.now() - tracker.firstTokenAt) / 1000;
    app.health.record(endpointKey(candidate.endpoint), {
      ok: true,
      ttftMs: record.ttftMs ?? undefined,
      tokensPerSecond: secs > 0 ? usage.outputTokens / secs : undefined,
      at: Date.now(),
    });
  }
  sse.stop();
  void settleTokens?.(record.tokensPrompt + record.tokensCompletion);
  // The content has streamed as it came; the closing events wait for the charge to commit, so a
  // client that has its whole answer sees its charge from every process.
  const checkpointed = await app.checkpoints.untrack(tracker.id);
  await settleOrLog(app, job.key, held || checkpointed, record, charge);
  if (cancelled) {
    sse.end();
    return;
  }
  sink.releaseClosing();
  if (leg.renderer) {
    // An answer without content still shows what was dropped from its request.
    flushWarnings(leg, leg.renderer);
    const total: Usage = {
      ...emptyUsage(),
      inputTokens: record.tokensPrompt,
      outputTokens: record.tokensCompletion,
      cacheReadTokens: record.tokensCached,
      cacheWriteTokens: record.tokensCacheWrite,
      reasoningTokens: record.tokensReasoning,
    };
    sse.write(error ? leg.renderer.error(error, total, charge) : leg.renderer.final(finish, total, charge));
  } else if (error && !sink.sawError) {
    // The upstream's own bytes ended without saying why (a dropped connection): say it for them.
    sse.write(anthropicErrorFrame(error));
  }
  sse.end();
}

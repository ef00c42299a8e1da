/**
 * The one driver of every streamed answer, whatever its door (the renderer writes the frames) and
 * whatever each upstream leg is: translated events (an adapter's internal stream events, rendered),
 * same-format chunks (OpenAI chunks to the chat door, chunk-relay.ts) or raw passthrough (Anthropic
 * bytes to the Messages door, stream-passthrough.ts). It opens the upstream (falling back before
 * anything is sent) and relays it. When an upstream fails before any content, the next endpoint
 * takes over invisibly; when it fails after content has streamed, the answer continues on an
 * endpoint that can resume an assistant turn (mid-stream failover: always translated, rendered as
 * the same stream, since the renderer has seen every frame the client got), or the stream ends with
 * an in-band error. The ending is the same for all: usage, the charge committed before the closing
 * frames, checkpoints, health, the generation record — also when the client disconnects, which
 * aborts the upstream.
 */
import type { App } from '../app.ts';
import { streamInSlot } from './admission.ts';
import type { SlotOptions } from './admission.ts';
import { clientGone } from './call-context.ts';
import { admitAndRun, recordFailure, releaseHold, settleOrLog, tryOptions } from './metering.ts';
import type { HoldInput } from './metering.ts';
import { tryCandidates } from './resolve.ts';
import type { Candidate } from '../router/types.ts';
import type { ChatRoute } from './chat-route.ts';
import { generated, NO_CHARGE } from '../accounting/charge.ts';
import type { Charge } from '../accounting/charge.ts';
import type { FinishOptions, GenerationTracker, LegUsage } from './tracker.ts';
import { deliveredSoFar } from './stream-checkpoints.ts';
import type { RouteContext } from '../http/server.ts';
import { SseResponse } from '../http/sse-response.ts';
import { endpointKey } from '../catalog/endpoint-key.ts';
import { ADAPTERS } from '../providers/registry.ts';
import type { CallContext, ChatChunkStream } from '../providers/types.ts';
import { relayChunks } from './chunk-relay.ts';
import { flushWarnings, relay } from './relay.ts';
import type { StreamLeg } from './relay.ts';
import { relayPassthrough } from './stream-passthrough.ts';
import type { PassthroughStream } from './stream-passthrough.ts';
import { asGatewayError } from '../spec/errors.ts';
import type { GatewayError } from '../spec/errors.ts';
import { emptyUsage } from '../spec/response.ts';
import type { FinishReason, StreamEvent, Usage } from '../spec/response.ts';
import type { ApiKeyRecord } from '../store/types.ts';

/** A door's stream format. Every method returns complete SSE frames (`data: ...\n\n`, `event: ...`). */
export interface StreamRenderer {
  event(ev: StreamEvent): string | undefined;
  /**
   * The frame for an upstream chunk already in this door's format (same-format passthrough), or
   * undefined to have its events rendered instead. Only renderers of OpenAI's chunk format have it.
   */
  chunk?(chunk: Record<string, unknown>, events: readonly StreamEvent[]): string | undefined;
  /**
   * The frames for whole wire events of an upstream already in this door's format (raw
   * passthrough), as they go out; the renderer notes what they opened, so that events rendered after
   * them (a mid-stream failover's next leg) continue the same stream. Only the Messages door has it.
   */
  passthrough?(events: string): string;
  /** The closing frames of a successful stream (usage, terminator). */
  final(finish: FinishReason, usage: Usage, cost: Charge, about?: StreamEnding): string;
  /** The closing frames of a failed stream (in-band error, terminator). */
  error(err: GatewayError, usage: Usage, cost: Charge): string;
  /**
   * Warnings about the request (what an adapter dropped or rewrote), to show on the next frame.
   * Called before the content they concern; a renderer without it shows none.
   */
  warn?(warnings: readonly string[]): void;
}

/** What the closing frames may say about the upstream that finished the answer. */
export interface StreamEnding {
  /** The processing tier it reported (`service_tier`), when it reported one. */
  serviceTier?: string;
}

/**
 * An opened upstream: its events (translated), its chunks when they are already in the door's chunk
 * format, or its bytes when they are already in the door's wire format (passthrough).
 */
export type LegSource = AsyncIterable<StreamEvent> | ChatChunkStream | PassthroughStream;

export interface ChunkMeta {
  id: string;
  created: number;
  model: string;
  providerName: string;
}

export interface StreamJob {
  key: ApiKeyRecord;
  hold: HoldInput;
  candidates: readonly Candidate[];
  tracker: GenerationTracker;
  callCtx: CallContext;
  open: (c: Candidate) => Promise<LegSource>;
  /**
   * Opens a continuation of an answer cut off after `partialText` (the conversation plus that text
   * as a trailing assistant message). Absent when the request cannot be continued (legacy prompts).
   */
  continueWith?: (c: Candidate, partialText: string) => Promise<LegSource>;
  /** Whether the client allows mid-stream failover (request option; on by default). */
  midStreamFailover: boolean;
  /** Told which endpoint finished the answer (sticky routing). */
  onServed?: (c: Candidate) => void;
  renderer: (meta: ChunkMeta) => StreamRenderer;
  /** Prompt size estimate for when the upstream reports no usage. */
  promptTokens: () => number;
}

/** What a door adds to a routed request's job: how to open, continue and render its streams. */
export type DoorStream = Omit<StreamJob, 'key' | 'hold' | 'candidates' | 'tracker' | 'callCtx' | 'onServed'>;

/** Streams a request routed by routeChat (chat-route.ts): the route's candidates, hold and tracking, with the door's part. */
export function streamRoute(app: App, ctx: RouteContext, key: ApiKeyRecord, route: ChatRoute, door: DoorStream): Promise<void> {
  const { hold, candidates, tracker, callCtx, served } = route;
  return streamGeneration(app, ctx, { key, hold, candidates, tracker, callCtx, onServed: served, ...door });
}

/**
 * The start every streamed answer shares: the free tier, the key's limits and the hold, then the
 * first candidate that opens, inside its endpoint's slot (a client queued for a full endpoint gets
 * keep-alives, not silence). When none opens: before anything was sent the error is thrown (a real
 * HTTP status); after, it goes in-band and the result is undefined.
 */
async function openFirstLeg(app: App, sse: SseResponse, job: StreamJob) {
  const opts = tryOptions(app);
  const slot: SlotOptions = {
    key: job.key,
    signal: job.callCtx.signal,
    onWait: (position: number) => sse.write(`: FREEWAY QUEUED (position ${position})\n\n`),
  };
  const openInSlot = (c: Candidate) => streamInSlot(app, c, slot, () => job.open(job.tracker.calling(c)));
  try {
    const { opened, held, settleTokens } = await admitAndRun(app, job, openInSlot, opts, slot);
    return { opened, held, settleTokens, openInSlot, slot, opts };
  } catch (err) {
    sse.stop();
    if (!sse.headersSent) throw err;
    sse.write(job.renderer(job.tracker.meta(job.candidates[0])).error(asGatewayError(err), emptyUsage(), NO_CHARGE));
    sse.end();
    return undefined;
  }
}

/**
 * Whether one of Freeway's own deadlines (first-token, idle, total) ended an answer after content
 * had reached the client: it is charged for what was delivered, like a cancelled one.
 */
function cutByDeadline(error: GatewayError | undefined, delivered: boolean): boolean {
  return delivered && error !== undefined && error.type === 'timeout' && error.metadata.deadline !== undefined;
}

/** Relays one leg, whichever kind of source it has, until it finishes or fails (`leg.error`). */
async function relayLeg(leg: StreamLeg, source: LegSource, renderer: StreamRenderer, sse: SseResponse, job: StreamJob): Promise<void> {
  if ('reader' in source) await relayChunks(leg, source, renderer, sse, job.tracker, job.callCtx.signal);
  else if ('bytes' in source) await relayPassthrough(leg, source, renderer, sse, job.tracker);
  else await relay(leg, source, renderer, sse, job.tracker);
}

export async function streamGeneration(app: App, ctx: RouteContext, job: StreamJob): Promise<void> {
  const { tracker, callCtx } = job;
  const sse = new SseResponse(ctx.res, { 'x-generation-id': tracker.id }, { keepAliveMs: app.settings.keepAliveMs });
  const first = await openFirstLeg(app, sse, job);
  if (!first) return;
  const { opened, held, settleTokens, openInSlot: open, slot, opts } = first;
  // Made again for each endpoint that starts over unseen (it names the endpoint that answers); kept
  // from the first content on, so that a continuation carries on the stream the client is reading.
  let renderer = job.renderer(tracker.meta(opened.candidate));
  const legs: StreamLeg[] = [];
  checkpointStream(app, job, legs);
  let source: LegSource = opened.value;
  let candidate = opened.candidate;
  for (;;) {
    const leg: StreamLeg = { candidate, text: '', outputChars: 0, toolCalls: 0, watch: callCtx.watch };
    legs.push(leg);
    await relayLeg(leg, source, renderer, sse, job);
    if (!leg.error || callCtx.signal.aborted) break;
    recordFailure(app, candidate, leg.error, true);
    const rest = job.candidates.slice(job.candidates.indexOf(candidate) + 1);
    const contentSent = legs.some((l) => l.outputChars > 0 || l.toolCalls > 0);
    let next: { value: LegSource; candidate: Candidate } | undefined;
    if (!contentSent) {
      // Failed before any content: nobody saw anything, so the next endpoint simply starts over.
      legs.pop();
      next = await tryCandidates(rest, callCtx.signal, open, opts).catch(() => undefined);
      if (!next) legs.push(leg);
      else renderer = job.renderer(tracker.meta(next.candidate));
    } else if (
      job.midStreamFailover &&
      app.settings.routing.midStreamFailover &&
      job.continueWith &&
      legs.every((l) => l.toolCalls === 0 && !l.textCapped)
    ) {
      const partial = legs.map((l) => l.text).join('');
      const able = rest.filter((c) => ADAPTERS[c.endpoint.provider.protocol].continuesAssistantTurn(c.endpoint.provider));
      next = await tryCandidates(able, callCtx.signal, (c) => streamInSlot(app, c, slot, () => job.continueWith!(c, partial)), opts).catch(
        () => undefined,
      );
    }
    if (!next) break;
    source = next.value;
    candidate = next.candidate;
  }
  const last = legs[legs.length - 1];
  // The total deadline is not the client leaving: the client is still there to be told.
  const cancelled = clientGone(callCtx.signal);
  const error = last.error;
  if (error && !cancelled && !sse.headersSent) {
    // Failed before anything reached the client, not even a keep-alive: a real HTTP status, as when
    // no endpoint opens at all, and nothing is charged.
    sse.stop();
    await app.checkpoints.untrack(tracker.id);
    await releaseHold(app, tracker, held);
    void settleTokens?.(0);
    throw error;
  }
  const { opts: finished, lastUsage, finalFinish } = finishOf(legs, job.promptTokens, cancelled);
  const { record, charge } = tracker.finish(finished);
  if (!error) {
    job.onServed?.(last.candidate);
    const secs = tracker.firstTokenAt === undefined ? 0 : (performance.now() - tracker.firstTokenAt) / 1000;
    app.health.record(endpointKey(last.candidate.endpoint), {
      ok: true,
      ttftMs: record.ttftMs ?? undefined,
      tokensPerSecond: secs > 0 ? lastUsage.outputTokens / secs : undefined,
      at: Date.now(),
    });
  }
  sse.stop();
  void settleTokens?.(record.tokensPrompt + record.tokensCompletion);
  // The content has streamed as it came; the closing frames (usage, terminator) wait for the charge
  // to commit, so a client that has its whole answer sees its charge from every process.
  const checkpointed = await app.checkpoints.untrack(tracker.id);
  await settleOrLog(app, job.key, held || checkpointed, record, charge);
  if (!cancelled) {
    // An answer without content still shows what was dropped from its request.
    flushWarnings(last, renderer);
    // A passthrough leg's own closing events (or its own error event) are what its client expects.
    const own = 'bytes' in source ? source.bytes.ending(error !== undefined) : '';
    const total: Usage = {
      ...emptyUsage(),
      inputTokens: record.tokensPrompt,
      outputTokens: record.tokensCompletion,
      cacheReadTokens: record.tokensCached,
      cacheWriteTokens: record.tokensCacheWrite,
      reasoningTokens: record.tokensReasoning,
    };
    if (own !== '') sse.write(renderer.passthrough ? renderer.passthrough(own) : own);
    else if (error) sse.write(renderer.error(error, total, charge));
    else sse.write(renderer.final(finalFinish, total, charge, { serviceTier: last.serviceTier }));
  }
  sse.end();
}

/**
 * What the legs of a stream add up to so far, as the tracker's finish options: each leg's usage
 * (estimated from what it relayed when the upstream reported none), and how it ended. A `running`
 * stream's reported usage may be an early count (Anthropic reports output so far only at the end):
 * its output is at least the estimate of what was relayed.
 */
function finishOf(
  legs: readonly StreamLeg[],
  promptTokens: () => number,
  cancelled: boolean,
  running = false,
): { opts: FinishOptions; lastUsage: Usage; finalFinish: FinishReason } {
  const last = legs[legs.length - 1];
  const legUsage = (l: StreamLeg, prompt: number): { usage: Usage; estimated: boolean } => {
    const estimate = Math.ceil(l.outputChars / 4);
    // An estimate is priced at the tier the upstream said it served, like a reported usage.
    const tier = l.serviceTier !== undefined ? { serviceTier: l.serviceTier } : {};
    if (!l.usage) return { usage: { ...emptyUsage(), inputTokens: prompt, outputTokens: estimate, ...tier }, estimated: true };
    if (running && l.usage.outputTokens < estimate) return { usage: { ...l.usage, outputTokens: estimate }, estimated: true };
    return { usage: l.usage, estimated: false };
  };
  const earlierLegs: LegUsage[] = legs.slice(0, -1).map((l) => {
    const u = legUsage(l, promptTokens());
    return { endpoint: l.candidate.endpoint, usage: u.usage, usageEstimated: u.estimated, error: l.error?.message ?? null };
  });
  const lastUsage = legUsage(last, promptTokens());
  const error = last.error;
  const delivered = legs.some((l) => l.outputChars > 0 || l.toolCalls > 0);
  const finalFinish: FinishReason = error
    ? { unified: 'error', raw: last.finish?.raw ?? null }
    : (last.finish ?? { unified: 'stop', raw: null });
  return {
    opts: {
      modelId: last.candidate.model.id,
      endpoint: last.candidate.endpoint,
      usage: lastUsage.usage,
      usageEstimated: lastUsage.estimated,
      upstreamId: last.upstreamId,
      finishReason: finalFinish.unified,
      nativeFinishReason: finalFinish.raw,
      // Content relayed, tokens counted, or the upstream's own finish (not the default above).
      produced: delivered || generated(lastUsage.usage, last.finish?.unified ?? null),
      cancelled,
      cut: cutByDeadline(error, delivered),
      error: error && !cancelled ? error.message : null,
      earlierLegs,
    },
    lastUsage: lastUsage.usage,
    finalFinish,
  };
}

/** Checkpoints a running stream: what its legs have delivered so far, once they have delivered content. */
function checkpointStream(app: App, job: Pick<StreamJob, 'key' | 'tracker' | 'promptTokens'>, legs: readonly StreamLeg[]): void {
  app.checkpoints.track(job.tracker.id, job.key, () =>
    legs.some((l) => l.outputChars > 0 || l.toolCalls > 0)
      ? deliveredSoFar(job.tracker, finishOf(legs, job.promptTokens, true, true).opts)
      : undefined,
  );
}

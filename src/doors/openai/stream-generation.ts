/**
 * Streams one generation to an OpenAI-style SSE client, whatever the chunk format (chat or legacy
 * completions): opens the upstream (falling back before anything is sent), relays events through
 * a renderer, ends with usage and `[DONE]` or an in-band error, and records the generation —
 * including when the client disconnects, which aborts the upstream.
 */
import type { App } from '../../app.ts';
import type { Charge } from '../../gateway/tracker.ts';
import { checkFreeTier } from '../../accounting/free-tier.ts';
import { holdWorstCase, releaseHold, settleAndRecord } from '../../gateway/metering.ts';
import type { HoldInput } from '../../gateway/metering.ts';
import { tryCandidates } from '../../gateway/resolve.ts';
import type { Candidate } from '../../gateway/resolve.ts';
import type { GenerationTracker } from '../../gateway/tracker.ts';
import type { RouteContext } from '../../http/server.ts';
import { SseResponse } from '../../http/sse-response.ts';
import type { CallContext } from '../../providers/types.ts';
import { redactSecret } from '../../providers/redact.ts';
import { asGatewayError } from '../../spec/errors.ts';
import type { GatewayError } from '../../spec/errors.ts';
import { emptyUsage } from '../../spec/response.ts';
import type { FinishReason, StreamEvent, Usage } from '../../spec/response.ts';
import type { ApiKeyRecord } from '../../store/types.ts';
import { NO_CHARGE } from './render-usage.ts';

export interface StreamRenderer {
  event(ev: StreamEvent): string | undefined;
  final(finish: FinishReason, usage: Usage, cost: Charge): string;
  error(err: GatewayError, usage: Usage, cost: Charge): string;
}

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
  open: (c: Candidate) => Promise<AsyncIterable<StreamEvent>>;
  renderer: (meta: ChunkMeta) => StreamRenderer;
  /** Prompt size estimate for when the upstream reports no usage. */
  promptTokens: () => number;
}


export async function streamGeneration(app: App, ctx: RouteContext, job: StreamJob): Promise<void> {
  const { tracker, callCtx } = job;
  const sse = new SseResponse(ctx.res, { 'x-generation-id': tracker.id }, { keepAliveMs: app.settings.keepAliveMs });
  const meta = (c: Candidate): ChunkMeta => tracker.meta(c);
  let opened: { value: AsyncIterable<StreamEvent>; candidate: Candidate };
  let held = false;
  try {
    await checkFreeTier(app, job.key, job.candidates);
    held = await holdWorstCase(app, job.key, tracker, job.candidates, job.hold);
    opened = await tryCandidates(job.candidates, callCtx.signal, job.open);
  } catch (err) {
    sse.stop();
    await releaseHold(app, tracker, held);
    // Nothing sent yet: answer with the real status. Otherwise the error goes in-band.
    if (!sse.headersSent) throw err;
    sse.data(job.renderer(meta(job.candidates[0])).error(asGatewayError(err), emptyUsage(), NO_CHARGE));
    sse.write('data: [DONE]\n\n');
    sse.end();
    return;
  }
  const { candidate } = opened;
  const renderer = job.renderer(meta(candidate));
  let finish: FinishReason | undefined;
  let usage: Usage | undefined;
  let upstreamId: string | undefined;
  let error: GatewayError | undefined;
  let outputChars = 0;
  try {
    for await (const ev of opened.value) {
      if (ev.type === 'start') upstreamId = ev.upstreamId;
      else if (ev.type === 'finish') finish = ev.finish;
      else if (ev.type === 'usage') usage = ev.usage;
      else if (ev.type === 'error') {
        // Upstream words can echo the provider key; it never reaches the client.
        error = redactSecret(ev.error, candidate.endpoint.provider.apiKey);
        break;
      } else {
        tracker.markFirstToken();
        if (ev.type === 'text') outputChars += ev.text.length;
        else if (ev.type === 'reasoning') outputChars += (ev.text ?? '').length;
        else if (ev.type === 'tool-call-delta') outputChars += ev.argumentsDelta.length;
        const chunk = renderer.event(ev);
        if (chunk !== undefined) {
          const backpressure = sse.data(chunk);
          if (backpressure) await backpressure;
        }
      }
    }
  } catch (err) {
    error = asGatewayError(err);
  }
  const cancelled = callCtx.signal.aborted;
  const estimated = usage === undefined;
  const finalUsage: Usage = usage ?? { ...emptyUsage(), inputTokens: job.promptTokens(), outputTokens: Math.ceil(outputChars / 4) };
  const finalFinish: FinishReason = error ? { unified: 'error', raw: finish?.raw ?? null } : (finish ?? { unified: 'stop', raw: null });
  const { record, charge } = tracker.finish({
    modelId: candidate.model.id,
    endpoint: candidate.endpoint,
    usage: finalUsage,
    usageEstimated: estimated,
    upstreamId,
    finishReason: finalFinish.unified,
    nativeFinishReason: finalFinish.raw,
    cancelled,
    error: error && !cancelled ? error.message : null,
  });
  sse.stop();
  await settleAndRecord(app, job.key, held, record, charge);
  if (cancelled) {
    sse.end();
    return;
  }
  sse.data(error ? renderer.error(error, finalUsage, charge) : renderer.final(finalFinish, finalUsage, charge));
  sse.write('data: [DONE]\n\n');
  sse.end();
}

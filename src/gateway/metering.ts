/**
 * The money around one request: free-tier allowance, the worst-case hold before the upstream call,
 * and the settlement (or release) after it. Doors call these; the arithmetic lives in accounting.
 */
import { channel } from 'node:diagnostics_channel';
import type { App } from '../app.ts';
import { holdRates, worstCaseNanos } from '../accounting/billing.ts';
import { AmountError, MAX_AMOUNT_NANOS, usdBound } from '../spec/money-bounds.ts';
import { checkAlerts } from '../accounting/alerts.ts';
import { checkFreeTier } from '../accounting/free-tier.ts';
import { possibleTiers, tierPricing } from '../catalog/service-tiers.ts';
import { admitKey, givePlaceBack, inSlot } from './admission.ts';
import type { SlotOptions } from './admission.ts';
import { emptyUsage } from '../spec/response.ts';
import type { FinishReason, Usage } from '../spec/response.ts';
import { isOutage } from '../spec/errors.ts';
import type { GatewayError } from '../spec/errors.ts';
import { isProviderFault } from '../router/health/policy.ts';
import { redactSecret } from '../providers/redact.ts';
import type { ApiKeyRecord, GenerationRecord } from '../store/types.ts';
import { tryCandidates } from './resolve.ts';
import type { SettleTokens } from '../limits/limits.ts';
import type { TryOptions } from './resolve.ts';
import { endpointKey } from '../catalog/endpoint-key.ts';
import type { Candidate } from '../router/types.ts';
import { generated, upstreamCharged } from '../accounting/charge.ts';
import type { Charge } from '../accounting/charge.ts';
import type { GenerationTracker } from './tracker.ts';

/** Output tokens a candidate may produce when the request sets no limit. */
const FALLBACK_MAX_OUTPUT = 16_384;

export interface HoldInput {
  promptTokens: number;
  /** The request's max_tokens, if any. */
  maxTokens?: number;
  /** A reasoning budget the adapter may add on top of max_tokens. */
  reasoningTokens?: number;
  /** Input images, for endpoints priced per image. */
  images?: number;
  /** The processing tier asked for (`service_tier`): its price is held where it is dearer than the standard one. */
  serviceTier?: unknown;
}

/**
 * Holds the worst case across all candidates (any of them may serve after a fallback).
 * Returns whether anything was held; free requests hold nothing.
 */
export async function holdWorstCase(
  app: App,
  key: ApiKeyRecord,
  tracker: GenerationTracker,
  candidates: readonly Candidate[],
  input: HoldInput,
): Promise<boolean> {
  let worst = 0;
  let worstCandidate = candidates[0];
  let p = worstCandidate.endpoint.pricing;
  let maxOut = 0;
  for (const c of candidates) {
    // Asking for more than the model gives is served at its maximum (fitOutput): that is what is held.
    const cap = c.endpoint.maxOutputTokens ?? c.model.maxOutputTokens ?? undefined;
    const asked = input.maxTokens !== undefined && cap !== undefined ? Math.min(input.maxTokens, cap) : input.maxTokens;
    const out = (asked ?? cap ?? FALLBACK_MAX_OUTPUT) + (input.reasoningTokens ?? 0);
    // Any tier the answer may come back at is charged at its own price: the dearest is held.
    for (const tier of possibleTiers(input.serviceTier)) {
      const pricing = tierPricing(c.endpoint.pricing, tier);
      const n = worstCaseNanos(pricing, input.promptTokens, out, input.images);
      if (n >= worst) {
        worst = n;
        worstCandidate = c;
        p = pricing;
        maxOut = out;
      }
    }
  }
  const amount = app.billing.total(worst);
  if (amount > MAX_AMOUNT_NANOS) {
    // A hold is one amount: past the bound it could not be held (or summed) exactly.
    throw new AmountError(
      'max_tokens',
      `this request could cost up to ${usdBound(amount)} (${input.promptTokens} prompt tokens and up to ${maxOut} output tokens of ${worstCandidate.model.id}), ` +
        `more than ${usdBound(MAX_AMOUNT_NANOS)}, the bound on a single amount; set a lower max_tokens`,
      MAX_AMOUNT_NANOS,
    );
  }
  if (amount === 0 || !(await app.billing.needsHold(key))) return false;
  const rates = holdRates(p, input.promptTokens, input.images ?? 0, app.billing.settings.markupBp);
  try {
    await app.billing.hold(key, tracker.id, amount, {
      model: worstCandidate.model.id,
      promptTokens: input.promptTokens,
      maxOutputTokens: maxOut,
      ...rates,
      keyHash: key.hash,
    });
  } catch (err) {
    // The database went away mid-way: the hold may have committed unseen. Releasing it is harmless if it did not.
    if (isOutage(err)) void releaseHold(app, tracker, true);
    throw err;
  }
  return true;
}

/**
 * Charges what the generation cost (after insurance), drops the hold, and records the generation:
 * in the charge's own transaction when there is one (a reader who sees the charge sees the
 * record), else through the generation log.
 */
export async function settleAndRecord(app: App, key: ApiKeyRecord, held: boolean, record: GenerationRecord, charge: Charge): Promise<void> {
  if (!held && charge.chargedNanos === 0) {
    app.generations.record(record);
    return;
  }
  try {
    await settleCharge(app, key, held, record, charge);
  } catch (err) {
    // The log keeps retrying the record; the charge is retried by the caller.
    app.generations.record(record);
    throw err;
  }
}

/** The charge (and the record, in the same commit); throws when it could not commit. Idempotent. */
async function settleCharge(app: App, key: ApiKeyRecord, held: boolean, record: GenerationRecord, charge: Charge): Promise<void> {
  const what = `${record.model} via ${record.providerId}`;
  const charged = await app.billing.settle(key, record.id, upstreamCharged(charge), charge.feeNanos, what, held, record);
  // In the background: an alert never delays or fails the request that crossed it.
  if (charged && charge.chargedNanos > 0) checkAlerts(app, key);
}

/** How long answers waited for their charge to commit: published only while someone listens (the benchmark). */
const settleTiming = channel('freeway.settle');

/**
 * Settles, and resolves once the charge is committed: callers send the last bytes of the answer
 * only then, so a client that has its whole answer sees its charge from every process and replica.
 * A failure is never thrown (the answer still goes out): the charge is retried until it commits
 * (DeferredCharges), its hold kept meanwhile.
 * Shutdown waits for settlements in progress (Billing.settled).
 */
export async function settleOrLog(app: App, key: ApiKeyRecord, held: boolean, record: GenerationRecord, charge: Charge): Promise<void> {
  const started = performance.now();
  // Its content (when logged) is written after the answer, off this path.
  app.content.recorded(record);
  const settling = settleAndRecord(app, key, held, record, charge).catch((err: unknown) => {
    // A database outage is logged once, where it is noticed.
    if (!isOutage(err)) app.log.error(`could not settle generation ${record.id}, retrying: ${String(err)}`);
    if (held || charge.chargedNanos > 0) app.deferredCharges.add(record.id, () => settleCharge(app, key, held, record, charge));
  });
  app.billing.track(settling);
  await settling;
  if (settleTiming.hasSubscribers) settleTiming.publish({ ms: performance.now() - started, streamed: record.streamed, at: Date.now() });
}

/** Drops a hold nothing is charged against; never throws (a release the database refused is retried). */
export async function releaseHold(app: App, tracker: GenerationTracker, held: boolean): Promise<void> {
  if (!held) return;
  const release = () => app.billing.release(tracker.id);
  try {
    await release();
  } catch (err) {
    if (!isOutage(err)) app.log.error(`could not release hold ${tracker.id}, retrying: ${String(err)}`);
    app.deferredCharges.add(`release:${tracker.id}`, release);
  }
}

/**
 * The whole non-streamed path: hold, call (falling back across candidates), settle, record.
 * On failure before any result the hold is released and the error rethrown. `produced` says
 * whether a result carries output (zero-completion insurance; see isInsured): generations pass
 * `generatedOutput`, other APIs say what their output is.
 */
export async function runMetered<R extends { usage: Usage; upstreamId?: string; finish: FinishReason | null }>(
  app: App,
  key: ApiKeyRecord,
  tracker: GenerationTracker,
  candidates: readonly Candidate[],
  hold: HoldInput,
  signal: AbortSignal,
  call: (c: Candidate) => Promise<R>,
  estimate: (r: R | undefined) => { inputTokens: number; outputTokens: number },
  produced: (r: R) => boolean,
): Promise<{ result: R; candidate: Candidate; usage: Usage; charge: Charge }> {
  const slot: SlotOptions = { key, signal };
  const {
    opened: ran,
    held,
    settleTokens,
  } = await admitAndRun(
    app,
    { key, hold, candidates, tracker, callCtx: { signal }, promptTokens: () => estimate(undefined).inputTokens },
    (c) => inSlot(app, c, slot, () => call(tracker.calling(c))),
    tryOptions(app),
    slot,
  );
  const { usage, record, charge } = tracker.complete(ran.candidate, ran.value, () => estimate(ran.value), produced(ran.value));
  void settleTokens?.(usage.inputTokens + usage.outputTokens);
  app.health.record(endpointKey(ran.candidate.endpoint), { ok: true, ttftMs: record.latencyMs, at: Date.now() });
  // Committed before the door writes the answer: whoever has the answer can read its charge anywhere.
  await settleOrLog(app, key, held, record, charge);
  return { result: ran.value, candidate: ran.candidate, usage, charge };
}

/** The client went away (not the request's own deadline, which aborts with a TimeoutError). */
function cancelledByClient(signal: AbortSignal): boolean {
  return signal.aborted && (signal.reason as { name?: string } | undefined)?.name !== 'TimeoutError';
}

/**
 * An answer the client gave up on after the upstream had the request but before it answered: the
 * upstream bills at least the prompt (a non-streamed request runs to its end upstream), so the
 * cancelled generation is recorded and charged for its estimated prompt, as a cancelled stream is
 * charged for what it produced. Its hold was already given back; the charge is taken as a key
 * without one would be (it may pass a key's limit by that much).
 */
function chargeCancelled(app: App, key: ApiKeyRecord, tracker: GenerationTracker, c: Candidate, promptTokens: number): void {
  const { record, charge } = tracker.finish({
    modelId: c.model.id,
    endpoint: c.endpoint,
    usage: { ...emptyUsage(), inputTokens: promptTokens },
    usageEstimated: true,
    finishReason: null,
    nativeFinishReason: null,
    produced: false,
    cancelled: true,
  });
  void settleOrLog(app, key, false, record, charge);
}

/** A generation's output, for runMetered: output tokens or a finish (see `generated`). */
export function generatedOutput(r: { usage: Usage; finish: FinishReason | null }): boolean {
  return generated(r.usage, r.finish?.unified ?? null);
}

/** How the request path tries endpoints: Retry-After within the configured cap, failures to health. */
export function tryOptions(app: App): TryOptions {
  return {
    maxRetryAfterMs: app.settings.routing.maxRetryAfterMs,
    retriesPerEndpoint: app.settings.routing.retriesPerEndpoint,
    onFailure: (c, err) => {
      recordFailure(app, c, err);
      reportUpstreamFailure(app, c, err, false);
    },
  };
}

/** Tells operations about a failure of the provider itself (not Freeway's queue, not a client that left). */
export function reportUpstreamFailure(app: App, c: Candidate, err: GatewayError, midStream: boolean): void {
  if (err.metadata.provider_name === undefined || err.status === 499) return;
  const safe = redactSecret(err, c.endpoint.provider.apiKey);
  const providerStatus = err.metadata.provider_status;
  app.ops.upstreamFailed({
    provider: c.endpoint.provider.id,
    model: c.model.id,
    upstreamModel: c.endpoint.upstreamModel,
    status: err.status,
    ...(typeof providerStatus === 'number' ? { providerStatus } : {}),
    type: err.type,
    message: safe.message,
    midStream,
  });
}

/**
 * Tells health about a failure that is the provider's fault (isProviderFault); others say nothing
 * about the endpoint. A stream's leg that failed after it opened (`midStream`; the attempts before
 * it are reported by tryOptions) is reported to operations too.
 */
export function recordFailure(app: App, c: Candidate, err: GatewayError, midStream = false): void {
  if (isProviderFault(err)) app.health.record(endpointKey(c.endpoint), { ok: false, status: err.status, at: Date.now() });
  if (midStream) reportUpstreamFailure(app, c, err, true);
}

/**
 * Everything before the upstream answers: the free-tier allowance, the key's rate limits (and the
 * first endpoint's place with them, one store step, when both have limits), the credit hold, then
 * the first candidate `run` succeeds on. If none does, the hold, the token reservation and an
 * unused place are given back and the error rethrown for the door to answer.
 */
export async function admitAndRun<T>(
  app: App,
  job: {
    key: ApiKeyRecord;
    hold: HoldInput;
    candidates: readonly Candidate[];
    tracker: GenerationTracker;
    callCtx: { signal: AbortSignal };
    /** The prompt's estimated size: what a client that leaves after the upstream has the request pays. */
    promptTokens: () => number;
  },
  run: (c: Candidate) => Promise<T>,
  opts: TryOptions,
  /** How `run` takes its endpoint's slot: the first endpoint's place is decided with the key's limits. */
  slot: SlotOptions,
): Promise<{ opened: { value: T; candidate: Candidate }; held: boolean; settleTokens?: SettleTokens }> {
  let held = false;
  let settleTokens: SettleTokens | undefined;
  try {
    await checkFreeTier(app, job.key, job.candidates);
    const admitting = admitKey(app, job.key, job.hold.promptTokens + (job.hold.maxTokens ?? 0), job.candidates[0], slot);
    if (admitting !== undefined) settleTokens = await admitting;
    held = await holdWorstCase(app, job.key, job.tracker, job.candidates, job.hold);
    return { opened: await tryCandidates(job.candidates, job.callCtx.signal, run, opts), held, settleTokens };
  } catch (err) {
    await releaseHold(app, job.tracker, held);
    void settleTokens?.(0);
    const called = job.tracker.calledUpstream;
    if (called && cancelledByClient(job.callCtx.signal)) chargeCancelled(app, job.key, job.tracker, called, job.promptTokens());
    throw err;
  } finally {
    // Taken by the first upstream call; one that never came gives its place back.
    givePlaceBack(slot);
  }
}

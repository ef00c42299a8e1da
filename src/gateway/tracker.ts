/**
 * Follows one generation from request to record: timings, the endpoint that served, usage (or an
 * estimate when the upstream gave none), and what it costs — upstream cost, Freeway's fee, and
 * what is charged after zero-completion insurance (the rules are accounting's: accounting/charge.ts).
 */
import { chargeFor, isInsured } from '../accounting/charge.ts';
import type { Charge, Outcome } from '../accounting/charge.ts';
import { attachContent, captureResult } from '../accounting/content-log.ts';
import type { ContentCapture } from '../accounting/content-log.ts';
import { computeCost } from '../accounting/cost.ts';
import type { CostBreakdown } from '../accounting/cost.ts';
import type { Endpoint } from '../catalog/types.ts';
import type { FinishReason, Usage } from '../spec/response.ts';
import type { GenerationRecord } from '../store/types.ts';
import type { Candidate } from '../router/types.ts';
import { NO_ATTRIBUTION } from './attribution.ts';
import type { Attribution } from './attribution.ts';
import { noteAttempt, noteGeneration, noteRecord } from '../ops/request-facts.ts';
import { isoTime } from '../spec/iso-time.ts';

export interface FinishOptions extends Outcome {
  modelId: string;
  endpoint: Endpoint;
  usage: Usage;
  usageEstimated: boolean;
  upstreamId?: string;
  nativeFinishReason: string | null;
  /** Upstreams that served earlier parts of this generation before failing over (mid-stream). */
  earlierLegs?: LegUsage[];
}

export interface LegUsage {
  endpoint: Endpoint;
  usage: Usage;
  usageEstimated: boolean;
  error: string | null;
}

function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
    webSearchRequests: (a.webSearchRequests ?? 0) + (b.webSearchRequests ?? 0),
  };
}

function addCost(a: CostBreakdown, b: CostBreakdown): CostBreakdown {
  return {
    promptNanos: a.promptNanos + b.promptNanos,
    completionNanos: a.completionNanos + b.completionNanos,
    totalNanos: a.totalNanos + b.totalNanos,
  };
}

export class GenerationTracker {
  readonly id: string;
  readonly startedAt = performance.now();
  readonly createdAt = new Date();
  firstTokenAt: number | undefined;
  readonly keyHash: string;
  readonly accountId: string;
  readonly apiType: GenerationRecord['apiType'];
  readonly streamed: boolean;
  /** Input images the request carries (each leg sends them), for endpoints priced per image. */
  inputImages = 0;
  /**
   * The name the client used for each model it asked for (catalog id → its string): answers name
   * the model the way it was asked for (`claude-sonnet-4-5`, `anthropic/claude-sonnet-4-5`), as
   * clients compare it with what they sent (Claude Code keeps thinking blocks only for the same model).
   */
  askedAs = new Map<string, string>();
  /** The model router the request named (`openrouter/auto`), when one chose the model. */
  router: string | undefined;
  /** Who the request is for (user, session, app, origin), kept on the record. */
  attribution: Attribution = NO_ATTRIBUTION;
  /** The prompt and the answer as delivered, when the key's content is logged (accounting/content-log.ts). */
  content: ContentCapture | undefined;
  private readonly markupBp: number;

  constructor(id: string, key: { hash: string; accountId: string }, apiType: GenerationRecord['apiType'], streamed: boolean, markupBp = 0) {
    this.id = id;
    this.keyHash = key.hash;
    this.accountId = key.accountId;
    this.apiType = apiType;
    this.streamed = streamed;
    this.markupBp = markupBp;
    noteGeneration(this);
  }

  /** The last endpoint whose upstream was sent the request (past any queue for its slot). */
  calledUpstream: Candidate | undefined;

  /** Notes that `c`'s upstream is being called now; returns it. */
  calling(c: Candidate): Candidate {
    this.calledUpstream = c;
    noteAttempt({ provider: c.endpoint.provider.id, model: c.model.id, upstreamModel: c.endpoint.upstreamModel });
    return c;
  }

  markFirstToken(): void {
    this.firstTokenAt ??= performance.now();
  }

  finish(opts: FinishOptions): { record: GenerationRecord; charge: Charge } {
    const now = performance.now();
    const earlier = opts.earlierLegs ?? [];
    const lastCost = computeCost(opts.usage, opts.endpoint.pricing, this.inputImages);
    const legCosts = earlier.map((l) => computeCost(l.usage, l.endpoint.pricing, this.inputImages));
    const upstream = legCosts.reduce(addCost, lastCost);
    const usage = earlier.reduce((u, l) => addUsage(u, l.usage), opts.usage);
    const legs: GenerationRecord['legs'] =
      earlier.length === 0
        ? []
        : [
            ...earlier.map((l, i) => ({ ...l, cost: legCosts[i] })),
            { endpoint: opts.endpoint, usage: opts.usage, usageEstimated: opts.usageEstimated, error: opts.error ?? null, cost: lastCost },
          ].map((l) => ({
            provider: l.endpoint.provider.id,
            upstreamModel: l.endpoint.upstreamModel,
            tokensPrompt: l.usage.inputTokens,
            tokensCompletion: l.usage.outputTokens,
            upstreamCostNanos: l.cost.totalNanos,
            usageEstimated: l.usageEstimated,
            error: l.error,
            ...(l.usage.serviceTier !== undefined ? { serviceTier: l.usage.serviceTier } : {}),
          }));
    const serviceTier = opts.usage.serviceTier;
    const charge: Charge = {
      ...chargeFor(upstream, isInsured(opts), this.markupBp),
      ...(serviceTier !== undefined ? { serviceTier } : {}),
    };
    const feeNanos = charge.feeNanos;
    const record: GenerationRecord = {
      id: this.id,
      keyHash: this.keyHash,
      accountId: this.accountId,
      model: opts.modelId,
      providerId: opts.endpoint.provider.id,
      providerName: opts.endpoint.provider.name,
      upstreamModel: opts.endpoint.upstreamModel,
      upstreamId: opts.upstreamId ?? null,
      apiType: this.apiType,
      streamed: this.streamed,
      cancelled: opts.cancelled ?? false,
      finishReason: opts.finishReason,
      nativeFinishReason: opts.nativeFinishReason,
      tokensPrompt: usage.inputTokens,
      tokensCompletion: usage.outputTokens,
      tokensCached: usage.cacheReadTokens,
      tokensCacheWrite: usage.cacheWriteTokens,
      tokensReasoning: usage.reasoningTokens,
      usageEstimated: opts.usageEstimated || earlier.some((l) => l.usageEstimated),
      costNanos: charge.chargedNanos,
      promptCostNanos: upstream.promptNanos,
      completionCostNanos: upstream.completionNanos,
      upstreamCostNanos: upstream.totalNanos,
      feeNanos,
      latencyMs: Math.round(now - this.startedAt),
      ttftMs: this.firstTokenAt === undefined ? null : Math.round(this.firstTokenAt - this.startedAt),
      generationMs: this.firstTokenAt === undefined ? null : Math.round(now - this.firstTokenAt),
      error: opts.error ?? null,
      createdAt: isoTime(this.createdAt),
      legs,
      serviceTier: serviceTier ?? null,
      router: this.router ?? null,
      ...this.attribution,
    };
    if (this.content) attachContent(record, this.content);
    noteRecord(record);
    return { record, charge };
  }

  /** What every rendered response repeats: id, creation second, the model and provider that served. */
  meta(c: Candidate): { id: string; created: number; model: string; providerName: string } {
    return {
      id: this.id,
      created: Math.floor(this.createdAt.getTime() / 1000),
      model: this.askedAs.get(c.model.id) ?? c.model.id,
      providerName: c.endpoint.provider.name,
    };
  }

  /**
   * Finishes a whole (non-streamed) generation. When the upstream reported no usage, `estimate`
   * supplies token counts and the record says they are an estimate. `produced` says whether the
   * answer carries output (see isInsured). The caller settles the charge.
   */
  complete(
    c: Candidate,
    r: { usage: Usage; upstreamId?: string; finish: FinishReason | null; serviceTier?: string },
    estimate: () => { inputTokens: number; outputTokens: number },
    produced: boolean,
  ): { usage: Usage; record: GenerationRecord; charge: Charge } {
    this.markFirstToken();
    if (this.content) captureResult(this.content, r);
    const estimated = r.usage.inputTokens === 0 && r.usage.outputTokens === 0;
    // The answer's tier, when its usage did not carry it (an upstream that reported no usage).
    const tier = r.usage.serviceTier ?? r.serviceTier;
    const usage = { ...r.usage, ...(estimated ? estimate() : {}), ...(tier !== undefined ? { serviceTier: tier } : {}) };
    const { record, charge } = this.finish({
      modelId: c.model.id,
      endpoint: c.endpoint,
      usage,
      usageEstimated: estimated,
      upstreamId: r.upstreamId,
      finishReason: r.finish?.unified ?? null,
      nativeFinishReason: r.finish?.raw ?? null,
      produced,
    });
    return { usage, record, charge };
  }
}

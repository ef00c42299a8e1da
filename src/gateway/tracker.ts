/**
 * Follows one generation from request to record: timings, the endpoint that served, usage (or an
 * estimate when the upstream gave none), and what it costs — upstream cost, Freeway's fee, and
 * what is charged after zero-completion insurance.
 */
import { feeFor } from '../accounting/billing.ts';
import { computeCost } from '../accounting/cost.ts';
import type { CostBreakdown } from '../accounting/cost.ts';
import type { Endpoint } from '../catalog/types.ts';
import type { FinishReason, Usage } from '../spec/response.ts';
import type { GenerationRecord } from '../store/types.ts';
import type { Candidate } from './resolve.ts';
import { noteAttempt, noteGeneration, noteRecord } from '../ops/request-facts.ts';

/** The money side of one generation, in nano-dollars. */
export interface Charge {
  upstream: CostBreakdown;
  feeNanos: number;
  /** What the key pays: upstream + fee, or 0 under zero-completion insurance. */
  chargedNanos: number;
  /** True when insurance waived the charge (the upstream failed, or produced nothing). */
  insured: boolean;
}

/** A charge of nothing, for errors before anything was produced. */
export const NO_CHARGE: Charge = {
  upstream: { promptNanos: 0, completionNanos: 0, totalNanos: 0 },
  feeNanos: 0,
  chargedNanos: 0,
  insured: true,
};

export interface FinishOptions {
  modelId: string;
  endpoint: Endpoint;
  usage: Usage;
  usageEstimated: boolean;
  upstreamId?: string;
  finishReason: string | null;
  nativeFinishReason: string | null;
  /**
   * Whether the upstream produced output for the client: what insurance asks. Each API says what
   * its output is (a generation's tokens or finish, see `generated`; an embedding's vectors).
   */
  produced: boolean;
  cancelled?: boolean;
  /** A deadline of Freeway's ended the answer after content had reached the client (charged like a cancel). */
  cut?: boolean;
  error?: string | null;
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
  return { promptNanos: a.promptNanos + b.promptNanos, completionNanos: a.completionNanos + b.completionNanos, totalNanos: a.totalNanos + b.totalNanos };
}

/** Whether a generation produced anything: output tokens, or a finish (it ran to an end). */
export function generated(usage: Pick<Usage, 'outputTokens'>, finishReason: string | null): boolean {
  return usage.outputTokens > 0 || finishReason !== null;
}

/**
 * Zero-completion insurance: nothing is charged when the client received nothing from the
 * upstream: it failed (an error, or an error finish), or it ended without producing any output.
 * What output is depends on the API (`produced`): an embedding has no completion tokens, its
 * output is its vectors, so a successful embedding is always charged. A client that cancels pays
 * for what was produced, and so does one whose answer a deadline cut after content had reached it.
 */
export function isInsured(o: Pick<FinishOptions, 'produced' | 'finishReason' | 'cancelled' | 'cut' | 'error'>): boolean {
  if (o.cancelled || o.cut) return false;
  if (o.error || o.finishReason === 'error') return true;
  return !o.produced;
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
  private readonly markupBp: number;

  constructor(
    id: string,
    key: { hash: string; accountId: string },
    apiType: GenerationRecord['apiType'],
    streamed: boolean,
    markupBp = 0,
  ) {
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
        : [...earlier.map((l, i) => ({ ...l, cost: legCosts[i] })), { endpoint: opts.endpoint, usage: opts.usage, usageEstimated: opts.usageEstimated, error: opts.error ?? null, cost: lastCost }].map(
            (l) => ({
              provider: l.endpoint.provider.id,
              upstreamModel: l.endpoint.upstreamModel,
              tokensPrompt: l.usage.inputTokens,
              tokensCompletion: l.usage.outputTokens,
              upstreamCostNanos: l.cost.totalNanos,
              usageEstimated: l.usageEstimated,
              error: l.error,
            }),
          );
    const insured = isInsured(opts);
    const feeNanos = insured ? 0 : feeFor(upstream.totalNanos, this.markupBp);
    const charge: Charge = { upstream, feeNanos, chargedNanos: insured ? 0 : upstream.totalNanos + feeNanos, insured };
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
      createdAt: this.createdAt.toISOString(),
      legs,
    };
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
    r: { usage: Usage; upstreamId?: string; finish: FinishReason | null },
    estimate: () => { inputTokens: number; outputTokens: number },
    produced: boolean,
  ): { usage: Usage; record: GenerationRecord; charge: Charge } {
    this.markFirstToken();
    const estimated = r.usage.inputTokens === 0 && r.usage.outputTokens === 0;
    const usage = estimated ? { ...r.usage, ...estimate() } : r.usage;
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


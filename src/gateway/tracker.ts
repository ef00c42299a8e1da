/**
 * Follows one generation from request to record: timings, the endpoint that served, usage (or an
 * estimate when the upstream gave none), and the exact cost.
 */
import { computeCost } from '../accounting/cost.ts';
import type { CostBreakdown } from '../accounting/cost.ts';
import type { GenerationLog } from '../accounting/generation-log.ts';
import type { Endpoint } from '../catalog/types.ts';
import type { FinishReason, Usage } from '../spec/response.ts';
import type { GenerationRecord } from '../store/types.ts';
import type { Candidate } from './resolve.ts';

export class GenerationTracker {
  readonly id: string;
  readonly startedAt = performance.now();
  readonly createdAt = new Date();
  firstTokenAt: number | undefined;
  readonly keyHash: string;
  readonly apiType: GenerationRecord['apiType'];
  readonly streamed: boolean;

  constructor(id: string, keyHash: string, apiType: GenerationRecord['apiType'], streamed: boolean) {
    this.id = id;
    this.keyHash = keyHash;
    this.apiType = apiType;
    this.streamed = streamed;
  }

  markFirstToken(): void {
    this.firstTokenAt ??= performance.now();
  }

  finish(opts: {
    modelId: string;
    endpoint: Endpoint;
    usage: Usage;
    usageEstimated: boolean;
    upstreamId?: string;
    finishReason: string | null;
    nativeFinishReason: string | null;
    cancelled?: boolean;
    error?: string | null;
  }): { record: GenerationRecord; cost: CostBreakdown } {
    const now = performance.now();
    const cost = computeCost(opts.usage, opts.endpoint.pricing);
    const record: GenerationRecord = {
      id: this.id,
      keyHash: this.keyHash,
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
      tokensPrompt: opts.usage.inputTokens,
      tokensCompletion: opts.usage.outputTokens,
      tokensCached: opts.usage.cacheReadTokens,
      tokensCacheWrite: opts.usage.cacheWriteTokens,
      tokensReasoning: opts.usage.reasoningTokens,
      usageEstimated: opts.usageEstimated,
      costNanos: cost.totalNanos,
      promptCostNanos: cost.promptNanos,
      completionCostNanos: cost.completionNanos,
      latencyMs: Math.round(now - this.startedAt),
      ttftMs: this.firstTokenAt === undefined ? null : Math.round(this.firstTokenAt - this.startedAt),
      generationMs: this.firstTokenAt === undefined ? null : Math.round(now - this.firstTokenAt),
      error: opts.error ?? null,
      createdAt: this.createdAt.toISOString(),
    };
    return { record, cost };
  }

  /** What every rendered response repeats: id, creation second, the model and provider that served. */
  meta(c: Candidate): { id: string; created: number; model: string; providerName: string } {
    return {
      id: this.id,
      created: Math.floor(this.createdAt.getTime() / 1000),
      model: c.model.id,
      providerName: c.endpoint.provider.name,
    };
  }

  /**
   * Records a whole (non-streamed) generation. When the upstream reported no usage, `estimate`
   * supplies token counts and the record says they are an estimate.
   */
  settle(
    log: GenerationLog,
    c: Candidate,
    r: { usage: Usage; upstreamId?: string; finish: FinishReason | null },
    estimate: () => { inputTokens: number; outputTokens: number },
  ): { usage: Usage; cost: CostBreakdown } {
    this.markFirstToken();
    const estimated = r.usage.inputTokens === 0 && r.usage.outputTokens === 0;
    const usage = estimated ? { ...r.usage, ...estimate() } : r.usage;
    const { record, cost } = this.finish({
      modelId: c.model.id,
      endpoint: c.endpoint,
      usage,
      usageEstimated: estimated,
      upstreamId: r.upstreamId,
      finishReason: r.finish?.unified ?? null,
      nativeFinishReason: r.finish?.raw ?? null,
    });
    log.record(record);
    return { usage, cost };
  }
}

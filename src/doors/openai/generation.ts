/**
 * `GET /generation?id=`: the stored record of one generation, for the key that made it only.
 * Every field OpenRouter always sends is present, `null` where Freeway does not record it (app ids,
 * presets, moderation, web search, media counts); its workspace is Freeway's account.
 */
import { nanosToUsd } from '../../spec/money.ts';
import { requireInferenceKey } from '../../http/auth.ts';
import { sendJson } from '../../http/respond.ts';
import type { RouteContext } from '../../http/server.ts';
import { GatewayError, invalidRequest } from '../../spec/errors.ts';
import type { GenerationRecord } from '../../store/types.ts';

export function renderGeneration(g: GenerationRecord): Record<string, unknown> {
  return {
    id: g.id,
    upstream_id: g.upstreamId,
    created_at: g.createdAt,
    model: g.model,
    provider_name: g.providerName,
    provider_slug: g.providerId,
    upstream_model: g.upstreamModel,
    api_type: g.apiType,
    streamed: g.streamed,
    cancelled: g.cancelled,
    // The app's origin is what its HTTP-Referer said; OpenRouter's numeric app id has no Freeway counterpart.
    origin: g.appReferer ?? '',
    app_id: null,
    app_title: g.appTitle ?? null,
    http_referer: g.appReferer ?? null,
    user_agent: null,
    external_user: g.user ?? null,
    session_id: g.sessionId ?? null,
    // Freeway's own: the key that made it (its hash, as /keys names keys) and its account.
    key_hash: g.keyHash,
    preset_id: null,
    // The model router the request named, whose choice `model` is.
    router: g.router ?? null,
    // The tier the upstream said it served, which set the price.
    service_tier: g.serviceTier ?? null,
    // Freeway calls each provider's own (global) endpoints.
    data_region: 'global',
    workspace_id: g.accountId,
    moderation_latency: null,
    cache_discount: null,
    num_fetches: null,
    num_search_results: null,
    web_search_engine: null,
    num_media_prompt: null,
    num_media_completion: null,
    num_input_audio_prompt: null,
    native_tokens_completion_images: null,
    is_byok: false,
    total_cost: nanosToUsd(g.costNanos),
    usage: nanosToUsd(g.costNanos),
    upstream_inference_cost: nanosToUsd(g.costNanos),
    cost_details: {
      upstream_inference_prompt_cost: nanosToUsd(g.promptCostNanos),
      upstream_inference_completions_cost: nanosToUsd(g.completionCostNanos),
      // Freeway's own, as in a response's usage.cost_details: the providers' price and the fee on top (total_cost is both).
      upstream_inference_cost: nanosToUsd(g.upstreamCostNanos),
      freeway_fee: nanosToUsd(g.feeNanos),
    },
    cost_nanos: g.costNanos,
    latency: g.latencyMs,
    time_to_first_token: g.ttftMs,
    generation_time: g.generationMs,
    finish_reason: g.finishReason,
    native_finish_reason: g.nativeFinishReason,
    tokens_prompt: g.tokensPrompt,
    tokens_completion: g.tokensCompletion,
    native_tokens_prompt: g.tokensPrompt,
    native_tokens_completion: g.tokensCompletion,
    native_tokens_reasoning: g.tokensReasoning,
    native_tokens_cached: g.tokensCached,
    native_tokens_cache_write: g.tokensCacheWrite,
    usage_estimated: g.usageEstimated,
    error: g.error,
    // Mid-stream failover: each upstream that served part of the answer, with its tokens and cost.
    provider_responses: g.legs.map((l) => ({
      provider_name: l.provider,
      model: l.upstreamModel,
      tokens_prompt: l.tokensPrompt,
      tokens_completion: l.tokensCompletion,
      upstream_inference_cost: nanosToUsd(l.upstreamCostNanos),
      usage_estimated: l.usageEstimated,
      error: l.error,
      // Every leg is an upstream answer that started (HTTP 200) and was streamed from.
      status: 200,
    })),
  };
}

export async function handleGeneration(ctx: RouteContext): Promise<void> {
  const key = await requireInferenceKey(ctx.app, ctx.req);
  const id = ctx.url.searchParams.get('id');
  if (!id) throw invalidRequest('id: query parameter is required', { param: 'id' });
  const g = await ctx.app.generations.get(id);
  // Another key's generation is indistinguishable from a missing one.
  if (!g || g.keyHash !== key.hash) throw new GatewayError('not_found', `Generation ${id} not found`, { retryable: false });
  sendJson(ctx.res, 200, { data: renderGeneration(g) });
}

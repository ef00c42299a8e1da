/**
 * What every chat-style door (chat completions, Responses, Anthropic Messages) does around the
 * upstream call: plan the route, start tracking the generation, set the call's deadlines, open
 * and continue streams, and estimate usage when an upstream reports none.
 */
import type { App } from '../app.ts';
import type { RouteContext } from '../http/server.ts';
import { ADAPTERS } from '../providers/registry.ts';
import type { CallContext, Target } from '../providers/types.ts';
import { hasCacheDiscount, needsOf, planRoute, stickyKeyOf } from '../router/plan/index.ts';
import type { RoutePreferences } from '../router/plan/index.ts';
import { endpointKey } from '../catalog/endpoint-key.ts';
import type { ChatRequest } from '../spec/request.ts';
import { withWarnings } from '../spec/response.ts';
import type { ChatResult, StreamEvent } from '../spec/response.ts';
import type { ApiKeyRecord } from '../store/types.ts';
import { attributionOf } from './attribution.ts';
import { callContext, clientAbort } from './call-context.ts';
import { countImages, estimatePromptTokens, estimateTokens, maxPromptTokens } from '../spec/estimate.ts';
import { generationId } from './ids.ts';
import { applyModelRouters } from './model-routers.ts';
import type { HoldInput } from './metering.ts';
import type { Candidate } from '../router/types.ts';
import type { LegSource } from './stream-generation.ts';
import { GenerationTracker } from './tracker.ts';

export function targetOf(c: Candidate): Target {
  return {
    provider: c.endpoint.provider,
    model: c.endpoint.upstreamModel,
    maxOutputTokens: c.endpoint.maxOutputTokens ?? c.model.maxOutputTokens ?? undefined,
    ...(c.endpoint.supportsReasoning !== undefined ? { reasoning: c.endpoint.supportsReasoning } : {}),
  };
}

export interface ChatRoute {
  candidates: Candidate[];
  tracker: GenerationTracker;
  abort: AbortController;
  callCtx: CallContext;
  hold: HoldInput;
  /** Remember the endpoint that served, so the conversation's next turn finds its prompt cache. */
  served: (c: Candidate) => void;
}

export function routeChat(
  app: App,
  ctx: RouteContext,
  key: ApiKeyRecord,
  r: {
    request: ChatRequest;
    refs: string[];
    preferences: RoutePreferences;
    sessionId?: string;
    /** The session the generation log records, when `sessionId` is only a stand-in for one (default: `sessionId`). */
    loggedSessionId?: string | null;
    /** Narrows the planned candidates (a door that can only use some of them). */
    filter?: (candidates: Candidate[]) => Candidate[];
    /** Overrides the hold's input (a door whose max_tokens already includes a thinking budget). */
    hold?: HoldInput;
    /** The model names as the client wrote them, one per ref (default: the refs). */
    asked?: string[];
  },
): ChatRoute {
  const { request } = r;
  const attribution = attributionOf(ctx.req.headers, {
    user: request.user,
    sessionId: r.loggedSessionId === undefined ? r.sessionId : r.loggedSessionId,
  });
  // Worked out only when there is an endpoint to choose or to remember (hashing the conversation's
  // opening is most of routing's cost otherwise).
  let sticky: string | undefined;
  const stickyKey =
    app.settings.routing.stickyMs > 0 ? () => (sticky ??= stickyKeyOf(key.hash, request.model, request, r.sessionId)) : undefined;
  const needs = needsOf(request);
  // `openrouter/auto`, `openrouter/free`: the router's picks stand in for it (model-routers.ts).
  const routed = applyModelRouters(app, key.hash, request, r, needs);
  const plan = planRoute({
    catalog: app.catalog,
    refs: routed.refs,
    kind: 'chat',
    needs,
    prefs: r.preferences,
    health: app.health,
    sticky: app.sticky,
    stickyKey,
    markupBp: app.billing.settings.markupBp,
  });
  const abort = clientAbort(ctx);
  const tracker = new GenerationTracker(generationId(), key, 'completions', request.stream, app.billing.settings.markupBp);
  const images = countImages(request);
  tracker.inputImages = images;
  tracker.attribution = attribution;
  tracker.router = routed.router;
  tracker.content = app.content.begin(key, { messages: request.messages });
  // A routing variant (`:nitro`) names a way to route, not the model: its answer names the model.
  routed.refs.forEach((ref, i) => {
    const model = app.catalog.get(ref);
    if (model && !tracker.askedAs.has(model.id)) tracker.askedAs.set(model.id, routed.asked[i]);
  });
  return {
    candidates: r.filter ? r.filter(plan.candidates) : plan.candidates,
    tracker,
    abort,
    callCtx: callContext(app, abort),
    hold: {
      ...(r.hold ?? {
        promptTokens: maxPromptTokens(request),
        maxTokens: request.maxTokens,
        reasoningTokens: request.reasoning?.maxTokens,
      }),
      images,
      serviceTier: request.upstreamOptions?.service_tier,
    },
    served: (c) => {
      routed.served(c.model.id);
      if (stickyKey && c.model.endpoints.length > 1 && hasCacheDiscount(c.endpoint)) app.sticky.set(stickyKey(), endpointKey(c.endpoint));
    },
  };
}

/** The conversation plus the answer so far as a trailing assistant message, which the next endpoint continues. */
function continuation(request: ChatRequest, partial: string): ChatRequest {
  return {
    ...request,
    messages: [...request.messages, { role: 'assistant', content: [{ type: 'text', text: partial }], toolCalls: [], reasoning: [] }],
  };
}

/** The most output `c` can give (its endpoint's, else its model's); undefined when unknown. */
export function outputCap(c: Candidate): number | undefined {
  return c.endpoint.maxOutputTokens ?? c.model.maxOutputTokens ?? undefined;
}

/**
 * The request as `c` can serve it. Asking for more output than the model can give is served at its
 * maximum, with a warning the client sees (the router keeps a model whose endpoints all give less, unless
 * the caller asked for strict parameters, `provider.require_parameters`, see router/plan/plan.ts;
 * the hold is for the maximum too, see holdWorstCase). Every door's requests pass here, so every door gets the same rule.
 */
export function fitOutput<R extends { maxTokens?: number }>(request: R, c: Candidate): { request: R; warnings: string[] } {
  const cap = outputCap(c);
  if (cap === undefined || request.maxTokens === undefined || request.maxTokens <= cap) return { request, warnings: [] };
  return {
    request: { ...request, maxTokens: cap },
    warnings: [
      `max_tokens ${request.maxTokens} exceeds the maximum output of ${c.model.id} (${cap} tokens): served with max_tokens ${cap}.`,
    ],
  };
}

/**
 * Opening a stream of `request` on a candidate, and continuing one cut off after `partial`
 * (mid-stream failover). What fitting the request to the candidate changed (fitOutput) leads the
 * stream as its warnings, as it leads a whole answer's (`warn` puts them on the source).
 */
function openers<S>(request: ChatRequest, stream: (c: Candidate, req: ChatRequest) => Promise<S>, warn: (s: S, warnings: string[]) => S) {
  const fitted = async (c: Candidate, req: ChatRequest): Promise<S> => {
    const fit = fitOutput(req, c);
    const source = await stream(c, fit.request);
    return fit.warnings.length > 0 ? warn(source, fit.warnings) : source;
  };
  return {
    open: (c: Candidate) => fitted(c, request),
    continueWith: (c: Candidate, partial: string) => fitted(c, continuation(request, partial)),
  };
}

/** A leg's source with `warnings` before the adapter's own. */
export function warnedSource(source: LegSource, warnings: string[]): LegSource {
  if ('reader' in source || 'bytes' in source) return { ...source, warnings: [...warnings, ...(source.warnings ?? [])] };
  return withWarnings(warnings, source);
}

/** A chat request's streams (as events) and whole answer, on any candidate. */
export function chatStreams(request: ChatRequest, callCtx: CallContext) {
  return {
    ...openers(
      request,
      (c, req): Promise<AsyncIterable<StreamEvent>> => ADAPTERS[c.endpoint.provider.protocol].chatStream(req, targetOf(c), callCtx),
      (events, warnings) => withWarnings(warnings, events),
    ),
    whole: chatWhole(request, callCtx),
  };
}

/** A chat request's whole (non-streamed) answer, on any candidate. */
export function chatWhole(request: ChatRequest, callCtx: CallContext): (c: Candidate) => Promise<ChatResult> {
  return async (c) => {
    const fit = fitOutput(request, c);
    const result = await ADAPTERS[c.endpoint.provider.protocol].chat(fit.request, targetOf(c), callCtx);
    return fit.warnings.length > 0 ? { ...result, warnings: [...fit.warnings, ...(result.warnings ?? [])] } : result;
  };
}

/** Token counts for a whole answer whose upstream reported no usage (or, with none, for its prompt alone). */
export function estimateChat(request: ChatRequest) {
  return (r: Pick<ChatResult, 'text' | 'toolCalls'> | undefined) => ({
    inputTokens: estimatePromptTokens(request),
    outputTokens: r ? estimateTokens(r.text + r.toolCalls.map((c) => c.arguments).join('')) : 0,
  });
}

/**
 * Like chatStreams, for a door that speaks OpenAI's chunk format: wherever the upstream speaks it
 * too, its chunks are taken as they are (same-format passthrough).
 */
export function chatChunkStreams(request: ChatRequest, callCtx: CallContext) {
  return openers(
    request,
    (c, req): Promise<LegSource> => {
      const adapter = ADAPTERS[c.endpoint.provider.protocol];
      return adapter.chatChunkStream ? adapter.chatChunkStream(req, targetOf(c), callCtx) : adapter.chatStream(req, targetOf(c), callCtx);
    },
    warnedSource,
  );
}

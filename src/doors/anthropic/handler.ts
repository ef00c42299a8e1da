/**
 * The Anthropic Messages door: `POST /messages` and `POST /messages/count_tokens` (served under
 * `/v1` and `/api/v1`), authenticated by `x-api-key` or a bearer token like every door.
 *
 * Each candidate endpoint is served the way it speaks: an Anthropic endpoint gets the client's body
 * raw and its answer is relayed as it came (passthrough.ts); any other endpoint gets the request
 * translated through the internal model and its answer rendered back in Anthropic's shape
 * (render-message.ts, render-stream.ts). Either way the hold, fallback, mid-stream failover,
 * settlement and generation record are the shared ones (streams: the one driver,
 * gateway/stream-generation.ts), so accounting does not depend on the door. Every failure, from a
 * missing key to an upstream outage, is answered in Anthropic's error shape (errors.ts).
 */
import { chatStreams, estimateChat, fitOutput, outputCap, routeChat, targetOf } from '../../gateway/chat-route.ts';
import { estimatePromptTokens, maxPromptTokens } from '../../spec/estimate.ts';
import { generatedOutput, runMetered } from '../../gateway/metering.ts';
import type { Candidate } from '../../router/types.ts';
import { streamRoute } from '../../gateway/stream-generation.ts';
import { requireInferenceKey } from '../../http/auth.ts';
import { readJson } from '../../http/body.ts';
import { endBody, sendJson } from '../../http/respond.ts';
import type { Handler, RouteContext } from '../../http/server.ts';
import { asGatewayError } from '../../spec/errors.ts';
import type { ChatRequest } from '../../spec/request.ts';
import type { ChatResult } from '../../spec/response.ts';
import { fail } from '../../spec/validate.ts';
import { handleCountTokens } from './count-tokens.ts';
import { sendAnthropicError } from './errors.ts';
import { parseMessagesRequest } from './parse-request.ts';
import { upstreamBody } from './upstream-body.ts';
import type { ParsedMessagesRequest } from './parse-request.ts';
import { forwardedHeaders, passesThrough, passThroughStream, passThroughWhole } from './passthrough.ts';
import type { RawAnswer } from './passthrough.ts';
import { renderMessage } from './render-message.ts';
import { AnthropicStreamRenderer } from './render-stream.ts';
import { resolveModelRef } from './resolve-model.ts';

/** Answers every failure of `handler` in Anthropic's error shape. */
function anthropicDoor(handler: Handler): Handler {
  return async (ctx) => {
    try {
      await handler(ctx);
    } catch (err) {
      const e = asGatewayError(err);
      if (e.type === 'server')
        ctx.app.log.error(`unhandled error on ${ctx.req.method} ${ctx.req.url}: ${(err as Error)?.stack ?? String(err)}`);
      sendAnthropicError(ctx.res, e, e.type === 'payload_too_large' ? { connection: 'close' } : {});
    }
  };
}

/** Candidates that can serve the request: only Anthropic's when it uses what only Anthropic has. */
function servable(parsed: ParsedMessagesRequest, candidates: Candidate[]): Candidate[] {
  if (parsed.anthropicOnly.length === 0) return candidates;
  const raw = candidates.filter((c) => passesThrough(c, parsed.foreign));
  if (raw.length > 0) return raw;
  const first = parsed.anthropicOnly[0];
  return fail(first.param, `${first.what} can only be used with a model served by Anthropic`);
}

async function messages(ctx: RouteContext): Promise<void> {
  const { app, req, res } = ctx;
  const key = await requireInferenceKey(app, req);
  const parsed = parseMessagesRequest(await readJson(req, app.settings.maxBodyBytes));
  const request: ChatRequest = { ...parsed.request, model: resolveModelRef(app.catalog, parsed.request.model) };
  // Anthropic's thinking budget is part of max_tokens; only a budget that does not fit is added on top.
  const budget = request.reasoning?.maxTokens;
  const route = routeChat(app, ctx, key, {
    request,
    refs: [request.model, ...parsed.fallbackModels.map((m) => resolveModelRef(app.catalog, m))],
    asked: [parsed.request.model, ...parsed.fallbackModels],
    preferences: parsed.preferences,
    ...(parsed.sessionId !== undefined ? { sessionId: parsed.sessionId } : {}),
    filter: (planned: Candidate[]) => servable(parsed, planned),
    hold: {
      promptTokens: maxPromptTokens(request),
      maxTokens: request.maxTokens,
      reasoningTokens: budget !== undefined && request.maxTokens !== undefined && budget >= request.maxTokens ? budget : undefined,
    },
  });
  const { candidates, tracker, callCtx, hold, served, abort } = route;
  const streams = chatStreams(request, callCtx);
  const headers = forwardedHeaders(req);
  const raw = (c: Candidate) => passesThrough(c, parsed.foreign);
  const body = (c: Candidate) => upstreamBody(parsed.body, c.endpoint.upstreamModel, outputCap(c));
  const renderer = (meta: { id: string; model: string }) =>
    new AnthropicStreamRenderer({ id: meta.id, model: meta.model, promptTokens: estimatePromptTokens(request), warnings: parsed.warnings });

  if (request.stream) {
    await streamRoute(app, ctx, key, route, {
      // What Freeway changed in a raw body for `c` (the output cap) leads its stream, as on a translated one.
      open: (c) => (raw(c) ? passThroughStream(targetOf(c), body(c), headers, callCtx, fitOutput(request, c).warnings) : streams.open(c)),
      // A continuation is a translated request: one that uses what only Anthropic's raw body can carry is not continued.
      ...(parsed.anthropicOnly.length === 0 ? { continueWith: streams.continueWith } : {}),
      midStreamFailover: parsed.preferences.midStreamFailover,
      renderer,
      promptTokens: () => estimatePromptTokens(request),
    });
    return;
  }
  // What Freeway changed in a raw body for `c` (the output cap), after the door's own.
  const rawWarnings = (c: Candidate) => [...parsed.warnings, ...fitOutput(request, c).warnings];
  const { result, candidate, usage, charge } = await runMetered<ChatResult | RawAnswer>(
    app,
    key,
    tracker,
    candidates,
    hold,
    abort.signal,
    (c) =>
      raw(c)
        ? passThroughWhole(targetOf(c), body(c), headers, callCtx, tracker.meta(c).model, rawWarnings(c))
        : streams.whole(c).then((r) => (parsed.warnings.length > 0 ? { ...r, warnings: [...parsed.warnings, ...(r.warnings ?? [])] } : r)),
    estimateChat(request),
    generatedOutput,
  );
  served(candidate);
  if ('raw' in result) {
    // Anthropic's answer, as it came.
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(result.raw),
      'x-generation-id': tracker.id,
    });
    endBody(res, result.raw);
    return;
  }
  sendJson(res, 200, renderMessage(tracker.meta(candidate), { ...result, usage }, charge), { 'x-generation-id': tracker.id });
}

export const handleMessages: Handler = anthropicDoor(messages);
export const handleMessagesCountTokens: Handler = anthropicDoor(handleCountTokens);

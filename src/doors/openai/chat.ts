/**
 * `POST /chat/completions`: authenticate, parse, route, call the adapter (falling back across
 * endpoints before any content is sent), render, and record the generation.
 */
import { chatChunkStreams, chatWhole, estimateChat, routeChat } from '../../gateway/chat-route.ts';
import { estimatePromptTokens } from '../../spec/estimate.ts';
import { generatedOutput, runMetered } from '../../gateway/metering.ts';
import { streamRoute } from '../../gateway/stream-generation.ts';
import { requireInferenceKey } from '../../http/auth.ts';
import { readJson } from '../../http/body.ts';
import { sendJson } from '../../http/respond.ts';
import type { RouteContext } from '../../http/server.ts';
import type { IncomingHttpHeaders } from 'node:http';
import { parseChatRequest } from './parse-chat-request.ts';
import type { ChatHeaders } from './parse-chat-request.ts';
import { renderChatCompletion } from './render-chat.ts';
import { ChatChunkRenderer } from './render-chat-stream.ts';

/** The request headers the chat door reads besides authentication (OpenRouter's `x-anthropic-beta`). */
export function chatHeaders(headers: IncomingHttpHeaders): ChatHeaders {
  const beta = headers['x-anthropic-beta'];
  const value = Array.isArray(beta) ? beta.join(',') : beta;
  return value ? { anthropicBeta: value } : {};
}

export async function handleChat(ctx: RouteContext): Promise<void> {
  const { app, req, res } = ctx;
  const key = await requireInferenceKey(app, req);
  const parsed = parseChatRequest(await readJson(req, app.settings.maxBodyBytes), chatHeaders(req.headers));
  const { request, fallbackModels, preferences, sessionId, warnings } = parsed;
  // OpenAI's prompt cache key groups a conversation too: the sticky key when no session says.
  const cacheKey = request.upstreamOptions?.prompt_cache_key;
  const route = routeChat(app, ctx, key, {
    request,
    refs: [request.model, ...fallbackModels],
    preferences,
    sessionId: sessionId ?? (typeof cacheKey === 'string' ? cacheKey : undefined),
    loggedSessionId: sessionId ?? null,
  });
  const { candidates, tracker, callCtx, hold, served } = route;
  const excludeReasoning = request.reasoning?.exclude === true;
  if (request.stream) {
    const chunks = chatChunkStreams(request, callCtx);
    await streamRoute(app, ctx, key, route, {
      open: chunks.open,
      continueWith: chunks.continueWith,
      midStreamFailover: preferences.midStreamFailover,
      renderer: (meta) => new ChatChunkRenderer({ ...meta, excludeReasoning, includeUsage: request.includeUsage, warnings }),
      promptTokens: () => estimatePromptTokens(request),
    });
    return;
  }
  const { result, candidate, usage, charge } = await runMetered(
    app,
    key,
    tracker,
    candidates,
    hold,
    route.abort.signal,
    chatWhole(request, callCtx),
    estimateChat(request),
    generatedOutput,
  );
  served(candidate);
  const body = renderChatCompletion({ ...tracker.meta(candidate), excludeReasoning, warnings }, { ...result, usage }, charge);
  sendJson(res, 200, body, { 'x-generation-id': tracker.id });
}

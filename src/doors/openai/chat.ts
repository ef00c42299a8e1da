/**
 * `POST /chat/completions`: authenticate, parse, route, call the adapter (falling back across
 * endpoints before any content is sent), render, and record the generation.
 */
import { chatChunkStreams, chatStreams, estimateChat, routeChat } from '../../gateway/chat-route.ts';
import { estimatePromptTokens } from '../../gateway/estimate.ts';
import { generatedOutput, runMetered } from '../../gateway/metering.ts';
import { streamGeneration } from '../../gateway/stream-generation.ts';
import { requireInferenceKey } from '../../http/auth.ts';
import { readJson } from '../../http/body.ts';
import { sendJson } from '../../http/respond.ts';
import type { RouteContext } from '../../http/server.ts';
import { parseChatRequest } from './parse-chat-request.ts';
import { renderChatCompletion } from './render-chat.ts';
import { ChatChunkRenderer } from './render-chat-stream.ts';

export async function handleChat(ctx: RouteContext): Promise<void> {
  const { app, req, res } = ctx;
  const key = await requireInferenceKey(app, req);
  const { request, fallbackModels, preferences, sessionId } = parseChatRequest(await readJson(req, app.settings.maxBodyBytes));
  const route = routeChat(app, ctx, key, { request, refs: [request.model, ...fallbackModels], preferences, sessionId });
  const { candidates, tracker, callCtx, hold, served } = route;
  const excludeReasoning = request.reasoning?.exclude === true;
  if (request.stream) {
    const chunks = chatChunkStreams(request, callCtx);
    await streamGeneration(app, ctx, {
      key,
      hold,
      candidates,
      tracker,
      callCtx,
      open: chunks.open,
      continueWith: chunks.continueWith,
      midStreamFailover: preferences.midStreamFailover,
      onServed: served,
      renderer: (meta) => new ChatChunkRenderer({ ...meta, excludeReasoning }),
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
    chatStreams(request, callCtx).whole,
    estimateChat(request),
    generatedOutput,
  );
  served(candidate);
  const body = renderChatCompletion({ ...tracker.meta(candidate), excludeReasoning }, { ...result, usage }, charge);
  sendJson(res, 200, body, { 'x-generation-id': tracker.id });
}

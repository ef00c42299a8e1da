/**
 * `POST /chat/completions`: authenticate, parse, resolve, call the adapter (falling back across
 * endpoints before any content is sent), render, and record the generation.
 */
import { generationId } from '../../gateway/ids.ts';
import { estimatePromptTokens, estimateTokens, maxPromptTokens } from '../../gateway/estimate.ts';
import { runMetered } from '../../gateway/metering.ts';
import type { App } from '../../app.ts';
import { hasCacheDiscount, needsOf, planRoute, stickyKeyOf } from '../../router/plan/index.ts';
import { endpointKey } from '../../router/types.ts';
import type { Candidate } from '../../gateway/resolve.ts';
import { GenerationTracker } from '../../gateway/tracker.ts';
import { requireInferenceKey } from '../../http/auth.ts';
import { readJson } from '../../http/body.ts';
import { sendJson } from '../../http/respond.ts';
import type { RouteContext } from '../../http/server.ts';
import { ADAPTERS } from '../../providers/registry.ts';
import type { CallContext, Target } from '../../providers/types.ts';
import { parseChatRequest } from './parse-chat-request.ts';
import { renderChatCompletion } from './render-chat.ts';
import { ChatChunkRenderer } from './render-chat-stream.ts';
import { streamGeneration } from '../../gateway/stream-generation.ts';

export function targetOf(c: Candidate): Target {
  return {
    provider: c.endpoint.provider,
    model: c.endpoint.upstreamModel,
    maxOutputTokens: c.endpoint.maxOutputTokens ?? c.model.maxOutputTokens ?? undefined,
  };
}

// Shared by every door; re-exported here for the doors that import them from this module.
export { callContext, clientAbort } from '../../gateway/call-context.ts';
import { callContext, clientAbort } from '../../gateway/call-context.ts';

export async function handleChat(ctx: RouteContext): Promise<void> {
  const { app, req, res } = ctx;
  const key = await requireInferenceKey(app, req);
  const { request, fallbackModels, preferences, sessionId } = parseChatRequest(await readJson(req, app.settings.maxBodyBytes));
  const stickyKey = app.settings.routing.stickyMs > 0 ? stickyKeyOf(key.hash, request.model, request, sessionId) : undefined;
  const { candidates } = planRoute({
    catalog: app.catalog,
    refs: [request.model, ...fallbackModels],
    kind: 'chat',
    needs: needsOf(request),
    prefs: preferences,
    health: app.health,
    sticky: app.sticky,
    stickyKey,
    markupBp: app.billing.settings.markupBp,
  });
  // The endpoint that served goes first next turn, while its prompt cache is warm.
  const served = (c: Candidate) => {
    if (stickyKey && hasCacheDiscount(c.endpoint)) app.sticky.set(stickyKey, endpointKey(c.endpoint));
  };
  const tracker = new GenerationTracker(generationId(), key, 'completions', request.stream, app.billing.settings.markupBp);
  const hold = { promptTokens: maxPromptTokens(request), maxTokens: request.maxTokens, reasoningTokens: request.reasoning?.maxTokens };
  const abort = clientAbort(ctx);
  const callCtx = callContext(app, abort);
  const excludeReasoning = request.reasoning?.exclude === true;
  if (request.stream) {
    await streamGeneration(app, ctx, {
      key,
      hold,
      candidates,
      tracker,
      callCtx,
      open: (c) => ADAPTERS[c.endpoint.provider.protocol].chatStream(request, targetOf(c), callCtx),
      // The conversation plus the answer so far as a trailing assistant message, which the next
      // endpoint continues.
      continueWith: (c, partial) =>
        ADAPTERS[c.endpoint.provider.protocol].chatStream(
          { ...request, messages: [...request.messages, { role: 'assistant', content: [{ type: 'text', text: partial }], toolCalls: [], reasoning: [] }] },
          targetOf(c),
          callCtx,
        ),
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
    abort.signal,
    (c) => ADAPTERS[c.endpoint.provider.protocol].chat(request, targetOf(c), callCtx),
    (r) => ({
      inputTokens: estimatePromptTokens(request),
      outputTokens: estimateTokens(r.text + r.toolCalls.map((c) => c.arguments).join('')),
    }),
  );
  served(candidate);
  const body = renderChatCompletion({ ...tracker.meta(candidate), excludeReasoning }, { ...result, usage }, charge);
  sendJson(res, 200, body, { 'x-generation-id': tracker.id });
}


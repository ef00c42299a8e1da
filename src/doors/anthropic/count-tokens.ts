/**
 * `POST /messages/count_tokens`. When the model is served by Anthropic, the client's body goes to
 * Anthropic's own `/messages/count_tokens` (model id replaced, `anthropic-beta` forwarded) and its
 * answer comes back as it came. Otherwise — or when no Anthropic endpoint can answer (an outage, a
 * compatible server without the route) — the count is Freeway's estimate (about 4 characters a
 * token), flagged with `x-freeway-estimate: true`, because counting is advisory and must not stop
 * a client. A request Anthropic rejects as invalid (400, 413) is still that error.
 */
import { estimatePromptTokens } from '../../spec/estimate.ts';
import { tryOptions } from '../../gateway/metering.ts';
import { tryCandidates } from '../../gateway/resolve.ts';
import { requireInferenceKey } from '../../http/auth.ts';
import { readJson } from '../../http/body.ts';
import { sendJson } from '../../http/respond.ts';
import type { RouteContext } from '../../http/server.ts';
import { needsOf, planRoute } from '../../router/plan/index.ts';
import { GatewayError } from '../../spec/errors.ts';
import { callContext, clientAbort } from '../../gateway/call-context.ts';
import { targetOf } from '../../gateway/chat-route.ts';
import { applyModelRouters } from '../../gateway/model-routers.ts';
import { parseMessagesRequest } from './parse-request.ts';
import { upstreamBody } from './upstream-body.ts';
import { forwardedHeaders, passesThrough, passThroughCount } from './passthrough.ts';
import { resolveModelRef } from './resolve-model.ts';

export async function handleCountTokens(ctx: RouteContext): Promise<void> {
  const { app, req, res } = ctx;
  const key = await requireInferenceKey(app, req);
  const parsed = parseMessagesRequest(await readJson(req, app.settings.maxBodyBytes), { forCount: true });
  const { request } = parsed;
  // A count is how a client learns its prompt is too long: no endpoint is left out for its length.
  const needs = { ...needsOf(request), promptTokens: 0 };
  const refs = [resolveModelRef(app.catalog, request.model), ...parsed.fallbackModels.map((m) => resolveModelRef(app.catalog, m))];
  // `openrouter/auto`: counted on the model the conversation would be routed to (model-routers.ts).
  const routed = applyModelRouters(app, key.hash, request, { refs, preferences: parsed.preferences, sessionId: parsed.sessionId }, needs);
  const { candidates } = planRoute({
    catalog: app.catalog,
    refs: routed.refs,
    kind: 'chat',
    needs,
    prefs: parsed.preferences,
    health: app.health,
    markupBp: app.billing.settings.markupBp,
  });
  const anthropic = candidates.filter((c) => passesThrough(c, parsed.foreign));
  if (anthropic.length > 0) {
    const callCtx = callContext(app, clientAbort(ctx));
    const headers = forwardedHeaders(req);
    try {
      const { value } = await tryCandidates(
        anthropic,
        callCtx.signal,
        (c) => {
          const body = upstreamBody(parsed.body, c.endpoint.upstreamModel, undefined, { forCount: true });
          return passThroughCount(targetOf(c), body, headers, callCtx);
        },
        tryOptions(app),
      );
      const text = value;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    } catch (err) {
      if (!(err instanceof GatewayError) || err.status === 400 || err.status === 413 || err.status === 499) throw err;
    }
  }
  sendJson(res, 200, { input_tokens: estimatePromptTokens(request) }, { 'x-freeway-estimate': 'true' });
}

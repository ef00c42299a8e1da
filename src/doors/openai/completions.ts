/**
 * `POST /completions` (legacy raw prompt). OpenAI-compatible upstreams get the prompt as-is on
 * their own `/completions`; other protocols get it as a single user message.
 */
import { estimateTokens } from '../../spec/estimate.ts';
import { generationId } from '../../gateway/ids.ts';
import { generatedOutput, runMetered } from '../../gateway/metering.ts';
import { NO_NEEDS, planRoute } from '../../router/plan/index.ts';
import type { RoutePreferences } from '../../router/plan/index.ts';
import type { Candidate } from '../../router/types.ts';
import { attributionOf } from '../../gateway/attribution.ts';
import { GenerationTracker } from '../../gateway/tracker.ts';
import { requireInferenceKey } from '../../http/auth.ts';
import { readJson } from '../../http/body.ts';
import { sendJson } from '../../http/respond.ts';
import type { RouteContext } from '../../http/server.ts';
import { ADAPTERS } from '../../providers/registry.ts';
import type { CallContext } from '../../providers/types.ts';
import type { CompletionRequest } from '../../spec/request.ts';
import { withWarnings } from '../../spec/response.ts';
import type { ChatResult, StreamEvent } from '../../spec/response.ts';
import { arr, fail, int, obj, str } from '../../spec/validate.ts';
import { callContext, clientAbort } from '../../gateway/call-context.ts';
import { fitOutput, targetOf } from '../../gateway/chat-route.ts';
import { applyModelRouters } from '../../gateway/model-routers.ts';
import { parseChatRequest } from './parse-chat-request.ts';
import { CompletionChunkRenderer, renderTextCompletion } from './render-completion.ts';
import { streamGeneration } from '../../gateway/stream-generation.ts';

const LEGACY_ONLY = ['prompt', 'suffix', 'echo', 'best_of', 'logprobs'] as const;

function parseCompletionRequest(raw: unknown): {
  request: CompletionRequest;
  fallbackModels: string[];
  preferences: RoutePreferences;
  warnings: string[];
} {
  const body = obj(raw, 'body');
  let prompt: string;
  if (typeof body.prompt === 'string') prompt = body.prompt;
  else {
    const list = arr(body.prompt, 'prompt');
    if (list.length !== 1) fail('prompt', 'exactly one prompt string is supported');
    prompt = str(list[0], 'prompt[0]');
  }
  // best_of > 1 has the upstream generate (and bill) that many completions and return one: the
  // hold and the charge would cover one. Refused like n > 1.
  if (body.best_of !== undefined && body.best_of !== null && int(body.best_of, 'best_of', 1, 20) !== 1) {
    fail('best_of', 'only best_of = 1 is supported (each extra candidate is generated and billed upstream)');
  }
  // Reuse the chat validator for the shared fields; legacy-only fields pass through untouched.
  const rest: Record<string, unknown> = { ...body, messages: [{ role: 'user', content: prompt }] };
  const legacy: Record<string, unknown> = {};
  for (const k of LEGACY_ONLY) {
    if (k !== 'prompt' && body[k] !== undefined) legacy[k] = body[k];
    delete rest[k];
  }
  const { request, fallbackModels, preferences, warnings } = parseChatRequest(rest);
  const { messages: _m, tools: _t, toolChoice: _c, parallelToolCalls: _p, ...shared } = request;
  const passthrough = { ...(shared.passthrough ?? {}), ...legacy };
  return {
    request: { ...shared, prompt, ...(Object.keys(passthrough).length > 0 ? { passthrough } : {}) },
    fallbackModels,
    preferences,
    warnings,
  };
}

function asChat(req: CompletionRequest) {
  return { ...req, messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: req.prompt }] }] };
}

async function complete(c: Candidate, asked: CompletionRequest, ctx: CallContext): Promise<ChatResult> {
  const adapter = ADAPTERS[c.endpoint.provider.protocol];
  const { request: req, warnings } = fitOutput(asked, c);
  const result = await (adapter.complete ? adapter.complete(req, targetOf(c), ctx) : adapter.chat(asChat(req), targetOf(c), ctx));
  return warnings.length > 0 ? { ...result, warnings: [...warnings, ...(result.warnings ?? [])] } : result;
}

async function completeStream(c: Candidate, asked: CompletionRequest, ctx: CallContext): Promise<AsyncIterable<StreamEvent>> {
  const adapter = ADAPTERS[c.endpoint.provider.protocol];
  const { request: req, warnings } = fitOutput(asked, c);
  const target = targetOf(c);
  const events = await (adapter.completeStream ? adapter.completeStream(req, target, ctx) : adapter.chatStream(asChat(req), target, ctx));
  return withWarnings(warnings, events);
}

export async function handleCompletions(ctx: RouteContext): Promise<void> {
  const { app, req, res } = ctx;
  const key = await requireInferenceKey(app, req);
  const { request, fallbackModels, preferences, warnings } = parseCompletionRequest(await readJson(req, app.settings.maxBodyBytes));
  const needs = { ...NO_NEEDS, maxTokens: request.maxTokens, promptTokens: estimateTokens(request.prompt) };
  // `openrouter/auto`, `openrouter/free`: the router's picks stand in for it, as on the chat door.
  const routed = applyModelRouters(app, key.hash, asChat(request), { refs: [request.model, ...fallbackModels], preferences }, needs);
  const { candidates } = planRoute({
    catalog: app.catalog,
    refs: routed.refs,
    kind: 'chat',
    needs,
    prefs: preferences,
    health: app.health,
    markupBp: app.billing.settings.markupBp,
  });
  const tracker = new GenerationTracker(generationId(), key, 'completions', request.stream, app.billing.settings.markupBp);
  tracker.attribution = attributionOf(ctx.req.headers, { user: request.user });
  tracker.content = app.content.begin(key, { prompt: request.prompt });
  const hold = { promptTokens: Math.ceil(Buffer.byteLength(request.prompt) / 2) + 8, maxTokens: request.maxTokens };
  const abort = clientAbort(ctx);
  const callCtx = callContext(app, abort);
  if (request.stream) {
    await streamGeneration(app, ctx, {
      key,
      hold,
      candidates,
      tracker,
      callCtx,
      open: (c) => completeStream(c, request, callCtx),
      midStreamFailover: false,
      renderer: (meta) => new CompletionChunkRenderer({ ...meta, includeUsage: request.includeUsage, warnings }),
      promptTokens: () => estimateTokens(request.prompt),
      onServed: (c) => routed.served(c.model.id),
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
    (c) => complete(c, request, callCtx),
    (r) => ({ inputTokens: estimateTokens(request.prompt), outputTokens: r ? estimateTokens(r.text) : 0 }),
    generatedOutput,
  );
  routed.served(candidate.model.id);
  const body = renderTextCompletion(tracker.meta(candidate), { ...result, usage }, charge, warnings);
  sendJson(res, 200, body, { 'x-generation-id': tracker.id });
}

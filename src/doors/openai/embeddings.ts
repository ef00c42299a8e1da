/**
 * `POST /embeddings`: OpenAI's shape, served by any adapter that embeds.
 */
import { estimateTokens } from '../../spec/estimate.ts';
import { generationId } from '../../gateway/ids.ts';
import { runMetered } from '../../gateway/metering.ts';
import { NO_NEEDS, parseProviderPreferences, planRoute } from '../../router/plan/index.ts';
import { attributionOf } from '../../gateway/attribution.ts';
import { GenerationTracker } from '../../gateway/tracker.ts';
import { requireInferenceKey } from '../../http/auth.ts';
import { readJson } from '../../http/body.ts';
import { sendJson } from '../../http/respond.ts';
import type { RouteContext } from '../../http/server.ts';
import { ADAPTERS } from '../../providers/registry.ts';
import { GatewayError } from '../../spec/errors.ts';
import type { EmbeddingRequest } from '../../spec/request.ts';
import { arr, fail, int, obj, oneOf, opt, str } from '../../spec/validate.ts';
import { callContext, clientAbort } from '../../gateway/call-context.ts';
import { targetOf } from '../../gateway/chat-route.ts';
import { renderUsage } from './render-usage.ts';

function parseInput(v: unknown): string[] | number[][] {
  if (typeof v === 'string') return [v];
  const list = arr(v, 'input');
  if (list.length === 0) fail('input', 'must not be empty');
  if (list.every((x) => typeof x === 'number')) return [list.map((x, i) => int(x, `input[${i}]`, 0))];
  if (list.every((x) => Array.isArray(x))) {
    return list.map((row, i) => arr(row, `input[${i}]`).map((x, j) => int(x, `input[${i}][${j}]`, 0)));
  }
  return list.map((x, i) => str(x, `input[${i}]`));
}

export function parseEmbeddingRequest(raw: unknown): EmbeddingRequest {
  const body = obj(raw, 'body');
  return {
    model: str(body.model, 'model'),
    input: parseInput(body.input),
    dimensions: opt(body, 'dimensions', (v, p) => int(v, p, 1)),
    encodingFormat: opt(body, 'encoding_format', (v, p) => oneOf(v, p, ['float', 'base64'] as const)),
    inputType: opt(body, 'input_type', str),
    user: opt(body, 'user', str),
  };
}

export async function handleEmbeddings(ctx: RouteContext): Promise<void> {
  const { app, req, res } = ctx;
  const key = await requireInferenceKey(app, req);
  const raw = await readJson(req, app.settings.maxBodyBytes);
  const request = parseEmbeddingRequest(raw);
  const preferences = parseProviderPreferences((raw as { provider?: unknown }).provider);
  const { candidates: planned } = planRoute({
    catalog: app.catalog,
    refs: [request.model],
    kind: 'embedding',
    needs: NO_NEEDS,
    prefs: preferences,
    health: app.health,
    markupBp: app.billing.settings.markupBp,
  });
  const candidates = planned.filter((c) => ADAPTERS[c.endpoint.provider.protocol].embed !== undefined);
  if (candidates.length === 0) {
    throw new GatewayError('not_found', `No endpoints found that support embeddings for ${request.model}`, { retryable: false });
  }
  const tracker = new GenerationTracker(generationId(), key, 'embeddings', false, app.billing.settings.markupBp);
  tracker.attribution = attributionOf(ctx.req.headers, { user: request.user });
  const abort = clientAbort(ctx);
  const callCtx = callContext(app, abort);
  const promptTokens = request.input.reduce<number>(
    (n, x) => n + (typeof x === 'string' ? Math.ceil(Buffer.byteLength(x) / 2) + 1 : x.length),
    0,
  );
  const { result, candidate, usage, charge } = await runMetered(
    app,
    key,
    tracker,
    candidates,
    { promptTokens, maxTokens: 0 },
    abort.signal,
    (c) => ADAPTERS[c.endpoint.provider.protocol].embed!(request, targetOf(c), callCtx).then((r) => ({ ...r, finish: null })),
    () => ({
      inputTokens: request.input.reduce<number>((n, x) => n + (typeof x === 'string' ? estimateTokens(x) : x.length), 0),
      outputTokens: 0,
    }),
    // An embedding's output is its vectors: one that came back was produced, and is charged.
    (r) => r.data.length > 0,
  );
  const u = renderUsage(usage, charge);
  sendJson(
    res,
    200,
    {
      id: tracker.id,
      object: 'list',
      model: candidate.model.id,
      provider: candidate.endpoint.provider.name,
      data: result.data.map((embedding, index) => ({ object: 'embedding', index, embedding })),
      usage: { prompt_tokens: u.prompt_tokens, total_tokens: u.prompt_tokens, cost: u.cost, is_byok: false, cost_details: u.cost_details },
    },
    { 'x-generation-id': tracker.id },
  );
}

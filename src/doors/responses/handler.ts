/**
 * `POST /responses` (OpenAI's Responses API): authenticate, parse, prepend a stored conversation
 * (`previous_response_id`) and resolve `item_reference`s, then the same route planning, metering,
 * fallback and generation record as every other door; render whole or as `response.*` events;
 * keep the response unless told not to (`store: false`). `GET`/`DELETE /responses/{id}` and
 * `GET /responses/{id}/input_items` read and delete the key's stored ones. Every error leaves in
 * the Responses error shape.
 */
import { chatStreams, estimateChat, routeChat } from '../../gateway/chat-route.ts';
import { estimatePromptTokens } from '../../spec/estimate.ts';
import { generatedOutput, runMetered } from '../../gateway/metering.ts';
import { streamRoute } from '../../gateway/stream-generation.ts';
import { requireInferenceKey } from '../../http/auth.ts';
import { readJson } from '../../http/body.ts';
import { sendJson } from '../../http/respond.ts';
import type { RouteContext } from '../../http/server.ts';
import { asGatewayError } from '../../spec/errors.ts';
import type { ChatRequest, Message } from '../../spec/request.ts';
import { fail, int, oneOf } from '../../spec/validate.ts';
import type { Obj } from '../../spec/validate.ts';
import { sendResponsesError } from './errors.ts';
import { resolveItemReferences } from './item-references.ts';
import { itemsToMessages } from './parse-items.ts';
import { parseResponsesRequest } from './parse-request.ts';
import type { ParsedResponses } from './parse-request.ts';
import { newId, renderResponse } from './render-response.ts';
import type { ResponseMeta } from './render-response.ts';
import { ResponsesStreamRenderer } from './render-stream.ts';
import { conversationOf, deleteResponse, loadResponse, saveResponse, storedResponse } from './store.ts';

/** Runs a handler, answering any failure before the response started in the Responses error shape. */
function inResponsesShape(handler: (ctx: RouteContext) => Promise<void>) {
  return async (ctx: RouteContext): Promise<void> => {
    try {
      await handler(ctx);
    } catch (err) {
      const e = asGatewayError(err);
      if (e.type === 'server')
        ctx.app.log.error(`unhandled error on ${ctx.req.method} ${ctx.req.url}: ${(err as Error)?.stack ?? String(err)}`);
      sendResponsesError(ctx.res, e);
    }
  };
}

/** The conversation as internal messages: instructions first (never carried over), then the items. */
function messagesOf(parsed: ParsedResponses, items: readonly unknown[]): Message[] {
  const system: Message[] = parsed.instructions ? [{ role: 'system', content: [{ type: 'text', text: parsed.instructions }] }] : [];
  return [...system, ...itemsToMessages(items)];
}

async function createResponse(ctx: RouteContext): Promise<void> {
  const { app, req, res } = ctx;
  const key = await requireInferenceKey(app, req);
  const parsed = parseResponsesRequest(await readJson(req, app.settings.maxBodyBytes));
  const history = parsed.previousResponseId
    ? conversationOf(await loadResponse(app, key.hash, parsed.previousResponseId, 'previous_response_id'))
    : [];
  const conversation = [...history, ...(await resolveItemReferences(app, key.hash, parsed.input))];
  const request: ChatRequest = { ...parsed.request, messages: messagesOf(parsed, conversation) };

  // OpenAI's prompt cache key groups a conversation too (as on the chat door): the sticky key when no session says.
  const cacheKey = request.upstreamOptions?.prompt_cache_key;
  const sessionId = parsed.sessionId ?? (typeof cacheKey === 'string' ? cacheKey : undefined);
  const refs = [request.model, ...parsed.fallbackModels];
  const loggedSessionId = parsed.sessionId ?? null;
  const route = routeChat(app, ctx, key, { request, refs, preferences: parsed.preferences, sessionId, loggedSessionId });
  const { candidates, tracker, callCtx, hold, served, abort } = route;
  const streams = chatStreams(request, callCtx);
  const id = newId('resp');
  const meta = (m: { created: number; model: string; providerName: string }): ResponseMeta => ({
    id,
    createdAt: m.created,
    model: m.model,
    providerName: m.providerName,
    echo: parsed.echo,
    excludeReasoning: request.reasoning?.exclude === true,
    toolNames: parsed.toolNames,
    warnings: parsed.warnings,
  });
  const keep = (response: Obj): Promise<void> =>
    parsed.store ? saveResponse(app, storedResponse(key.hash, conversation, response)) : Promise.resolve();

  if (request.stream) {
    let saving: Promise<void> = Promise.resolve();
    await streamRoute(app, ctx, key, route, {
      open: streams.open,
      continueWith: streams.continueWith,
      midStreamFailover: parsed.preferences.midStreamFailover,
      renderer: (m) => new ResponsesStreamRenderer(meta(m), (response) => (saving = keep(response))),
      promptTokens: () => estimatePromptTokens(request),
    });
    await saving;
    return;
  }
  const { result, candidate, usage, charge } = await runMetered(
    app,
    key,
    tracker,
    candidates,
    hold,
    abort.signal,
    streams.whole,
    estimateChat(request),
    generatedOutput,
  );
  served(candidate);
  const body = renderResponse(meta(tracker.meta(candidate)), result, usage, charge);
  await keep(body);
  sendJson(res, 200, body, { 'x-generation-id': tracker.id });
}

async function getResponse(ctx: RouteContext): Promise<void> {
  const key = await requireInferenceKey(ctx.app, ctx.req);
  const stored = await loadResponse(ctx.app, key.hash, ctx.params.id, null);
  sendJson(ctx.res, 200, stored.response);
}

async function removeResponse(ctx: RouteContext): Promise<void> {
  const key = await requireInferenceKey(ctx.app, ctx.req);
  await deleteResponse(ctx.app, key.hash, ctx.params.id);
  sendJson(ctx.res, 200, { id: ctx.params.id, object: 'response', deleted: true });
}

/** The conversation a stored response answered, as OpenAI lists it: newest first unless `order=asc`. */
async function listInputItems(ctx: RouteContext): Promise<void> {
  const key = await requireInferenceKey(ctx.app, ctx.req);
  const stored = await loadResponse(ctx.app, key.hash, ctx.params.id, null);
  const q = ctx.url.searchParams;
  const limit = q.has('limit') ? int(Number(q.get('limit')), 'limit', 1, 100) : 20;
  const order = q.has('order') ? oneOf(q.get('order'), 'order', ['asc', 'desc'] as const) : 'desc';
  const items = stored.input.filter((x): x is Obj => typeof x === 'object' && x !== null);
  if (order === 'desc') items.reverse();
  const after = q.get('after');
  const start = after === null ? 0 : items.findIndex((x) => x.id === after) + 1;
  if (after !== null && start === 0) fail('after', `no item with id ${JSON.stringify(after)} in this response's input`);
  const data = items.slice(start, start + limit);
  sendJson(ctx.res, 200, {
    object: 'list',
    data,
    first_id: (data[0]?.id as string | undefined) ?? null,
    last_id: (data.at(-1)?.id as string | undefined) ?? null,
    has_more: start + limit < items.length,
  });
}

export const handleCreateResponse = inResponsesShape(createResponse);
export const handleGetResponse = inResponsesShape(getResponse);
export const handleDeleteResponse = inResponsesShape(removeResponse);
export const handleListInputItems = inResponsesShape(listInputItems);

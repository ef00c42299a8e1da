/**
 * An emulator of OpenAI's HTTP API — Chat Completions, legacy Completions, Embeddings, Models — that
 * answers like the real service (bodies, errors, headers, SSE framing), deterministically and fast.
 *
 *   const emu = await startOpenAIEmulator();
 *   const client = new OpenAI({ apiKey: emu.apiKey, baseURL: `${emu.url}/v1` });
 *
 * Behaviour is scripted with the directives of common.ts in the last user message (chat), the prompt
 * (legacy completions) or the input (embeddings).
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { passGate, sleep, startEmulator, writeFrames } from './common.ts';
import type { Directives, Emulator, EmulatorOptions } from './common.ts';
import { createChatState, lastUserText, respondChat, validateChat } from './openai-chat.ts';
import { embeddingText, legacyPrompts, respondEmbeddings, respondLegacy, validateEmbeddings, validateLegacy } from './openai-legacy.ts';
import {
  NO_KEY_MESSAGE,
  RATE_LIMIT_REQUESTS,
  RATE_LIMIT_TOKENS,
  directivesIn,
  invalidKey,
  isObject,
  oaiError,
  statusError,
} from './openai-shared.ts';
import type { Frames, Reply } from './openai-shared.ts';

/** What OpenAI sends when a stream fails after it started: an `error` event, then the end. */
const STREAM_ERROR_FRAME = `data: ${JSON.stringify({
  error: {
    message: 'The server had an error while processing your request. Sorry about that!',
    type: 'server_error',
    param: null,
    code: null,
  },
})}\n\n`;

export type { Reply } from './openai-shared.ts';
export { isReasoningModel } from './openai-chat.ts';
export { embeddingVector } from './openai-legacy.ts';

/**
 * What OpenAI's GET /v1/models lists (real ids and creation times), including a dated snapshot and a
 * model no price data knows yet (`gpt-6-preview`); retired models (`gpt-4-32k`) are not listed.
 */
const MODELS: [id: string, created: number, ownedBy: string][] = [
  ['gpt-4o-mini', 1721172741, 'system'],
  ['gpt-4o-mini-2024-07-18', 1721172717, 'system'],
  ['gpt-4o', 1715367049, 'system'],
  ['gpt-4o-search-preview', 1741388720, 'system'],
  ['gpt-4o-mini-search-preview', 1741391161, 'system'],
  ['gpt-4.1', 1744316542, 'system'],
  ['gpt-4.1-mini', 1744318173, 'system'],
  ['gpt-5', 1754425777, 'system'],
  ['gpt-5-mini', 1754425928, 'system'],
  ['gpt-5-nano', 1754426384, 'system'],
  ['o3-mini', 1737146383, 'system'],
  ['o4-mini', 1744225351, 'system'],
  ['gpt-3.5-turbo', 1677610602, 'system'],
  ['gpt-3.5-turbo-instruct', 1692901427, 'system'],
  ['text-embedding-3-small', 1705948997, 'system'],
  ['text-embedding-3-large', 1705953180, 'system'],
  ['gpt-6-preview', 1790000000, 'system'],
];

const modelObject = ([id, created, owned_by]: [string, number, string]) => ({ id, object: 'model', created, owned_by });

const PARSE_ERROR =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. " +
  'The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, ' +
  'please contact us through our help center at help.openai.com.)';

// any: emulators read arbitrary client JSON; tests narrow what they assert on.
type Body = any;

/** A POST route: where its directives live, OpenAI's validation, and the answer. */
interface Route {
  text(body: Body): string;
  validate(body: Body): Reply | null;
  respond(body: Body, d: Directives): Reply | Frames;
  /** Tokens the request spends against the token rate limit (approximate, cheap). */
  tokens(body: Body): number;
}

export interface OpenAIEmulatorOptions extends EmulatorOptions {
  name?: string;
  /**
   * The model ids GET /v1/models lists (default: OpenAI's own). OpenAI-compatible hosts list their own
   * sets (Groq's `llama-3.3-70b-versatile`, Together's `meta-llama/Llama-3.3-70B-Instruct-Turbo`).
   */
  models?: readonly string[];
}

export interface OpenAIEmulator extends Emulator {
  /** Replaces what GET /v1/models lists from now on (a host adding and retiring models). */
  setModels(ids: readonly string[]): void;
  /** GET /v1/models answers with this status (a failing listing) until called with undefined. */
  failListing(status: number | undefined): void;
}

export async function startOpenAIEmulator(opts: OpenAIEmulatorOptions = {}): Promise<OpenAIEmulator> {
  const apiKey = opts.apiKey ?? 'test-key';
  let listed: Array<[string, number, string]> = opts.models ? opts.models.map((id) => [id, 1733000000, 'system']) : MODELS;
  let listingStatus: number | undefined;
  const chatState = createChatState(opts.name ?? 'OpenAI emulator');
  // A one-minute request window drives the x-ratelimit-remaining-* headers.
  const limits = { start: 0, requests: 0, tokens: 0 };

  const routes: Record<string, Route> = {
    '/v1/chat/completions': {
      text: lastUserText,
      validate: validateChat,
      respond: (body, d) => respondChat(body, d, chatState),
      tokens: (body) => (body.max_completion_tokens ?? body.max_tokens ?? 0) + 256,
    },
    '/v1/completions': {
      text: (body) => legacyPrompts(body).join('\n'),
      validate: validateLegacy,
      respond: (body, d) => respondLegacy(body, d, chatState.name),
      tokens: (body) => (body.max_tokens ?? 16) + 64,
    },
    '/v1/embeddings': {
      text: embeddingText,
      validate: validateEmbeddings,
      respond: (body) => respondEmbeddings(body),
      tokens: () => 64,
    },
  };

  const emulator = await startEmulator(async (req, res, body, url) => {
    const started = performance.now();
    const headers: Record<string, string> = {
      'x-request-id': 'req_' + randomUUID().replaceAll('-', ''),
      'openai-version': '2020-10-01',
      'openai-organization': 'user-emulator',
      'openai-project': 'proj_emulator',
    };
    const rateHeaders = (tokens: number): void => {
      const now = Date.now();
      if (now - limits.start >= 60_000) Object.assign(limits, { start: now, requests: 0, tokens: 0 });
      limits.requests++;
      limits.tokens += tokens;
      const resetMs = 60_000 - (now - limits.start);
      headers['x-ratelimit-limit-requests'] = String(RATE_LIMIT_REQUESTS);
      headers['x-ratelimit-limit-tokens'] = String(RATE_LIMIT_TOKENS);
      headers['x-ratelimit-remaining-requests'] = String(Math.max(0, RATE_LIMIT_REQUESTS - limits.requests));
      headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, RATE_LIMIT_TOKENS - limits.tokens));
      // Time until the used budget is replenished, in OpenAI's notation ("6ms", "1.5s", "1m2s").
      headers['x-ratelimit-reset-requests'] = duration((resetMs * limits.requests) / RATE_LIMIT_REQUESTS);
      headers['x-ratelimit-reset-tokens'] = duration((resetMs * limits.tokens) / RATE_LIMIT_TOKENS);
    };
    const send = (reply: Reply): void => sendReply(res, reply, headers, started);

    const auth = req.headers.authorization;
    const bearer = typeof auth === 'string' ? /^Bearer\s+(.*)$/i.exec(auth.trim()) : null;
    if (!bearer || bearer[1] === '') return send(oaiError(401, NO_KEY_MESSAGE));
    const key = bearer[1].trim();
    if (key !== apiKey) return send(invalidKey(key));

    const method = req.method ?? 'GET';
    const route = method === 'POST' ? routes[url.pathname] : undefined;
    if (!route) {
      if (method === 'GET' && url.pathname === '/v1/models') {
        if (listingStatus !== undefined) return send(oaiError(listingStatus, 'The server had an error while processing your request.'));
        rateHeaders(0);
        return send({ status: 200, body: { object: 'list', data: listed.map(modelObject) } });
      }
      const model = method === 'GET' && url.pathname.startsWith('/v1/models/') ? decodeURIComponent(url.pathname.slice(11)) : undefined;
      if (model !== undefined && model !== '') {
        if (model === 'does-not-exist') return send(oaiError(404, `The model '${model}' does not exist`, 'model', 'model_not_found'));
        const known = MODELS.find(([id]) => id === model);
        rateHeaders(0);
        return send({ status: 200, body: modelObject(known ?? [model, 1700000000, 'system']) });
      }
      return send(oaiError(404, `Invalid URL (${method} ${url.pathname})`));
    }

    // startEmulator hands over the raw text when the body is not JSON.
    if (body !== undefined && !isObject(body)) return send(oaiError(400, PARSE_ERROR));
    const request: Body = body ?? {};
    const d = directivesIn(route.text(request));
    if (d.slowMs) await sleep(d.slowMs);
    if (d.gate) await passGate(d.gate);
    const invalid = route.validate(request);
    if (invalid) return send(invalid);
    if (d.error !== undefined) {
      const reply = statusError(d.error, String(request.model), key);
      return send(reply);
    }
    rateHeaders(route.tokens(request));
    const answer = route.respond(request, d);
    if ('frames' in answer) {
      headers['openai-processing-ms'] = String(Math.round(performance.now() - started));
      headers['content-type'] = 'text/event-stream; charset=utf-8';
      // The first chunk carries only the role (and an empty content); OpenAI's rare keep-alive is a bare comment.
      return writeFrames(res, answer.frames, d, { headers, errorFrame: STREAM_ERROR_FRAME, preamble: 1, keepAlive: ': \n\n' });
    }
    send(answer);
  }, opts);
  return {
    ...emulator,
    setModels(ids) {
      listed = ids.map((id) => [id, 1733000000, 'system']);
    },
    failListing(status) {
      listingStatus = status;
    },
  };
}

function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.round(ms) / 1000;
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
}

function sendReply(res: ServerResponse, reply: Reply, headers: Record<string, string>, started: number): void {
  headers['openai-processing-ms'] = String(Math.round(performance.now() - started));
  const payload = reply.raw ?? JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...headers,
    ...(reply.headers ?? {}),
    'content-type': reply.contentType ?? 'application/json',
    'content-length': String(Buffer.byteLength(payload)),
  });
  res.end(payload);
}

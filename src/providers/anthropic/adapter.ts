/**
 * The Anthropic Messages API adapter (`protocol: 'anthropic'`), pinned to API version 2023-06-01.
 * Conversion lives in the convert-* modules; this file is the HTTP plumbing.
 */
import type { ChatRequest } from '../../spec/request.ts';
import type { ChatResult, StreamEvent } from '../../spec/response.ts';
import { withWarnings } from '../../spec/response.ts';
import { anthropicParameters } from './parameters.ts';
import { parseAnthropicError } from './parse-error.ts';
import { callUpstream, readJson } from '../http-client.ts';
import type { UpstreamResponse } from '../http-client.ts';
import type { CallContext, ProviderAdapter, ProviderInstance, Target } from '../types.ts';
import { toMessagesRequest } from './convert-request.ts';
import { fromMessagesResponse } from './convert-response.ts';
import { convertStream } from './convert-stream.ts';

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com/v1';
export const ANTHROPIC_VERSION = '2023-06-01';

function baseUrl(provider: ProviderInstance): string {
  return (provider.baseUrl || ANTHROPIC_DEFAULT_BASE_URL).replace(/\/+$/, '');
}

function headers(provider: ProviderInstance): Record<string, string> {
  return {
    'content-type': 'application/json',
    'anthropic-version': ANTHROPIC_VERSION,
    // Configured headers may add `anthropic-beta` or override the version.
    ...provider.headers,
    ...(provider.apiKey ? { 'x-api-key': provider.apiKey } : {}),
  };
}

/** The provider's headers with a request's `anthropic-beta` features added to any configured ones. */
function withBeta(h: Record<string, string>, beta: string | undefined): Record<string, string> {
  if (!beta) return h;
  const own = Object.keys(h).find((k) => k.toLowerCase() === 'anthropic-beta');
  const configured = own ? h[own] : undefined;
  if (own) delete h[own];
  h['anthropic-beta'] = configured && configured !== beta ? `${configured},${beta}` : beta;
  return h;
}

async function post(target: Target, body: unknown, ctx: CallContext, beta?: string): Promise<UpstreamResponse> {
  const { provider } = target;
  return callUpstream({
    providerName: provider.name,
    url: `${baseUrl(provider)}/messages`,
    headers: withBeta(headers(provider), beta),
    body: JSON.stringify(body),
    signal: ctx.signal,
    timeouts: ctx.timeouts,
    watch: ctx.watch,
    secret: provider.apiKey,
    parseError: parseAnthropicError,
  });
}

export const anthropicAdapter: ProviderAdapter = {
  protocol: 'anthropic',
  parameters: anthropicParameters,
  // Anthropic treats a final assistant message as a prefill and continues it.
  continuesAssistantTurn(_provider: ProviderInstance): boolean {
    return true;
  },

  async chat(req: ChatRequest, target: Target, ctx: CallContext): Promise<ChatResult> {
    const { body, warnings, beta } = toMessagesRequest(req, target);
    const res = await post(target, { ...body, stream: false }, ctx, beta);
    const json = await readJson(target.provider.name, res, ctx.signal);
    return fromMessagesResponse(json, target.provider.name, warnings);
  },

  async chatStream(req: ChatRequest, target: Target, ctx: CallContext): Promise<AsyncIterable<StreamEvent>> {
    const { body, warnings, beta } = toMessagesRequest(req, target);
    // Resolves only once the upstream answered 2xx; earlier failures reject with their status.
    const res = await post(target, { ...body, stream: true }, ctx, beta);
    return withWarnings(warnings, convertStream(res.body, target.provider.name, ctx.signal));
  },

  /**
   * The Anthropic door's pass-through: the client's own body to `/messages` or
   * `/messages/count_tokens`, with its `anthropic-beta` features added to any configured ones and
   * its `anthropic-version` (the wire format it reads the answer in) in place of the default one.
   */
  async passthrough(
    path: string,
    body: string,
    target: Target,
    ctx: CallContext,
    extra: Record<string, string> = {},
  ): Promise<UpstreamResponse> {
    const { provider } = target;
    const h = withBeta(headers(provider), extra['anthropic-beta']);
    const version = extra['anthropic-version'];
    if (version) h['anthropic-version'] = version;
    return callUpstream({
      providerName: provider.name,
      url: `${baseUrl(provider)}/${path.replace(/^\/+/, '')}`,
      headers: h,
      body,
      signal: ctx.signal,
      timeouts: ctx.timeouts,
      watch: ctx.watch,
      secret: provider.apiKey,
      parseError: parseAnthropicError,
    });
  },

  async listModels(provider: ProviderInstance, signal: AbortSignal): Promise<string[]> {
    const ids: string[] = [];
    let after: string | undefined;
    // Anthropic pages with `after_id`; a bounded number of pages guards against a server that loops.
    for (let page = 0; page < 20; page++) {
      const query = new URLSearchParams({ limit: '1000', ...(after ? { after_id: after } : {}) });
      const res = await callUpstream({
        providerName: provider.name,
        method: 'GET',
        url: `${baseUrl(provider)}/models?${query}`,
        headers: headers(provider),
        signal,
        secret: provider.apiKey,
        parseError: parseAnthropicError,
      });
      const json = (await readJson(provider.name, res, signal)) as {
        data?: Array<{ id?: unknown }>;
        has_more?: unknown;
        last_id?: unknown;
      };
      for (const m of Array.isArray(json?.data) ? json.data : []) if (typeof m?.id === 'string') ids.push(m.id);
      if (json?.has_more !== true || typeof json.last_id !== 'string' || json.last_id === after) break;
      after = json.last_id;
    }
    return ids;
  },
};

/**
 * The one adapter for every OpenAI-compatible server (OpenAI, Azure, Groq, Together, DeepSeek,
 * xAI, Mistral, OpenRouter, Ollama, vLLM, ...). Their differences are data: ProviderInstance.quirks.
 */
import { GatewayError } from '../../spec/errors.ts';
import type { ChatRequest, CompletionRequest, EmbeddingRequest } from '../../spec/request.ts';
import type { ChatResult, EmbeddingResult } from '../../spec/response.ts';
import { withWarnings } from '../../spec/response.ts';
import { dropWarning, fitReasoning, isNeutral, isUpstreamOption, treatment } from '../field-policy.ts';
import { callUpstream, readJson } from '../http-client.ts';
import type { CallContext, ChatChunkStream, ProviderAdapter, ProviderInstance, Target } from '../types.ts';
import { openAIParameters } from './parameters.ts';
import { parseOpenAIError } from './parse-error.ts';
import { OpenAIStreamReader } from './stream-reader.ts';
import { toOpenAIChatBody } from './convert-request.ts';
import { convertOpenAIResponse } from './convert-response.ts';
import { convertOpenAIStream } from './convert-stream.ts';
import { convertOpenAIUsage } from './convert-usage.ts';
import { emptyUsage } from '../../spec/response.ts';

export function openAIUrl(p: ProviderInstance, path: string): string {
  const base = p.baseUrl.endsWith('/') ? p.baseUrl.slice(0, -1) : p.baseUrl;
  const q = p.quirks.query;
  return q ? `${base}${path}?${new URLSearchParams(q).toString()}` : `${base}${path}`;
}

export function openAIHeaders(p: ProviderInstance): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', ...p.headers };
  const auth = p.quirks.auth ?? 'bearer';
  if (p.apiKey && auth === 'bearer') h.authorization = `Bearer ${p.apiKey}`;
  else if (p.apiKey && auth === 'api-key') h['api-key'] = p.apiKey;
  return h;
}

/**
 * A provider's headers and request URLs, worked out on its first request rather than on every one.
 * Provider objects are built once per configuration and never changed in place.
 */
interface Wire {
  headers: Readonly<Record<string, string>>;
  urls: Map<string, string>;
}

const wires = new WeakMap<ProviderInstance, Wire>();

function wireOf(p: ProviderInstance): Wire {
  let w = wires.get(p);
  if (w === undefined) {
    w = { headers: openAIHeaders(p), urls: new Map() };
    wires.set(p, w);
  }
  return w;
}

function post(target: Target, path: string, body: unknown, ctx: CallContext) {
  const p = target.provider;
  const wire = wireOf(p);
  let url = wire.urls.get(path);
  if (url === undefined) {
    url = openAIUrl(p, path);
    wire.urls.set(path, url);
  }
  return callUpstream({
    providerName: p.name,
    url,
    headers: wire.headers,
    body: JSON.stringify(body),
    signal: ctx.signal,
    timeouts: ctx.timeouts,
    watch: ctx.watch,
    secret: p.apiKey,
    parseError: parseOpenAIError,
  });
}

async function postChatStream(req: ChatRequest, target: Target, ctx: CallContext) {
  const warnings: string[] = [];
  const fitted = fitReasoning({ ...req, stream: true }, target, warnings);
  const body = toOpenAIChatBody(fitted, target.model, target.provider.quirks, warnings);
  return { res: await post(target, '/chat/completions', body, ctx), warnings };
}

/** OpenAI's legacy-only request fields (the door passes them through): always the server's own. */
const LEGACY_PARAMS = new Set(['suffix', 'echo', 'best_of', 'logprobs']);

/**
 * The legacy `/completions` body. It takes none of the chat door's options for the model
 * (prediction, metadata, service_tier...): each is dropped with a warning.
 */
function legacyBody(req: CompletionRequest, target: Target, stream: boolean, warnings: string[]): Record<string, unknown> {
  const { upstreamOptions, passthrough = {}, ...rest } = req;
  for (const [k, v] of Object.entries(upstreamOptions ?? {})) {
    if (isUpstreamOption(k) && treatment(k, 'openai') !== 'ignore' && !isNeutral(k, v)) {
      warnings.push(dropWarning(k, `${target.provider.name}'s legacy completions`));
    }
  }
  const legacy = Object.fromEntries(Object.entries(passthrough).filter(([k]) => LEGACY_PARAMS.has(k)));
  const others = Object.fromEntries(Object.entries(passthrough).filter(([k]) => !LEGACY_PARAMS.has(k)));
  const quirks = { ...target.provider.quirks, maxTokensField: 'max_tokens' as const };
  const body = toOpenAIChatBody({ ...rest, passthrough: others, messages: [], stream }, target.model, quirks, warnings);
  delete body.messages;
  delete body.reasoning_effort;
  return { ...body, ...legacy, prompt: req.prompt };
}

export const openAICompatibleAdapter: ProviderAdapter = {
  protocol: 'openai',
  parameters: openAIParameters,
  // Only servers known to continue a final assistant message (quirk), e.g. OpenRouter.
  continuesAssistantTurn(provider: ProviderInstance): boolean {
    return provider.quirks.continuesAssistantTurn === true;
  },

  async chat(req: ChatRequest, target: Target, ctx: CallContext): Promise<ChatResult> {
    const warnings: string[] = [];
    const fitted = fitReasoning(req.stream === false ? req : { ...req, stream: false }, target, warnings);
    const body = toOpenAIChatBody(fitted, target.model, target.provider.quirks, warnings);
    const res = await post(target, '/chat/completions', body, ctx);
    const json = await readJson(target.provider.name, res, ctx.signal);
    const result = convertOpenAIResponse(json, target.provider.name, target.provider.quirks);
    if (warnings.length > 0) result.warnings = warnings;
    return result;
  },

  async chatStream(req: ChatRequest, target: Target, ctx: CallContext) {
    const { res, warnings } = await postChatStream(req, target, ctx);
    return withWarnings(warnings, convertOpenAIStream(res.body, target.provider.name, target.provider.quirks, ctx.signal));
  },

  async chatChunkStream(req: ChatRequest, target: Target, ctx: CallContext): Promise<ChatChunkStream> {
    const { res, warnings } = await postChatStream(req, target, ctx);
    return {
      body: res.body,
      reader: new OpenAIStreamReader(target.provider.name, target.provider.quirks),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  },

  async complete(req: CompletionRequest, target: Target, ctx: CallContext): Promise<ChatResult> {
    const warnings: string[] = [];
    const res = await post(target, '/completions', legacyBody(req, target, false, warnings), ctx);
    const json = await readJson(target.provider.name, res, ctx.signal);
    const result = convertOpenAIResponse(json, target.provider.name, target.provider.quirks);
    if (warnings.length > 0) result.warnings = warnings;
    return result;
  },

  async completeStream(req: CompletionRequest, target: Target, ctx: CallContext) {
    const warnings: string[] = [];
    const res = await post(target, '/completions', legacyBody(req, target, true, warnings), ctx);
    return withWarnings(warnings, convertOpenAIStream(res.body, target.provider.name, target.provider.quirks, ctx.signal));
  },

  async embed(req: EmbeddingRequest, target: Target, ctx: CallContext): Promise<EmbeddingResult> {
    const body: Record<string, unknown> = { model: target.model, input: req.input };
    if (req.dimensions !== undefined) body.dimensions = req.dimensions;
    if (req.encodingFormat) body.encoding_format = req.encodingFormat;
    if (req.user) body.user = req.user;
    if (req.inputType) body.input_type = req.inputType;
    const res = await post(target, '/embeddings', body, ctx);
    const json = (await readJson(target.provider.name, res, ctx.signal)) as Record<string, unknown>;
    const data = Array.isArray(json.data) ? json.data : [];
    const vectors: Array<number[] | string> = [];
    for (const item of data) {
      const e = (item as Record<string, unknown>)?.embedding;
      if (!Array.isArray(e) && typeof e !== 'string') {
        throw new GatewayError('provider_unavailable', `${target.provider.name} returned an embedding without values`, {
          metadata: { provider_name: target.provider.name },
        });
      }
      vectors.push(e as number[] | string);
    }
    return {
      data: vectors,
      usage: convertOpenAIUsage(json.usage) ?? emptyUsage(),
      upstreamModel: typeof json.model === 'string' ? json.model : undefined,
    };
  },

  async listModels(provider: ProviderInstance, signal: AbortSignal): Promise<string[]> {
    const res = await callUpstream({
      providerName: provider.name,
      method: 'GET',
      url: openAIUrl(provider, '/models'),
      headers: openAIHeaders(provider),
      signal,
      secret: provider.apiKey,
      parseError: parseOpenAIError,
    });
    const json = (await readJson(provider.name, res, signal)) as { data?: Array<{ id?: unknown }> };
    return (json.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
  },
};

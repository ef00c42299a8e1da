/**
 * The Gemini API adapter (Google AI Studio, generativelanguage v1beta). The base URL includes the
 * API version; the key travels in `x-goog-api-key`, never in the query string (URLs end up in logs).
 */
import { GatewayError, invalidRequest } from '../../spec/errors.ts';
import type { ChatRequest, EmbeddingRequest } from '../../spec/request.ts';
import { emptyUsage, withWarnings } from '../../spec/response.ts';
import type { ChatResult, EmbeddingResult, StreamEvent } from '../../spec/response.ts';
import { redactSecret } from '../redact.ts';
import { fitReasoning } from '../field-policy.ts';
import { geminiParameters } from './parameters.ts';
import { parseGeminiError } from './parse-error.ts';
import { callUpstream, readJson } from '../http-client.ts';
import type { UpstreamCall, UpstreamResponse } from '../http-client.ts';
import type { CallContext, ProviderAdapter, ProviderInstance, Target } from '../types.ts';
import { toGeminiRequest } from './convert-request.ts';
import { convertGeminiResponse } from './convert-response.ts';
import { convertGeminiStream } from './convert-stream.ts';
import { convertGeminiUsage } from './convert-usage.ts';
import type { GeminiBatchEmbedResponse, GeminiEmbedRequest, GeminiModelList } from './wire-types.ts';

export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';
const MAX_MODEL_PAGES = 20;

function geminiBase(p: ProviderInstance): string {
  const base = p.baseUrl || GEMINI_DEFAULT_BASE_URL;
  return base.endsWith('/') ? base.slice(0, -1) : base;
}

/** `gemini-2.5-flash` or `models/gemini-2.5-flash` → `models/gemini-2.5-flash`; tuned models kept. */
export function geminiModelName(model: string): string {
  if (model.startsWith('tunedModels/')) return model;
  return `models/${encodeURIComponent(model.replace(/^models\//, ''))}`;
}

export function geminiHeaders(p: ProviderInstance): Record<string, string> {
  return { 'content-type': 'application/json', ...(p.apiKey ? { 'x-goog-api-key': p.apiKey } : {}), ...p.headers };
}

async function send(p: ProviderInstance, call: Omit<UpstreamCall, 'providerName' | 'headers' | 'parseError'>): Promise<UpstreamResponse> {
  return callUpstream({ ...call, providerName: p.name, headers: geminiHeaders(p), secret: p.apiKey, parseError: parseGeminiError });
}

async function readBody(p: ProviderInstance, res: UpstreamResponse, signal: AbortSignal): Promise<unknown> {
  try {
    return await readJson(p.name, res, signal);
  } catch (err) {
    throw redactSecret(err, p.apiKey);
  }
}

function post(target: Target, method: string, body: unknown, ctx: CallContext): Promise<UpstreamResponse> {
  const p = target.provider;
  return send(p, {
    url: `${geminiBase(p)}/${geminiModelName(target.model)}:${method}`,
    body: JSON.stringify(body),
    signal: ctx.signal,
    timeouts: ctx.timeouts,
    watch: ctx.watch,
  });
}

const TASK_TYPES: Record<string, string> = {
  query: 'RETRIEVAL_QUERY',
  search_query: 'RETRIEVAL_QUERY',
  document: 'RETRIEVAL_DOCUMENT',
  search_document: 'RETRIEVAL_DOCUMENT',
  classification: 'CLASSIFICATION',
  clustering: 'CLUSTERING',
  semantic_similarity: 'SEMANTIC_SIMILARITY',
};

/** Common `input_type` spellings → Gemini's taskType; Gemini's own (`RETRIEVAL_QUERY`) pass through. */
function taskType(inputType: string | undefined): string | undefined {
  if (!inputType) return undefined;
  if (/^[A-Z_]+$/.test(inputType)) return inputType;
  return TASK_TYPES[inputType.toLowerCase()];
}

function float32Base64(values: number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString('base64');
}

export const geminiAdapter: ProviderAdapter = {
  protocol: 'gemini',
  parameters: geminiParameters,
  // Gemini may start a fresh answer after a trailing model turn; not safe to splice.
  continuesAssistantTurn(_provider: ProviderInstance): boolean {
    return false;
  },

  async chat(req: ChatRequest, target: Target, ctx: CallContext): Promise<ChatResult> {
    const warnings: string[] = [];
    const body = toGeminiRequest(fitReasoning(req, target, warnings), target.model, warnings);
    const res = await post(target, 'generateContent', body, ctx);
    const json = await readBody(target.provider, res, ctx.signal);
    const result = convertGeminiResponse(json, target.provider.name);
    if (warnings.length > 0) result.warnings = warnings;
    return result;
  },

  async chatStream(req: ChatRequest, target: Target, ctx: CallContext): Promise<AsyncIterable<StreamEvent>> {
    const warnings: string[] = [];
    const body = toGeminiRequest(fitReasoning(req, target, warnings), target.model, warnings);
    const res = await post(target, 'streamGenerateContent?alt=sse', body, ctx);
    return withWarnings(warnings, convertGeminiStream(res.body, target.provider.name, ctx.signal));
  },

  async embed(req: EmbeddingRequest, target: Target, ctx: CallContext): Promise<EmbeddingResult> {
    const p = target.provider;
    const texts = req.input.map((item) => {
      if (typeof item !== 'string') throw invalidRequest(`${p.name} embeddings take text, not token arrays`);
      return item;
    });
    const model = geminiModelName(target.model);
    const task = taskType(req.inputType);
    const requests: GeminiEmbedRequest[] = texts.map((text) => ({
      model,
      content: { parts: [{ text }] },
      ...(task ? { taskType: task } : {}),
      ...(req.dimensions !== undefined ? { outputDimensionality: req.dimensions } : {}),
    }));
    const res = await post(target, 'batchEmbedContents', { requests }, ctx);
    const json = (await readBody(p, res, ctx.signal)) as GeminiBatchEmbedResponse;
    const embeddings = Array.isArray(json?.embeddings) ? json.embeddings : [];
    const data = embeddings.map((e) => (Array.isArray(e?.values) ? e.values : undefined));
    if (data.length !== texts.length || data.some((v) => v === undefined)) {
      throw new GatewayError('provider_unavailable', `${p.name} returned ${data.length} embeddings for ${texts.length} inputs`, {
        metadata: { provider_name: p.name },
      });
    }
    const vectors = data as number[][];
    return {
      data: req.encodingFormat === 'base64' ? vectors.map(float32Base64) : vectors,
      usage: convertGeminiUsage(json.usageMetadata) ?? emptyUsage(),
      upstreamModel: target.model,
    };
  },

  async listModels(provider: ProviderInstance, signal: AbortSignal): Promise<string[]> {
    const ids: string[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_MODEL_PAGES; page++) {
      const q = new URLSearchParams({ pageSize: '1000', ...(pageToken ? { pageToken } : {}) });
      const res = await send(provider, { method: 'GET', url: `${geminiBase(provider)}/models?${q.toString()}`, signal });
      const json = (await readBody(provider, res, signal)) as GeminiModelList;
      for (const m of json?.models ?? []) if (typeof m?.name === 'string') ids.push(m.name.replace(/^models\//, ''));
      pageToken = typeof json?.nextPageToken === 'string' && json.nextPageToken !== '' ? json.nextPageToken : undefined;
      if (!pageToken) break;
    }
    return ids;
  },
};

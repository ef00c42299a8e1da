/**
 * An emulator of Google's Gemini API (generativelanguage.googleapis.com, v1beta), faithful to the
 * wire format: generateContent, streamGenerateContent (SSE with `alt=sse`, a JSON array without),
 * countTokens, embedContent, batchEmbedContents and the model list, with Google's error envelope
 * `{error:{code,message,status,details?}}` and its validation rules (valid roles, non-empty parts,
 * unknown fields rejected, function response counts, Gemini 3 thought signatures).
 *
 * Deterministic behaviour (see common.ts for the directive language):
 * - text answers come from replyText('Gemini emulator', ...); tools offered with a plain user turn
 *   last (and mode != NONE, no [[notool]]) give functionCall parts without ids, finishReason STOP;
 *   a functionResponse turn last gives `Tool result received: <JSON>`.
 * - thinking is on when thinkingConfig asks for it (budget != 0, a level, or includeThoughts) and
 *   always on gemini-3 models; then the first functionCall of a turn (or the last text part) carries
 *   a thoughtSignature, usage has thoughtsTokenCount 16, and with includeThoughts the first part is
 *   a thought. On later turns the first functionCall of every model turn since the last user text
 *   must carry its signature back, or the request fails as Gemini 3 fails it.
 * - streams have the shape of recorded real ones (test/fixtures/recorded/gemini): CRLF framing, every
 *   chunk with the usage so far, and after function calls a last chunk of an empty text part that
 *   carries the finishReason.
 * - implicit caching: a prompt prefix of >= 1024 tokens seen in an earlier request is reported as
 *   cachedContentTokenCount.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  dueScriptedCall,
  argsFromSchema,
  chunkText,
  countTokens,
  parseDirectives,
  replyText,
  shortHash,
  sign,
  sleep,
  startEmulator,
  stripDirectives,
  verify,
  writeFrames,
} from './common.ts';
import type { Directives, Emulator, EmulatorOptions } from './common.ts';

// Wire objects are arbitrary JSON from the client.
// any: emulators read arbitrary client JSON; tests narrow what they assert on.
type Json = any;

const STATUS_NAME: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const STANDARD_MESSAGE: Record<number, string> = {
  429: 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
  504: 'Deadline expired before operation could complete.',
};

export const GEMINI_RETRY_DELAY_SECONDS = 27;
/** Google's documented placeholders that skip thought-signature validation. */
const DUMMY_SIGNATURES = new Set(['skip_thought_signature_validator', 'context_engineering_is_the_way_to_go']);
const THOUGHT_TOKENS = 16;
const IMAGE_TOKENS = 258;
const CACHE_MIN_TOKENS = 1024;

interface ModelInfo {
  name: string;
  displayName: string;
  inputTokenLimit: number;
  outputTokenLimit: number;
  supportedGenerationMethods: string[];
  embedding?: boolean;
}

const CHAT_METHODS = ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'];
const MODELS: ModelInfo[] = [
  {
    name: 'gemini-2.5-flash',
    displayName: 'Gemini 2.5 Flash',
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    supportedGenerationMethods: CHAT_METHODS,
  },
  {
    name: 'gemini-2.5-pro',
    displayName: 'Gemini 2.5 Pro',
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    supportedGenerationMethods: CHAT_METHODS,
  },
  {
    name: 'gemini-3-pro-preview',
    displayName: 'Gemini 3 Pro Preview',
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    supportedGenerationMethods: CHAT_METHODS,
  },
  {
    name: 'gemini-embedding-001',
    displayName: 'Gemini Embedding 001',
    inputTokenLimit: 2048,
    outputTokenLimit: 1,
    supportedGenerationMethods: ['embedContent', 'countTextTokens', 'countTokens', 'asyncBatchEmbedContent'],
    embedding: true,
  },
];

const REQUEST_FIELDS = [
  'model',
  'contents',
  'tools',
  'toolConfig',
  'safetySettings',
  'systemInstruction',
  'generationConfig',
  'cachedContent',
];
const GENERATION_FIELDS = [
  'stopSequences',
  'responseMimeType',
  'responseSchema',
  'responseJsonSchema',
  'responseModalities',
  'candidateCount',
  'maxOutputTokens',
  'temperature',
  'topP',
  'topK',
  'seed',
  'presencePenalty',
  'frequencyPenalty',
  'responseLogprobs',
  'logprobs',
  'enableEnhancedCivicAnswers',
  'speechConfig',
  'thinkingConfig',
  'imageConfig',
  'mediaResolution',
];
const THINKING_FIELDS = ['thinkingBudget', 'includeThoughts', 'thinkingLevel'];
const CONTENT_FIELDS = ['role', 'parts'];
const PART_FIELDS = [
  'text',
  'thought',
  'thoughtSignature',
  'inlineData',
  'fileData',
  'functionCall',
  'functionResponse',
  'executableCode',
  'codeExecutionResult',
  'videoMetadata',
  'partMetadata',
  'mediaResolution',
];
/** A Tool's fields, in proto JSON's two spellings (https://ai.google.dev/api/caching#Tool). */
const TOOL_FIELDS = [
  'functionDeclarations',
  'function_declarations',
  'googleSearch',
  'google_search',
  'googleSearchRetrieval',
  'google_search_retrieval',
  'codeExecution',
  'code_execution',
  'urlContext',
  'url_context',
];
const DECLARATION_FIELDS = ['name', 'description', 'parameters', 'parametersJsonSchema', 'response', 'responseJsonSchema', 'behavior'];
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

class ApiFailure extends Error {
  readonly code: number;
  readonly details?: Json[];
  constructor(code: number, message: string, details?: Json[]) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

const invalid = (message: string): ApiFailure => new ApiFailure(400, message);

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}

function errorBody(code: number, message: string, details?: Json[]): Json {
  return {
    error: {
      code,
      message,
      status: STATUS_NAME[code] ?? (code >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
      ...(details ? { details } : {}),
    },
  };
}

function sendError(res: ServerResponse, code: number, message?: string, details?: Json[]): void {
  sendJson(res, code, errorBody(code, message ?? STANDARD_MESSAGE[code] ?? `Emulated error ${code}.`, details));
}

/** The [[error:N]] answer, with the details Google attaches to quota errors. */
function sendDirectiveError(res: ServerResponse, code: number): void {
  const details =
    code === 429
      ? [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [
              {
                quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
                quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
                quotaValue: '10',
              },
            ],
          },
          {
            '@type': 'type.googleapis.com/google.rpc.Help',
            links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${GEMINI_RETRY_DELAY_SECONDS}s` },
        ]
      : undefined;
  sendError(res, code, undefined, details);
}

function notFound(model: string, method: string): ApiFailure {
  return new ApiFailure(
    404,
    `models/${model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
  );
}

function rejectUnknown(obj: Json, allowed: string[], where: string): void {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return;
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw invalid(`Invalid JSON payload received. Unknown name "${key}" at '${where}': Cannot find field.`);
    }
  }
}

const isGemini3 = (model: string): boolean => /^gemini-3/.test(model);

function thinkingActive(model: string, gc: Json): boolean {
  if (isGemini3(model)) return true;
  const tc = gc?.thinkingConfig;
  if (!tc) return false;
  if (tc.thinkingLevel !== undefined) return true;
  if (typeof tc.thinkingBudget === 'number') return tc.thinkingBudget !== 0;
  return tc.includeThoughts === true;
}

/** Gemini's schemas spell types in upper case (OBJECT, STRING); argsFromSchema wants JSON Schema's. */
function lowerTypes(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(lowerTypes);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'type' && typeof v === 'string' ? v.toLowerCase() : lowerTypes(v);
  return out;
}

const textOf = (parts: Json[] | undefined): string =>
  (parts ?? [])
    .filter((p) => typeof p?.text === 'string' && p.thought !== true)
    .map((p) => p.text as string)
    .join('');

/** Tokens of one content (or system instruction) as the emulator counts them. */
function contentTokens(content: Json): { text: number; image: number } {
  let text = '';
  let image = 0;
  for (const p of content?.parts ?? []) {
    if (typeof p.text === 'string') text += p.text;
    else if (p.functionCall) text += JSON.stringify(p.functionCall);
    else if (p.functionResponse) text += JSON.stringify(p.functionResponse);
    else if (p.inlineData || p.fileData) image += IMAGE_TOKENS;
  }
  return { text: countTokens(text), image };
}

function validateContents(body: Json, model: string): void {
  rejectUnknown(body, REQUEST_FIELDS, '');
  const contents = body.contents;
  if (!Array.isArray(contents) || contents.length === 0) {
    throw invalid('* GenerateContentRequest.contents: contents is not specified\n');
  }
  contents.forEach((c: Json, i: number) => {
    rejectUnknown(c, CONTENT_FIELDS, `contents[${i}]`);
    if (c.role !== undefined && c.role !== 'user' && c.role !== 'model') throw invalid('Please use a valid role: user, model.');
    if (!Array.isArray(c.parts) || c.parts.length === 0) {
      throw invalid(`* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.\n`);
    }
    c.parts.forEach((p: Json, j: number) => {
      rejectUnknown(p, PART_FIELDS, `contents[${i}].parts[${j}]`);
      if (p.functionCall && typeof p.functionCall.name !== 'string') {
        throw invalid(`* GenerateContentRequest.contents[${i}].parts[${j}].function_call.name: Name cannot be empty.\n`);
      }
      if (p.functionResponse && typeof p.functionResponse.name !== 'string') {
        throw invalid(`* GenerateContentRequest.contents[${i}].parts[${j}].function_response.name: Name cannot be empty.\n`);
      }
    });
  });
  rejectUnknown(body.systemInstruction, CONTENT_FIELDS, 'system_instruction');
  const gc = body.generationConfig;
  rejectUnknown(gc, GENERATION_FIELDS, 'generation_config');
  rejectUnknown(gc?.thinkingConfig, THINKING_FIELDS, 'generation_config.thinking_config');
  // Recorded from the real API (test/fixtures/recorded/gemini/error-400.json): a budget or a level, not both.
  if (gc?.thinkingConfig?.thinkingBudget !== undefined && gc.thinkingConfig.thinkingLevel !== undefined) {
    throw invalid('You can only set only one of thinking budget and thinking level.');
  }
  if (gc?.candidateCount !== undefined && (gc.candidateCount < 1 || gc.candidateCount > 8)) {
    throw invalid('* GenerateContentRequest.generation_config.candidate_count: must be in the range [1, 8]\n');
  }
  for (const [t, tool] of (body.tools ?? []).entries()) {
    rejectUnknown(tool, TOOL_FIELDS, `tools[${t}]`);
    const search = tool.googleSearch ?? tool.google_search;
    if (search !== undefined) {
      if (!search || typeof search !== 'object' || Array.isArray(search)) {
        const type = 'type.googleapis.com/google.ai.generativelanguage.v1beta.Tool.GoogleSearch';
        throw invalid(`Invalid value at 'tools[${t}].google_search' (${type}), ${JSON.stringify(search)}`);
      }
      rejectUnknown(search, ['timeRangeFilter', 'time_range_filter'], `tools[${t}].google_search`);
    }
    for (const [d, decl] of (tool.functionDeclarations ?? []).entries()) {
      rejectUnknown(decl, DECLARATION_FIELDS, `tools[${t}].function_declarations[${d}]`);
      if (typeof decl.name !== 'string' || !FUNCTION_NAME.test(decl.name)) {
        throw invalid(
          `* GenerateContentRequest.tools[${t}].function_declarations[${d}].name: Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 64.\n`,
        );
      }
    }
  }
  const mode = body.toolConfig?.functionCallingConfig?.mode;
  if (mode !== undefined && !['MODE_UNSPECIFIED', 'AUTO', 'ANY', 'NONE', 'VALIDATED'].includes(mode)) {
    throw invalid(
      `Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), "${String(mode)}"`,
    );
  }
  // Every function call turn must be answered by as many function responses.
  contents.forEach((c: Json, i: number) => {
    const responses = c.parts.filter((p: Json) => p.functionResponse).length;
    const prev = contents[i - 1];
    const calls = prev?.role === 'model' ? prev.parts.filter((p: Json) => p.functionCall).length : 0;
    if (responses > 0 && calls > 0 && responses !== calls) {
      throw invalid(
        'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.',
      );
    }
  });
  if (thinkingActive(model, gc)) checkThoughtSignatures(contents);
}

/** Gemini 3: within the current turn, the first functionCall of each model step must carry its signature back. */
function checkThoughtSignatures(contents: Json[]): void {
  let turnStart = 0;
  contents.forEach((c: Json, i: number) => {
    if (c.role !== 'model' && c.parts.some((p: Json) => typeof p.text === 'string' || p.inlineData || p.fileData)) turnStart = i;
  });
  for (let i = 0; i < contents.length; i++) {
    const c = contents[i];
    if (c.role !== 'model') continue;
    const first = c.parts.findIndex((p: Json) => p.functionCall);
    if (first !== -1 && i > turnStart) {
      const part = c.parts[first];
      const sig = part.thoughtSignature;
      if (sig === undefined || sig === '') {
        throw invalid(
          `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${part.functionCall.name}\` , position ${first + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`,
        );
      }
      if (!DUMMY_SIGNATURES.has(sig) && !verify(callSigningText(part.functionCall), sig)) throw invalid('Corrupted thought signature.');
    }
    // A signature on text must be one the emulator issued over that text.
    const signed = c.parts.find((p: Json) => typeof p.text === 'string' && p.thought !== true && p.thoughtSignature !== undefined);
    if (signed && !DUMMY_SIGNATURES.has(signed.thoughtSignature) && !verify(textOf(c.parts), signed.thoughtSignature)) {
      throw invalid('Corrupted thought signature.');
    }
  }
}

const callSigningText = (fc: Json): string => `${fc.name}${JSON.stringify(fc.args ?? {})}`;

interface Reply {
  thought?: string;
  text?: string;
  /** The Google Search the answer was grounded on, in the documented `groundingMetadata` shape. */
  grounding?: Json;
  calls: Array<{ name: string; args: Record<string, unknown> }>;
  finishReason: string;
  thinking: boolean;
  textSignature?: string;
}

function buildReply(body: Json, model: string, d: Directives, lastUserText: string): Reply {
  const gc = body.generationConfig ?? {};
  const thinking = thinkingActive(model, gc);
  const contents: Json[] = body.contents;
  const last = contents[contents.length - 1];
  const responses = last.role !== 'model' ? last.parts.filter((p: Json) => p.functionResponse) : [];
  const reply: Reply = { calls: [], finishReason: 'STOP', thinking };
  const tc = gc.thinkingConfig;
  if (thinking && tc?.includeThoughts === true) {
    reply.thought = `Thinking about: ${responses.length > 0 ? 'the tool result' : stripDirectives(lastUserText)}`;
  }

  const declarations: Json[] = (body.tools ?? []).flatMap((t: Json) => t.functionDeclarations ?? []);
  const fcc = body.toolConfig?.functionCallingConfig ?? {};
  const mode = fcc.mode ?? 'AUTO';
  const scripted = dueScriptedCall(
    contents.map((c: Json) =>
      c.role === 'model'
        ? { calledTools: (c.parts ?? []).some((p: Json) => p.functionCall) }
        : {
            userText: (c.parts ?? [])
              .filter((p: Json) => typeof p.text === 'string')
              .map((p: Json) => p.text)
              .join('\n'),
          },
    ),
  );
  if (scripted && mode !== 'NONE' && declarations.some((x) => x.name === scripted.name)) {
    reply.calls.push({ name: scripted.name, args: scripted.args });
    return reply;
  }
  if (declarations.length > 0 && responses.length === 0 && mode !== 'NONE' && !d.noTool) {
    const allowed: string[] | undefined = fcc.allowedFunctionNames;
    const decl = (allowed && declarations.find((x) => allowed.includes(x.name))) || declarations[0];
    const args = argsFromSchema(lowerTypes(decl.parametersJsonSchema ?? decl.parameters));
    reply.calls.push({ name: decl.name, args });
    if (d.parallel) reply.calls.push({ name: decl.name, args });
    return reply;
  }

  let text =
    responses.length > 0
      ? `Tool result received: ${responses.map((p: Json) => JSON.stringify(p.functionResponse.response ?? {})).join(' ')}`
      : replyText('Gemini emulator', lastUserText, d);
  if (gc.responseMimeType === 'application/json') {
    const schema = gc.responseJsonSchema ?? gc.responseSchema;
    text = JSON.stringify(schema ? argsFromSchema(lowerTypes(schema)) : { answer: text });
  }
  if (typeof gc.maxOutputTokens === 'number' && countTokens(text) > gc.maxOutputTokens) {
    text = text.slice(0, gc.maxOutputTokens * 4);
    reply.finishReason = 'MAX_TOKENS';
  }
  reply.text = text;
  if (thinking) reply.textSignature = sign(text);
  const searches = (body.tools ?? []).some((t: Json) => t.googleSearch !== undefined || t.google_search !== undefined);
  if (searches && responses.length === 0 && !d.noTool) reply.grounding = grounding(stripDirectives(lastUserText), text);
  return reply;
}

/** One search about the question, grounding the whole answer (https://ai.google.dev/gemini-api/docs/google-search). */
function grounding(query: string, text: string): Json {
  return {
    searchEntryPoint: { renderedContent: `<div class="container">${query.slice(0, 40)}</div>` },
    groundingChunks: [{ web: { uri: 'https://vertexaisearch.cloud.google.com/grounding-api-redirect/emulated', title: 'example.com' } }],
    groundingSupports: [{ segment: { startIndex: 0, endIndex: Buffer.byteLength(text), text }, groundingChunkIndices: [0] }],
    webSearchQueries: [query],
  };
}

function replyParts(r: Reply): Json[] {
  const parts: Json[] = [];
  if (r.thought !== undefined) parts.push({ text: r.thought, thought: true });
  if (r.text !== undefined) parts.push({ text: r.text, ...(r.textSignature ? { thoughtSignature: r.textSignature } : {}) });
  r.calls.forEach((c, i) => {
    const part: Json = { functionCall: { name: c.name, args: c.args } };
    if (r.thinking && i === 0) part.thoughtSignature = sign(callSigningText(c));
    parts.push(part);
  });
  return parts;
}

interface PromptCount {
  total: number;
  image: number;
  cached: number;
}

/** A deterministic unit vector for a text. */
function embedding(text: string, dims: number): number[] {
  let seed = createHash('sha256').update(text).digest().readUInt32LE(0);
  const values: number[] = [];
  for (let i = 0; i < dims; i++) {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    values.push(((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5);
  }
  const norm = Math.sqrt(values.reduce((s, v) => s + v * v, 0)) || 1;
  return values.map((v) => v / norm);
}

function embedOne(req: Json, where: string): { values: number[] } {
  const parts = req?.content?.parts;
  if (!Array.isArray(parts) || parts.length === 0) throw invalid(`* ${where}.content.parts: contents.parts must not be empty.\n`);
  const dims = typeof req.outputDimensionality === 'number' && req.outputDimensionality > 0 ? req.outputDimensionality : 3072;
  return { values: embedding(textOf(parts), dims) };
}

function modelResource(m: ModelInfo): Json {
  return {
    name: `models/${m.name}`,
    version: m.embedding ? '001' : m.name.replace(/^gemini-/, ''),
    displayName: m.displayName,
    description: m.embedding ? 'Obtain a distributed representation of a text.' : `${m.displayName}, as emulated.`,
    inputTokenLimit: m.inputTokenLimit,
    outputTokenLimit: m.outputTokenLimit,
    supportedGenerationMethods: m.supportedGenerationMethods,
    ...(m.embedding ? {} : { temperature: 1, topP: 0.95, topK: 64, maxTemperature: 2, thinking: true }),
  };
}

export async function startGeminiEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const apiKey = opts.apiKey ?? 'test-key';
  let served = 0;
  /** Prompt-prefix hash → token count, for implicit caching. */
  const prefixes = new Map<string, number>();

  const countPrompt = (body: Json, remember: boolean): PromptCount => {
    const head = contentTokens(body.systemInstruction);
    let total = head.text + head.image + (body.tools ? countTokens(JSON.stringify(body.tools)) : 0);
    let image = head.image;
    const keys: Array<[string, number]> = [];
    const contents: Json[] = body.contents ?? [];
    contents.forEach((c, i) => {
      const t = contentTokens(c);
      total += t.text + t.image;
      image += t.image;
      keys.push([shortHash(JSON.stringify([body.systemInstruction ?? null, body.tools ?? null, contents.slice(0, i + 1)])), total]);
    });
    let cached = 0;
    for (let i = keys.length - 2; i >= 0; i--) {
      const seen = prefixes.get(keys[i][0]);
      if (seen !== undefined && seen >= CACHE_MIN_TOKENS) {
        cached = seen;
        break;
      }
    }
    if (remember) for (const [k, v] of keys) prefixes.set(k, v);
    return { total, image, cached };
  };

  const usageOf = (prompt: PromptCount, r: Reply | undefined): Json => {
    const candidates = r ? countTokens(r.text ?? '') + (r.calls.length > 0 ? countTokens(JSON.stringify(r.calls)) : 0) : 0;
    const thoughts = r?.thinking ? THOUGHT_TOKENS : 0;
    const details = [{ modality: 'TEXT', tokenCount: prompt.total - prompt.image }];
    if (prompt.image > 0) details.push({ modality: 'IMAGE', tokenCount: prompt.image });
    return {
      promptTokenCount: prompt.total,
      ...(candidates > 0 ? { candidatesTokenCount: candidates } : {}),
      totalTokenCount: prompt.total + candidates + thoughts,
      ...(prompt.cached > 0
        ? { cachedContentTokenCount: prompt.cached, cacheTokensDetails: [{ modality: 'TEXT', tokenCount: prompt.cached }] }
        : {}),
      promptTokensDetails: details,
      ...(thoughts > 0 ? { thoughtsTokenCount: thoughts } : {}),
    };
  };

  const generate = async (res: ServerResponse, body: Json, model: string, stream: 'sse' | 'array' | false): Promise<void> => {
    validateContents(body, model);
    const contents: Json[] = body.contents;
    const lastUser = [...contents].reverse().find((c) => c.role !== 'model');
    const lastUserText = textOf(lastUser?.parts);
    const d = parseDirectives(lastUserText);
    if (d.slowMs) await sleep(d.slowMs);
    if (d.error) return sendDirectiveError(res, d.error);

    const reply = buildReply(body, model, d, lastUserText);
    const prompt = countPrompt(body, true);
    const usage = usageOf(prompt, reply);
    const responseId = shortHash(`${++served}:${JSON.stringify(body)}`).slice(0, 22);
    const envelope = { modelVersion: model, responseId };

    if (!stream) {
      const n = body.generationConfig?.candidateCount ?? 1;
      const candidates = Array.from({ length: n }, (_, index) => ({
        content: { parts: replyParts(reply), role: 'model' },
        finishReason: reply.finishReason,
        ...(reply.grounding ? { groundingMetadata: reply.grounding } : {}),
        index,
      }));
      return sendJson(res, 200, { candidates, usageMetadata: usage, ...envelope });
    }

    // Streamed: thoughts and text a few characters per frame, function calls whole in one frame.
    const frameParts: Json[][] = [];
    if (reply.thought !== undefined) for (const c of chunkText(reply.thought, 16)) frameParts.push([{ text: c, thought: true }]);
    if (reply.text !== undefined) {
      const chunks = chunkText(reply.text);
      chunks.forEach((c, i) => {
        const last = i === chunks.length - 1 && reply.textSignature;
        frameParts.push([{ text: c, ...(last ? { thoughtSignature: reply.textSignature } : {}) }]);
      });
    }
    if (reply.calls.length > 0) {
      frameParts.push(replyParts({ ...reply, thought: undefined, text: undefined }));
      // As recorded: the calls come without a finishReason, which follows alone on an empty text part.
      frameParts.push([{ text: '' }]);
    }
    // Every frame carries the usage so far (the output counted up to it), as the real stream does.
    let textSoFar = '';
    let callsSoFar = 0;
    const responses = frameParts.map((parts, i) => {
      const isLast = i === frameParts.length - 1;
      for (const p of parts) {
        if (p.functionCall) callsSoFar++;
        else if (typeof p.text === 'string' && p.thought !== true) textSoFar += p.text;
      }
      const soFar = { ...reply, text: textSoFar === '' ? undefined : textSoFar, calls: reply.calls.slice(0, callsSoFar) };
      return {
        candidates: [
          {
            content: { parts, role: 'model' },
            ...(isLast ? { finishReason: reply.finishReason } : {}),
            // The grounding comes whole, with the last chunk.
            ...(isLast && reply.grounding ? { groundingMetadata: reply.grounding } : {}),
            index: 0,
          },
        ],
        usageMetadata: isLast ? usage : usageOf(prompt, soFar),
        ...envelope,
      };
    });
    if (stream === 'sse') {
      return writeFrames(
        res,
        responses.map((r) => `data: ${JSON.stringify(r)}\r\n\r\n`),
        d,
      );
    }
    // Without alt=sse Google streams one JSON array, element by element.
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    for (const [i, r] of responses.entries()) {
      if (d.dieAfter !== undefined && i >= d.dieAfter) return void res.destroy();
      res.write(`${i === 0 ? '[' : ',\r\n'}${JSON.stringify(r, null, 2)}`);
    }
    res.end(']');
  };

  const handle = async (res: ServerResponse, method: string, body: Json, url: URL, key: string | null): Promise<void> => {
    const path = decodeURIComponent(url.pathname);
    const m = /^\/(v1beta|v1)\/models(?:\/([^/:]+))?(?::([A-Za-z]+))?$/.exec(path);
    if (!m) throw new ApiFailure(404, `Method not found: ${path}`);
    if (!key) {
      throw new ApiFailure(
        403,
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
    }
    if (key !== apiKey) {
      const message = 'API key not valid. Please pass a valid API key.';
      throw new ApiFailure(400, message, [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'API_KEY_INVALID',
          domain: 'googleapis.com',
          metadata: { service: 'generativelanguage.googleapis.com' },
        },
        { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message },
      ]);
    }
    const [, , model, action] = m;
    if (!model) {
      if (method !== 'GET') throw new ApiFailure(404, `Method not found: ${method} ${path}`);
      const pageSize = Math.max(1, Number(url.searchParams.get('pageSize') ?? 50) || 50);
      const offset = Number(url.searchParams.get('pageToken') ?? 0) || 0;
      const page = MODELS.slice(offset, offset + pageSize).map(modelResource);
      const next = offset + pageSize < MODELS.length ? { nextPageToken: String(offset + pageSize) } : {};
      return sendJson(res, 200, { models: page, ...next });
    }
    const info = MODELS.find((x) => x.name === model);
    const isEmbedding = info?.embedding ?? /embedding/.test(model);
    if (!action) {
      if (!info) throw new ApiFailure(404, `models/${model} is not found for API version v1beta.`);
      return sendJson(res, 200, modelResource(info));
    }
    if (method !== 'POST') throw new ApiFailure(404, `Method not found: ${method} ${path}`);
    if (model === 'does-not-exist') throw notFound(model, action);
    if (!body || typeof body !== 'object') throw invalid('Invalid JSON payload received. Expected an object.');

    switch (action) {
      case 'generateContent':
      case 'streamGenerateContent': {
        if (isEmbedding) throw notFound(model, action);
        const stream = action === 'generateContent' ? false : url.searchParams.get('alt') === 'sse' ? 'sse' : 'array';
        return generate(res, body, model, stream);
      }
      case 'countTokens': {
        const req = body.generateContentRequest ?? body;
        if (!Array.isArray(req.contents) || req.contents.length === 0)
          throw invalid('* CountTokensRequest.contents: contents is not specified\n');
        const prompt = countPrompt(req, false);
        const details = [{ modality: 'TEXT', tokenCount: prompt.total - prompt.image }];
        if (prompt.image > 0) details.push({ modality: 'IMAGE', tokenCount: prompt.image });
        return sendJson(res, 200, { totalTokens: prompt.total, promptTokensDetails: details });
      }
      case 'embedContent':
      case 'batchEmbedContents': {
        if (!isEmbedding) throw notFound(model, action);
        const requests: Json[] = action === 'embedContent' ? [body] : body.requests;
        if (!Array.isArray(requests) || requests.length === 0)
          throw invalid('* BatchEmbedContentsRequest.requests: requests is not specified\n');
        const d = parseDirectives(textOf(requests[0]?.content?.parts));
        if (d.slowMs) await sleep(d.slowMs);
        if (d.error) return sendDirectiveError(res, d.error);
        if (action === 'embedContent') return sendJson(res, 200, { embedding: embedOne(body, 'EmbedContentRequest') });
        const embeddings = requests.map((r, i) => {
          const where = `BatchEmbedContentsRequest.requests[${i}]`;
          if (typeof r.model !== 'string' || !r.model.startsWith('models/'))
            throw invalid(`* ${where}.model: unexpected model name format\n`);
          if (r.model !== `models/${model}`) {
            throw invalid(`Model "${r.model}" in ${where} does not match the model in the request URL ("models/${model}").`);
          }
          return embedOne(r, where);
        });
        return sendJson(res, 200, { embeddings });
      }
      default:
        throw new ApiFailure(404, `Method not found: ${action}`);
    }
  };

  return startEmulator(
    async (req, res, body, url) => {
      const header = req.headers['x-goog-api-key'];
      const key = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('key');
      try {
        await handle(res, req.method ?? 'GET', body, url, key);
      } catch (err) {
        if (!(err instanceof ApiFailure)) throw err;
        sendError(res, err.code, err.message, err.details);
      }
    },
    { ...opts, apiKey },
  );
}

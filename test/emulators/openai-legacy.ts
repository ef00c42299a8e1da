/**
 * The OpenAI emulator's legacy Completions (`text_completion`) and Embeddings routes.
 */
import { chunkText, countTokens, replyText } from './common.ts';
import type { Directives } from './common.ts';
import { FINGERPRINT, modelNotFound, nowSeconds, oaiError, randomId, unknownField } from './openai-shared.ts';
import type { Frames, Reply } from './openai-shared.ts';

// any: emulators read arbitrary client JSON; tests narrow what they assert on.
type Body = any;

/** Legacy Completions' default `max_tokens`: OpenAI stops at 16 tokens unless told otherwise. */
const LEGACY_DEFAULT_MAX_TOKENS = 16;
const DEFAULT_DIMENSIONS = 8;

/** The prompts of a legacy request, as text (token arrays are rendered as their numbers). */
export function legacyPrompts(body: Body): string[] {
  const p = body?.prompt;
  if (typeof p === 'string') return [p];
  if (Array.isArray(p)) {
    if (p.every((x) => typeof x === 'number')) return [p.join(' ')];
    return p.map((x) => (typeof x === 'string' ? x : Array.isArray(x) ? x.join(' ') : ''));
  }
  return [];
}

/** The legacy Completions request body as OpenAI documents it (openai-node 6.x CompletionCreateParams). */
const LEGACY_FIELDS = new Set([
  'model',
  'prompt',
  'best_of',
  'echo',
  'frequency_penalty',
  'logit_bias',
  'logprobs',
  'max_tokens',
  'n',
  'presence_penalty',
  'seed',
  'stop',
  'stream',
  'stream_options',
  'suffix',
  'temperature',
  'top_p',
  'user',
]);

export function validateLegacy(body: Body): Reply | null {
  const unknown = unknownField(body, LEGACY_FIELDS);
  if (unknown) return unknown;
  if (typeof body.model !== 'string' || body.model === '') return oaiError(400, 'you must provide a model parameter');
  if (body.model === 'does-not-exist') return modelNotFound(body.model);
  // OpenAI refuses chat models on the legacy endpoint.
  if (/^(gpt-|chatgpt|o\d)/.test(body.model) && !body.model.includes('instruct')) {
    return oaiError(
      404,
      'This is a chat model and not supported in the v1/completions endpoint. Did you mean to use v1/chat/completions?',
      'model',
    );
  }
  if (body.prompt === undefined || body.prompt === null) {
    return oaiError(400, "Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter');
  }
  if (body.stream_options !== undefined && body.stream_options !== null && body.stream !== true) {
    return oaiError(400, "The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
  }
  return null;
}

export function respondLegacy(body: Body, d: Directives, name: string): Reply | Frames {
  const prompts = legacyPrompts(body);
  const max = typeof body.max_tokens === 'number' ? body.max_tokens : LEGACY_DEFAULT_MAX_TOKENS;
  const n: number = Number.isInteger(body.n) && body.n > 0 ? body.n : 1;
  let promptTokens = 0;
  let completionTokens = 0;
  const choices: { text: string; index: number; logprobs: null; finish_reason: string }[] = [];
  for (const prompt of prompts) {
    promptTokens += countTokens(prompt);
    for (let k = 0; k < n; k++) {
      let text = replyText(name, prompt, d);
      let finish = 'stop';
      if (countTokens(text) > max) {
        text = text.slice(0, max * 4);
        finish = 'length';
      }
      completionTokens += countTokens(text);
      choices.push({ text: body.echo === true ? prompt + text : text, index: choices.length, logprobs: null, finish_reason: finish });
    }
  }
  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  const id = 'cmpl-' + randomId(29);
  const created = nowSeconds();
  if (body.stream !== true) {
    return {
      status: 200,
      body: { id, object: 'text_completion', created, model: body.model, system_fingerprint: FINGERPRINT, choices, usage },
    };
  }
  const includeUsage = body.stream_options?.include_usage === true;
  const head = `data: {"id":"${id}","object":"text_completion","created":${created},"choices":[`;
  const tail = `],"model":${JSON.stringify(body.model)},"system_fingerprint":"${FINGERPRINT}"${includeUsage ? ',"usage":null' : ''}}\n\n`;
  const frames: string[] = [];
  for (const c of choices) {
    for (const piece of chunkText(c.text)) {
      frames.push(head + JSON.stringify({ text: piece, index: c.index, logprobs: null, finish_reason: null }) + tail);
    }
    frames.push(head + JSON.stringify({ text: '', index: c.index, logprobs: null, finish_reason: c.finish_reason }) + tail);
  }
  if (includeUsage) {
    frames.push(
      `data: {"id":"${id}","object":"text_completion","created":${created},"choices":[],"model":${JSON.stringify(body.model)},` +
        `"system_fingerprint":"${FINGERPRINT}","usage":${JSON.stringify(usage)}}\n\n`,
    );
  }
  frames.push('data: [DONE]\n\n');
  return { frames };
}

/** Embedding inputs, each as the text its vector is derived from and its token count. */
function embeddingInputs(input: unknown): { key: string; tokens: number }[] | null {
  const one = (x: unknown): { key: string; tokens: number } | null => {
    if (typeof x === 'string') return x === '' ? null : { key: x, tokens: countTokens(x) };
    if (Array.isArray(x) && x.length > 0 && x.every((t) => typeof t === 'number')) return { key: x.join(','), tokens: x.length };
    return null;
  };
  if (typeof input === 'string') {
    const r = one(input);
    return r ? [r] : null;
  }
  if (!Array.isArray(input) || input.length === 0) return null;
  if (input.every((t) => typeof t === 'number')) return [one(input)!];
  const out = input.map(one);
  return out.every((r) => r !== null) ? (out as { key: string; tokens: number }[]) : null;
}

export function embeddingText(body: Body): string {
  const input = body?.input;
  if (typeof input === 'string') return input;
  return Array.isArray(input) ? input.filter((x: unknown) => typeof x === 'string').join('\n') : '';
}

export function validateEmbeddings(body: Body): Reply | null {
  if (typeof body.model !== 'string' || body.model === '') return oaiError(400, 'you must provide a model parameter');
  if (body.input === undefined || body.input === null) {
    return oaiError(400, "Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  }
  if (embeddingInputs(body.input) === null) {
    return oaiError(400, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.");
  }
  if (body.model === 'does-not-exist') return modelNotFound(body.model);
  const format = body.encoding_format;
  if (format !== undefined && format !== 'float' && format !== 'base64') {
    return oaiError(
      400,
      `Invalid value: '${String(format)}'. Supported values are: 'float' and 'base64'.`,
      'encoding_format',
      'invalid_value',
    );
  }
  if (body.dimensions !== undefined) {
    if (body.model === 'text-embedding-ada-002') return oaiError(400, 'This model does not support specifying dimensions.', 'dimensions');
    if (!Number.isInteger(body.dimensions) || body.dimensions < 1) {
      return oaiError(
        400,
        `Invalid 'dimensions': integer below minimum value. Expected a value >= 1, but got ${String(body.dimensions)} instead.`,
        'dimensions',
        'integer_below_min_value',
      );
    }
    // OpenAI's bound is the model's own width: 3072 for text-embedding-3-large, 1536 for the others.
    const max = String(body.model).includes('large') ? 3072 : 1536;
    if (body.dimensions > max) {
      return oaiError(
        400,
        `Invalid 'dimensions': integer above maximum value. Expected a value <= ${max}, but got ${String(body.dimensions)} instead.`,
        'dimensions',
        'integer_above_max_value',
      );
    }
  }
  return null;
}

/** A deterministic unit vector for a text: FNV-1a seeds an xorshift generator. */
export function embeddingVector(key: string, dimensions: number): Float32Array {
  let seed = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) seed = Math.imul(seed ^ key.charCodeAt(i), 0x01000193);
  let x = seed >>> 0 || 1;
  const v = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const f = (x >>> 0) / 4294967296 - 0.5;
    v[i] = f;
    norm += f * f;
  }
  const scale = 1 / (Math.sqrt(norm) || 1);
  for (let i = 0; i < dimensions; i++) v[i] *= scale;
  return v;
}

export function respondEmbeddings(body: Body): Reply {
  const inputs = embeddingInputs(body.input)!;
  const dimensions: number = body.dimensions ?? DEFAULT_DIMENSIONS;
  const base64 = body.encoding_format === 'base64';
  let tokens = 0;
  const data = inputs.map((input, index) => {
    tokens += input.tokens;
    const v = embeddingVector(input.key, dimensions);
    const embedding = base64 ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : Array.from(v);
    return { object: 'embedding', index, embedding };
  });
  return { status: 200, body: { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } } };
}

/**
 * An emulator of Anthropic's Messages API (`/v1/messages`, `/v1/messages/count_tokens`,
 * `/v1/models`), faithful to the wire format, the validation rules and the streaming event
 * sequence of the real service, with deterministic behaviour scripted by the directives of
 * common.ts plus these Anthropic-specific ones (in the last user message):
 *
 *   [[redacted]]    with thinking enabled, also return a `redacted_thinking` block
 *   [[overloaded]]  (streams) send a few events, then `event: error` with overloaded_error
 *   [[refuse]]      stop with `stop_reason: "refusal"` and no content
 *
 * `thinking.display: "omitted"` returns thinking blocks with empty text and a signature that
 * verifies on the next turn, as the real API does.
 *
 * Request fields are a closed list (anthropic-fields.ts): an unknown one is a 400, as on the real API.
 * Responses have the shape of responses recorded from the real API (test/fixtures/recorded/anthropic,
 * checked by recorded-shape.test.ts): `stop_details`, `inference_geo`, a tool_use block's `caller`, and
 * a final `message_delta` whose usage repeats the input counts.
 *
 * Deliberate simplifications: consecutive same-role turns are combined (as the real API does);
 * any model id starting with `claude` is accepted; prompt caching has no minimum length unless
 * `minCacheableTokens` is given; token counts use common.ts's 4-characters-per-token rule.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  argsFromSchema,
  chunkText,
  countTokens,
  dueScriptedCall,
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
import { unknownFieldError } from './anthropic-fields.ts';

export interface AnthropicEmulatorOptions extends EmulatorOptions {
  /** Prefixes shorter than this are not cached (the real API's minimum is 1024-4096 by model). */
  minCacheableTokens?: number;
}

export const ANTHROPIC_MODELS = [
  {
    id: 'claude-sonnet-4-5-20250929',
    alias: 'claude-sonnet-4-5',
    display_name: 'Claude Sonnet 4.5',
    created_at: '2025-09-29T00:00:00Z',
    maxOutput: 64_000,
  },
  {
    id: 'claude-haiku-4-5-20251001',
    alias: 'claude-haiku-4-5',
    display_name: 'Claude Haiku 4.5',
    created_at: '2025-10-15T00:00:00Z',
    maxOutput: 64_000,
  },
  {
    id: 'claude-opus-4-1-20250805',
    alias: 'claude-opus-4-1',
    display_name: 'Claude Opus 4.1',
    created_at: '2025-08-05T00:00:00Z',
    maxOutput: 32_000,
  },
];

const EMULATOR_NAME = 'Anthropic emulator';
const DOCS_THINKING = 'https://docs.claude.com/en/docs/build-with-claude/extended-thinking';
const MAX_CACHE_ENTRIES = 2_000;
const MAX_REDACTED = 2_000;

// any: emulators read arbitrary client JSON; tests narrow what they assert on.
type Json = any;

class ApiError extends Error {
  readonly status: number;
  readonly errorType: string;
  constructor(status: number, errorType: string, message: string) {
    super(message);
    this.status = status;
    this.errorType = errorType;
  }
}

const invalid = (message: string): ApiError => new ApiError(400, 'invalid_request_error', message);

const ERROR_FOR_STATUS: Record<number, { type: string; message: string }> = {
  400: { type: 'invalid_request_error', message: 'Invalid request' },
  401: { type: 'authentication_error', message: 'invalid x-api-key' },
  402: { type: 'billing_error', message: 'Your credit balance is too low to access the Anthropic API.' },
  403: { type: 'permission_error', message: 'Your API key does not have permission to use the specified resource.' },
  404: { type: 'not_found_error', message: 'Not found' },
  413: { type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' },
  429: {
    type: 'rate_limit_error',
    message:
      'This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.',
  },
  500: { type: 'api_error', message: 'Internal server error' },
  504: { type: 'timeout_error', message: 'Request timed out' },
  529: { type: 'overloaded_error', message: 'Overloaded' },
};

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomId(prefix: string, length = 22): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (const b of bytes) out += BASE62[b % 62];
  return out;
}

function errorBody(type: string, message: string, requestId: string): string {
  return JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId });
}

function sendError(res: ServerResponse, status: number, type: string, message: string, extra: Record<string, string> = {}): void {
  const requestId = randomId('req_01');
  const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': requestId, ...extra };
  if (status === 429 || status >= 500) headers['x-should-retry'] = 'true';
  res.writeHead(status, headers);
  res.end(errorBody(type, message, requestId));
}

function rateLimitHeaders(inputTokens: number, outputTokens: number): Record<string, string> {
  const reset = new Date(Math.ceil(Date.now() / 1000) * 1000 + 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    'anthropic-ratelimit-requests-limit': '4000',
    'anthropic-ratelimit-requests-remaining': '3999',
    'anthropic-ratelimit-requests-reset': reset,
    'anthropic-ratelimit-tokens-limit': '2400000',
    'anthropic-ratelimit-tokens-remaining': String(2_400_000 - inputTokens - outputTokens),
    'anthropic-ratelimit-tokens-reset': reset,
    'anthropic-ratelimit-input-tokens-limit': '2000000',
    'anthropic-ratelimit-input-tokens-remaining': String(2_000_000 - inputTokens),
    'anthropic-ratelimit-input-tokens-reset': reset,
    'anthropic-ratelimit-output-tokens-limit': '400000',
    'anthropic-ratelimit-output-tokens-remaining': String(400_000 - outputTokens),
    'anthropic-ratelimit-output-tokens-reset': reset,
  };
}

const isObj = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A message's content as blocks (a string is one text block). */
function blocksOf(content: unknown): Json[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content : [];
}

function toolResultText(block: Json): string {
  if (typeof block.content === 'string') return block.content;
  if (Array.isArray(block.content)) {
    return block.content
      .filter((b: Json) => b?.type === 'text')
      .map((b: Json) => String(b.text))
      .join('');
  }
  return '';
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

function validateCacheControl(cc: unknown, path: string): void {
  if (cc === undefined || cc === null) return;
  if (!isObj(cc) || cc.type !== 'ephemeral') throw invalid(`${path}.cache_control.type: Input should be 'ephemeral'`);
  if (cc.ttl !== undefined && cc.ttl !== '5m' && cc.ttl !== '1h') {
    throw invalid(`${path}.cache_control.ttl: Input should be '5m' or '1h'`);
  }
}

function validateTextBlock(b: Json, path: string): void {
  if (typeof b.text !== 'string') throw invalid(`${path}.text: Field required`);
  if (b.text.length === 0) throw invalid('messages: text content blocks must be non-empty');
}

function validateImageBlock(b: Json, path: string): void {
  const src = b.source;
  if (!isObj(src)) throw invalid(`${path}.source: Field required`);
  if (src.type === 'base64') {
    if (!['image/jpeg', 'image/png', 'image/gif', 'image/webp'].includes(src.media_type)) {
      throw invalid(`${path}.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`);
    }
    if (typeof src.data !== 'string' || src.data.length === 0) throw invalid(`${path}.source.base64.data: Field required`);
  } else if (src.type === 'url') {
    if (typeof src.url !== 'string') throw invalid(`${path}.source.url.url: Field required`);
  } else
    throw invalid(
      `${path}.source: Input tag '${String(src.type)}' found using 'type' does not match any of the expected tags: 'base64', 'url'`,
    );
}

function validateDocumentBlock(b: Json, path: string): void {
  const src = b.source;
  if (!isObj(src)) throw invalid(`${path}.source: Field required`);
  if (src.type === 'base64') {
    if (src.media_type !== 'application/pdf') throw invalid(`${path}.source.base64.media_type: Input should be 'application/pdf'`);
    if (typeof src.data !== 'string') throw invalid(`${path}.source.base64.data: Field required`);
  } else if (src.type === 'text') {
    if (src.media_type !== 'text/plain') throw invalid(`${path}.source.text.media_type: Input should be 'text/plain'`);
    if (typeof src.data !== 'string') throw invalid(`${path}.source.text.data: Field required`);
  } else if (src.type === 'url') {
    if (typeof src.url !== 'string') throw invalid(`${path}.source.url.url: Field required`);
  } else if (src.type !== 'content') {
    throw invalid(
      `${path}.source: Input tag '${String(src.type)}' found using 'type' does not match any of the expected tags: 'base64', 'content', 'text', 'url'`,
    );
  }
}

const USER_BLOCKS = ['text', 'image', 'document', 'tool_result'];
const ASSISTANT_BLOCKS = ['text', 'tool_use', 'thinking', 'redacted_thinking'];

function validateBlock(b: Json, role: string, path: string): void {
  if (!isObj(b) || typeof b.type !== 'string') throw invalid(`${path}.type: Field required`);
  const allowed = role === 'user' ? USER_BLOCKS : ASSISTANT_BLOCKS;
  if (!allowed.includes(b.type)) {
    throw invalid(
      `${path}: Input tag '${b.type}' found using 'type' does not match any of the expected tags: ${allowed.map((t) => `'${t}'`).join(', ')}`,
    );
  }
  if (b.type === 'thinking' || b.type === 'redacted_thinking') {
    if (b.cache_control !== undefined) throw invalid(`${path}: cache_control cannot be set for ${b.type} blocks`);
  } else validateCacheControl(b.cache_control, path);
  switch (b.type) {
    case 'text':
      return validateTextBlock(b, path);
    case 'image':
      return validateImageBlock(b, path);
    case 'document':
      return validateDocumentBlock(b, path);
    case 'tool_use':
      if (typeof b.id !== 'string') throw invalid(`${path}.id: Field required`);
      if (typeof b.name !== 'string') throw invalid(`${path}.name: Field required`);
      if (!isObj(b.input)) throw invalid(`${path}.input: Input should be a valid dictionary`);
      return;
    case 'tool_result':
      if (typeof b.tool_use_id !== 'string') throw invalid(`${path}.tool_use_id: Field required`);
      if (b.content !== undefined && typeof b.content !== 'string') {
        if (!Array.isArray(b.content)) throw invalid(`${path}.content: Input should be a valid list`);
        b.content.forEach((inner: Json, i: number) => {
          if (!isObj(inner) || (inner.type !== 'text' && inner.type !== 'image' && inner.type !== 'document')) {
            throw invalid(`${path}.content.${i}.type: Input should be 'text', 'image' or 'document'`);
          }
          validateBlock(inner, 'user', `${path}.content.${i}`);
        });
      }
      return;
    case 'thinking':
      if (typeof b.thinking !== 'string') throw invalid(`${path}.thinking.thinking: Field required`);
      if (typeof b.signature !== 'string') throw invalid(`${path}.thinking.signature: Field required`);
      return;
    case 'redacted_thinking':
      if (typeof b.data !== 'string') throw invalid(`${path}.redacted_thinking.data: Field required`);
      return;
  }
}

interface Turn {
  role: 'user' | 'assistant';
  /** Index of the first message of this turn in the request. */
  index: number;
  blocks: Json[];
}

interface EmulatorState {
  cache: Map<string, number>;
  redacted: Map<string, true>;
  /** Signatures of thinking given with `display: "omitted"` (empty text), verifiable on the next turn. */
  omitted: Map<string, true>;
  minCacheable: number;
}

function validateRequest(body: Json, state: EmulatorState, forCount: boolean): Turn[] {
  if (!isObj(body)) throw invalid('There was an error parsing the body of your request.');
  if (typeof body.model !== 'string') throw invalid('model: Field required');
  if (!body.model.startsWith('claude')) throw new ApiError(404, 'not_found_error', `model: ${body.model}`);
  if (!forCount) {
    if (body.max_tokens === undefined) throw invalid('max_tokens: Field required');
    if (!Number.isInteger(body.max_tokens)) throw invalid('max_tokens: Input should be a valid integer');
    if (body.max_tokens < 1) throw invalid('max_tokens: Input should be greater than or equal to 1');
    const known = ANTHROPIC_MODELS.find((m) => body.model === m.id || body.model === m.alias);
    if (known && body.max_tokens > known.maxOutput) {
      throw invalid(
        `max_tokens: ${body.max_tokens} > ${known.maxOutput}, which is the maximum allowed number of output tokens for ${known.id}`,
      );
    }
  }
  if (body.messages === undefined) throw invalid('messages: Field required');
  if (!Array.isArray(body.messages)) throw invalid('messages: Input should be a valid list');
  if (body.messages.length === 0) throw invalid('messages: at least one message is required');

  // system
  if (body.system !== undefined && typeof body.system !== 'string') {
    if (!Array.isArray(body.system)) throw invalid('system: Input should be a valid string or list of text blocks');
    body.system.forEach((b: Json, i: number) => {
      if (!isObj(b) || b.type !== 'text') throw invalid(`system.${i}.type: Input should be 'text'`);
      validateTextBlock(b, `system.${i}`);
      validateCacheControl(b.cache_control, `system.${i}`);
    });
  }

  // messages, one by one
  const turns: Turn[] = [];
  body.messages.forEach((m: Json, i: number) => {
    if (!isObj(m)) throw invalid(`messages.${i}: Input should be a valid dictionary`);
    if (m.role === 'system') {
      throw invalid(
        'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.',
      );
    }
    if (m.role !== 'user' && m.role !== 'assistant') throw invalid(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) throw invalid(`messages.${i}.content: Field required`);
    const isFinalAssistant = i === body.messages.length - 1 && m.role === 'assistant';
    const empty = typeof m.content === 'string' ? m.content.length === 0 : m.content.length === 0;
    if (empty && !isFinalAssistant) {
      throw invalid('messages: all messages must have non-empty content except for the optional final assistant message');
    }
    const blocks = blocksOf(m.content);
    if (typeof m.content !== 'string') blocks.forEach((b, j) => validateBlock(b, m.role, `messages.${i}.content.${j}`));
    const prev = turns.at(-1);
    // Consecutive turns of the same role are combined into one, as the real API does.
    if (prev && prev.role === m.role) prev.blocks.push(...blocks);
    else turns.push({ role: m.role, index: i, blocks: [...blocks] });
  });
  if (body.messages[0].role !== 'user') throw invalid('messages: first message must use the "user" role');

  // tools and tool_choice
  const tools: Json[] = body.tools ?? [];
  if (!Array.isArray(tools)) throw invalid('tools: Input should be a valid list');
  tools.forEach((t: Json, i: number) => {
    if (!isObj(t)) throw invalid(`tools.${i}: Input should be a valid dictionary`);
    validateCacheControl(t.cache_control, `tools.${i}`);
    if (typeof t.type === 'string' && t.type.startsWith('web_search')) return validateWebSearchTool(t, i);
    if (t.type !== undefined && t.type !== 'custom') return; // other server tools: accepted, not emulated
    if (typeof t.name !== 'string' || !/^[a-zA-Z0-9_-]{1,128}$/.test(t.name)) {
      throw invalid(`tools.${i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`);
    }
    if (!isObj(t.input_schema)) throw invalid(`tools.${i}.custom.input_schema: Field required`);
    if (t.input_schema.type !== 'object') throw invalid(`tools.${i}.custom.input_schema.type: Input should be 'object'`);
  });
  const names = new Set(tools.map((t: Json) => t.name));
  if (names.size !== tools.length) throw invalid('tools: Tool names must be unique.');
  const choice = body.tool_choice;
  if (choice !== undefined) {
    if (!isObj(choice) || !['auto', 'any', 'tool', 'none'].includes(choice.type)) {
      throw invalid("tool_choice: Input tag found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'");
    }
    if (choice.type === 'tool' && !names.has(choice.name))
      throw invalid(`tool_choice.tool.name: Tool '${String(choice.name)}' not found in tools`);
  }
  const hasToolBlocks = turns.some((t) => t.blocks.some((b) => b.type === 'tool_use' || b.type === 'tool_result'));
  if (hasToolBlocks && tools.length === 0) {
    throw invalid('Requests which include `tool_use` or `tool_result` blocks must define tools.');
  }

  // thinking and sampling
  const thinking = body.thinking;
  let thinkingOn = false;
  if (thinking !== undefined) {
    if (!isObj(thinking) || !['enabled', 'disabled', 'adaptive'].includes(thinking.type)) {
      throw invalid("thinking: Input tag found using 'type' does not match any of the expected tags: 'adaptive', 'disabled', 'enabled'");
    }
    if (thinking.type === 'enabled') {
      if (thinking.budget_tokens === undefined) throw invalid('thinking.enabled.budget_tokens: Field required');
      if (!Number.isInteger(thinking.budget_tokens)) throw invalid('thinking.enabled.budget_tokens: Input should be a valid integer');
      if (thinking.budget_tokens < 1024) throw invalid('thinking.enabled.budget_tokens: Input should be greater than or equal to 1024');
      if (!forCount && thinking.budget_tokens >= body.max_tokens) {
        throw invalid(
          `\`max_tokens\` must be greater than \`thinking.budget_tokens\`. Please consult our documentation at ${DOCS_THINKING}#max-tokens-and-context-window-size`,
        );
      }
    }
    thinkingOn = thinking.type !== 'disabled';
  }
  if (body.temperature !== undefined) {
    if (typeof body.temperature !== 'number') throw invalid('temperature: Input should be a valid number');
    if (body.temperature < 0 || body.temperature > 1) throw invalid('temperature: Input should be less than or equal to 1');
  }
  if (body.top_p !== undefined && (typeof body.top_p !== 'number' || body.top_p < 0 || body.top_p > 1)) {
    throw invalid('top_p: Input should be less than or equal to 1');
  }
  if (body.top_k !== undefined && (!Number.isInteger(body.top_k) || body.top_k < 0)) {
    throw invalid('top_k: Input should be greater than or equal to 0');
  }
  if (body.temperature !== undefined && body.top_p !== undefined && /(4-5|4-1)/.test(body.model)) {
    throw invalid('`temperature` and `top_p` cannot both be specified for this model. Please use only one.');
  }
  if (thinkingOn) {
    if (body.temperature !== undefined && body.temperature !== 1) {
      throw invalid(
        `\`temperature\` may only be set to 1 when thinking is enabled. Please consult our documentation at ${DOCS_THINKING}#feature-compatibility`,
      );
    }
    if (body.top_k !== undefined)
      throw invalid(
        `\`top_k\` must be unset when thinking is enabled. Please consult our documentation at ${DOCS_THINKING}#feature-compatibility`,
      );
    if (body.top_p !== undefined && body.top_p < 0.95) {
      throw invalid(
        `\`top_p\` must be greater than or equal to 0.95 or unset when thinking is enabled. Please consult our documentation at ${DOCS_THINKING}#feature-compatibility`,
      );
    }
    if (choice && (choice.type === 'any' || choice.type === 'tool')) {
      throw invalid('Thinking may not be enabled when tool_choice forces tool use.');
    }
  }
  if (body.stop_sequences !== undefined) {
    if (!Array.isArray(body.stop_sequences) || body.stop_sequences.some((s: unknown) => typeof s !== 'string')) {
      throw invalid('stop_sequences: Input should be a valid list of strings');
    }
    if (body.stop_sequences.some((s: string) => s.trim() === ''))
      throw invalid('stop_sequences: each stop sequence must contain non-whitespace');
  }

  validateCacheBreakpoints(body);
  validateToolPairing(turns);
  validateThinkingHistory(body, state, thinkingOn);
  return turns;
}

function validateCacheBreakpoints(body: Json): void {
  const ttls: string[] = [];
  const see = (b: Json): void => {
    if (isObj(b) && isObj(b.cache_control)) ttls.push(b.cache_control.ttl ?? '5m');
  };
  (body.tools ?? []).forEach(see);
  if (Array.isArray(body.system)) body.system.forEach(see);
  for (const m of body.messages) for (const b of Array.isArray(m.content) ? m.content : []) see(b);
  if (isObj(body.cache_control)) ttls.push(body.cache_control.ttl ?? '5m');
  if (ttls.length > 4) throw invalid(`A maximum of 4 blocks with cache_control may be provided. Found ${ttls.length}.`);
  const first5m = ttls.indexOf('5m');
  if (first5m !== -1 && ttls.lastIndexOf('1h') > first5m) {
    throw invalid("a ttl='1h' cache_control block must not come after a ttl='5m' cache_control block.");
  }
}

function validateToolPairing(turns: Turn[]): void {
  turns.forEach((turn, t) => {
    if (turn.role === 'assistant') {
      const ids = turn.blocks.filter((b) => b.type === 'tool_use').map((b) => b.id as string);
      if (ids.length === 0) return;
      const next = turns[t + 1];
      if (!next) return; // a final assistant turn with tool_use is a prefill; the real API accepts it
      const answered = new Set(next.blocks.filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id));
      const missing = ids.filter((id) => !answered.has(id));
      if (missing.length > 0) {
        throw invalid(
          `messages.${turn.index}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
        );
      }
    } else {
      const results = turn.blocks.filter((b) => b.type === 'tool_result');
      if (results.length === 0) return;
      const prev = turns[t - 1];
      const offered = new Set((prev?.blocks ?? []).filter((b) => b.type === 'tool_use').map((b) => b.id));
      const unexpected = results.map((b) => b.tool_use_id as string).filter((id) => !offered.has(id));
      if (unexpected.length > 0) {
        throw invalid(
          `messages.${turn.index}.content.0: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${unexpected.join(', ')}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
        );
      }
    }
  });
}

function validateThinkingHistory(body: Json, state: EmulatorState, thinkingOn: boolean): void {
  const messages: Json[] = body.messages;
  messages.forEach((m, i) => {
    if (m.role !== 'assistant' || !Array.isArray(m.content)) return;
    m.content.forEach((b: Json, j: number) => {
      const omitted = b.type === 'thinking' && b.thinking === '' && state.omitted.has(b.signature);
      if (b.type === 'thinking' && !omitted && !verify(b.thinking, b.signature)) {
        throw invalid(`messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`);
      }
      if (b.type === 'redacted_thinking' && !state.redacted.has(b.data)) {
        throw invalid(`messages.${i}.content.${j}: Invalid \`data\` in \`redacted_thinking\` block`);
      }
    });
    const lastBlock = m.content.at(-1);
    if (i === messages.length - 1) {
      if (!thinkingOn && m.content.some((b: Json) => b.type === 'thinking' || b.type === 'redacted_thinking')) {
        throw invalid(
          `messages.${i}.content.0: When thinking is disabled, an \`assistant\` message in the final position cannot contain \`thinking\`. To use thinking blocks, enable \`thinking\` in your request.`,
        );
      }
      if (lastBlock && (lastBlock.type === 'thinking' || lastBlock.type === 'redacted_thinking')) {
        throw invalid(`messages.${i}: The final block in an assistant message cannot be \`thinking\`.`);
      }
    }
  });
  if (!thinkingOn) return;
  // A tool loop in progress: the assistant turn that made the calls must open with its thinking.
  const last = messages.at(-1);
  if (last.role !== 'user' || !blocksOf(last.content).some((b) => b.type === 'tool_result')) return;
  let a = messages.length - 2;
  while (a >= 0 && messages[a].role !== 'assistant') a--;
  if (a < 0) return;
  const first = blocksOf(messages[a].content)[0];
  if (!first || (first.type !== 'thinking' && first.type !== 'redacted_thinking')) {
    throw invalid(
      `messages.${a}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${first?.type ?? 'nothing'}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`. Please consult our documentation at ${DOCS_THINKING}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Token accounting and prompt caching
// ---------------------------------------------------------------------------------------------

interface InputUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

interface Segment {
  canonical: string;
  tokens: number;
  ttl?: string;
}

/** The prompt as cacheable segments in Anthropic's prefix order: tools, system, messages. */
function segmentsOf(body: Json): Segment[] {
  const out: Segment[] = [];
  const push = (b: Json, canonical: string): void => {
    const ttl = isObj(b) && isObj(b.cache_control) ? (b.cache_control.ttl ?? '5m') : undefined;
    out.push({ canonical, tokens: countTokens(canonical), ttl });
  };
  const strip = (b: Json): string => {
    if (!isObj(b)) return String(b);
    if (b.type === 'text') return b.text;
    const { cache_control: _cc, ...rest } = b;
    return JSON.stringify(rest);
  };
  for (const t of body.tools ?? []) push(t, strip(t));
  if (typeof body.system === 'string') push(undefined, body.system);
  else for (const b of body.system ?? []) push(b, strip(b));
  for (const m of body.messages) {
    for (const b of blocksOf(m.content)) push(b, `${m.role}:${strip(b)}`);
  }
  // Top-level (automatic) cache_control: a breakpoint on the last block of the prompt.
  if (isObj(body.cache_control) && out.length > 0) out[out.length - 1].ttl = body.cache_control.ttl ?? '5m';
  return out;
}

function inputUsage(body: Json, state: EmulatorState, touchCache: boolean): InputUsage {
  const segments = segmentsOf(body);
  const total = segments.reduce((n, s) => n + s.tokens, 0);
  const usage: InputUsage = {
    input_tokens: total,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
  };
  if (!touchCache) return usage;
  const keys: string[] = [];
  const prefixTokens: number[] = [];
  let key = `model:${String(body.model)}`;
  let tokens = 0;
  for (const s of segments) {
    key = shortHash(`${key}\u0000${s.canonical}`);
    tokens += s.tokens;
    keys.push(key);
    prefixTokens.push(tokens);
  }
  const breakpoints = segments.flatMap((s, i) => (s.ttl && prefixTokens[i] >= state.minCacheable ? [i] : []));
  if (breakpoints.length === 0) return usage;
  const now = Date.now();
  let hit = -1;
  for (const bp of breakpoints) {
    const expires = state.cache.get(keys[bp]);
    if (expires !== undefined && expires > now) hit = bp;
  }
  let read = 0;
  if (hit >= 0) {
    read = prefixTokens[hit];
    remember(state, keys[hit], now + ttlMs(segments[hit].ttl));
  }
  let written = hit >= 0 ? prefixTokens[hit] : 0;
  for (const bp of breakpoints) {
    if (bp <= hit) continue;
    const chunk = prefixTokens[bp] - written;
    written = prefixTokens[bp];
    if (segments[bp].ttl === '1h') usage.cache_creation.ephemeral_1h_input_tokens += chunk;
    else usage.cache_creation.ephemeral_5m_input_tokens += chunk;
    usage.cache_creation_input_tokens += chunk;
    remember(state, keys[bp], now + ttlMs(segments[bp].ttl));
  }
  usage.cache_read_input_tokens = read;
  usage.input_tokens = total - read - usage.cache_creation_input_tokens;
  return usage;
}

const ttlMs = (ttl: string | undefined): number => (ttl === '1h' ? 3_600_000 : 300_000);

function remember(state: EmulatorState, key: string, expires: number): void {
  state.cache.delete(key);
  state.cache.set(key, expires);
  while (state.cache.size > MAX_CACHE_ENTRIES) state.cache.delete(state.cache.keys().next().value as string);
}

// ---------------------------------------------------------------------------------------------
// The reply
// ---------------------------------------------------------------------------------------------

interface Reply {
  content: Json[];
  stop_reason: string;
  stop_sequence: string | null;
  output_tokens: number;
  refusal?: boolean;
}

interface AnthropicDirectives extends Directives {
  redacted: boolean;
  overloaded: boolean;
  refuse: boolean;
}

function lastUserInfo(turns: Turn[]): { text: string; toolResults: string[] } {
  const last = [...turns].reverse().find((t) => t.role === 'user');
  if (!last) return { text: '', toolResults: [] };
  const text = last.blocks
    .filter((b) => b.type === 'text')
    .map((b) => String(b.text))
    .join('\n');
  const toolResults = last.blocks.filter((b) => b.type === 'tool_result').map(toolResultText);
  return { text, toolResults };
}

function buildReply(body: Json, turns: Turn[], d: AnthropicDirectives, state: EmulatorState): Reply {
  const { text: userText, toolResults } = lastUserInfo(turns);
  const thinkingOn = isObj(body.thinking) && body.thinking.type !== 'disabled';
  const blocks: Json[] = [];
  if (d.refuse) return { content: [], stop_reason: 'refusal', stop_sequence: null, output_tokens: 1, refusal: true };

  const subject = toolResults.length > 0 ? toolResults.join('; ') : stripDirectives(userText);
  if (thinkingOn) {
    blocks.push({ type: 'thinking', thinking: `Thinking about: ${subject}`, signature: '' });
    if (d.redacted) {
      const data = randomBytes(96).toString('base64');
      state.redacted.set(data, true);
      while (state.redacted.size > MAX_REDACTED) state.redacted.delete(state.redacted.keys().next().value as string);
      blocks.push({ type: 'redacted_thinking', data });
    }
  }

  const tools: Json[] = (body.tools ?? []).filter((t: Json) => t.type === undefined || t.type === 'custom');
  const choice = body.tool_choice ?? { type: 'auto' };
  const scripted = dueScriptedCall(
    turns.map((t) =>
      t.role === 'user'
        ? {
            userText: t.blocks
              .filter((b) => b.type === 'text')
              .map((b) => String(b.text))
              .join('\n'),
          }
        : { calledTools: t.blocks.some((b) => b.type === 'tool_use') },
    ),
  );
  const scriptedTool = scripted && choice.type !== 'none' ? tools.find((t) => t.name === scripted.name) : undefined;
  const callTools = tools.length > 0 && toolResults.length === 0 && choice.type !== 'none' && !d.noTool;
  let stopReason = 'end_turn';
  let stopSequence: string | null = null;
  if (scripted && scriptedTool) {
    blocks.push({ type: 'tool_use', id: randomId('toolu_01'), name: scriptedTool.name, input: scripted.args });
    stopReason = 'tool_use';
  } else if (callTools) {
    const tool = choice.type === 'tool' ? tools.find((t) => t.name === choice.name) : tools[0];
    const times = d.parallel && choice.disable_parallel_tool_use !== true ? 2 : 1;
    for (let i = 0; i < times; i++) {
      blocks.push({ type: 'tool_use', id: randomId('toolu_01'), name: tool.name, input: argsFromSchema(tool.input_schema) });
    }
    stopReason = 'tool_use';
  } else {
    const format = body.output_config?.format;
    let text =
      toolResults.length > 0
        ? `Tool result received: ${toolResults.join('; ')}`
        : format?.type === 'json_schema'
          ? JSON.stringify(argsFromSchema(format.schema))
          : replyText(EMULATOR_NAME, userText, d);
    for (const seq of (body.stop_sequences ?? []) as string[]) {
      const at = text.indexOf(seq);
      if (at !== -1 && (stopSequence === null || at < text.indexOf(stopSequence))) stopSequence = seq;
    }
    if (stopSequence !== null) {
      text = text.slice(0, text.indexOf(stopSequence));
      stopReason = 'stop_sequence';
    }
    const search = webSearchOffered(body) && toolResults.length === 0 && !d.noTool ? webSearch(subject) : undefined;
    if (search) blocks.push(...search.blocks);
    blocks.push({ type: 'text', text, ...(search ? { citations: [search.citation(text)] } : {}) });
  }

  // max_tokens: everything generated (thinking included) counts; cut where the budget runs out.
  // [[bytes:N]] asks for a huge answer whatever the budget (the emulator's tokenizer would cut it).
  let remaining: number = d.bytes !== undefined ? Infinity : body.max_tokens;
  let truncated = false;
  const content: Json[] = [];
  for (const b of blocks) {
    if (truncated) break;
    if (b.type === 'thinking' || b.type === 'text') {
      const field = b.type === 'thinking' ? 'thinking' : 'text';
      const tokens = countTokens(b[field]);
      if (tokens > remaining) {
        b[field] = b[field].slice(0, remaining * 4);
        truncated = true;
      }
      remaining -= Math.min(tokens, remaining);
      if (b.type === 'thinking') {
        b.signature = sign(b.thinking);
        // `display: "omitted"`: the thinking is billed and signed but its text is not returned.
        if (body.thinking?.display === 'omitted') {
          b.thinking = '';
          state.omitted.set(b.signature, true);
          while (state.omitted.size > MAX_REDACTED) state.omitted.delete(state.omitted.keys().next().value as string);
          content.push(b);
          continue;
        }
      }
      if (b[field].length > 0) content.push(b);
    } else {
      // A search's query is generated (output); its results are the server's, not the model's.
      const tokens =
        b.type === 'tool_use' || b.type === 'server_tool_use'
          ? countTokens(b.name + JSON.stringify(b.input))
          : b.type === 'web_search_tool_result'
            ? 0
            : countTokens(b.data);
      if (tokens > remaining) {
        truncated = true;
        break;
      }
      remaining -= tokens;
      content.push(b);
    }
  }
  if (truncated) return { content, stop_reason: 'max_tokens', stop_sequence: null, output_tokens: body.max_tokens };
  return { content, stop_reason: stopReason, stop_sequence: stopSequence, output_tokens: body.max_tokens - remaining };
}

// ---------------------------------------------------------------------------------------------
// Web search (https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/web-search-tool)
// ---------------------------------------------------------------------------------------------

const WEB_SEARCH_TYPES = ['web_search_20250305', 'web_search_20260209'];
const WEB_SEARCH_KEYS = new Set(['type', 'name', 'max_uses', 'allowed_domains', 'blocked_domains', 'user_location', 'cache_control']);
const LOCATION_KEYS = new Set(['type', 'city', 'region', 'country', 'timezone']);

/** The web search server tool, checked as the real API checks it (its pydantic-style messages). */
function validateWebSearchTool(t: Json, i: number): void {
  if (!WEB_SEARCH_TYPES.includes(t.type)) {
    throw invalid(`tools.${i}: Input tag '${String(t.type)}' found using 'type' does not match any of the expected tags`);
  }
  const at = `tools.${i}.${String(t.type)}`;
  for (const k of Object.keys(t)) if (!WEB_SEARCH_KEYS.has(k)) throw invalid(`${at}.${k}: Extra inputs are not permitted`);
  if (t.name !== 'web_search') throw invalid(`${at}.name: Input should be 'web_search'`);
  if (t.max_uses !== undefined && (!Number.isInteger(t.max_uses) || t.max_uses < 1)) {
    throw invalid(`${at}.max_uses: Input should be greater than or equal to 1`);
  }
  if (t.allowed_domains !== undefined && t.blocked_domains !== undefined) {
    throw invalid(`${at}: Only one of allowed_domains or blocked_domains can be specified`);
  }
  if (t.user_location !== undefined) {
    const loc = t.user_location;
    if (!isObj(loc)) throw invalid(`${at}.user_location: Input should be a valid dictionary`);
    for (const k of Object.keys(loc)) if (!LOCATION_KEYS.has(k)) throw invalid(`${at}.user_location.${k}: Extra inputs are not permitted`);
    if (loc.type !== 'approximate') throw invalid(`${at}.user_location.type: Input should be 'approximate'`);
    for (const k of ['city', 'region', 'country', 'timezone']) {
      if (loc[k] !== undefined && typeof loc[k] !== 'string') throw invalid(`${at}.user_location.${k}: Input should be a valid string`);
    }
    if (typeof loc.country === 'string' && !/^[A-Z]{2}$/.test(loc.country)) {
      throw invalid(`${at}.user_location.country: String should have at most 2 characters`);
    }
  }
}

function webSearchOffered(body: Json): boolean {
  return (body.tools ?? []).some((t: Json) => typeof t?.type === 'string' && t.type.startsWith('web_search'));
}

/**
 * One search about the question, in the documented shape: the model's `server_tool_use` call, the
 * `web_search_tool_result` with its results, and a citation of the first result for the answer.
 */
function webSearch(query: string): { blocks: Json[]; citation: (text: string) => Json } {
  const id = randomId('srvtoolu_01');
  const result = {
    type: 'web_search_result',
    url: 'https://example.com/search-result',
    title: `About ${query.slice(0, 40)}`,
    encrypted_content: randomBytes(48).toString('base64'),
    page_age: 'April 30, 2025',
  };
  return {
    blocks: [
      { type: 'server_tool_use', id, name: 'web_search', input: { query } },
      { type: 'web_search_tool_result', tool_use_id: id, content: [result] },
    ],
    citation: (text) => ({
      type: 'web_search_result_location',
      url: result.url,
      title: result.title,
      encrypted_index: randomBytes(24).toString('base64'),
      cited_text: text.slice(0, 150),
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Streaming
// ---------------------------------------------------------------------------------------------

const REFUSAL_DETAILS = { type: 'refusal', category: null, explanation: null };

const frame = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

function withoutServerTools(usage: Json): Json {
  const { server_tool_use: _s, ...rest } = usage;
  return rest;
}

/**
 * `usage.service_tier`: `standard`, or `priority` where the organisation has Priority Tier capacity
 * ([[served:priority]]) and the request did not ask for `standard_only`.
 */
function servedTier(body: Json, d: Directives): string {
  return d.served === 'priority' && body.service_tier !== 'standard_only' ? 'priority' : 'standard';
}

/** The searches the answer ran (`server_tool_use` blocks), as its usage counts them: billed per search. */
function serverToolUse(reply: Reply): Json {
  const searches = reply.content.filter((b: Json) => b.type === 'server_tool_use' && b.name === 'web_search').length;
  return searches > 0 ? { server_tool_use: { web_search_requests: searches } } : {};
}

function streamFrames(message: Json, reply: Reply, overloaded: boolean): string[] {
  const frames: string[] = [
    frame('message_start', {
      type: 'message_start',
      message: {
        ...message,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        stop_details: null,
        usage: { ...withoutServerTools(message.usage), output_tokens: 1 },
      },
    }),
  ];
  const delta = (index: number, d: unknown): string => frame('content_block_delta', { type: 'content_block_delta', index, delta: d });
  reply.content.forEach((b: Json, index: number) => {
    const start = (content_block: unknown): void => {
      frames.push(frame('content_block_start', { type: 'content_block_start', index, content_block }));
      if (index === 0) frames.push(frame('ping', { type: 'ping' }));
    };
    switch (b.type) {
      case 'text':
        start({ type: 'text', text: '' });
        // A cited text block streams its citations as `citations_delta` events.
        for (const citation of b.citations ?? []) frames.push(delta(index, { type: 'citations_delta', citation }));
        for (const piece of chunkText(b.text)) frames.push(delta(index, { type: 'text_delta', text: piece }));
        break;
      case 'thinking':
        start({ type: 'thinking', thinking: '', signature: '' });
        if (b.thinking !== '') {
          for (const piece of chunkText(b.thinking, 16)) frames.push(delta(index, { type: 'thinking_delta', thinking: piece }));
        }
        frames.push(delta(index, { type: 'signature_delta', signature: b.signature }));
        break;
      case 'redacted_thinking':
        start({ type: 'redacted_thinking', data: b.data });
        break;
      case 'server_tool_use':
        start({ type: 'server_tool_use', id: b.id, name: b.name, input: {} });
        frames.push(delta(index, { type: 'input_json_delta', partial_json: JSON.stringify(b.input) }));
        break;
      case 'web_search_tool_result':
        start(b);
        break;
      case 'tool_use': {
        // `caller`: who made the call (`direct`: the model itself, not code execution), as recorded.
        start({ type: 'tool_use', id: b.id, name: b.name, input: {}, caller: { type: 'direct' } });
        frames.push(delta(index, { type: 'input_json_delta', partial_json: '' }));
        for (const piece of chunkText(JSON.stringify(b.input), 10))
          frames.push(delta(index, { type: 'input_json_delta', partial_json: piece }));
        break;
      }
    }
    frames.push(frame('content_block_stop', { type: 'content_block_stop', index }));
  });
  if (overloaded) {
    // The real API reports failures after the 200 as an `error` event, then closes the stream.
    const keep = Math.min(frames.length, 4);
    frames.length = keep;
    frames.push(frame('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    return frames;
  }
  frames.push(
    frame('message_delta', {
      type: 'message_delta',
      delta: {
        stop_reason: reply.stop_reason,
        stop_sequence: reply.stop_sequence,
        stop_details: reply.refusal ? REFUSAL_DETAILS : null,
      },
      // The final usage is cumulative: the input counts again, the output, and the server tools' counts.
      usage: {
        input_tokens: message.usage.input_tokens,
        cache_creation_input_tokens: message.usage.cache_creation_input_tokens,
        cache_read_input_tokens: message.usage.cache_read_input_tokens,
        output_tokens: reply.output_tokens,
        ...(message.usage.server_tool_use ? { server_tool_use: message.usage.server_tool_use } : {}),
      },
    }),
  );
  frames.push(frame('message_stop', { type: 'message_stop' }));
  return frames;
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

/** API versions the emulator answers; all get the 2023-06-01 wire format. */
const API_VERSIONS = ['2023-01-01', '2023-06-01', '2026-10-21'];

/**
 * Auth as the real API takes it: `x-api-key`, or the key as a bearer token (what the official SDK
 * sends since its 1.0, with `anthropic-version: 2026-10-21`).
 */
function checkHeaders(headers: Record<string, string | string[] | undefined>, apiKey: string): void {
  const auth = headers.authorization;
  const bearer = typeof auth === 'string' && /^Bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
  const key = headers['x-api-key'] ?? bearer;
  if (key === undefined) throw new ApiError(401, 'authentication_error', 'x-api-key header is required');
  if (key !== apiKey) throw new ApiError(401, 'authentication_error', 'invalid x-api-key');
  const version = headers['anthropic-version'];
  if (version === undefined) throw invalid('anthropic-version: header is required');
  if (typeof version !== 'string' || !API_VERSIONS.includes(version)) {
    throw invalid(`anthropic-version: invalid version "${String(version)}"`);
  }
}

function resolveModel(model: string): string {
  return ANTHROPIC_MODELS.find((m) => m.alias === model)?.id ?? model;
}

export async function startAnthropicEmulator(opts: AnthropicEmulatorOptions = {}): Promise<Emulator> {
  const apiKey = opts.apiKey ?? 'test-key';
  const state: EmulatorState = { cache: new Map(), redacted: new Map(), omitted: new Map(), minCacheable: opts.minCacheableTokens ?? 0 };

  return startEmulator(
    async (req, res, body, url) => {
      try {
        checkHeaders(req.headers, apiKey);
        const route = `${req.method} ${url.pathname}`;
        if (route === 'POST /v1/messages' || route === 'POST /v1/messages/count_tokens') {
          const bad = isObj(body) ? unknownFieldError(body, req.headers, route !== 'POST /v1/messages') : undefined;
          if (bad !== undefined) throw invalid(bad);
        }
        if (route === 'POST /v1/messages') return await messages(res, body);
        if (route === 'POST /v1/messages/count_tokens') {
          validateRequest(body, state, true);
          const usage = inputUsage(body, state, false);
          res.writeHead(200, { 'content-type': 'application/json', 'request-id': randomId('req_01') });
          res.end(JSON.stringify({ input_tokens: usage.input_tokens }));
          return;
        }
        if (route === 'GET /v1/models') return listModels(res, url);
        const one = /^\/v1\/models\/([^/]+)$/.exec(url.pathname);
        if (req.method === 'GET' && one) {
          const m = ANTHROPIC_MODELS.find((x) => x.id === one[1] || x.alias === one[1]);
          if (!m) throw new ApiError(404, 'not_found_error', `model: ${one[1]}`);
          res.writeHead(200, { 'content-type': 'application/json', 'request-id': randomId('req_01') });
          res.end(JSON.stringify(modelObject(m)));
          return;
        }
        throw new ApiError(404, 'not_found_error', 'Not Found');
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        sendError(res, err.status, err.errorType, err.message);
      }
    },
    { ...opts, apiKey },
  );

  async function messages(res: ServerResponse, body: Json): Promise<void> {
    const turns = validateRequest(body, state, false);
    const userText = (() => {
      const last = [...turns].reverse().find((t) => t.role === 'user');
      if (!last) return '';
      return last.blocks.map((b) => (b.type === 'text' ? String(b.text) : b.type === 'tool_result' ? toolResultText(b) : '')).join('\n');
    })();
    const base = parseDirectives(userText);
    const d: AnthropicDirectives = {
      ...base,
      redacted: userText.includes('[[redacted]]'),
      overloaded: userText.includes('[[overloaded]]'),
      refuse: userText.includes('[[refuse]]'),
    };
    if (d.slowMs !== undefined) await sleep(d.slowMs);
    if (d.error !== undefined) {
      const known = ERROR_FOR_STATUS[d.error] ?? {
        type: d.error >= 500 ? 'api_error' : 'invalid_request_error',
        message: `Emulated error ${d.error}`,
      };
      return sendError(res, d.error, known.type, known.message, d.error === 429 ? { 'retry-after': '7' } : {});
    }
    const usage = inputUsage(body, state, true);
    const reply = buildReply(body, turns, d, state);
    const requestId = randomId('req_01');
    const message = {
      id: randomId('msg_01'),
      type: 'message',
      role: 'assistant',
      model: resolveModel(body.model),
      content: reply.content,
      stop_reason: reply.stop_reason,
      stop_sequence: reply.stop_sequence,
      stop_details: reply.refusal ? REFUSAL_DETAILS : null,
      usage: {
        ...usage,
        output_tokens: reply.output_tokens,
        service_tier: servedTier(body, d),
        inference_geo: 'not_available',
        ...serverToolUse(reply),
      },
    };
    const headers = { 'request-id': requestId, ...rateLimitHeaders(usage.input_tokens, reply.output_tokens) };
    const sseHeaders = { ...headers, 'content-type': 'text/event-stream; charset=utf-8' };
    // message_start, the first content_block_start and a ping carry no content; Anthropic's keep-alive is `event: ping`.
    if (body.stream === true) {
      const keepAlive = frame('ping', { type: 'ping' });
      return writeFrames(res, streamFrames(message, reply, d.overloaded), d, { headers: sseHeaders, preamble: 3, keepAlive });
    }
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(message));
  }
}

function modelObject(m: (typeof ANTHROPIC_MODELS)[number]): Json {
  return { type: 'model', id: m.id, display_name: m.display_name, created_at: m.created_at };
}

function listModels(res: ServerResponse, url: URL): void {
  const all = [...ANTHROPIC_MODELS].sort((a, b) => b.created_at.localeCompare(a.created_at));
  let start = 0;
  const after = url.searchParams.get('after_id');
  if (after) start = all.findIndex((m) => m.id === after) + 1;
  const limit = Math.max(1, Math.min(1000, Number(url.searchParams.get('limit') ?? 20) || 20));
  const page = all.slice(start, start + limit);
  res.writeHead(200, { 'content-type': 'application/json', 'request-id': randomId('req_01') });
  res.end(
    JSON.stringify({
      data: page.map(modelObject),
      has_more: start + limit < all.length,
      first_id: page[0]?.id ?? null,
      last_id: page.at(-1)?.id ?? null,
    }),
  );
}

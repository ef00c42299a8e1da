/**
 * The OpenAI emulator's Chat Completions: OpenAI's request validation, the deterministic answer
 * (text, tool calls, JSON modes, truncation, reasoning usage, prompt caching) and its rendering as a
 * `chat.completion` body or as `chat.completion.chunk` SSE frames.
 */
import { createHash } from 'node:crypto';
import { argsFromSchema, chunkText, countTokens, dueScriptedCall, replyText, stripDirectives } from './common.ts';
import type { Directives } from './common.ts';
import { FINGERPRINT, contentText, isObject, modelNotFound, nowSeconds, oaiError, randomId, unknownField } from './openai-shared.ts';
import type { Frames, Reply } from './openai-shared.ts';

// Request bodies are arbitrary JSON, checked field by field below.
// any: emulators read arbitrary client JSON; tests narrow what they assert on.
type Body = any;

export interface ChatState {
  name: string;
  /** Hashes of prompt prefixes already seen (insertion-ordered, bounded): OpenAI's prompt cache. */
  cache: Map<string, true>;
}

export function createChatState(name: string): ChatState {
  return { name, cache: new Map() };
}

const CACHE_MAX = 2048;
const CACHE_MIN_TOKENS = 1024;
const IMAGE_TOKENS = 85;
const REASONING_TOKENS = 16;
const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);
const PART_TYPES = new Set(['text', 'image_url', 'input_audio', 'refusal', 'audio', 'file']);

/** o1, o3-mini, o4-mini, gpt-5…: reasoning models (gpt-5-chat-* is not one). */
export function isReasoningModel(model: string): boolean {
  return /^o\d/.test(model) || (model.startsWith('gpt-5') && !model.includes('-chat'));
}

export function lastUserText(body: Body): string {
  const messages = Array.isArray(body?.messages) ? body.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === 'user') return contentText(messages[i].content);
  return '';
}

/**
 * Every top-level field OpenAI's Chat Completions accepts (API reference, 2026). Anything else is
 * refused, as the real API does: a gateway that forwards a field OpenAI does not take fails here.
 */
export const CHAT_PARAMS = new Set([
  'model',
  'messages',
  'audio',
  'frequency_penalty',
  'function_call',
  'functions',
  'logit_bias',
  'logprobs',
  'max_completion_tokens',
  'max_tokens',
  'metadata',
  'modalities',
  'n',
  'parallel_tool_calls',
  'prediction',
  'presence_penalty',
  'prompt_cache_key',
  'prompt_cache_retention',
  'reasoning_effort',
  'response_format',
  'safety_identifier',
  'seed',
  'service_tier',
  'stop',
  'store',
  'stream',
  'stream_options',
  'temperature',
  'tool_choice',
  'tools',
  'top_logprobs',
  'top_p',
  'user',
  'verbosity',
  'web_search_options',
]);
const SERVICE_TIERS = ['auto', 'default', 'flex', 'scale', 'priority'];

/** OpenAI's 400s for a malformed chat request, or null when the request is acceptable. */
export function validateChat(body: Body): Reply | null {
  const unknown = unknownField(body, CHAT_PARAMS);
  if (unknown) return unknown;
  if (body.service_tier !== undefined && body.service_tier !== null && !SERVICE_TIERS.includes(body.service_tier)) {
    return oaiError(
      400,
      `Invalid value: '${String(body.service_tier)}'. Supported values are: 'auto', 'default', 'flex', 'scale', and 'priority'.`,
      'service_tier',
      'invalid_value',
    );
  }
  if (body.metadata !== undefined && body.metadata !== null) {
    const entries = isObject(body.metadata) ? Object.entries(body.metadata) : null;
    if (!entries || entries.length > 16 || entries.some(([k, v]) => k.length > 64 || typeof v !== 'string' || v.length > 512)) {
      return oaiError(400, "Invalid 'metadata': expected an object of at most 16 string values.", 'metadata', 'invalid_type');
    }
  }
  if (typeof body.model !== 'string' || body.model === '') return oaiError(400, 'you must provide a model parameter');
  // Chat completions search the web only with the search models (guides/tools-web-search?api-mode=chat).
  if (body.web_search_options !== undefined && !/-search-(preview|api)/.test(body.model)) {
    return oaiError(400, 'Web search options not supported with this model.');
  }
  if (body.messages === undefined)
    return oaiError(400, "Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (!Array.isArray(body.messages)) {
    return oaiError(
      400,
      `Invalid type for 'messages': expected an array, but got ${typeof body.messages} instead.`,
      'messages',
      'invalid_type',
    );
  }
  if (body.messages.length === 0) {
    return oaiError(
      400,
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'messages',
      'empty_array',
    );
  }
  const messages: Body[] = body.messages;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (!isObject(m) || !ROLES.has(m.role as string)) {
      return oaiError(
        400,
        `Invalid value: '${String(m?.role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
        `messages[${i}].role`,
        'invalid_value',
      );
    }
    if (m.content === undefined && m.role !== 'assistant') {
      return oaiError(400, `Missing required parameter: 'messages[${i}].content'.`, `messages[${i}].content`, 'missing_required_parameter');
    }
    if (Array.isArray(m.content)) {
      for (let j = 0; j < m.content.length; j++) {
        const type = m.content[j]?.type;
        if (!PART_TYPES.has(type)) {
          return oaiError(
            400,
            `Invalid value: '${String(type)}'. Supported values are: 'text', 'image_url', 'input_audio', 'refusal', 'audio', and 'file'.`,
            `messages[${i}].content[${j}].type`,
            'invalid_value',
          );
        }
      }
    }
    const toolError = m.role === 'tool' ? checkToolMessage(messages, i) : m.role === 'assistant' ? checkToolAnswers(messages, i) : null;
    if (toolError) return toolError;
  }
  if (body.model === 'does-not-exist') return modelNotFound(body.model);
  if (body.tools !== undefined && body.tools !== null) {
    if (!Array.isArray(body.tools))
      return oaiError(400, "Invalid type for 'tools': expected an array, but got an object instead.", 'tools', 'invalid_type');
    if (body.tools.length === 0) {
      return oaiError(
        400,
        "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        'tools',
        'empty_array',
      );
    }
    for (let i = 0; i < body.tools.length; i++) {
      const t = body.tools[i];
      if (t?.type !== 'function' && t?.type !== 'custom') {
        return oaiError(
          400,
          `Invalid value: '${String(t?.type)}'. Supported values are: 'function' and 'custom'.`,
          `tools[${i}].type`,
          'invalid_value',
        );
      }
      if (t.type === 'function' && typeof t.function?.name !== 'string') {
        return oaiError(
          400,
          `Missing required parameter: 'tools[${i}].function.name'.`,
          `tools[${i}].function.name`,
          'missing_required_parameter',
        );
      }
    }
  } else if (body.tool_choice !== undefined && body.tool_choice !== null) {
    return oaiError(400, "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", 'tool_choice');
  }
  if (body.stream_options !== undefined && body.stream_options !== null && body.stream !== true) {
    return oaiError(400, "The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
  }
  const n = body.n ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > 128) {
    return oaiError(
      400,
      `Invalid 'n': integer out of range. Expected a value between 1 and 128, but got ${String(n)} instead.`,
      'n',
      'integer_out_of_range',
    );
  }
  // As the real API: reasoning settings only for reasoning models (o-series, GPT-5 but its chat variants).
  if (!isReasoningModel(body.model) && body.reasoning_effort !== undefined && body.reasoning_effort !== null) {
    return oaiError(
      400,
      "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
      'reasoning_effort',
      'unsupported_parameter',
    );
  }
  if (isReasoningModel(body.model) && body.reasoning_effort !== 'none') {
    if (body.max_tokens !== undefined && body.max_tokens !== null) {
      return oaiError(
        400,
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        'max_tokens',
        'unsupported_parameter',
      );
    }
    if (typeof body.temperature === 'number' && body.temperature !== 1) {
      return oaiError(
        400,
        `Unsupported value: 'temperature' does not support ${body.temperature} with this model. Only the default (1) value is supported.`,
        'temperature',
        'unsupported_value',
      );
    }
  }
  if (body.response_format?.type === 'json_object') {
    const mentionsJson = messages.some((m) => /json/i.test(contentText(m.content)));
    if (!mentionsJson) {
      return oaiError(
        400,
        "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
        'messages',
      );
    }
  }
  return null;
}

/** A `tool` message must answer a tool call of the assistant message before its run of tool messages. */
function checkToolMessage(messages: Body[], i: number): Reply | null {
  let j = i - 1;
  while (j >= 0 && messages[j]?.role === 'tool') j--;
  const calls = j >= 0 && messages[j].role === 'assistant' ? messages[j].tool_calls : undefined;
  if (!Array.isArray(calls) || calls.length === 0) {
    return oaiError(
      400,
      "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
      `messages.[${i}].role`,
    );
  }
  const id = messages[i].tool_call_id;
  if (!calls.some((c: Body) => c?.id === id)) {
    return oaiError(
      400,
      `Invalid parameter: 'tool_call_id' of '${String(id)}' not found in 'tool_calls' of previous message.`,
      `messages.[${i}].tool_call_id`,
    );
  }
  return null;
}

/** An assistant message with `tool_calls` must be followed by a tool message for each call. */
function checkToolAnswers(messages: Body[], i: number): Reply | null {
  const calls = messages[i].tool_calls;
  if (!Array.isArray(calls) || calls.length === 0) return null;
  const answered = new Set<unknown>();
  for (let j = i + 1; j < messages.length && messages[j]?.role === 'tool'; j++) answered.add(messages[j].tool_call_id);
  const missing = calls.map((c: Body) => c?.id).filter((id: unknown) => !answered.has(id));
  if (missing.length === 0) return null;
  return oaiError(
    400,
    "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. " +
      `The following tool_call_ids did not have response messages: ${missing.join(', ')}`,
    `messages.[${i}].role`,
  );
}

/** Tokens a message adds to the prompt: its text, 85 per image, its tool calls, plus 3 of framing. */
function messageTokens(m: Body): number {
  let tokens = 3;
  const c = m.content;
  if (typeof c === 'string') tokens += countTokens(c);
  else if (Array.isArray(c)) {
    let text = '';
    for (const part of c) {
      if (part?.type === 'image_url') tokens += IMAGE_TOKENS;
      else if (typeof part?.text === 'string') text += part.text;
    }
    tokens += countTokens(text);
  }
  if (Array.isArray(m.tool_calls)) {
    for (const call of m.tool_calls) tokens += countTokens(String(call?.function?.name ?? '') + String(call?.function?.arguments ?? ''));
  }
  return tokens;
}

/**
 * OpenAI caches prompt prefixes of 1024+ tokens and reports hits in 128-token steps. Every message
 * boundary of a long prompt is remembered; the longest one seen before is the cached prefix.
 */
function cachedTokens(state: ChatState, body: Body): number {
  const hash = createHash('sha256').update(JSON.stringify(body.tools ?? null));
  const seen: string[] = [];
  let tokens = 0;
  let cached = 0;
  for (const m of body.messages as Body[]) {
    tokens += messageTokens(m);
    hash.update(JSON.stringify(m));
    if (tokens < CACHE_MIN_TOKENS) continue;
    const key = hash.copy().digest('base64');
    if (state.cache.has(key)) cached = Math.floor(tokens / 128) * 128;
    seen.push(key);
  }
  for (const key of seen) {
    state.cache.delete(key);
    state.cache.set(key, true);
    if (state.cache.size > CACHE_MAX) state.cache.delete(state.cache.keys().next().value as string);
  }
  return cached;
}

interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

interface Choice {
  content: string | null;
  reasoningContent?: string;
  toolCalls?: ToolCall[];
  finish: 'stop' | 'length' | 'tool_calls';
  completionTokens: number;
  reasoningTokens: number;
}

function toolCallsFor(body: Body, d: Directives): ToolCall[] | null {
  const tools: Body[] = Array.isArray(body.tools) ? body.tools : [];
  const last = body.messages[body.messages.length - 1];
  const choice = body.tool_choice;
  const scripted = dueScriptedCall(
    (body.messages as Body[]).map((m) =>
      m.role === 'user'
        ? { userText: contentText(m.content) }
        : { calledTools: m.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length > 0 },
    ),
  );
  if (scripted && choice !== 'none' && tools.some((t) => t.function?.name === scripted.name)) {
    return [{ id: 'call_' + randomId(24), name: scripted.name, arguments: JSON.stringify(scripted.args) }];
  }
  if (tools.length === 0 || last.role !== 'user' || choice === 'none' || d.noTool) return null;
  const forced: string | undefined = isObject(choice) ? (choice as Body).function?.name : undefined;
  const tool =
    (forced !== undefined ? tools.find((t) => t.function?.name === forced) : tools.find((t) => t.type === 'function')) ?? tools[0];
  const name: string = forced ?? tool.function?.name ?? tool.custom?.name ?? 'tool';
  const args = JSON.stringify(argsFromSchema(tool.function?.parameters));
  const count = d.parallel && body.parallel_tool_calls !== false ? 2 : 1;
  return Array.from({ length: count }, () => ({ id: 'call_' + randomId(24), name, arguments: args }));
}

function planChoice(body: Body, d: Directives, state: ChatState): Choice {
  const model: string = body.model;
  const userText = lastUserText(body);
  const effort = body.reasoning_effort;
  const reasons = effort !== undefined && effort !== null ? effort !== 'none' : isReasoningModel(model);
  let reasoningContent = model.includes('reasoner') ? `Thinking about: ${stripDirectives(userText)}` : undefined;
  let reasoningTokens = reasoningContent !== undefined ? countTokens(reasoningContent) : reasons ? REASONING_TOKENS : 0;
  const max = body.max_completion_tokens ?? body.max_tokens;
  let budget = typeof max === 'number' ? max : Infinity;
  // Reasoning spends the output budget first, as on OpenAI: a tight limit can leave no visible answer.
  if (reasoningTokens > budget) {
    reasoningTokens = budget;
    if (reasoningContent !== undefined) reasoningContent = reasoningContent.slice(0, budget * 4);
  }
  budget -= reasoningTokens;

  const toolCalls = toolCallsFor(body, d);
  if (toolCalls) {
    let tokens = 0;
    for (const c of toolCalls) tokens += countTokens(c.name + c.arguments);
    return {
      content: null,
      reasoningContent,
      toolCalls,
      finish: 'tool_calls',
      completionTokens: tokens + reasoningTokens,
      reasoningTokens,
    };
  }
  const last = body.messages[body.messages.length - 1];
  let text = last.role === 'tool' ? `Tool result received: ${contentText(last.content)}` : replyText(state.name, userText, d);
  const format = body.response_format;
  if (format?.type === 'json_object') text = JSON.stringify({ answer: text });
  else if (format?.type === 'json_schema') text = JSON.stringify(argsFromSchema(format.json_schema?.schema));
  let finish: Choice['finish'] = 'stop';
  if (countTokens(text) > budget) {
    text = text.slice(0, budget * 4);
    finish = 'length';
  }
  return { content: text, reasoningContent, finish, completionTokens: countTokens(text) + reasoningTokens, reasoningTokens };
}

function usageOf(promptTokens: number, cached: number, choices: Choice[]): object {
  let completion = 0;
  let reasoning = 0;
  for (const c of choices) {
    completion += c.completionTokens;
    reasoning += c.reasoningTokens;
  }
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
    prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: reasoning,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** Answers a validated chat request: a `chat.completion` body, or the frames of its stream. */
export function respondChat(body: Body, d: Directives, state: ChatState): Reply | Frames {
  let promptTokens = 0;
  for (const m of body.messages as Body[]) promptTokens += messageTokens(m);
  const cached = promptTokens >= CACHE_MIN_TOKENS ? cachedTokens(state, body) : 0;
  const n: number = body.n ?? 1;
  const choices: Choice[] = [];
  for (let i = 0; i < n; i++) choices.push(planChoice(body, d, state));
  const usage = usageOf(promptTokens, cached, choices);
  const id = 'chatcmpl-' + randomId(29);
  const created = nowSeconds();
  // The tier asked for, unless the script says it was served at another (flex capacity short: default).
  const tier = d.served ?? (typeof body.service_tier === 'string' && body.service_tier !== 'auto' ? body.service_tier : 'default');
  if (body.stream === true) return { frames: chatFrames(body, choices, usage, id, created, tier) };
  return {
    status: 200,
    body: {
      id,
      object: 'chat.completion',
      created,
      model: body.model,
      choices: choices.map((c, index) => ({ index, message: messageOf(c), logprobs: null, finish_reason: c.finish })),
      usage,
      service_tier: tier,
      system_fingerprint: FINGERPRINT,
    },
  };
}

function messageOf(c: Choice): object {
  const message: Record<string, unknown> = { role: 'assistant', content: c.content };
  if (c.reasoningContent !== undefined) message.reasoning_content = c.reasoningContent;
  if (c.toolCalls) {
    message.tool_calls = c.toolCalls.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } }));
  }
  message.refusal = null;
  message.annotations = [];
  return message;
}

const OBFUSCATION = randomId(64);

function chatFrames(body: Body, choices: Choice[], usage: object, id: string, created: number, tier: string): string[] {
  const includeUsage = body.stream_options?.include_usage === true;
  const obfuscate = body.stream_options?.include_obfuscation !== false;
  // Every chunk shares its envelope: render it once, splice each choice in.
  const head =
    `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(body.model)},` +
    `"service_tier":${JSON.stringify(tier)},"system_fingerprint":"${FINGERPRINT}","choices":[`;
  const tail = includeUsage ? '],"usage":null' : ']';
  let k = 0;
  const end = (): string => (obfuscate ? `,"obfuscation":"${OBFUSCATION.slice(0, 1 + (k++ % 12))}"}\n\n` : '}\n\n');
  const frames: string[] = [];
  const push = (index: number, delta: object, finish: string | null = null): void => {
    frames.push(head + JSON.stringify({ index, delta, logprobs: null, finish_reason: finish }) + tail + end());
  };
  choices.forEach((c, index) => {
    // A tool-calling turn opens with its first call; any other turn with an empty content delta.
    const roleFirst = !c.toolCalls || c.reasoningContent !== undefined;
    if (roleFirst) push(index, { role: 'assistant', content: c.toolCalls ? null : '', refusal: null });
    if (c.reasoningContent) for (const piece of chunkText(c.reasoningContent)) push(index, { reasoning_content: piece });
    if (c.toolCalls) {
      c.toolCalls.forEach((t, i) => {
        const call = { index: i, id: t.id, type: 'function', function: { name: t.name, arguments: '' } };
        push(
          index,
          i === 0 && !roleFirst ? { role: 'assistant', content: null, tool_calls: [call], refusal: null } : { tool_calls: [call] },
        );
        for (const piece of chunkText(t.arguments, 6)) push(index, { tool_calls: [{ index: i, function: { arguments: piece } }] });
      });
    } else if (c.content) for (const piece of chunkText(c.content)) push(index, { content: piece });
    push(index, {}, c.finish);
  });
  if (includeUsage) frames.push(head + '],"usage":' + JSON.stringify(usage) + end());
  frames.push('data: [DONE]\n\n');
  return frames;
}

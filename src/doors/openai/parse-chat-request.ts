/**
 * `POST /chat/completions` body → internal ChatRequest. Known fields (providers/field-policy.ts)
 * are validated strictly; OpenRouter's extension fields are consumed (parse-extras.ts); unknown
 * top-level fields are kept as pass-through for OpenAI-compatible upstreams (provider-specific
 * parameters such as Mistral's `safe_prompt`).
 */
import type { ChatRequest, ReasoningEffort, ReasoningRequest, ResponseFormat, ToolChoice, ToolDefinition } from '../../spec/request.ts';
import { arr, bool, fail, int, num, obj, oneOf, onlyKeys, opt, str } from '../../spec/validate.ts';
import type { Obj } from '../../spec/validate.ts';
import { parseProviderPreferences } from '../../router/plan/preferences.ts';
import type { RoutePreferences } from '../../router/plan/preferences.ts';
import { parseCacheControl, parseMessages } from './parse-messages.ts';
import { CHAT_FIELDS } from '../../providers/field-policy.ts';
import { consumeExtensions, parseUpstreamOptions } from './parse-extras.ts';

const EFFORTS = ['max', 'xhigh', 'high', 'medium', 'low', 'minimal', 'none'] as const;

/** Fields this door understands (the policy of each is in providers/field-policy.ts). */
const KNOWN: ReadonlySet<string> = new Set(Object.keys(CHAT_FIELDS));

export interface ParsedChat {
  request: ChatRequest;
  /** Fallback model list (`models`), in order, after `model`. */
  fallbackModels: string[];
  /** The `provider` object, validated (the defaults when absent). */
  preferences: RoutePreferences;
  /** `session_id`: groups a conversation for sticky routing and logs. */
  sessionId?: string;
  /** What the door itself cannot honour (OpenRouter extensions Freeway lacks), for the answer. */
  warnings: string[];
}

export interface ChatHeaders {
  /** `x-anthropic-beta`: Anthropic beta features, for Anthropic upstreams. */
  anthropicBeta?: string;
}

function parseTools(v: unknown): ToolDefinition[] {
  return arr(v, 'tools').map((raw, i) => {
    const p = `tools[${i}]`;
    const t = obj(raw, p);
    oneOf(t.type, `${p}.type`, ['function'] as const);
    const f = obj(t.function, `${p}.function`);
    const name = str(f.name, `${p}.function.name`);
    if (!/^[a-zA-Z0-9_-]{1,64}$/.test(name)) fail(`${p}.function.name`, 'must be 1-64 characters of a-z, A-Z, 0-9, _ or -');
    const parameters = f.parameters === undefined ? { type: 'object', properties: {} } : obj(f.parameters, `${p}.function.parameters`);
    const cacheControl = parseCacheControl(t.cache_control, `${p}.cache_control`);
    return {
      name,
      description: opt(f, 'description', str, `${p}.function`),
      parameters,
      strict: opt(f, 'strict', bool, `${p}.function`),
      ...(cacheControl ? { cacheControl } : {}),
    };
  });
}

function parseToolChoice(v: unknown): ToolChoice {
  if (typeof v === 'string') return { type: oneOf(v, 'tool_choice', ['auto', 'none', 'required'] as const) };
  const o = obj(v, 'tool_choice');
  oneOf(o.type, 'tool_choice.type', ['function'] as const);
  return { type: 'tool', name: str(obj(o.function, 'tool_choice.function').name, 'tool_choice.function.name') };
}

function parseResponseFormat(v: unknown): ResponseFormat {
  const o = obj(v, 'response_format');
  const type = oneOf(o.type, 'response_format.type', ['text', 'json_object', 'json_schema'] as const);
  if (type !== 'json_schema') return { type };
  const js = obj(o.json_schema, 'response_format.json_schema');
  return {
    type,
    name: str(js.name, 'response_format.json_schema.name'),
    schema: js.schema === undefined ? {} : obj(js.schema, 'response_format.json_schema.schema'),
    strict: opt(js, 'strict', bool, 'response_format.json_schema'),
    description: opt(js, 'description', str, 'response_format.json_schema'),
  };
}

function parseReasoning(body: Obj): ReasoningRequest | undefined {
  let r: ReasoningRequest | undefined;
  if (body.reasoning !== undefined && body.reasoning !== null) {
    const o = obj(body.reasoning, 'reasoning');
    onlyKeys(o, 'reasoning', new Set(['effort', 'max_tokens', 'exclude', 'enabled', 'summary', 'context', 'mode']));
    r = {
      effort: o.effort === undefined ? undefined : oneOf(o.effort, 'reasoning.effort', EFFORTS),
      maxTokens: opt(o, 'max_tokens', (v, p) => int(v, p, 0), 'reasoning'),
      exclude: opt(o, 'exclude', bool, 'reasoning'),
      enabled: opt(o, 'enabled', bool, 'reasoning'),
    };
    if (r.effort !== undefined && r.maxTokens !== undefined) fail('reasoning', 'set either effort or max_tokens, not both');
  }
  const shorthand = opt(body, 'reasoning_effort', (v, p) => oneOf(v, p, EFFORTS));
  if (shorthand !== undefined) {
    if (r?.effort !== undefined && r.effort !== shorthand)
      fail('reasoning_effort', `conflicts with reasoning.effort ${JSON.stringify(r.effort)}`);
    r = { ...(r ?? {}), effort: shorthand as ReasoningEffort };
  }
  const include = opt(body, 'include_reasoning', bool);
  if (include !== undefined && r === undefined) r = include ? { enabled: true } : { exclude: true };
  return r;
}

function parseStop(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  const list = arr(v, 'stop').map((s, i) => str(s, `stop[${i}]`));
  if (list.length > 4) fail('stop', 'at most 4 stop sequences');
  return list;
}

export function parseChatRequest(raw: unknown, headers: ChatHeaders = {}): ParsedChat {
  const body = obj(raw, 'body');
  const model = str(body.model, 'model');
  if (model.length === 0) fail('model', 'must not be empty');
  const fallbackModels = body.models === undefined ? [] : arr(body.models, 'models').map((m, i) => str(m, `models[${i}]`));
  const preferences = parseProviderPreferences(body.provider);
  const sessionId = opt(body, 'session_id', (v, p) => {
    const id = str(v, p);
    if (id.length > 256) fail(p, 'must be at most 256 characters');
    return id;
  });
  if (body.n !== undefined && body.n !== null && int(body.n, 'n', 1, 128) !== 1) fail('n', 'only n = 1 is supported');
  // Where a stream puts its usage (closingFrames). Its other keys (`include_obfuscation`) ask nothing
  // of Freeway: accepted and ignored.
  const includeUsage = opt(body, 'stream_options', (v, p) => opt(obj(v, p), 'include_usage', bool, p)) === true;

  const maxTokens = opt(body, 'max_completion_tokens', (v, p) => int(v, p, 1)) ?? opt(body, 'max_tokens', (v, p) => int(v, p, 1));
  const passthrough: Obj = {};
  for (const [k, v] of Object.entries(body)) if (!KNOWN.has(k)) passthrough[k] = v;
  const cacheControl = parseCacheControl(body.cache_control, 'cache_control');
  const { warnings, webSearch } = consumeExtensions(body);
  const parsedOptions = parseUpstreamOptions(body, headers.anthropicBeta);
  // OpenRouter's `web` plugin (native engine) asks for the native web search, as `web_search_options` does.
  const upstreamOptions =
    webSearch && parsedOptions?.web_search_options === undefined ? { ...parsedOptions, web_search_options: {} } : parsedOptions;
  const request: ChatRequest = {
    model,
    messages: parseMessages(body.messages),
    stream: opt(body, 'stream', bool) ?? false,
    maxTokens,
    temperature: opt(body, 'temperature', (v, p) => num(v, p, 0, 2)),
    topP: opt(body, 'top_p', (v, p) => num(v, p, 0, 1)),
    topK: opt(body, 'top_k', (v, p) => int(v, p, 0)),
    frequencyPenalty: opt(body, 'frequency_penalty', (v, p) => num(v, p, -2, 2)),
    presencePenalty: opt(body, 'presence_penalty', (v, p) => num(v, p, -2, 2)),
    repetitionPenalty: opt(body, 'repetition_penalty', (v, p) => num(v, p, 0, 2)),
    minP: opt(body, 'min_p', (v, p) => num(v, p, 0, 1)),
    topA: opt(body, 'top_a', (v, p) => num(v, p, 0, 1)),
    seed: opt(body, 'seed', (v, p) => int(v, p)),
    logitBias: opt(body, 'logit_bias', (v, p) => {
      const o = obj(v, p);
      for (const [k, b] of Object.entries(o)) num(b, `${p}.${k}`, -100, 100);
      return o as Record<string, number>;
    }),
    logprobs: opt(body, 'logprobs', bool),
    topLogprobs: opt(body, 'top_logprobs', (v, p) => int(v, p, 0, 20)),
    stop: opt(body, 'stop', parseStop),
    tools: opt(body, 'tools', parseTools),
    toolChoice: opt(body, 'tool_choice', parseToolChoice),
    parallelToolCalls: opt(body, 'parallel_tool_calls', bool),
    responseFormat: opt(body, 'response_format', parseResponseFormat),
    reasoning: parseReasoning(body),
    user: opt(body, 'user', str),
    ...(includeUsage ? { includeUsage } : {}),
    ...(cacheControl ? { cacheControl } : {}),
    ...(upstreamOptions ? { upstreamOptions } : {}),
    ...(Object.keys(passthrough).length > 0 ? { passthrough } : {}),
  };
  if (request.toolChoice?.type === 'tool' && !request.tools?.some((t) => t.name === (request.toolChoice as { name: string }).name)) {
    fail('tool_choice.function.name', `no tool named ${JSON.stringify(request.toolChoice.name)} in tools`);
  }
  return { request, fallbackModels, preferences, warnings, ...(sessionId !== undefined ? { sessionId } : {}) };
}

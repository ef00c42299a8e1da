/**
 * `POST /responses` body → the parts of an internal ChatRequest, the input items (kept for
 * `store`), and what the response object repeats back. Strict, like OpenAI: unknown fields and
 * unsupported features are a 400 naming the field; what becomes of each known field is in
 * fields.ts. OpenRouter's `models`, `provider` and `session_id` are accepted.
 */
import { GatewayError } from '../../spec/errors.ts';
import type { ChatRequest, ReasoningEffort, ReasoningRequest, ResponseFormat, ToolChoice } from '../../spec/request.ts';
import { parseProviderPreferences } from '../../router/plan/preferences.ts';
import type { RoutePreferences } from '../../router/plan/preferences.ts';
import { arr, bool, fail, int, num, obj, oneOf, onlyKeys, opt, str } from '../../spec/validate.ts';
import type { Obj } from '../../spec/validate.ts';
import { parseCacheControl } from '../openai/parse-messages.ts';
import { parseUpstreamOption } from '../openai/parse-extras.ts';
import { fieldRule } from './fields.ts';
import { inputItems, isItemReference, itemsToMessages } from './parse-items.ts';
import { flatName, parseTools } from './parse-tools.ts';
import type { ToolNames } from './parse-tools.ts';

const EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;
const SUMMARIES = ['auto', 'concise', 'detailed'] as const;

/** What the response object repeats from the request. */
export interface ResponseEcho {
  instructions: string | null;
  maxOutputTokens: number | null;
  parallelToolCalls: boolean;
  previousResponseId: string | null;
  reasoning: { effort: string | null; summary: string | null };
  store: boolean;
  temperature: number | null;
  topP: number | null;
  /** Not taken by this door today; echoed as `null` (OpenRouter's schema requires the fields). */
  frequencyPenalty?: number | null;
  presencePenalty?: number | null;
  text: { format: Obj; verbosity: string };
  toolChoice: unknown;
  tools: Obj[];
  metadata: Record<string, string>;
  user: string | null;
  safetyIdentifier: string | null;
  promptCacheKey: string | null;
}

export interface ParsedResponses {
  /** Everything of the ChatRequest but its messages (which may need a stored conversation first). */
  request: Omit<ChatRequest, 'messages'>;
  /** This request's input items, validated. */
  input: Obj[];
  instructions?: string;
  store: boolean;
  previousResponseId?: string;
  fallbackModels: string[];
  preferences: RoutePreferences;
  sessionId?: string;
  echo: ResponseEcho;
  /** Flattened tool names → the namespaced names the client declared. */
  toolNames: ToolNames;
  /** What was dropped on the way in, shown to the client in the response. */
  warnings: string[];
}

const unsupported = (param: string, message: string): never => {
  throw new GatewayError('invalid_request', `${param}: ${message}`, { metadata: { param, code: 'unsupported_parameter' } });
};

function parseToolChoice(v: unknown): ToolChoice {
  if (typeof v === 'string') return { type: oneOf(v, 'tool_choice', ['auto', 'none', 'required'] as const) };
  const o = obj(v, 'tool_choice');
  const type = str(o.type, 'tool_choice.type');
  if (type !== 'function')
    unsupported('tool_choice.type', `${JSON.stringify(type)} is not supported by Freeway; use "auto", "none", "required" or a function`);
  const name = str(o.name, 'tool_choice.name');
  // A function of a namespace tool: the flattened name the model knows it by.
  const namespace = o.namespace === undefined || o.namespace === null ? undefined : str(o.namespace, 'tool_choice.namespace');
  return { type: 'tool', name: namespace === undefined ? name : flatName(namespace, name) };
}

function parseFormat(v: unknown): ResponseFormat {
  const o = obj(v, 'text.format');
  const type = oneOf(o.type, 'text.format.type', ['text', 'json_object', 'json_schema'] as const);
  if (type !== 'json_schema') return { type };
  const name = str(o.name, 'text.format.name');
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(name)) fail('text.format.name', 'must be 1-64 characters of a-z, A-Z, 0-9, _ or -');
  return {
    type,
    name,
    schema: obj(o.schema, 'text.format.schema'),
    strict: opt(o, 'strict', bool, 'text.format'),
    description: opt(o, 'description', str, 'text.format'),
  };
}

function parseReasoning(v: unknown): { request?: ReasoningRequest; echo: ResponseEcho['reasoning'] } {
  const o = obj(v, 'reasoning');
  onlyKeys(o, 'reasoning', new Set(['effort', 'summary', 'generate_summary', 'context', 'mode', 'max_tokens', 'exclude', 'enabled']));
  const effort = opt(o, 'effort', (x, p) => oneOf(x, p, EFFORTS), 'reasoning') as ReasoningEffort | undefined;
  const summary =
    opt(o, 'summary', (x, p) => oneOf(x, p, SUMMARIES), 'reasoning') ??
    opt(o, 'generate_summary', (x, p) => oneOf(x, p, SUMMARIES), 'reasoning');
  const maxTokens = opt(o, 'max_tokens', (x, p) => int(x, p, 0), 'reasoning');
  if (effort !== undefined && maxTokens !== undefined) fail('reasoning', 'set either effort or max_tokens, not both');
  const r: ReasoningRequest = {
    ...(effort !== undefined ? { effort } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(o.exclude !== undefined ? { exclude: bool(o.exclude, 'reasoning.exclude') } : {}),
    ...(o.enabled !== undefined ? { enabled: bool(o.enabled, 'reasoning.enabled') } : {}),
  };
  // A summary asked for alone still means "reason".
  if (summary !== undefined && r.effort === undefined && r.maxTokens === undefined && r.enabled === undefined) r.enabled = true;
  return { request: Object.keys(r).length > 0 ? r : undefined, echo: { effort: effort ?? null, summary: summary ?? null } };
}

function parseMetadata(v: unknown): Record<string, string> {
  const o = obj(v, 'metadata');
  const entries = Object.entries(o);
  if (entries.length > 16) fail('metadata', 'at most 16 keys');
  for (const [k, val] of entries) {
    if (k.length > 64) fail('metadata', `key ${JSON.stringify(k.slice(0, 20))}... is longer than 64 characters`);
    if (str(val, `metadata.${k}`).length > 512) fail(`metadata.${k}`, 'must be at most 512 characters');
  }
  return o as Record<string, string>;
}

export function parseResponsesRequest(raw: unknown): ParsedResponses {
  const body = obj(raw, 'body');
  const warnings: string[] = [];
  // The chat door's options for the model (fields.ts `upstream`): the adapters' field policy applies.
  const upstreamOptions: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    const rule = fieldRule(k);
    if (!rule)
      throw new GatewayError('invalid_request', `Unrecognized request argument supplied: ${k}`, {
        metadata: { param: k, code: 'unknown_parameter' },
      });
    if (rule.fate === 'upstream' && rule.option && v !== undefined && v !== null) {
      upstreamOptions[rule.option] = parseUpstreamOption(rule.option, v, k);
    }
    if (v === undefined || rule.harmless?.(v)) continue;
    if (rule.fate === 'refuse') unsupported(k, rule.why ?? `${k} is not supported by Freeway`);
    if (v !== null) rule.check?.(v, k);
    if (rule.fate === 'drop' && v !== null) warnings.push(`${k} is not supported by Freeway on this route and was ignored.`);
  }
  const model = str(body.model, 'model');
  if (model.length === 0) fail('model', 'must not be empty');

  const previousResponseId = opt(body, 'previous_response_id', str);
  const input = body.input === undefined || body.input === null ? [] : inputItems(body.input);
  if (input.length === 0 && previousResponseId === undefined) fail('input', 'must contain at least one item');
  // Validates every item now, naming the field; references are resolved against the store later.
  // (A reference stands in as an empty user turn here, so that errors keep their item's index.)
  itemsToMessages(input.map((item, i) => (isItemReference(item, `input[${i}]`) ? { role: 'user', content: [] } : item)));
  const instructions = opt(body, 'instructions', str);
  const parsedTools = opt(body, 'tools', (v) => parseTools(v, warnings));
  const tools = parsedTools && parsedTools.tools.length > 0 ? parsedTools.tools : undefined;
  const toolNames: ToolNames = parsedTools?.names ?? new Map();
  const toolChoice = opt(body, 'tool_choice', parseToolChoice);
  if (toolChoice?.type === 'tool' && !tools?.some((t) => t.name === toolChoice.name)) {
    fail('tool_choice.name', `no function named ${JSON.stringify(toolChoice.name)} in tools`);
  }
  const text = opt(body, 'text', obj);
  if (text) onlyKeys(text, 'text', new Set(['format', 'verbosity']));
  if (text?.verbosity !== undefined && text.verbosity !== null) {
    upstreamOptions.verbosity = oneOf(text.verbosity, 'text.verbosity', ['low', 'medium', 'high'] as const);
  }
  if (parsedTools?.webSearch) upstreamOptions.web_search_options = parsedTools.webSearch;
  const responseFormat = text ? opt(text, 'format', parseFormat) : undefined;
  const reasoning =
    body.reasoning === undefined || body.reasoning === null ? { echo: { effort: null, summary: null } } : parseReasoning(body.reasoning);
  const metadata = opt(body, 'metadata', parseMetadata) ?? {};
  // Like OpenAI: responses are kept unless the client says not to.
  const store = opt(body, 'store', bool) ?? true;
  const sessionId = opt(body, 'session_id', (v, p) => {
    const id = str(v, p);
    if (id.length > 256) fail(p, 'must be at most 256 characters');
    return id;
  });

  const request: Omit<ChatRequest, 'messages'> = {
    model,
    stream: opt(body, 'stream', bool) ?? false,
    maxTokens: opt(body, 'max_output_tokens', (v, p) => int(v, p, 1)),
    temperature: opt(body, 'temperature', (v, p) => num(v, p, 0, 2)),
    topP: opt(body, 'top_p', (v, p) => num(v, p, 0, 1)),
    tools,
    toolChoice,
    parallelToolCalls: opt(body, 'parallel_tool_calls', bool),
    responseFormat,
    reasoning: reasoning.request,
    user: opt(body, 'user', str),
  };
  if (Object.keys(upstreamOptions).length > 0) request.upstreamOptions = upstreamOptions;
  const cacheControl = parseCacheControl(body.cache_control, 'cache_control');
  if (cacheControl) request.cacheControl = cacheControl;
  return {
    request,
    input,
    ...(instructions !== undefined ? { instructions } : {}),
    store,
    ...(previousResponseId !== undefined ? { previousResponseId } : {}),
    fallbackModels: body.models === undefined ? [] : arr(body.models, 'models').map((m, i) => str(m, `models[${i}]`)),
    preferences: parseProviderPreferences(body.provider),
    ...(sessionId !== undefined ? { sessionId } : {}),
    echo: {
      instructions: instructions ?? null,
      maxOutputTokens: request.maxTokens ?? null,
      parallelToolCalls: request.parallelToolCalls ?? true,
      previousResponseId: previousResponseId ?? null,
      reasoning: reasoning.echo,
      store,
      temperature: request.temperature ?? null,
      topP: request.topP ?? null,
      // OpenAI's default verbosity is `medium`; the echo says what was in effect.
      text: {
        format: (text?.format as Obj | undefined) ?? { type: 'text' },
        verbosity: typeof upstreamOptions.verbosity === 'string' ? upstreamOptions.verbosity : 'medium',
      },
      toolChoice: body.tool_choice ?? 'auto',
      tools: parsedTools?.echo ?? [],
      metadata,
      user: request.user ?? null,
      safetyIdentifier: typeof upstreamOptions.safety_identifier === 'string' ? upstreamOptions.safety_identifier : null,
      promptCacheKey: typeof upstreamOptions.prompt_cache_key === 'string' ? upstreamOptions.prompt_cache_key : null,
    },
    toolNames,
    warnings,
  };
}

/**
 * Anthropic Messages request body → internal ChatRequest, validated strictly: a wrong type or a
 * missing required field is a 400 naming it (`messages[1].content[0].tool_use_id`).
 *
 * The body itself is kept for an Anthropic upstream, which gets it unchanged. Fields the internal
 * model has no place for are tolerated (they reach Anthropic raw, and other upstreams do without
 * them); things only Anthropic can do — server tools, Files API sources, MCP servers — are listed
 * in `anthropicOnly`, and translating such a request for another provider is a 400 naming them.
 * Freeway-encoded tool ids and reasoning (see codec.ts) are decoded back to the upstream's own.
 *
 * OpenRouter's extensions (`provider`, `models`, `fallbacks`, `session_id`, `user`, `trace`, `route`,
 * `plugins`) are read by Freeway and never forwarded; plugins follow the chat door's policy (an
 * unknown id is a 400, one Freeway cannot run is warned about: ../plugins.ts). A `system`-role message inside `messages` —
 * what clients send when they talk to a gateway (Claude Code does for models it does not know) — is
 * folded into the top-level `system`, in order, which is the only place the Messages API takes one.
 */
import type { ReasoningDetail } from '../../spec/reasoning.ts';
import type {
  AssistantMessage,
  CacheControl,
  ChatRequest,
  FilePart,
  ImagePart,
  Message,
  ReasoningRequest,
  ResponseFormat,
  TextPart,
  ToolChoice,
  ToolDefinition,
  ToolMessage,
  UserPart,
} from '../../spec/request.ts';
import { parseProviderPreferences } from '../../router/plan/preferences.ts';
import type { RoutePreferences } from '../../router/plan/preferences.ts';
import { parseCacheControl } from '../openai/parse-messages.ts';
import { consumePlugins } from '../plugins.ts';
import { arr, bool, fail, int, num, obj, oneOf, opt, str } from '../../spec/validate.ts';
import type { Obj } from '../../spec/validate.ts';
import { fromAnthropicToolId, fromRedacted, fromThinking } from './codec.ts';
import { dropUnsignedThinking } from './unsigned-thinking.ts';

export interface ParsedMessagesRequest {
  request: ChatRequest;
  /** The body as the client sent it, with its `system`-role messages folded into `system`. */
  body: Obj;
  fallbackModels: string[];
  /** OpenRouter's `session_id`: groups a conversation's requests (sticky routing). */
  sessionId?: string;
  preferences: RoutePreferences;
  /** Carries Freeway-encoded tool ids or reasoning: Anthropic cannot take it raw. */
  foreign: boolean;
  /** What only Anthropic can serve, by field. */
  anthropicOnly: Array<{ param: string; what: string }>;
  /** What Freeway cannot honour of the request (plugins it lacks), shown in the answer. */
  warnings: string[];
}

interface Ctx {
  foreign: boolean;
  anthropicOnly: Array<{ param: string; what: string }>;
  /** Anthropic's web search tool, in OpenAI's `web_search_options` words, for upstreams other than Anthropic. */
  webSearch?: Obj;
}

/**
 * Anthropic's `web_search` server tool as the chat field `web_search_options`, which every adapter
 * knows (translated to Gemini's `google_search`, forwarded to OpenAI's search models, dropped with a
 * warning elsewhere). A search limited to or away from domains cannot be said that way: it stays
 * Anthropic's only, never widened.
 */
function webSearchOptions(t: Obj, p: string, c: Ctx): void {
  const listed = (k: string) => Array.isArray(t[k]) && (t[k] as unknown[]).length > 0;
  if (listed('allowed_domains') || listed('blocked_domains')) {
    c.anthropicOnly.push({ param: p, what: 'a web search limited by domain' });
    return;
  }
  const maxUses = opt(t, 'max_uses', (v, q) => int(v, q, 1), p);
  const loc = opt(t, 'user_location', obj, p);
  const approximate: Obj = {};
  for (const k of ['city', 'region', 'country', 'timezone']) {
    const v = loc ? opt(loc, k, str, `${p}.user_location`) : undefined;
    if (v !== undefined) approximate[k] = v;
  }
  c.webSearch = {
    // One search is the least OpenAI's context sizes say; more is its default.
    ...(maxUses === 1 ? { search_context_size: 'low' } : {}),
    ...(Object.keys(approximate).length > 0 ? { user_location: { type: 'approximate', approximate } } : {}),
  };
}

const cache = (cc: CacheControl | undefined): { cacheControl?: CacheControl } => (cc ? { cacheControl: cc } : {});

function textBlock(o: Obj, param: string): TextPart {
  return { type: 'text', text: str(o.text, `${param}.text`), ...cache(parseCacheControl(o.cache_control, `${param}.cache_control`)) };
}

function imageBlock(o: Obj, param: string, c: Ctx): ImagePart | undefined {
  const src = obj(o.source, `${param}.source`);
  const type = oneOf(src.type, `${param}.source.type`, ['base64', 'url', 'file'] as const);
  const cc = cache(parseCacheControl(o.cache_control, `${param}.cache_control`));
  if (type === 'base64') {
    return {
      type: 'image',
      data: str(src.data, `${param}.source.data`),
      mediaType: str(src.media_type, `${param}.source.media_type`),
      ...cc,
    };
  }
  if (type === 'url') return { type: 'image', url: str(src.url, `${param}.source.url`), ...cc };
  str(src.file_id, `${param}.source.file_id`);
  c.anthropicOnly.push({ param: `${param}.source`, what: 'an image from the Files API' });
  return undefined;
}

function documentBlock(o: Obj, param: string, c: Ctx): FilePart | undefined {
  const src = obj(o.source, `${param}.source`);
  const type = oneOf(src.type, `${param}.source.type`, ['base64', 'text', 'url', 'content', 'file'] as const);
  const title = opt(o, 'title', str, param);
  const base = {
    type: 'file' as const,
    ...(title !== undefined ? { filename: title } : {}),
    ...cache(parseCacheControl(o.cache_control, `${param}.cache_control`)),
  };
  if (type === 'base64')
    return { ...base, data: str(src.data, `${param}.source.data`), mediaType: str(src.media_type, `${param}.source.media_type`) };
  if (type === 'text')
    return { ...base, data: Buffer.from(str(src.data, `${param}.source.data`), 'utf8').toString('base64'), mediaType: 'text/plain' };
  if (type === 'url') return { ...base, url: str(src.url, `${param}.source.url`), mediaType: 'application/pdf' };
  c.anthropicOnly.push({
    param: `${param}.source`,
    what: type === 'file' ? 'a document from the Files API' : 'a document with content blocks',
  });
  return undefined;
}

function toolResult(o: Obj, param: string, c: Ctx): ToolMessage {
  const decoded = fromAnthropicToolId(str(o.tool_use_id, `${param}.tool_use_id`));
  if (decoded.foreign) c.foreign = true;
  opt(o, 'is_error', bool, param);
  const content: Array<TextPart | ImagePart> = [];
  if (typeof o.content === 'string') content.push({ type: 'text', text: o.content });
  else if (o.content !== undefined && o.content !== null) {
    arr(o.content, `${param}.content`).forEach((raw, i) => {
      const p = `${param}.content[${i}]`;
      const b = obj(raw, p);
      const type = str(b.type, `${p}.type`);
      if (type === 'text') content.push(textBlock(b, p));
      else if (type === 'image') {
        const img = imageBlock(b, p, c);
        if (img) content.push(img);
      } else c.anthropicOnly.push({ param: p, what: `a ${JSON.stringify(type)} block in a tool result` });
    });
  }
  // The internal tool message has no cache_control of its own: it rides on the result's last part.
  const cc = parseCacheControl(o.cache_control, `${param}.cache_control`);
  const last = content.at(-1);
  if (cc && last && !last.cacheControl) last.cacheControl = cc;
  return { role: 'tool', toolCallId: decoded.id, content };
}

function userTurn(content: unknown, param: string, c: Ctx): Message[] {
  if (typeof content === 'string') return [{ role: 'user', content: [{ type: 'text', text: content }] }];
  const tools: ToolMessage[] = [];
  const parts: UserPart[] = [];
  arr(content, param).forEach((raw, i) => {
    const p = `${param}[${i}]`;
    const b = obj(raw, p);
    const type = str(b.type, `${p}.type`);
    if (type === 'text') parts.push(textBlock(b, p));
    else if (type === 'image') {
      const img = imageBlock(b, p, c);
      if (img) parts.push(img);
    } else if (type === 'document') {
      const doc = documentBlock(b, p, c);
      if (doc) parts.push(doc);
    } else if (type === 'tool_result') tools.push(toolResult(b, p, c));
    else c.anthropicOnly.push({ param: p, what: `a ${JSON.stringify(type)} block` });
  });
  // Tool results answer the previous assistant turn, so they come first.
  return parts.length > 0 ? [...tools, { role: 'user', content: parts }] : tools;
}

function assistantTurn(content: unknown, param: string, c: Ctx): AssistantMessage {
  const out: AssistantMessage = { role: 'assistant', content: [], toolCalls: [], reasoning: [] };
  if (typeof content === 'string') {
    if (content.length > 0) out.content.push({ type: 'text', text: content });
    return out;
  }
  const reasoning: ReasoningDetail[] = out.reasoning;
  arr(content, param).forEach((raw, i) => {
    const p = `${param}[${i}]`;
    const b = obj(raw, p);
    const type = str(b.type, `${p}.type`);
    if (type === 'text') out.content.push(textBlock(b, p));
    else if (type === 'tool_use') {
      const decoded = fromAnthropicToolId(str(b.id, `${p}.id`));
      if (decoded.foreign) c.foreign = true;
      out.toolCalls.push({ id: decoded.id, name: str(b.name, `${p}.name`), arguments: JSON.stringify(obj(b.input, `${p}.input`)) });
    } else if (type === 'thinking') {
      const r = fromThinking(str(b.thinking, `${p}.thinking`), str(b.signature, `${p}.signature`), reasoning.length);
      if (r.foreign) c.foreign = true;
      reasoning.push(r.detail);
    } else if (type === 'redacted_thinking') {
      const r = fromRedacted(str(b.data, `${p}.data`), reasoning.length);
      if (r.foreign) c.foreign = true;
      reasoning.push(r.detail);
    } else c.anthropicOnly.push({ param: p, what: `a ${JSON.stringify(type)} block` });
  });
  return out;
}

function parseMessages(list: unknown[], c: Ctx): Message[] {
  return list.flatMap((raw, i): Message[] => {
    const param = `messages[${i}]`;
    const m = obj(raw, param);
    const role = oneOf(m.role, `${param}.role`, ['user', 'assistant', 'system'] as const);
    if (role === 'system') return []; // folded into `system` (foldSystemMessages)
    if (typeof m.content !== 'string' && !Array.isArray(m.content))
      fail(`${param}.content`, 'expected a string or an array of content blocks');
    return role === 'user' ? userTurn(m.content, `${param}.content`, c) : [assistantTurn(m.content, `${param}.content`, c)];
  });
}

/** A `system` value (a string or text blocks) as text blocks, validated; `param` names it in errors. */
function systemBlocks(v: unknown, param: string): Obj[] {
  if (typeof v === 'string') return v.length > 0 ? [{ type: 'text', text: v }] : [];
  return arr(v, param).map((raw, i) => {
    const b = obj(raw, `${param}[${i}]`);
    oneOf(b.type, `${param}[${i}].type`, ['text'] as const);
    textBlock(b, `${param}[${i}]`);
    return b;
  });
}

/**
 * The body with every `system`-role message of `messages` moved to the end of the top-level
 * `system` (as text blocks, in order); the body itself when it has none.
 */
function foldSystemMessages(body: Obj, list: unknown[]): Obj {
  const extra: Obj[] = [];
  const rest: unknown[] = [];
  list.forEach((raw, i) => {
    const m = obj(raw, `messages[${i}]`);
    if (m.role !== 'system') return void rest.push(raw);
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) {
      fail(`messages[${i}].content`, 'expected a string or an array of text blocks');
    }
    extra.push(...systemBlocks(m.content, `messages[${i}].content`));
  });
  if (rest.length === list.length) return body;
  if (rest.length === 0) fail('messages', 'must contain at least one user or assistant message');
  const own = body.system === undefined || body.system === null ? [] : systemBlocks(body.system, 'system');
  const system = [...own, ...extra];
  const out: Obj = { ...body, messages: rest };
  if (system.length > 0) out.system = system;
  else delete out.system;
  return out;
}

function parseSystem(v: unknown): TextPart[] {
  return systemBlocks(v, 'system').map((b, i) => textBlock(b, `system[${i}]`));
}

/** OpenRouter's fallback list: `models: ["id", ...]` and `fallbacks: [{ model: "id" }, ...]` (or ids). */
function parseFallbacks(body: Obj): string[] {
  const models = body.models === undefined || body.models === null ? [] : arr(body.models, 'models').map((m, i) => str(m, `models[${i}]`));
  const fallbacks =
    body.fallbacks === undefined || body.fallbacks === null
      ? []
      : arr(body.fallbacks, 'fallbacks').map((f, i) =>
          typeof f === 'string' ? f : str(obj(f, `fallbacks[${i}]`).model, `fallbacks[${i}].model`),
        );
  return [...models, ...fallbacks];
}

function parseTools(v: unknown, c: Ctx): ToolDefinition[] {
  const out: ToolDefinition[] = [];
  arr(v, 'tools').forEach((raw, i) => {
    const p = `tools[${i}]`;
    const t = obj(raw, p);
    if (typeof t.type === 'string' && /^web_search_\d{8}$/.test(t.type)) {
      webSearchOptions(t, p, c);
      return;
    }
    if (t.type !== undefined && t.type !== null && t.type !== 'custom') {
      c.anthropicOnly.push({ param: p, what: `the Anthropic tool ${JSON.stringify(str(t.type, `${p}.type`))}` });
      return;
    }
    const name = str(t.name, `${p}.name`);
    if (!/^[a-zA-Z0-9_-]{1,128}$/.test(name)) fail(`${p}.name`, 'must be 1-128 characters of a-z, A-Z, 0-9, _ or -');
    out.push({
      name,
      description: opt(t, 'description', str, p),
      parameters: obj(t.input_schema, `${p}.input_schema`),
      ...(t.strict !== undefined ? { strict: bool(t.strict, `${p}.strict`) } : {}),
      ...cache(parseCacheControl(t.cache_control, `${p}.cache_control`)),
    });
  });
  return out;
}

function parseToolChoice(v: unknown, tools: ToolDefinition[]): { choice: ToolChoice; parallel?: boolean } {
  const o = obj(v, 'tool_choice');
  const type = oneOf(o.type, 'tool_choice.type', ['auto', 'any', 'tool', 'none'] as const);
  const disable = opt(o, 'disable_parallel_tool_use', bool, 'tool_choice');
  const parallel = disable === undefined ? {} : { parallel: !disable };
  if (type === 'tool') {
    const name = str(o.name, 'tool_choice.name');
    if (!tools.some((t) => t.name === name)) fail('tool_choice.name', `no tool named ${JSON.stringify(name)} in tools`);
    return { choice: { type: 'tool', name }, ...parallel };
  }
  return { choice: { type: type === 'any' ? 'required' : type }, ...parallel };
}

function parseThinking(v: unknown): ReasoningRequest {
  const o = obj(v, 'thinking');
  const type = oneOf(o.type, 'thinking.type', ['enabled', 'disabled', 'adaptive'] as const);
  if (type === 'disabled') return { enabled: false };
  if (type === 'adaptive') return { enabled: true };
  return { enabled: true, maxTokens: int(o.budget_tokens, 'thinking.budget_tokens', 1024) };
}

/**
 * `thinking`, with `output_config.effort` (what Claude Code sends with adaptive thinking) as the
 * reasoning effort, which every adapter translates (OpenAI's `reasoning_effort`, Gemini's budget).
 */
function parseReasoning(body: Obj, outputConfig: Obj | undefined): ReasoningRequest | undefined {
  const thinking = opt(body, 'thinking', parseThinking);
  const effort = outputConfig
    ? opt(outputConfig, 'effort', (v, p) => oneOf(v, p, ['low', 'medium', 'high', 'xhigh', 'max'] as const), 'output_config')
    : undefined;
  if (effort === undefined || thinking?.enabled === false) return thinking;
  return { ...(thinking ?? {}), effort };
}

function parseOutputFormat(v: unknown, param: string): ResponseFormat | undefined {
  const o = obj(v, param);
  const type = oneOf(o.type, `${param}.type`, ['json_schema'] as const);
  return { type, name: 'output', schema: obj(o.schema, `${param}.schema`) };
}

/** Parses a Messages (or, with `forCount`, a count_tokens) request body. */
export function parseMessagesRequest(raw: unknown, opts: { forCount?: boolean } = {}): ParsedMessagesRequest {
  const sent = obj(raw, 'body');
  const list = arr(sent.messages, 'messages');
  if (list.length === 0) fail('messages', 'must contain at least one message');
  const signedOnly = dropUnsignedThinking(foldSystemMessages(sent, list));
  const body = signedOnly.body;
  const model = str(body.model, 'model');
  if (model.length === 0) fail('model', 'must not be empty');
  const maxTokens = opts.forCount ? opt(body, 'max_tokens', (v, p) => int(v, p, 1)) : int(body.max_tokens, 'max_tokens', 1);
  const c: Ctx = { foreign: false, anthropicOnly: [] };
  const system = body.system === undefined || body.system === null ? [] : parseSystem(body.system);
  const messages = parseMessages(arr(body.messages, 'messages'), c);
  const tools = opt(body, 'tools', (v) => parseTools(v, c)) ?? [];
  const choice = opt(body, 'tool_choice', (v) => parseToolChoice(v, tools));
  const metadata = opt(body, 'metadata', obj);
  const user = opt(body, 'user', str) ?? (metadata ? opt(metadata, 'user_id', str, 'metadata') : undefined);
  const sessionId = opt(body, 'session_id', str);
  const warnings = [...signedOnly.warnings, ...consumePlugins(body).warnings];
  const outputConfig = opt(body, 'output_config', obj);
  const responseFormat =
    (outputConfig && opt(outputConfig, 'format', parseOutputFormat, 'output_config')) ?? opt(body, 'output_format', parseOutputFormat);
  if (Array.isArray(body.mcp_servers) && body.mcp_servers.length > 0) c.anthropicOnly.push({ param: 'mcp_servers', what: 'MCP servers' });
  if (body.container !== undefined && body.container !== null)
    c.anthropicOnly.push({ param: 'container', what: 'a code execution container' });
  const cacheControl = parseCacheControl(body.cache_control, 'cache_control');
  const request: ChatRequest = {
    model,
    messages: system.length > 0 ? [{ role: 'system', content: system }, ...messages] : messages,
    stream: opt(body, 'stream', bool) ?? false,
    maxTokens,
    temperature: opt(body, 'temperature', (v, p) => num(v, p, 0, 1)),
    topP: opt(body, 'top_p', (v, p) => num(v, p, 0, 1)),
    topK: opt(body, 'top_k', (v, p) => int(v, p, 0)),
    stop: opt(body, 'stop_sequences', (v, p) => arr(v, p).map((s, i) => str(s, `${p}[${i}]`))),
    ...(tools.length > 0 ? { tools } : {}),
    ...(choice ? { toolChoice: choice.choice } : {}),
    ...(choice?.parallel !== undefined ? { parallelToolCalls: choice.parallel } : {}),
    ...(responseFormat ? { responseFormat } : {}),
    reasoning: parseReasoning(body, outputConfig),
    ...(user !== undefined ? { user } : {}),
    ...(c.webSearch ? { upstreamOptions: { web_search_options: c.webSearch } } : {}),
    ...cache(cacheControl),
  };
  return {
    request,
    body,
    fallbackModels: parseFallbacks(body),
    ...(sessionId !== undefined ? { sessionId } : {}),
    preferences: parseProviderPreferences(body.provider),
    foreign: c.foreign,
    anthropicOnly: c.anthropicOnly,
    warnings,
  };
}

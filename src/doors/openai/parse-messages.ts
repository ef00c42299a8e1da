/**
 * OpenAI/OpenRouter chat messages → internal messages, validated strictly.
 */
import { reasoningDetailProblem } from '../../spec/reasoning.ts';
import type { ReasoningDetail } from '../../spec/reasoning.ts';
import type { AssistantMessage, CacheControl, ImagePart, Message, TextPart, ToolCall, UserPart } from '../../spec/request.ts';
import { arr, fail, isObj, obj, oneOf, str } from '../../spec/validate.ts';
import type { Obj } from '../../spec/validate.ts';

export function parseCacheControl(v: unknown, param: string): CacheControl | undefined {
  if (v === undefined || v === null) return undefined;
  const o = obj(v, param);
  oneOf(o.type, `${param}.type`, ['ephemeral'] as const);
  const ttl = o.ttl === undefined ? undefined : oneOf(o.ttl, `${param}.ttl`, ['5m', '1h'] as const);
  return ttl ? { type: 'ephemeral', ttl } : { type: 'ephemeral' };
}

const DATA_URL = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s;

function imagePart(o: Obj, param: string): ImagePart {
  const img = obj(o.image_url, `${param}.image_url`);
  const url = str(img.url, `${param}.image_url.url`);
  const detail =
    img.detail === undefined ? undefined : oneOf(img.detail, `${param}.image_url.detail`, ['auto', 'low', 'high', 'original'] as const);
  const cacheControl = parseCacheControl(o.cache_control, `${param}.cache_control`);
  const m = DATA_URL.exec(url);
  if (m) return { type: 'image', data: m[2], mediaType: m[1] ?? 'image/png', detail, cacheControl };
  if (!/^https?:\/\//i.test(url)) fail(`${param}.image_url.url`, 'expected an http(s) URL or a base64 data: URL');
  return { type: 'image', url, detail, cacheControl };
}

function contentPart(v: unknown, param: string, messageCache: CacheControl | undefined, isLast: boolean): UserPart {
  const o = obj(v, param);
  const type = str(o.type, `${param}.type`);
  switch (type) {
    case 'text': {
      const cacheControl = parseCacheControl(o.cache_control, `${param}.cache_control`) ?? (isLast ? messageCache : undefined);
      return { type: 'text', text: str(o.text, `${param}.text`), ...(cacheControl ? { cacheControl } : {}) };
    }
    case 'image_url':
      return imagePart(o, param);
    case 'file': {
      const f = obj(o.file, `${param}.file`);
      const fileData = str(f.file_data, `${param}.file.file_data`);
      const filename = f.filename === undefined ? undefined : str(f.filename, `${param}.file.filename`);
      const cacheControl = parseCacheControl(o.cache_control, `${param}.cache_control`);
      const m = DATA_URL.exec(fileData);
      if (m) return { type: 'file', data: m[2], mediaType: m[1] ?? 'application/pdf', filename, cacheControl };
      if (!/^https?:\/\//i.test(fileData)) fail(`${param}.file.file_data`, 'expected a base64 data: URL or an http(s) URL');
      return { type: 'file', url: fileData, mediaType: 'application/pdf', filename, cacheControl };
    }
    case 'input_audio': {
      const a = obj(o.input_audio, `${param}.input_audio`);
      return { type: 'audio', data: str(a.data, `${param}.input_audio.data`), format: str(a.format, `${param}.input_audio.format`) };
    }
    default:
      return fail(`${param}.type`, `unsupported content part type ${JSON.stringify(type)} (expected text, image_url, file or input_audio)`);
  }
}

function userContent(v: unknown, param: string, messageCache: CacheControl | undefined): UserPart[] {
  if (typeof v === 'string') return [{ type: 'text', text: v, ...(messageCache ? { cacheControl: messageCache } : {}) }];
  const parts = arr(v, param);
  return parts.map((p, i) => contentPart(p, `${param}[${i}]`, messageCache, i === parts.length - 1));
}

function textContent(v: unknown, param: string, messageCache: CacheControl | undefined): TextPart[] {
  const parts = userContent(v, param, messageCache);
  return parts.map((p, i) => (p.type === 'text' ? p : fail(`${param}[${i}].type`, 'only text parts are allowed here')));
}

function toolCalls(v: unknown, param: string): ToolCall[] {
  return arr(v, param).map((raw, i) => {
    const p = `${param}[${i}]`;
    const o = obj(raw, p);
    const f = obj(o.function, `${p}.function`);
    const args = f.arguments;
    return {
      id: str(o.id, `${p}.id`),
      name: str(f.name, `${p}.function.name`),
      arguments: typeof args === 'string' ? args : args === undefined ? '{}' : JSON.stringify(args),
    };
  });
}

function reasoningDetails(v: unknown, param: string): ReasoningDetail[] {
  // Replayed verbatim: the shape Freeway reads is checked (the type, its content, the optional
  // fields' types); everything else is the provider's business.
  return arr(v, param).map((d, i) => {
    const o = obj(d, `${param}[${i}]`);
    oneOf(o.type, `${param}[${i}].type`, ['reasoning.text', 'reasoning.encrypted', 'reasoning.summary'] as const);
    const problem = reasoningDetailProblem(o, { nullText: true });
    if (problem) fail(`${param}[${i}]${problem.field ? `.${problem.field}` : ''}`, problem.message);
    // Past the door a detail's text is a string: OpenRouter's `null` is the empty thinking it stands for.
    if (o.type === 'reasoning.text' && o.text === null) return { ...o, text: '' } as unknown as ReasoningDetail;
    return o as unknown as ReasoningDetail;
  });
}

function assistant(o: Obj, param: string, cache: CacheControl | undefined): AssistantMessage {
  const content = o.content === undefined || o.content === null ? [] : textContent(o.content, `${param}.content`, cache);
  const reasoningText =
    typeof o.reasoning === 'string' ? o.reasoning : typeof o.reasoning_content === 'string' ? o.reasoning_content : undefined;
  return {
    role: 'assistant',
    content: content.filter((p) => p.text.length > 0 || p.cacheControl),
    toolCalls: o.tool_calls === undefined || o.tool_calls === null ? [] : toolCalls(o.tool_calls, `${param}.tool_calls`),
    reasoning:
      o.reasoning_details === undefined || o.reasoning_details === null
        ? []
        : reasoningDetails(o.reasoning_details, `${param}.reasoning_details`),
    ...(reasoningText ? { reasoningText } : {}),
  };
}

export function parseMessages(v: unknown): Message[] {
  const list = arr(v, 'messages');
  if (list.length === 0) fail('messages', 'must contain at least one message');
  return list.map((raw, i): Message => {
    const param = `messages[${i}]`;
    if (!isObj(raw)) fail(param, 'expected a message object');
    const role = oneOf(raw.role, `${param}.role`, ['system', 'developer', 'user', 'assistant', 'tool'] as const);
    const cache = parseCacheControl(raw.cache_control, `${param}.cache_control`);
    const name = raw.name === undefined ? undefined : str(raw.name, `${param}.name`);
    switch (role) {
      case 'system':
      case 'developer':
        return { role: 'system', content: textContent(raw.content, `${param}.content`, cache) };
      case 'user':
        return { role: 'user', content: userContent(raw.content, `${param}.content`, cache), ...(name ? { name } : {}) };
      case 'assistant':
        return assistant(raw, param, cache);
      case 'tool': {
        const content = userContent(raw.content ?? '', `${param}.content`, cache).filter(
          (p): p is TextPart | ImagePart => p.type === 'text' || p.type === 'image',
        );
        return { role: 'tool', toolCallId: str(raw.tool_call_id, `${param}.tool_call_id`), content, ...(name ? { name } : {}) };
      }
    }
  });
}

/**
 * Responses input items → internal messages, validated strictly. Items of one assistant turn
 * (reasoning, assistant `message`, `function_call`) gather into one assistant message, in the order
 * the internal model keeps them; `function_call_output` items become tool messages.
 */
import type { ReasoningDetail } from '../../spec/reasoning.ts';
import type { AssistantMessage, ImagePart, Message, TextPart, UserPart } from '../../spec/request.ts';
import { parseCacheControl } from '../openai/parse-messages.ts';
import { arr, fail, isObj, obj, oneOf, str } from '../../spec/validate.ts';
import type { Obj } from '../../spec/validate.ts';
import { flatName } from './parse-tools.ts';
import { decodeReasoning, isFreewayReasoning } from './reasoning-codec.ts';

const OPENAI_REASONING_FORMAT = 'openai-responses-v1';
const DATA_URL = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s;
const HTTP_URL = /^https?:\/\//i;

const unsupported = (param: string, what: string): never => fail(param, `${what} is not supported by Freeway; send the content inline`);

function imagePart(o: Obj, p: string): ImagePart {
  if (o.file_id !== undefined && o.file_id !== null) unsupported(`${p}.file_id`, 'file_id');
  const url = str(o.image_url, `${p}.image_url`);
  const detail = o.detail === undefined || o.detail === null ? undefined : oneOf(o.detail, `${p}.detail`, ['auto', 'low', 'high'] as const);
  const m = DATA_URL.exec(url);
  if (m) return { type: 'image', data: m[2], mediaType: m[1] ?? 'image/png', ...(detail ? { detail } : {}) };
  if (!HTTP_URL.test(url)) fail(`${p}.image_url`, 'expected an http(s) URL or a base64 data: URL');
  return { type: 'image', url, ...(detail ? { detail } : {}) };
}

function mediaTypeOf(filename: string | undefined): string {
  const ext = filename?.toLowerCase().split('.').pop();
  const known: Record<string, string> = {
    pdf: 'application/pdf',
    txt: 'text/plain',
    md: 'text/markdown',
    csv: 'text/csv',
    json: 'application/json',
  };
  return (ext && known[ext]) || 'application/pdf';
}

function filePart(o: Obj, p: string): UserPart {
  if (o.file_id !== undefined && o.file_id !== null) unsupported(`${p}.file_id`, 'file_id');
  const filename = o.filename === undefined || o.filename === null ? undefined : str(o.filename, `${p}.filename`);
  if (o.file_url !== undefined && o.file_url !== null) {
    const url = str(o.file_url, `${p}.file_url`);
    if (!HTTP_URL.test(url)) fail(`${p}.file_url`, 'expected an http(s) URL');
    return { type: 'file', url, mediaType: mediaTypeOf(filename ?? url), ...(filename ? { filename } : {}) };
  }
  const data = str(o.file_data, `${p}.file_data`);
  const m = DATA_URL.exec(data);
  return m
    ? { type: 'file', data: m[2], mediaType: m[1] ?? mediaTypeOf(filename), ...(filename ? { filename } : {}) }
    : { type: 'file', data, mediaType: mediaTypeOf(filename), ...(filename ? { filename } : {}) };
}

/** One content part; `textOnly` for roles that carry text alone (system, developer, assistant). */
function part(v: unknown, p: string, textOnly: boolean): UserPart | undefined {
  const o = obj(v, p);
  const x = basePart(o, p, textOnly);
  // OpenRouter's extension: a prompt-caching breakpoint on a part (Anthropic, Gemini...).
  const cacheControl = parseCacheControl(o.cache_control, `${p}.cache_control`);
  return x && cacheControl && x.type !== 'audio' ? { ...x, cacheControl } : x;
}

function basePart(o: Obj, p: string, textOnly: boolean): UserPart | undefined {
  const type = str(o.type, `${p}.type`);
  if (type === 'input_text' || type === 'output_text') return { type: 'text', text: str(o.text, `${p}.text`) };
  if (type === 'refusal' && textOnly) {
    str(o.refusal, `${p}.refusal`);
    return undefined;
  }
  if (!textOnly) {
    if (type === 'input_image') return imagePart(o, p);
    if (type === 'input_file') return filePart(o, p);
    if (type === 'input_audio') {
      const a = obj(o.input_audio, `${p}.input_audio`);
      return { type: 'audio', data: str(a.data, `${p}.input_audio.data`), format: str(a.format, `${p}.input_audio.format`) };
    }
  }
  const allowed = textOnly ? 'input_text, output_text or refusal' : 'input_text, input_image, input_file or input_audio';
  return fail(`${p}.type`, `unsupported content type ${JSON.stringify(type)} here (expected ${allowed})`);
}

function content(v: unknown, p: string, textOnly: boolean): UserPart[] {
  if (typeof v === 'string') return [{ type: 'text', text: v }];
  return arr(v, p).flatMap((x, i) => part(x, `${p}[${i}]`, textOnly) ?? []);
}

const texts = (parts: UserPart[]): TextPart[] => parts.filter((x): x is TextPart => x.type === 'text');

function toolOutput(v: unknown, p: string): Array<TextPart | ImagePart> {
  if (typeof v === 'string') return [{ type: 'text', text: v }];
  return content(v, p, false).map((x, i) =>
    x.type === 'text' || x.type === 'image' ? x : fail(`${p}[${i}].type`, 'only text and images can be a function_call_output'),
  );
}

/**
 * A reasoning item's details: Freeway's own encrypted_content restores them exactly; anyone else's
 * (OpenAI's) is kept as an opaque `openai-responses-v1` blob next to its summaries.
 */
function reasoningDetails(o: Obj, p: string): ReasoningDetail[] {
  const id = o.id === undefined || o.id === null ? undefined : str(o.id, `${p}.id`);
  const summaries =
    o.summary === undefined || o.summary === null
      ? []
      : arr(o.summary, `${p}.summary`).map((s, i) => str(obj(s, `${p}.summary[${i}]`).text, `${p}.summary[${i}].text`));
  const enc = o.encrypted_content === undefined || o.encrypted_content === null ? '' : str(o.encrypted_content, `${p}.encrypted_content`);
  if (isFreewayReasoning(enc)) {
    return (
      decodeReasoning(enc) ?? fail(`${p}.encrypted_content`, 'is not valid reasoning content; send it back exactly as it was returned')
    );
  }
  const format = enc ? OPENAI_REASONING_FORMAT : 'unknown';
  const out: ReasoningDetail[] = summaries.map((summary) => ({ type: 'reasoning.summary', summary, format, ...(id ? { id } : {}) }));
  if (Array.isArray(o.content)) {
    o.content.forEach((c, i) => {
      const text = str(obj(c, `${p}.content[${i}]`).text, `${p}.content[${i}].text`);
      out.push({ type: 'reasoning.text', text, format, ...(id ? { id } : {}) });
    });
  }
  if (enc) out.push({ type: 'reasoning.encrypted', data: enc, format, ...(id ? { id } : {}) });
  return out;
}

/** Converts input items (already in order: history first) to internal messages. */
export function itemsToMessages(items: readonly unknown[], param = 'input'): Message[] {
  const out: Message[] = [];
  const assistant = (): AssistantMessage => {
    const last = out.at(-1);
    if (last?.role === 'assistant') return last;
    const m: AssistantMessage = { role: 'assistant', content: [], toolCalls: [], reasoning: [] };
    out.push(m);
    return m;
  };
  items.forEach((raw, i) => {
    const p = `${param}[${i}]`;
    if (!isObj(raw)) fail(p, 'expected an input item object');
    const type = raw.type === undefined ? 'message' : str(raw.type, `${p}.type`);
    switch (type) {
      case 'message': {
        const role = oneOf(raw.role, `${p}.role`, ['user', 'assistant', 'system', 'developer'] as const);
        const parts = content(raw.content, `${p}.content`, role !== 'user');
        if (role === 'user') out.push({ role: 'user', content: parts });
        else if (role === 'assistant') assistant().content.push(...texts(parts).filter((t) => t.text.length > 0));
        else out.push({ role: 'system', content: texts(parts) });
        return;
      }
      case 'function_call': {
        const args = raw.arguments;
        const name = str(raw.name, `${p}.name`);
        assistant().toolCalls.push({
          id: str(raw.call_id, `${p}.call_id`),
          // A call of a namespaced tool: the name the model was given (see parse-tools.ts).
          name: raw.namespace === undefined || raw.namespace === null ? name : flatName(str(raw.namespace, `${p}.namespace`), name),
          arguments: typeof args === 'string' ? args : args === undefined ? '{}' : JSON.stringify(args),
        });
        return;
      }
      case 'function_call_output':
        out.push({ role: 'tool', toolCallId: str(raw.call_id, `${p}.call_id`), content: toolOutput(raw.output, `${p}.output`) });
        return;
      case 'reasoning':
        assistant().reasoning.push(...reasoningDetails(raw, p));
        return;
      case 'item_reference':
        // Resolved against the stored responses before conversion (see item-references.ts).
        return fail(`${p}.id`, `item ${JSON.stringify(raw.id)} not found`);
      default:
        return fail(
          `${p}.type`,
          `unsupported input item type ${JSON.stringify(type)} (expected message, function_call, function_call_output or reasoning)`,
        );
    }
  });
  return out;
}

/** Whether an input item is an `item_reference` (and, given `param`, that it names an id). */
export function isItemReference(item: Obj, param?: string): boolean {
  if (item.type !== 'item_reference') return false;
  if (param !== undefined) str(item.id, `${param}.id`);
  return true;
}

/** `input` as items: a string is one user message. */
export function inputItems(v: unknown): Obj[] {
  if (typeof v === 'string') return [{ type: 'message', role: 'user', content: v }];
  return arr(v, 'input').map((x, i) => obj(x, `input[${i}]`));
}

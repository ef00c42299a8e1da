/**
 * Internal messages → Anthropic `system` + `messages`. Anthropic has no system role (system text
 * of any position is lifted to the top level), wants tool results as `tool_result` blocks in a
 * user turn, and strict user/assistant alternation (same-role neighbours are merged).
 */
import type {
  AssistantMessage,
  CacheControl,
  FilePart,
  ImagePart,
  Message,
  TextPart,
  ToolCall,
  ToolMessage,
  UserMessage,
} from '../../spec/request.ts';
import { ANTHROPIC_FORMAT } from '../../spec/reasoning.ts';
import type {
  WireAssistantBlock,
  WireCacheControl,
  WireDocumentBlock,
  WireImageBlock,
  WireMessage,
  WireTextBlock,
  WireToolResultBlock,
  WireUserBlock,
} from './wire-types.ts';

export function wireCacheControl(cc: CacheControl | undefined): { cache_control?: WireCacheControl } {
  if (!cc) return {};
  return { cache_control: cc.ttl ? { type: 'ephemeral', ttl: cc.ttl } : { type: 'ephemeral' } };
}

function textBlock(p: TextPart): WireTextBlock {
  return { type: 'text', text: p.text, ...wireCacheControl(p.cacheControl) };
}

/** `data:<media>;base64,<data>` → its parts; a non-base64 data URL is re-encoded. */
function parseDataUrl(url: string): { mediaType?: string; data: string } | undefined {
  const m = /^data:([^;,]*)((?:;[^;,]*)*),([\s\S]*)$/.exec(url);
  if (!m) return undefined;
  const isBase64 = m[2].split(';').includes('base64');
  const data = isBase64 ? m[3] : Buffer.from(decodeURIComponent(m[3]), 'utf8').toString('base64');
  return { mediaType: m[1] || undefined, data };
}

/** The media type of base64 image bytes, from their magic number. */
function sniffImageType(data: string): string {
  if (data.startsWith('/9j/')) return 'image/jpeg';
  if (data.startsWith('iVBORw0KGgo')) return 'image/png';
  if (data.startsWith('R0lGOD')) return 'image/gif';
  if (data.startsWith('UklGR')) return 'image/webp';
  return 'image/png';
}

function imageBlock(p: ImagePart, warnings: string[]): WireImageBlock | undefined {
  const inline =
    p.data !== undefined ? { data: p.data, mediaType: p.mediaType } : p.url?.startsWith('data:') ? parseDataUrl(p.url) : undefined;
  if (inline) {
    const mediaType = p.mediaType ?? inline.mediaType ?? sniffImageType(inline.data);
    return { type: 'image', source: { type: 'base64', media_type: mediaType, data: inline.data }, ...wireCacheControl(p.cacheControl) };
  }
  if (p.url) return { type: 'image', source: { type: 'url', url: p.url }, ...wireCacheControl(p.cacheControl) };
  warnings.push('An image with neither data nor a URL was dropped.');
  return undefined;
}

function documentBlock(p: FilePart, warnings: string[]): WireDocumentBlock | undefined {
  const title = p.filename ? { title: p.filename } : {};
  const inline =
    p.data !== undefined ? { data: p.data, mediaType: p.mediaType } : p.url?.startsWith('data:') ? parseDataUrl(p.url) : undefined;
  const mediaType = p.mediaType || inline?.mediaType || 'application/pdf';
  if (inline) {
    // Plain text documents go as text sources; everything else (PDF) as base64.
    const source = mediaType.startsWith('text/')
      ? { type: 'text' as const, media_type: 'text/plain' as const, data: Buffer.from(inline.data, 'base64').toString('utf8') }
      : { type: 'base64' as const, media_type: mediaType, data: inline.data };
    return { type: 'document', source, ...title, ...wireCacheControl(p.cacheControl) };
  }
  if (p.url) return { type: 'document', source: { type: 'url', url: p.url }, ...title, ...wireCacheControl(p.cacheControl) };
  warnings.push('A file with neither data nor a URL was dropped.');
  return undefined;
}

function userBlocks(m: UserMessage, warnings: string[]): WireUserBlock[] {
  const out: WireUserBlock[] = [];
  for (const p of m.content) {
    if (p.type === 'text') {
      // Anthropic rejects empty text blocks.
      if (p.text.length > 0) out.push(textBlock(p));
    } else if (p.type === 'image') {
      const b = imageBlock(p, warnings);
      if (b) out.push(b);
    } else if (p.type === 'file') {
      const b = documentBlock(p, warnings);
      if (b) out.push(b);
    } else {
      warnings.push('Audio input is not supported by Anthropic and was dropped.');
    }
  }
  return out;
}

function toolResultBlock(m: ToolMessage, warnings: string[]): WireToolResultBlock {
  const content: Array<WireTextBlock | WireImageBlock> = [];
  for (const p of m.content) {
    if (p.type === 'text') {
      if (p.text.length > 0) content.push(textBlock(p));
    } else {
      const b = imageBlock(p, warnings);
      if (b) content.push(b);
    }
  }
  return { type: 'tool_result', tool_use_id: m.toolCallId, ...(content.length > 0 ? { content } : {}) };
}

/** Tool arguments as the object Anthropic's `input` must be; anything else becomes `{}`. */
function parseArguments(call: ToolCall, warnings: string[]): Record<string, unknown> {
  if (call.arguments.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(call.arguments);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  // Name the call, never its content: arguments may hold anything.
  warnings.push(`The arguments of tool call ${call.id} are not a JSON object; sent as {}.`);
  return {};
}

function assistantBlocks(m: AssistantMessage, warnings: string[], dropped: { reasoning: number }): WireAssistantBlock[] {
  const out: WireAssistantBlock[] = [];
  // Thinking first: Anthropic verifies it byte for byte and wants it ahead of text and tool use.
  for (const d of m.reasoning) {
    const ours = d.format === ANTHROPIC_FORMAT || d.format === null || d.format === undefined;
    if (d.type === 'reasoning.text' && ours && typeof d.signature === 'string' && d.signature.length > 0) {
      out.push({ type: 'thinking', thinking: d.text, signature: d.signature });
    } else if (d.type === 'reasoning.encrypted' && d.format === ANTHROPIC_FORMAT) {
      out.push({ type: 'redacted_thinking', data: d.data });
    } else {
      // Another provider's artefact or unsigned text: Anthropic would reject it.
      dropped.reasoning++;
    }
  }
  for (const p of m.content) if (p.text.length > 0) out.push(textBlock(p));
  for (const call of m.toolCalls) {
    out.push({ type: 'tool_use', id: call.id, name: call.name, input: parseArguments(call, warnings) });
  }
  return out;
}

function pushMerged(out: WireMessage[], next: WireMessage): void {
  const prev = out.at(-1);
  if (prev && prev.role === next.role) (prev.content as unknown[]).push(...next.content);
  else out.push({ role: next.role, content: [...next.content] } as WireMessage);
}

export interface ConvertedMessages {
  system: WireTextBlock[];
  messages: WireMessage[];
}

export function convertMessages(input: readonly Message[], warnings: string[]): ConvertedMessages {
  const system: WireTextBlock[] = [];
  const messages: WireMessage[] = [];
  const dropped = { reasoning: 0 };
  for (const m of input) {
    let next: WireMessage | undefined;
    switch (m.role) {
      case 'system':
        for (const p of m.content) if (p.text.length > 0) system.push(textBlock(p));
        continue;
      case 'user':
        next = { role: 'user', content: userBlocks(m, warnings) };
        break;
      case 'tool':
        next = { role: 'user', content: [toolResultBlock(m, warnings)] };
        break;
      case 'assistant':
        next = { role: 'assistant', content: assistantBlocks(m, warnings, dropped) };
        break;
    }
    if (next.content.length > 0) pushMerged(messages, next);
  }
  for (const m of messages) {
    // Within a user turn, tool results lead (they answer the previous assistant turn).
    if (m.role === 'user') m.content.sort((a, b) => Number(b.type === 'tool_result') - Number(a.type === 'tool_result'));
  }
  const last = messages.at(-1);
  if (last?.role === 'assistant') {
    // A prefilled final assistant turn may not end in whitespace.
    const tail = last.content.at(-1);
    if (tail?.type === 'text') tail.text = tail.text.trimEnd();
    if (tail?.type === 'text' && tail.text === '') last.content.pop();
    if (last.content.length === 0) messages.pop();
  }
  if (dropped.reasoning > 0) {
    warnings.push(
      `${dropped.reasoning} reasoning detail(s) Anthropic cannot verify (unsigned or from another provider) were not replayed.`,
    );
  }
  return { system, messages };
}

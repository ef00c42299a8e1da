/**
 * Token estimates for when an upstream reports no usage (a cancelled stream, a server without
 * `stream_options`). Roughly 4 characters a token; the generation record flags it as an estimate.
 */
import type { ChatRequest } from './request.ts';

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function estimatePromptTokens(req: ChatRequest): number {
  let chars = 0;
  for (const m of req.messages) {
    chars += 16;
    if (m.role === 'assistant') {
      for (const p of m.content) chars += p.text.length;
      for (const c of m.toolCalls) chars += c.name.length + c.arguments.length;
    } else {
      for (const p of m.content) if (p.type === 'text') chars += p.text.length;
    }
  }
  for (const t of req.tools ?? []) chars += JSON.stringify(t.parameters).length + t.name.length + (t.description?.length ?? 0);
  return Math.ceil(chars / 4);
}

/**
 * An upper bound on prompt tokens, for holding credit before the upstream has counted: UTF-8
 * bytes / 2 (real tokenizers average 3-4 bytes a token), plus a generous allowance per image.
 */
export function maxPromptTokens(req: ChatRequest): number {
  let bytes = 0;
  let media = 0;
  for (const m of req.messages) {
    bytes += 32;
    if (m.role === 'assistant') {
      for (const p of m.content) bytes += Buffer.byteLength(p.text);
      for (const c of m.toolCalls) bytes += Buffer.byteLength(c.name) + Buffer.byteLength(c.arguments);
      for (const d of m.reasoning) bytes += d.type === 'reasoning.text' ? Buffer.byteLength(d.text ?? '') : 0;
    } else {
      for (const p of m.content) {
        if (p.type === 'text') bytes += Buffer.byteLength(p.text);
        else if (p.type === 'image') media += 1_600;
        else if (p.type === 'file' || p.type === 'audio') bytes += (p.data?.length ?? 0) + 4_000;
      }
    }
  }
  for (const t of req.tools ?? []) bytes += Buffer.byteLength(JSON.stringify(t.parameters)) + t.name.length + (t.description?.length ?? 0);
  return Math.ceil(bytes / 2) + media;
}

/** Images in the request's messages (tool results included), for endpoints priced per image. */
export function countImages(req: ChatRequest): number {
  let n = 0;
  for (const m of req.messages) {
    if (m.role === 'assistant') continue;
    for (const p of m.content) if (p.type === 'image') n++;
  }
  return n;
}

/**
 * Token estimates for when an upstream reports no usage (a cancelled stream, a server without
 * `stream_options`). Roughly 4 characters a token; the generation record flags it as an estimate.
 */
import type { ChatRequest } from '../spec/request.ts';

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
